package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"unicode"
)

// maxIniFile bounds an ini file's size.
const maxIniFile = 1 << 20

// iniEnv is what reading ini files draws on: the environment ($(VAR),
// if-env), the placeholders set so far, the files read.
type iniEnv struct {
	getenv func(string) (string, bool)
	ph     *placeholders
	files  *configFiles
	first  string // the first ini file read, which uWSGI's capital magic variables name
}

// maxIniDepth bounds ini files including ini files (and include cycles).
const maxIniDepth = 10

// Sections read when --ini names none; later ones override earlier ones.
var defaultSections = []string{"uwsgi", "carafe"}

// iniResult is what one ini file contributes.
type iniResult struct {
	settings []setting
	unknown  []unknownKey // warnings unless --strict, or placeholders (see placeholders)
	warnings []string     // formatted warning lines
}

// unknownKey is a key that names no option: a typo, or a placeholder of
// the user's own (logbase = /var/log/site, then %(logbase)).
type unknownKey struct {
	key, msg string
	refuse   *Option // of an unsupported family: refused unless a %(name) uses it
	named    bool    // refuse is this key's own option (cheaper): refused whatever uses it
	where    string
}

// placeholders are uWSGI's %(name): the first value a key (an option, or
// any key of the user's own) was given, by a UWSGI_NAME variable or in any
// ini file read, as uWSGI takes the first (so UWSGI_STAGE=prod overrides
// an ini's stage = dev). A %(name) that names no key yet is expanded once
// every file is read (see resolveLater). used records the names looked
// up, so that a key of the user's own that serves as one is not reported
// as an unknown option.
type placeholders struct {
	vals     map[string]string
	used     map[string]bool
	override bool // while a [carafe] section is read: its values win
}

func newPlaceholders(env []string) *placeholders {
	ph := &placeholders{vals: map[string]string{}, used: map[string]bool{}}
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if name, isOpt := strings.CutPrefix(k, "UWSGI_"); ok && isOpt && name != "" {
			ph.vals[strings.ToLower(strings.ReplaceAll(name, "_", "-"))] = v
		}
	}
	return ph
}

// set records key's value unless it has one: the first wins. Keys are
// compared as options are (max_requests is max-requests). The logic
// blocks' %(_) is the block's current value instead.
func (ph *placeholders) set(key, value string) {
	k := strings.ReplaceAll(key, "_", "-")
	if _, ok := ph.vals[k]; ok && k != "-" && !ph.override {
		return
	}
	ph.vals[k] = value
}

// setFlag records what a command-line flag gives %(name), in the command
// line's order with the ini files it names, as uWSGI takes its options for
// placeholders: --set-placeholder's NAME=VALUE, and an option's value
// under its name (-p 3 is %(processes)); a switch given bare gives none.
func (ph *placeholders) setFlag(s setting) {
	switch {
	case s.opt == &placeholderFlag:
		k, v, _ := strings.Cut(s.value, "=")
		ph.set(k, v)
	case !s.bare:
		// Under the name written (--workers 3 is %(workers), as in uWSGI)
		// and the option's own (%(processes)).
		if name, long := strings.CutPrefix(s.name, "--"); long {
			ph.set(name, s.value)
		}
		ph.set(s.opt.Name, s.value)
	}
}

// unset forgets key.
func (ph *placeholders) unset(key string) { delete(ph.vals, strings.ReplaceAll(key, "_", "-")) }

func (ph *placeholders) get(key string) (string, bool) {
	k := strings.ReplaceAll(key, "_", "-")
	v, ok := ph.vals[k]
	if ok {
		ph.used[k] = true
	}
	return v, ok
}

