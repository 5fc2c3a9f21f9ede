package pyembed

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"

	"carafe/internal/wsgi"
)

// defaultExecutable is the python carafe was built against, set at link
// time (-X) by the Makefile. It decides sys.prefix when no venv is given.
var defaultExecutable string

// Options configures the interpreter and the app it loads.
type Options struct {
	// Virtualenv, when set, is a venv (or any Python prefix with bin/python):
	// its packages become importable and sys.prefix points at it.
	Virtualenv string
	// Module is "pkg.mod" or "pkg.mod:callable"; WSGIFile is a script path;
	// Paste is a paste.deploy URI ("config:/srv/app/production.ini"), whose
	// file also configures logging with PasteLogger.
	// Exactly one is set.
	Module, WSGIFile, Paste string
	PasteLogger             bool
	// Callable names the app object; "" tries "application", then "app".
	Callable string
	// PythonPath entries go to the front of sys.path (after them, the cwd).
	PythonPath []string
	// NoFileWrapper leaves wsgi.file_wrapper out of the environ
	// (--wsgi-disable-file-wrapper).
	NoFileWrapper bool
	// Imports are imported, in order, before the app (--import): module
	// names, or files (a path with a '/' or ending in .py).
	Imports []string
	// Argv follows "carafe" in sys.argv (--pyargv).
	Argv []string
	// Optimize is Python's -O level (--optimize): 0 leaves the
	// interpreter's own (PYTHONOPTIMIZE in the environment).
	Optimize int
	// Threads is the number of Python threads serving requests (≥ 1).
	Threads int
	// Processes sets wsgi.multiprocess, and whether the Python threads
	// float (see Start).
	Processes int
	// Keys names the environ keys a front end refers to by number.
	Keys []string
	// ServerSoftware is environ's SERVER_SOFTWARE ("carafe/1.0").
	ServerSoftware string
	// ListenFDs are the worker's listening sockets, which a process the
	// app forks closes (see crf_after_fork_child).
	ListenFDs []int
	// ClientWaits has each thread count the time its call spends waiting
	// on its client (reading the body, sending the response): Threads
	// reports it, for a harakiri that ends stuck app code, not a slow
	// client's download. Off, the calls read no clock for it.
	ClientWaits bool
	// BeforeDeath, when set, runs when the app's code is about to end the
	// worker (a fatal signal in it, os._exit), for what is held in
	// memory to be written out; it has half a second.
	BeforeDeath func()
}

// Interp is the worker's interpreter and its Python threads.
type Interp struct {
	pool     *pool
	finalize chan chan struct{}
	// first is the Python thread the main thread runs the calls of (the
	// only one, with --threads 1), or nil: see mainThread.
	first chan *thread
	// dumping lets one DumpAll run at a time (each waits for the GIL on an
	// OS thread of its own); life keeps Finalize from finalising under one,
	// and closed stops those that come after.
	dumping sync.Mutex
	life    sync.RWMutex
	closed  bool
	// floating: the Python threads run calls on the Go runtime's threads
	// (see pythonThread).
	floating bool
	// waits are the app's threads that finalisation joins (see Waiting);
	// nil until they are listed.
	waits atomic.Pointer[[]appThread]
}

// threads maps a slot number (all C knows) to its Go state. It is filled
// before any request and then only read, each entry by its own thread.
var threads []*thread

type thread struct {
	mu        sync.Mutex
	cur       *wsgi.Call // the call running now, for Threads
	slot      *C.crf_slot
	exch      wsgi.Exchange
	wake      chan struct{} // a token sends t's OS thread to take the queue
	handoff   *waiter       // a call for t's OS thread to run first (see Do)
	callStart atomic.Int64  // pool.now() when the current call began; 0 between calls
	// With Options.ClientWaits: the current call's time spent waiting on
	// its client so far, and when its wait now began (0: none).
	clientWait, clientSince atomic.Int64
	clock                   *pool // nil without Options.ClientWaits
}

// clientBegin marks the start of a wait on the client (see ClientWaits),
// and returns what clientEnd takes.
func (t *thread) clientBegin() int64 {
	if t.clock == nil {
		return 0
	}
	now := t.clock.now()
	t.clientSince.Store(now)
	return now
}

func (t *thread) clientEnd(since int64) {
	if since != 0 {
		t.clientWait.Add(t.clock.now() - since)
		t.clientSince.Store(0)
	}
}

var started atomic.Bool

