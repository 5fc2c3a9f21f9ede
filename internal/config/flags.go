package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// cmdline is the command line, parsed but not yet applied.
type cmdline struct {
	settings   []setting
	positional string // the short form's module[:callable], "" if none
}

// parseArgs splits args into settings and at most one positional argument.
// Only --name forms and uWSGI's few one-letter flags are options; --help and
// --version win over everything else so that they work on any command line.
func parseArgs(args []string) (*cmdline, error) {
	for _, a := range args {
		if a == "--" {
			break
		}
		switch a {
		case "-h", "--help":
			return nil, ErrHelp
		case "--version":
			return nil, ErrVersion
		}
	}
	cl := new(cmdline)
	var positionals []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		var (
			used int
			err  error
		)
		switch {
		case a == "--":
			positionals = append(positionals, args[i+1:]...)
			i = len(args)
		case strings.HasPrefix(a, "--"):
			used, err = cl.long(args[i:])
		case len(a) > 1 && a[0] == '-':
			used, err = cl.short(args[i:])
		default:
			positionals = append(positionals, a)
		}
		if err != nil {
			return nil, err
		}
		i += used
	}
	switch {
	case len(positionals) > 1:
		return nil, fmt.Errorf("config: more than one app given (%q); give a single module:callable, and options as --name value", positionals)
	case len(positionals) == 1:
		p := positionals[0]
		file, _, _ := strings.Cut(p, ":")
		switch ext := strings.ToLower(filepath.Ext(file)); {
		case p == "":
			return nil, fmt.Errorf("config: empty app name given")
		case ext == ".ini":
			// uWSGI loads a lone config file by its extension: `uwsgi
			// site.ini` is `uwsgi --ini site.ini`, and so it is here.
			cl.settings = append(cl.settings, setting{opt: lookup("ini"), name: "--ini", value: p})
		case otherConfigs[ext] != "" && isFile(file):
			return nil, fmt.Errorf("config: %q looks like a uWSGI %s config; carafe reads ini files only (--ini FILE)", p, otherConfigs[ext])
		default:
			cl.positional = p
		}
	}
	return cl, nil
}

// otherConfigs are the config formats uWSGI deduces from a file's extension
// besides ini; carafe does not read them. Only an existing file counts as
// one: site.json could also be a module json in a package site.
var otherConfigs = map[string]string{".xml": "XML", ".yaml": "YAML", ".yml": "YAML", ".json": "JSON", ".js": "JSON"}

// long parses the --name[=value] flag at args[0] and returns how many
// following arguments it consumed as its value.
func (cl *cmdline) long(args []string) (int, error) {
	name, value, hasValue := strings.Cut(args[0][2:], "=")
	flag := "--" + name
	switch name {
	case "set-placeholder", "set-ph", "set":
		return cl.placeholder(flag, name == "set", value, hasValue, args)
	}
	o := lookup(name)
	if o == nil {
		if f := unsupportedFamily(name); f != nil {
			if hasValue && isOff(value) {
				return 0, nil // --enable-proxy-protocol=false asks for nothing carafe lacks
			}
			return 0, unsupportedError("", flag, f)
		}
		return 0, fmt.Errorf("config: unknown option %q%s", flag, didYouMean(name, "--"))
	}
	if o.Kind == KindUnsupported {
		if hasValue && isOff(value) {
			return 0, nil // --cheaper=0 asks for nothing carafe lacks
		}
		return 0, unsupportedError("", flag, o)
	}
	s := setting{opt: o, name: flag, value: value}
	used := 0
	switch {
	case hasValue:
	case !o.takesValue():
		s.bare = true
		if len(args) > 1 && isBoolWord(args[1]) {
			return 0, fmt.Errorf("config: %s takes no separate value; write %s=%s", flag, flag, args[1])
		}
	case len(args) > 1 && (o.NoValue == "" || startsWithDigit(args[1])):
		s.value, used = args[1], 1
	case o.NoValue != "":
		s.bare = true
	default:
		return 0, fmt.Errorf("config: %s needs a value", flag)
	}
	cl.settings = append(cl.settings, s)
	return used, nil
}

// placeholderFlag is the setting of a --set-placeholder (or --set) flag:
// its value, name=value, is a key for %(name) in the ini files (see
// Parse), and nothing more.
var placeholderFlag = Option{Name: "set-placeholder", Kind: KindNoop, Check: anyValue}