// parseIni parses the ini file at path, whose content is data, keeping the
// settings of section, or of the default sections when section is "". Lines
// of other sections are only checked for being section headers, so files
// shared with other tools (paste deploy, ...) can use their own syntax.
// include, when set, reads the file an ini line names, at once (uWSGI's
// "expand asap": the lines after it see its keys as placeholders), and
// its settings take that line's place.
func parseIni(path string, data []byte, section string, ie *iniEnv,
	include func(setting) ([]setting, error)) (*iniResult, error) {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	wanted := defaultSections
	if section != "" {
		wanted = []string{section}
	}
	perSection := make([][]setting, len(wanted))
	seen := make([]bool, len(wanted))
	res := new(iniResult)
	cur := -1
	ex := newExpander(path, ie)
	ph := ie.ph
	inherit := make([][]setting, len(wanted)) // templates to read after each section (see below)
	lg := &logic{ex: ex, lookup: ie.getenv, hostname: os.Hostname}
	for n, line := range strings.Split(string(data), "\n") {
		where := fmt.Sprintf("%s:%d: ", path, n+1)
		indented := line != "" && (line[0] == ' ' || line[0] == '\t')
		line = strings.TrimSpace(line)
		switch {
		case line == "", line[0] == ';', line[0] == '#':
			continue
		case cur < 0 && indented && !(line[0] == '[' && line[len(line)-1] == ']'):
			// A value's continuation in a section carafe does not read,
			// which may be anything (a Paste or alembic list: "    [a, b,").
			// An indented header ("  [uwsgi]") is a header, as uWSGI reads it.
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
			// The [carafe] section wins over [uwsgi], its keys as
			// placeholders too: uWSGI never reads it.
			ph.override = section == "" && cur >= 0 && wanted[cur] == "carafe"
			continue
		case cur < 0:
			continue
		}
		// A line with no '=' is a key with an empty value (`master` is
		// `master =`, so true), as uWSGI reads it.
		key, raw, _ := strings.Cut(line, "=")
		key, raw = strings.TrimSpace(key), strings.TrimSpace(raw)
		if key == "" {
			return nil, fmt.Errorf("config: %sunparseable line %q (want key = value)", where, line)
		}
		if k, ok := logicKey(key); ok {
			ex.missing = ex.missing[:0]
			if err := lg.step(where, k, raw); err != nil {
				return nil, err
			}
			// Read at once, as in uWSGI: no key set further on counts. (A
			// set-placeholder's value is a key's, resolved once all is read.)
			for _, name := range ex.missing {
				if k == "set-placeholder" || k == "set-ph" {
					break
				}
				ex.warnings = append(ex.warnings, fmt.Sprintf("carafe: %s%%(%s) names no key set above this "+
					"line, which is read at once; kept as written", where, name))
			}
			if len(ex.errs) > 0 {
				return nil, ex.errs[0]
			}
			continue
		}
		// Inside a for block the line is read once for each value, as %(_).
		for i, v := range lg.values() {
			if lg.open != nil {
				ph.set("_", v)
			}
			s, unknown, err := parseIniLine(where, key, raw, ex)
			if err == nil && len(ex.errs) > 0 {
				err = ex.errs[0]
			}
			if err != nil {
				return nil, err
			}
			if unknown.msg != "" {
				if i == 0 {
					res.unknown = append(res.unknown, unknown)
				}
				continue
			}
			if s.opt == nil { // a family switched off: nothing to apply
				continue
			}
			if include != nil && readsIni(s.opt) && strings.ReplaceAll(key, "_", "-") == "inherit" {
				// uWSGI's inherit reads the template after the file, so
				// that its values come last, where include and ini read
				// theirs where the line stands; here after the section's
				// own lines, so that [carafe] still wins.
				inherit[cur] = append(inherit[cur], s)
				continue
			}
			if include != nil && readsIni(s.opt) {
				override := ph.override
				ss, err := include(s)
				ph.override = override // the included file's sections set it
				if err != nil {
					return nil, err
				}
				perSection[cur] = append(perSection[cur], ss...)
				continue
			}
			perSection[cur] = append(perSection[cur], s)
		}
	}
	lg.finish(path)
	override := ph.override
	for i, ss := range perSection {
		res.settings = append(res.settings, ss...)
		for _, s := range inherit[i] {
			ph.override = section == "" && wanted[i] == "carafe"
			ss, err := include(s)
			if err != nil {
				return nil, err
			}
			res.settings = append(res.settings, ss...)
		}
	}
	ph.override = override
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
func parseIniLine(where, key, raw string, ex *expander) (setting, unknownKey, error) {
	o := lookup(key)
	if o == nil {
		ex.ph.set(key, ex.expand(where, raw))
		refuse := unsupportedFamily(key)
		if refuse != nil && raw != "" && isOff(uncommented(raw)) {
			return setting{}, unknownKey{}, nil // https-socket = 0 asks for nothing carafe lacks
		}
		return setting{}, unknownKey{key: strings.ReplaceAll(key, "_", "-"), refuse: refuse, where: where,
			msg: fmt.Sprintf("%sunknown option %q%s", where, key, didYouMean(key, ""))}, nil
	}
	if o.Kind == KindUnsupported && (raw == "" || !isOff(uncommented(raw))) {
		// Refused once the files are read, with every other such key:
		// a production config often has a block of them (cheaper-*).
		return setting{}, unknownKey{key: key, refuse: o, named: true, where: where, msg: "unsupported"}, nil
	}
	s := setting{opt: o, name: key, bare: raw == "", where: where}
	// log-format's own variables are %(name) too (%(addr), %(status)):
	// those that name no key stay, without a word, as in uWSGI.
	ex.quiet, ex.late = o.Name == "log-format", false
	s.value = trailingComment(o, ex.expand(where, raw))
	s.late = ex.late && !ex.quiet
	ex.quiet = false
	ex.ph.set(key, s.value)
	return s, unknownKey{}, nil
}

// trailingComment drops an end-of-line comment after a number or a
// boolean (`harakiri = 60   ; seconds`): production configs copied from
// the web carry them, and uWSGI's number parsing ignores what follows the
// digits (its booleans take any value but false/off/no/0 as true, so
// `false ; x` is true there; carafe reads the word). So does a TCP
// listener's address (`socket = 0.0.0.0:8001 # for nginx`): uWSGI reads
// the port's digits and binds it. Other values are kept whole, as uWSGI
// keeps them: a path or a header may hold a ';' or a '#'.
func trailingComment(o *Option, v string) string {
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return v
	}
	switch {
	case o.Kind == KindBool, o.Kind == KindInt, o.Kind == KindInt64, o.Kind == KindFloat, o.Kind == KindNoop,
		o.Kind == KindUnsupported:
	case isListener(o) && meantAsAddress(v[:i]):
	default:
		return v
	}
	return uncommented(v)
}

