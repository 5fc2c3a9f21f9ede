package master

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"carafe/internal/control"
	"carafe/internal/listen"
	"carafe/internal/logfile"
	"carafe/internal/sdnotify"
)

type procState int

const (
	stateStarting procState = iota
	stateReady
	stateStopping
)

func (s procState) String() string {
	return [...]string{"starting", "ready", "stopping"}[s]
}

// proc is one worker process.
type proc struct {
	id, pid   int
	cmd       *exec.Cmd
	ctl       *control.Conn
	state     procState
	started   time.Time
	readyAt   time.Time // when it said it serves; zero before
	replaces  *proc     // the worker this one takes over from once ready
	recycling bool      // a replacement for this worker is starting
	// pendingRecycle is why this worker is to be recycled once its slot's
	// worker still draining has gone (see recycle); "" when it is not.
	pendingRecycle string
	harakiri       bool
	// watching: the worker has said its signal handlers are in place;
	// before that a SIGUSR1 or SIGUSR2 would end it (the default action).
	// reopenHeld is a log reopen held back till then (see reopenLog).
	watching, reopenHeld bool
	slowWarned           bool // said to be slow to start (see tick)
	shedding             bool // the worker takes no new connections (see steer)
	// stoppedTicks counts the ticks in a row that found the process
	// stopped (a SIGSTOP, a debugger); from stoppedAfter on it is steered
	// around (see watchStopped).
	stoppedTicks int
	loadErr      bool
	// loadNs and loadAt are the worker's last report of its threads' time
	// in requests (--cheaper), and when it came; load is the share of that
	// time between its last two reports, once loaded.
	loadNs int64
	loadAt time.Time
	load   float64
	loaded bool
	// retiring: cheaper gave up its slot and it stops once its requests
	// are done, without a deadline (see retire); retireSaid, that it was
	// said to be still at it past the mercy.
	retiring, retireSaid bool
	killAt               time.Time
	stopAt               time.Time // when it was asked to stop
	exited               chan struct{}
	ctlDone              chan struct{} // the control reader has seen EOF
	stats                chan *control.WorkerStats
	// statsAsked: a stats request is on its way or waiting to be read,
	// not yet answered (see collect).
	statsAsked atomic.Bool
}

type evKind int

const (
	evMsg evKind = iota
	evExit
	evRespawn
	evSnapshot
	evFifo
)

type event struct {
	kind  evKind
	p     *proc
	msg   control.Msg
	id    int
	reply chan snapshot
	fifo  fifoInput
	retry bool // evRespawn: the retry of a start that failed (see spawnOrLog)
}

// slot is what the master remembers about a worker id across restarts.
type slot struct {
	started     bool
	respawns    int  // workers started after the first, for any reason
	fails       int  // deaths in a row of workers that died young (see respawn)
	startFails  int  // starts in a row that failed (see spawnOrLog)
	harakiris   int  // workers that overran --harakiri
	broken      bool // its last worker could not load the app (see standIn)
	killedYoung bool // its last worker was killed (SIGKILL) as it loaded the app, and not taken for broken
}

var slots = map[int]*slot{}

func slotOf(id int) *slot {
	s := slots[id]
	if s == nil {
		s = &slot{}
		slots[id] = s
	}
	return s
}

