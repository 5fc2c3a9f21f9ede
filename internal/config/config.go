package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// ErrHelp is returned by [Parse] when the command line asks for -h or --help.
var ErrHelp = errors.New("config: help requested")

// ErrVersion is returned by [Parse] when the command line asks for --version.
var ErrVersion = errors.New("config: version requested")

// Config is carafe's effective configuration. The zero value is not useful:
// [Default] returns one with every option at its documented default, and
// [Parse] returns one that has passed [Config.Validate]. Each field's comment
// names the option that sets it; docs/options.md has the details.
type Config struct {
	HTTP             []string // --http, aliases --http-socket, --http11-socket: native HTTP/1.1 listeners
	Socket           []string // --socket, aliases --uwsgi-socket, -s: uwsgi-protocol listeners (host:port or a unix path)
	ChmodSocket      string   // --chmod-socket: octal mode of unix sockets; the bare flag means "666"; "" leaves the umask's mode
	LogFileChmod     string   // --logfile-chmod: octal mode of the log files; "" leaves the umask's
	ChownSocket      string   // --chown-socket USER[:GROUP]: owner of unix sockets; "" leaves the creator
	ReusePort        bool     // --reuse-port: SO_REUSEPORT on TCP listeners
	MasterAsRoot     bool     // --master-as-root: only the workers take --uid/--gid
	NoInitgroups     bool     // --no-initgroups: the --uid user's supplementary groups are not taken
	Protocol         string   // --protocol: of the --socket listeners, "uwsgi" ("") or "http" (Parse moves them to HTTP)
	Module           string   // --module, -w: mod or mod:callable
	WSGIFile         string   // --wsgi-file, alias --file
	Paste            string   // --paste config:FILE (PasteDeploy)
	Mount            []string // --mount /PREFIX=APP (one); Parse makes APP Module or WSGIFile
	MountPoint       string   // the --mount prefix, set by Parse
	ManageScriptName bool     // --manage-script-name: the mount prefix becomes SCRIPT_NAME
	PasteLogger      bool     // --paste-logger: logging from the paste file
	Callable         string   // --callable; "" means "application", falling back to "app"
	Optimize         int      // --optimize: Python's -O level (PYTHONOPTIMIZE) for the app
	Chdir            string   // --chdir
	Virtualenv       string   // --virtualenv, aliases --venv, --home, --pyhome, -H
	PythonPath       []string // --pythonpath, aliases --python-path, --pp
	PyArgv           string   // --pyargv: sys.argv after "carafe", split on spaces
	Import           []string // --import: modules (or .py files) imported before the app
	Env              []string // --env K=V
	EnvDir           []string // --envdir DIR: a variable a file
	Processes        int      // --processes, aliases --workers, -p; default 1
	Threads          int      // --threads; default 1
	Master           bool     // --master, -M
	// --cheaper N scales the workers between N and Processes (0: off),
	// with its family (see the option table).
	Cheaper, CheaperInitial, CheaperStep, CheaperOverload, CheaperIdle int
	CheaperAlgo                                                        string
	CheaperBusyMax, CheaperBusyMin, CheaperBusyMult                    int
	CheaperRSSSoft, CheaperRSSHard                                     int
	Harakiri                                                           int // --harakiri seconds; 0 = off
	HarakiriGrace                                                      int // --harakiri-graceful-timeout: seconds the other requests get after one
	MaxRequests                                                        int // --max-requests; 0 = unlimited
	ReloadOnRSS                                                        int // --reload-on-rss MB; 0 = off
	EvilReloadOnRSS                                                    int // --evil-reload-on-rss MB: the worker exits at once above it; 0 = off

	MaxRequestsDelta    int         // --max-requests-delta: worker N gets (N-1)*delta more
	MaxWorkerLifetime   int         // --max-worker-lifetime seconds; 0 = off
	MaxLifetimeDelta    int         // --max-worker-lifetime-delta: worker N gets (N-1)*delta s more
	WorkerReloadMercy   int         // --worker-reload-mercy seconds, default 60: drain bound for a stopping worker
	TouchReload         []string    // --touch-reload FILE: reload when its mtime changes
	PyAutoReload        int         // --py-autoreload SECONDS: reload when an imported module's file changes; 0 = off
	PyAutoReloadIgnore  []string    // --py-auto-reload-ignore MODULE: not watched
	TouchLogReopen      []string    // --touch-logreopen FILE: reopen the logs when its mtime changes
	StaticMap           []string    // --static-map URL=DIR
	StaticMap2          []string    // --static-map2 URL=DIR (DIR holds URL's whole path)
	DisableSendfile     bool        // --disable-sendfile: files are read and written, not sendfile'd
	NoFileWrapper       bool        // --wsgi-disable-file-wrapper: no wsgi.file_wrapper in the environ
	CheckStatic         []string    // --check-static DIR: serve any file under DIR at its path (a docroot)
	StaticSkipExt       []string    // --static-skip-ext .EXT: files never served statically
	AddHeader           []string    // --add-header "Name: value"
	StaticIndex         []string    // --static-index NAME
	StaticMaxAge        int         // --static-max-age seconds; 0 = no caching headers
	StaticExpires       [8][]string // the static-expires* values, one list per option (ExpiresOptionNames)
	StaticPrecompressed bool        // --static-precompressed
	XSendfileDir        []string    // --x-sendfile-dir DIR: X-Sendfile allowed under these
	XAccelRedirect      bool        // --x-accel-redirect
	XAccelMap           []string    // --x-accel-map URI=DIR: internal mappings, for X-Accel-Redirect only
	UID, GID            string      // --uid, --gid: user/group name or number; "" keeps the current one
	MaxFD               int         // --max-fd: RLIMIT_NOFILE at start; 0 leaves it
	Pidfile             string      // --pidfile (written before dropping privileges)
	Pidfile2            string      // --pidfile2 (after)
	SafePidfile         string      // --safe-pidfile (before, atomically)
	SafePidfile2        string      // --safe-pidfile2 (after, atomically)
	Vacuum              bool        // --vacuum: remove unix sockets and the pidfile on exit
	Stats               string      // --stats ADDR; "" = no stats server
	MasterFifo          []string    // --master-fifo FILE: the named pipes the master takes commands from

	Umask            string // --umask: octal, applied at start; "" leaves it alone
	DisableLogging   bool   // --disable-logging: no request log lines
	LogXForwardedFor bool   // --log-x-forwarded-for: X-Forwarded-For as the access line's address
	Log4xx, Log5xx   bool   // --log-4xx, --log-5xx: those lines despite DisableLogging
	LogSlow          int    // --log-slow MS: requests slower than this despite DisableLogging; 0 = off
	LogBig           int    // --log-big BYTES: responses bigger than this despite DisableLogging; 0 = off
	LogZero          bool   // --log-zero: responses with no body despite DisableLogging
	LogIOError       bool   // --log-ioerror: requests whose I/O failed despite DisableLogging
	LogSendfile      bool   // --log-sendfile: responses that sent a file despite DisableLogging
	LogTo            string // --logto FILE; "" = stderr
	Logger           string // --logger file:FILE: Parse makes it LogTo
	ReqLogger        string // --req-logger file:FILE: the request log's own file
	Daemonize        string // --daemonize LOGFILE: run detached, logging there
	LogFormat        string // --log-format: uWSGI's request line format; "" carafe's own
	LogMaxSize       int    // --log-maxsize BYTES: rotate LogTo at this size; 0 = never
	LogBackupName    string // --log-backupname FILE: the rotated log's name; "" = LogTo.<unix seconds>

	BufferSize int  // --buffer-size, default 4096: largest uwsgi-protocol variable block
	DieOnTerm  bool // --die-on-term: accepted for uWSGI compatibility; SIGTERM always means shutdown
	Strict     bool // --strict: unknown ini keys are errors, not warnings
	ShowConfig bool // --show-config: Shown is printed at the start
	// Shown is the configuration as read, in uWSGI's --show-config form.
	Shown string `json:"-"`

	// HTTP limits and timeouts (names borrowed from gunicorn for the limits,
	// uWSGI for the timeouts).
	LimitRequestLine      int      // --limit-request-line, default 8190
	LimitRequestFields    int      // --limit-request-fields, default 100
	LimitRequestFieldSize int      // --limit-request-field-size, default 8190
	LimitPost             int64    // --limit-post bytes, default 1073741824 (1 GiB); 0 = unlimited
	PostBuffering         int64    // --post-buffering bytes; 0 = stream bodies past 64 KiB
	HTTPHeaderTimeout     float64  // --http-header-timeout seconds, default 10: time to receive a whole request head
	HTTPTimeout           float64  // --http-timeout seconds, default 60: idle time allowed between reads of a body / writes of a response
	SocketTimeout         float64  // --socket-timeout seconds, default 60: the same for uwsgi-protocol sockets
	HTTPKeepalive         float64  // --http-keepalive seconds, default 15: idle keep-alive lifetime; 0 disables keep-alive
	ForwardedAllowIPs     string   // --forwarded-allow-ips: peers whose X-Forwarded-Proto sets the scheme
	StaticSafe            []string // --static-safe DIR: where a static directory's symlinks may lead

	Ini []string // --ini files read, in the order read (nested ones included), as given (with any :section)
	// Files is the content of every file the configuration read (ini
	// files, @(FILE)s, for-readline files), by absolute path: what a
	// master passes its workers in EnvFiles.
	Files map[string]string `json:"-"`
}

