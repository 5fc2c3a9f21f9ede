package config

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"syscall"
)

// uWSGI's configuration logic in ini files: a for or if-* key opens a
// block, which end (or endfor, endif, end-for, end-if) closes. The lines
// inside are read once for each of the block's values, which %(_) gives
// (each word of a for, the path or variable an if tested), and not at all
// when it has none (an if whose condition does not hold). else inside an
// if block reads the lines after it only when the condition did not hold.
// As in uWSGI, blocks do not nest.

// maxForValues bounds the values of one for block (for-times = 1000000
// would otherwise make a million settings of each line).
const maxForValues = 10000

// maxReadline bounds the file a for-readline reads.
const maxReadline = 1 << 20

// block is an open for or if block.
type block struct {
	opener string // the key that opened it, for messages
	where  string // where it was opened: "file:line"
	values []string
	isIf   bool
	failed bool // an if whose condition did not hold: its else applies
	inElse bool
}

// blockEnd reports whether key closes a block.
func blockEnd(key string) bool {
	switch key {
	case "end", "endif", "end-if", "endfor", "end-for":
		return true
	}
	return false
}

// logicKey normalises key as options are (if_env is if-env) and reports
// whether it belongs to the configuration logic: a block's opener, else,
// an end, or set-placeholder.
func logicKey(key string) (string, bool) {
	k := strings.ReplaceAll(key, "_", "-")
	if long, ok := logicAliases[k]; ok {
		k = long
	}
	switch {
	case blockEnd(k), k == "else", k == "set-placeholder", k == "set-ph",
		k == "for", strings.HasPrefix(k, "for-"), strings.HasPrefix(k, "if-"):
		return k, lookup(k) == nil
	}
	return k, false
}

// logicAliases are uWSGI's other names for some block openers.
var logicAliases = map[string]string{
	"ifenv": "if-env", "ifexists": "if-exists", "ifdir": "if-dir", "if-directory": "if-dir",
	"ifplugin": "if-plugin",
}

// logic holds the state of one ini file's blocks.
type logic struct {
	ex       *expander
	lookup   func(string) (string, bool) // the environment
	hostname func() (string, error)
	open     *block
}

// values is what the lines read now are read with: one pass with no %(_)
// outside a block, one pass for each value inside one, none in a block
// whose condition does not hold.
func (lg *logic) values() []string {
	if lg.open == nil {
		return []string{""}
	}
	return lg.open.values
}

// step handles one logic line (see logicKey). where is "file:line: ".
func (lg *logic) step(where, key, raw string) error {
	at := strings.TrimSuffix(where, ": ")
	switch {
	case blockEnd(key):
		if lg.open == nil {
			lg.ex.warnings = append(lg.ex.warnings, fmt.Sprintf("carafe: %s%s with no for or if-* block open; ignored", where, key))
			return nil
		}
		lg.close()
		return nil
	case key == "else":
		if lg.open == nil || !lg.open.isIf || lg.open.inElse {
			return fmt.Errorf("config: %selse outside an if-* block", where)
		}
		b := lg.open
		b.inElse = true
		b.values = nil
		if b.failed {
			b.values = []string{""}
		}
		return nil
	case lg.open != nil:
		if key == "set-placeholder" || key == "set-ph" {
			for _, v := range lg.values() {
				lg.ex.ph.set("_", v)
				if err := lg.setPlaceholder(where, key, raw); err != nil {
					return err
				}
			}
			return nil
		}
		return fmt.Errorf("config: %s%s inside the %s block opened at %s: for and if-* blocks do not nest (in uWSGI neither)",
			where, key, lg.open.opener, lg.open.where)
	case key == "set-placeholder" || key == "set-ph":
		return lg.setPlaceholder(where, key, raw)
	}
	b, err := lg.evaluate(key, lg.ex.expand(where, raw))
	if err != nil {
		return fmt.Errorf("config: %s%s: %w", where, key, err)
	}
	b.where = at
	lg.open = b
	return nil
}

// setPlaceholder reads set-placeholder = name=value: a key for %(name)
// only, as uWSGI's set-placeholder (an option's name is refused there too).
func (lg *logic) setPlaceholder(where, key, raw string) error {
	name, value, ok := strings.Cut(lg.ex.expand(where, raw), "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return fmt.Errorf("config: %s%s: want name=value, got %q", where, key, raw)
	}
	if lookup(name) != nil {
		return fmt.Errorf("config: %s%s: %q is an option; set it as one", where, key, name)
	}
	lg.ex.ph.set(name, value)
	lg.ex.ph.used[strings.ReplaceAll(name, "_", "-")] = true
	return nil
}

