// Package worker is one carafe worker process: it binds (standalone) or
// adopts (under a master) the listeners, starts the embedded interpreter
// with the app, runs the front ends, recycles itself when its limits say
// so, ends stuck requests (harakiri), and drains on shutdown.
package worker

import (
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"carafe/internal/accesslog"
	"carafe/internal/control"
	"carafe/internal/httpfront"
	"carafe/internal/listen"
	"carafe/internal/logfile"
	"carafe/internal/pyembed"
	"carafe/internal/sdnotify"
	"carafe/internal/wsgi"
)

// Options configure a worker. They are plain values; cmd/carafe fills
// them from the configuration.
type Options struct {
	HTTP        []string    // addresses to serve HTTP/1.1 on (standalone mode binds them)
	UWSGI       []string    // addresses to serve the uwsgi protocol on
	SocketPerm  listen.Perm // what unix socket files bound standalone get
	Vacuum      bool        // standalone: remove the unix sockets on exit
	vacuum      func()      // Run's doing of Vacuum, also before an exit during the import
	shared      []bool      // by listener: other workers accept from it too (RunChild's, from the master)
	Python      pyembed.Options
	AppID       string // how the app is named in messages ("module wsgi:app")
	HTTPOptions httpfront.Options
	// UWSGIOptions configure the uwsgi-protocol listeners.
	UWSGIOptions httpfront.Options
	// Passed are the listeners systemd passed (socket activation), by the
	// address of HTTP or UWSGI that names each: standalone serves on them
	// rather than binding those addresses, and never removes their files.
	Passed map[string]net.Listener
	// Access enables the access log on Stderr; AccessFilter picks its
	// lines when logging is otherwise disabled.
	Access       bool
	AccessFilter accesslog.Filter
	// AccessFormat is a uWSGI log-format line for it (--log-format); ""
	// keeps carafe's own line.
	AccessFormat string
	// AccessFile, when set, takes the access log instead of Stderr
	// (--req-logger); it is reopened on SIGUSR1.
	AccessFile string
	// DrainTimeout bounds a graceful stop (SIGTERM, reload, recycling).
	DrainTimeout time.Duration
	// MaxRequests and MaxLifetime ask the master for a replacement; zero
	// means never. As in uWSGI, worker N's limits are raised by N-1 times
	// their deltas, so that workers started together do not all leave
	// together.
	MaxRequests, MaxRequestsDelta int
	MaxLifetime, MaxLifetimeDelta time.Duration
	// ReloadOnRSS asks for a replacement once resident memory exceeds
	// this many bytes (checked four times a second); zero means never.
	ReloadOnRSS int64
	// AutoReload, when set, is how often the files of the modules the app
	// imported are looked at; the master reloads when one changes
	// (--py-autoreload). AutoReloadIgnore names modules not looked at.
	AutoReload       time.Duration
	AutoReloadIgnore []string
	// EvilRSS ends the worker at once, requests in flight and all, once
	// resident memory exceeds this many bytes; zero means never.
	EvilRSS int64
	// ReportLoad has the worker tell its master, once a second, how much
	// of its threads' time it has spent in requests (--cheaper).
	ReportLoad bool
	// Harakiri ends requests running longer than this; zero means never.
	Harakiri time.Duration
	// HarakiriGrace bounds how long the other requests may finish after a
	// harakiri (and DrainTimeout too).
	HarakiriGrace time.Duration
	// Notify tells systemd (Type=notify) when a worker running without a
	// master is ready and when it stops; nil when not asked.
	Notify *sdnotify.Notifier
	// LogFile is the --logto file (Path; "" for stderr), reopened on
	// SIGUSR1. A worker without a master also rotates it at --log-maxsize.
	LogFile logfile.Rotation
	Stderr  io.Writer
	Log     *slog.Logger
}

// LoadError is returned when the worker cannot start: the app cannot be
// imported (its text is then the one-paragraph explanation with the Python
// traceback), or a file it must open (--req-logger) cannot be. The master
// stops on it instead of restarting the worker in a loop.
type LoadError struct {
	App string
	Err error
}

func (e *LoadError) Error() string {
	var le *pyembed.LoadError
	if errors.As(e.Err, &le) {
		if le.Hint != "" {
			return fmt.Sprintf("carafe: cannot load the app (%s). Python said:\n%s\n%s", e.App, le.Traceback, le.Hint)
		}
		return fmt.Sprintf("carafe: cannot load the app (%s). Python said:\n%s", e.App, le.Traceback)
	}
	return fmt.Sprintf("carafe: cannot start the app (%s): %v", e.App, e.Err)
}

// ErrHarakiri is returned when the worker left because a request overran.
var ErrHarakiri = errors.New("carafe: a request ran past --harakiri (see above), and this worker has left; " +
	"with --master another would have been started in its place")

// Run serves standalone (no master) until SIGTERM (graceful), SIGINT or
// SIGQUIT (immediate).
func Run(o Options) error {
	var listeners []net.Listener
	var bound []string // the addresses bound here, not passed
	for _, a := range slices.Concat(o.HTTP, o.UWSGI) {
		if l, ok := o.Passed[a]; ok {
			listeners = append(listeners, l)
			continue
		}
		l, err := listen.Bind(a, o.SocketPerm)
		if err != nil {
			closeAll(listeners)
			return err
		}
		listeners = append(listeners, l)
		bound = append(bound, a)
	}
	if o.Vacuum {
		o.vacuum = func() {
			// Not a file systemd made: its socket unit keeps it for the next start.
			if err := listen.Vacuum(bound); err != nil {
				o.Log.Warn("carafe: --vacuum cannot remove a socket", "err", err)
			}
		}
		defer o.vacuum()
	}
	return run(o, listeners, nil)
}