// NeedsMaster reports whether the options ask for a supervising master
// process: several workers, or a feature only a master provides.
func (c *Config) NeedsMaster() bool {
	return c.Master || c.Processes > 1 || c.Harakiri > 0 || c.MaxRequests > 0 ||
		c.MaxWorkerLifetime > 0 || c.ReloadOnRSS > 0 || c.EvilReloadOnRSS > 0 || len(c.TouchReload) > 0 || len(c.TouchLogReopen) > 0 ||
		c.PyAutoReload > 0 ||
		c.Stats != "" || len(c.MasterFifo) > 0 || len(c.Pidfiles()) > 0 || c.UID != "" || c.GID != "" || c.MasterAsRoot
}

// applyMount turns the one --mount /PREFIX=APP into the app to load and
// MountPoint.
func (c *Config) applyMount() error {
	switch len(c.Mount) {
	case 0:
		return nil
	case 1:
	default:
		return fmt.Errorf("config: --mount given %d times; carafe runs one app (mount several with a WSGI dispatcher such as Werkzeug's DispatcherMiddleware)", len(c.Mount))
	}
	prefix, app, ok := strings.Cut(c.Mount[0], "=")
	if !ok || !strings.HasPrefix(prefix, "/") || app == "" {
		return fmt.Errorf("config: --mount %q: want /PREFIX=APP", c.Mount[0])
	}
	if c.Module != "" || c.WSGIFile != "" || c.Paste != "" {
		return fmt.Errorf("config: --mount %q names the app, and so does --module, --wsgi-file or --paste; give one", c.Mount[0])
	}
	if strings.Contains(app, "/") || strings.HasSuffix(app, ".py") || strings.HasSuffix(app, ".wsgi") {
		c.WSGIFile = app
	} else {
		c.Module = app
	}
	c.MountPoint = strings.TrimRight(prefix, "/")
	return nil
}