// close ends the open block; %(_) names nothing after it.
func (lg *logic) close() {
	lg.open = nil
	lg.ex.ph.unset("_")
}

// finish ends a block left open at the end of the file, with a warning.
func (lg *logic) finish(path string) {
	if lg.open == nil {
		return
	}
	lg.ex.warnings = append(lg.ex.warnings, fmt.Sprintf("carafe: %s: the %s block opened at %s has no end; it ends with the file",
		path, lg.open.opener, lg.open.where))
	lg.close()
}

// evaluate opens the block of key = value (value expanded).
func (lg *logic) evaluate(key, value string) (*block, error) {
	b := &block{opener: key}
	switch key {
	case "for":
		b.values = strings.Fields(value)
	case "for-glob":
		m, err := lg.ex.files.glob(value) // directories marked: GLOB_MARK
		if err != nil {
			return nil, err
		}
		if len(m) == 0 {
			m = []string{value} // glob(3)'s GLOB_NOCHECK, as uWSGI
		}
		b.values = m
	case "for-readline":
		lines, err := readLines(lg.ex.files, value)
		if err != nil {
			return nil, err
		}
		b.values = lines
	case "for-times":
		n, err := strconv.Atoi(strings.TrimSpace(value))
		if err != nil || n < 0 {
			return nil, fmt.Errorf("want a count, got %q", value)
		}
		if n > maxForValues {
			return nil, fmt.Errorf("%d values; at most %d", n, maxForValues)
		}
		for i := 1; i <= n; i++ {
			b.values = append(b.values, strconv.Itoa(i))
		}
	default:
		cond, neg := strings.CutPrefix(key, "if-not-")
		if !neg {
			cond = strings.TrimPrefix(key, "if-")
		}
		holds, ctx, err := lg.condition(cond, value)
		if err != nil {
			return nil, err
		}
		b.isIf = true
		if holds != neg {
			b.values = []string{ctx}
		} else {
			b.failed = true
		}
	}
	if len(b.values) > maxForValues {
		return nil, fmt.Errorf("%d values; at most %d", len(b.values), maxForValues)
	}
	return b, nil
}

// condition tests an if-NAME block's value; ctx is what %(_) gives inside
// the block: the variable's or option's value, or the path or name tested.
func (lg *logic) condition(name, value string) (holds bool, ctx string, err error) {
	switch name {
	case "env", "opt":
		key, want, compare := strings.Cut(value, "=")
		var v string
		var set bool
		if name == "env" {
			v, set = lg.lookup(key)
		} else {
			v, set = lg.ex.ph.get(strings.TrimSpace(key))
		}
		return set && (!compare || v == want), v, nil
	case "exists", "file", "dir":
		kind := lg.ex.files.stat(value)
		ok := kind != "" && (name == "exists" || name == "file" && kind == "f" || name == "dir" && kind == "d")
		return ok, value, nil
	case "hostname", "hostname-match":
		host, err := lg.hostname()
		if err != nil {
			return false, value, err
		}
		if name == "hostname" {
			return host == value, value, nil
		}
		re, err := regexp.Compile(value)
		if err != nil {
			return false, value, err
		}
		return re.MatchString(host), value, nil
	case "plugin":
		return harmlessPlugin.MatchString(value), value, nil
	case "reload":
		// uWSGI's reload re-executes its master, which reads the config
		// again; carafe's master reads it once, so it never is one.
		return false, "", nil
	}
	return false, "", fmt.Errorf("unknown block (the for and if-* keys carafe reads: %s)", logicKeys)
}

const logicKeys = "for, for-glob, for-readline, for-times, if-env, if-opt, if-exists, if-file, if-dir, " +
	"if-hostname, if-hostname-match, if-plugin, if-reload, and their if-not- forms; uWSGI's ifenv, ifexists, " +
	"ifdir, if-directory and ifplugin"

// readLines is a for-readline file's lines, without their line ends.
func readLines(files *configFiles, path string) ([]string, error) {
	data, err := files.read(path, maxReadline)
	if err != nil {
		return nil, err
	}
	text := strings.TrimSuffix(string(data), "\n")
	if text == "" && len(data) <= 1 {
		return nil, nil
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimSuffix(l, "\r")
	}
	return lines, nil
}

// readRegular reads the regular file at path, of at most max bytes. A FIFO
// or a device would block or never end: opened without blocking (which a
// regular file ignores), such a file is refused by its type.
func readRegular(path string, max int64) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fi, err := f.Stat(); err != nil || !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is over %d bytes", path, max)
	}
	return data, nil
}
