package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// maxIniDepth bounds ini files including ini files (and include cycles).
const maxIniDepth = 10

// Sections read when --ini names none; later ones override earlier ones.
var defaultSections = []string{"uwsgi", "carafe"}

// iniResult is what one ini file contributes.
type iniResult struct {
	settings []setting
	unknown  []string // "FILE:LINE: unknown option ..." lines, warnings unless --strict
	warnings []string // formatted warning lines
}

// parseIni parses the ini file at path, whose content is data, keeping the
// settings of section, or of the default sections when section is "". Lines
// of other sections are only checked for being section headers, so files
// shared with other tools (paste deploy, ...) can use their own syntax.
func parseIni(path string, data []byte, section string, getenv func(string) string) (*iniResult, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	wanted := defaultSections
	if section != "" {
		wanted = []string{section}
	}
	perSection := make([][]setting, len(wanted))
	seen := make([]bool, len(wanted))
	res := new(iniResult)
	cur := -1
	ex := newExpander(path, getenv)
	for n, line := range strings.Split(string(data), "\n") {
		where := fmt.Sprintf("%s:%d: ", path, n+1)
		line = strings.TrimSpace(line)
		switch {
		case line == "", line[0] == ';', line[0] == '#':
			continue
		case line[0] == '[':
			if len(line) < 2 || line[len(line)-1] != ']' {
				return nil, fmt.Errorf("config: %sunparseable section header %q", where, line)
			}
			name := strings.TrimSpace(line[1 : len(line)-1])
			cur = -1
			for i, w := range wanted {
				if name == w {
					cur, seen[i] = i, true
				}
			}
			continue
		case cur < 0:
			continue
		}
		s, unknown, err := parseIniLine(where, line, ex)
		if err != nil {
			return nil, err
		}
		if unknown != "" {
			res.unknown = append(res.unknown, unknown)
			continue
		}
		perSection[cur] = append(perSection[cur], s)
	}
	for _, ss := range perSection {
		res.settings = append(res.settings, ss...)
	}
	res.warnings = ex.warnings
	switch {
	case section != "" && !seen[0]:
		return nil, fmt.Errorf("config: %s: no section [%s]", path, section)
	case section == "" && !seen[0] && !seen[1]:
		res.warnings = append(res.warnings, fmt.Sprintf("carafe: %s: no [uwsgi] or [carafe] section; nothing read from it", path))
	}
	return res, nil
}

// parseIniLine parses one key = value line of a selected section. An unknown
// key is returned as its message, not as an error: --strict decides later.
func parseIniLine(where, line string, ex *expander) (setting, string, error) {
	key, raw, ok := strings.Cut(line, "=")
	key, raw = strings.TrimSpace(key), strings.TrimSpace(raw)
	if !ok || key == "" {
		return setting{}, "", fmt.Errorf("config: %sunparseable line %q (want key = value)", where, line)
	}
	o := lookup(key)
	if o == nil {
		return setting{}, fmt.Sprintf("%sunknown option %q%s", where, key, didYouMean(key, "")), nil
	}
	if o.Kind == KindUnsupported && (raw == "" || !isOff(raw)) {
		return setting{}, "", unsupportedError(where, fmt.Sprintf("%q", key))
	}
	s := setting{opt: o, name: key, bare: raw == "", where: where}
	s.value = trailingComment(o, ex.expand(where, raw))
	return s, "", nil
}

// trailingComment drops an end-of-line comment after a number or a
// boolean (`harakiri = 60   ; seconds`): production configs copied from
// the web carry them, and uWSGI's number parsing ignores what follows the
// digits (its booleans take any value but false/off/no/0 as true, so
// `false ; x` is true there; carafe reads the word). Other values are kept
// whole, as uWSGI keeps them: a path or a header may hold a ';' or a '#'.
func trailingComment(o *Option, v string) string {
	switch o.Kind {
	case KindBool, KindInt, KindInt64, KindFloat, KindNoop:
	default:
		return v
	}
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return v
	}
	if rest := strings.TrimLeft(v[i:], " \t"); rest != "" && (rest[0] == ';' || rest[0] == '#') {
		return v[:i]
	}
	return v
}

// expander expands uWSGI's magic variables (%d and friends) and $(VAR).
type expander struct {
	magic    map[byte]string
	getenv   func(string) string
	warnings []string
}

func newExpander(path string, getenv func(string) string) *expander {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	dir := filepath.Dir(abs)
	base := filepath.Base(abs)
	return &expander{
		getenv: getenv,
		magic: map[byte]string{
			'd': dir + string(filepath.Separator), // uWSGI: directory of the file, trailing slash
			'p': abs,                              // absolute path of the file
			's': base,                             // file name
			'n': strings.TrimSuffix(base, filepath.Ext(base)),
			'c': filepath.Base(dir), // name of the directory holding the file
			'%': "%",
		},
	}
}

