package config

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"

	"carafe/internal/accesslog"
	"carafe/internal/httpfront"
	"carafe/internal/static"
)

// Validate reports every inconsistency in c, one "config: " line each,
// naming the option at fault. [Parse] has already called it.
func (c *Config) Validate() error {
	var errs []error
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("config: "+format, args...))
	}
	c.validateApp(fail)
	c.validateListeners(fail)
	c.validateNumbers(fail)
	if c.Optimize < 0 || c.Optimize > 2 {
		fail("--optimize %d: want 0, 1 or 2", c.Optimize)
	}
	for _, kv := range c.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			fail("--env %q: want KEY=VALUE", kv)
		}
	}
	for i, maps := range [][]string{c.StaticMap, c.StaticMap2, c.XAccelMap} {
		name := []string{"static-map", "static-map2", "x-accel-map"}[i]
		for _, m := range maps {
			if _, err := static.ParseMapping(name, m); err != nil {
				fail("%s", strings.TrimPrefix(err.Error(), "static: "))
			}
		}
	}
	for i, values := range c.StaticExpires {
		for _, v := range values {
			if _, err := static.ParseExpiresRule(ExpiresOptionNames[i], v); err != nil {
				fail("%s", strings.TrimPrefix(err.Error(), "static: "))
			}
		}
	}
	for _, d := range c.CheckStatic {
		if d == "" {
			fail("--check-static: empty directory")
		}
	}
	for _, e := range c.StaticSkipExt {
		if e == "" || strings.ContainsRune(e, '/') {
			fail("--static-skip-ext %q: want a file name ending such as .py", e)
		}
	}
	for _, h := range c.AddHeader {
		if name, value, ok := strings.Cut(h, ":"); !ok || !isToken(name) || !visible(strings.TrimSpace(value)) {
			fail("--add-header %q: want 'Name: value' (a header name, then printable text)", h)
		} else if strings.EqualFold(name, "content-length") || strings.EqualFold(name, "transfer-encoding") {
			fail("--add-header %q: carafe frames each response itself; a %s added to every one would "+
				"contradict it", h, name)
		}
	}
	for _, p := range c.PythonPath {
		if p == "" {
			fail("--pythonpath: empty directory")
		}
	}
	for _, f := range c.MasterFifo {
		if f == "" {
			fail("--master-fifo: empty file name")
		}
	}
	if len(c.MasterFifo) > 10 {
		fail("--master-fifo given %d times: at most 10, for the commands 0 to 9 that switch between them", len(c.MasterFifo))
	}
	return errors.Join(errs...)
}

func (c *Config) validateApp(fail func(string, ...any)) {
	var given []string
	for _, a := range []struct{ name, value string }{{"--module", c.Module}, {"--wsgi-file", c.WSGIFile}, {"--paste", c.Paste}} {
		if a.value != "" {
			given = append(given, fmt.Sprintf("%s %q", a.name, a.value))
		}
	}
	switch {
	case len(given) == 0:
		fail("no app given: use --module MOD[:CALLABLE], --wsgi-file PATH, --paste config:FILE, or carafe MOD:CALLABLE")
		return
	case len(given) == 2:
		fail("%s are both set; give one", strings.Join(given, " and "))
		return
	case len(given) > 2:
		fail("%s are all set; give one", strings.Join(given, " and "))
		return
	case c.PasteLogger && c.Paste == "":
		fail("--paste-logger needs --paste")
		return
	case c.PasteLogger && !strings.HasPrefix(c.Paste, "config:"):
		fail("--paste-logger reads the logging sections of a config: file; --paste %q names none", c.Paste)
		return
	case c.Paste != "" && c.Callable != "":
		fail("--callable %q does not apply to --paste: the app is what PasteDeploy builds", c.Callable)
		return
	case c.Module == "":
		return
	}
	mod, callable, hasCallable := strings.Cut(c.Module, ":")
	switch {
	case strings.ContainsAny(c.Module, " \t\r\n"), mod == "", hasCallable && callable == "":
		fail("--module %q: want a module name, optionally followed by :callable", c.Module)
	case strings.HasSuffix(mod, ".py") || strings.ContainsRune(mod, '/'):
		fail("--module %q looks like a file path; use --wsgi-file for files", c.Module)
	case !isDottedName(mod):
		fail("--module %q: %q is not a Python module name", c.Module, mod)
	case hasCallable && !callableName(callable):
		fail("--module %q: %q is not a callable's name, nor a factory's call without arguments (%s:create_app())",
			c.Module, callable, mod)
	}
	if c.Callable != "" && !callableName(c.Callable) {
		fail("--callable %q is not a Python name, nor a factory's call without arguments (create_app())", c.Callable)
	}
}