// meantAsAddress reports whether a listener's first word is a host:port,
// or a port or host alone, which checkAddr refuses by name, rather than
// a unix socket's path: `socket = 8001  # for nginx` is then refused as
// "8001", where it bound a socket file named with the comment.
func meantAsAddress(w string) bool {
	if strings.Contains(w, "/") {
		return false
	}
	return strings.Contains(w, ":") || strings.Trim(w, "0123456789") == "" || net.ParseIP(w) != nil || w == "localhost"
}

// uncommented is v without an end-of-line comment after its first word
// (`0   ; no adaptive spawning`).
func uncommented(v string) string {
	i := strings.IndexAny(v, " \t")
	if i < 0 {
		return v
	}
	if rest := strings.TrimLeft(v[i:], " \t"); rest != "" && (rest[0] == ';' || rest[0] == '#') {
		return v[:i]
	}
	return v
}

// isListener reports whether o takes a listener's address.
func isListener(o *Option) bool { return o.Name == "http" || o.Name == "socket" || o.Name == "stats" }

// expander expands uWSGI's magic variables (%d and friends), its
// placeholders %(name), $(VAR) and @(FILE).
type expander struct {
	magic    map[byte]string
	getenv   func(string) (string, bool)
	ph       *placeholders
	files    *configFiles
	quiet    bool     // log-format: its own %(name)s are not placeholders
	late     bool     // a %(name) was left for resolveLater
	missing  []string // the names of those, for a line read at once
	warnings []string
	errs     []error // an @(FILE) that could not be read
}

// unsupportedMagic are uWSGI's magic variables carafe does not give: the
// time the config was read and the section's name would differ between
// the master and the workers, which read it again; the version is
// uWSGI's own.
const unsupportedMagic = "tTxXiIjJV"