// RunChild serves as a worker started by a master: listeners and the
// control socket are inherited. It returns when told to stop, or exits
// the process at once when the master goes away.
func RunChild(o Options) error {
	ctl, listeners, err := control.Inherited(len(o.HTTP) + len(o.UWSGI))
	if err != nil {
		return err
	}
	o.shared = control.SharedListeners(len(listeners))
	return run(o, listeners, ctl)
}

// worker is the running state shared by the request path, the watchdog
// and the control loop.
type worker struct {
	o  Options
	ip *pyembed.Interp
	// ended holds the calls harakiri ended (answered 504, abandoned): a
	// stop does not report them as its own.
	ended    sync.Map // *wsgi.Call → struct{}
	ctl      *control.Conn
	limit    int64
	requests atomic.Int64
	errors   atomic.Int64
	gone     atomic.Int64 // requests not run: their clients had gone
	rtTotal  atomic.Int64 // nanoseconds
	srvs     []*httpfront.Server
	access   *accesslog.Logger // nil without an access log
	start    time.Time
	life     time.Duration // --max-worker-lifetime plus its delta; zero never
	// bornOverRSS: resident memory was over --reload-on-rss already when
	// the worker became ready (see rssMayRecycle).
	bornOverRSS bool
	// gaveBackInVain: when giving memory back last left the worker over
	// --reload-on-rss (checkLimits only).
	gaveBackInVain time.Time
	recycleMu      sync.Mutex
	recycling      bool      // asked for a replacement (and serving on meanwhile)
	noRecycle      time.Time // after a failed replacement, do not ask again before
	harakiri       chan struct{}
	// retire asks the serving loop to stop without a deadline (the
	// master's Retire); retired is closed when that drain is over.
	retire, retired chan struct{}
	shedMu          sync.Mutex
	shedding        atomic.Bool // see shedWhileStuck
	starved         int         // servers out of file descriptors (see outOfFiles; shedMu)
	starvedSpell    int         // counts the spells of starved > 0 (shedMu)
	steeredAway     bool        // what the master was last told: take new connections elsewhere (shedMu)
	mem             *memReturn  // gives a burst's memory back (memory.go)
}