// spawn starts a worker for slot id; replaces, when set, is stopped once
// the new one is ready.
func (m *master) spawn(id int, replaces *proc) error {
	ctl, theirs, err := control.Pair()
	if err != nil {
		return err
	}
	defer theirs.Close()
	cmd := exec.Command("/proc/self/exe", m.o.Args...)
	cmd.Args[0] = os.Args[0]
	cmd.ExtraFiles = []*os.File{theirs}
	for _, g := range m.socks {
		cmd.ExtraFiles = append(cmd.ExtraFiles, g.file(id))
	}
	shared := make([]string, len(m.socks))
	for i, g := range m.socks {
		// One socket for more workers than itself: the others accept
		// from it too (see the worker's Admission).
		shared[i] = "0"
		if len(g.files) < max(m.want, m.o.Processes) {
			shared[i] = "1"
		}
	}
	cmd.Env = append(os.Environ(), control.EnvWorker+"="+strconv.Itoa(id), m.o.WorkerSettings.Env(),
		control.EnvShared+"="+strings.Join(shared, ","))
	cmd.Env = append(cmd.Env, m.o.WorkerEnv...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	// The kernel kills a worker whose master died, even by SIGKILL.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	cmd.SysProcAttr.Credential = m.workerCred // nil: the master's own (see dropPrivileges)
	if err := cmd.Start(); err != nil {
		ctl.Close()
		return err // (the callers say what failed)
	}
	p := &proc{id: id, pid: cmd.Process.Pid, cmd: cmd, ctl: ctl, started: time.Now(),
		replaces: replaces, exited: make(chan struct{}), ctlDone: make(chan struct{}),
		stats: make(chan *control.WorkerStats, 1)}
	m.procs = append(m.procs, p)
	if s := slotOf(id); s.started {
		s.respawns++
	} else {
		s.started = true
	}
	go m.readControl(p)
	go func() {
		cmd.Wait()
		// Every message the worker sent (a load error's traceback above
		// all) is handled before its exit is.
		select {
		case <-p.ctlDone:
		case <-time.After(2 * time.Second):
		}
		ctl.Close()
		close(p.exited)
		m.events <- event{kind: evExit, p: p}
	}()
	return nil
}

func (m *master) readControl(p *proc) {
	defer close(p.ctlDone)
	warned := false
	for {
		msg, err := p.ctl.Recv()
		if errors.Is(err, control.ErrTooLong) || errors.Is(err, control.ErrBadMessage) {
			// The app's code may write the worker's end: skipped, said
			// once a worker, and the master reads on (it stopped reading
			// that worker for good, its ready and stats replies too).
			if !warned {
				warned = true
				m.o.Log.Warn(fmt.Sprintf("carafe: master: worker %d (pid %d) wrote its control socket what is "+
					"no message (the app's code?); skipped", p.id, p.pid), "err", err)
			}
			continue
		}
		if err != nil {
			return
		}
		if msg.T == control.StatsResp {
			p.statsAsked.Store(false)
			select {
			case p.stats <- msg.Stats:
			default:
			}
			continue
		}
		m.events <- event{kind: evMsg, p: p, msg: msg}
	}
}

// handle runs one event; done means exit with code.
func (m *master) handle(ev event) (code int, done bool) {
	switch ev.kind {
	case evMsg:
		return m.message(ev.p, ev.msg)
	case evExit:
		return m.exited(ev.p)
	case evRespawn:
		if ev.retry {
			m.retryStart(ev.id, ev.p)
		} else if !m.stopping && ev.id <= m.want && len(m.current(ev.id)) == 0 {
			m.spawnOrLog(ev.id, 0)
		}
	case evSnapshot:
		ev.reply <- m.snapshot()
	case evFifo:
		return m.fifoCommands(ev.fifo)
	}
	return 0, false
}

func (m *master) message(p *proc, msg control.Msg) (int, bool) {
	switch msg.T {
	case control.Watching:
		p.watching = true
		if p.reopenHeld {
			p.reopenHeld = false
			p.cmd.Process.Signal(syscall.SIGUSR1)
		}
	case control.Ready:
		if p.state != stateStarting {
			break
		}
		p.state = stateReady
		p.readyAt = time.Now()
		slotOf(p.id).broken, slotOf(p.id).killedYoung = false, false
		m.o.Log.Info(fmt.Sprintf("carafe: worker %d (pid %d) ready: %s", p.id, p.pid, msg.Text))
		if old := p.replaces; old != nil {
			p.replaces = nil
			m.stop(old, "replaced by pid "+strconv.Itoa(p.pid))
		}
		m.checkSettled()
	case control.LoadError:
		p.loadErr = true
		slotOf(p.id).broken = true
		if m.startup {
			fmt.Fprintln(os.Stderr, msg.Text)
			if len(m.procs) > 1 {
				// Their "interrupt while importing the app" lines follow:
				// say that it is the master's doing, not a Ctrl-C.
				m.o.Log.Error(fmt.Sprintf("carafe: master: worker %d could not load the app at the start; "+
					"stopping the others and exiting", p.id))
			}
			m.killAll()
			return 1, true
		}
		if m.reloading && (p.replaces != nil || p.started.After(m.reloadAt)) {
			// A replacement, or the worker the reload started in a slot
			// it found empty (one respawning): the new code fails.
			m.reloadErr = "the app could not be loaded; see the traceback above"
		}
		what := "its slot has no worker serving; it is started again"
		for _, q := range m.procs {
			if q != p && q.id == p.id && q.state == stateReady {
				what = "the running workers keep serving the code they have"
			}
		}
		m.o.Log.Error(fmt.Sprintf("carafe: worker %d (pid %d) could not load the app; %s:\n%s", p.id, p.pid, what, msg.Text))
	case control.Recycle:
		m.recycle(p, msg.Text)
	case control.Shed:
		p.shedding = msg.Text == "1"
	case control.Load:
		m.noteLoad(p, msg.Text)
	case control.Changed:
		// Every worker that imported the file says it, with the file's
		// modification time: the first report of a time counts, the
		// others are that change again.
		path, stamp, _ := strings.Cut(msg.Text, "\x00")
		if m.autoReloaded == nil {
			m.autoReloaded = map[string]string{}
		}
		if m.autoReloaded[path] == stamp {
			break
		}
		m.autoReloaded[path] = stamp
		why := "py-autoreload: " + path + " changed"
		switch {
		case !m.reloading:
			m.reload(why)
		case m.catchUp:
			// A change during a catch-up reload is not caught up: an app
			// that writes a module it imports, as it imports, would
			// reload for ever.
		case time.Since(m.reloadAt) > scanBurst && m.pendingReload == "":
			// Saved while the reload's new workers import the app: they
			// may have read the file before. Once more when it settles
			// (an edit saved then was lost).
			m.pendingReload = why
		}
		// (Else the same scan as the change that began the reload: the
		// other files a deploy changed at once, which its workers import.)
	case control.OverRSS:
		// Every worker of the app would say it: once is enough, until
		// a reload brings code that may be smaller.
		if !m.overRSSWarned {
			m.overRSSWarned = true
			m.o.Log.Warn(fmt.Sprintf("carafe: worker %d (pid %d): %s", p.id, p.pid, msg.Text))
		}
	case control.Harakiri:
		p.harakiri = true
		slotOf(p.id).harakiris++
		p.state = stateStopping
		p.stopAt = time.Now()
		p.killAt = p.stopAt.Add(min(m.o.Mercy, m.o.HarakiriGrace) + 2*time.Second)
		// A worker that was already on its way out (recycled, reloaded,
		// shut down) has its replacement, or needs none: one more would
		// be a worker too many, never stopped.
		then := "replacing it"
		switch {
		case m.stopping:
			then = "the server is stopping"
		case p.id > m.want:
			then = "its slot was given up"
		case len(m.live(p.id)) > 0:
			then = "its replacement is already started"
		}
		m.o.Log.Error(fmt.Sprintf("carafe: worker %d (pid %d) overran --harakiri on %s; %s",
			p.id, p.pid, msg.Text, then))
		if then == "replacing it" {
			m.spawnOrLog(p.id, 0)
		}
	}
	return 0, false
}

// checkSettled logs when start-up or a reload has finished.
func (m *master) checkSettled() {
	if m.stopping {
		// A start-up or reload cut short by a stop neither became ready
		// nor completed: say nothing of the kind (systemd would read a
		// READY=1 after STOPPING=1).
		m.startup, m.reloading, m.reloadErr, m.pendingReload, m.rescaleTo = false, false, "", "", nil
		return
	}
	for _, p := range m.procs {
		if p.state == stateStarting {
			return
		}
	}
	for _, ps := range m.retries {
		if start, _ := m.stillWanted(ps.id, ps.r); start {
			return // a worker that could not start is still to come
		}
	}
	if m.startup {
		m.startup = false
		ready := fmt.Sprintf("%d %s ready", m.want, plural(m.want, "worker", "workers"))
		m.o.Log.Info(fmt.Sprintf("carafe: master: %s in %s", ready, time.Since(m.started).Round(time.Millisecond)))
		if err := m.o.Notify.Send("READY=1\nSTATUS=" + ready); err != nil {
			m.o.Log.Warn(sdnotify.Unheard, "err", err)
		}
	}
	if m.reloading {
		m.reloading = false
		if why := m.reloadErr; why != "" {
			m.reloadErr = ""
			newer := 0
			for _, p := range m.procs {
				if p.state != stateStopping && p.started.After(m.reloadAt) {
					newer++
				}
			}
			if newer > 0 {
				// Some slots took the new code: the site runs both.
				why = fmt.Sprintf("%d of %d workers run the new code, the others the code they had: %s",
					newer, m.want, why)
			}
			m.o.Log.Error("carafe: master: reload failed: " + why)
			short, _, _ := strings.Cut(why, ";") // the STATUS line is one line; the log has the rest
			m.o.Notify.Send("READY=1\nSTATUS=reload failed: " + short)
		} else {
			m.o.Log.Info("carafe: master: reload complete")
			m.o.Notify.Send("READY=1\nSTATUS=reload complete")
			if c := m.rescaleTo; c != nil {
				m.rescale(*c)
			}
		}
		m.rescaleTo = nil
		if why := m.pendingReload; why != "" {
			m.reload(why + " during the reload")
			m.catchUp = true
		}
	}
}

func (m *master) exited(p *proc) (int, bool) {
	m.remove(p)
	cause := exitCause(p.cmd.ProcessState)
	lived := time.Since(p.started)
	expected := p.state == stateStopping
	msg := fmt.Sprintf("carafe: worker %d (pid %d) exited (%s) after %s", p.id, p.pid, cause,
		lived.Round(time.Millisecond))
	if expected || m.stopping || p.loadErr || p.harakiri {
		m.o.Log.Info(msg)
	} else {
		// Nobody asked it to go: a crash, an os._exit, a kill from
		// outside. Said louder, with the likely reason.
		m.o.Log.Warn(msg + crashHint(p.cmd.ProcessState))
	}
	if old := p.replaces; old != nil && old.state != stateStopping && old.recycling {
		// The replacement it asked for failed: it keeps serving (a broken
		// deploy must not take the site down). A worker a reload meant to
		// replace asked for nothing and serves on as it was, its limits
		// intact.
		old.recycling = false
		old.ctl.Send(control.Msg{T: control.Resume})
	}
	if expected {
		m.recyclePending(p.id)
	}
	if s := slotOf(p.id); p.state == stateStarting {
		// One that died before it served (its config or --chdir gone, a
		// crash at import) cannot be counted on to come back soon either.
		// One killed from outside as it imported (kill -9, the OOM
		// killer) says nothing of the code: its replacement is an import
		// away, and the connections on its socket wait for it, as at a
		// start; a stand-in answered them 503 meanwhile. A second in a
		// row (an import the OOM killer ends each time) is broken.
		if killed(p.cmd.ProcessState) && !s.killedYoung {
			s.killedYoung = true
		} else {
			s.broken = true
		}
	}
	if m.startup && p.state == stateStarting && !p.loadErr {
		fmt.Fprintf(os.Stderr, "carafe: worker %d exited during start-up (%s); see its output above\n", p.id, cause)
		m.killAll()
		return 1, true
	}
	if m.reloading && p.state == stateStarting && !p.loadErr && m.reloadErr == "" &&
		(p.replaces != nil || p.started.After(m.reloadAt)) {
		// A worker of the reload (a replacement, or one it started in a
		// slot it found empty) that died before it could even say why (a
		// broken ini, a missing --chdir, a crash or os._exit at import)
		// fails the reload as much as an app that does not import.
		m.reloadErr = fmt.Sprintf("a new worker exited during start-up (%s); see its output above", cause)
	}
	if m.stopping || p.id > m.want {
		m.checkSettled()
		return 0, false
	}
	if expected || p.replaces != nil {
		// A worker that was stopped, or a replacement that failed: the
		// slot's other worker serves on.
		if len(m.live(p.id)) == 0 {
			// Unless there is none: the worker a failed replacement was to
			// replace overran --harakiri meanwhile (and needed no second
			// replacement then), so the slot would stay empty for good.
			m.respawn(p)
		}
		m.checkSettled()
		return 0, false
	}
	taken := false
	for _, q := range m.procs {
		if q.id == p.id && q.state != stateStopping {
			taken = true // a replacement was already starting: it takes over
			if q.replaces == p {
				q.replaces = nil
			}
		}
	}
	if taken {
		m.checkSettled()
		return 0, false
	}
	m.respawn(p)
	if m.reloading {
		// A reload may wait on no other worker now: one whose slot it
		// found empty, failing as it starts, would keep it open for good.
		m.checkSettled()
	}
	return 0, false
}

// servedLongEnough is how long a worker must have served for its death
// to count as no crash loop: a request that crashes it (a C extension's
// bug on one URL) must not make the site wait out a growing back-off,
// as one that dies as it starts must not spin.
const servedLongEnough = time.Second

// servedBackoffMax bounds the delay before replacing a worker that had
// served, however often its replacements die.
const servedBackoffMax = 500 * time.Millisecond

// respawn starts a worker in p's slot after the slot's back-off, which
// grows while its workers die young: within 10 s of their start, and
// before they served for servedLongEnough.
func (m *master) respawn(p *proc) {
	id := p.id
	s := slotOf(id)
	if time.Since(p.started) > 10*time.Second ||
		!p.readyAt.IsZero() && time.Since(p.readyAt) >= servedLongEnough {
		s.fails = 0
	}
	s.fails++
	delay := backoff(s.fails)
	if !p.readyAt.IsZero() {
		// It served: a URL that crashes it, asked for more than once a
		// second, must not keep the slot empty for seconds (uWSGI's
		// pause is a fixed 2 s); one an import crash loop needs.
		delay = min(delay, servedBackoffMax)
	}
	if delay > 0 {
		m.o.Log.Warn(fmt.Sprintf("carafe: worker %d keeps dying; respawning in %s", id, delay))
	} else {
		m.o.Log.Info(fmt.Sprintf("carafe: respawning worker %d", id))
	}
	m.spawnOrLog(id, delay)
}

// stop asks p to finish its requests and leave; tick kills it after Mercy.
func (m *master) stop(p *proc, why string) { m.stopAfter(p, why, 0) }

// retireLinger is how long a worker whose socket is retired (SIGTTOU) goes
// on serving before it is stopped: longer than a connection's handshake
// takes to land in the socket's queue.
const retireLinger = time.Second

// stopAfter is stop with the request to leave sent after d; p counts as
// stopping from now (it is no longer one of its slot's serving workers).
func (m *master) stopAfter(p *proc, why string, d time.Duration) {
	if p.state == stateStopping {
		return
	}
	p.state = stateStopping
	p.stopAt = time.Now()
	p.killAt = p.stopAt.Add(d + m.o.Mercy + time.Second)
	m.o.Log.Info(fmt.Sprintf("carafe: stopping worker %d (pid %d): %s", p.id, p.pid, why))
	if d == 0 {
		p.cmd.Process.Signal(syscall.SIGTERM)
		return
	}
	time.AfterFunc(d, func() { p.cmd.Process.Signal(syscall.SIGTERM) })
}

func exitCause(ps *os.ProcessState) string {
	if ps == nil {
		return "unknown"
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return "killed by signal " + ws.Signal().String()
	}
	return "exit status " + strconv.Itoa(ps.ExitCode())
}

// killed reports whether a process ended by SIGKILL.
func killed(ps *os.ProcessState) bool {
	if ps == nil {
		return false
	}
	ws, ok := ps.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == syscall.SIGKILL
}

// crashHint is what a worker's unasked-for exit most likely means.
func crashHint(ps *os.ProcessState) string {
	if ps == nil {
		return ""
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		if ws.Signal() == syscall.SIGKILL {
			return ": killed from outside (kill -9), or out of memory (the kernel's OOM killer sends SIGKILL; see dmesg)"
		}
		return ""
	}
	if ps.ExitCode() == 2 {
		// Also a refused configuration's status, and any app's own.
		return ": if a Go stack is in the output above, the worker crashed (a fault in C code, such " +
			"as a Python extension's, included)"
	}
	return ""
}

// logFiles lists the log files carafe's processes open by name
// (/dev/stdout and /dev/stderr name the descriptors they have).
func (m *master) logFiles() []string {
	var files []string
	for _, f := range []string{m.o.LogFile.Path, m.o.ReqLogFile} {
		if f != "" && f != "/dev/stdout" && f != "/dev/stderr" {
			files = append(files, f)
		}
	}
	return files
}

// runAs resolves --uid/--gid to numbers; -1 leaves one unchanged, and a
// user without --gid brings its primary group (none for a number that no
// user has: the group then stays as it is, as in uWSGI, with a warning).
func (m *master) runAs() (uid, gid int, err error) {
	uid, gid = -1, -1
	if m.o.GID != "" {
		if gid, err = listen.LookupGroup(m.o.GID); err != nil {
			return 0, 0, fmt.Errorf("carafe: --gid %s: %w", m.o.GID, err)
		}
	}
	if m.o.UID != "" {
		u, primary, err := listen.LookupUser(m.o.UID)
		if err != nil {
			return 0, 0, fmt.Errorf("carafe: --uid %s: %w", m.o.UID, err)
		}
		uid = u
		if gid < 0 {
			gid = primary
			if gid < 0 {
				m.o.Log.Warn(fmt.Sprintf("carafe: --uid %s is no user in the system's user database, "+
					"so it brings no group: the group stays %d; give --gid", m.o.UID, os.Getgid()))
			}
		}
	}
	return uid, gid, nil
}

// dropPrivileges switches the master (and so every worker it starts) to
// --uid/--gid once the sockets are bound; with --master-as-root only the
// workers it starts from then on.
func (m *master) dropPrivileges() error {
	if m.o.UID == "" && m.o.GID == "" {
		return nil
	}
	uid, gid, err := m.runAs()
	if err != nil {
		return err
	}
	if err := m.handOver(uid, gid); err != nil {
		return err
	}
	groups := m.supplementaryGroups(gid)
	if m.o.MasterAsRoot {
		cred := &syscall.Credential{Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid()), Groups: groups}
		if uid >= 0 {
			cred.Uid = uint32(uid)
		}
		if gid >= 0 {
			cred.Gid = uint32(gid)
		}
		m.workerCred = cred
		m.o.Log.Info(fmt.Sprintf("carafe: master: staying root (--master-as-root); workers run as uid %d, gid %d",
			cred.Uid, cred.Gid))
		return nil
	}
	gs := make([]int, len(groups))
	for i, g := range groups {
		gs[i] = int(g)
	}
	if err := syscall.Setgroups(gs); err != nil {
		return fmt.Errorf("carafe: setting the supplementary groups: %w", err)
	}
	if gid >= 0 {
		if err := syscall.Setgid(gid); err != nil {
			return fmt.Errorf("carafe: --gid: %w", err)
		}
	}
	if uid >= 0 {
		if err := syscall.Setuid(uid); err != nil {
			return fmt.Errorf("carafe: --uid: %w", err)
		}
	}
	m.o.Log.Info(fmt.Sprintf("carafe: master: running as uid %d, gid %d", os.Getuid(), os.Getgid()))
	return nil
}

