// Command carafe is a WSGI application server: it serves a Python web app
// (Flask, Django, any PEP 3333 callable) from embedded CPython over
// HTTP/1.1. See README.md and docs/options.md.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"carafe/internal/accesslog"
	"carafe/internal/config"
	"carafe/internal/control"
	"carafe/internal/httpfront"
	"carafe/internal/listen"
	"carafe/internal/logfile"
	"carafe/internal/master"
	"carafe/internal/pyembed"
	"carafe/internal/sdnotify"
	"carafe/internal/static"
	"carafe/internal/worker"
)

// version is set at link time.
var version = "dev"

// The main goroutine stays on the process's first OS thread, which a
// worker makes Python's main thread (see pyembed.ServeMainThread).
func init() { runtime.LockOSThread() }

func main() {
	pyembed.ServeMainThread(func() { os.Exit(run(os.Args[1:])) })
}

func run(args []string) int {
	// Sockets systemd passed (socket activation) are the master's (or a
	// standalone worker's) to take, first: their addresses are the
	// listeners of a configuration that names none.
	var passed []listen.Passed
	var passedWarning string
	if control.WorkerID() == 0 {
		var err error
		if passed, passedWarning, err = listen.Activated(); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		os.Unsetenv(config.EnvActivated) // never a stale one: set here only
		if len(passed) > 0 {
			var addrs []string
			for _, p := range passed {
				addrs = append(addrs, p.Addr)
			}
			b, _ := json.Marshal(addrs) // strings: cannot fail
			os.Setenv(config.EnvActivated, string(b))
		}
	}
	cfg, warnings, err := config.Parse(args, os.Environ())
	switch {
	case errors.Is(err, config.ErrHelp):
		config.Usage(os.Stdout)
		return 0
	case errors.Is(err, config.ErrVersion):
		fmt.Println("carafe", version)
		return 0
	case err != nil:
		for _, w := range warnings { // what led to it, often
			fmt.Fprintln(os.Stderr, w)
		}
		fmt.Fprintf(os.Stderr, "carafe: %v\n(run carafe --help for the options)\n", err)
		return 2
	}
	if err := absPaths(cfg); err != nil {
		fmt.Fprintf(os.Stderr, "carafe: %v\n", err)
		return 1
	}
	child := control.WorkerID() > 0
	if child {
		nameWorker()
		inheritSettings(cfg, os.Stderr)
		os.Unsetenv(config.EnvFiles) // read; not for the app
		if err := wipeStartEnv(config.EnvFiles); err != nil {
			fmt.Fprintf(os.Stderr, "carafe: %s: %v\n", config.EnvFiles, err)
		}
		os.Unsetenv(config.EnvActivated)
	}
	var fromSystemd map[string]net.Listener // by the address that names each
	if len(passed) > 0 {
		if cfg.Daemonize != "" {
			fmt.Fprintln(os.Stderr, "carafe: --daemonize with sockets from systemd (socket activation): "+
				"systemd keeps carafe in the background itself; remove daemonize")
			return 1
		}
		var ws []string
		if fromSystemd, ws, err = listen.Take(passed, slices.Concat(cfg.HTTP, cfg.Socket)); err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		warnings = append(warnings, ws...)
		for a := range fromSystemd {
			if listen.IsUnix(a) && (cfg.ChmodSocket != "" || cfg.ChownSocket != "") {
				warnings = append(warnings, "carafe: chmod-socket and chown-socket are not applied to the socket "+
					"systemd passed for "+a+": its .socket unit's SocketMode=, SocketUser= and SocketGroup= say "+
					"who may connect (systemd's default mode is 0666: anyone on the machine)")
			}
		}
	}
	if passedWarning != "" {
		warnings = append(warnings, passedWarning)
	}
	detached := os.Getenv(envDaemon) != ""
	os.Unsetenv(envDaemon) // not for the workers, nor the app's own subprocesses
	if cfg.Umask != "" {   // validated octal; first, as uWSGI applies it while parsing
		m, _ := strconv.ParseUint(cfg.Umask, 8, 32)
		syscall.Umask(int(m))
	}
	if os.Geteuid() == 0 && cfg.UID != "" {
		// Root, with workers as another user who may write the logs'
		// directory: no log path is followed through a link.
		logfile.Guard()
	}
	if cfg.Daemonize != "" && !child && !detached { // after the umask: it creates the log
		return daemonize(cfg)
	}
	if cfg.MaxFD > 0 { // before any listener or log file is opened
		n := uint64(cfg.MaxFD)
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: n, Max: n}); err != nil {
			why := "raising the hard limit needs root"
			if b, rerr := os.ReadFile("/proc/sys/fs/nr_open"); os.Geteuid() == 0 && rerr == nil {
				why = "the system allows at most " + strings.TrimSpace(string(b)) + " (sysctl fs.nr_open)"
			}
			fmt.Fprintf(os.Stderr, "carafe: --max-fd %d: %v (%s)\n", n, err, why)
			return 1
		}
	}
	resolveVirtualenv(cfg)
	if !child { // the master already said them
		if cfg.ShowConfig {
			warnings = append([]string{cfg.Shown}, warnings...)
		}
		warnings = append(warnings, cfg.PythonPathWarnings()...)
		if cfg.Virtualenv != "" {
			if w, _ := pyembed.CheckVenv(cfg.Virtualenv); w != "" {
				warnings = append(warnings, w)
			}
		}
		if w := pyembed.ActivatedVenvWarning(os.Getenv("VIRTUAL_ENV"), cfg.Virtualenv); w != "" {
			warnings = append(warnings, w)
		}
		if home := os.Getenv("PYTHONHOME"); home != "" {
			// Python reads it as python does, over what the embedded
			// interpreter and --virtualenv would give: another install's
			// standard library, of another version maybe.
			warnings = append(warnings, "carafe: PYTHONHOME="+home+" is set: Python takes its standard "+
				"library from there, whatever --virtualenv says; unset it unless that is what you want")
		}
		if os.Geteuid() == 0 && cfg.UID == "" {
			// As uWSGI warns: a hole in the app is then root's.
			warnings = append(warnings, "carafe: running as root without --uid: the app runs as root too; "+
				"give --uid and --gid the app's own user (carafe binds its sockets and opens its logs first)")
		}
		for _, w := range warnings {
			fmt.Fprintln(os.Stderr, w)
		}
	}
	if cfg.LogFileChmod != "" { // validated octal
		m, _ := strconv.ParseUint(cfg.LogFileChmod, 8, 32)
		logfile.SetMode(os.FileMode(m))
	}
	if cfg.LogTo != "" {
		if err := logfile.Redirect(cfg.LogTo); err != nil {
			fmt.Fprintf(os.Stderr, "carafe: --logto %s: %v\n", cfg.LogTo, err)
			return 1
		}
		if !child && !detached { // (a daemon's stderr was the file already)
			// Said on the terminal above, and in the file, where an
			// operator who reads only the log looks (uWSGI writes there).
			for _, w := range warnings {
				fmt.Fprintln(os.Stderr, w)
			}
		}
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if path := os.Getenv("CARAFE_CPUPROFILE"); path != "" {
		// A development aid for the benchmark work: a Go CPU profile of
		// the worker, written when it stops.
		if f, err := os.Create(path); err == nil && pprof.StartCPUProfile(f) == nil {
			defer pprof.StopCPUProfile()
		}
	}
	notify := sdnotify.Take() // unset for the workers and the app: only the main process reports
	if !child && cfg.NeedsMaster() {
		// The master stays where it was started: workers it re-executes
		// apply --chdir and --env themselves, from the same arguments.
		mo := masterOptions(cfg, args, log)
		mo.Notify = notify
		mo.Passed = fromSystemd
		return master.Run(mo)
	}
	os.Unsetenv(config.EnvActivated) // read; not for the app
	if cfg.LogTo == "" {
		// What the app prints goes where the log goes, as in uWSGI, whose
		// workers write stdout to stderr: an init script's 2>>app.log, or
		// supervisord's stderr_logfile, kept the log and the tracebacks
		// and lost every print.
		if err := logfile.KeepStdout(); err != nil {
			fmt.Fprintf(os.Stderr, "carafe: stdout: %v\n", err)
		}
		if err := logfile.Redirect("/dev/stderr"); err != nil {
			fmt.Fprintf(os.Stderr, "carafe: stdout to stderr: %v\n", err)
		}
	}
	if f, err := logfile.Private(); err == nil {
		// carafe's own lines go to a copy of fd 2, which an app that
		// closes fd 2 does not hand to the next client (see Private):
		// every Go write to os.Stderr, the log's and the request log's.
		// Python's sys.stderr is fd 2 still.
		os.Stderr = f
		log = slog.New(slog.NewTextHandler(f, nil))
	}
	stderr := os.Stderr
	if err := prepare(cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	wo := workerOptions(cfg, log, stderr)
	wo.Notify = notify
	wo.Passed = fromSystemd
	if err := staticHandlers(cfg, &wo); err != nil {
		fmt.Fprintf(os.Stderr, "carafe: %v\n", err)
		return 1
	}
	if child {
		return runChild(wo)
	}
	if err := worker.Run(wo); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// envDaemon marks the detached copy --daemonize starts, so that it runs.
const envDaemon = "CARAFE_DAEMONIZED"

// daemonize starts this command again detached (uWSGI's daemonize): in a
// session of its own, with no terminal, its output going to the log file
// (which it opens itself, as --logto). The copy re-reads the same
// arguments from the same directory; this one returns at once.
func daemonize(cfg *config.Config) int {
	null, err := os.Open(os.DevNull)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carafe: --daemonize: %v\n", err)
		return 1
	}
	defer null.Close()
	out, err := logfile.OpenAppend(cfg.LogTo)
	if err != nil {
		fmt.Fprintf(os.Stderr, "carafe: --daemonize %s: %v\n", cfg.LogTo, err)
		return 1
	}
	defer out.Close()
	// By its own name, not /proc/self/exe's: the kernel names a process
	// after the file it runs, and pgrep / killall carafe must find it.
	self, err := os.Executable()
	if err != nil {
		fmt.Fprintf(os.Stderr, "carafe: --daemonize: %v\n", err)
		return 1
	}
	cmd := exec.Command(self, os.Args[1:]...)
	cmd.Args[0] = os.Args[0]
	cmd.Env = append(os.Environ(), envDaemon+"=1")
	cmd.Stdin, cmd.Stdout, cmd.Stderr = null, out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "carafe: --daemonize: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "carafe: running in the background as pid %d, logging to %s\n", cmd.Process.Pid, cfg.LogTo)
	cmd.Process.Release()
	return 0
}

// accessFilter is what --log-4xx, --log-5xx, --log-slow, --log-big and
// --log-zero keep of the access log that --disable-logging turns off; the
// zero Filter (logging on) keeps every line.
func accessFilter(cfg *config.Config) accesslog.Filter {
	var f accesslog.Filter
	if !cfg.DisableLogging {
		return f
	}
	if cfg.Log4xx {
		f.Classes = append(f.Classes, 4)
	}
	if cfg.Log5xx {
		f.Classes = append(f.Classes, 5)
	}
	f.Slower = time.Duration(cfg.LogSlow) * time.Millisecond
	f.Bigger = int64(cfg.LogBig)
	f.Empty = cfg.LogZero
	f.IOError, f.Sendfile = cfg.LogIOError, cfg.LogSendfile
	return f
}

// nameWorker gives a worker its master's command name. The master starts
// workers through /proc/self/exe (the very binary it runs, even after an
// upgrade replaced the file on disk), so the kernel names them "exe", and
// ps, top, pgrep carafe and killall carafe would miss them. The threads Go
// started before this are renamed too; later ones inherit the name.
func nameWorker() {
	name := []byte(filepath.Base(os.Args[0]))
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		comm := "/proc/self/task/" + t.Name() + "/comm"
		if b, err := os.ReadFile(comm); err == nil && strings.TrimSpace(string(b)) == "exe" {
			os.WriteFile(comm, name, 0) // best effort: a name is cosmetic
		}
	}
}