// Pidfiles lists the pidfile options given, in the order they are written.
func (c *Config) Pidfiles() []Pidfile {
	var out []Pidfile
	for _, p := range []Pidfile{{c.Pidfile, false, false}, {c.SafePidfile, false, true},
		{c.Pidfile2, true, false}, {c.SafePidfile2, true, true}} {
		if p.Path != "" {
			out = append(out, p)
		}
	}
	return out
}

// Pidfile is one of the pidfile options.
type Pidfile struct {
	Path      string
	AfterDrop bool // written after dropping privileges (the *2 options)
	Atomic    bool // written to a temporary file and renamed (safe-*)
}

// EnvActivated names the variable that lists, as a JSON array, the
// addresses of the sockets systemd passed carafe (socket activation): the
// listeners when the configuration names none (HTTP for the short form,
// the uwsgi protocol otherwise). The master sets it for its
// own readings of the configuration and its workers'; a worker unsets it,
// as the app has no use for it.
const EnvActivated = "CARAFE_SYSTEMD_SOCKETS"

// activated reads EnvActivated's value; nil for none, or for a value not
// of carafe's making.
func activated(v string) []string {
	var addrs []string
	if v == "" || json.Unmarshal([]byte(v), &addrs) != nil {
		return nil
	}
	return addrs
}