// Start initialises CPython, loads the app and starts the Python threads.
// A failure to load the app is returned with the Python traceback.
func Start(opts Options) (*Interp, error) {
	if !started.CompareAndSwap(false, true) {
		return nil, errors.New("pyembed: the interpreter is already started")
	}
	if opts.Threads < 1 {
		opts.Threads = 1
	}
	ip := &Interp{pool: newPool(), finalize: make(chan chan struct{}), first: make(chan *thread, 1)}
	errc := make(chan error)
	onMainThread(func() { ip.mainThread(opts, errc) })
	if err := <-errc; err != nil {
		return nil, err
	}
	threads = make([]*thread, opts.Threads)
	ip.pool.inline = opts.Threads > 1
	ip.pool.size = int32(opts.Threads)
	// The Python threads float (see pythonThread) when every CPU has a
	// worker process; GOMAXPROCS follows the CPUs and a container's limit.
	floating := ip.pool.inline && opts.Processes >= runtime.GOMAXPROCS(0)
	if floating && os.Getenv("GOMAXPROCS") == "" {
		spareP()
	}
	ip.floating = floating
	C.crf_set_adopt(C.int(opts.Threads))
	for i := range opts.Threads {
		slot := C.crf_slot_new(C.int(i))
		if slot == nil {
			return nil, errors.New("pyembed: out of memory starting a Python thread")
		}
		threads[i] = &thread{slot: slot, wake: make(chan struct{}, 1)}
		if opts.ClientWaits {
			threads[i].clock = ip.pool
		}
		ip.pool.park(threads[i])
		if opts.Threads == 1 {
			ip.first <- threads[i]
			break
		}
		go ip.pythonThread(threads[i], floating)
	}
	if opts.Threads > 1 {
		ip.first <- nil
	}
	return ip, nil
}

// spareP gives the Go scheduler one P (processor) more than it has CPUs,
// for floating Python threads. A floating call holds the P of the
// goroutine that made it for as long as the app runs, but uses no Go
// time; with as many Ps as CPUs, the other P is then mostly busy with the
// connections, and the runtime's monitor takes the call's P back whenever
// no P is idle (after 20 us or more), waking a thread to spin on it, and
// keeps itself waking every 20 us while that goes on. With one P spare
// (two workers on two CPUs, alternating pairs, medians of five, in an A/B
// when this was built; absolute figures vary with the build and the
// machine): Flask JSON +4.5% req/s at 3% less CPU a request (the
// monitor's retakes halved), a Django page +3%, hello world no worse. Two
// Ps spare did worse (more threads spinning), and so did a spare P for
// threads locked to OS threads of their own (Flask with one worker on two
// CPUs lost 23 %); on one CPU, one spare P measured the same as none.
func spareP() {
	runtime.GOMAXPROCS(runtime.GOMAXPROCS(0) + 1)
}