func run(o Options, listeners []net.Listener, ctl *control.Conn) error {
	w := &worker{o: o, ctl: ctl, harakiri: make(chan struct{}), retire: make(chan struct{}, 1), retired: make(chan struct{}),
		start: time.Now(), mem: newMemReturn()}
	if o.MaxRequests > 0 {
		w.limit = int64(o.MaxRequests) + int64(stagger()*o.MaxRequestsDelta)
	}
	// Signals are watched from the start: a log rotation (SIGUSR1) or a
	// stop that arrives while the app is still importing is not lost.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	// SIGHUP, SIGTTIN and SIGTTOU are the master's; a worker drops them,
	// and one without a master says why it did not reload. They are
	// caught, not ignored: exec keeps an ignored signal ignored, and the
	// processes the app starts would then outlive a SIGHUP.
	masterSigs := make(chan os.Signal, 1)
	signal.Notify(masterSigs, syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU)
	if ctl != nil {
		// Until now SIGUSR1 and SIGUSR2 had their default action, which
		// ends the process: the master holds them back till it hears this.
		ctl.Send(control.Msg{T: control.Watching})
	}
	// SIGPIPE and SIGXFSZ are ignored, as CPython's own start-up ignores
	// them (the embedded interpreter installs no signal handlers): a write
	// to a closed socket from a thread the app started, which is no Go
	// thread, would otherwise kill the worker where Python raises
	// BrokenPipeError. subprocess resets both in the app's children.
	signal.Ignore(syscall.SIGPIPE, syscall.SIGXFSZ)
	// The request log is opened before the app loads: an app that starts
	// a thread at import could hold Python's finalisation, and so a worker
	// that cannot open its log, for good. Failing here needs none.
	var access *accesslog.Logger
	var accessFile *logfile.File
	if o.Access {
		out := o.Stderr
		var format *accesslog.Format
		var err error
		if o.AccessFormat != "" {
			// (validated with the configuration already)
			if format, err = accesslog.ParseFormat(o.AccessFormat, os.Getpid(), control.WorkerID()); err != nil {
				return w.loadError(listeners, err)
			}
		}
		if o.AccessFile != "" {
			if accessFile, err = logfile.Open(o.AccessFile); err != nil {
				return w.loadError(listeners, fmt.Errorf("--req-logger: %w", err))
			}
			defer accessFile.Close()
			out = accessFile
		}
		access = accesslog.New(out, o.AccessFilter, format)
		w.access = access
		defer access.Flush()
	}
	o.Python.Keys = wsgi.Keys
	o.Python.BeforeDeath = access.Flush
	o.Python.ListenFDs = listenerFDs(listeners)
	o.Python.ClientWaits = o.Harakiri > 0
	loaded := quitWhileLoading(ctl != nil, o.vacuum)
	ip, err := pyembed.Start(o.Python)
	loaded()
	if err != nil {
		return w.loadError(listeners, err)
	}
	w.ip = ip
	admit := &httpfront.Admission{Pool: w.ip.Occupancy}
	o.HTTPOptions.Admit, o.UWSGIOptions.Admit = admit, admit
	httpSrv := newServer(w, o.HTTPOptions, httpfront.HTTP, access, o.Log)
	uwsgiSrv := newServer(w, o.UWSGIOptions, httpfront.UWSGI, access, o.Log)
	w.srvs = []*httpfront.Server{httpSrv, uwsgiSrv}
	about := fmt.Sprintf("Python %s, app %s, %d thread(s)",
		strings.SplitN(pyembed.Version(), " ", 2)[0], o.AppID, o.Python.Threads)
	if ip.Floating() {
		about += fmt.Sprintf(", floating, GOMAXPROCS %d", runtime.GOMAXPROCS(0))
	}
	errc := make(chan error, len(listeners))
	for i, l := range listeners {
		srv := httpSrv
		if i >= len(o.HTTP) {
			srv = uwsgiSrv
		}
		serve := srv.Serve
		if i < len(o.shared) && o.shared[i] || ctl != nil {
			// Under a master, also on a socket of this worker's own (TCP
			// with several processes): a connection left in its queue
			// outlives a crash of this worker (the master keeps the socket,
			// and the replacement takes it), and waits a harakiri out for
			// the replacement; one taken and parked here dies or waits with
			// the worker. Taken without the limit, a crash failed a request
			// or more that had not begun, where uWSGI failed none.
			serve = srv.ServeAdmitted
		}
		go func(l net.Listener, errc chan<- error) { errc <- serve(l) }(l, errc) // (errc, not the variable: a retire drops it)
	}
	if ctl != nil {
		w.noteReadyRSS()
		ctl.Send(control.Msg{T: control.Ready, Text: about})
		go w.controlLoop()
		if o.ReportLoad {
			go w.reportLoad()
		}
	} else {
		o.Log.Info("carafe: " + about)
		for i, l := range listeners {
			if i < len(o.HTTP) {
				o.Log.Info("carafe: serving HTTP on " + listen.HTTPWhere(l.Addr()))
			} else {
				o.Log.Info("carafe: serving the uwsgi protocol on " + l.Addr().String())
			}
		}
		if err := o.Notify.Send("READY=1\nSTATUS=" + about); err != nil {
			o.Log.Warn(sdnotify.Unheard, "err", err)
		}
	}
	if o.Harakiri > 0 {
		go w.watchdog()
	}
	go w.shedWhileStuck()
	go w.mem.run(w.requests.Load)
	if o.AutoReload > 0 && ctl != nil { // (--py-autoreload implies a master)
		go w.autoReload()
	}
	if o.MaxLifetime > 0 {
		w.life = o.MaxLifetime + time.Duration(stagger())*o.MaxLifetimeDelta
	}
	if w.life > 0 || o.ReloadOnRSS > 0 || o.EvilRSS > 0 {
		go w.watchLimits()
	}
	var rotate <-chan time.Time
	if ctl == nil && o.LogFile.Max > 0 { // under a master, the master rotates
		t := time.NewTicker(logfile.CheckEvery)
		defer t.Stop()
		rotate = t.C
	}
	rotateErr := ""
	for {
		select {
		case now := <-rotate:
			to, err := o.LogFile.Rename(now)
			if err != nil {
				if logfile.Cause(err) != rotateErr { // once, not every second
					o.Log.Error("carafe: cannot rotate the log", "err", err)
				}
				rotateErr = logfile.Cause(err)
				continue
			}
			rotateErr = ""
			if to != "" {
				if err := logfile.Redirect(o.LogFile.Path); err != nil {
					o.Log.Error("carafe: cannot reopen the log", "err", err)
				}
				o.Log.Info("carafe: log rotated (--log-maxsize)", "old", to)
			}
		case err := <-errc:
			closeAll(listeners)
			return fmt.Errorf("carafe: listener failed: %w", err)
		case <-w.harakiri:
			closeAll(listeners)
			w.shutdown(min(o.DrainTimeout, o.HarakiriGrace))
			return ErrHarakiri
		case <-w.retire:
			// cheaper gave up this worker's slot: no new connection, each
			// kept-alive one closed after its response, and every request
			// done, however long it takes (a SIGTERM meanwhile gives the
			// rest the mercy, as any stop).
			closeAll(listeners)
			errc = nil // each Serve returns, its listener closed
			go func() { w.shutdown(retireDrain); close(w.retired) }()
		case <-w.retired:
			w.finalise(time.Now().Add(o.DrainTimeout), sigs)
			return nil
		case sig := <-masterSigs:
			if ctl == nil {
				name := map[os.Signal]string{syscall.SIGHUP: "SIGHUP", syscall.SIGTTIN: "SIGTTIN"}[sig]
				if name == "" {
					name = "SIGTTOU"
				}
				o.Log.Warn("carafe: " + name + " ignored: reloading and adding or removing workers " +
					"need a master (--master)")
			}
		case sig := <-sigs:
			if sig == syscall.SIGUSR2 {
				go w.dumpStacks()
				continue
			}
			if sig == syscall.SIGUSR1 {
				if err := logfile.Redirect(o.LogFile.Path); err != nil {
					o.Log.Error("carafe: cannot reopen the log", "err", err)
				}
				if accessFile != nil {
					access.Flush() // the lines of before the rotation, to the file of before
					if err := accessFile.Reopen(); err != nil {
						o.Log.Error("carafe: cannot reopen the request log", "err", err)
					}
				}
				continue
			}
			o.Notify.Send("STOPPING=1")
			closeAll(listeners)
			if sig != syscall.SIGTERM {
				// At once, but with a line in the request log for every
				// response a client already has.
				deadline := time.Now().Add(quitSettle)
				for _, srv := range w.srvs {
					srv.Settle(time.Until(deadline))
				}
			}
			if sig == syscall.SIGTERM {
				if ctl == nil {
					o.Log.Info("carafe: SIGTERM, finishing requests in flight", "timeout", o.DrainTimeout)
				}
				sig = w.stop(sigs)
			}
			if ctl == nil {
				o.Log.Info("carafe: stopped", "signal", sig.String())
			}
			return nil
		}
	}
}