// DefaultHTTP is the listener the short form (carafe module:callable) binds
// when no --http or --socket is given.
const DefaultHTTP = "127.0.0.1:8000"

// Default returns a Config with every option at the default in the table.
func Default() *Config {
	c := new(Config)
	for i := range table {
		o := &table[i]
		if o.Default == "" || o.Field == nil {
			continue
		}
		if err := o.set(c, o.Default, false); err != nil {
			panic(fmt.Sprintf("config: bad default for %s: %v", o.Name, err))
		}
	}
	return c
}

// bufferSizeForHTTP raises the HTTP limits on a request line and on a
// header field to a buffer-size given above them, unless they are given
// too: uWSGI's buffer-size bounds an HTTP request's head as well as a
// uwsgi packet, and a config that raised it for big cookies got 431 for a
// 12 KB Cookie here.
func (c *Config) bufferSizeForHTTP(given []setting) {
	set := map[string]bool{}
	for _, s := range given {
		set[s.opt.Name] = true
	}
	if !set["buffer-size"] {
		return
	}
	size := min(c.BufferSize, 65535)
	if !set["limit-request-field-size"] {
		c.LimitRequestFieldSize = max(c.LimitRequestFieldSize, size)
	}
	if !set["limit-request-line"] {
		c.LimitRequestLine = max(c.LimitRequestLine, size)
	}
}