// runChild is a worker started by the master; a failure to load the app
// reached the master over the control socket, which prints it once.
func runChild(wo worker.Options) int {
	err := worker.RunChild(wo)
	var le *worker.LoadError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &le):
		return 3
	case errors.Is(err, worker.ErrHarakiri):
		return 1
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

func masterOptions(cfg *config.Config, args []string, log *slog.Logger) master.Options {
	return master.Options{
		Args:           args,
		WorkerSettings: masterSettings(cfg),
		WorkerEnv:      configFilesEnv(cfg, log),
		Reconfigure:    reconfigure(args, cfg, log),
		HTTP:           cfg.HTTP,
		Socket:         cfg.Socket,
		SocketPerm:     socketPerm(cfg),
		Processes:      cfg.Processes,
		Threads:        cfg.Threads,
		AppID:          appID(cfg),
		Mercy:          time.Duration(cfg.WorkerReloadMercy) * time.Second,
		HarakiriGrace:  time.Duration(cfg.HarakiriGrace) * time.Second,
		TouchReload:    cfg.TouchReload,
		TouchLog:       cfg.TouchLogReopen,
		Stats:          cfg.Stats,
		Fifos:          cfg.MasterFifo,
		Version:        version,
		Pidfiles:       pidfiles(cfg),
		Vacuum:         cfg.Vacuum,
		UID:            cfg.UID,
		GID:            cfg.GID,
		MasterAsRoot:   cfg.MasterAsRoot,
		NoInitgroups:   cfg.NoInitgroups,
		LogFile:        logRotation(cfg),
		ReqLogFile:     reqLogFile(cfg),
		Cheaper:        cheaperOf(cfg),
		Log:            log,
	}
}

