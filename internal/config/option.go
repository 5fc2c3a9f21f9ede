package config

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
)

// Kind says what value an option takes and what it does with it.
type Kind string

// The kinds of option.
const (
	KindString      Kind = "string"      // last value wins
	KindInt         Kind = "int"         // decimal, last value wins
	KindInt64       Kind = "int64"       // decimal, last value wins
	KindFloat       Kind = "float"       // decimal seconds, last value wins
	KindBool        Kind = "bool"        // bare flag means true; true/false/1/0/yes/no/on/off
	KindList        Kind = "list"        // repeatable; every value is appended
	KindNoop        Kind = "noop"        // a harmless uWSGI option, accepted and ignored
	KindUnsupported Kind = "unsupported" // a uWSGI feature carafe rejects
)

// Option is one row of the option table.
type Option struct {
	Name    string   // long name, used as --name and as the ini key
	Aliases []string // other long names
	Short   string   // one-letter flag (uWSGI's), "" if none
	Kind    Kind
	Default string // string form of the default; "" for none
	Metavar string // placeholder for the value in usage text (ADDR, N, ...)
	Doc     string // user documentation: what carafe does, and how it differs from uWSGI
	Section string // heading the option is listed under

	// Field returns a pointer into c of the type Kind implies: *string,
	// *int, *int64, *float64, *bool or *[]string. It is nil for noop and
	// unsupported options.
	Field func(c *Config) any

	// NoValue, when set, is the value a value-taking option gets when it
	// is given without one (--chmod-socket alone means "666"). On the
	// command line such an option takes the next argument as its value
	// only when it starts with a digit.
	NoValue string

	// Check, when set on a noop option, makes it take a value and says
	// whether that value is harmless (plugin = python3 is, plugin = php is
	// not). A noop option without Check is a boolean switch.
	Check func(value string) error

	// Warn marks a noop option that asks for something carafe does not do
	// (a limit): accepted, so that the config still starts, and said at
	// start with Doc, unless its value switches it off.
	Warn bool
}

// Options returns the option table, in documentation order.
func Options() []Option {
	out := make([]Option, len(table))
	copy(out, table)
	for i := range out {
		out[i].Aliases = slices.Clone(out[i].Aliases)
	}
	return out
}

// takesValue reports whether the option consumes a following argument on
// the command line.
func (o *Option) takesValue() bool {
	switch o.Kind {
	case KindBool, KindUnsupported:
		return false
	case KindNoop:
		return o.Check != nil
	}
	return true
}

var byName = func() map[string]*Option {
	m := make(map[string]*Option)
	add := func(name string, o *Option) {
		if _, dup := m[name]; dup {
			panic("config: duplicate option name " + name)
		}
		m[name] = o
	}
	for i := range table {
		o := &table[i]
		add(o.Name, o)
		for _, a := range o.Aliases {
			add(a, o)
		}
	}
	return m
}()

var byShort = func() map[string]*Option {
	m := make(map[string]*Option)
	for i := range table {
		if s := table[i].Short; s != "" {
			if _, dup := m[s]; dup {
				panic("config: duplicate short option -" + s)
			}
			m[s] = &table[i]
		}
	}
	return m
}()

// lookup finds an option by long name or alias. uWSGI users sometimes write
// max_requests for max-requests in ini files; both spellings are accepted.
func lookup(name string) *Option {
	if o := byName[name]; o != nil {
		return o
	}
	return byName[strings.ReplaceAll(name, "_", "-")]
}

// unsupportedFamilies are uWSGI option families carafe has no part of,
// refused by prefix (or by name) as unsupportedOptions are by name: an
// access rule (route-if), a deploy's hook (hook-pre-app, exec-asap) or a
// supervised daemon (attach-daemon2) skipped with only a warning is a site
// without its rules, or a deploy without its migrations, that still
// starts. Only names written as uWSGI writes options (with dashes, not
// underscores) are taken for them, on the command line and in ini files,
// and in a file only when no %(name) uses the key, which is then one of
// the user's own (see loader.unknownLines); a UWSGI_* variable of such a
// name stays a warning (Kubernetes sets UWSGI_CRON_SERVICE_HOST for a
// service named uwsgi-cron).
// The reasons several refusals share.
const (
	noRouting = "There is no internal routing; do it in nginx or in the app."
	noDaemons = "carafe does not supervise other programs; use systemd."
	noCron    = "There is no cron; use systemd timers or cron."
	noCheaper = "carafe has cheaper, cheaper-initial, cheaper-step, cheaper-overload, cheaper-algo (spare, " +
		"spare2, busyness), cheaper-idle, cheaper-busyness-max/-min/-multiplier and cheaper-rss-limit-soft/-hard, " +
		"not this one."
	noTLS     = "carafe does not terminate TLS; put nginx or another proxy in front."
	runBefore = "run commands before it starts (systemd's ExecStartPre=) or in the app's import."
)

