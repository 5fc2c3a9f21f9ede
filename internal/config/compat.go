package config

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// compatOptions are uWSGI options that are harmless in carafe: accepted,
// and ignored for the reason each Doc gives.
var compatOptions = []Option{
	{
		Name: "die-on-term", Kind: KindBool, Section: secCompat,
		Field: func(c *Config) any { return &c.DieOnTerm },
		Doc: "Accepted and recorded, with no effect: in carafe SIGTERM always means a graceful shutdown " +
			"(in uWSGI without this option it means reload), and SIGQUIT an immediate one (uWSGI 2.0 " +
			"with this option reloads on SIGQUIT): send SIGHUP to reload.",
	},
	noop("enable-threads", "T", "carafe always enables Python threads; --threads decides how many run the app."),
	noop("ignore-sigpipe", "", "A write to a client that went away never kills a carafe worker; it is handled as a failed write."),
	noop("ignore-write-errors", "", "It only silences uWSGI's log lines about writes to clients that went away; carafe handles those itself."),
	noop("disable-write-exception", "", "It only changes how uWSGI reports writes to clients that went away; carafe stops such a response and still calls its close()."),
	noop("single-interpreter", "i", "Every carafe worker runs exactly one interpreter, the main one."),
	noop("need-app", "", "carafe always exits non-zero, with the traceback, when the app fails to load."),
	noop("lazy-apps", "", "carafe workers always import the app themselves (uWSGI's lazy-apps behaviour); the master never runs Python."),
	noop("lazy", "", "Old name of lazy-apps: carafe workers always import the app themselves."),
	noop("thunder-lock", "", "It only serialises accept() between uWSGI workers; carafe accepts connections in Go and has no such lock."),
	noop("memory-report", "m", "It only adds memory figures to uWSGI's request log; carafe's request log has none."),
	{
		Name: "offload-threads", Aliases: []string{"offload-thread"}, Kind: KindNoop, Metavar: "N", Section: secCompat, Check: atLeast(0, "a number"),
		Doc: "Go writes responses and serves static files and X-Sendfile without a Python thread or the GIL; " +
			"there is nothing to offload.",
	},
	noop("harakiri-verbose", "", "carafe always logs the stuck request and its thread's Python traceback on harakiri."),
	noop("no-orphans", "", "carafe workers always die with their master: the kernel kills them, even after a kill -9 of the master."),
	noop("tcp-nodelay", "", "Every accepted TCP connection already has TCP_NODELAY (Nagle's algorithm off), as Go sets it."),
	noop("so-keepalive", "", "carafe sends no TCP keep-alive probes: its own timeouts (a request head's, each read's and write's, the idle keep-alive) already close a connection whose client went away, so probes would find nothing more."),
	noop("stats-http", "", "The stats server answers an HTTP request with an HTTP response and any other client with the bare "+
		"JSON, so it needs no option."),
	{
		Name: "listen", Short: "l", Kind: KindNoop, Metavar: "N", Section: secCompat, Check: atLeast(1, "a positive number of connections"),
		Doc: "carafe always listens with the largest backlog the kernel allows (net.core.somaxconn, 4096 on " +
			"current kernels); to queue more connections raise that sysctl, as uWSGI also requires.",
	},
	{
		Name: "log-date", Aliases: []string{"logdate"}, Kind: KindNoop, Metavar: "FORMAT", NoValue: "on", Section: secCompat,
		Check: anyValue,
		Doc: "carafe's request lines always begin with the date and time, and its own lines carry them " +
			"(`time=`; both ISO 8601 in local time, with the UTC offset), so there is nothing to add; a strftime FORMAT is accepted and " +
			"not used, and what the app prints is written as it is.",
	},
	noop("logfile-chown", "", "carafe always gives the log files to the --uid/--gid user when it drops privileges (the "+
		"workers open them by name as that user), as it does the unix sockets; a symbolic link or a file "+
		"of several names is left to its owner (and said so), since root handing it over could give away "+
		"another file."),
	noop("log-master", "", "Every carafe process writes whole lines to the log itself (a file opened for appending, or "+
		"the inherited stderr), so there is no logging process or thread to delegate to."),
	{
		Name: "log-master-bufsize", Kind: KindNoop, Metavar: "BYTES", Section: secCompat, Check: atLeast(0, "a number of bytes"),
		Doc: "There is no logging process (see log-master): each line is written whole, however long, by the " +
			"process that has it.",
	},
	noop("log-master-stream", "", "There is no logging process (see log-master)."),
	noop("log-master-req-stream", "", "There is no logging process (see log-master)."),
	noop("threaded-logger", "", "Every carafe process writes whole lines to the log itself; there is no logger thread."),
	noop("log-reopen", "", "carafe always reopens the --logto file on a reload (SIGHUP): the master reopens it, and "+
		"the new workers open it by name."),
	noop("close-on-exec", "", "Every socket carafe holds (listeners, client connections) is already close-on-exec, so "+
		"a program the app runs inherits none of them."),
	noop("close-on-exec2", "", "Every socket carafe holds is already close-on-exec (see close-on-exec)."),
	withAliases(noop("py-call-osafterfork", "", "carafe never forks a process that has imported the app (each worker "+
		"is a fresh process that imports it), so there are no after-fork hooks to run."), "py-callos-afterfork"),
	noop("http-auto-chunked", "", "carafe's HTTP/1.1 front end always sends a response of unknown length chunked, "+
		"and keeps the connection."),
	{
		Name: "file-serve-mode", Aliases: []string{"fileserve-mode"}, Kind: KindNoop, Metavar: "MODE", Section: secCompat,
		Check: anyValue,
		Doc: "carafe serves the files of --static-map and --check-static itself, with sendfile from Go and no " +
			"Python thread, where this option (x-accel-redirect, x-sendfile) has uWSGI answer with a header " +
			"for the web server in front to send the file: the client gets the same file either way. The " +
			"app's own X-Sendfile and X-Accel-Redirect headers pass through to that server unless " +
			"--x-sendfile-dir or --x-accel-redirect (or --x-accel-map) is given.",
	},
	noop("log-micros", "", "carafe's request lines already give the response time in milliseconds to the microsecond "+
		"(`12.345ms`)."),
	{
		Name: "thread-stacksize", Aliases: []string{"threads-stacksize", "thread-stack-size", "threads-stack-size"},
		Kind: KindNoop, Metavar: "KB", Section: secCompat, Check: atLeast(0, "a number of kilobytes"),
		Doc: "carafe's Python threads run with the system's default thread stack (`ulimit -s`, 8 MiB on " +
			"Debian), larger than what uWSGI is usually given; the value is accepted and not used, and so is " +
			"the app's own `threading.stack_size()` (carafe's Python threads are started by the Go runtime, with the system's default). A recursion deeper " +
			"than 8 MiB allows, which crashes the worker, needs a larger `ulimit -s` where carafe starts " +
			"(`LimitSTACK=` under systemd).",
	},
	{
		Name: "wsgi-env-behavior", Aliases: []string{"wsgi-env-behaviour"}, Kind: KindNoop, Metavar: "holy|cheat",
		Section: secCompat, Check: func(v string) error {
			if v := strings.TrimSpace(v); v != "holy" && v != "cheat" {
				return fmt.Errorf("want holy or cheat, got %q", v)
			}
			return nil
		},
		Doc: "carafe gives every request an environ dict of its own (uWSGI's `holy`), so an app that keeps " +
			"environ past its request sees it unchanged; `cheat` is accepted and means the same.",
	},
	{
		Name: "hook-master-start", Kind: KindNoop, Metavar: "'unix_signal:15 gracefully_kill_them_all'",
		Section: secCompat, Check: signalHook,
		Doc: "The hook container configs add so that SIGTERM stops uWSGI gracefully " +
			"(`unix_signal:15 gracefully_kill_them_all`) is what carafe always does; so is " +
			"`unix_signal:2 kill_them_all` (or 3: SIGINT, SIGQUIT stop at once). Other hooks are refused: " +
			"carafe runs no commands (use systemd's ExecStartPre=).",
	},
	{
		Name: "plugins-dir", Aliases: []string{"plugin-dir"}, Kind: KindNoop, Metavar: "DIR", Section: secCompat,
		Check: anyValue,
		Doc:   "carafe loads no plugins: Python and HTTP are built in.",
	},
	{
		Name: "min-worker-lifetime", Kind: KindNoop, Metavar: "SECONDS", Section: secCompat, Check: atLeast(0, "a number of seconds"),
		Doc: "carafe restarts a worker that keeps dying young with a growing delay (100 ms doubling to 10 s; " +
			"a worker that lived 10 s resets it), so a crash loop does not spin; the value is not used.",
	},
	noop("auto-procname", "", "carafe does not rewrite process titles. Its workers carry their master's command "+
		"name, so `pgrep carafe`, `killall carafe` and `ps -o comm` find them; the stats server lists each worker's id and pid."),
	{
		Name: "procname-prefix", Aliases: []string{"procname-prefix-spaced", "procname-append", "procname", "procname-master"},
		Kind: KindNoop, Metavar: "TEXT", Section: secCompat, Check: anyValue,
		Doc: "carafe does not rewrite process titles (see auto-procname); the text is accepted and not used.",
	},
	{
		Name: "plugin", Aliases: []string{"plugins", "need-plugin", "need-plugins"}, Kind: KindNoop, Metavar: "NAMES", Section: secCompat,
		Check: checkPlugins,
		Doc: "Only `python`, `python3` (or a versioned `python3NN`), `http` and `logfile` are accepted, " +
			"comma-separated: carafe has Python, HTTP and file logging built in. Any other plugin is an error.",
	},
}