// cheaperOf is cfg's worker scaling, for the master.
func cheaperOf(cfg *config.Config) master.Cheaper {
	return master.Cheaper{Min: cfg.Cheaper, Initial: cfg.CheaperInitial, Step: cfg.CheaperStep,
		Overload: cfg.CheaperOverload, Algo: cfg.CheaperAlgo, Idle: cfg.CheaperIdle,
		BusyMin: float64(cfg.CheaperBusyMin) / 100, BusyMax: float64(cfg.CheaperBusyMax) / 100,
		BusyMult: cfg.CheaperBusyMult, RSSSoft: int64(cfg.CheaperRSSSoft), RSSHard: int64(cfg.CheaperRSSHard)}
}

// reqLogFile is --req-logger's file (validated: file:FILE); "" for none.
func reqLogFile(cfg *config.Config) string { return strings.TrimPrefix(cfg.ReqLogger, "file:") }

func socketPerm(cfg *config.Config) listen.Perm {
	return listen.Perm{Mode: cfg.ChmodSocket, Owner: cfg.ChownSocket, ReusePort: cfg.ReusePort}
}

func pidfiles(cfg *config.Config) []master.Pidfile {
	var out []master.Pidfile
	for _, p := range cfg.Pidfiles() {
		out = append(out, master.Pidfile{Path: p.Path, AfterDrop: p.AfterDrop, Atomic: p.Atomic})
	}
	return out
}