// mainThread initialises Python on an OS thread it keeps for good: CPython
// wants its main thread to outlive the interpreter. That is the process's
// first thread when main serves it (see ServeMainThread).
func (ip *Interp) mainThread(opts Options, errc chan<- error) {
	runtime.LockOSThread()
	exe := defaultExecutable
	if opts.Virtualenv != "" {
		exe = venvPython(opts.Virtualenv)
	}
	if err := readableBy(exe); err != nil {
		// Python would print its whole path configuration, then say only
		// that it found no standard library.
		errc <- fmt.Errorf("pyembed: %w: %s", err, ReadAccess)
		return
	}
	cexe := C.CString(exe)
	defer C.free(unsafe.Pointer(cexe))
	argv := append([]string{"carafe"}, opts.Argv...)
	cargs := C.CString(strings.Join(argv, "\x00") + "\x00")
	defer C.free(unsafe.Pointer(cargs))
	var cerr *C.char
	if C.crf_init(cexe, nil, cargs, C.int(len(argv)), C.int(opts.Optimize), &cerr) != 0 {
		errc <- fmt.Errorf("pyembed: %s", takeCString(cerr))
		return
	}
	keys := strings.Join(opts.Keys, "\x00") + "\x00"
	kind, spec := C.CRF_APP_MODULE, opts.Module
	switch {
	case opts.Paste != "" && opts.PasteLogger:
		kind, spec = C.CRF_APP_PASTE_LOGGED, opts.Paste
	case opts.Paste != "":
		kind, spec = C.CRF_APP_PASTE, opts.Paste
	case opts.WSGIFile != "":
		kind, spec = C.CRF_APP_FILE, opts.WSGIFile
	}
	cstrs := []*C.char{C.CString(spec),
		C.CString(opts.Callable), C.CString(strings.Join(opts.PythonPath, "\n")),
		C.CString(strings.Join(opts.Imports, "\n")), C.CString(keys), C.CString(opts.ServerSoftware)}
	defer func() {
		for _, s := range cstrs {
			C.free(unsafe.Pointer(s))
		}
	}()
	for _, fd := range opts.ListenFDs {
		C.crf_fork_closes(C.int(fd))
	}
	if opts.BeforeDeath != nil {
		if err := onDeath(opts.BeforeDeath); err != nil {
			errc <- err
			return
		}
	}
	C.crf_signals_save()
	rc := C.crf_load_app(C.int(kind), cstrs[0], cstrs[1], cstrs[2], cstrs[3], cstrs[4],
		C.Py_ssize_t(len(keys)), C.int(opts.Threads), C.int(opts.Processes), cstrs[5], &cerr)
	keepSignals()
	if rc == 0 {
		warnGreenPatch()
	}
	if rc != 0 {
		tb := takeCString(cerr)
		cwd, _ := os.Getwd()
		errc <- &LoadError{Traceback: tb, Hint: importHint(tb, opts, defaultExecutable, cwd)}
		return
	}
	if opts.NoFileWrapper {
		C.crf_drop_file_wrapper()
	}
	if locked := C.crf_gil_locked(); locked != nil { // before Start's threads use the pool
		flag := (*int32)(unsafe.Pointer(locked))
		ip.pool.gilBusy = func() bool { return atomic.LoadInt32(flag) > 0 }
	}
	C.crf_release_main()
	errc <- nil
	// Keep this OS thread, which owns Python's main thread state, until
	// Finalize asks it to finalise the interpreter. With one Python thread
	// its calls run here meanwhile, on the thread that imported the app,
	// as under Gunicorn's sync workers and uWSGI without threads: what
	// the import made for its own thread is there for every call (a
	// decimal context, a threading.local, a sqlite3 connection), and so
	// are what only Python's main thread may do (signal.signal, asyncio's
	// get_event_loop). Run elsewhere, a precision set at import was
	// silently not the one the calls computed with.
	var done chan struct{}
	if t := <-ip.first; t != nil {
		done = ip.serveCalls(t, false, ip.finalize)
		// A call that comes from now on (its body came after the drain)
		// would wait for good: it is answered 503, as one the drain
		// refused. (With more threads theirs serve it meanwhile.)
		ip.pool.close()
	} else {
		done = <-ip.finalize
	}
	waits := appThreads(C.crf_finalize_begin())
	ip.waits.Store(&waits)
	C.crf_finalize()
	close(done)
}

// onDeath answers crf_before_death: for each byte that comes on its
// socket, fn runs and a byte goes back.
func onDeath(fn func()) error {
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("pyembed: a socket pair: %w", err)
	}
	if err := syscall.SetNonblock(fds[0], true); err != nil { // for the poller
		syscall.Close(fds[0])
		syscall.Close(fds[1])
		return fmt.Errorf("pyembed: a socket pair: %w", err)
	}
	f := os.NewFile(uintptr(fds[0]), "carafe-death")
	C.crf_on_death(C.int(fds[1]))
	go func() {
		b := make([]byte, 16)
		for {
			n, err := f.Read(b)
			if err != nil {
				return
			}
			fn()
			f.Write(b[:n])
		}
	}()
	return nil
}

// signalNames names the signals crf_signals_restore and crf_signals_forget
// may report; others are "signal N".
var signalNames = map[syscall.Signal]string{
	syscall.SIGTERM: "SIGTERM", syscall.SIGINT: "SIGINT", syscall.SIGQUIT: "SIGQUIT",
	syscall.SIGHUP: "SIGHUP", syscall.SIGUSR1: "SIGUSR1", syscall.SIGUSR2: "SIGUSR2",
	syscall.SIGTTIN: "SIGTTIN", syscall.SIGTTOU: "SIGTTOU", syscall.SIGURG: "SIGURG",
	syscall.SIGPIPE: "SIGPIPE", syscall.SIGALRM: "SIGALRM", syscall.SIGCHLD: "SIGCHLD",
	syscall.SIGVTALRM: "SIGVTALRM", syscall.SIGPROF: "SIGPROF", syscall.SIGWINCH: "SIGWINCH",
	syscall.SIGIO: "SIGIO", syscall.SIGXCPU: "SIGXCPU", syscall.SIGXFSZ: "SIGXFSZ",
	syscall.SIGCONT: "SIGCONT", syscall.SIGTSTP: "SIGTSTP", syscall.SIGABRT: "SIGABRT",
}

func signalName(sig C.int) string {
	if name, ok := signalNames[syscall.Signal(sig)]; ok {
		return name
	}
	return fmt.Sprintf("signal %d", int(sig))
}