var unsupportedFamilies = []struct {
	prefix string
	opt    Option
}{
	{prefix: "route", opt: unsupported("route-*", noRouting)},
	{prefix: "final-route", opt: unsupported("final-route*", noRouting)},
	{prefix: "error-route", opt: unsupported("error-route*", noRouting)},
	{prefix: "response-route", opt: unsupported("response-route*", noRouting)},
	{prefix: "hook-", opt: unsupported("hook-*", "carafe runs no hooks (but accepts hook-master-start = unix_signal:N ..., which maps a signal as carafe already does); "+
		runBefore)},
	{prefix: "exec-", opt: unsupported("exec-*", "carafe runs no hooks; "+runBefore)},
	{prefix: "call-", opt: unsupported("call-*", "carafe runs no hooks; call the function in the app's import.")},
	{prefix: "attach-daemon", opt: unsupported("attach-daemon*", noDaemons)},
	{prefix: "smart-attach-daemon", opt: unsupported("smart-attach-daemon*", noDaemons)},
	{prefix: "attach-control-daemon", opt: unsupported("attach-control-daemon", noDaemons)},
	{prefix: "cheaper-", opt: unsupported("cheaper-*", noCheaper)},
	{prefix: "cron", opt: unsupported("cron*", noCron)},
	{prefix: "unique-cron", opt: unsupported("unique-cron*", noCron)},
	{prefix: "unique-legion-cron", opt: unsupported("unique-legion-cron", noCron)},
	{prefix: "legion", opt: unsupported("legion*", "There are no legions; use your load balancer's health checks.")},
	{prefix: "ssl-", opt: unsupported("ssl-*", noTLS)},
	{prefix: "https-", opt: unsupported("https-*", noTLS)},
	{prefix: "chroot", opt: unsupported("chroot", "carafe does not chroot; use systemd's RootDirectory= or a container.")},
	{prefix: "unshare", opt: unsupported("unshare", "carafe makes no namespaces; use systemd's sandboxing or a container.")},
	{prefix: "cap", opt: unsupported("cap", "carafe keeps no capabilities past --uid; use systemd's AmbientCapabilities=.")},
	{prefix: "shared-socket", opt: unsupported("shared-socket", "Give the address to --http or --socket; the master "+
		"binds it once for every worker.")},
	{prefix: "enable-proxy-protocol", opt: unsupported("enable-proxy-protocol", "The PROXY protocol is not read; have "+
		"the proxy send X-Forwarded-For.")},
	{prefix: "unenv", opt: unsupported("unenv", "Unset the variable in the service's environment instead.")},
	{prefix: "chdir2", opt: unsupported("chdir2", "Use --chdir: workers change directory before they import the app.")},
	{prefix: "set", opt: unsupported("set", "In an ini file, give the option itself (key = value), or set-placeholder = NAME=VALUE for a key of your own; --set NAME=VALUE works on the command line.")},
}

// unsupportedFamily returns the refusal for a name of an unsupported
// family, or nil. Exact names (chroot, cap, set) must match whole.
func unsupportedFamily(name string) *Option {
	if strings.Contains(name, "_") {
		return nil
	}
	for i := range unsupportedFamilies {
		f := &unsupportedFamilies[i]
		if strings.HasSuffix(f.opt.Name, "*") && strings.HasPrefix(name, f.prefix) || name == f.prefix {
			return &f.opt
		}
	}
	return nil
}

// set stores value into the option's field. bare means the option was given
// with no value at all (a bare flag, or an empty ini value).
func (o *Option) set(c *Config, value string, bare bool) error {
	if bare && o.NoValue != "" {
		value = o.NoValue
	}
	switch p := o.Field(c).(type) {
	case *string:
		*p = value
	case *[]string:
		*p = append(*p, value)
	case *bool:
		if bare {
			*p = true
			return nil
		}
		b, err := parseBool(value)
		if err != nil {
			return err
		}
		*p = b
	case *int:
		n, err := strconv.ParseInt(value, 10, strconv.IntSize)
		if err != nil {
			return fmt.Errorf("invalid integer %q", value)
		}
		*p = int(n)
	case *int64:
		n, err := strconv.ParseInt(value, 10, 64)
		if err != nil {
			return fmt.Errorf("invalid integer %q", value)
		}
		*p = n
	case *float64:
		f, err := strconv.ParseFloat(value, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return fmt.Errorf("invalid number %q", value)
		}
		*p = f
	default:
		panic(fmt.Sprintf("config: option %s: unexpected field type %T", o.Name, p))
	}
	return nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on":
		return true, nil
	case "false", "0", "no", "off":
		return false, nil
	}
	return false, fmt.Errorf("invalid boolean %q (want true/false, yes/no, on/off or 1/0)", s)
}