// quitWhileLoading makes SIGTERM, SIGINT or SIGQUIT end the worker at
// once while its app imports: nothing has been served yet, so there is
// nothing to finish, and an import can take seconds. Meanwhile the
// worker's copies of the sockets would keep them open and take
// connections, to reset those it had not accepted yet once it got to its
// stop (a graceful stop's new connections must be refused, or go to the
// carafe started beside it with --reuse-port). The returned func marks
// the import over; from then on the serving loop takes those signals
// (run's own channel gets them too). vacuum, if not nil, removes the
// standalone worker's unix sockets before it leaves.
func quitWhileLoading(underMaster bool, vacuum func()) (loaded func()) {
	quit := make(chan os.Signal, 1)
	signal.Notify(quit, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	who := "carafe"
	if underMaster {
		who = fmt.Sprintf("carafe: worker %d (pid %d)", control.WorkerID(), os.Getpid())
	}
	var mu sync.Mutex
	over := false
	stop := make(chan struct{})
	go func() {
		select {
		case sig := <-quit:
			mu.Lock() // held to the exit: serving does not begin
			if !over {
				fmt.Fprintf(os.Stderr, "%s: %v while importing the app; leaving\n", who, sig)
				if vacuum != nil {
					vacuum()
				}
				os.Exit(0)
			}
			mu.Unlock()
		case <-stop:
		}
	}()
	return func() {
		mu.Lock()
		over = true
		mu.Unlock()
		signal.Stop(quit)
		close(stop)
	}
}

// loadError ends a worker that could not start: the listeners are
// closed and the master, if any, is told why.
func (w *worker) loadError(listeners []net.Listener, err error) error {
	closeAll(listeners)
	lerr := &LoadError{App: w.o.AppID, Err: err}
	if w.ctl != nil {
		w.ctl.Send(control.Msg{T: control.LoadError, Text: lerr.Error()})
	}
	return lerr
}

func newServer(w *worker, o httpfront.Options, p httpfront.Protocol, access *accesslog.Logger,
	log *slog.Logger) *httpfront.Server {
	o.Protocol, o.Access, o.Log = p, access, log
	o.OutOfFiles = w.outOfFiles
	return httpfront.NewServer(w, o)
}

// shutdown drains both front ends at once within d. The requests that
// still wait for a Python thread refuseBefore the end get a 503 rather
// than a closed connection when the worker exits: with every thread in a
// call that outlasts the drain (a harakiri's stuck one, with --threads
// 1), no thread would come free for them.
func (w *worker) shutdown(d time.Duration) {
	refuseAt := max(d-refuseBefore, 0)
	// A drain shorter than that (--harakiri-graceful-timeout 0) refuses at
	// once, and lasts long enough for the 503s to go out: they were
	// logged as answered, and the same moment's close cut them.
	d = max(d, refuseBefore)
	refuse := time.AfterFunc(refuseAt, func() {
		w.ip.RefuseQueued(func(n int) {
			w.o.Log.Warn("carafe: answering 503 to the requests still waiting for a Python thread, "+
				"as the worker stops", "pid", os.Getpid(), "requests", n)
		})
	})
	defer refuse.Stop()
	start := time.Now()
	var wg sync.WaitGroup
	for _, s := range w.srvs {
		wg.Add(1)
		go func() { defer wg.Done(); s.Shutdown(d) }()
	}
	wg.Wait()
	// A request still running when the drain ran out of time had its
	// connection closed without an answer, or with part of one (a stream),
	// and gets no request-log line:
	// name it, or it leaves no trace. Not one that harakiri ended (its
	// client got a 504), nor any when the drain ended in time.
	if w.ip == nil || time.Since(start) < d {
		return
	}
	for _, t := range w.ip.Threads() {
		if _, harakiri := w.ended.Load(t.Call); t.Busy && !harakiri {
			w.o.Log.Warn(fmt.Sprintf("carafe: %s %s was cut short after %.1fs: the worker's stop ran out of time "+
				"(%s, --worker-reload-mercy), and its client got no answer, or only the part sent by then", t.Method, t.Target,
				t.Running.Seconds(), d), "pid", os.Getpid())
		}
	}
}

// retireDrain is the drain of a worker cheaper retires: no deadline.
const retireDrain = 100 * 365 * 24 * time.Hour

// refuseBefore is how long before a drain's end shutdown refuses the
// requests still queued: time to write their 503s.
const refuseBefore = 250 * time.Millisecond

// finaliseMin is the least time Python's finalisation gets when draining
// used up the stop's timeout: enough for atexit handlers that flush a
// buffer, and within the second the master allows past its mercy.
const finaliseMin = 500 * time.Millisecond

// finaliseQuiet is how long finalisation may wait for the app's threads
// before the worker says so: Python's shutdown stops some itself at once
// (an idle ThreadPoolExecutor's, through threading's own exit hooks),
// and a stop that is not held up has nothing to report.
const finaliseQuiet = 100 * time.Millisecond

// quitSettle is how long an immediate stop (SIGINT, SIGQUIT) waits for the
// requests being answered to be logged (see httpfront.Server.Settle).
const quitSettle = 50 * time.Millisecond

// stop is a graceful stop: the requests in flight finish, then Python is
// finalised, both within DrainTimeout. That is the master's mercy too, so
// a worker that cannot finish in time leaves with its reason logged
// rather than be killed without one. SIGINT and SIGQUIT cut either wait
// short, as they end the worker at any other time. It returns the signal
// that ended the stop.
func (w *worker) stop(sigs <-chan os.Signal) os.Signal {
	deadline := time.Now().Add(w.o.DrainTimeout)
	drained := make(chan struct{})
	go func() { w.shutdown(w.o.DrainTimeout); close(drained) }()
	if sig, _ := awaitOrQuit(drained, nil, sigs); sig != nil {
		return sig
	}
	return w.finalise(deadline, sigs)
}

// finalise shuts Python down by deadline. Python joins the app's
// non-daemon threads, however long they run, before it runs the atexit
// handlers, so a thread that never ends would hold the worker for good.
// Past the deadline the worker gives up, says why, and exits 0 without
// the atexit handlers: it was asked to stop and has, its requests done.
func (w *worker) finalise(deadline time.Time, sigs <-chan os.Signal) os.Signal {
	done := w.ip.Finalize()
	d := max(time.Until(deadline), finaliseMin).Round(10 * time.Millisecond)
	timer := time.NewTimer(d)
	defer timer.Stop()
	sig, ok := awaitOrQuit(done, time.After(min(finaliseQuiet, d)), sigs)
	if sig == nil && !ok {
		if waits := w.ip.Waiting(); len(waits) > 0 && !w.ip.AtexitBegan() {
			w.o.Log.Info("carafe: the exit waits for the app's non-daemon threads to end "+
				"(Python joins them before it runs the atexit handlers)",
				"pid", os.Getpid(), "threads", strings.Join(waits, ", "), "timeout", d)
		}
		sig, ok = awaitOrQuit(done, timer.C, sigs)
	}
	if sig != nil {
		return sig
	}
	if !ok {
		w.finaliseOverdue(d)
	}
	return syscall.SIGTERM
}

// finaliseOverdue says what held Python's finalisation past its d, as
// the worker exits without it.
func (w *worker) finaliseOverdue(d time.Duration) {
	pid := os.Getpid()
	if w.ip.AtexitBegan() {
		w.o.Log.Warn("carafe: the app's atexit handlers are still running; exiting before they finish",
			"pid", pid, "after", d)
	} else if waits := w.ip.Waiting(); len(waits) > 0 {
		w.o.Log.Warn("carafe: the app's non-daemon threads are still running; exiting "+
			"without waiting for them, so the atexit handlers do not run",
			"pid", pid, "threads", strings.Join(waits, ", "), "after", d)
	} else {
		w.o.Log.Warn("carafe: Python's finalisation did not end; exiting without it", "pid", pid, "after", d)
	}
}

// awaitOrQuit waits for done to close (ok), timeout to fire (!ok), or
// SIGINT or SIGQUIT to come (returned). Other signals are dropped: the
// worker is on its way out.
func awaitOrQuit(done <-chan struct{}, timeout <-chan time.Time, sigs <-chan os.Signal) (os.Signal, bool) {
	for {
		select {
		case <-done:
			return nil, true
		case <-timeout:
			return nil, false
		case sig := <-sigs:
			if sig == syscall.SIGINT || sig == syscall.SIGQUIT {
				return sig, false
			}
		}
	}
}

// Do implements wsgi.Runner around the interpreter, keeping the counts
// the statistics and --max-requests need.
func (w *worker) Do(c *wsgi.Call) {
	w.ip.Do(c)
	if c.Result == wsgi.Unavailable {
		return // never ran (see shutdown)
	}
	if w.shedding.Load() {
		w.unshed() // a thread is free
	}
	if c.Result == wsgi.ClientGone {
		w.gone.Add(1)
		return // never ran (see wsgi.Departer): not a request served
	}
	w.rtTotal.Add(int64(time.Since(c.Start)))
	if c.Result == wsgi.AppError {
		w.errors.Add(1)
	}
	w.mem.served()
	if n := w.requests.Add(1); w.limit > 0 && n >= w.limit {
		w.recycle(fmt.Sprintf("max-requests (%d served)", n))
	}
}

// recycle asks the master for a graceful replacement; the master stops
// this worker once the replacement is ready, or tells it that the
// replacement failed. Meanwhile it goes on accepting, as a reloading
// worker does: with one worker, or on a unix socket, nothing else would
// take the connections during the replacement's import (review measured
// each recycle as a 3 s outage of a worker alone, its app taking 3 s to
// import). The limit is passed by what it serves meanwhile.
func (w *worker) recycle(why string) {
	if w.ctl == nil {
		return
	}
	w.recycleMu.Lock()
	defer w.recycleMu.Unlock()
	if w.recycling || time.Now().Before(w.noRecycle) {
		return
	}
	w.recycling = true
	w.ctl.Send(control.Msg{T: control.Recycle, Text: why})
}

// resume answers the master's word that the replacement this worker asked
// for failed (a broken deploy): it asks again only after recycleBackoff,
// so as not to start failing replacements in a loop. A worker that asked
// for nothing (whose reload replacement failed, say) keeps its limits as
// they were.
func (w *worker) resume() {
	w.recycleMu.Lock()
	defer w.recycleMu.Unlock()
	if !w.recycling {
		return
	}
	w.recycling = false
	w.noRecycle = time.Now().Add(recycleBackoff)
}

// recycleBackoff is how long a worker whose replacement failed waits
// before it asks for another.
var recycleBackoff = time.Minute

// overRSSHold is how long a worker that was over --reload-on-rss as it
// became ready serves before memory may recycle it.
const overRSSHold = time.Minute

// watchLimits checks four times a second the limits that no request
// triggers: --max-worker-lifetime, --reload-on-rss, --evil-reload-on-rss.
// Each is checked anew every time, not armed once: a recycle turned away
// (within recycleBackoff) or resumed must still come later.
func (w *worker) watchLimits() {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	for now := range tick.C {
		w.checkLimits(now, selfRSS())
	}
}

// checkLimits acts on the lifetime and memory limits at now, with rss
// bytes resident.
func (w *worker) checkLimits(now time.Time, rss int64) {
	if w.o.EvilRSS > 0 && rss > w.o.EvilRSS {
		// Python may be stuck allocating (GIL held): only this Go side
		// can still act, and it must not wait for the requests.
		msg := fmt.Sprintf("carafe: worker %d (pid %d): evil-reload-on-rss: %d MB resident, over %d MB; exiting now",
			control.WorkerID(), os.Getpid(), rss>>20, w.o.EvilRSS>>20)
		var cut []string
		if w.ip != nil {
			for _, th := range w.ip.Threads() {
				if th.Busy {
					cut = append(cut, fmt.Sprintf("%s %s (running %v)", th.Method, th.Target, th.Running.Round(time.Millisecond)))
				}
			}
		}
		if len(cut) > 0 { // their clients see the connection reset, and no log line
			msg += fmt.Sprintf(", cutting the %d request(s) in flight: %s", len(cut), strings.Join(cut, "; "))
		}
		w.o.Log.Error(msg)
		w.exit(1)
	}
	if w.life > 0 && now.Sub(w.start) >= w.life {
		w.recycle("max-worker-lifetime")
	}
	if w.o.ReloadOnRSS > 0 && rss > w.o.ReloadOnRSS && w.rssMayRecycle(now) {
		// Memory the worker holds free is not what the limit is for:
		// give it back first (a burst that just ended, before memReturn's
		// quiet wait), and recycle only if that was not enough.
		if now.Sub(w.gaveBackInVain) >= giveBackEvery {
			giveBack()
			if rss = selfRSS(); rss <= w.o.ReloadOnRSS {
				return
			}
			w.gaveBackInVain = now
		}
		w.recycle(fmt.Sprintf("reload-on-rss (%d MB resident)", rss>>20))
	}
}

// giveBackEvery is how long after a give-back that left the worker over
// --reload-on-rss it is recycled without another (each costs two full
// collections, and the recycle takes a while to come).
const giveBackEvery = 10 * time.Second

// noteReadyRSS tells the master when this worker is over --reload-on-rss
// already as it becomes ready, before a request could have leaked: that
// is the app's own size, and the limit is set too low for it.
func (w *worker) noteReadyRSS() {
	rss := selfRSS()
	if w.o.ReloadOnRSS <= 0 || rss <= w.o.ReloadOnRSS {
		return
	}
	w.bornOverRSS = true
	w.ctl.Send(control.Msg{T: control.OverRSS, Text: fmt.Sprintf("a fresh worker is already at %d MB, "+
		"above --reload-on-rss %d; workers are recycled for memory only once they have served a request "+
		"and run %s, not in a loop: raise --reload-on-rss above the app's own size",
		rss>>20, w.o.ReloadOnRSS>>20, overRSSHold)})
}

// rssMayRecycle reports whether memory may recycle the worker now. One
// born over the limit would be replaced by another as big, again and
// again (idle, too): it waits until it has served a request and run
// overRSSHold, so that a leak still ends it, once in a while.
func (w *worker) rssMayRecycle(now time.Time) bool {
	return !w.bornOverRSS || w.requests.Load() > 0 && now.Sub(w.start) >= overRSSHold
}

// exit ends the process at once, with the request log's lines of the
// requests already answered written out.
func (w *worker) exit(code int) {
	w.access.Flush()
	os.Exit(code)
}

// selfRSS is this process's resident set size in bytes.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	var size, rss int64
	fmt.Sscan(string(b), &size, &rss)
	return rss * int64(os.Getpagesize())
}