// callableName reports whether s names the app in its module: a name, or
// a factory's call without arguments ("create_app()", which uWSGI and
// Gunicorn call once to get the app).
func callableName(s string) bool {
	s = strings.TrimSuffix(s, "()")
	return s != "" && !strings.ContainsAny(s, " \t\r\n:()'\",")
}

func (c *Config) validateListeners(fail func(string, ...any)) {
	if len(c.HTTP) == 0 && len(c.Socket) == 0 {
		fail("no listener: give --http ADDR or --socket ADDR")
	}
	seen := make(map[string]string)
	check := func(opt, addr string) {
		key := spelledOut(addr)
		if prev, dup := seen[key]; dup {
			fail("%s %q: address already given to %s", opt, addr, prev)
			return
		}
		seen[key] = opt
		if err := checkAddr(addr); err != nil {
			fail("%s %q: %v", opt, addr, err)
		}
	}
	for _, a := range c.HTTP {
		check("--http", a)
	}
	for _, a := range c.Socket {
		check("--socket", a)
	}
	if c.Stats != "" {
		check("--stats", c.Stats)
	}
	if c.Umask != "" {
		if m, err := strconv.ParseUint(c.Umask, 8, 32); err != nil || m > 0o777 {
			fail("--umask %q: want an octal mask such as 022", c.Umask)
		}
	}
	if p := strings.ToLower(c.Protocol); p != "" && p != "uwsgi" && p != "http" && p != "http11" {
		fail("--protocol %q: carafe speaks uwsgi or http", c.Protocol)
	}
	if c.ChownSocket != "" {
		if name, group, hasGroup := strings.Cut(c.ChownSocket, ":"); name == "" || hasGroup && group == "" {
			fail("--chown-socket %q: want USER or USER:GROUP", c.ChownSocket)
		}
	}
	if c.LogFormat != "" {
		if _, err := accesslog.ParseFormat(c.LogFormat, 0, 0); err != nil {
			fail("--%v", err)
		}
	}
	if c.LogFileChmod != "" {
		if m, err := strconv.ParseUint(c.LogFileChmod, 8, 32); err != nil || m > 0o777 {
			fail("--logfile-chmod %q: want an octal mode such as 640", c.LogFileChmod)
		}
	}
	if c.ChmodSocket != "" {
		if m, err := strconv.ParseUint(c.ChmodSocket, 8, 32); err != nil || m > 0o777 {
			fail("--chmod-socket %q: want an octal mode such as 660", c.ChmodSocket)
		}
	}
}

// isDottedName reports whether s is a dotted Python name (pkg.mod).
func isDottedName(s string) bool {
	for part := range strings.SplitSeq(s, ".") {
		if part == "" {
			return false
		}
		for i, r := range part {
			if r != '_' && !unicode.IsLetter(r) && (i == 0 || !unicode.IsDigit(r)) {
				return false
			}
		}
	}
	return true
}