func newExpander(path string, ie *iniEnv) *expander {
	if ie.first == "" {
		ie.first = path
	}
	magic := fileMagic(path)
	// uWSGI's capitals name the first config file read, wherever they are
	// written: a shared include's socket = /run/%N.sock is the site's.
	first := fileMagic(ie.first)
	for _, c := range "dpsnceo" {
		magic[byte(unicode.ToUpper(c))] = first[byte(c)]
	}
	magic['k'] = strconv.Itoa(runtime.NumCPU())
	magic['['] = "\x1b" // uWSGI's way to write an ANSI escape
	magic['%'] = "%"
	if wd, err := os.Getwd(); err == nil {
		magic['v'] = wd
	}
	if host, err := os.Hostname(); err == nil {
		magic['h'] = host
	}
	magic['u'], magic['g'] = strconv.Itoa(os.Getuid()), strconv.Itoa(os.Getgid())
	if u, err := user.LookupId(magic['u']); err == nil {
		magic['U'] = u.Username
	}
	if g, err := user.LookupGroupId(magic['g']); err == nil {
		magic['G'] = g.Name
	}
	return &expander{getenv: ie.getenv, ph: ie.ph, files: ie.files, magic: magic}
}

// fileMagic is the magic variables that name the ini file at path: %d,
// %p, %s, %n, %c, %e, %o and %0 to %9.
func fileMagic(path string) map[byte]string {
	abs, err := filepath.Abs(path)
	if err != nil {
		abs = path
	}
	dir := filepath.Dir(abs)
	base := filepath.Base(abs)
	ext := ""
	if i := strings.LastIndexByte(filepath.Base(path), '.'); i >= 0 {
		ext = filepath.Base(path)[i+1:]
	}
	magic := map[byte]string{
		'd': dir + string(filepath.Separator), // uWSGI: directory of the file, trailing slash
		'p': abs,                              // absolute path of the file
		's': base,                             // file name
		'n': strings.TrimSuffix(base, filepath.Ext(base)),
		'c': filepath.Base(dir), // name of the directory holding the file
		'e': ext,                // its extension, without the dot
		'o': path,               // the path as given
	}
	// %0 to %9 name the directories on the way to the file; past its
	// depth they are empty, as in uWSGI.
	parts := strings.FieldsFunc(dir, func(r rune) bool { return r == filepath.Separator })
	for i := range 10 {
		magic[byte('0'+i)] = ""
		if i < len(parts) {
			magic[byte('0'+i)] = parts[i]
		}
	}
	return magic
}