// absPaths makes the files and unix sockets carafe itself opens absolute:
// a worker opens or reopens them after --chdir, and a standalone one binds
// its sockets there, yet they must be the ones the master (which never
// changes directory) and uWSGI would use. uWSGI opens --logto (and
// --daemonize's log) and writes --pidfile before it changes directory, so
// those are taken from where carafe was started; everything it opens or
// makes after (unix sockets, --master-fifo, --pidfile2 and the safe
// pidfiles, the logger and req-logger files, the touch files its master
// looks at) is taken from --chdir: an ini file's `socket = app.sock`
// beside `chdir = /srv/app` is the nginx config's /srv/app/app.sock, and
// its `touch-reload = reload.txt` is /srv/app/reload.txt. Static
// directories stay relative to --chdir, as documented.
func absPaths(cfg *config.Config) error {
	var err error
	abs := func(p *string) {
		if *p != "" && err == nil {
			*p, err = filepath.Abs(*p)
		}
	}
	inChdir := func(p *string) {
		if *p != "" && cfg.Chdir != "" && !filepath.IsAbs(*p) {
			*p = filepath.Join(cfg.Chdir, *p)
		}
		abs(p)
	}
	if path, ok := strings.CutPrefix(cfg.Logger, "file:"); ok && path == cfg.LogTo {
		inChdir(&cfg.LogTo) // the logger's file (config.Parse made it --logto)
		cfg.Logger = "file:" + cfg.LogTo
	}
	abs(&cfg.LogTo)
	abs(&cfg.LogBackupName)
	for i := range cfg.EnvDir { // uWSGI reads it as it parses the option
		abs(&cfg.EnvDir[i])
	}
	abs(&cfg.Pidfile)
	inChdir(&cfg.Pidfile2)
	inChdir(&cfg.SafePidfile)
	inChdir(&cfg.SafePidfile2)
	if path, ok := strings.CutPrefix(cfg.ReqLogger, "file:"); ok {
		inChdir(&path)
		cfg.ReqLogger = "file:" + path
	}
	socket := func(p *string) {
		if listen.IsUnix(*p) {
			inChdir(p)
		}
	}
	for _, list := range [][]string{cfg.HTTP, cfg.Socket} {
		for i := range list {
			socket(&list[i])
		}
	}
	socket(&cfg.Stats)
	for _, list := range [][]string{cfg.TouchReload, cfg.TouchLogReopen, cfg.MasterFifo} {
		for i := range list {
			inChdir(&list[i])
		}
	}
	if err == nil && cfg.LogBackupName != "" && cfg.LogBackupName == cfg.LogTo {
		// A rotation renamed the log onto itself, every second for good.
		err = fmt.Errorf("config: --log-backupname %s is the log itself (--logto): give the rotated file another name", cfg.LogBackupName)
	}
	return err
}