// keepSignals takes back the signals the app set handlers for while it
// loaded (signal.signal at import), and says so. Python runs a handler
// only on its main thread, which in a worker runs Python only for the
// calls of a single Python thread, and at the stop: the app's handler
// would not run when its signal came (a SIGALRM's ran at the stop, hours
// late, or in some later request's call), and for the signals carafe
// handles, carafe would no longer stop on SIGTERM nor reopen its log on
// SIGUSR1.
func keepSignals() {
	var dropped, changed [64]C.int
	n := int(C.crf_signals_forget(&dropped[0], C.int(len(dropped))))
	m := int(C.crf_signals_restore(&changed[0], C.int(len(changed))))
	if n+m == 0 {
		return
	}
	var names []string
	for _, sig := range append(dropped[:n:n], changed[:m]...) {
		names = append(names, signalName(sig))
	}
	fmt.Fprintf(os.Stderr, "carafe: the app set handlers for %s while it loaded; carafe drops them, as "+
		"mod_wsgi does (Python runs a handler only on its main thread, and only when that thread next runs "+
		"Python: a later request's call, or the stop), and keeps its own for the signals it handles\n", strings.Join(names, ", "))
}

// warnGreenPatch says so when the app monkey-patched threading with
// gevent or eventlet as it loaded (see crf_green_patch): its requests are
// served, but the threads it and its libraries start hardly run, and an
// error reporter's events or a tracer's spans were silently not sent.
func warnGreenPatch() {
	lib := C.crf_green_patch()
	if lib == nil {
		return
	}
	name := C.GoString(lib)
	fmt.Fprintf(os.Stderr, "carafe: warning: the app monkey-patched threading with %s while it loaded "+
		"(%s): carafe serves each request on a real thread, and the threads the app and its libraries "+
		"start (an error reporter's or a tracer's sender, the app's own) then hardly ever run, so what "+
		"they hold may never be sent; carafe has no %s mode: patch only under a %s server, or not at all\n",
		name, map[string]string{"gevent": "gevent.monkey.patch_all", "eventlet": "eventlet.monkey_patch"}[name], name, name)
}

// Finalize starts to finalise the interpreter when no call is running,
// and returns with a channel closed when that is done. It does not wait
// for the GIL (only for a DumpAll in progress), so that its caller can
// bound the whole.
// Python first joins the app's live non-daemon threads (see Waiting), for
// as long as they run; then the atexit handlers run and buffered output
// is flushed. With calls still running (a shutdown that timed out) it
// does nothing, since Python cannot be torn down under them: done is
// closed already. No call may be started after Finalize.
func (ip *Interp) Finalize() (done <-chan struct{}) {
	c := make(chan struct{})
	if ip.pool.running.Load() != 0 {
		close(c)
		return c
	}
	ip.life.Lock() // a DumpAll in progress ends first
	ip.closed = true
	ip.life.Unlock()
	ip.finalize <- c // the main thread is waiting for it
	return c
}

// Close is Finalize, waited for.
func (ip *Interp) Close() { <-ip.Finalize() }

// Waiting names the app's non-daemon threads that were alive when
// Finalize began and still are: those Python's finalisation waits for
// (none before they are listed, which takes the GIL). It reads no Python
// state, so it may be asked while finalisation runs.
func (ip *Interp) Waiting() []string {
	waits := ip.waits.Load()
	if waits == nil {
		return nil
	}
	var names []string
	for _, t := range *waits {
		if _, err := os.Stat(fmt.Sprintf("/proc/self/task/%d", t.tid)); err == nil {
			names = append(names, t.name)
		}
	}
	return names
}

// AtexitBegan reports whether a finalisation Finalize started has got as
// far as the atexit handlers (so past the app's non-daemon threads).
func (ip *Interp) AtexitBegan() bool { return C.crf_atexit_began() != 0 }

// appThread is one of the app's threads: its name and its OS thread's id.
type appThread struct {
	name string
	tid  int
}

// appThreads parses (and frees) crf_finalize_begin's list.
func appThreads(s *C.char) []appThread {
	if s == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(s))
	var out []appThread
	for _, line := range strings.Split(C.GoString(s), "\n") {
		tid, name, ok := strings.Cut(line, " ")
		if n, err := strconv.Atoi(tid); ok && err == nil {
			out = append(out, appThread{name: name, tid: n})
		}
	}
	return out
}

// LoadError is a failure to import the app or find its callable. Hint,
// when set, says what to try, for a module that was not found.
type LoadError struct{ Traceback, Hint string }

func (e *LoadError) Error() string {
	if e.Hint != "" {
		return "pyembed: cannot load the app:\n" + e.Traceback + "\n" + e.Hint
	}
	return "pyembed: cannot load the app:\n" + e.Traceback
}

func takeCString(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return strings.TrimRight(C.GoString(s), "\n")
}