// isOff reports whether value switches an option off: 0, false, no or off.
func isOff(value string) bool {
	b, err := parseBool(strings.TrimSpace(value))
	return err == nil && !b
}

func unsupportedError(where, name string, o *Option) error {
	return fmt.Errorf("config: %soption %s is a uWSGI feature carafe does not implement: %s", where, name, o.Doc)
}

// setting is one option assignment, from the command line or an ini file.
type setting struct {
	opt   *Option
	name  string // as written: "--workers", "-p", "workers"
	value string
	bare  bool   // no value given
	where string // "FILE:LINE: " for ini lines, "" for flags
	late  bool   // its value holds a %(name) left for resolveLater
}

// apply stores the setting into c, checking noop values on the way.
func (s *setting) apply(c *Config) error {
	o := s.opt
	var err error
	switch {
	case readsIni(o):
		return nil // the loader has read it already
	case s.wordForNumber():
		return nil // said in Parse's warnings
	case s.emptyNumber():
		def := o.Default // said in Parse's warnings
		if def == "" {
			def = "0"
		}
		err = o.set(c, def, false)
	case s.keepaliveOn():
		err = o.set(c, "", true) // the switch, as written bare; said in Parse's warnings
	case s.wordForSwitch() && o.Kind == KindNoop:
		return nil // on, as uWSGI reads it: what carafe does anyway
	case s.wordForSwitch():
		err = o.set(c, "true", false) // as uWSGI reads it; said in Parse's warnings
	case o.Kind == KindUnsupported:
		if !s.bare && isOff(s.value) {
			return nil
		}
		return unsupportedError(s.where, s.name, o)
	case o.Kind == KindNoop && o.Check != nil:
		err = o.Check(s.value)
	case o.Kind == KindNoop:
		if !s.bare {
			_, err = parseBool(s.value)
		}
	default:
		err = o.set(c, s.value, s.bare)
	}
	if err != nil {
		return fmt.Errorf("config: %s%s: %w", s.where, s.name, err)
	}
	return nil
}

// wordForNumber reports whether s gives a number option a boolean word in
// an ini file or the environment (`threads = true`, `log-slow = True`).
// uWSGI reads such a value as 0, the option unset; carafe leaves the
// option at its default, with a warning, rather than refusing a file
// uWSGI runs. On the command line it stays an error.
// wordForSwitch reports whether an ini line gives a switch a value that is
// none of the words for on and off (master = y, enable, 2, "true"). uWSGI
// reads any value but 0, false, no and off as on, so such a config runs
// there: carafe reads it so too, and says so. A switch carafe accepts and
// ignores counts too (logfile-chown = www-data, lazy-apps = enabled: 3 of
// 10 real logfile-chown lines give a user), and needs no word.
func (s *setting) wordForSwitch() bool {
	switch {
	case s.opt.Kind == KindNoop && s.opt.Check == nil:
	case s.opt.Kind != KindBool:
		return false
	}
	if s.where == "" || s.bare {
		return false
	}
	_, err := parseBool(strings.TrimSpace(s.value))
	return err != nil
}

// keepaliveOn reports whether an ini line (or the environment) gives
// http-keepalive the value 1. uWSGI's http-keepalive is a switch, and 1 is
// how its configs write "on" (Nautobot's documented uwsgi.ini, with the
// advice to keep connections longer than the load balancer does): read
// as seconds, it closed every idle connection after one, and a load
// balancer reusing one got a reset. So it is the switch, as written bare.
func (s *setting) keepaliveOn() bool {
	return s.opt.Name == "http-keepalive" && s.where != "" && !s.bare && strings.TrimSpace(s.value) == "1"
}

// emptyNumber reports whether an ini line gives a number option no value
// (`harakiri =`, a template's empty variable): uWSGI reads it as 0, the
// option unset, and carafe sets the option's default.
func (s *setting) emptyNumber() bool {
	switch s.opt.Kind {
	case KindInt, KindInt64, KindFloat:
		return s.where != "" && s.opt.NoValue == "" && strings.TrimSpace(s.value) == ""
	}
	return false
}

func (s *setting) wordForNumber() bool {
	switch s.opt.Kind {
	case KindInt, KindInt64, KindFloat:
		v := strings.TrimSpace(s.value)
		return s.where != "" && !s.bare && v != "0" && v != "1" && isBoolWord(v)
	}
	return false
}