// applyEnvDir sets the environment from dir as uWSGI's envdir does (and
// daemontools' envdir, but for taking the whole file): a variable for each
// regular file not starting with '.', its content with trailing blanks and
// line ends removed and NUL bytes read as newlines; an empty file unsets
// its variable.
func applyEnvDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") {
			continue
		}
		path := filepath.Join(dir, name)
		fi, err := os.Stat(path) // (a symbolic link counts as what it leads to)
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			continue
		}
		if fi.Size() == 0 {
			os.Unsetenv(name)
			continue
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		v := strings.ReplaceAll(strings.TrimRight(string(b), " \t\r\n"), "\x00", "\n")
		if err := os.Setenv(name, v); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	return nil
}

// logRotation is the --logto file with its --log-maxsize rotation.
func logRotation(cfg *config.Config) logfile.Rotation {
	return logfile.Rotation{Path: cfg.LogTo, Backup: cfg.LogBackupName, Max: int64(cfg.LogMaxSize)}
}

// resolveVirtualenv makes a relative --virtualenv absolute, as the
// master and every worker read it (from the directory carafe started in):
// relative to --chdir, as uWSGI takes its home, unless only the start
// directory has it (carafe's own reading before).
func resolveVirtualenv(cfg *config.Config) {
	v := cfg.Virtualenv
	if v == "" || filepath.IsAbs(v) {
		return
	}
	abs, _ := filepath.Abs(v)
	if cfg.Chdir != "" {
		inChdir, _ := filepath.Abs(filepath.Join(cfg.Chdir, v))
		if _, err := os.Stat(inChdir); err == nil {
			abs = inChdir
		} else if _, err := os.Stat(abs); err != nil {
			abs = inChdir // (the error names where uWSGI would look)
		}
	}
	cfg.Virtualenv = abs
}