// anyValue is the Check of a noop option whose value carafe does not use.
func anyValue(string) error { return nil }

func noop(name, short, why string) Option {
	return Option{Name: name, Short: short, Kind: KindNoop, Section: secCompat, Doc: why}
}

// signalHook accepts the hook-master-start values that map a signal to
// what carafe does with it anyway.
func signalHook(v string) error {
	if i := strings.IndexAny(v, ";#"); i > 0 && (v[i-1] == ' ' || v[i-1] == '\t') {
		v = v[:i] // an end-of-line comment
	}
	switch strings.Join(strings.Fields(v), " ") {
	case "unix_signal:15 gracefully_kill_them_all", "unix_signal:2 kill_them_all", "unix_signal:3 kill_them_all":
		return nil
	}
	return fmt.Errorf("%q: carafe runs no hooks; it accepts only the signal mappings it has anyway "+
		"(unix_signal:15 gracefully_kill_them_all, unix_signal:2 or 3 kill_them_all)", v)
}

// atLeast checks a whole number of at least min; want says what is wanted.
func atLeast(min int, want string) func(string) error {
	return func(value string) error {
		if n, err := strconv.Atoi(strings.TrimSpace(value)); err != nil || n < min {
			return fmt.Errorf("want %s, got %q", want, value)
		}
		return nil
	}
}