// controlLoop answers the master; when the master is gone the worker
// leaves at once, so that no worker outlives its master.
func (w *worker) controlLoop() {
	for {
		m, err := w.ctl.Recv()
		if err != nil {
			w.exit(1)
		}
		switch m.T {
		case control.StatsReq:
			w.ctl.Send(control.Msg{T: control.StatsResp, Stats: w.stats()})
		case control.Resume:
			w.resume()
		case control.Retire:
			select {
			case w.retire <- struct{}{}:
			default:
			}
		}
	}
}

// reportLoad tells the master, at once and then every second, the time
// the worker's requests have spent in it so far, in nanoseconds (from
// when each was read, waiting for a thread included: those finished and,
// so far, those running), and its threads: the master's cheaper scales
// the workers by it. A call that ends between the two reads is counted
// the next time.
func (w *worker) reportLoad() {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for now := time.Now(); ; now = <-t.C {
		busy := w.rtTotal.Load()
		threads := w.ip.Threads()
		for _, th := range threads {
			if th.Busy && th.Call != nil {
				busy += int64(now.Sub(th.Call.Start))
			}
		}
		w.ctl.Send(control.Msg{T: control.Load, Text: fmt.Sprintf("%d %d", busy, len(threads))})
	}
}

func (w *worker) stats() *control.WorkerStats {
	rt := w.rtTotal.Load()
	st := &control.WorkerStats{Requests: w.requests.Load(), Exceptions: w.errors.Load(), ClientGone: w.gone.Load(), RunningTime: rt / 1e3,
		Shedding: w.shedding.Load()}
	w.shedMu.Lock()
	st.Shedding = st.Shedding || w.starved > 0 // it takes no new connection either
	w.shedMu.Unlock()
	for _, s := range w.srvs {
		st.TX += s.Sent()
	}
	if st.Requests > 0 {
		st.AvgRTms = float64(rt) / float64(st.Requests) / 1e6
	}
	st.Threads = []control.ThreadStats{}
	for _, t := range w.ip.Threads() {
		if t.Busy {
			// The path only: a query string may carry a token or a
			// password reset key, and stats travel to monitoring
			// systems that keep them. The logs have the whole target.
			path, _, _ := strings.Cut(t.Target, "?")
			st.Threads = append(st.Threads, control.ThreadStats{Busy: true, Method: t.Method,
				Path: path, RunningMs: float64(t.Running) / 1e6})
		}
	}
	return st
}