// prepare applies --chdir and --env before Python starts, so the app's
// imports and os.environ see them.
func prepare(cfg *config.Config) error {
	if cfg.Chdir != "" {
		if err := os.Chdir(cfg.Chdir); err != nil {
			return fmt.Errorf("carafe: --chdir: %w", err)
		}
	}
	for _, kv := range cfg.Env {
		k, v, _ := strings.Cut(kv, "=")
		if err := os.Setenv(k, v); err != nil {
			return fmt.Errorf("carafe: --env %s: %w", kv, err)
		}
	}
	for _, dir := range cfg.EnvDir {
		if err := applyEnvDir(dir); err != nil {
			return fmt.Errorf("carafe: --envdir: %w", err)
		}
	}
	if f := cfg.WSGIFile; f != "" && cfg.Paste == "" {
		if _, err := os.Stat(f); errors.Is(err, fs.ErrNotExist) {
			return missingWSGIFile(cfg)
		}
	}
	if cfg.Virtualenv != "" {
		if st, err := os.Stat(cfg.Virtualenv); err != nil || !st.IsDir() {
			if err := pyembed.Unreadable(cfg.Virtualenv); err != nil {
				return fmt.Errorf("carafe: --virtualenv: %w: %s", err, pyembed.ReadAccess)
			}
			if errors.Is(err, fs.ErrNotExist) {
				return fmt.Errorf("carafe: --virtualenv %s: no such directory", cfg.Virtualenv)
			}
			return fmt.Errorf("carafe: --virtualenv %s: not a directory", cfg.Virtualenv)
		}
		if _, err := pyembed.CheckVenv(cfg.Virtualenv); err != nil {
			return fmt.Errorf("carafe: %w", err) // its warning is the master's to give, once
		}
	}
	return nil
}

// missingWSGIFile says that the --wsgi-file (or --mount's file) is not
// there. mysite.wsgi, Django's project module, is a file by its ending,
// as in uWSGI: for such a name it says how to give the module instead.
func missingWSGIFile(cfg *config.Config) error {
	f, opt := cfg.WSGIFile, "--wsgi-file "+cfg.WSGIFile
	if len(cfg.Mount) > 0 {
		opt = "--mount " + cfg.Mount[0]
	}
	err := fmt.Errorf("carafe: %s: no file %s in %s", opt, f, cwd())
	mod, _, _ := strings.Cut(f, ":")
	if !strings.HasSuffix(mod, ".wsgi") || !dottedName.MatchString(mod) {
		return err
	}
	if prefix, _, ok := strings.Cut(opt, "="); ok && len(cfg.Mount) > 0 {
		return fmt.Errorf("%w; for the module %s, give %s=%s:application", err, mod, prefix, mod)
	}
	return fmt.Errorf("%w; for the module %s, give --module %s", err, mod, mod)
}

