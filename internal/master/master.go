// Package master is carafe's supervising process, in pure Go (it never
// starts Python): it binds every listener once, re-executes its own binary
// as workers that inherit the sockets and a control socket, replaces
// workers that die, recycles them on request, reloads them without
// dropping requests, and owns the signals.
package master

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"carafe/internal/control"
	"carafe/internal/listen"
	"carafe/internal/logfile"
	"carafe/internal/sdnotify"
)

// Options configure the master. They are plain values; cmd/carafe fills
// them from the configuration.
type Options struct {
	// Args re-executes this binary as a worker (os.Args[1:]).
	Args []string
	// HTTP and Socket (uwsgi protocol) are the addresses to bind; workers
	// get them in that order. SocketPerm is what unix socket files get.
	HTTP, Socket []string
	SocketPerm   listen.Perm
	Processes    int
	// Passed are the listeners systemd passed (socket activation), by the
	// address of HTTP or Socket that names each: the master serves on them
	// rather than binding those addresses (one socket, whatever Processes
	// is), and never removes their files (--vacuum): the socket unit keeps
	// them for the next start.
	Passed map[string]net.Listener
	// WorkerSettings are the values of the options the master acts on
	// (HTTP and Socket among them), which its workers take over their own
	// reading of the configuration.
	WorkerSettings control.Settings
	// WorkerEnv is added to the workers' environment (NAME=VALUE).
	WorkerEnv []string
	// Reconfigure, when set, reads the configuration again for a reload,
	// given the WorkerEnv it replaces, and returns what the reload applies;
	// an error (a mistake in an edited ini) cancels the reload, and the
	// workers serve on as they were.
	Reconfigure func(prev []string) (Reconfig, error)
	// Threads and AppID only describe the workers in the start-up lines.
	Threads int
	AppID   string
	// Mercy bounds how long a stopping worker may drain (SIGTERM, reload,
	// recycling) before it is killed.
	Mercy time.Duration
	// HarakiriGrace is how long a harakiri'd worker's other requests may
	// finish (--harakiri-graceful-timeout) before it is killed.
	HarakiriGrace time.Duration
	// TouchReload files trigger a reload when their mtime changes.
	TouchReload []string
	// TouchLog files have the logs reopened when their mtime changes.
	TouchLog []string
	Stats    string   // address of the JSON stats server; "" none
	Fifos    []string // --master-fifo files: the first read at start, 0-9 switch
	Version  string   // carafe's, for the stats
	Pidfiles []Pidfile
	Vacuum   bool   // remove the pidfiles on exit
	UID, GID string // drop privileges to these after binding
	// MasterAsRoot keeps the master's privileges; only the workers run as
	// UID/GID (uWSGI's master-as-root).
	MasterAsRoot bool
	// NoInitgroups: the --uid user's supplementary groups are not taken
	// (uWSGI's --no-initgroups); by default they are, as initgroups(3).
	NoInitgroups bool
	// LogFile is the --logto file (Path; "" for stderr): reopened on
	// SIGUSR1, and rotated by the master at --log-maxsize.
	LogFile logfile.Rotation
	// ReqLogFile is the request log's file (--req-logger file:), which the
	// workers open themselves; "" when there is none.
	ReqLogFile string
	// Notify tells systemd (Type=notify) when the workers are ready, when
	// a reload starts and ends, and when carafe stops; nil when not asked.
	Notify *sdnotify.Notifier
	// Cheaper scales the workers with the load; its Min 0: Processes
	// workers all the time.
	Cheaper Cheaper
	Log     *slog.Logger
}

// master is the supervisor's state; only its event loop goroutine
// touches it.
type master struct {
	o         Options
	procs     []*proc
	want      int            // number of worker slots
	retries   []pendingStart // starts that failed, to be tried again (see spawnOrLog)
	startup   bool
	reloading bool
	// autoReloaded is, for each file whose change --py-autoreload
	// reported, the modification time last reported.
	autoReloaded map[string]string
	// reloadAt is when the last reload began; pendingReload, why another
	// is due once it settles (a file changed during it), and catchUp
	// whether it is such a reload itself.
	reloadAt      time.Time
	pendingReload string
	catchUp       bool
	reloadErr     string // why a worker of the reload in progress failed to start; "" if none did
	// rescaleTo is the scaling the reload in progress applies once it
	// completes (nil: none): a failed reload leaves the workers as they
	// were, their number included.
	rescaleTo *Cheaper
	events    chan event
	// socks holds each address's sockets, in the order workers take them:
	// one that every worker shares, or one a worker (see listen.Grouped).
	socks []*sockGroup
	// standins answer the sockets no worker takes (see standIn).
	standins map[net.Listener]*standin
	outages  map[net.Listener]*outage
	// workerCred is who the workers run as when the master keeps root
	// (MasterAsRoot); nil when they inherit the master's user.
	workerCred *syscall.Credential
	stats      net.Listener         // --stats; nil without
	mtimes     map[string]time.Time // of TouchReload files
	logMtimes  map[string]time.Time // of TouchLog files
	started    time.Time
	stopping   bool
	rotateErr  string // the last failure to rotate the log, said once
	// overRSSWarned: a worker has said it starts over --reload-on-rss.
	overRSSWarned bool
	// lastRequests is each worker's request count in the previous stats
	// document, by pid (for delta_requests); only collect touches it.
	lastRequests map[int]int64
	// cheaper is the cheaper algorithm's counts; cheaperSoftSaid, that
	// cheaper-rss-limit-soft held a worker back (said once until one is
	// added).
	cheaper         cheaperState
	cheaperSoftSaid bool
	fifo            fifo // --master-fifo
}