// supplementaryGroups are the groups the processes that switch to --uid
// keep besides gid: those the user is a member of in the system's group
// database (initgroups(3), as uWSGI does unless --no-initgroups), so that
// an app reads a file or socket its user reaches through a group. None
// without --uid, for a number no user has, or with --no-initgroups.
func (m *master) supplementaryGroups(gid int) []uint32 {
	groups := []uint32{}
	if m.o.UID == "" || m.o.NoInitgroups {
		return groups
	}
	ids, err := listen.UserGroups(m.o.UID)
	if err != nil {
		m.o.Log.Warn("carafe: cannot list the supplementary groups of --uid "+m.o.UID+"; none are kept", "err", err)
		return groups
	}
	for _, id := range ids {
		if id != gid && id >= 0 {
			groups = append(groups, uint32(id))
		}
	}
	return groups
}

// handOver gives the files the workers open by name to the user they run
// as: the unix sockets (created as root, before the switch), unless
// --chown-socket said whose, the stats socket, and the log files (see
// logfile.Claim).
func (m *master) handOver(uid, gid int) error {
	for _, a := range append(append([]string{}, m.o.HTTP...), m.o.Socket...) {
		if _, passed := m.o.Passed[a]; passed {
			continue // systemd's: its SocketUser= and SocketGroup= say whose
		}
		if listen.IsUnix(a) && m.o.SocketPerm.Owner == "" {
			if err := os.Lchown(a, uid, gid); err != nil {
				return fmt.Errorf("carafe: giving %s to --uid/--gid: %w", a, err)
			}
		}
	}
	if listen.IsUnix(m.o.Stats) && m.o.SocketPerm.Owner == "" {
		if err := os.Lchown(m.o.Stats, uid, gid); err != nil {
			return fmt.Errorf("carafe: giving %s (--stats) to --uid/--gid: %w", m.o.Stats, err)
		}
	}
	for _, f := range m.logFiles() {
		m.claimLog(f, uid, gid)
	}
	return nil
}

// claimLog gives the log file f to uid:gid, and says so when it cannot.
func (m *master) claimLog(f string, uid, gid int) {
	ok, err := logfile.Claim(f, uid, gid)
	switch {
	case err != nil:
		m.o.Log.Error("carafe: master: cannot give the log to the workers' user", "file", f, "err", err)
	case !ok:
		m.o.Log.Warn("carafe: master: not a regular file of one name (a link?); left to its owner, "+
			"whom the workers' user must be able to write as", "file", f)
	}
}