// expand replaces magic variables, placeholders, $(VAR) and @(FILE) in
// one left-to-right pass, so expanded text is never expanded again. %x
// sequences uWSGI does not define either, an unterminated $(, %( or @(,
// and the $(VAR) of an unset variable are kept as written; so is a magic
// variable carafe does not give,
// with a warning, and a %(name) that names no key yet, for resolveLater.
func (ex *expander) expand(where, s string) string {
	if !strings.ContainsAny(s, "%$@") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		name, ok := parenName(s[i+1:])
		switch {
		case c == '%' && ok && strings.IndexByte(name, ' ') >= 0:
			// uWSGI's arithmetic, %(processes * 2): its magic variables
			// first (%(%k + 1)), then its keys, unless one is not set yet
			// or holds a %(name) still to resolve (see resolveLater).
			expr := ex.expand(where, name)
			late := false
			v := placeholderMath(expr, func(key string) string {
				val, found := ex.ph.get(key)
				if !found || strings.Contains(val, "%(") {
					late = true
					if !found {
						ex.missing = append(ex.missing, key)
					}
				}
				return val
			})
			if late {
				v = "%(" + expr + ")"
				ex.late = true
			}
			b.WriteString(v)
			i += 2 + len(name)
		case c == '%' && ok:
			v, found := ex.ph.get(name)
			if !found { // perhaps set further on: see resolveLater
				v = s[i : i+3+len(name)]
				ex.missing = append(ex.missing, name)
			}
			// A key set to a %(name) of a key not set yet: the same.
			ex.late = ex.late || !found || strings.Contains(v, "%(")
			b.WriteString(v)
			i += 2 + len(name)
		case c == '%' && i+1 < len(s):
			v, ok := ex.magic[s[i+1]]
			if !ok {
				if strings.IndexByte(unsupportedMagic, s[i+1]) >= 0 {
					ex.warnings = append(ex.warnings, fmt.Sprintf("carafe: %suWSGI's magic variable %%%c is not supported; kept as written", where, s[i+1]))
				}
				b.WriteByte(c)
				continue
			}
			if i+2 < len(s) && looksEncoded(s[i+1], s[i+2]) {
				ex.warnings = append(ex.warnings, fmt.Sprintf("carafe: %s%%%c%c looks like a percent-encoded byte, "+
					"but %%%c is uWSGI's magic variable, here %q; write %%%%%c%c to keep it as written",
					where, s[i+1], s[i+2], s[i+1], v, s[i+1], s[i+2]))
			}
			b.WriteString(v)
			i++
		case c == '$' && ok:
			// An unset variable stays as written, as uWSGI keeps it: a
			// path built from it then fails loudly (chdir = $(APP_DIR)
			// must not become the directory carafe started in).
			v, set := ex.getenv(name)
			if !set {
				v = s[i : i+3+len(name)]
				ex.warnings = append(ex.warnings, fmt.Sprintf("carafe: %senvironment variable %q is not set; $(%s) is kept as written, as uWSGI keeps it", where, name, name))
			}
			b.WriteString(v)
			i += 2 + len(name)
		case c == '@' && ok:
			// Magic variables within are expanded first: @(%dsecret),
			// as uWSGI expands them over the whole file.
			b.WriteString(ex.readFile(where, ex.expand(where, name)))
			i += 2 + len(name)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// maxAtFile bounds the file an @(FILE) reads: a secret or a short value.
const maxAtFile = 64 << 10

// readFile is the content of an @(FILE), without its trailing line ends
// (a secret written with echo ends with one). A relative FILE is taken
// from the working directory, as uWSGI takes it (%d is the ini's). A file
// that cannot be read is an error, not an empty value: a config whose
// secret went missing must not start.
func (ex *expander) readFile(where, name string) string {
	fail := func(err error) string {
		ex.errs = append(ex.errs, fmt.Errorf("config: %s@(%s): %w", where, name, err))
		return ""
	}
	if strings.Contains(name, "://") {
		return fail(errors.New("only a file path can be read here (uWSGI's exec://, http:// and other sources are not supported)"))
	}
	data, err := ex.files.read(name, maxAtFile)
	if err != nil {
		return fail(err)
	}
	return strings.TrimRight(string(data), "\r\n")
}

// looksEncoded reports whether %ab reads as a percent-encoded byte (%40,
// %2F, %C3) rather than a magic variable and text (%dapp.py): two hex
// digits, one of them a decimal digit.
func looksEncoded(a, b byte) bool {
	digit := func(c byte) bool { return '0' <= c && c <= '9' }
	hex := func(c byte) bool { return digit(c) || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' }
	return hex(a) && hex(b) && (digit(a) || digit(b))
}

// parenName is the name in s's leading "(name)", non-empty; ok is false
// when s does not start with one.
func parenName(s string) (name string, ok bool) {
	if !strings.HasPrefix(s, "(") {
		return "", false
	}
	end := strings.IndexByte(s[1:], ')')
	if end <= 0 {
		return "", false
	}
	return s[1 : 1+end], true
}

// loader reads --ini files, following ini keys inside them.
type loader struct {
	env      iniEnv
	files    []string
	settings []setting
	unknown  []unknownKey // the environment's, then the ini files'
	warnings []string
}

// unknownLines is every unknown key's message, but for the keys of the
// user's own that a %(name) used. Keys of uWSGI features carafe lacks are
// an error, which names them all.
func (ld *loader) unknownLines(cheaperOff bool) ([]string, error) {
	var out []string
	var refused []error
	for _, u := range ld.unknown {
		switch {
		case cheaperOff && u.refuse != nil && isCheaper(u.refuse.Name):
			// cheaper = 0 switches the family off, as in uWSGI, which then
			// ignores its other keys (a config's block of them stays).
		case u.named:
			refused = append(refused, unsupportedError(u.where, fmt.Sprintf("%q", u.key), u.refuse))
		case ld.env.ph.used[u.key]:
		case u.refuse != nil:
			refused = append(refused, unsupportedError(u.where, fmt.Sprintf("%q", u.key), u.refuse))
		default:
			out = append(out, u.msg)
		}
	}
	if len(refused) > 0 {
		return nil, errors.Join(refused...)
	}
	return out, nil
}

// isCheaper reports whether name is cheaper or one of its family.
func isCheaper(name string) bool { return name == "cheaper" || strings.HasPrefix(name, "cheaper-") }

// load reads the file named by spec (FILE or FILE:SECTION), the files it
// includes with it, and returns their settings. where is the ini line that
// included it, "" for a command-line --ini.
func (ld *loader) load(spec, where string, depth int) ([]setting, error) {
	if depth >= maxIniDepth {
		return nil, fmt.Errorf("config: %sini: %s: ini files nested more than %d deep (an include cycle?)", where, spec, maxIniDepth)
	}
	path, section := splitIniSpec(spec)
	data, err := ld.env.files.read(path, maxIniFile)
	if err != nil {
		return nil, fmt.Errorf("config: %sini: %w", where, err)
	}
	ld.files = append(ld.files, spec)
	include := func(s setting) ([]setting, error) {
		// `ini = :base` is the [base] section of this same file, as in
		// uWSGI: one file holding shared settings and variants.
		if strings.HasPrefix(s.value, ":") {
			s.value = path + s.value
		}
		return ld.loadSetting(s, depth+1)
	}
	res, err := parseIni(path, data, section, &ld.env, include)
	if err != nil {
		return nil, err
	}
	ld.unknown = append(ld.unknown, res.unknown...)
	ld.warnings = append(ld.warnings, res.warnings...)
	return res.settings, nil
}

// readsIni reports whether o names an ini file to read: ini, and the
// ini-paste forms, which also build the app from that file.
func readsIni(o *Option) bool {
	return o.Name == "ini" || o.Name == "ini-paste" || o.Name == "ini-paste-logged"
}

// loadSetting reads the ini file of s (see readsIni) and returns its
// settings. For ini-paste they end with paste = config:FILE, FILE made
// absolute, and for ini-paste-logged paste-logger too, as if the file said
// so last.
func (ld *loader) loadSetting(s setting, depth int) ([]setting, error) {
	ss, err := ld.load(s.value, s.where, depth)
	if err != nil || s.opt.Name == "ini" {
		return ss, err
	}
	path, _ := splitIniSpec(s.value)
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("config: %s%s: %w", s.where, s.name, err)
	}
	ss = append(ss, setting{opt: lookup("paste"), name: s.name, value: "config:" + abs, where: s.where})
	if s.opt.Name == "ini-paste-logged" {
		ss = append(ss, setting{opt: lookup("paste-logger"), name: s.name, value: "true", where: s.where})
	}
	return ss, nil
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
	unknown  []unknownKey
}

// envCheaperOff reports whether the environment sets UWSGI_CHEAPER off
// (or empty, which uWSGI reads as 0).
func envCheaperOff(env []string) bool {
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "UWSGI_CHEAPER="); ok {
			return v == "" || isOff(v)
		}
	}
	return false
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
			res.unknown = append(res.unknown, unknownKey{key: key, msg: fmt.Sprintf("%sunknown option %q%s", where, key, didYouMean(key, ""))})
			continue
		}
		if (o.Kind == KindUnsupported || o.Kind == KindInt) && v == "" {
			// UWSGI_CHEAPER= (a Dockerfile clearing its image's value):
			// uWSGI reads 0, off; the option keeps its default.
			continue
		}
		if o.Kind == KindUnsupported && isCheaper(o.Name) && envCheaperOff(env) {
			continue // UWSGI_CHEAPER=0 switches the family off (see unknownLines)
		}
		if o.Kind == KindUnsupported && !isOff(v) {
			return res, unsupportedError(where, fmt.Sprintf("%q", key), o)
		}
		res.settings = append(res.settings, setting{opt: o, name: key, value: v, bare: v == "", where: where})
	}
	// The environment has no order of its own: go by name, so that every
	// process (the master and each worker) reads the same.
	slices.SortStableFunc(res.settings, func(a, b setting) int { return strings.Compare(a.where, b.where) })
	slices.SortFunc(res.unknown, func(a, b unknownKey) int { return strings.Compare(a.msg, b.msg) })
	return res, nil
}