// run calls the app for c (the bridge takes the GIL for the call only) on
// the calling OS thread, t's own if own; it reports false, having done
// nothing, when this OS thread may not become a Python thread.
func (t *thread) run(c *wsgi.Call, own bool) bool {
	if d, ok := c.Exch.(wsgi.Departer); ok && d.ClientGone() {
		c.Result, c.HeadSent = wsgi.ClientGone, false
		return true
	}
	t.exch = c.Exch
	var cown C.int
	if own {
		cown = 1
	}
	t.slot.head_only = 0
	if string(c.Method) == "HEAD" {
		t.slot.head_only = 1
	}
	rc := C.crf_run(t.slot, cown, bytesPtr(c.Env), C.Py_ssize_t(len(c.Env)),
		bytesPtr(c.Body), C.Py_ssize_t(len(c.Body)), C.int64_t(c.BodyLen))
	if rc == C.CRF_ELSEWHERE {
		t.exch = nil
		return false
	}
	s := t.slot
	c.HeadSent = s.head_sent != 0
	c.Result = wsgi.Result(rc)
	if c.Result == wsgi.OK && s.file_sent == 0 { // (a file went out whole: crfGoSendFile)
		var head []byte
		if s.head_sent == 0 {
			head = cBytes(s.head, s.head_len)
		}
		since := t.clientBegin()
		if err := finalOutput(t.exch, head, cBytes(s.body, s.body_len)); err != nil {
			c.Result = wsgi.OutputError
		}
		t.clientEnd(since)
		c.HeadSent = true
	}
	t.exch = nil
	return true
}

// crfGoSendFile sends a file_wrapper response's file (file_fd from
// file_off) with sendfile, head first; crf_run calls it, the GIL released,
// and then closes the result on the same OS thread (see crf_send_file).
//
//export crfGoSendFile
func crfGoSendFile(slot C.int) (rc C.int) {
	defer recoverCallback(&rc, 1)
	t := threads[slot]
	s := t.slot
	head := cBytes(s.head, s.head_len)
	f := os.NewFile(uintptr(s.file_fd), "file_wrapper")
	defer f.Close()
	_, err := f.Seek(int64(s.file_off), io.SeekStart)
	if err == nil {
		// A file positioned past its end has nothing left to send.
		defer t.clientEnd(t.clientBegin()) // (deferred: a panic in SendFile too)
		if n := max(int64(s.file_size-s.file_off), 0); n >= offThreadMin {
			err = offThread(func() error { return t.exch.SendFile(head, f, n) })
		} else {
			err = t.exch.SendFile(head, f, n)
		}
	}
	if err != nil {
		return 1
	}
	return 0
}

// finalOutput is the last Output of a response.
func finalOutput(x wsgi.Exchange, head, body []byte) error {
	return guarded(func() error { return x.Output(head, body, nil, true) })
}

// guarded runs fn, a write, and turns a panic in it into its error: the
// panic costs the response, not the Python thread.
func guarded(fn func() error) (err error) {
	defer func() {
		if v := recover(); v != nil {
			fmt.Fprintf(os.Stderr, "carafe: internal error writing a response: %v\n%s", v, debug.Stack())
			err = fmt.Errorf("pyembed: output panicked: %v", v)
		}
	}()
	return fn()
}

// Do runs c and returns when it is done: on the calling goroutine's OS
// thread when the pool says so (and that thread may become a Python
// thread), else on a Python thread's own (see pool).
func (ip *Interp) Do(c *wsgi.Call) {
	t := ip.pool.acquire(c)
	if t == nil {
		return // a Python thread ran it
	}
	took, ran := t.do(ip.pool, c, false)
	if !ran {
		// Hand it to t's OS thread, which then takes the queue as usual.
		w := waiters.Get().(*waiter)
		w.c = c
		t.handoff = w
		t.wake <- struct{}{} // never blocks: t is awake, held by this call
		<-w.ready
		w.c = nil
		waiters.Put(w)
		return
	}
	if ip.pool.release(t, took) {
		runtime.Gosched()
	}
}

// pythonThread is t's goroutine: it runs the calls given to t, one handed
// over by Do, then the queue's, on t's own OS thread unless t floats.
//
// Floating (when the worker has no more CPUs than there are worker
// processes, and more than one Python thread; see Start) t has no OS thread of its own until it needs one:
// its goroutine runs calls on whichever Go thread the scheduler gives it,
// and yields after each, so that the goroutine whose call it finished runs
// at once. A goroutine locked to its OS thread cannot do that: the call it
// woke waits in its processor's queue while the next call holds the
// processor, until the runtime takes it back (20 us or more), then two or
// three thread switches follow. Floating took Flask with two workers on
// two CPUs from 7.0k to 9.1k requests/s (220 -> 177 us of CPU a request,
// Django +14%, in an A/B when this was built); with one worker on two CPUs the spare CPU absorbs the
// switches, and a thread of its own keeps the interpreter's caches warm
// (floating lost 36% there). A floating t whose Go thread may not run
// Python (the cap, see crf_may_run) takes that thread for its own from
// then on.
func (ip *Interp) pythonThread(t *thread, floating bool) {
	if !floating {
		runtime.LockOSThread()
		C.crf_name_thread(t.slot.index)
	}
	ip.serveCalls(t, floating, nil)
}