// stuckAfter is how long every Python thread of a worker must have been
// inside one call for the worker to count as stuck and stop accepting new
// connections (see shedWhileStuck): far above a busy worker's ordinary
// calls, so that it sheds only for long ones, and short enough that a
// stuck worker takes few connections first.
const stuckAfter = 100 * time.Millisecond

// shedWhileStuck stops the worker accepting new connections while every
// Python thread has been in one call for stuckAfter or longer, as a
// uWSGI worker accepts only with a core free. Connections accepted then
// would only wait behind the stuck calls, and fail with them at a
// harakiri: with --threads 1 behind nginx, which opens a connection per
// request and so gives most of them to whichever worker accepts first,
// the stuck worker took a request of nearly every client. Unaccepted,
// they go to the other workers on a shared socket, or wait in the
// backlog, which the master keeps, for this worker or its replacement.
//
// It looks when a call takes the last free thread, at most every
// stuckAfter/4 (a busy worker of one thread does that between every two
// requests), then as long as no thread is free; an idle worker costs it
// nothing. The end of a call resumes accepting at once (see Do): waiting
// for the next look would leave the thread idle if nothing was queued.
func (w *worker) shedWhileStuck() {
	const every = stuckAfter / 4
	for range w.ip.AllBusy() {
		for {
			busy := w.ip.BusyFor()
			if busy == 0 {
				if w.ip.Free() > 0 {
					break // a thread is free
				}
				// A call is starting on the last free thread, and its start
				// is not set yet: its token may be the one just taken, so
				// look again rather than wait for the next.
				time.Sleep(every)
				continue
			}
			if busy < stuckAfter {
				time.Sleep(stuckAfter - busy)
				continue
			}
			w.shed()
			for w.shedding.Load() && w.ip.BusyFor() >= stuckAfter {
				time.Sleep(every)
			}
			w.unshed()
		}
		time.Sleep(every)
	}
}