// expand replaces magic variables and $(VAR) in one left-to-right pass, so
// expanded text is never expanded again. Unknown %x sequences and an
// unterminated $( are kept as written, as uWSGI does.
func (ex *expander) expand(where, s string) string {
	if !strings.ContainsAny(s, "%$") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '%' && i+1 < len(s):
			v, ok := ex.magic[s[i+1]]
			if !ok {
				b.WriteByte(c)
				continue
			}
			b.WriteString(v)
			i++
		case c == '$' && strings.HasPrefix(s[i+1:], "("):
			end := strings.IndexByte(s[i+2:], ')')
			if end <= 0 {
				b.WriteByte(c)
				continue
			}
			name := s[i+2 : i+2+end]
			v := ex.getenv(name)
			if v == "" {
				ex.warnings = append(ex.warnings, fmt.Sprintf("carafe: %senvironment variable %q is empty or not set; $(%s) expanded to \"\"", where, name, name))
			}
			b.WriteString(v)
			i += 2 + end
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// loader reads --ini files, following ini keys inside them.
type loader struct {
	getenv   func(string) string
	files    []string
	settings []setting
	unknown  []string
	warnings []string
}

// load reads the file named by spec (FILE or FILE:SECTION). where is the
// ini line that included it, "" for a command-line --ini.
func (ld *loader) load(spec, where string, depth int) error {
	if depth >= maxIniDepth {
		return fmt.Errorf("config: %sini: %s: ini files nested more than %d deep (an include cycle?)", where, spec, maxIniDepth)
	}
	path, section := splitIniSpec(spec)
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config: %sini: %w", where, err)
	}
	res, err := parseIni(path, data, section, ld.getenv)
	if err != nil {
		return err
	}
	ld.files = append(ld.files, spec)
	ld.unknown = append(ld.unknown, res.unknown...)
	ld.warnings = append(ld.warnings, res.warnings...)
	for _, s := range res.settings {
		if !readsIni(s.opt) {
			ld.settings = append(ld.settings, s)
			continue
		}
		if err := ld.loadSetting(s, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// readsIni reports whether o names an ini file to read: ini, and the
// ini-paste forms, which also build the app from that file.
func readsIni(o *Option) bool {
	return o.Name == "ini" || o.Name == "ini-paste" || o.Name == "ini-paste-logged"
}

// loadSetting reads the ini file of s (see readsIni). For ini-paste it
// then sets paste = config:FILE, FILE made absolute, and for
// ini-paste-logged paste-logger too, as if the file said so last.
func (ld *loader) loadSetting(s setting, depth int) error {
	if err := ld.load(s.value, s.where, depth); err != nil {
		return err
	}
	if s.opt.Name == "ini" {
		return nil
	}
	path, _ := splitIniSpec(s.value)
	abs, err := filepath.Abs(path)
	if err != nil {
		return fmt.Errorf("config: %s%s: %w", s.where, s.name, err)
	}
	ld.settings = append(ld.settings, setting{opt: lookup("paste"), name: s.name, value: "config:" + abs, where: s.where})
	if s.opt.Name == "ini-paste-logged" {
		ld.settings = append(ld.settings, setting{opt: lookup("paste-logger"), name: s.name, value: "true", where: s.where})
	}
	return nil
}

// splitIniSpec splits "file.ini:section". A colon followed by a path
// separator belongs to the file name.
func splitIniSpec(spec string) (path, section string) {
	i := strings.LastIndexByte(spec, ':')
	if i <= 0 || strings.ContainsRune(spec[i+1:], '/') {
		return spec, ""
	}
	return spec[:i], spec[i+1:]
}

type envResult struct {
	settings []setting
	unknown  []string
}

// envSettings reads uWSGI's environment form of options: UWSGI_HTTP_SOCKET=:8000
// is http-socket = :8000 (UWSGI_INI=FILE loads an ini file, as in uWSGI's
// Docker images). An unknown name is a warning (an error with --strict),
// as an unknown ini key is; a feature carafe lacks is an error.
func envSettings(env []string) (envResult, error) {
	var res envResult
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		name, isOpt := strings.CutPrefix(k, "UWSGI_")
		if !ok || !isOpt || name == "" {
			continue
		}
		key := strings.ToLower(strings.ReplaceAll(name, "_", "-"))
		where := "environment " + k + ": "
		o := lookup(key)
		if o == nil {
			res.unknown = append(res.unknown, fmt.Sprintf("%sunknown option %q%s", where, key, didYouMean(key, "")))
			continue
		}
		if o.Kind == KindUnsupported && (v == "" || !isOff(v)) {
			return res, unsupportedError(where, fmt.Sprintf("%q", key))
		}
		res.settings = append(res.settings, setting{opt: o, name: key, value: v, bare: v == "", where: where})
	}
	// The environment has no order of its own: go by name, so that every
	// process (the master and each worker) reads the same.
	slices.SortStableFunc(res.settings, func(a, b setting) int { return strings.Compare(a.where, b.where) })
	slices.Sort(res.unknown)
	return res, nil
}