// serveCalls runs t's calls (see pythonThread) until a request to
// finalise the interpreter comes on finalize, which it returns; a nil
// finalize never comes.
func (ip *Interp) serveCalls(t *thread, floating bool, finalize <-chan chan struct{}) chan struct{} {
	run := func(w *waiter) {
		if _, ran := t.do(ip.pool, w.c, !floating); !ran {
			runtime.LockOSThread()
			C.crf_name_thread(t.slot.index)
			floating = false
			t.do(ip.pool, w.c, true)
		}
		w.ready <- struct{}{}
		if floating {
			runtime.Gosched()
		}
	}
	for {
		select {
		case <-t.wake:
		case done := <-finalize:
			return done
		}
		if w := t.handoff; w != nil {
			t.handoff = nil
			run(w)
		}
		for w := ip.pool.next(t); w != nil; w = ip.pool.next(t) {
			run(w)
		}
	}
}

// do runs c on t, on the calling OS thread (t's own if own), and returns
// how long it took and whether it ran (see run).
func (t *thread) do(p *pool, c *wsgi.Call, own bool) (took int64, ran bool) {
	allBusy := p.running.Add(1) == p.size
	t.mu.Lock()
	t.cur = c
	t.mu.Unlock()
	start := p.now()
	t.clientWait.Store(0)
	t.clientSince.Store(0) // (a callback that panicked left its wait open)
	t.callStart.Store(start)
	if allBusy { // (after callStart: BusyFor must see this call)
		select {
		case p.allBusy <- struct{}{}:
		default:
		}
	}
	ran = t.run(c, own)
	took = p.now() - start
	// The recent calls' average, an eighth of the way to each new one:
	// racy between threads, and only ever a hint (see Occupancy).
	r := p.recent.Load()
	p.recent.Store(r + (took-r)/8)
	t.callStart.Store(0)
	t.mu.Lock()
	t.cur = nil
	t.mu.Unlock()
	p.running.Add(-1)
	return took, ran
}

// Floating reports whether the Python threads run their calls on the Go
// runtime's threads rather than on OS threads of their own.
func (ip *Interp) Floating() bool { return ip.floating }

// RefuseQueued ends, unrun, every call that waits for a Python thread:
// their Do returns with Result wsgi.Unavailable, so that their front end
// answers them (503) before a worker that gives up on its stuck or slow
// calls exits. before, if not nil, hears how many there are first (a
// worker may exit as soon as their answers are out). It returns how many
// it refused.
func (ip *Interp) RefuseQueued(before func(n int)) int { return ip.pool.refuseQueued(before) }

// Busy is the number of Python threads running a call right now.
func (ip *Interp) Busy() int { return int(ip.pool.running.Load()) }

// Free is the number of Python threads not running a call right now.
func (ip *Interp) Free() int { return int(ip.pool.size) - ip.Busy() }

// AllBusy receives a token when a call starts and so leaves no Python
// thread free; tokens do not pile up (one waits at most).
func (ip *Interp) AllBusy() <-chan struct{} { return ip.pool.allBusy }

// Occupancy reports the Python threads and how long calls take: the
// longer of the oldest running call's time so far and the recent calls'
// average (for httpfront.Admission). A burst of slow calls after fast
// ones shows in the first, slow calls just started after others in the
// second.
func (ip *Interp) Occupancy() (size int, slow time.Duration) {
	p := ip.pool
	now := p.now()
	slow = time.Duration(p.recent.Load())
	for _, t := range threads {
		if start := t.callStart.Load(); start != 0 {
			slow = max(slow, time.Duration(now-start))
		}
	}
	return int(p.size), slow
}

// BusyFor is how long every Python thread has been inside its current
// call: the shortest of their times, zero while one is between calls.
func (ip *Interp) BusyFor() time.Duration {
	if len(threads) == 0 {
		return 0
	}
	now := ip.pool.now()
	least := int64(math.MaxInt64)
	for _, t := range threads {
		start := t.callStart.Load()
		if start == 0 {
			return 0
		}
		least = min(least, now-start)
	}
	return time.Duration(least)
}