// shed stops accepting if every thread is still stuck; it looks again
// under shedMu, so that a call's end (unshed) cannot come between.
func (w *worker) shed() {
	w.shedMu.Lock()
	defer w.shedMu.Unlock()
	if w.shedding.Load() || w.ip.BusyFor() < stuckAfter {
		return
	}
	w.shedding.Store(true)
	for _, s := range w.srvs {
		s.Shed(true)
	}
	w.steerLocked()
}

func (w *worker) unshed() {
	w.shedMu.Lock()
	defer w.shedMu.Unlock()
	if !w.shedding.Load() {
		return
	}
	w.shedding.Store(false)
	for _, s := range w.srvs {
		s.Shed(false)
	}
	w.steerLocked()
}

// steerLocked tells the master whether to steer new connections off this
// worker's own sockets, to the other workers': while every thread is
// stuck, or accepting fails for want of file descriptors. Called with
// shedMu held.
func (w *worker) steerLocked() {
	away := w.shedding.Load() || w.starved > 0
	if w.ctl == nil || away == w.steeredAway {
		return
	}
	w.steeredAway = away
	text := "0"
	if away {
		text = "1"
	}
	w.ctl.Send(control.Msg{T: control.Shed, Text: text})
}

// starvedRecycle is how long a worker may fail to accept for want of file
// descriptors before it is replaced: descriptors the app leaked (files or
// sockets left open) go with it, and the connections queued on its
// sockets go to the replacement, which takes them over.
const starvedRecycle = 10 * time.Second