// resolveLater expands the %(name)s left in the settings' values by keys
// set after them, once every file is read, as uWSGI expands placeholders
// over the whole configuration (chdir = %(base)/app, then base = /srv).
// A %(name) that still names no key stays as written, with a warning.
// log-format's own variables look the same, and stay.
func (ph *placeholders) resolveLater(ss []setting) []string {
	var warnings []string
	for i := range ss {
		s := &ss[i]
		if !s.late {
			continue
		}
		r := resolver{ph: ph, done: map[string]string{}, visiting: map[string]bool{}, said: map[string]bool{}}
		s.value = r.resolve(s.value)
		for _, w := range r.warnings {
			warnings = append(warnings, "carafe: "+s.where+w)
		}
	}
	return warnings
}

// resolver expands the %(name)s of one value, and those of the values it
// puts in (a key set to %(other)), each key once: a loop of keys naming
// each other is cut where it closes, with one warning.
type resolver struct {
	ph       *placeholders
	done     map[string]string // keys expanded already
	visiting map[string]bool   // keys being expanded
	said     map[string]bool
	warnings []string
}

func (r *resolver) resolve(v string) string {
	var b strings.Builder
	for j := 0; j < len(v); j++ {
		name, ok := parenName(v[j+1:])
		if v[j] != '%' || !ok {
			b.WriteByte(v[j])
			continue
		}
		literal := v[j : j+3+len(name)]
		j += 2 + len(name)
		if strings.IndexByte(name, ' ') >= 0 {
			b.WriteString(placeholderMath(name, func(key string) string {
				val, found := r.ph.get(key)
				if !found {
					r.say(key, "names no option or key; taken as empty, as uWSGI takes it")
					return ""
				}
				return r.value(key, val, "%("+key+")")
			}))
			continue
		}
		val, found := r.ph.get(name)
		switch {
		case !found:
			r.warn(name, "names no option or key")
			val = literal
		default:
			val = r.value(name, val, literal)
		}
		b.WriteString(val)
	}
	return b.String()
}