// placeholder parses uWSGI's --set-placeholder NAME=VALUE (--set-ph),
// which sets a key for %(name), and --set (-S) NAME=VALUE, which also sets
// the option NAME when there is one, as uWSGI's --set does.
func (cl *cmdline) placeholder(flag string, set bool, value string, hasValue bool, args []string) (int, error) {
	used := 0
	if !hasValue {
		if len(args) < 2 {
			return 0, fmt.Errorf("config: %s needs a value, NAME=VALUE", flag)
		}
		value, used = args[1], 1
	}
	k, v, ok := strings.Cut(value, "=")
	if k = strings.TrimSpace(k); !ok || k == "" {
		return 0, fmt.Errorf("config: %s %q: want NAME=VALUE", flag, value)
	}
	o := lookup(k)
	if o != nil && !set {
		return 0, fmt.Errorf("config: %s %q: %q is an option; give --%s (or --set %s)", flag, value, k, k, value)
	}
	cl.settings = append(cl.settings, setting{opt: &placeholderFlag, name: flag, value: k + "=" + v})
	if o != nil {
		n, err := cl.long([]string{"--" + k + "=" + v})
		return used + n, err
	}
	return used, nil
}

// short parses a one-letter flag at args[0]: -M, or -p 4, -p4, -p=4.
func (cl *cmdline) short(args []string) (int, error) {
	a := args[0]
	if strings.HasPrefix(a, "-S") { // uWSGI's --set
		value, hasValue := strings.TrimPrefix(a[2:], "="), len(a) > 2
		return cl.placeholder("-S", true, value, hasValue, args)
	}
	if name, _, _ := strings.Cut(a[1:], "="); len(name) > 1 {
		if lookup(name) != nil {
			return 0, fmt.Errorf("config: unknown option %q (did you mean %q?)", a, "--"+name)
		}
		if byShort[a[1:2]] == nil && gunicornShortNames[a[1:2]] == "" {
			return 0, fmt.Errorf("config: unknown option %q (long options start with --)", a)
		}
	}
	o := byShort[a[1:2]]
	if o == nil {
		if long, ok := gunicornShortNames[a[1:2]]; ok { // -c FILE, -cFILE
			return 0, fmt.Errorf("config: unknown option %q%s", a[:2],
				strings.Replace(gunicornHint(long), "Gunicorn's --"+long, "Gunicorn's "+a[:2]+" (--"+long+")", 1))
		}
		return 0, fmt.Errorf("config: unknown option %q", a[:2])
	}
	flag := a[:2]
	rest := strings.TrimPrefix(a[2:], "=")
	s := setting{opt: o, name: flag, value: rest}
	used := 0
	switch {
	case !o.takesValue() && len(a) > 2:
		if a[2] != '=' {
			return 0, fmt.Errorf("config: %s takes no value (write each one-letter option separately)", flag)
		}
	case !o.takesValue():
		s.bare = true
		if len(args) > 1 && isBoolWord(args[1]) {
			return 0, fmt.Errorf("config: %s takes no separate value", flag)
		}
	case rest != "":
	case o.NoValue != "" && (len(args) < 2 || !startsWithDigit(args[1])):
		s.bare = true // -C alone is --chmod-socket's 666
	case len(args) > 1:
		s.value, used = args[1], 1
	default:
		return 0, fmt.Errorf("config: %s needs a value", flag)
	}
	if err := gunicornShort(flag, s.value); err != nil {
		return 0, err
	}
	cl.settings = append(cl.settings, s)
	return used, nil
}

// gunicornShort refuses Gunicorn's -b ADDRESS, -w N and -p PIDFILE, which
// carafe's short flags (uWSGI's) would read as a buffer size, a module
// named after a number and a number of processes, with a word on what
// they are here.
func gunicornShort(flag, value string) error {
	switch {
	case flag == "-b" && strings.ContainsAny(value, ":/"):
		return fmt.Errorf("config: -b %s: carafe's -b is uWSGI's --buffer-size; Gunicorn's -b (bind) is --http %s",
			value, strings.TrimPrefix(value, "unix:"))
	case flag == "-w" && value != "" && strings.Trim(value, "0123456789") == "":
		return fmt.Errorf("config: -w %s: carafe's -w is uWSGI's --module; Gunicorn's -w (workers) is --processes %s",
			value, value)
	case flag == "-p" && strings.ContainsAny(value, "/."):
		return fmt.Errorf("config: -p %s: carafe's -p is uWSGI's --processes; Gunicorn's -p (pid file) is --pidfile %s",
			value, value)
	}
	return nil
}

// isBoolWord catches "--master false", which would otherwise make "false"
// the app's module name.
func isBoolWord(s string) bool {
	_, err := parseBool(s)
	return err == nil
}

func startsWithDigit(s string) bool {
	return s != "" && s[0] >= '0' && s[0] <= '9'
}

func isFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular()
}