// Parse reads args (os.Args[1:]) and the UWSGI_* variables of env, loading
// any ini files, and returns the validated configuration plus warnings (one
// line each, already formatted). env (KEY=VALUE, as os.Environ; nil means
// os.Environ) also expands $(VAR) in ini files. The environment's values
// come first (UWSGI_INI's file, then UWSGI_* over it), then the command
// line's, in their order, an ini file's where its flag stands, as uWSGI
// applies them. It returns [ErrHelp] or [ErrVersion] when
// args ask for them. An error found once the settings are read comes with
// the warnings so far: "unknown option modle (did you mean module)" is
// the story behind "no app given".
func Parse(args []string, env []string) (*Config, []string, error) {
	if env == nil {
		env = os.Environ()
	}
	vars := make(map[string]string, len(env))
	for _, kv := range env {
		if k, v, ok := strings.Cut(kv, "="); ok {
			vars[k] = v
		}
	}
	getenv := func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
	cl, err := parseArgs(args)
	if err != nil {
		return nil, nil, err
	}
	es, err := envSettings(env)
	if err != nil {
		return nil, nil, err
	}
	files, err := newConfigFiles(vars[EnvFiles], vars[EnvFilesFallback])
	if err != nil {
		return nil, nil, err
	}
	// As uWSGI applies them: the environment first (UWSGI_INI's file, then
	// the other UWSGI_* variables over it), then the command line in its
	// own order, an ini file's values where the flag that names it stands:
	// the last value given wins (--processes 2 --ini FILE, whose processes
	// is 4, runs 4, and --ini FILE --processes 2 runs 2).
	ld := loader{env: iniEnv{getenv: getenv, ph: newPlaceholders(env), files: files}, unknown: es.unknown}
	var layers [2][]setting               // the environment's ini files, the command line's
	read := make([]int, len(cl.settings)) // where each flag's ini values end in layers[1]
	for i, from := range [][]setting{es.settings, cl.settings} {
		for j, s := range from {
			if readsIni(s.opt) {
				ss, err := ld.loadSetting(s, 0)
				if err != nil {
					return nil, nil, err
				}
				layers[i] = append(layers[i], ss...)
			} else if i == 1 {
				ld.env.ph.setFlag(s)
			}
			if i == 1 {
				read[j] = len(layers[1])
			}
		}
	}
	ld.warnings = append(ld.warnings, ld.env.ph.resolveLater(layers[0])...)
	ld.warnings = append(ld.warnings, ld.env.ph.resolveLater(layers[1])...)
	ld.settings = slices.Concat(layers[0], layers[1])
	c := Default()
	c.Ini = ld.files
	c.Files = files.done
	order := slices.Concat(layers[0], es.settings)
	from := 0
	for j, s := range cl.settings { // the command line, its ini files' values in place
		order = append(append(order, s), layers[1][from:read[j]]...)
		from = read[j]
	}
	var bad []error // every such line at once, not one a run
	for _, s := range order {
		if err := s.apply(c); err != nil {
			bad = append(bad, err)
		}
	}
	if len(bad) > 0 {
		if _, err := ld.unknownLines(envCheaperOff(env)); err != nil {
			bad = append(bad, err) // the lines of features carafe lacks, named with them
		}
		return nil, nil, errors.Join(bad...)
	}
	c.bufferSizeForHTTP(order)
	if c.ShowConfig {
		c.Shown = showConfig(order)
	}
	warnings := append(ld.warnings, files.stale...)
	for _, s := range order {
		switch {
		case s.opt.Warn && (s.bare || !isOff(s.value)):
			warnings = append(warnings, fmt.Sprintf("carafe: %s%s is not applied: %s", s.where, s.name, s.opt.Doc))
		case s.wordForSwitch() && s.opt.Kind != KindNoop:
			warnings = append(warnings, fmt.Sprintf("carafe: %s%s = %s is not a word for on or off: uWSGI reads "+
				"it as on, and so does carafe (write true or false)", s.where, s.name, s.value))
		case s.wordForNumber():
			warnings = append(warnings, fmt.Sprintf("carafe: %s%s = %s is not a number: uWSGI reads it as 0, "+
				"and carafe leaves %s at its default, %s", s.where, s.name, s.value, s.opt.Name, s.opt.Default))
		case s.emptyNumber():
			warnings = append(warnings, fmt.Sprintf("carafe: %s%s has no value: uWSGI reads it as 0, "+
				"and carafe sets %s's default, %s", s.where, s.name, s.opt.Name, s.opt.Default))
		case s.keepaliveOn():
			warnings = append(warnings, fmt.Sprintf("carafe: %s%s = 1 is uWSGI's switch for keep-alive, on: carafe "+
				"keeps idle connections for its default, %s s (write 1.0 for one second)", s.where, s.name, s.opt.NoValue))
		}
	}
	cheaperOff := envCheaperOff(env)
	cheaperSaid := cheaperOff // (an empty UWSGI_CHEAPER= too)
	for _, s := range order {
		if s.opt.Name == "cheaper" {
			cheaperOff = !s.bare && isOff(s.value)
			cheaperSaid = true
		}
	}
	if !cheaperSaid {
		// uWSGI ignores them silently: a config that meant to scale with
		// the load but lost its cheaper line runs processes workers.
		for _, s := range order {
			if strings.HasPrefix(s.opt.Name, "cheaper-") {
				warnings = append(warnings, fmt.Sprintf("carafe: %s%s is not applied: no cheaper option "+
					"(the fewest workers to run) is given, so processes workers run all the time", s.where, s.name))
			}
		}
	}
	unknown, err := ld.unknownLines(cheaperOff)
	if err != nil {
		return nil, warnings, err
	}
	if c.Strict && len(unknown) > 0 { // every such line at once, not one a run
		var errs []error
		for _, u := range unknown {
			errs = append(errs, fmt.Errorf("config: %s", u))
		}
		return nil, warnings, errors.Join(errs...)
	}
	for _, u := range unknown {
		warnings = append(warnings, "carafe: "+u)
	}
	if err := c.applyMount(); err != nil {
		return nil, warnings, err
	}
	implied := len(c.HTTP) == 0 && len(c.Socket) == 0 // the listeners are carafe's choice
	if implied {
		// Sockets systemd passed, that no option names: HTTP's for the
		// short form, as Gunicorn serves on a .socket unit's; uwsgi's for
		// a uWSGI configuration (an ini, uWSGI's flags), as uWSGI does.
		if cl.positional != "" {
			c.HTTP = activated(vars[EnvActivated])
		} else {
			c.Socket = activated(vars[EnvActivated])
		}
	}
	if cl.positional != "" {
		if c.Module != "" || c.WSGIFile != "" || c.Paste != "" {
			return nil, warnings, fmt.Errorf("config: %q given as the app, but --module, --wsgi-file or --paste is also set; give only one", cl.positional)
		}
		c.Module = cl.positional
		if len(c.HTTP) == 0 && len(c.Socket) == 0 {
			c.HTTP = []string{DefaultHTTP}
			warnings = append(warnings, platformWarnings(env, order)...)
		}
	}
	if w := scriptNameWarning(env, c, cl.positional, implied); w != "" {
		warnings = append(warnings, w)
	}
	// Gunicorn's "-" (its --error-logfile and --access-logfile, which the
	// hints translate): stderr, where carafe logs anyway, and stdout.
	if c.LogTo == "-" {
		c.LogTo = ""
	}
	if c.ReqLogger == "file:-" {
		c.ReqLogger = "file:/dev/stdout"
	}
	// Gunicorn's --paste takes the ini file's path; PasteDeploy (and so
	// uWSGI's --paste) wants a URI.
	if p := c.Paste; p != "" && !strings.HasPrefix(p, "config:") && !strings.HasPrefix(p, "egg:") && !strings.HasPrefix(p, "call:") {
		c.Paste = "config:" + p
	}
	if path, ok := strings.CutPrefix(c.Logger, "file:"); ok && path != "" && c.LogTo == "" {
		c.LogTo = path
	}
	// uWSGI's stdio logger (`logger = stdio`, or a named one, `logger =
	// applogger stdio`) writes where carafe logs anyway.
	if isStdio(c.Logger) {
		c.Logger = ""
	}
	if isStdio(c.ReqLogger) {
		c.ReqLogger = ""
	}
	if c.Module != "" && c.WSGIFile != "" && c.Paste == "" {
		warnings = append(warnings, fmt.Sprintf("carafe: --wsgi-file %q is not loaded: --module %q is the app, "+
			"as in uWSGI, which loads the module and skips the file", c.WSGIFile, c.Module))
		c.WSGIFile = ""
	}
	if _, named, ok := strings.Cut(c.Module, ":"); ok && named != "" && c.Callable != "" && c.Callable != named {
		// Flask factory inis often say both (module = app:create_app()
		// with callable = app): uWSGI takes the module's and never reads
		// the other.
		warnings = append(warnings, fmt.Sprintf("carafe: --callable %q is not used: --module %q names the callable, "+
			"as uWSGI takes it", c.Callable, c.Module))
		c.Callable = ""
	}
	if c.Daemonize != "" && c.LogTo == "" {
		c.LogTo = c.Daemonize
	}
	merged := false
	if p := strings.ToLower(c.Protocol); p == "http" || p == "http11" {
		c.HTTP, c.Socket = append(c.HTTP, c.Socket...), nil
		merged = true
	}
	if err := c.Validate(); err != nil {
		return nil, warnings, placeErrors(err, order, merged)
	}
	c.normalize()
	return c, warnings, nil
}