// ThreadState describes what one Python thread is doing.
type ThreadState struct {
	Index          int
	Busy           bool
	Method, Target string
	Running        time.Duration
	// ClientWait is the part of Running spent waiting on the client
	// (with Options.ClientWaits).
	ClientWait time.Duration
	Call       *wsgi.Call // the running call (only for Abandon)
}

// Threads reports every Python thread's state.
func (ip *Interp) Threads() []ThreadState {
	out := make([]ThreadState, 0, len(threads))
	now := ip.pool.now()
	for i, t := range threads {
		st := ThreadState{Index: i}
		t.mu.Lock()
		if c := t.cur; c != nil {
			st.Busy, st.Call = true, c
			st.Method, st.Target = string(c.Method), string(c.Target)
			if start := t.callStart.Load(); start != 0 {
				st.Running = time.Duration(now - start)
				// clientEnd adds to clientWait, then clears clientSince:
				// read in the other order, a wait that ends between the
				// two reads is counted twice (a harakiri a tick later),
				// not missed (a slow client's time taken for the app's).
				since := t.clientSince.Load()
				st.ClientWait = time.Duration(t.clientWait.Load())
				if since != 0 {
					st.ClientWait += time.Duration(now - since)
				}
			}
		}
		t.mu.Unlock()
		out = append(out, st)
	}
	return out
}

// DumpTraceback writes the Python stack of thread i to fd 2 without
// taking the GIL (as faulthandler does), so it works on a thread that is
// stuck holding it.
func (ip *Interp) DumpTraceback(i int) {
	C.crf_dump_traceback(threads[i].slot)
}

// DumpAll returns the Python stack of every thread, taking the GIL first
// (it waits for a thread that holds it), each headed by its ident as
// ThreadIdent gives it.
//
// faulthandler writes to a descriptor, in many small writes: into an
// unlinked file here, so that the caller can log the dump in one write
// rather than interleaved with other processes' lines. Where no file can
// be made (a read-only TMPDIR) it writes to fd 2 itself and returns nil.
func (ip *Interp) DumpAll() ([]byte, error) {
	if !ip.dumping.TryLock() {
		return nil, errors.New("a dump is still waiting for the GIL")
	}
	defer ip.dumping.Unlock()
	ip.life.RLock()
	defer ip.life.RUnlock()
	if ip.closed {
		return nil, errors.New("the interpreter is shut down")
	}
	f, err := os.CreateTemp("", "carafe-stacks-")
	if err != nil {
		C.crf_dump_all(2)
		return nil, nil
	}
	os.Remove(f.Name())
	defer f.Close()
	C.crf_dump_all(C.int(f.Fd()))
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return io.ReadAll(f)
}

// ModuleFile is a module the app's interpreter has imported, and its file.
type ModuleFile struct{ Module, Path string }

// ErrShutDown is ModuleFiles' error once the interpreter is shut down.
var ErrShutDown = errors.New("the interpreter is shut down")

// ModuleFiles lists the modules in sys.modules that have a file (their
// __file__), taking the GIL for as long as that takes.
func (ip *Interp) ModuleFiles() ([]ModuleFile, error) {
	ip.life.RLock()
	defer ip.life.RUnlock()
	if ip.closed {
		return nil, ErrShutDown
	}
	var n C.size_t
	p := C.crf_module_files(&n)
	if p == nil {
		return nil, errors.New("out of memory listing the modules")
	}
	text := C.GoStringN(p, C.int(n))
	C.free(unsafe.Pointer(p))
	var out []ModuleFile
	for line := range strings.Lines(text) {
		name, path, ok := strings.Cut(strings.TrimSuffix(line, "\n"), "\t")
		if ok {
			out = append(out, ModuleFile{name, path})
		}
	}
	return out, nil
}

// ThreadIdent is the ident of the OS thread running thread i's call, in
// the form DumpAll heads its stack with ("0x00007f..."); "" when i is idle
// or its call waits for the GIL.
func (ip *Interp) ThreadIdent(i int) string {
	id := uint64(C.crf_thread_ident(threads[i].slot))
	if id == 0 {
		return ""
	}
	return fmt.Sprintf("0x%016x", id)
}

// embeddedVersion is the embedded Python's "major.minor".
func embeddedVersion() string {
	return fmt.Sprintf("%d.%d", C.PY_MAJOR_VERSION, C.PY_MINOR_VERSION)
}

// Version is the embedded Python's version string.
func Version() string { return C.GoString(C.crf_version()) }