// dottedName is a Python module's dotted name.
var dottedName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$`)

func cwd() string {
	d, _ := os.Getwd()
	return d
}

func workerOptions(cfg *config.Config, log *slog.Logger, stderr *os.File) worker.Options {
	module, callable := cfg.Module, cfg.Callable
	if m, c, ok := strings.Cut(module, ":"); ok {
		module = m
		if callable == "" {
			callable = c
		}
	}
	secs := func(f float64) time.Duration { return time.Duration(f * float64(time.Second)) }
	keepalive := secs(cfg.HTTPKeepalive)
	if cfg.HTTPKeepalive == 0 {
		keepalive = -1
	}
	return worker.Options{
		HTTP:       cfg.HTTP,
		UWSGI:      cfg.Socket,
		SocketPerm: socketPerm(cfg),
		Vacuum:     cfg.Vacuum,
		AppID:      appID(cfg),
		Python: pyembed.Options{
			Virtualenv: cfg.Virtualenv, Module: module, WSGIFile: cfg.WSGIFile,
			Paste: cfg.Paste, PasteLogger: cfg.PasteLogger,
			Callable: callable, PythonPath: cfg.PythonPath, Imports: cfg.Import, Argv: strings.Fields(cfg.PyArgv), Optimize: cfg.Optimize,
			NoFileWrapper: cfg.NoFileWrapper, Threads: cfg.Threads, Processes: cfg.Processes,
			ServerSoftware: "carafe/" + version,
		},
		HTTPOptions: httpfront.Options{
			Limits: httpfront.Limits{
				MaxRequestLine: cfg.LimitRequestLine,
				MaxFieldSize:   cfg.LimitRequestFieldSize,
				MaxHeaders:     cfg.LimitRequestFields,
			},
			LimitPost:     cfg.LimitPost,
			PostBuffering: cfg.PostBuffering,
			HeaderTimeout: secs(cfg.HTTPHeaderTimeout),
			IOTimeout:     secs(cfg.HTTPTimeout),
			Keepalive:     keepalive,
		},
		UWSGIOptions: httpfront.Options{
			LimitPost:     cfg.LimitPost,
			PostBuffering: cfg.PostBuffering,
			BufferSize:    cfg.BufferSize,
			HeaderTimeout: secs(cfg.SocketTimeout),
			IOTimeout:     secs(cfg.SocketTimeout),
			Keepalive:     -1,
		},
		Access:           !cfg.DisableLogging || !accessFilter(cfg).All(),
		AccessFilter:     accessFilter(cfg),
		AccessFormat:     cfg.LogFormat,
		AccessFile:       reqLogFile(cfg),
		DrainTimeout:     time.Duration(cfg.WorkerReloadMercy) * time.Second,
		MaxRequests:      cfg.MaxRequests,
		MaxRequestsDelta: cfg.MaxRequestsDelta,
		MaxLifetime:      time.Duration(cfg.MaxWorkerLifetime) * time.Second,
		MaxLifetimeDelta: time.Duration(cfg.MaxLifetimeDelta) * time.Second,
		ReloadOnRSS:      int64(cfg.ReloadOnRSS) << 20,
		AutoReload:       time.Duration(cfg.PyAutoReload) * time.Second,
		AutoReloadIgnore: cfg.PyAutoReloadIgnore,
		EvilRSS:          int64(cfg.EvilReloadOnRSS) << 20,
		Harakiri:         time.Duration(cfg.Harakiri) * time.Second,
		HarakiriGrace:    time.Duration(cfg.HarakiriGrace) * time.Second,
		ReportLoad:       cfg.Cheaper > 0,
		LogFile:          logRotation(cfg),
		Stderr:           stderr,
		Log:              log,
	}
}

// staticHandlers builds the --static-map and --x-sendfile-dir handlers;
// relative directories are taken from --chdir, where the worker now is.
func staticHandlers(cfg *config.Config, wo *worker.Options) error {
	base := static.Options{Index: cfg.StaticIndex, Precompressed: cfg.StaticPrecompressed,
		Expires: time.Duration(cfg.StaticMaxAge) * time.Second, Safe: cfg.StaticSafe, Log: wo.Log}
	for i, values := range cfg.StaticExpires { // validated, in uWSGI's order of kinds
		for _, v := range values {
			r, err := static.ParseExpiresRule(config.ExpiresOptionNames[i], v)
			if err != nil {
				return err
			}
			base.ExpiresRules = append(base.ExpiresRules, r)
		}
	}
	// --static-map URL=DIR maps URL onto DIR; --static-map2 URL=DIR looks
	// the whole path up under DIR: it is URL=DIR/URL. --check-static DIR
	// is uWSGI's docroot: the whole path, under DIR, after the prefixes.
	var public, internal []static.Mapping
	for i, maps := range [][]string{cfg.StaticMap, cfg.StaticMap2, cfg.CheckStatic, cfg.XAccelMap} {
		option := []string{"static-map", "static-map2", "check-static", "x-accel-map"}[i]
		for _, m := range maps {
			value := m
			if option == "check-static" { // the whole path, under DIR
				m = "/=" + m
			}
			mp, err := static.ParseMapping(option, m) // validated; "/=DIR" cannot fail but on Abs
			if err != nil {
				return err
			}
			mp.Source = "--" + option + " " + value
			switch option {
			case "static-map2":
				mp.Dir = filepath.Join(mp.Dir, mp.Prefix)
				mp.Source += " (its directory " + mp.Dir + ")" // (the one that may be missing)
			case "x-accel-map":
				internal = append(internal, mp)
				continue
			}
			public = append(public, mp)
		}
	}
	if len(public) > 0 {
		o := base
		o.SkipExt, o.Maps = cfg.StaticSkipExt, public
		h, err := static.New(o)
		if err != nil {
			return err
		}
		for _, d := range h.Missing() {
			wo.Log.Warn("carafe: static directory not found; served once it exists (its URLs go to the app until then)",
				"option", d)
		}
		wo.HTTPOptions.Static, wo.UWSGIOptions.Static = h, h
	}
	// A file the app names (X-Accel-Redirect, X-Sendfile) gets no caching
	// headers of carafe's: --static-max-age and the expiry rules are for
	// public files, and a permission-checked download given "public"
	// would be kept by shared caches for whoever asks next. The app's own
	// stay.
	named := base
	named.Expires, named.ExpiresRules = 0, nil
	if cfg.XAccelRedirect && len(internal)+len(public) == 0 {
		// Nothing to serve from: the header goes on to the client (or
		// the server in front), as without the option.
		wo.Log.Warn("carafe: --x-accel-redirect is not applied: no --x-accel-map or --static-map to serve its URIs from")
	} else if cfg.XAccelRedirect || len(internal) > 0 {
		o := named
		o.SkipExt, o.Maps = cfg.StaticSkipExt, append(internal, public...)
		h, err := static.New(o)
		if err != nil {
			return err
		}
		for _, d := range h.Missing() {
			if strings.HasPrefix(d, "--x-accel-map ") { // (the others were said above)
				wo.Log.Warn("carafe: X-Accel-Redirect directory not found; served once it exists (its files get 404 until then)",
					"option", d)
			}
		}
		wo.HTTPOptions.XAccel, wo.UWSGIOptions.XAccel = h, h
	}
	var add []byte
	for _, h := range cfg.AddHeader { // validated: Name: value
		name, value, _ := strings.Cut(h, ":")
		if strings.EqualFold(name, "connection") {
			// A connection option is carafe's to say: "close" (uWSGI's
			// configs that want every connection closed) turns HTTP
			// keep-alive off, which then says it on every response.
			if strings.EqualFold(strings.TrimSpace(value), "close") {
				wo.HTTPOptions.Keepalive = -1
			}
			continue
		}
		add = append(add, name+": "+strings.TrimSpace(value)+"\r\n"...)
	}
	wo.HTTPOptions.AddHeaders, wo.UWSGIOptions.AddHeaders = add, add
	trust, err := httpfront.ParseProxyTrust(cfg.ForwardedAllowIPs) // validated
	if err != nil {
		return err
	}
	wo.HTTPOptions.Forwarded = trust
	wo.HTTPOptions.LogXForwardedFor = cfg.LogXForwardedFor
	wo.UWSGIOptions.LogXForwardedFor = cfg.LogXForwardedFor
	wo.HTTPOptions.NoSendfile, wo.UWSGIOptions.NoSendfile = cfg.DisableSendfile, cfg.DisableSendfile
	if cfg.ManageScriptName {
		wo.HTTPOptions.MountPoint, wo.UWSGIOptions.MountPoint = cfg.MountPoint, cfg.MountPoint
	}
	if len(cfg.XSendfileDir) > 0 {
		o := named
		// The app names the file that goes out: not a sibling, nor a
		// directory's index (a path built from an empty name).
		o.Precompressed, o.Index = false, nil
		for _, d := range cfg.XSendfileDir {
			abs, err := filepath.Abs(d)
			if err != nil {
				return err
			}
			// The file path the app names is resolved like a URL under a
			// mapping of the directory onto itself.
			o.Maps = append(o.Maps, static.Mapping{Prefix: abs, Dir: abs, Source: "--x-sendfile-dir " + d})
		}
		h, err := static.New(o)
		if err != nil {
			return err
		}
		for _, d := range h.Missing() {
			if strings.HasPrefix(d, "--x-sendfile-dir ") { // (--static-safe's were said above)
				wo.Log.Warn("carafe: X-Sendfile directory not found; served once it exists (its files get 404 until then)",
					"option", d)
			}
		}
		wo.HTTPOptions.XSendfile, wo.UWSGIOptions.XSendfile = h, h
	}
	return nil
}

func appID(cfg *config.Config) string {
	if cfg.WSGIFile != "" {
		return "wsgi-file " + cfg.WSGIFile
	}
	if cfg.Paste != "" {
		return "paste " + cfg.Paste
	}
	return "module " + cfg.Module
}