// scriptNameWarning says that a SCRIPT_NAME in the environment, which
// Gunicorn takes for the prefix the app is mounted under, is not applied:
// a site moved as it was would answer 404 under its prefix, and build its
// links without it, with nothing in the log. After the short form
// (positional, the app's name) the advice is the whole command line's
// change: --mount takes the app's place, and the listeners carafe chose
// (implied: the short form's default address, or those systemd passed)
// have to be written out, as --mount alone gives none.
func scriptNameWarning(env []string, c *Config, positional string, implied bool) string {
	for _, kv := range env {
		v, ok := strings.CutPrefix(kv, "SCRIPT_NAME=")
		if !ok || v == "" || len(c.Mount) > 0 {
			continue
		}
		advice := fmt.Sprintf("give --mount %s=APP --manage-script-name", v)
		if positional != "" {
			var give []string
			if implied {
				for _, a := range c.HTTP {
					give = append(give, "--http", a)
				}
			}
			give = append(give, "--mount", v+"="+positional, "--manage-script-name")
			advice = fmt.Sprintf("give %s in place of %q", strings.Join(give, " "), positional)
		}
		return fmt.Sprintf("carafe: SCRIPT_NAME=%s in the environment is not applied (Gunicorn mounts the app there): %s", v, advice)
	}
	return ""
}