// checkAddr accepts host:port (host may be empty, a name, an IPv4 address or
// a bracketed IPv6 one) and a unix socket path: one containing '/', or, as
// uWSGI reads an address without a colon, a file name (app.sock), which
// normalize makes ./app.sock. A number, an IP address or localhost alone
// is refused: a host:port missing a part was meant, not a file.
func checkAddr(addr string) error {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok { // Gunicorn's spelling
		return fmt.Errorf("write the socket path alone: %s", path)
	}
	if strings.HasPrefix(addr, "@") {
		// uWSGI binds a Linux abstract socket there. It has no file, so no
		// permissions: any local user may connect (and, on a uwsgi socket,
		// set every CGI variable, REMOTE_ADDR included).
		return errors.New("an abstract unix socket (@NAME) is not supported: it has no permissions, " +
			"so any local user could connect; give a path (/run/carafe/app.sock) with --chmod-socket")
	}
	if strings.ContainsRune(addr, '/') {
		return nil
	}
	if !strings.ContainsRune(addr, ':') && strings.Trim(addr, "0123456789") != "" &&
		net.ParseIP(addr) == nil && addr != "localhost" {
		return nil
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return errors.New("want host:port, or :port for all interfaces")
	}
	if n, err := strconv.ParseUint(port, 10, 16); err != nil || (n == 0 && port != "0") {
		return fmt.Errorf("invalid port %q", port)
	}
	if strings.ContainsAny(host, " \t\r\n") {
		return fmt.Errorf("invalid host %q", host)
	}
	return nil
}

func (c *Config) validateNumbers(fail func(string, ...any)) {
	between := func(opt string, v, lo, hi int) {
		if v < lo || v > hi {
			fail("%s must be between %d and %d, got %d", opt, lo, hi, v)
		}
	}
	atLeast := func(opt string, v, lo int) {
		if v < lo {
			fail("%s must be at least %d, got %d", opt, lo, v)
		}
	}
	positive := func(opt string, v float64) {
		if v <= 0 {
			fail("%s must be a positive number of seconds, got %g", opt, v)
		}
	}
	between("--processes", c.Processes, 1, 4096) // (each a process with its interpreter: more is a typo)
	between("--threads", c.Threads, 1, 512)
	c.validateCheaper(fail, atLeast)
	atLeast("--buffer-size", c.BufferSize, 1)
	atLeast("--harakiri", c.Harakiri, 0)
	atLeast("--harakiri-graceful-timeout", c.HarakiriGrace, 0)
	atLeast("--max-requests", c.MaxRequests, 0)
	atLeast("--reload-on-rss", c.ReloadOnRSS, 0)
	atLeast("--evil-reload-on-rss", c.EvilReloadOnRSS, 0)
	atLeast("--log-maxsize", c.LogMaxSize, 0)
	atLeast("--log-slow", c.LogSlow, 0)
	atLeast("--max-fd", c.MaxFD, 0)
	atLeast("--log-big", c.LogBig, 0)
	if c.Logger != "" {
		if path, ok := strings.CutPrefix(c.Logger, "file:"); !ok || path == "" || strings.Contains(path, "=") {
			fail("--logger %q: carafe logs to a file (file:FILE) or to stderr; other uWSGI loggers are not available", c.Logger)
		} else if path != c.LogTo {
			fail("--logger %q and --logto %q name different files; give one", c.Logger, c.LogTo)
		}
	}
	if path, ok := strings.CutPrefix(c.ReqLogger, "file:"); c.ReqLogger != "" && (!ok || path == "" || strings.Contains(path, "=")) {
		fail("--req-logger %q: want file:FILE", c.ReqLogger)
	}
	if c.LogMaxSize > 0 && c.LogTo == "" {
		fail("--log-maxsize %d needs --logto FILE: without it the log goes to stderr, and there is no file to rotate", c.LogMaxSize)
	}
	atLeast("--max-requests-delta", c.MaxRequestsDelta, 0)
	atLeast("--static-max-age", c.StaticMaxAge, 0)
	atLeast("--max-worker-lifetime", c.MaxWorkerLifetime, 0)
	atLeast("--max-worker-lifetime-delta", c.MaxLifetimeDelta, 0)
	atLeast("--py-autoreload", c.PyAutoReload, 0)
	atLeast("--worker-reload-mercy", c.WorkerReloadMercy, 1)
	atLeast("--limit-request-line", c.LimitRequestLine, 1)
	atLeast("--limit-request-fields", c.LimitRequestFields, 1)
	atLeast("--limit-request-field-size", c.LimitRequestFieldSize, 1)
	if c.LimitPost < 0 {
		fail("--limit-post must be at least 0, got %d", c.LimitPost)
	}
	positive("--http-header-timeout", c.HTTPHeaderTimeout)
	positive("--http-timeout", c.HTTPTimeout)
	positive("--socket-timeout", c.SocketTimeout)
	if _, err := httpfront.ParseProxyTrust(c.ForwardedAllowIPs); err != nil {
		fail("--forwarded-allow-ips: %v", err)
	}
	if c.HTTPKeepalive < 0 {
		fail("--http-keepalive must be at least 0, got %g", c.HTTPKeepalive)
	}
}

