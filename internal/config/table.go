package config

// Sections, in documentation order.
const (
	secApplication = "Application"
	secListeners   = "Listeners"
	secProcesses   = "Processes"
	secLimits      = "HTTP limits"
	secLogging     = "Logging"
	secOperations  = "Operations"
	secCompat      = "uWSGI compatibility"
	secWarned      = "Accepted with a warning"
	secUnsupported = "Not implemented"
)

var sections = []string{secApplication, secListeners, secProcesses, secLimits, secLogging, secOperations, secCompat,
	secWarned, secUnsupported}

// table is the single source of truth for every option carafe knows. The
// rows for harmless and rejected uWSGI options are in compat.go.
var table = append(append(append([]Option{
	// Application
	{
		Name: "module", Aliases: []string{"wsgi"}, Short: "w", Kind: KindString, Metavar: "MOD[:CALLABLE]", Section: secApplication,
		Field: func(c *Config) any { return &c.Module },
		Doc: "Python module holding the WSGI app, optionally followed by `:callable` (or `:create_app()`, an " +
			"application factory, called once without arguments: see --callable). The worker imports it " +
			"after --chdir, --virtualenv and --pythonpath have taken effect. Exactly one of --module and " +
			"--wsgi-file is required; the short form `carafe mod:callable` sets this option.",
	},
	{
		Name: "wsgi-file", Aliases: []string{"file"}, Kind: KindString, Metavar: "PATH", Section: secApplication,
		Field: func(c *Config) any { return &c.WSGIFile },
		Doc:   "Python file holding the WSGI app, loaded like uWSGI's --wsgi-file (relative to --chdir).",
	},
	{
		Name: "mount", Kind: KindList, Metavar: "/PREFIX=APP", Section: secApplication,
		Field: func(c *Config) any { return &c.Mount },
		Doc: "The app (a module[:callable], or a file: a path, or a name ending in .py or .wsgi) mounted at " +
			"/PREFIX, as uWSGI's mount: with --manage-script-name, a request under /PREFIX gets SCRIPT_NAME " +
			"/PREFIX and the rest as PATH_INFO (Flask's documented `--mount /app=app:app`). carafe runs one " +
			"app: give it once (mount several with a WSGI dispatcher such as Werkzeug's).",
	},
	{
		Name: "manage-script-name", Kind: KindBool, Section: secApplication,
		Field: func(c *Config) any { return &c.ManageScriptName },
		Doc: "Move the --mount prefix from PATH_INFO to SCRIPT_NAME for the requests under it (on a path " +
			"segment boundary: /app, /app/x, not /application), whatever SCRIPT_NAME a uwsgi gateway sent " +
			"with them (as uWSGI does); others are passed as they came.",
	},
	{
		Name: "paste", Kind: KindString, Metavar: "config:FILE", Section: secApplication,
		Field: func(c *Config) any { return &c.Paste },
		Doc: "Build the app with PasteDeploy's `loadapp` from this URI (`config:/srv/app/production.ini`, " +
			"Pyramid's layout; a relative path is taken from --chdir), instead of --module or --wsgi-file. " +
			"A bare path (`production.ini`, Gunicorn's --paste) is a `config:` URI. " +
			"PasteDeploy must be installed in the app's environment.",
	},
	{
		Name: "paste-logger", Kind: KindBool, Section: secApplication,
		Field: func(c *Config) any { return &c.PasteLogger },
		Doc: "Set up Python logging from the --paste config file's [loggers], [handlers] and [formatters] " +
			"sections (`logging.config.fileConfig`, with `%(here)s` its directory) before building the app.",
	},
	{
		Name: "callable", Kind: KindString, Metavar: "NAME", Section: secApplication,
		Field: func(c *Config) any { return &c.Callable },
		Doc: "Name of the WSGI callable in the module or file. Unset, carafe looks for `application`, then " +
			"`app` (uWSGI looks only for `application`). A name ending in `()` is an application factory, " +
			"called once without arguments for the app (`create_app()`, as uWSGI calls one named in --module " +
			"and Gunicorn one in its app argument; carafe calls it here too). When " +
			"--module names a callable too (`module = app:create_app()`), that one is used and this one " +
			"ignored, with a warning, as uWSGI ignores it.",
	},
	{
		Name: "chdir", Kind: KindString, Metavar: "DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.Chdir },
		Doc:   "Directory the workers change into before loading the app.",
	},
	{
		Name: "virtualenv", Aliases: []string{"venv", "home", "pyhome"}, Short: "H", Kind: KindString, Metavar: "DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.Virtualenv },
		Doc: "Virtualenv (or Python home) the embedded interpreter uses. It must have been created with the " +
			"Python carafe was built against: a worker refuses to start with a directory that has neither " +
			"`pyvenv.cfg` nor `lib/pythonX.Y`, or a venv of another Python version, and warns of one made by " +
			"another installation of the same version (whose standard library may not fit). A relative DIR " +
			"is taken from --chdir, as uWSGI takes it (from the directory carafe started in if only that " +
			"one has it).",
	},
	{
		Name: "pythonpath", Aliases: []string{"python-path", "pp"}, Kind: KindList, Metavar: "DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.PythonPath },
		Doc: "Directory added to the front of `sys.path`; repeatable, each ahead of those given before it, " +
			"as uWSGI and Gunicorn add them. A glob pattern (`/usr/local/lib*/site-packages`) " +
			"adds every directory it matches when carafe starts, as in uWSGI.",
	},
	{
		Name: "import", Aliases: []string{"pyimport", "py-import", "python-import", "shared-import",
			"shared-pyimport", "shared-py-import", "shared-python-import"}, Kind: KindList,
		Metavar: "MODULE", Section: secApplication,
		Field: func(c *Config) any { return &c.Import },
		Doc: "Import this module in every worker before the app (a name, or a file: a path with a `/` or " +
			"ending in `.py`); repeatable, in order. A module that fails to import stops the worker with its " +
			"traceback, as the app would (uWSGI logs it and goes on, which would hide, say, a module of " +
			"uwsgidecorators timers that cannot run here).",
	},
	{
		Name: "pyargv", Kind: KindString, Metavar: "ARGS", Section: secApplication,
		Field: func(c *Config) any { return &c.PyArgv },
		Doc: "Words (split on spaces, as uWSGI does) that follow `carafe` in the app's `sys.argv`, for an app " +
			"that reads its settings from there.",
	},
	{
		Name: "env", Kind: KindList, Metavar: "KEY=VALUE", Section: secApplication,
		Field: func(c *Config) any { return &c.Env },
		Doc:   "Environment variable set in the workers before the app is loaded; repeatable.",
	},
	{
		Name: "optimize", Short: "O", Kind: KindInt, Default: "0", Metavar: "N", Section: secApplication,
		Field: func(c *Config) any { return &c.Optimize },
		Doc: "Run the app's Python as `python -O` (1: assert statements off) or `-OO` (2: docstrings dropped " +
			"too), as uWSGI's optimize does: the app's interpreter alone, where `--env PYTHONOPTIMIZE=N` " +
			"would reach the Python programs it starts too.",
	},
	{
		Name: "envdir", Kind: KindList, Metavar: "DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.EnvDir },
		Doc: "Set environment variables from a daemontools-style directory before the app is loaded, as " +
			"uWSGI does: each regular file is a variable named after it, its content (trailing blanks and " +
			"line ends removed, a NUL byte read as a newline) the value; an empty file unsets it; names " +
			"starting with `.` are skipped. Read again by the workers of a reload. A relative DIR is taken " +
			"from the directory carafe starts in; repeatable, after --env.",
	},

	{
		Name: "static-map", Kind: KindList, Metavar: "URL=DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.StaticMap },
		Doc: "Serve the files under DIR at the URL prefix (`/static=/srv/app/static`) without calling the app " +
			"(GET and HEAD; a missing file falls through to the app, as in uWSGI); repeatable, tried in order. " +
			"A DIR that does not exist at the start (a STATIC_ROOT before collectstatic) is warned about, and " +
			"served once it exists; a DIR replaced on disk (a rebuild, a `current` symlink switched) serves " +
			"its new files: carafe looks at its path again at most once a second, as uWSGI's paths are looked " +
			"up as requests come. DIR may be one file (`/favicon.ico=/srv/app/static/favicon.ico`), served at " +
			"that URL alone. " +
			"Served by Go with sendfile, Range (up to 100 ranges a request: more get the whole file, as past " +
			"Apache's MaxRanges), ETag/Last-Modified and 304, precompressed `.br`/`.gz` siblings (--static-precompressed) " +
			"and the right Content-Type (`application/octet-stream` for an unknown extension, never sniffed; " +
			"text types say `charset=utf-8`, as Go's net/http does, where nginx and uWSGI say none: " +
			"a CSS or JS file in another encoding shows wrong characters). " +
			"Every file under DIR is public, dotfiles too (`.git/`, `.env`: keep them out of it, or add " +
			"their endings to --static-skip-ext). " +
			"Symlinks that resolve inside DIR are followed; symlinks pointing outside (but into a --static-safe " +
			"directory) are refused with 403. Over --http a path with a dot segment is refused (400); one a uwsgi " +
			"gateway passes has its dot segments removed as nginx and uWSGI remove them (`/static/css/../app.js` " +
			"is `app.js`), and a path whose `..` (in any encoding) would climb above DIR, or with a NUL, names no " +
			"file and goes to the app, as in uWSGI.",
	},
	{
		Name: "static-map2", Kind: KindList, Metavar: "URL=DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.StaticMap2 },
		Doc: "Like --static-map, with the whole URL path looked up under DIR (`/static=/srv/app` serves " +
			"/static/a.css from /srv/app/static/a.css), as uWSGI's static-map2; repeatable, tried after the " +
			"--static-map prefixes.",
	},
	{
		Name: "disable-sendfile", Kind: KindBool, Section: secApplication,
		Field: func(c *Config) any { return &c.DisableSendfile },
		Doc: "Send files (--static-map, X-Sendfile, wsgi.file_wrapper) by reading and writing them instead of " +
			"with sendfile(2), for a file system whose sendfile is broken (some shared folders of virtual " +
			"machines, FUSE mounts).",
	},
	{
		Name: "wsgi-disable-file-wrapper", Kind: KindBool, Section: secApplication,
		Field: func(c *Config) any { return &c.NoFileWrapper },
		Doc: "Leave `wsgi.file_wrapper` out of the environ, so that apps iterate their file responses " +
			"themselves (for a file-like object carafe's wrapper would mishandle).",
	},
	{
		Name: "add-header", Kind: KindList, Metavar: "'NAME: VALUE'", Section: secApplication,
		Field: func(c *Config) any { return &c.AddHeader },
		Doc: "Add this header to every response from the app and from --static-map (`X-Frame-Options: DENY`); " +
			"repeatable. Like uWSGI it is added, not merged: a header the app also sets appears twice. " +
			"`Connection: close` turns HTTP keep-alive off (every response says it, and closes its " +
			"connection); `Content-Length` and `Transfer-Encoding` are refused: carafe frames each response.",
	},
	{
		Name: "check-static", Aliases: []string{"static-check"}, Kind: KindList, Metavar: "DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.CheckStatic },
		Doc: "Serve any file under DIR at its own path, as a document root (`--static-map /=DIR`, tried after " +
			"the --static-map prefixes); a path with no file there goes to the app. Keep the app's code out " +
			"of DIR, or list its endings with --static-skip-ext.",
	},
	{
		Name: "static-skip-ext", Kind: KindList, Metavar: ".EXT", Section: secApplication,
		Field: func(c *Config) any { return &c.StaticSkipExt },
		Doc: "Never serve a file whose name ends with .EXT (`.py`, `.pyc`, `.env`) from --static-map or " +
			"--check-static directories: its request goes to the app as if the file were not there. Repeatable.",
	},
	{
		Name: "static-safe", Kind: KindList, Metavar: "DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.StaticSafe },
		Doc: "A directory that a symbolic link in a --static-map, --check-static or --x-sendfile-dir " +
			"directory may lead into; repeatable. Links leading anywhere else are refused (403). As in uWSGI: " +
			"Django's `collectstatic --link` links STATIC_ROOT into each app's static directory (the admin's " +
			"in site-packages), and Debian packages link into /usr/share. One that does not exist is skipped, " +
			"with a warning, as uWSGI skips it.",
	},
	{
		Name: "static-index", Kind: KindList, Metavar: "NAME", Section: secApplication,
		Field: func(c *Config) any { return &c.StaticIndex },
		Doc:   "File served for a request naming a directory under --static-map (`index.html`); repeatable. Directories are never listed.",
	},
	{
		Name: "static-max-age", Kind: KindInt, Default: "0", Metavar: "SECONDS", Section: secApplication,
		Field: func(c *Config) any { return &c.StaticMaxAge },
		Doc: "Send `Cache-Control: public, max-age=N` and an `Expires` header with static files; 0 sends " +
			"none. The static-expires options below set it per file instead.",
	},
	expiresOption(0, "static-expires", "'REGEXP SECONDS'", "Files whose path on disk matches REGEXP expire "+
		"SECONDS from now; repeatable. Go's regexp syntax: uWSGI's PCRE without backreferences or lookaround. "+
		"As in uWSGI, the expiry options are tried in the order listed here (the file's path, the request's "+
		"path, its URI, then the file's type), each in the order given; the first match wins over "+
		"--static-max-age, so a path or URI rule is an exception to a type rule."),
	expiresOption(1, "static-expires-mtime", "'REGEXP SECONDS'", "As --static-expires, counted from the file's "+
		"modification time."),
	expiresOption(2, "static-expires-path-info", "'REGEXP SECONDS'", "Files whose decoded request path "+
		"matches REGEXP expire SECONDS from now; repeatable."),
	expiresOption(3, "static-expires-path-info-mtime", "'REGEXP SECONDS'", "As --static-expires-path-info, "+
		"counted from the file's modification time."),
	expiresOption(4, "static-expires-uri", "'REGEXP SECONDS'", "Files whose request URI (with its query) "+
		"matches REGEXP expire SECONDS from now; repeatable (`/static/.*\\.[a-f0-9]{12,}\\.css 315360000` "+
		"for hashed names)."),
	expiresOption(5, "static-expires-uri-mtime", "'REGEXP SECONDS'", "As --static-expires-uri, counted from "+
		"the file's modification time."),
	expiresOption(6, "static-expires-type", "TYPE=SECONDS", "Files of this content type (`text/css=86400`) "+
		"expire SECONDS from now; repeatable."),
	expiresOption(7, "static-expires-type-mtime", "TYPE=SECONDS", "As --static-expires-type, counted from the "+
		"file's modification time."),
	{
		Name: "static-precompressed", Aliases: []string{"static-gzip-all"}, Kind: KindBool, Default: "false", Section: secApplication,
		Field: func(c *Config) any { return &c.StaticPrecompressed },
		Doc: "Serve `FILE.br` / `FILE.gz` next to FILE, for --static-map, --check-static and X-Accel-Redirect, " +
			"when the client accepts that encoding (with `Vary: Accept-Encoding`): for assets your build " +
			"compresses. Off by default, as uWSGI's `static-gzip-all` and nginx's `gzip_static` are: in a " +
			"directory of uploads, whoever may name a file `report.txt.gz` would choose what browsers get for " +
			"`report.txt`. Never for X-Sendfile, whose file the app names.",
	},
	{
		Name: "x-sendfile-dir", Kind: KindList, Metavar: "DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.XSendfileDir },
		Doc: "Let the app answer with an `X-Sendfile: /abs/path` header (and any body, which is dropped): carafe " +
			"serves that file itself, if it lies under one of these directories (any path); repeatable. Off " +
			"unless given. The app's other headers stay, its Content-Type, ETag, Cache-Control and Expires " +
			"included; carafe adds a Content-Type from the name, an ETag and Last-Modified where it left them " +
			"out, and never caching headers (--static-max-age and the expiry rules are for public files: a " +
			"permission-checked download must not turn `public`). A directory or a missing file gets 404. " +
			"The file is the answer (200, or 206, 304...) whatever status the app gave: check permissions " +
			"before naming it.",
	},
	{
		Name: "x-accel-redirect", Kind: KindBool, Section: secApplication,
		Field: func(c *Config) any { return &c.XAccelRedirect },
		Doc: "Let the app answer with an `X-Accel-Redirect: /uri` header: carafe serves that URI from its " +
			"--x-accel-map directories, then its --static-map ones. The value is a URI, percent-decoded once, " +
			"its `?query` ignored; the app's headers stay as with --x-sendfile-dir. --static-map directories " +
			"are public (any client may ask for their files): files behind a permission check belong under " +
			"--x-accel-map, nginx's `internal` location.",
	},
	{
		Name: "x-accel-map", Kind: KindList, Metavar: "URI=DIR", Section: secApplication,
		Field: func(c *Config) any { return &c.XAccelMap },
		Doc: "As --static-map, but for X-Accel-Redirect alone (nginx's `location /protected/ { internal; }`): " +
			"an app's `X-Accel-Redirect: /protected/report.pdf` is served from DIR, while a client asking for " +
			"/protected/report.pdf itself reaches the app, which decides. Repeatable; implies --x-accel-redirect.",
	},

	// Listeners
	{
		Name: "http", Aliases: []string{"http-socket", "http11-socket"}, Kind: KindList, Metavar: "ADDR", Section: secListeners,
		Field: func(c *Config) any { return &c.HTTP },
		Doc: "Serve HTTP/1.1 (with keep-alive) on `host:port`, or on a unix socket (any address containing " +
			"`/`, for nginx `proxy_pass http://unix:/path` as with Gunicorn); repeatable. `:port` means all IPv4 " +
			"interfaces (0.0.0.0), as in uWSGI. In uWSGI, --http starts a separate router process while " +
			"--http-socket and --http11-socket make the workers speak HTTP; in carafe all three are the " +
			"same native HTTP server in the workers, bound once by the master.",
	},
	{
		Name: "socket", Aliases: []string{"uwsgi-socket"}, Short: "s", Kind: KindList, Metavar: "ADDR", Section: secListeners,
		Field: func(c *Config) any { return &c.Socket },
		Doc: "Serve the uwsgi protocol (for nginx `uwsgi_pass` or Apache mod_proxy_uwsgi) on `host:port` " +
			"or on a unix socket (any address containing `/`); repeatable. `:port` means 0.0.0.0:port.",
	},
	{
		Name: "protocol", Aliases: []string{"socket-protocol"}, Kind: KindString, Metavar: "uwsgi|http", Section: secListeners,
		Field: func(c *Config) any { return &c.Protocol },
		Doc: "The protocol of the --socket listeners: `uwsgi` (the default) or `http` (also `http11`), which " +
			"makes each --socket address an --http one, as uWSGI's protocol = http does.",
	},
	{
		Name: "umask", Kind: KindString, Metavar: "MASK", Section: secListeners,
		Field: func(c *Config) any { return &c.Umask },
		Doc: "Set the umask (octal, such as 027) of the master and the workers before anything is created: " +
			"unix sockets without --chmod-socket, the --logto file, the pidfile and the app's own files.",
	},
	{
		Name: "chmod-socket", Aliases: []string{"chmod"}, Short: "C", Kind: KindString, Metavar: "MODE", NoValue: "666", Section: secListeners,
		Field: func(c *Config) any { return &c.ChmodSocket },
		Doc: "Octal permission bits for the unix sockets carafe creates. Given without a value it means " +
			"666, as in uWSGI. Unset, sockets get the mode the umask allows.",
	},
	{
		Name: "chown-socket", Kind: KindString, Metavar: "USER[:GROUP]", Section: secListeners,
		Field: func(c *Config) any { return &c.ChownSocket },
		Doc: "Give the unix sockets carafe creates to this user (and group), by name or number: " +
			"`www-data:www-data` lets nginx connect to a socket with --chmod-socket 660. Needs root. " +
			"Unset, a master run with --uid/--gid gives them to that user, otherwise they stay the creator's.",
	},
	{
		Name: "reuse-port", Kind: KindBool, Section: secListeners,
		Field: func(c *Config) any { return &c.ReusePort },
		Doc: "Set SO_REUSEPORT on the TCP listeners, so that another server can bind the same address while " +
			"this one runs (a new carafe started beside the old one during an upgrade; stop the old one once " +
			"the new one serves). The kernel spreads new connections over every server bound there. " +
			"With more than one worker, carafe already gives each worker a TCP socket of its own on the " +
			"address, SO_REUSEPORT set, and refuses a second carafe there unless it passes --reuse-port. " +
			"The kernel still lets another server of the same user that sets SO_REUSEPORT itself " +
			"(gunicorn --reuse-port) bind the address beside them.",
	},

	// Processes
	{
		Name: "processes", Aliases: []string{"workers"}, Short: "p", Kind: KindInt, Default: "1", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.Processes },
		Doc:   "Number of worker processes, each with its own Python interpreter (at most 4096).",
	},
	{
		Name: "threads", Kind: KindInt, Default: "1", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.Threads },
		Doc: "Python threads per worker (1 to 512). Network I/O does not occupy them: a thread runs only " +
			"while the app runs. With more than one, calls may also run on the Go threads that read " +
			"their requests, so per-thread state (threading.local, Django's database connections) exists " +
			"for up to twice N OS threads; with one, every call runs on the thread that imported the app, " +
			"Python's main thread, as under Gunicorn's sync workers and uWSGI without threads (what the " +
			"import set up for its thread holds, and signal.signal works in a view).",
	},
	{
		Name: "cheaper", Kind: KindInt, Default: "0", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.Cheaper },
		Doc: "Scale the workers with the load, as uWSGI's cheaper subsystem does: at least N run, at most " +
			"--processes, starting with --cheaper-initial; 0 runs --processes workers all the time. The " +
			"master adds --cheaper-step workers when the load calls for them and stops one at a time when " +
			"it falls (see --cheaper-algo); a worker's load is the share of its threads' time taken by " +
			"requests. A worker given up takes no new connection and stops once its requests are done, " +
			"however long they take.",
	},
	{
		Name: "cheaper-initial", Kind: KindInt, Default: "0", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperInitial },
		Doc:   "With --cheaper, the workers started at first (between --cheaper and --processes); 0 means --cheaper.",
	},
	{
		Name: "cheaper-step", Kind: KindInt, Default: "1", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperStep },
		Doc:   "With --cheaper, how many workers are added at a time.",
	},
	{
		Name: "cheaper-overload", Kind: KindInt, Default: "3", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperOverload },
		Doc: "With --cheaper, how long the load must stay high before workers are added, and (spare) low " +
			"before one is stopped; busyness averages the load over this many seconds.",
	},
	{
		Name: "cheaper-algo", Kind: KindString, Default: "spare", Metavar: "spare|spare2|busyness", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperAlgo },
		Doc: "How --cheaper decides. spare: add workers when every worker has been busy (90% or more of the " +
			"time) for --cheaper-overload seconds; stop one when the others could take its load at 75% for as " +
			"long. spare2: keep --cheaper workers' worth of threads idle, adding up to --cheaper-step at a " +
			"time, and stop one after --cheaper-idle seconds with more than that idle. busyness: add workers " +
			"when the average load over --cheaper-overload seconds is above --cheaper-busyness-max percent, and " +
			"stop one after --cheaper-busyness-multiplier such periods below --cheaper-busyness-min. uWSGI's " +
			"backlog and manual algorithms are not available.",
	},
	{
		Name: "cheaper-idle", Kind: KindInt, Default: "10", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperIdle },
		Doc:   "With --cheaper-algo spare2, how long more than --cheaper workers' worth must be idle before one is stopped.",
	},
	{
		Name: "cheaper-busyness-max", Kind: KindInt, Default: "50", Metavar: "PERCENT", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperBusyMax },
		Doc:   "With --cheaper-algo busyness, the average load above which workers are added.",
	},
	{
		Name: "cheaper-busyness-min", Kind: KindInt, Default: "25", Metavar: "PERCENT", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperBusyMin },
		Doc:   "With --cheaper-algo busyness, the average load below which a worker may be stopped.",
	},
	{
		Name: "cheaper-busyness-multiplier", Kind: KindInt, Default: "10", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperBusyMult },
		Doc: "With --cheaper-algo busyness, how many --cheaper-overload periods in a row the load must stay " +
			"below --cheaper-busyness-min before a worker is stopped.",
	},
	{
		Name: "cheaper-rss-limit-soft", Kind: KindInt, Default: "0", Metavar: "BYTES", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperRSSSoft },
		Doc:   "With --cheaper, add no worker while the workers' resident memory, all together, is above this many bytes; 0: no limit.",
	},
	{
		Name: "cheaper-rss-limit-hard", Kind: KindInt, Default: "0", Metavar: "BYTES", Section: secProcesses,
		Field: func(c *Config) any { return &c.CheaperRSSHard },
		Doc: "With --cheaper, stop a worker (down to --cheaper) while the workers' resident memory, all " +
			"together, is above this many bytes; 0: no limit.",
	},
	{
		Name: "master", Short: "M", Kind: KindBool, Section: secProcesses,
		Field: func(c *Config) any { return &c.Master },
		Doc: "Run a master process, which binds the listeners, starts and restarts the workers and handles " +
			"signals (SIGHUP reloads). Several processes and the options that need supervision (harakiri, " +
			"max-requests, stats, uid, a pidfile, ...) start one anyway; without one, the single process " +
			"is the worker.",
	},
	{
		Name: "harakiri", Short: "t", Kind: KindInt, Default: "0", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.Harakiri },
		Doc: "End a request that has run longer than this many seconds: its Python traceback is logged, the " +
			"client gets a 504 (or a closed connection once headers are out), and the worker is replaced; " +
			"0 turns it off. The time a request waits on its client (reading a trickled upload, sending a " +
			"download to a slow reader) does not count: --http-timeout and --socket-timeout bound that, " +
			"where uWSGI's harakiri counts it and kills the worker.",
	},
	{
		Name: "harakiri-graceful-timeout", Kind: KindInt, Default: "5", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.HarakiriGrace },
		Doc: "After a harakiri, how long the worker's other requests in flight may take to finish before " +
			"the worker exits (at most --worker-reload-mercy), each still within --harakiri: one that " +
			"overruns meanwhile is answered and logged as the first was; 0 cuts them at once (within the quarter " +
			"second the requests still waiting for a thread get for their 503s), as uWSGI does without this option. The stuck request itself cannot be interrupted and is answered at once; " +
			"requests still waiting for a free thread at the end are answered 503.",
	},
	{
		Name: "max-requests", Short: "R", Kind: KindInt, Default: "0", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.MaxRequests },
		Doc: "Gracefully replace a worker after it has served this many requests: it serves on while its " +
			"replacement starts (so the limit is passed by what comes meanwhile), then finishes its requests " +
			"and leaves; 0 means never.",
	},
	{
		Name: "max-requests-delta", Kind: KindInt, Default: "0", Metavar: "N", Section: secProcesses,
		Field: func(c *Config) any { return &c.MaxRequestsDelta },
		Doc: "Raise worker K's --max-requests by (K-1)*N, as uWSGI does, so that workers started together " +
			"do not all restart together (worker 1 keeps the plain limit).",
	},
	{
		Name: "max-worker-lifetime", Kind: KindInt, Default: "0", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.MaxWorkerLifetime },
		Doc:   "Gracefully replace a worker that has been running this many seconds; 0 means never.",
	},
	{
		Name: "max-worker-lifetime-delta", Kind: KindInt, Default: "0", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.MaxLifetimeDelta },
		Doc: "Raise worker K's --max-worker-lifetime by (K-1)*N seconds, as uWSGI does, so that workers " +
			"started together do not all restart together (worker 1 keeps the plain limit).",
	},
	{
		Name: "reload-on-rss", Kind: KindInt, Default: "0", Metavar: "MB", Section: secProcesses,
		Field: func(c *Config) any { return &c.ReloadOnRSS },
		Doc: "Gracefully replace a worker whose resident memory exceeds this many megabytes (checked four " +
			"times a second); 0 means never. Memory the worker holds free (Go's heap, the C allocator's " +
			"arenas) is given back first, and only a worker still over the limit is replaced. A limit below " +
			"a fresh worker's size (the app after import) is said once, and such workers are replaced only " +
			"after serving a request and running a minute, not in a loop.",
	},
	{
		Name: "evil-reload-on-rss", Kind: KindInt, Default: "0", Metavar: "MB", Section: secProcesses,
		Field: func(c *Config) any { return &c.EvilReloadOnRSS },
		Doc: "End a worker at once, requests in flight and all, when its resident memory exceeds this many " +
			"megabytes (checked four times a second by the worker's Go side, which runs even while Python " +
			"is stuck); the master starts a new one. A hard cap above --reload-on-rss, for a request that " +
			"balloons before the graceful replacement can help; 0 means never.",
	},
	{
		Name: "worker-reload-mercy", Aliases: []string{"reload-mercy"}, Kind: KindInt, Default: "60", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.WorkerReloadMercy },
		Doc: "How long a stopping worker (SIGTERM, reload, recycling) may take to finish its requests in " +
			"flight before it is killed. Requests still waiting for a free thread a quarter of a second " +
			"before then are answered 503.",
	},
	{
		Name: "touch-reload", Aliases: []string{"touch-chain-reload", "touch-workers-reload"}, Kind: KindList, Metavar: "FILE", Section: secProcesses,
		Field: func(c *Config) any { return &c.TouchReload },
		Doc: "Reload gracefully (as SIGHUP does) when this file's modification time changes; repeatable. " +
			"The master checks once a second. uWSGI's touch-chain-reload means the same here: every old " +
			"worker keeps serving until its own replacement is ready (the replacements start together, " +
			"not one after another). So does touch-workers-reload: carafe's reload always replaces the " +
			"workers only, since the master holds no Python to reload.",
	},
	{
		Name: "py-autoreload", Aliases: []string{"py-auto-reload", "python-autoreload", "python-auto-reload"},
		Kind: KindInt, Default: "0", Metavar: "SECONDS", Section: secProcesses,
		Field: func(c *Config) any { return &c.PyAutoReload },
		Doc: "For development: every this many seconds each worker looks at the modification time of the file " +
			"of every Python module it has imported (the app's, the libraries'), and when one has changed " +
			"since the worker started, the master reloads gracefully (as SIGHUP does). The times are read " +
			"without holding the GIL. 0 means never; a master is implied.",
	},
	{
		Name: "py-auto-reload-ignore", Kind: KindList, Metavar: "MODULE", Section: secProcesses,
		Field: func(c *Config) any { return &c.PyAutoReloadIgnore },
		Doc:   "A module (its full dotted name) whose file --py-autoreload does not watch; repeatable.",
	},
	{
		Name: "touch-logreopen", Kind: KindList, Metavar: "FILE", Section: secLogging,
		Field: func(c *Config) any { return &c.TouchLogReopen },
		Doc: "Reopen the log files (as SIGUSR1 does) when this file's modification time changes; repeatable. " +
			"For a logrotate `postrotate` script that can touch a file but not signal carafe.",
	},

	// HTTP limits
	{
		Name: "limit-request-line", Kind: KindInt, Default: "8190", Metavar: "BYTES", Section: secLimits,
		Field: func(c *Config) any { return &c.LimitRequestLine },
		Doc:   "Longest HTTP request line accepted; longer ones get 414. Gunicorn's name; uWSGI has no equivalent.",
	},
	{
		Name: "limit-request-fields", Kind: KindInt, Default: "100", Metavar: "N", Section: secLimits,
		Field: func(c *Config) any { return &c.LimitRequestFields },
		Doc: "Most header fields in an HTTP request; more get 431. Gunicorn's name. Together the fields may " +
			"take 64 KiB (or two of --limit-request-field-size, if more); nginx's default allows 32 KiB. A chunked " +
			"body's trailer section is bounded the same way, and a trailer field that frames or routes the " +
			"request (Content-Length, Transfer-Encoding, Host, Connection, TE, Trailer, Upgrade, Expect, " +
			"Keep-Alive) gets a 400, as RFC 9110 §6.5.1 forbids them there (nginx and HAProxy pass them on).",
	},
	{
		Name: "limit-request-field-size", Kind: KindInt, Default: "8190", Metavar: "BYTES", Section: secLimits,
		Field: func(c *Config) any { return &c.LimitRequestFieldSize },
		Doc:   "Longest single HTTP header field (name, colon and value); longer ones get 431. Gunicorn's name.",
	},
	{
		Name: "limit-post", Kind: KindInt64, Default: "1073741824", Metavar: "BYTES", Section: secLimits,
		Field: func(c *Config) any { return &c.LimitPost },
		Doc: "Largest request body accepted, on both HTTP and uwsgi listeners; larger ones get 413. 0 means " +
			"unlimited. uWSGI's default is unlimited; carafe's is 1 GiB. A body read whole before the app " +
			"is called (a chunked one, or any with --post-buffering) goes past its first bytes to an " +
			"unlinked temp file, so each connection may take up to this much of the temp directory's " +
			"disk: set it to the largest upload the site takes (nginx's default is 1 MiB).",
	},
	{
		Name: "post-buffering", Kind: KindInt64, Default: "0", Metavar: "BYTES", Section: secLimits,
		Field: func(c *Config) any { return &c.PostBuffering },
		Doc: "Read every request body whole before calling the app: in memory up to this many bytes, in an " +
			"unlinked temp file past it (as uWSGI does). Without it, bodies up to 64 KiB and chunked ones are " +
			"read first and larger ones stream to the app as it reads them, so a client that sends its body " +
			"slowly holds a Python thread meanwhile. Behind nginx (which buffers bodies) that never happens; " +
			"set this when clients reach carafe directly. With it, carafe answers `Expect: 100-continue` " +
			"itself, as nginx does.",
	},
	{
		Name: "buffer-size", Short: "b", Kind: KindInt, Default: "4096", Metavar: "BYTES", Section: secLimits,
		Field: func(c *Config) any { return &c.BufferSize },
		Doc: "Largest uwsgi-protocol variable block (the request line and headers nginx forwards). The " +
			"protocol's own limit is 65535, so a larger value (uWSGI configs often give 65536) means that " +
			"limit, as in uWSGI. Raise it if nginx requests with big cookies are rejected. As in uWSGI, it " +
			"bounds HTTP requests too: a value above --limit-request-field-size or --limit-request-line " +
			"raises them to it, unless they are given.",
	},
	{
		Name: "http-header-timeout", Kind: KindFloat, Default: "10", Metavar: "SECONDS", Section: secLimits,
		Field: func(c *Config) any { return &c.HTTPHeaderTimeout },
		Doc: "Time allowed to receive a whole HTTP request head, counted from its first byte. A head not " +
			"finished in time (a slowloris) is closed unanswered and logged with status 408, as nginx " +
			"logs it; one its client cuts part-way, with 400.",
	},
	{
		Name: "http-timeout", Kind: KindFloat, Default: "60", Metavar: "SECONDS", Section: secLimits,
		Field: func(c *Config) any { return &c.HTTPTimeout },
		Doc: "On HTTP listeners, the idle time allowed between reads of a request body, and for a response " +
			"to make progress: a client that takes nothing of the response for this long is cut off, " +
			"however slowly it takes the rest (as nginx's send_timeout); one that stops altogether is " +
			"cut within two to three times this, as the bytes already on their way to it still count. " +
			"uWSGI's name (there it applies to its router).",
	},
	{
		Name: "socket-timeout", Short: "z", Kind: KindFloat, Default: "60", Metavar: "SECONDS", Section: secLimits,
		Field: func(c *Config) any { return &c.SocketTimeout },
		Doc: "The same idle timeout for uwsgi-protocol listeners, also covering the wait for the request " +
			"header block. uWSGI's name; its default there is 4 seconds.",
	},
	{
		Name: "forwarded-allow-ips", Kind: KindString, Default: "127.0.0.1,::1", Metavar: "ADDRS", Section: secListeners,
		Field: func(c *Config) any { return &c.ForwardedAllowIPs },
		Doc: "Peers whose `X-Forwarded-Proto: https` (or `X-Forwarded-Protocol: ssl`, `X-Forwarded-Ssl: on`) " +
			"makes wsgi.url_scheme https on --http, as behind nginx's `proxy_pass` with TLS ended there: " +
			"Gunicorn's option and default (loopback), so a site moved from Gunicorn keeps its https links, " +
			"redirects and Django's CSRF origin check. Comma-separated addresses and networks (10.0.0.0/8), " +
			"or `*` for every peer; a peer on a unix socket counts as trusted unless the list is empty, which " +
			"trusts nobody (uWSGI's --http-socket trusts every peer). A worker logs once an https header it did " +
			"not apply, with the peer's address. Headers that disagree leave the scheme http. The proxy must set the header itself " +
			"(nginx: `proxy_set_header X-Forwarded-Proto $scheme;`), or a client's own passes through it. The " +
			"headers reach the app either way (HTTP_X_FORWARDED_PROTO). On a uwsgi socket the gateway's own " +
			"variables say it (UWSGI_SCHEME, HTTPS, REQUEST_SCHEME), never a client's header, which uWSGI takes " +
			"from any gateway: see docs/deployment.md for nginx behind a TLS load balancer.",
	},
	{
		Name: "http-keepalive", Kind: KindFloat, Default: "15", Metavar: "SECONDS", NoValue: "15", Section: secLimits,
		Field: func(c *Config) any { return &c.HTTPKeepalive },
		Doc: "How long an idle keep-alive HTTP connection is kept open waiting for the next request; 0 disables " +
			"keep-alive. In uWSGI this option is a switch for its HTTP router (1 there means on); here the " +
			"value is seconds, and the bare switch (`http-keepalive` alone, as uWSGI configs write it) keeps " +
			"the default, as does `http-keepalive = 1` in an ini file or a UWSGI_HTTP_KEEPALIVE variable, uWSGI's " +
			"\"on\" (with a warning: write 1.0 there for one second; on the command line 1 is one second). Behind a load balancer that keeps connections to carafe open (AWS ALB: " +
			"60 s idle), give more seconds than it keeps them, or it may reuse one carafe has just closed.",
	},

	// Logging
	{
		Name: "disable-logging", Short: "L", Kind: KindBool, Section: secLogging,
		Field: func(c *Config) any { return &c.DisableLogging },
		Doc:   "Do not log a line per request. Errors, tracebacks and worker events are still logged.",
	},
	{
		Name: "log-x-forwarded-for", Kind: KindBool, Section: secLogging,
		Field: func(c *Config) any { return &c.LogXForwardedFor },
		Doc: "Log the X-Forwarded-For value, when a request has one, in place of the peer address (behind an " +
			"HTTP proxy). It is the client's claim as the proxy passed it on: escaped, never trusted.",
	},
	{
		Name: "log-4xx", Kind: KindBool, Section: secLogging,
		Field: func(c *Config) any { return &c.Log4xx },
		Doc:   "With --disable-logging, still log the requests answered with a 4xx status.",
	},
	{
		Name: "log-5xx", Kind: KindBool, Section: secLogging,
		Field: func(c *Config) any { return &c.Log5xx },
		Doc: "With --disable-logging, still log the requests answered with a 5xx status (the app's own " +
			"and carafe's, such as the 500 for an exception).",
	},
	{
		Name: "log-slow", Kind: KindInt, Default: "0", Metavar: "MS", Section: secLogging,
		Field: func(c *Config) any { return &c.LogSlow },
		Doc: "With --disable-logging, still log the requests that took this many milliseconds or more " +
			"(as uWSGI counts); 0 means off.",
	},
	{
		Name: "log-big", Kind: KindInt, Default: "0", Metavar: "BYTES", Section: secLogging,
		Field: func(c *Config) any { return &c.LogBig },
		Doc:   "With --disable-logging, still log the responses whose body is this many bytes or more (as uWSGI counts); 0 means off.",
	},
	{
		Name: "log-zero", Kind: KindBool, Section: secLogging,
		Field: func(c *Config) any { return &c.LogZero },
		Doc:   "With --disable-logging, still log the responses with an empty body.",
	},
	{
		Name: "log-ioerror", Kind: KindBool, Section: secLogging,
		Field: func(c *Config) any { return &c.LogIOError },
		Doc: "With --disable-logging, still log the requests whose body could not be read or whose response " +
			"could not be written (a client that went away, a timeout).",
	},
	{
		Name: "log-sendfile", Kind: KindBool, Section: secLogging,
		Field: func(c *Config) any { return &c.LogSendfile },
		Doc: "With --disable-logging, still log the responses that sent a file: --static-map and " +
			"--check-static files, wsgi.file_wrapper, X-Sendfile and X-Accel-Redirect.",
	},
	{
		Name: "logto", Aliases: []string{"logto2"}, Kind: KindString, Metavar: "FILE", Section: secLogging,
		Field: func(c *Config) any { return &c.LogTo },
		Doc: "Append the log to this file instead of writing it to stderr. Unlike uWSGI, a host:port (UDP) " +
			"target is not supported. `/dev/stdout` and `/dev/stderr` mean the descriptor carafe was started " +
			"with (a container's log pipe), which workers running as --uid could not open by name. uWSGI's " +
			"logto2 (the file opened after the switch to --uid) is this option: with --uid, carafe hands the " +
			"file to that user. `-` (Gunicorn's) is stderr, as without the option.",
	},
	{
		Name: "daemonize", Aliases: []string{"daemonize2"}, Short: "d", Kind: KindString, Metavar: "LOGFILE",
		Section: secLogging,
		Field:   func(c *Config) any { return &c.Daemonize },
		Doc: "Run in the background, detached from the terminal (a new session), logging to LOGFILE (as " +
			"--logto, which wins if also given); the command returns at once, as uWSGI's does. uWSGI's " +
			"daemonize2 detaches after loading the app; here it is the same as daemonize. Under " +
			"systemd, leave it out and use Type=notify.",
	},
	{
		Name: "log-format", Aliases: []string{"logformat"}, Kind: KindString, Metavar: "FORMAT", Section: secLogging,
		Field: func(c *Config) any { return &c.LogFormat },
		Doc: "The request log line in uWSGI's syntax: text and %(variables), such as Apache's combined " +
			"format `%(addr) - %(user) [%(ltime)] \"%(method) %(uri) %(proto)\" %(status) %(size) " +
			"\"%(referer)\" \"%(uagent)\"`. carafe fills addr, user (REMOTE_USER from a gateway), host, " +
			"method, uri, proto, uagent, referer, status, micros, msecs, secs, time, epoch, tmsecs, " +
			"tmicros, ctime, ltime (and ftime, the same, as in uWSGI without logformat-strftime), size (head and body), hsize, rsize (body), cl, pid, wid, proto (a " +
			"gateway's SERVER_PROTOCOL, HTTP/2.0 behind nginx's http2), headers (the response's header " +
			"fields), vars (the gateway's variables, or the request's header fields over HTTP), modifier1, " +
			"modifier2, ioerr, rerr and werr (1 when reading the body or writing the response failed), core " +
			"(always 0: calls are not bound to a numbered thread) and switches (always 1), and " +
			"var.HTTP_NAME, a request header as the environ names it (`%(var.HTTP_X_FORWARDED_FOR)`, a " +
			"repeated field's values joined by `, ` as in the environ); another variable stops carafe at start, naming these. Values " +
			"from the request are escaped (a quote, a backslash, control characters and bytes beyond " +
			"ASCII as \\xNN); in a format that is a JSON object (`{\"uri\": \"%(uri)\", ...}`), as in JSON " +
			"strings (\\\", \\\\, \\u00NN; UTF-8 kept), so that every line parses.",
	},
	{
		Name: "logfile-chmod", Kind: KindString, Metavar: "MODE", Section: secLogging,
		Field: func(c *Config) any { return &c.LogFileChmod },
		Doc: "Octal permission bits for the log files (--logto, --req-logger file:), such as 640, set each " +
			"time a process opens one, so the file a rotation starts has them too. Unset, a new file gets " +
			"640 less the umask, as in uWSGI.",
	},
	{
		Name: "logger", Kind: KindString, Metavar: "file:FILE", Section: secLogging,
		Field: func(c *Config) any { return &c.Logger },
		Doc: "uWSGI's pluggable logger, in its `file:FILE` form: the same as --logto FILE. Its `stdio` " +
			"logger (also named: `applogger stdio`) is where carafe logs anyway, and is accepted. Other " +
			"loggers (syslog, socket, ...) are refused: log to a file or to stderr (journald under systemd).",
	},
	{
		Name: "req-logger", Aliases: []string{"logger-req"}, Kind: KindString, Metavar: "file:FILE", Section: secLogging,
		Field: func(c *Config) any { return &c.ReqLogger },
		Doc: "Write the request log (one line per request) to FILE instead of with the rest of the log, " +
			"in uWSGI's `file:FILE` form (`stdio` keeps it with the rest; `file:-`, Gunicorn's `-`, is stdout). Reopened on SIGUSR1 and on a " +
			"reload, like --logto; --log-maxsize does not rotate it.",
	},
	{
		Name: "log-maxsize", Kind: KindInt, Default: "0", Metavar: "BYTES", Section: secLogging,
		Field: func(c *Config) any { return &c.LogMaxSize },
		Doc: "Rotate the --logto file once it reaches this many bytes: it is renamed to FILE.<unix time> (or " +
			"--log-backupname) and every process reopens FILE, a new one. The size is checked once a second, " +
			"so the file may pass it by what is logged in that second; 0 means never (rotate with logrotate " +
			"and SIGUSR1 instead).",
	},
	{
		Name: "log-backupname", Kind: KindString, Metavar: "FILE", Section: secLogging,
		Field: func(c *Config) any { return &c.LogBackupName },
		Doc: "With --log-maxsize, the name the full log is renamed to, replacing the one renamed before; " +
			"without it each rotation keeps its own FILE.<unix time>.",
	},

	// Operations
	{
		Name: "ini", Aliases: []string{"include", "inherit"}, Kind: KindList, Metavar: "FILE[:SECTION]", Section: secOperations,
		Field: func(c *Config) any { return &c.Ini },
		Doc: "Read options from an ini file: its `[uwsgi]` section, then its `[carafe]` section (which wins), " +
			"or only the section named after a colon. Repeatable, and allowed inside ini files, where it is read " +
			"where the line stands, as uWSGI's `include =` is; uWSGI's `inherit =` reads its file after the " +
			"rest of the section it is in, so that the inherited values come last there (uWSGI reads it after " +
			"the whole configuration, which differs when the file is itself included or other --ini files follow). On the command line " +
			"the file's values apply where the flag stands: a later flag overrides them, and they override an earlier one, as in uWSGI.",
	},
	{
		Name: "ini-paste", Kind: KindList, Metavar: "FILE", Section: secOperations,
		Field: func(c *Config) any { return &c.Ini },
		Doc: "Pyramid's one-file layout (`carafe --ini-paste production.ini`): read the file as --ini does, " +
			"and build the app from it with PasteDeploy, as `--paste config:FILE` (absolute).",
	},
	{
		Name: "ini-paste-logged", Kind: KindList, Metavar: "FILE", Section: secOperations,
		Field: func(c *Config) any { return &c.Ini },
		Doc:   "--ini-paste, plus --paste-logger: Python logging is set up from the same file.",
	},
	{
		Name: "strict", Kind: KindBool, Section: secOperations,
		Field: func(c *Config) any { return &c.Strict },
		Doc:   "Treat unknown ini keys as errors instead of warnings. Unknown command-line flags are always errors.",
	},
	{
		Name: "show-config", Kind: KindBool, Section: secOperations,
		Field: func(c *Config) any { return &c.ShowConfig },
		Doc: "Print the configuration as read (flags, ini files and `UWSGI_*` variables in the order they " +
			"apply, placeholders expanded) at the start, in uWSGI's form, to the log; then serve.",
	},
	{
		Name: "max-fd", Kind: KindInt, Default: "0", Metavar: "N", Section: secOperations,
		Field: func(c *Config) any { return &c.MaxFD },
		Doc: "Set the limit on open files (RLIMIT_NOFILE, soft and hard) of the master and the workers to N at " +
			"start; raising it above the current hard limit needs root. 0 keeps the limit carafe was started " +
			"with, raised to its hard limit as every Go program does (systemd's LimitNOFILE= sets it for a service). " +
			"The app has that limit too, and so do the programs it starts (subprocess), where under uWSGI and " +
			"Gunicorn they keep the soft limit of the start (1024 under systemd): a program that still uses " +
			"select(2) must be given a lower one (`preexec_fn`, `prlimit`).",
	},
	{
		Name: "uid", Aliases: []string{"immediate-uid"}, Kind: KindString, Metavar: "USER", Section: secOperations,
		Field: func(c *Config) any { return &c.UID },
		Doc: "User (name or number) the master switches to after binding the listeners, with the user's " +
			"supplementary groups (see --no-initgroups). Started as root with --uid, carafe opens, rotates " +
			"and chowns no log file or pidfile through a link in a directory others may write, at any " +
			"depth of its path (a logs directory in the app's own tree replaced by a link to /etc): " +
			"that user could plant one there. uWSGI's immediate-uid, which switches before anything is " +
			"bound or opened, is read as this option (its sockets and logs are that user's either way).",
	},
	{
		Name: "gid", Aliases: []string{"immediate-gid"}, Kind: KindString, Metavar: "GROUP", Section: secOperations,
		Field: func(c *Config) any { return &c.GID },
		Doc: "Group (name or number) the master switches to after binding the listeners; uWSGI's immediate-gid " +
			"too. Without it, --uid's user's primary group (uWSGI keeps the group it started with, root's).",
	},
	{
		Name: "no-initgroups", Kind: KindBool, Section: secOperations,
		Field: func(c *Config) any { return &c.NoInitgroups },
		Doc: "Do not give the processes that switch to --uid the supplementary groups of that user (as " +
			"initgroups(3) does, and uWSGI by default): they then keep only --gid (or the user's primary group).",
	},
	{
		Name: "master-as-root", Kind: KindBool, Section: secOperations,
		Field: func(c *Config) any { return &c.MasterAsRoot },
		Doc: "Keep the master running as root and start only the workers as --uid/--gid. The master runs " +
			"no Python, and as root it can still reopen and rotate logs in root-owned directories; without " +
			"this option it switches user too.",
	},
	{
		Name: "pidfile", Kind: KindString, Metavar: "FILE", Section: secOperations,
		Field: func(c *Config) any { return &c.Pidfile },
		Doc: "Write the master's process id to this file, before dropping privileges (as uWSGI does): " +
			"as root it can go in a root-owned directory such as /run. --vacuum removes it on exit if it " +
			"still holds this master's pid (the master must then be able to: --master-as-root, or a " +
			"directory its user may write).",
	},
	{
		Name: "pidfile2", Kind: KindString, Metavar: "FILE", Section: secOperations,
		Field: func(c *Config) any { return &c.Pidfile2 },
		Doc: "Like --pidfile, written after dropping privileges (--uid/--gid): the file belongs to that user " +
			"(to root with --master-as-root, where the master keeps root).",
	},
	{
		Name: "safe-pidfile", Kind: KindString, Metavar: "FILE", Section: secOperations,
		Field: func(c *Config) any { return &c.SafePidfile },
		Doc: "Like --pidfile, written to a temporary file in the same directory and renamed over FILE, so " +
			"a reader never sees it empty or half written. The in-place --pidfile refuses a symbolic link " +
			"or a file of several names (the master may be root when it writes it).",
	},
	{
		Name: "safe-pidfile2", Kind: KindString, Metavar: "FILE", Section: secOperations,
		Field: func(c *Config) any { return &c.SafePidfile2 },
		Doc:   "--safe-pidfile written after dropping privileges.",
	},
	{
		Name: "vacuum", Kind: KindBool, Section: secOperations,
		Field: func(c *Config) any { return &c.Vacuum },
		Doc: "Remove the unix sockets and the pidfiles carafe created when it exits (a pidfile only while " +
			"it still holds this master's pid: a new carafe started beside it may own it by then).",
	},
	{
		Name: "stats", Aliases: []string{"stats-server"}, Kind: KindString, Metavar: "ADDR", Section: secOperations,
		Field: func(c *Config) any { return &c.Stats },
		Doc: "Serve a JSON snapshot of the master's and workers' state to each client connecting to this " +
			"address (`host:port`, or a unix socket path containing `/`), like uWSGI's stats server.",
	},
	{
		Name: "master-fifo", Kind: KindList, Metavar: "FILE", Section: secOperations,
		Field: func(c *Config) any { return &c.MasterFifo },
		Doc: "Make this named pipe (FIFO) and take commands from it, one character each, as uWSGI's master " +
			"does: `echo r > FILE` reloads gracefully (so do `w`, `c`, `R` and `W`: every carafe reload is " +
			"graceful), `q` stops gracefully, `Q` at once, `l` reopens the log, `L` rotates it, `+` and `-` " +
			"add and remove a worker (as SIGTTIN and SIGTTOU), `P` writes the pidfiles again. Repeatable: " +
			"the first is made at start, and `0` to `9` switch to another. Made by the master once it has " +
			"dropped privileges (mode 0600), in --chdir when relative, as uWSGI makes it; --vacuum removes the one " +
			"being read on exit.",
	},
}, compatOptions...), warnedOptions...), unsupportedOptions...)

// expiresOption is the i-th of uWSGI's static-expires options: a list kept
// in StaticExpires[i], so that the rules keep uWSGI's order of kinds.
func expiresOption(i int, name, metavar, doc string) Option {
	return Option{Name: name, Kind: KindList, Metavar: metavar, Section: secApplication,
		Field: func(c *Config) any { return &c.StaticExpires[i] }, Doc: doc}
}

// ExpiresOptionNames are the static-expires options, in StaticExpires order.
var ExpiresOptionNames = [len(Config{}.StaticExpires)]string{"static-expires", "static-expires-mtime",
	"static-expires-path-info", "static-expires-path-info-mtime", "static-expires-uri", "static-expires-uri-mtime",
	"static-expires-type", "static-expires-type-mtime"}