// harmlessPlugin matches the plugins carafe has built in: Python, HTTP, and
// the file logger (Debian's and Fedora's uWSGI need it for logger = file:).
var harmlessPlugin = regexp.MustCompile(`^(python[0-9]*|http|logfile)$`)

func checkPlugins(value string) error {
	for p := range strings.SplitSeq(value, ",") {
		p = strings.TrimSpace(p)
		if p == "" || harmlessPlugin.MatchString(p) {
			continue
		}
		return fmt.Errorf("plugin %q is not available in carafe: only python (python3, python311, ...), http and logfile are built in; remove it", p)
	}
	return nil
}

// warnedOptions are uWSGI limits carafe does not apply, where refusing the
// config would be worse than running without them: carafe starts, and says
// at start that the option is not applied and what to use instead.
var warnedOptions = []Option{
	warned("limit-as", "MB", "A Go worker reserves far more address space than it ever touches, so a limit on it "+
		"would stop workers at start; cap memory with --reload-on-rss and --evil-reload-on-rss (or systemd's MemoryMax=). "+
		"The same goes for a limit carafe inherits (ulimit -v, systemd's LimitAS=, often left in units written for "+
		"uWSGI): one of 600 MB (once even 1.2 GB) stopped carafe at its start with the Go runtime's \"failed to reserve page summary "+
		"memory\" or \"out of memory\"; remove it."),
	warned("reload-on-as", "MB", "A Go worker's address space is mostly reserved and never used; recycle on "+
		"resident memory with --reload-on-rss."),
	warned("evil-reload-on-as", "MB", "A Go worker's address space is mostly reserved and never used; cap "+
		"resident memory with --evil-reload-on-rss."),
	warned("cpu-affinity", "N", "Pin the service with systemd's CPUAffinity= or taskset; measured here, pinning each "+
		"worker to a CPU made no request faster."),
	warned("cheaper-busyness-penalty", "N", "carafe's busyness algorithm does not lengthen the wait after a worker it stopped is soon needed again."),
	warned("cheaper-busyness-verbose", "", "carafe logs each worker it adds or stops, with the load that decided it."),
	warned("cheaper-busyness-backlog-alert", "N", noBacklog),
	warned("cheaper-busyness-backlog-multiplier", "N", noBacklog),
	warned("cheaper-busyness-backlog-step", "N", noBacklog),
	warned("cheaper-busyness-backlog-nonzero", "SECONDS", noBacklog),
	warned("py-tracebacker", "SOCKET", "There is no tracebacker socket: send the master SIGUSR2, and every worker "+
		"logs which request each busy thread runs and every Python thread's stack."),
	// Seen in real inis (a differential run of 37), where they were only an
	// unknown option, which said nothing of what changes.
	warned("honour-stdin", "", "A worker's stdin is /dev/null: pdb's prompt needs a terminal; debug with the "+
		"framework's development server (flask run, manage.py runserver)."),
	warned("freebind", "", "Listeners bind only addresses the machine has; order the service after the address "+
		"comes up (systemd: After=network-online.target), or set net.ipv4.ip_nonlocal_bind."),
	warned("so-send-timeout", "SECONDS", "--http-timeout bounds how long a response may make no progress."),
	warned("chunked-input-timeout", "SECONDS", "--http-timeout bounds the wait for each read of a request body, "+
		"chunked or not."),
	warned("post-buffering-bufsize", "BYTES", "--post-buffering keeps a body in memory up to its own size and "+
		"spills the rest to an unlinked temp file."),
	warned("catch-exceptions", "", "An app's traceback goes to the log, never to the client: the client gets a "+
		"plain 500."),
	warned("reload-os-env", "", "The workers take the environment carafe was started with and the --env values; "+
		"restart the service to change it."),
	warned("skip-atexit", "", "carafe runs the app's atexit handlers when a worker stops, as Python does."),
}