// gunicornNames are Gunicorn's options carafe names otherwise, and what
// to give instead: edit distance alone offered --ini for --bind.
var gunicornNames = map[string]string{
	"bind":                "--http",
	"workers":             "--processes",
	"reload":              "--py-autoreload 1",
	"timeout":             "--harakiri (it ends a request that runs longer; Gunicorn's default is 30, carafe has no limit unless given one)",
	"graceful-timeout":    "--worker-reload-mercy",
	"keep-alive":          "--http-keepalive",
	"max-requests-jitter": "--max-requests-delta",
	"access-logfile":      "--req-logger file:PATH (requests are logged by default, to stderr; Gunicorn's - is file:/dev/stdout)",
	"error-logfile":       "--logto (carafe logs to stderr by default, Gunicorn's -)",
	"log-file":            "--logto (carafe logs to stderr by default, Gunicorn's -)",
	"worker-class":        "none: every worker runs --threads of its own; carafe serves WSGI apps only, so an ASGI app (uvicorn's worker) needs an ASGI server",
	"logconfig":           "none: configure Python's logging in the app (logging.config at import); what it writes to stderr goes where carafe logs",
	"logconfig-dict":      "none: configure Python's logging in the app (logging.config.dictConfig at import); what it writes to stderr goes where carafe logs",
	"daemon":              "--daemonize LOGFILE",
	"user":                "--uid",
	"group":               "--gid",
	"pid":                 "--pidfile",
	"config":              "--ini (a gunicorn.conf.py is Python, which carafe does not run: put its settings in an ini file)",
	"preload":             "none: Go cannot fork, so each worker imports the app itself, as uWSGI's --lazy-apps",
	"log-level":           "none: carafe logs at info; --disable-logging drops the request lines",
	"env":                 "--env",
	"certfile":            "none: carafe speaks no TLS; put nginx (or another proxy) in front for HTTPS",
	"keyfile":             "none: carafe speaks no TLS; put nginx (or another proxy) in front for HTTPS",
	"ca-certs":            "none: carafe speaks no TLS; put nginx (or another proxy) in front for HTTPS",
	"capture-output":      "none: the app's stdout and stderr already go where carafe logs (--logto)",
	"access-logformat": "--log-format with uWSGI's variables; Apache's combined format is " +
		`'%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(size) "%(referer)" "%(uagent)"'`,
	"worker-tmp-dir":        "none: carafe keeps no heartbeat file; drop the setting",
	"statsd-host":           "none: carafe sends no statsd metrics; read the --stats server, or send them from the app",
	"secure-scheme-headers": "none: the set is fixed: X-Forwarded-Proto https, X-Forwarded-Protocol ssl and X-Forwarded-Ssl on, from --forwarded-allow-ips peers",
	"backlog":               "--listen (carafe asks for the largest backlog the kernel allows)",
}

// gunicornFileNames are gunicorn.conf.py's setting names (dashed) that
// differ from the command-line names gunicornNames is keyed by.
var gunicornFileNames = map[string]string{
	"keepalive":         "keep-alive",
	"accesslog":         "access-logfile",
	"errorlog":          "error-logfile",
	"loglevel":          "log-level",
	"preload-app":       "preload",
	"raw-env":           "env",
	"access-log-format": "access-logformat",
}

// modWSGINames are mod_wsgi's WSGIDaemonProcess options carafe names
// otherwise (a line pasted into an ini file), and what to give instead.
var modWSGINames = map[string]string{
	"maximum-requests":   "--max-requests",
	"restart-interval":   "--max-worker-lifetime",
	"python-home":        "--virtualenv",
	"request-timeout":    "--harakiri (per request, where mod_wsgi's is an average over the threads)",
	"header-buffer-size": "--buffer-size",
	"display-name":       "none: the workers carry the master's name",
	"inactivity-timeout": "none: idle workers are not restarted (--max-worker-lifetime or --reload-on-rss give memory back)",
	"deadlock-timeout":   "none: --harakiri also ends a request whose thread holds the GIL",
	"queue-timeout":      "none: a request whose client gave up while it waited for a thread is not run",
	"lang":               "none: carafe's Python runs in UTF-8 mode; for formatting, --env LC_ALL=...",
	"locale":             "none: carafe's Python runs in UTF-8 mode; for formatting, --env LC_ALL=...",
	"process-group":      "none: one carafe (its own ini and socket) per daemon process group",
	"application-group":  "none: the app always runs in the main interpreter, as under %{GLOBAL}",
}