// Run supervises workers until told to stop and returns the process exit
// code.
func Run(o Options) int {
	// A log read through a pipe whose reader went (a `| head`, a restarted
	// journald stream) must not end the master, and every worker with it:
	// Go kills a process that writes to a broken fd 1 or 2 unless SIGPIPE
	// is asked for. The write then fails, and the master serves on, as
	// uWSGI's does. Asked for, not ignored: the workers it starts get the
	// default back at exec, and set their own (see the worker's run).
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	want := max(o.Processes, 1)
	if o.Cheaper.Min > 0 {
		want = max(o.Cheaper.Initial, o.Cheaper.Min)
	}
	m := &master{o: o, want: want, events: make(chan event, 64), lastRequests: map[int]int64{},
		standins: map[net.Listener]*standin{}, outages: map[net.Listener]*outage{},
		startup: true, started: time.Now(), mtimes: map[string]time.Time{},
		logMtimes: map[string]time.Time{}}
	if err := m.bind(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer m.cleanup()
	if err := m.bindStats(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := m.writePidfiles(false); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := m.dropPrivileges(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if err := m.writePidfiles(true); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if m.fifo.paths = o.Fifos; len(o.Fifos) > 0 { // as uWSGI makes it: as the user the master runs as
		if err := m.openFifo(0); err != nil {
			fmt.Fprintln(os.Stderr, "carafe: "+err.Error())
			return 1
		}
		o.Log.Info("carafe: master: taking commands from the master FIFO " + o.Fifos[0])
	}
	m.serveStats()
	for _, f := range o.TouchReload {
		m.mtimes[f] = mtime(f)
	}
	for _, f := range o.TouchLog {
		m.logMtimes[f] = mtime(f)
	}
	for i, g := range m.socks {
		each := ""
		if len(g.files) > 1 {
			each = fmt.Sprintf(" (a socket for each of %d workers)", len(g.files))
		}
		if i < len(o.HTTP) {
			o.Log.Info("carafe: master: HTTP on " + listen.HTTPWhere(g.listeners[0].Addr()) + each)
		} else {
			o.Log.Info("carafe: master: uwsgi protocol on " + g.listeners[0].Addr().String() + each)
		}
	}
	scaled := ""
	if c := o.Cheaper; c.Min > 0 {
		scaled = fmt.Sprintf(" (cheaper, %s: %d to %d as the load asks)", c.Algo, c.Min, o.Processes)
	}
	o.Log.Info(fmt.Sprintf("carafe: master (pid %d): starting %d %s x %d %s for %s%s", os.Getpid(),
		m.want, plural(m.want, "worker", "workers"), o.Threads, plural(o.Threads, "thread", "threads"), o.AppID, scaled))
	sigs := make(chan os.Signal, 16)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT,
		syscall.SIGUSR1, syscall.SIGUSR2, syscall.SIGTTIN, syscall.SIGTTOU)
	for id := 1; id <= m.want; id++ {
		if err := m.spawn(id, nil); err != nil {
			o.Log.Error("carafe: master: cannot start a worker", "err", err)
			m.killAll()
			return 1
		}
	}
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		select {
		case sig := <-sigs:
			if code, done := m.signal(sig.(syscall.Signal)); done {
				return code
			}
		case ev := <-m.events:
			if code, done := m.handle(ev); done {
				return code
			}
		case <-tick.C:
			m.tick()
			m.scale()
		}
		m.steer()
		m.standIn()
		if m.stopping && len(m.procs) == 0 {
			m.o.Log.Info("carafe: master: all workers stopped; bye")
			return 0
		}
	}
}

// sockGroup is one address's listening sockets.
type sockGroup struct {
	uwsgi     bool // the uwsgi protocol's (--socket), not HTTP's
	listeners []net.Listener
	files     []*os.File
	steered   []int // the sockets new connections go to (see steer); nil: all
}

// file is the socket worker id takes: with a socket per worker, worker
// ids beyond the sockets (SIGTTIN) share them in turn.
func (g *sockGroup) file(id int) *os.File { return g.files[(id-1)%len(g.files)] }

// shrink retires the last socket when workers drop to fewer than the
// sockets (SIGTTOU): the worker being stopped is the only one taking it,
// and a socket nobody accepts from would hold the connections the kernel
// gives it. New connections are steered to the others first; the stopped
// worker takes what is queued on it meanwhile, so the socket closes empty
// when that worker lets its copy go (see the SIGTTOU case). It reports
// whether a socket was retired.
//
// With --reuse-port another server's sockets may share the group, which a
// steering program would take new connections from: there the socket is
// closed unsteered.
func (g *sockGroup) shrink(workers int, steer bool, log *slog.Logger) bool {
	n := len(g.files)
	if n <= 1 || n <= workers {
		return false
	}
	if !steer {
		log.Warn("carafe: master: with --reuse-port, a connection queued on the retired socket as it closes is reset")
	} else if err := listen.Steer(g.listeners[0], n-1); err != nil {
		// Closed without steering, a connection queued on it at that
		// instant is reset.
		log.Warn("carafe: master: cannot steer new connections off a retired socket", "err", err)
	}
	g.listeners[n-1].Close()
	g.files[n-1].Close()
	g.listeners, g.files = g.listeners[:n-1], g.files[:n-1]
	return true
}

// steer keeps new connections off the sockets of a group that no worker
// can take them from now: its worker is starting (after a harakiri or a
// crash, importing the app takes a while), or every thread of it is stuck
// (see the worker's shedWhileStuck). They go to the other workers'
// sockets instead of waiting in that one's queue. When every socket has a
// worker ready, or none has, the steering goes. With --reuse-port the
// group may hold another server's sockets, which a program would count
// as carafe's: nothing is steered there.
func (m *master) steer() {
	if m.o.SocketPerm.ReusePort || m.stopping {
		return // a stopping master has closed its listeners
	}
	for _, g := range m.socks {
		n := len(g.files)
		if n < 2 {
			continue
		}
		ok := make([]bool, n)
		for _, p := range m.procs {
			if p.id <= m.want && p.state == stateReady && !p.shedding && p.stoppedTicks < stoppedAfter {
				ok[(p.id-1)%n] = true
			}
		}
		var to []int
		for i, yes := range ok {
			if yes {
				to = append(to, i)
			}
		}
		if len(to) == 0 { // none ready: the sockets of the slots wanted (--cheaper runs fewer)
			to = firstSockets(min(n, m.want))
		}
		if len(to) == n {
			to = nil
		}
		if slices.Equal(to, g.steered) {
			continue
		}
		var err error
		if to == nil {
			err = listen.Steer(g.listeners[0], n)
		} else {
			err = listen.SteerTo(g.listeners[0], to)
		}
		if err != nil {
			m.o.Log.Warn("carafe: master: cannot steer new connections", "err", err)
		}
		g.steered = to
	}
}

// firstSockets numbers a group's first n sockets, as steer lists them.
func firstSockets(n int) []int {
	out := make([]int, n)
	for i := range out {
		out[i] = i
	}
	return out
}

// bind opens every listener once, so the port is held for good and a
// second carafe on it fails here, loudly.
func (m *master) bind() error {
	for i, a := range append(append([]string{}, m.o.HTTP...), m.o.Socket...) {
		var ls []net.Listener
		var err error
		// With --cheaper, a socket for each worker it may run; those of
		// the slots it does not run are steered around (see steer).
		if l, ok := m.o.Passed[a]; ok {
			ls = []net.Listener{l}
			m.o.Log.Info("carafe: master: serving on the socket systemd passed for " + a)
		} else if n := max(m.want, m.o.Processes); listen.Grouped(a, n) {
			ls, err = listen.BindGroup(a, n, m.o.SocketPerm)
		} else {
			var l net.Listener
			if l, err = listen.Bind(a, m.o.SocketPerm); err == nil {
				ls = []net.Listener{l}
			}
		}
		if err != nil {
			m.closeListeners()
			return err
		}
		if m.o.Cheaper.Min > 0 && len(ls) > 1 {
			// --cheaper: the sockets of the slots not run are steered
			// around, from the start. A kernel that cannot steer (before
			// Linux 4.5, some sandboxes) would queue connections on them
			// that nobody accepts: the workers share one socket instead.
			if err = listen.Steer(ls[0], min(m.want, len(ls))); err != nil {
				for _, l := range ls {
					l.Close()
				}
				m.o.Log.Warn("carafe: master: the kernel cannot steer connections between sockets; with "+
					"--cheaper the workers share one socket on "+a, "err", err)
				var l net.Listener
				if l, err = listen.Bind(a, m.o.SocketPerm); err != nil {
					m.closeListeners()
					return err
				}
				ls = []net.Listener{l}
			}
		}
		g := &sockGroup{listeners: ls, uwsgi: i >= len(m.o.HTTP)}
		if len(ls) > m.want {
			g.steered = firstSockets(m.want) // (see the Steer above)
		}
		m.socks = append(m.socks, g)
		for _, l := range ls {
			f, err := listen.File(l)
			if err != nil {
				m.closeListeners()
				return err
			}
			g.files = append(g.files, f)
		}
		for j, l := range ls {
			g.listeners[j] = &held{f: g.files[j], addr: l.Addr()}
			l.Close() // (a unix socket's file stays: see listen.Bind)
		}
	}
	return nil
}

// held is a listening socket as the master holds it: the descriptor it
// passes to workers, out of its own poller. A net.Listener in the master
// is in its epoll set, and woke it at every connection a worker accepted
// (0.45 context switches a connection, 5% of a CPU at 14k connections a
// second without keep-alive, as nginx's uwsgi_pass makes them). A
// stand-in listens on a copy of it for as long as it runs (see standIn).
type held struct {
	f    *os.File
	addr net.Addr
}

func (h *held) Accept() (net.Conn, error) {
	return nil, errors.New("master: a held socket is not accepted from")
}
func (h *held) Close() error   { return nil } // (its file is closed with the group's files)
func (h *held) Addr() net.Addr { return h.addr }

// SyscallConn gives the descriptor for socket options (listen.Steer).
func (h *held) SyscallConn() (syscall.RawConn, error) { return h.f.SyscallConn() }

func (m *master) closeListeners() {
	for _, g := range m.socks {
		for _, l := range g.listeners {
			l.Close()
		}
		for _, f := range g.files {
			f.Close()
		}
	}
}

// Pidfile is a file the master writes its pid to: before dropping
// privileges (uWSGI's pidfile, safe-pidfile) or after (pidfile2,
// safe-pidfile2), in place or through a renamed temporary file (safe-*).
type Pidfile struct {
	Path      string
	AfterDrop bool
	Atomic    bool
}

// option names p's option, for messages.
func (p Pidfile) option() string {
	name := "--pidfile"
	if p.Atomic {
		name = "--safe-pidfile"
	}
	if p.AfterDrop {
		name += "2"
	}
	return name
}

// writePidfiles writes the pidfiles of one side of the privilege drop.
func (m *master) writePidfiles(afterDrop bool) error {
	pid := []byte(strconv.Itoa(os.Getpid()) + "\n")
	for _, p := range m.o.Pidfiles {
		if p.AfterDrop != afterDrop {
			continue
		}
		var err error
		if p.Atomic {
			err = writeAtomic(p.Path, pid)
		} else {
			err = writeNoFollow(p.Path, pid)
		}
		if err != nil {
			return fmt.Errorf("carafe: %s: %w", p.option(), err)
		}
	}
	return nil
}

// writeNoFollow writes b to path, which must be (or become) a regular
// file of one name: the master may still be root, and a link planted by
// whoever can write the directory would have it overwrite another file.
func writeNoFollow(path string, b []byte) error {
	d, err := logfile.OpenDirOf(path)
	if err != nil {
		return err
	}
	defer d.Close()
	f, err := d.Open(filepath.Base(path), os.O_WRONLY|os.O_CREATE|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0o644)
	if err != nil {
		return err
	}
	st, err := f.Stat()
	if err == nil {
		if sys, ok := st.Sys().(*syscall.Stat_t); !st.Mode().IsRegular() || !ok || sys.Nlink != 1 {
			err = errors.New("not a regular file of one name (a link?); remove it or name another")
		}
	}
	if err == nil {
		err = f.Truncate(0)
	}
	if err == nil {
		_, err = f.Write(b)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// writeAtomic replaces path with a file holding b: written beside it under
// a temporary name, then renamed over it.
func writeAtomic(path string, b []byte) error {
	d, err := logfile.OpenDirOf(path)
	if err != nil {
		return err
	}
	defer d.Close()
	tmp, err := d.WriteTemp("."+filepath.Base(path)+".", b, 0o644)
	if err != nil {
		return err
	}
	if err := d.Rename(tmp, d, filepath.Base(path)); err != nil {
		d.Remove(tmp)
		return err
	}
	return nil
}

func (m *master) cleanup() {
	m.closeListeners()
	m.closeFifo()
	if m.o.Vacuum {
		var addrs []string
		for _, a := range slices.Concat(m.o.HTTP, m.o.Socket) {
			if _, ok := m.o.Passed[a]; !ok { // systemd's socket unit keeps its file for the next start
				addrs = append(addrs, a)
			}
		}
		if m.stats != nil { // never a path whose binding was refused
			addrs = append(addrs, m.o.Stats)
		}
		if err := listen.Vacuum(addrs); err != nil {
			m.o.Log.Warn("carafe: master: --vacuum cannot remove a socket (bound as root before the "+
				"privilege drop? see --master-as-root)", "err", err)
		}
		for _, p := range m.o.Pidfiles {
			m.removePidfile(p.Path)
		}
	}
}

// removePidfile removes path if it still holds this master's pid: during
// an upgrade beside a new carafe (--reuse-port), the file may already be
// the new one's.
func (m *master) removePidfile(path string) {
	b, err := os.ReadFile(path)
	if err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(os.Getpid()) {
		return
	}
	if err := os.Remove(path); err != nil {
		m.o.Log.Warn("carafe: master: --vacuum cannot remove the pidfile (written as root before the "+
			"privilege drop? see --master-as-root)", "file", path, "err", err)
	}
}

// signal handles one signal; done means exit with code.
func (m *master) signal(sig syscall.Signal) (code int, done bool) {
	why := map[syscall.Signal]string{syscall.SIGHUP: "SIGHUP", syscall.SIGTERM: "SIGTERM",
		syscall.SIGUSR1: "SIGUSR1", syscall.SIGTTIN: "SIGTTIN", syscall.SIGTTOU: "SIGTTOU"}[sig]
	if why == "" {
		why = sig.String() // "interrupt", "quit"
	}
	return m.act(sig, why)
}

// act does what sig asks, said to be for why (the signal's name, or the
// master FIFO command that asks the same).
func (m *master) act(sig syscall.Signal, why string) (code int, done bool) {
	switch sig {
	case syscall.SIGHUP:
		m.reload(why)
	case syscall.SIGTERM:
		m.o.Notify.Send("STOPPING=1")
		m.o.Log.Info("carafe: master: "+why+", stopping workers gracefully", "mercy", m.o.Mercy)
		m.stopping = true
		for _, p := range m.procs {
			m.stop(p, "shutdown")
		}
		m.retiredMercy()
		// The workers close their copies of the listeners at once; ours
		// would keep each socket open, and queueing connections nobody
		// accepts, for the whole drain, to reset them when we exit. Closed
		// now, a new connection is refused at once, or, with --reuse-port,
		// goes to the carafe started beside this one (the upgrade).
		m.closeListeners()
	case syscall.SIGINT, syscall.SIGQUIT:
		m.o.Notify.Send("STOPPING=1")
		m.o.Log.Info("carafe: master: " + why + ", stopping now")
		n, killed := len(m.procs), m.killAll()
		// The last line says that the stop is done, as the graceful
		// one's does: a master that ends without it was killed.
		how := ""
		if killed > 0 {
			how = fmt.Sprintf(" (%d still running after %v, killed)", killed, killGrace)
		}
		m.o.Log.Info(fmt.Sprintf("carafe: master: %d %s stopped%s; bye", n, plural(n, "worker", "workers"), how))
		return 0, true
	case syscall.SIGUSR1:
		m.reopenLog()
	case syscall.SIGUSR2: // every worker logs its Python stacks
		for _, p := range m.procs {
			if p.watching { // (one that is not yet has no request to show)
				p.cmd.Process.Signal(syscall.SIGUSR2)
			}
		}
	case syscall.SIGTTIN:
		switch c := m.o.Cheaper; {
		case m.stopping: // no new worker for a master on its way out
		case c.Min > 0 && m.want >= m.o.Processes:
			m.o.Log.Info(fmt.Sprintf("carafe: master: %s: already at --processes %d, the most --cheaper runs", why, m.o.Processes))
		default:
			m.more(1, why)
		}
	case syscall.SIGTTOU:
		if c := m.o.Cheaper; c.Min > 0 && m.want <= c.Min {
			m.o.Log.Info(fmt.Sprintf("carafe: master: %s: already at --cheaper %d, the fewest it runs", why, c.Min))
			break
		}
		if m.want <= 1 {
			m.o.Log.Info("carafe: master: " + why + ": already at one worker, the fewest")
			break
		}
		m.fewer(why)
	}
	return 0, false
}

// Reconfig is what a reload applies of the configuration read again: the
// workers' environment, and the scaling, cheaper's settings (nil: the
// master's stay), which apply once the reload completes.
type Reconfig struct {
	WorkerEnv []string
	Cheaper   *Cheaper
}

// reload starts a new generation of every worker; each old worker is
// stopped gracefully once its replacement is ready.
func (m *master) reload(why string) {
	if m.stopping {
		return
	}
	if m.o.Reconfigure != nil {
		r, err := m.o.Reconfigure(m.o.WorkerEnv)
		if err != nil {
			m.o.Log.Error("carafe: master: "+why+": the configuration has an error; not reloading, "+
				"the workers serve on as they were: fix it, then reload again", "err", err)
			// systemd's Type=notify-reload waits for both; its status says why.
			short, _, _ := strings.Cut(err.Error(), "\n")
			m.o.Notify.Send(sdnotify.Reloading() + "\nSTATUS=reloading: " + why)
			m.o.Notify.Send("READY=1\nSTATUS=reload refused: " + short)
			return
		}
		m.o.WorkerEnv, m.rescaleTo = r.WorkerEnv, r.Cheaper
	}
	// The log too (uWSGI's log-reopen): the new workers open it by name.
	m.reopenOwnLog()
	m.o.Log.Info("carafe: master: " + why + ", reloading workers gracefully")
	m.o.Notify.Send(sdnotify.Reloading() + "\nSTATUS=reloading: " + why)
	m.reloading = true
	// (reloadErr: a reload this one supersedes failed on code now gone)
	m.reloadAt, m.pendingReload, m.catchUp, m.reloadErr = time.Now(), "", false, ""
	m.overRSSWarned = false
	for id := 1; id <= m.want; id++ {
		var old *proc
		for _, p := range m.procs {
			// A replacement still starting from an earlier reload may have
			// imported the code before this change: start over. It may
			// already serve (it accepts before it says ready), so it
			// stops as any worker does, finishing what it took.
			if p.id == id && p.state == stateStarting && p.replaces != nil {
				old, p.replaces = p.replaces, nil
				m.stop(p, "superseded by a newer reload")
			}
		}
		if cur := m.current(id); old == nil && len(cur) > 0 {
			old = cur[0]
		}
		if old != nil {
			m.spawnOrLog(id, 0, old)
		} else {
			m.spawnOrLog(id, 0)
		}
	}
}

// scanBurst is how soon after the change that began a reload the reports
// of one --py-autoreload scan (the files a deploy changed at once, which
// the reload's workers import anyway) have all come.
const scanBurst = 500 * time.Millisecond

// replacing reports whether a replacement for p is starting.
func (m *master) replacing(p *proc) bool {
	for _, q := range m.procs {
		if q.replaces == p {
			return true
		}
	}
	return false
}

// live returns the procs of a slot that are not stopping: those serving
// and their replacements still starting.
func (m *master) live(id int) []*proc {
	var out []*proc
	for _, p := range m.procs {
		if p.id == id && p.state != stateStopping {
			out = append(out, p)
		}
	}
	return out
}

// current returns the serving (not stopping, not replacing-in-progress)
// procs of a slot.
func (m *master) current(id int) []*proc {
	var out []*proc
	for _, p := range m.procs {
		if p.id == id && p.state != stateStopping && p.replaces == nil {
			out = append(out, p)
		}
	}
	return out
}

// spawnOrLog starts a worker for slot id (after delay, when it is
// positive), one that replaces the first of replaces if given. A start
// that fails (the task limit of a cgroup reached, the master out of file
// descriptors: resources that come back) is tried again, after a back-off
// that grows to 10 s while the starts keep failing: an empty slot left so
// for good was a server without workers, its master still up.
func (m *master) spawnOrLog(id int, delay time.Duration, replaces ...*proc) {
	if delay > 0 {
		time.AfterFunc(delay, func() { m.events <- event{kind: evRespawn, id: id} })
		return
	}
	var r *proc
	if len(replaces) > 0 {
		r = replaces[0]
	}
	s := slotOf(id)
	if err := m.spawn(id, r); err != nil {
		s.startFails++
		wait := max(backoff(s.startFails+1), backoff(2))
		m.o.Log.Error(fmt.Sprintf("carafe: master: cannot start worker %d; trying again in %s", id, wait), "err", err)
		m.retries = append(m.retries, pendingStart{id, r})
		time.AfterFunc(wait, func() { m.events <- event{kind: evRespawn, id: id, p: r, retry: true} })
		return
	}
	s.startFails = 0
}

// pendingStart is a start that failed, waiting for its retry: of a
// worker for slot id, one that replaces r when r is not nil.
type pendingStart struct {
	id int
	r  *proc
}

// retryStart handles the retry of a start that failed (see spawnOrLog).
func (m *master) retryStart(id int, r *proc) {
	if i := slices.Index(m.retries, pendingStart{id, r}); i >= 0 {
		m.retries = slices.Delete(m.retries, i, i+1)
	}
	if start, replace := m.stillWanted(id, r); start {
		if replace != nil {
			m.spawnOrLog(id, 0, replace)
		} else {
			m.spawnOrLog(id, 0)
		}
	}
	m.checkSettled() // the last retry of a start-up or reload may have been moot
}

// stillWanted says whether a start that failed is still to be made, and
// whether as a replacement: one while the worker it was to replace still
// serves and none other replaces it; a worker for the slot while it is
// empty. A reload that filled the slot meanwhile made it moot.
func (m *master) stillWanted(id int, r *proc) (start bool, replace *proc) {
	switch {
	case m.stopping:
		return false, nil
	case r != nil && slices.Contains(m.procs, r) && r.state != stateStopping:
		return !m.replacing(r), r
	}
	return id <= m.want && len(m.current(id)) == 0, nil
}

// tick runs the once-a-second checks: touch-reload, touch-logreopen,
// overdue stops and log rotation.
func (m *master) tick() {
	now := time.Now()
	for _, p := range m.procs {
		if p.state == stateStarting && !p.slowWarned && now.Sub(p.started) >= slowStart {
			// An import that never ends (a hung database connection at
			// import time) would go unseen: the worker it replaces serves
			// on, its limits put off until the replacement is ready.
			p.slowWarned = true
			what := "it has not said it is ready"
			if p.replaces != nil {
				what += fmt.Sprintf("; pid %d, which it replaces, serves on meanwhile, its limits put off", p.replaces.pid)
			}
			m.o.Log.Warn(fmt.Sprintf("carafe: master: worker %d (pid %d) has been starting for %s (importing the app?): %s",
				p.id, p.pid, now.Sub(p.started).Round(time.Second), what))
		}
		if p.state == stateStopping && now.After(p.killAt) {
			m.o.Log.Warn(fmt.Sprintf("carafe: master: worker %d (pid %d) still running %s after it was told to stop; killing it",
				p.id, p.pid, now.Sub(p.stopAt).Round(100*time.Millisecond)))
			p.cmd.Process.Kill()
			p.killAt = now.Add(time.Hour)
		}
	}
	// A file that is missing (being replaced, say) changes nothing, as in
	// uWSGI; its return with a new time does.
	for f, old := range m.mtimes {
		if t := mtime(f); !t.IsZero() && !t.Equal(old) {
			m.mtimes[f] = t
			m.reload("--touch-reload " + f)
		}
	}
	for f, old := range m.logMtimes {
		if t := mtime(f); !t.IsZero() && !t.Equal(old) {
			m.logMtimes[f] = t
			m.reopenLog()
			m.o.Log.Info("carafe: master: --touch-logreopen " + f + " touched; logs reopened")
		}
	}
	m.rotateLog(now)
	m.watchStopped()
	m.retiredOverdue(now)
}

// stoppedAfter is how many ticks in a row must find a ready worker
// stopped before it is steered around: a profiler that samples by
// stopping the process (py-spy) stops it for a moment many times a
// second, and one tick may find it so.
const stoppedAfter = 2

// watchStopped steers new connections off the socket of a worker whose
// process is stopped: by a SIGSTOP, or by a debugger attached to look at
// a hang (gdb, py-spy dump). It accepts nothing meanwhile, and on TCP,
// where each worker has a socket of its own, the connections given to
// that socket waited until it ran again. It is not killed: whoever
// stopped it may want it back. Its connections already queued wait for
// it.
func (m *master) watchStopped() {
	for _, p := range m.procs {
		if p.state != stateReady {
			continue
		}
		if !processStopped(p.pid) {
			if p.stoppedTicks >= stoppedAfter {
				m.o.Log.Info(fmt.Sprintf("carafe: master: worker %d (pid %d) runs again; it takes new connections", p.id, p.pid))
			}
			p.stoppedTicks = 0
			continue
		}
		if p.stoppedTicks++; p.stoppedTicks == stoppedAfter {
			m.o.Log.Warn(fmt.Sprintf("carafe: master: worker %d (pid %d) is stopped (a SIGSTOP, or a debugger "+
				"attached); new connections go to the other workers until it runs again", p.id, p.pid))
		}
	}
}

// processStopped reports whether the process pid is stopped by a signal
// or a tracer (state T or t in /proc/PID/stat).
func processStopped(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	// pid (comm) state ...: comm may hold spaces and parentheses.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'T' || b[i+2] == 't'
}

// slowStart is how long a worker may start (import the app) before the
// master says so.
var slowStart = time.Minute

// reopenLog reopens the --logto file here and in every worker (SIGUSR1).
// A worker just started gets its signal once it watches for it: sent
// before, the default action ended it, and a reload beside a rotation
// (logrotate's postrotate after a deploy's SIGHUP) failed.
func (m *master) reopenLog() {
	m.reopenOwnLog()
	for _, p := range m.procs {
		if p.watching {
			p.cmd.Process.Signal(syscall.SIGUSR1)
		} else {
			p.reopenHeld = true
		}
	}
}

// reopenOwnLog reopens the --logto file here; a root master
// (--master-as-root) then gives each log file the workers open by name,
// created anew if a rotation moved it away, to the workers' user.
func (m *master) reopenOwnLog() {
	if err := logfile.Redirect(m.o.LogFile.Path); err != nil {
		m.o.Log.Error("carafe: master: cannot reopen the log", "err", err)
	}
	if c := m.workerCred; c != nil {
		for _, f := range m.logFiles() {
			m.claimLog(f, int(c.Uid), int(c.Gid))
		}
	}
}

// rotateLog renames the --logto file once it reaches --log-maxsize, and
// has every process reopen it. Lines a worker writes before its SIGUSR1
// arrives end up in the renamed file, none is lost.
func (m *master) rotateLog(now time.Time) {
	to, err := m.o.LogFile.Rename(now)
	if err != nil {
		if logfile.Cause(err) != m.rotateErr { // once, not every second
			m.rotateErr = logfile.Cause(err)
			m.o.Log.Error("carafe: master: cannot rotate the log", "err", err)
		}
		return
	}
	m.rotateErr = ""
	if to != "" {
		m.reopenLog()
		m.o.Log.Info("carafe: master: log rotated (--log-maxsize)", "old", to)
	}
}

// recycle replaces p gracefully: its replacement starts now (unless a
// reload's is starting already), and p is stopped once that one is ready.
func (m *master) recycle(p *proc, why string) {
	if p.recycling || p.state == stateStopping || m.stopping {
		return
	}
	p.recycling = true
	// A reload's replacement takes over as a recycling one would, and p
	// resumes if it fails. A second replacement left two workers in the
	// slot for good, and the next reload replaced only one of them.
	for _, q := range m.procs {
		if q.replaces == p && q.state != stateStopping {
			m.o.Log.Info(fmt.Sprintf("carafe: master: worker %d (pid %d) reached a limit (%s); pid %d, already starting, replaces it",
				p.id, p.pid, why, q.pid))
			return
		}
	}
	// One worker of a slot drains at a time. With long requests, each
	// recycle left one more draining beside the serving one (13 workers
	// and 1.3 GB for one slot under --reload-on-rss 100): the limit meant
	// to bound memory multiplied it. This one serves on, past its limit,
	// until the one draining has gone (exited calls recyclePending).
	for _, q := range m.procs {
		if q.id == p.id && q != p && q.state == stateStopping {
			p.pendingRecycle = why
			m.o.Log.Info(fmt.Sprintf("carafe: master: worker %d (pid %d) reached a limit (%s); it is recycled "+
				"once pid %d, still finishing its requests, has exited", p.id, p.pid, why, q.pid))
			return
		}
	}
	m.o.Log.Info(fmt.Sprintf("carafe: master: recycling worker %d (pid %d): %s", p.id, p.pid, why))
	m.spawnOrLog(p.id, 0, p)
}

// recyclePending recycles the worker of slot id that reached a limit
// while another of the slot drained, once none drains any more.
func (m *master) recyclePending(id int) {
	var pending *proc
	for _, q := range m.procs {
		switch {
		case q.id != id:
		case q.state == stateStopping:
			return // another still drains
		case q.pendingRecycle != "":
			pending = q
		}
	}
	if pending != nil {
		why := pending.pendingRecycle
		pending.pendingRecycle, pending.recycling = "", false
		m.recycle(pending, why)
	}
}

// backoff is how long to wait before restarting a worker of a slot that
// has died fails times in a row (a worker that lived 10 s resets the
// count): the first restart is immediate, then 100 ms doubling to 10 s,
// so a crash loop does not spin.
func backoff(fails int) time.Duration {
	if fails <= 1 {
		return 0
	}
	return time.Duration(math.Min(float64(100*time.Millisecond)*math.Pow(2, float64(fails-2)),
		float64(10*time.Second)))
}

// killGrace is how long killAll's workers have to leave by themselves.
const killGrace = time.Second

// killAll ends every worker now, requests in flight and all (SIGINT,
// SIGQUIT, a failed start-up). They are sent SIGINT, which a serving
// worker answers by writing out its buffered request log (the lines of
// requests already answered) and exiting without draining, and one still
// importing its app by exiting at once; SIGKILL follows for any still
// there after killGrace. SIGINT, not SIGQUIT: before a worker has its
// handlers, Go's default for SIGQUIT dumps every goroutine (burying the
// error that made the master give up under a page of stacks), for SIGINT
// it exits quietly. Nor SIGKILL for a worker the master still counts as
// starting: it may have served already, its word that it is ready not yet
// read, and its log lines would be lost.
//
// It returns how many were killed.
func (m *master) killAll() (killed int) {
	for _, p := range m.procs {
		p.cmd.Process.Signal(syscall.SIGINT)
	}
	deadline := time.Now().Add(killGrace)
	for _, p := range m.procs {
		select {
		case <-p.exited:
			continue
		case <-time.After(time.Until(deadline)):
		}
		p.cmd.Process.Kill()
		killed++
		<-p.exited
	}
	m.procs = nil
	return killed
}

func (m *master) remove(p *proc) {
	m.procs = slices.DeleteFunc(m.procs, func(q *proc) bool { return q == p })
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func mtime(path string) time.Time {
	st, err := os.Stat(path)
	if err != nil {
		return time.Time{}
	}
	return st.ModTime()
}

// memory reads a process's virtual and resident sizes, in bytes, from
// /proc.
func memory(pid int) (vsz, rss int64) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/statm")
	if err != nil {
		return 0, 0
	}
	fmt.Sscan(string(b), &vsz, &rss)
	page := int64(os.Getpagesize())
	return vsz * page, rss * page
}