// noBacklog: carafe's cheaper algorithms do not look at the listen queue.
const noBacklog = "carafe's cheaper algorithms do not look at the sockets' queues: connections waiting there " +
	"mean the workers are busy, which adds workers anyway."

// warned is an option carafe accepts and does not apply, said at start;
// one without a metavar is a switch, which takes no value on the command
// line (with a Check it took the next argument as its value).
func warned(name, metavar, instead string) Option {
	o := Option{Name: name, Kind: KindNoop, Metavar: metavar, Section: secWarned, Warn: true,
		Check: anyValue, Doc: instead}
	if metavar == "" {
		o.Check = nil
	}
	return o
}

// unsupportedOptions are well-known uWSGI features carafe does not have.
// They are rejected, never ignored; each Doc says what to do instead.
var unsupportedOptions = []Option{
	unsupported("emperor", "Run one carafe per app under systemd (or another supervisor) instead."),
	unsupported("spooler", "There is no spooler; use a task queue (Celery, RQ, Dramatiq)."),
	unsupported("spooler-processes", "There is no spooler; use a task queue (Celery, RQ, Dramatiq)."),
	unsupported("spooler-import", "There is no spooler; use a task queue (Celery, RQ, Dramatiq)."),
	unsupported("pymodule-alias", "Modules are imported by their own names: import the module under the name "+
		"the code uses, or add a shim module of that name on --pythonpath."),
	unsupported("mule", "There are no mules; run background work as its own service."),
	unsupported("mules", "There are no mules; run background work as its own service."),
	unsupported("farm", "There are no mules or farms; run background work as its own service."),
	unsupported("attach-daemon", noDaemons),
	unsupported("smart-attach-daemon", noDaemons),
	unsupported("cron", noCron),
	unsupported("route", noRouting),
	unsupported("route-run", noRouting),
	unsupported("route-host", noRouting),
	unsupported("response-route", noRouting),
	unsupported("async", "carafe serves concurrency with --threads; uWSGI's async loop engines are not available."),
	unsupported("gevent", "carafe serves concurrency with --threads; gevent is not supported, and an app that monkey-patches threading (gevent.monkey.patch_all, eventlet.monkey_patch) as it loads is warned of at the start: the threads it starts then hardly ever run."),
	unsupported("ugreen", "carafe serves concurrency with --threads; uGreen is not supported."),
	unsupported("https", noTLS),
	unsupported("http-to", "There is no HTTP router process; carafe's workers speak HTTP themselves (--http)."),
	unsupported("http-websockets", "WebSockets are not supported."),
	unsupported("fastrouter", "There are no routers; use nginx."),
	unsupported("subscribe-to", "There are no subscription servers."),
	unsupported("cache2", "There is no shared cache; use Redis or memcached."),
	withAliases(unsupported("yaml", "carafe reads ini files only (--ini FILE); uWSGI's YAML, JSON and XML configs "+
		"say the same in ini form, one key = value a line."), "yml"),
	withAliases(unsupported("json", "carafe reads ini files only (--ini FILE); uWSGI's YAML, JSON and XML configs "+
		"say the same in ini form, one key = value a line."), "js"),
	unsupported("xml", "carafe reads ini files only (--ini FILE); uWSGI's YAML, JSON and XML configs "+
		"say the same in ini form, one key = value a line."),
	unsupported("early-envdir", "Use --envdir (read as the workers start), or systemd's EnvironmentFile=, "+
		"whose variables $(VAR) in the config sees."),
	unsupported("fs-reload", "Use --touch-reload FILE (the master looks at it once a second), or --py-autoreload."),
	unsupported("touch-exec", noCommands),
	unsupported("touch-signal", "There are no uWSGI signals; --touch-reload and --touch-logreopen cover "+
		"the reload and the log."),
	unsupported("touch-logrotate", "Rotate with --log-maxsize, or let logrotate move the file and use "+
		"--touch-logreopen (or SIGUSR1)."),
	unsupported("reload-on-exception", "A carafe worker logs an exception the app raises, answers 500 and "+
		"serves on; recycle workers with --max-requests or --reload-on-rss."),
	unsupported("wait-for-fs", noWaitFor),
	unsupported("wait-for-file", noWaitFor),
	unsupported("wait-for-dir", noWaitFor),
	unsupported("wait-for-mountpoint", noWaitFor),
	unsupported("wait-for-socket", noWaitFor),
	unsupported("log-encoder", noLogPlugins),
	unsupported("log-route", noLogPlugins),
	unsupported("log-syslog", noLogPlugins),
	unsupported("log-prefix", noLogPlugins),
	unsupported("log-socket", noLogPlugins),
	unsupported("log-req-encoder", noLogPlugins+" A --log-format that is a JSON object ({...}) makes JSON lines, "+
		"its values escaped as JSON strings."),
	unsupported("log-req-route", noLogPlugins),
	unsupported("log-drain", noLogFilters),
	unsupported("log-filter", noLogFilters),
	unsupported("log-alarm", "There are no alarms; have the log shipper or journald's consumers watch for the lines."),
	withAliases(unsupported("logger-list", "carafe has one logger: the log file (--logto) or stderr."), "loggers-list"),
	withAliases(unsupported("logformat-strftime", "%(ltime) (and %(ftime), the same) is Apache's time "+
		"(02/Jan/2006:15:04:05 -0700); %(time), %(tmsecs), %(ctime) give others."), "log-format-strftime"),
	unsupported("log-truncate", "carafe appends to the log; empty it before the start (ExecStartPre=) or "+
		"rotate it (--log-maxsize, logrotate)."),
	unsupported("vhost", noVhosts),
	unsupported("no-default-app", noVhosts),
	unsupported("ignore-script-name", noVhosts),
	unsupported("error-page-403", noErrorPages),
	unsupported("error-page-404", noErrorPages),
	unsupported("error-page-500", noErrorPages),
	unsupported("declare-option", "There are no custom options; write the options out (placeholders and "+
		"ini = includes share values)."),
	unsupported("idle", "Workers are not stopped when idle; --cheaper scales them down to a minimum."),
	unsupported("die-on-idle", "carafe does not exit when idle; systemd socket activation starts it on "+
		"demand (docs/deployment.md)."),
	unsupported("worker-exec", noCommands),
	unsupported("static-gzip", noGzipRules),
	unsupported("static-gzip-dir", noGzipRules),
	unsupported("static-gzip-prefix", noGzipRules),
	unsupported("static-gzip-ext", noGzipRules),
	unsupported("static-gzip-suffix", noGzipRules),
}