// normalize spells out uWSGI's ":port", which means every IPv4 interface,
// and its unix socket named by a bare file name, so that code binding the
// address need not know the conventions; and, as uWSGI does, it replaces a
// --pythonpath glob pattern (/usr/local/lib*/site-packages) by the paths
// it matches, keeping one that matches nothing as written.
func (c *Config) normalize() {
	for i, a := range c.HTTP {
		c.HTTP[i] = spelledOut(a)
	}
	for i, a := range c.Socket {
		c.Socket[i] = spelledOut(a)
	}
	c.Stats = spelledOut(c.Stats)
	var paths []string
	for _, p := range c.PythonPath {
		if m, err := filepath.Glob(p); err == nil && len(m) > 0 && strings.ContainsAny(p, "*?[") {
			paths = append(paths, m...)
		} else {
			paths = append(paths, p)
		}
	}
	c.PythonPath = paths
}

// spelledOut is addr as normalize leaves it: :8000 is 0.0.0.0:8000, and
// app.sock (no colon, no '/') is the unix socket ./app.sock.
func spelledOut(addr string) string {
	switch {
	case strings.HasPrefix(addr, ":"):
		return "0.0.0.0" + addr
	case addr != "" && !strings.ContainsAny(addr, ":/"):
		return "./" + addr
	}
	return addr
}

// isToken reports whether s is an RFC 9110 token (a header name).
func isToken(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
			strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return s != ""
}

// visible reports whether s has no control bytes (CR and LF above all).
func visible(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < ' ' && c != '\t' || c == 0x7f {
			return false
		}
	}
	return true
}

// validateCheaper checks --cheaper and its family, as uWSGI does: the
// minimum below --processes, the initial number between the two.
func (c *Config) validateCheaper(fail func(string, ...any), atLeast func(string, int, int)) {
	atLeast("--cheaper", c.Cheaper, 0)
	if c.Cheaper == 0 {
		return
	}
	if c.Cheaper >= c.Processes {
		fail("--cheaper %d must be below --processes %d (the most workers it may run); give --processes "+
			"the maximum, or cheaper = 0 for a fixed number", c.Cheaper, c.Processes)
	}
	if c.CheaperInitial != 0 && (c.CheaperInitial < c.Cheaper || c.CheaperInitial > c.Processes) {
		fail("--cheaper-initial %d must be between --cheaper %d and --processes %d", c.CheaperInitial, c.Cheaper, c.Processes)
	}
	if c.ReusePort && (len(c.HTTP) > 0 || len(c.Socket) > 0) {
		// The group would hold another server's sockets, which carafe
		// cannot steer around: the sockets of the workers it does not
		// run would take connections nobody accepts.
		fail("--cheaper cannot be used with --reuse-port: give a fixed --processes")
	}
	atLeast("--cheaper-step", c.CheaperStep, 1)
	atLeast("--cheaper-overload", c.CheaperOverload, 1)
	atLeast("--cheaper-idle", c.CheaperIdle, 1)
	atLeast("--cheaper-busyness-multiplier", c.CheaperBusyMult, 1)
	atLeast("--cheaper-rss-limit-soft", c.CheaperRSSSoft, 0)
	atLeast("--cheaper-rss-limit-hard", c.CheaperRSSHard, 0)
	if c.CheaperBusyMin < 0 || c.CheaperBusyMax > 100 || c.CheaperBusyMin >= c.CheaperBusyMax {
		fail("--cheaper-busyness-min %d and --cheaper-busyness-max %d must be percentages, the min below the max",
			c.CheaperBusyMin, c.CheaperBusyMax)
	}
	switch c.CheaperAlgo {
	case "spare", "spare2", "busyness":
	case "backlog", "manual":
		fail("--cheaper-algo %s is not available: use spare, spare2 or busyness", c.CheaperAlgo)
	default:
		fail("--cheaper-algo %q: want spare, spare2 or busyness", c.CheaperAlgo)
	}
}