// platformWarnings says that PORT and WEB_CONCURRENCY, which Gunicorn
// reads (Heroku, Render, Railway and Cloud Run set PORT and check that
// the app listens there), are not read, for the short form with no
// listener given: a deploy otherwise fails its port check without a word.
func platformWarnings(env []string, order []setting) []string {
	var out []string
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, "PORT="); ok && v != "" {
			out = append(out, fmt.Sprintf("carafe: PORT=%s in the environment is not read (Gunicorn listens on 0.0.0.0:$PORT): "+
				"give --http 0.0.0.0:%s; carafe listens on %s", v, v, DefaultHTTP))
		}
		if v, ok := strings.CutPrefix(kv, "WEB_CONCURRENCY="); ok && v != "" &&
			!slices.ContainsFunc(order, func(s setting) bool { return s.opt.Name == "processes" }) {
			out = append(out, fmt.Sprintf("carafe: WEB_CONCURRENCY=%s in the environment is not read (Gunicorn starts that many workers): "+
				"give --processes %s", v, v))
		}
	}
	return out
}

// placeErrors names, in each of Validate's complaints ("config: --umask
// ..."), the ini line or environment variable that gave the option its
// value, as a value that does not parse is named. For a list that more
// than one place added to, the complaint's quoted value (--env "= x")
// finds its line. One set on the command line is left as it was; so is
// --http once protocol = http has added the --socket values to it.
func placeErrors(err error, order []setting, merged bool) error {
	where := map[string]string{}
	byValue := map[string]string{} // "name\x00value": where, for lists
	for _, s := range order {
		w := s.where
		if s.opt.Kind == KindList {
			byValue[s.opt.Name+"\x00"+s.value] = w
		}
		if prev, seen := where[s.opt.Name]; seen && s.opt.Kind == KindList && prev != w {
			w = ""
		}
		where[s.opt.Name] = w
	}
	if merged {
		where["http"] = ""
	}
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		rest, ok := strings.CutPrefix(l, "config: --")
		if !ok {
			continue
		}
		name, after, _ := strings.Cut(rest, " ")
		name = strings.TrimSuffix(name, ":")
		if name == "http" && merged {
			continue
		}
		w := where[name]
		if q, err := strconv.QuotedPrefix(after); w == "" && err == nil {
			if v, err := strconv.Unquote(q); err == nil {
				w = byValue[name+"\x00"+v]
			}
		}
		if w != "" {
			lines[i] = "config: " + w + "--" + rest
		}
	}
	return errors.New(strings.Join(lines, "\n"))
}

// PythonPathWarnings names the --pythonpath entries that are not there
// (a relative one is looked for under --chdir, as Python will): Python
// adds them all the same, and a Gunicorn-style list (/a,/b) was one path
// that matched nothing, without a word. Not among Parse's warnings: it
// looks at the file system, which the configuration may describe for
// another machine.
func (c *Config) PythonPathWarnings() []string {
	var ws []string
	for _, p := range c.PythonPath {
		full := p
		if !filepath.IsAbs(p) && c.Chdir != "" {
			full = filepath.Join(c.Chdir, p)
		}
		if _, err := os.Stat(full); err == nil || strings.ContainsAny(p, "*?[") {
			continue
		}
		w := fmt.Sprintf("carafe: --pythonpath %s: no such file or directory", p)
		// Gunicorn's list is split by commas, mod_wsgi's python-path= by
		// colons (PYTHONPATH's way).
		if strings.ContainsAny(p, ",:") {
			w += " (it takes one directory: give --pythonpath once for each)"
		}
		ws = append(ws, w)
	}
	return ws
}

// isStdio reports whether a --logger or --req-logger value is uWSGI's stdio
// logger, with or without a logger name before it.
func isStdio(logger string) bool {
	f := strings.Fields(logger)
	return len(f) > 0 && len(f) <= 2 && f[len(f)-1] == "stdio"
}

// showConfig lists the settings in the order they applied, as uWSGI's
// --show-config does: every flag, ini line and UWSGI_* variable, its
// placeholders expanded, a switch given bare as true. A value given empty
// (`pidfile =`) stays empty: read back, true would be a file named true.
func showConfig(order []setting) string {
	var b strings.Builder
	b.WriteString(";carafe instance configuration\n[uwsgi]\n")
	for _, s := range order {
		v := s.value
		switch {
		case s.bare && s.opt.NoValue != "":
			v = s.opt.NoValue // (chmod-socket alone is 666: true would not read back)
		case s.bare && (s.opt.Kind == KindBool || s.opt.Kind == KindNoop):
			v = "true"
		}
		fmt.Fprintf(&b, "%s = %s\n", s.opt.Name, v)
	}
	b.WriteString(";end of configuration")
	return b.String()
}