// The reasons several unsupported options share.
const (
	noCommands   = "carafe runs no commands of its own; use systemd (ExecStartPre=, a path unit) for those."
	noWaitFor    = "Order the start with systemd instead: RequiresMountsFor= for a file system, After= for a service."
	noLogPlugins = "carafe writes its log lines as they are, to --logto or stderr (journald under systemd), " +
		"and the request log to --req-logger; --log-format shapes the request lines."
	noLogFilters = "carafe keeps every line; filter them in the log shipper, or with journald's consumers; " +
		"for the request log, --disable-logging with --log-4xx, --log-5xx, --log-slow, --log-big, --log-zero, " +
		"--log-ioerror or --log-sendfile keeps only the lines wanted."
	noVhosts     = "carafe serves one app; route hosts to separate carafe services with nginx or Apache."
	noErrorPages = "The app's own error pages go out as it gives them; carafe's few (400, 503, 504) are " +
		"short plain text; use nginx's error_page to replace them."
	noGzipRules = "Use --static-gzip-all (or --static-precompressed): every static file is served from its " +
		"precompressed sibling when there is one and the client accepts it."
)

// unsupported refuses a uWSGI feature by name. A value that turns it off
// (0, false, no, off: `cheaper = 0`, `http-websockets = false`) asks for nothing
// carafe lacks, so it is accepted and ignored (see isOff).
func unsupported(name, instead string) Option {
	return Option{Name: name, Kind: KindUnsupported, Section: secUnsupported, Doc: instead}
}

func withAliases(o Option, aliases ...string) Option {
	o.Aliases = aliases
	return o
}