// TrimMalloc returns to the kernel the free memory of malloc's arenas, and
// reports whether there was any. Python takes its objects over 512 bytes
// (request bodies read whole, big strings and lists) from malloc, and
// glibc gives each thread that allocates an arena of its own, which keeps
// the size it grew to: after 1 MiB uploads on 8 threads a worker held
// 16 MB more than before, all of it free. Safe at any time, from any
// thread, without the GIL; it briefly locks one arena after another.
func TrimMalloc() bool { return C.crf_trim_malloc() != 0 }

func bytesPtr(b []byte) *C.char {
	if len(b) == 0 {
		return nil
	}
	return (*C.char)(unsafe.Pointer(unsafe.SliceData(b)))
}

func cBytes(p *C.char, n C.Py_ssize_t) []byte {
	if p == nil || n <= 0 {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}

// recoverCallback turns a panic in a callback into an error result: a
// panic must never unwind through C frames.
func recoverCallback(rc *C.int, fail C.int) {
	if v := recover(); v != nil {
		fmt.Fprintf(os.Stderr, "carafe: internal error in a bridge callback: %v\n%s", v, debug.Stack())
		*rc = fail
	}
}

//export crfGoRead
func crfGoRead(slot C.int, buf *C.char, n C.int) (rc C.int) {
	defer recoverCallback(&rc, -1)
	t := threads[slot]
	defer t.clientEnd(t.clientBegin()) // (deferred: a panic in ReadBody too)
	got, err := t.exch.ReadBody(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
	if got > 0 {
		return C.int(got)
	}
	if err == nil {
		return 0
	}
	return -1
}

// crfGoSeek moves the reading of the body past Call.Body to off, when the
// exchange holds it whole (wsgi.BodySeeker); off < 0 only asks whether it
// can. 0 is yes (and done), -1 no.
//
//export crfGoSeek
func crfGoSeek(slot C.int, off C.longlong) (rc C.int) {
	defer recoverCallback(&rc, -1)
	s, ok := threads[slot].exch.(wsgi.BodySeeker)
	if !ok || s.SeekBody(int64(off)) != nil {
		return -1
	}
	return 0
}

//export crfGoOutput
func crfGoOutput(slot C.int, flags C.int) (rc C.int) {
	defer recoverCallback(&rc, 1)
	t := threads[slot]
	s := t.slot
	var head []byte
	if flags&C.CRF_OUT_HEAD != 0 {
		head = cBytes(s.head, s.head_len)
	}
	body, ext := cBytes(s.body, s.body_len), cBytes(s.ext, s.ext_len)
	var err error
	defer t.clientEnd(t.clientBegin()) // (deferred: a panic in Output too)
	if len(ext) >= offThreadMin {
		err = offThread(func() error { return t.exch.Output(head, body, ext, false) })
	} else {
		err = t.exch.Output(head, body, ext, false)
	}
	if err != nil {
		return 1
	}
	return 0
}

// The bridge's fatal-signal handler (crf_fatal) finds the request's method
// and path in the environ block by these key numbers: a compile error if
// they part.
const (
	_ = uint(wsgi.KeyRequestMethod - C.CRF_KEY_REQUEST_METHOD)
	_ = uint(C.CRF_KEY_REQUEST_METHOD - wsgi.KeyRequestMethod)
	_ = uint(wsgi.KeyPathInfo - C.CRF_KEY_PATH_INFO)
	_ = uint(C.CRF_KEY_PATH_INFO - wsgi.KeyPathInfo)
)

// fatalInstall puts the bridge's fatal-signal handler in front of Go's
// (Start does it too), for the tests.
func fatalInstall() { C.crf_fatal_install() }

// offThreadMin is the size from which a write leaves the Python thread
// (see offThread); below it the socket needs few waits for room, and the
// hop costs more than it saves. At 256 KiB, where it stood first, a 300 KB
// body went out at 5.7k responses/s against 7.0-8.4k on the Python
// thread, and 512 KiB at 3.7k against 4.4-4.5k (1 x 8, 8 connections);
// from about 1 MiB the two were even, and at 10 MiB the hop was 5% ahead.
const offThreadMin = 1 << 20

// offThread runs a long write, fn, on a goroutine of its own and waits for
// it. Called from C, or on a Python thread's own OS thread, the caller is
// locked to its OS thread, and each time the socket is full (the
// unsent-bytes bound, see listen.NotsentLowat) a locked goroutine sleeps
// and wakes its whole thread through the kernel; a plain goroutine just
// parks. A 10 MiB body went from 31-33 to 19-26 thread switches and from
// 19-21 to 11-13 futex calls (its CPU is the kernel's copy, and did not
// change). The caller's memory (fn's bytes) stays valid: the caller waits.
func offThread(fn func() error) error {
	done := make(chan error, 1)
	go func() { done <- guarded(fn) }()
	return <-done
}