// outOfFiles hears that a server's accepts fail for want of file
// descriptors (on), or succeed again: the master steers new connections
// to the other workers meanwhile, and a spell of starvedRecycle replaces
// the worker. A limit set too low for the load does the same as a leak,
// and the log says which to look at.
func (w *worker) outOfFiles(on bool) {
	w.shedMu.Lock()
	defer w.shedMu.Unlock()
	if !on {
		w.starved--
		if w.starved == 0 {
			w.o.Log.Info("carafe: accepting connections again")
		}
		w.steerLocked()
		return
	}
	w.starved++
	if w.starved > 1 {
		return
	}
	w.starvedSpell++
	spell := w.starvedSpell
	var limit syscall.Rlimit
	syscall.Getrlimit(syscall.RLIMIT_NOFILE, &limit)
	what := "new connections go to the other workers meanwhile; the worker is replaced if this lasts " + starvedRecycle.String()
	switch {
	case w.ctl == nil:
		what = "it keeps trying"
	case w.o.Python.Processes < 2:
		what = "new connections wait; the worker is replaced if this lasts " + starvedRecycle.String()
	}
	w.o.Log.Error(fmt.Sprintf("carafe: cannot accept connections: out of file descriptors (limit %d open files); %s. "+
		"Look for files or sockets the app leaves open, or raise the limit (ulimit -n, systemd's LimitNOFILE)",
		limit.Cur, what))
	w.steerLocked()
	time.AfterFunc(starvedRecycle, func() {
		w.shedMu.Lock()
		still := w.starved > 0 && w.starvedSpell == spell
		w.shedMu.Unlock()
		if still {
			w.recycle(fmt.Sprintf("out of file descriptors for %s (limit %d open files)", starvedRecycle, limit.Cur))
		}
	})
}

// watchdog ends requests that run past Harakiri: it logs each stuck
// thread's Python traceback, answers its client, tells the master, and
// makes the worker leave (a stuck Python thread cannot be interrupted).
// Every call that overruns is ended so, the longest-running first, and
// those of the worker's other calls that overrun later too, while it
// drains. Where one call holds the GIL, the calls waiting for it overrun
// as well: one that has not begun to run Python says so in place of its
// stack (one waiting to take the GIL back shows its own stack).
func (w *worker) watchdog() {
	tick := time.NewTicker(min(max(w.o.Harakiri/4, 50*time.Millisecond), time.Second))
	defer tick.Stop()
	ended := map[*wsgi.Call]bool{}
	for range tick.C {
		var over []pyembed.ThreadState
		for _, t := range w.ip.Threads() {
			// The time a call waited on its client (a slow download, a
			// trickled upload) is the client's, bounded by the I/O
			// timeouts: not the app stuck, which harakiri is for.
			if t.Busy && t.Running-t.ClientWait > w.o.Harakiri && !ended[t.Call] {
				over = append(over, t)
			}
		}
		if len(over) == 0 {
			continue
		}
		slices.SortFunc(over, func(a, b pyembed.ThreadState) int { return cmp.Compare(b.Running, a.Running) })
		first := len(ended) == 0
		for _, t := range over {
			waited := ""
			if t.ClientWait >= 100*time.Millisecond {
				waited = fmt.Sprintf(", %.1fs more waiting on its client", t.ClientWait.Seconds())
			}
			w.o.Log.Error(fmt.Sprintf("carafe: harakiri: %s %s has run %.1fs (limit %s%s); "+
				"the stuck thread's Python traceback follows, and this worker will be replaced",
				t.Method, t.Target, (t.Running - t.ClientWait).Seconds(), w.o.Harakiri, waited))
			w.ip.DumpTraceback(t.Index)
		}
		// The master hears of it before any call is abandoned: a draining
		// worker whose last call that was exits at once.
		if first && w.ctl != nil {
			w.ctl.Send(control.Msg{T: control.Harakiri, Text: over[0].Method + " " + over[0].Target})
		}
		for _, t := range over {
			if a, ok := t.Call.Exch.(wsgi.Abandoner); ok {
				a.Abandon()
			}
			ended[t.Call] = true
			w.ended.Store(t.Call, struct{}{})
		}
		if first {
			close(w.harakiri)
		}
	}
}

// dumpStacks answers SIGUSR2: which request each busy thread runs, then
// every Python thread's stack (see pyembed's DumpAll), in the log. It runs
// on a goroutine of its own, since it waits for the GIL.
func (w *worker) dumpStacks() {
	var busy []string
	for _, t := range w.ip.Threads() {
		if t.Busy {
			thread := "thread " + w.ip.ThreadIdent(t.Index)
			if thread == "thread " {
				thread = "a thread waiting for the GIL"
			}
			busy = append(busy, fmt.Sprintf("%s: %s %s, running %.1fs", thread,
				t.Method, t.Target, t.Running.Seconds()))
		}
	}
	if len(busy) == 0 {
		busy = append(busy, "no request running")
	}
	stacks, err := w.ip.DumpAll()
	if err != nil {
		w.o.Log.Error("carafe: SIGUSR2: no Python stacks", "err", err)
		return
	}
	// One write: the line and the stacks stay together in a log that other
	// workers write too.
	var b strings.Builder
	fmt.Fprintf(&b, "%s carafe: SIGUSR2: worker pid %d, %s; its Python stacks:\n",
		time.Now().UTC().Format("2006-01-02T15:04:05.000Z"), os.Getpid(), strings.Join(busy, "; "))
	b.Write(stacks)
	io.WriteString(w.o.Stderr, b.String())
}

// listenerFDs are the descriptors of ls.
func listenerFDs(ls []net.Listener) []int {
	var fds []int
	for _, l := range ls {
		if sc, ok := l.(syscall.Conn); ok {
			if rc, err := sc.SyscallConn(); err == nil {
				rc.Control(func(fd uintptr) { fds = append(fds, int(fd)) })
			}
		}
	}
	return fds
}

func closeAll(ls []net.Listener) {
	for _, l := range ls {
		l.Close()
	}
}

// stagger is how many deltas this worker's --max-requests and
// --max-worker-lifetime are raised by: uWSGI's (worker id - 1), so that
// worker 1 keeps the plain limits and workers started together leave one
// by one. A worker with no master has none.
func stagger() int {
	return max(control.WorkerID()-1, 0)
}