// value is key's val with its own %(name)s resolved, or literal where key
// leads back to itself.
func (r *resolver) value(key, val, literal string) string {
	switch {
	case r.visiting[key]:
		r.warn(key, "leads back to itself through other keys")
		return literal
	case strings.Contains(val, "%("):
		if done, ok := r.done[key]; ok {
			return done
		}
		r.visiting[key] = true
		val = r.resolve(val)
		r.visiting[key] = false
		r.done[key] = val
	}
	return val
}

// placeholderMath evaluates uWSGI's placeholder arithmetic, %(expr) with
// spaces in expr, as uWSGI does: its words, left to right, are numbers,
// the keys (get gives their values), and the operators +, -, * and /,
// which apply to what came so far and the next word (whole numbers:
// text reads as its leading digits, or 0; a division by zero gives 0);
// ++ and -- add or take 1; words with no operator between them are
// joined (%(name suffix)).
func placeholderMath(expr string, get func(string) string) string {
	cur, op, started := "", byte(0), false
	for _, w := range strings.Fields(expr) {
		switch w {
		case "+", "-", "*", "/":
			op = w[0]
			continue
		case "++", "--":
			if started {
				n := leadingInt(cur)
				if w == "++" {
					n++
				} else {
					n--
				}
				cur = strconv.FormatInt(n, 10)
			}
			op = 0
			continue
		}
		val := w
		if strings.Trim(w, "0123456789") != "" {
			val = get(w)
		}
		a, b := leadingInt(cur), leadingInt(val)
		switch op {
		case 0:
			cur += val
		case '+':
			cur = strconv.FormatInt(a+b, 10)
		case '-':
			cur = strconv.FormatInt(a-b, 10)
		case '*':
			cur = strconv.FormatInt(a*b, 10)
		case '/':
			if b == 0 {
				cur = "0"
			} else {
				cur = strconv.FormatInt(a/b, 10)
			}
		}
		op, started = 0, true
	}
	return cur
}

// leadingInt reads s as C's strtoll does: blanks, a sign and the digits
// that follow; anything else ends it, and no digits is 0.
func leadingInt(s string) int64 {
	s = strings.TrimLeft(s, " \t\n\r\v\f")
	neg := false
	if s != "" && (s[0] == '+' || s[0] == '-') {
		neg = s[0] == '-'
		s = s[1:]
	}
	var n int64
	for i := 0; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		n = n*10 + int64(s[i]-'0')
	}
	if neg {
		return -n
	}
	return n
}

func (r *resolver) warn(name, why string) { r.say(name, why+"; kept as written") }

// say warns once about %(name).
func (r *resolver) say(name, what string) {
	if !r.said[name] {
		r.said[name] = true
		r.warnings = append(r.warnings, fmt.Sprintf("%%(%s) %s", name, what))
	}
}