// modWSGIHint is the suffix of an unknown-option error for a mod_wsgi
// option's name; "" for a name mod_wsgi lacks.
func modWSGIHint(name string) string {
	g, ok := modWSGINames[strings.ReplaceAll(name, "_", "-")]
	if !ok {
		return ""
	}
	return hintFor("mod_wsgi's "+name+"=", g, "From mod_wsgi")
}

// uwsgiCommands are uWSGI's options that signal a running instance
// through its pidfile (Django's uWSGI how-to gives them), and the signal
// to send carafe's master instead.
var uwsgiCommands = map[string]string{
	"reload":        "kill -HUP $(cat PIDFILE)",
	"brutal-reload": "kill -HUP $(cat PIDFILE)",
	"stop":          "kill -TERM $(cat PIDFILE) (kill -INT stops at once)",
}

// gunicornHint is the suffix of an unknown-option error for Gunicorn's
// option name, what to give carafe instead; "" for a name Gunicorn lacks.
// A gunicorn.conf.py setting (preload_app, keepalive) pasted into an ini
// file is found under its command-line name.
func gunicornHint(name string) string {
	long := strings.ReplaceAll(name, "_", "-")
	if l, ok := gunicornFileNames[long]; ok {
		long = l
	}
	g, ok := gunicornNames[long]
	if !ok {
		return ""
	}
	said := "--" + long
	if name != long {
		said = name + " (--" + long + ")"
	}
	return hintFor("Gunicorn's "+said, g, "From Gunicorn")
}

// hintFor words a hint: what another server's option (said) is in carafe
// (g, or "none: why"), and the README section that says more.
func hintFor(said, g, section string) string {
	if what, ok := strings.CutPrefix(g, "none: "); ok {
		return fmt.Sprintf(" (%s has no equivalent in carafe: %s; see README.md, %q)", said, what, section)
	}
	return fmt.Sprintf(" (%s is carafe's %s; see README.md, %q)", said, g, section)
}

// gunicornShortNames are Gunicorn's one-letter options that carafe (whose
// one-letter options are uWSGI's) does not have, and what to give instead.
var gunicornShortNames = map[string]string{
	"c": "config",
	"k": "worker-class",
	"e": "env",
	"D": "daemon",
	"u": "user",
	"g": "group",
}

// suggest returns the known option name closest to name: within an edit
// distance of 2, or one that name is a prefix of (or that is a prefix of
// name); "" if none is close.
func suggest(name string) string {
	name = strings.ReplaceAll(strings.ToLower(name), "_", "-")
	best, bestScore := "", math.MaxInt
	consider := func(cand string) {
		score := math.MaxInt
		// Two edits in a name of four letters or fewer is most of it
		// (uWSGI's ksm was "did you mean js?"), unless they swap two
		// letters (hepl).
		if d := editDistance(name, cand); d <= 2 && d < len(name) && (d <= 1 || len(name) > 4 || swapped(name, cand)) {
			score = d
		} else if len(name) >= 3 && (strings.HasPrefix(cand, name) || strings.HasPrefix(name, cand) && len(cand) >= 3) {
			score = 3 + abs(len(cand)-len(name))
		}
		if score < bestScore {
			best, bestScore = cand, score
		}
	}
	for i := range table {
		consider(table[i].Name)
		for _, a := range table[i].Aliases {
			consider(a)
		}
	}
	consider("help")
	consider("version")
	return best
}

// swapped reports whether b is a with two neighbouring letters swapped.
func swapped(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	i := 0
	for i < len(a) && a[i] == b[i] {
		i++
	}
	return i+1 < len(a) && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
}

func abs(n int) int {
	if n < 0 {
		return -n
	}
	return n
}

// editDistance is the Levenshtein distance between a and b, in bytes.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// didYouMean formats the suggestion suffix for an unknown name; prefix is
// "--" for flags and "" for ini keys.
func didYouMean(name, prefix string) string {
	name = strings.ToLower(name)
	if c, ok := uwsgiCommands[name]; ok {
		h := fmt.Sprintf(" (uWSGI's --%s PIDFILE is `%s`: carafe has no control commands; see docs/operations.md, \"Signals\")", name, c)
		if g := gunicornHint(name); g != "" {
			h = strings.TrimSuffix(h, ")") + "; " + strings.TrimPrefix(g, " (")
		}
		return h
	}
	if h := gunicornHint(name); h != "" {
		return h
	}
	if h := modWSGIHint(name); h != "" {
		return h
	}
	if s := suggest(name); s != "" {
		return fmt.Sprintf(" (did you mean %q?)", prefix+s)
	}
	return ""
}
