package pyembed

/*
#include <stdlib.h>
#include "bridge.h"
*/
import "C"

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync/atomic"
	"unsafe"
)

// defaultExecutable is the python carafe was built against, set at link
// time (-X) by the Makefile. It decides sys.prefix when no venv is given.
var defaultExecutable string

// Options configures the interpreter and the app it loads.
type Options struct {
	// Virtualenv, when set, is a venv (or any Python prefix with bin/python):
	// its packages become importable and sys.prefix points at it.
	Virtualenv string
	// Module is "pkg.mod" or "pkg.mod:callable"; WSGIFile is a script path.
	// Exactly one is set.
	Module, WSGIFile string
	// Callable names the app object; "" tries "application", then "app".
	Callable string
	// PythonPath entries go to the front of sys.path (after them, the cwd).
	PythonPath []string
	// Threads is the number of Python threads serving requests (≥ 1).
	Threads int
	// Processes only sets wsgi.multiprocess.
	Processes int
	// Keys names the environ keys a front end refers to by number.
	Keys []string
}

// Exchange is one request's connection to the front end. Its methods run on
// the Python thread with the GIL released.
type Exchange interface {
	// ReadBody reads body bytes past those passed in Call.Body.
	ReadBody(p []byte) (int, error)
	// Output moves the app's output: head (status and headers in the
	// bridge's block format, see internal/wsgi) when it is new, then body
	// and ext in that order. last is true on the final call of a
	// successful response. An error stops the app's output.
	Output(head, body, ext []byte, last bool) error
}

// Result says how a call ended.
type Result int

const (
	OK          Result = iota // the app's whole response went to Output
	AppError                  // the app raised or broke the WSGI protocol (logged)
	OutputError               // Output failed; the app was stopped and closed
)

// Call is one request for the app. A front end keeps one per connection
// and reuses it.
type Call struct {
	Env     []byte // environ block (internal/wsgi.Env)
	Body    []byte // body bytes already read
	BodyLen int64  // whole body length (≥ len(Body))
	Exch    Exchange

	Result   Result
	HeadSent bool // some output reached Output before the call ended

	done chan struct{}
}

// NewCall returns a Call ready for reuse across requests.
func NewCall() *Call { return &Call{done: make(chan struct{}, 1)} }

// Interp is the worker's interpreter and its Python threads.
type Interp struct {
	calls chan *Call
	busy  atomic.Int32
}

// threads maps a slot number (all C knows) to its Go state. It is filled
// before any request and then only read, each entry by its own thread.
var threads []*thread

type thread struct {
	slot *C.crf_slot
	exch Exchange
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
	ip := &Interp{calls: make(chan *Call, opts.Threads)}
	errc := make(chan error)
	go ip.mainThread(opts, errc)
	if err := <-errc; err != nil {
		return nil, err
	}
	threads = make([]*thread, opts.Threads)
	ready := make(chan error)
	for i := range opts.Threads {
		go ip.pythonThread(i, ready)
	}
	for range opts.Threads {
		if err := <-ready; err != nil {
			return nil, err
		}
	}
	return ip, nil
}

// mainThread initialises Python on an OS thread it keeps for good: CPython
// wants its main thread to outlive the interpreter.
func (ip *Interp) mainThread(opts Options, errc chan<- error) {
	runtime.LockOSThread()
	exe := defaultExecutable
	if opts.Virtualenv != "" {
		exe = venvPython(opts.Virtualenv)
	}
	cexe := C.CString(exe)
	defer C.free(unsafe.Pointer(cexe))
	var cerr *C.char
	if C.crf_init(cexe, nil, &cerr) != 0 {
		errc <- fmt.Errorf("pyembed: %s", takeCString(cerr))
		return
	}
	keys := strings.Join(opts.Keys, "\x00") + "\x00"
	cstrs := []*C.char{C.CString(opts.Module), C.CString(opts.WSGIFile),
		C.CString(opts.Callable), C.CString(strings.Join(opts.PythonPath, "\n")),
		C.CString(keys)}
	defer func() {
		for _, s := range cstrs {
			C.free(unsafe.Pointer(s))
		}
	}()
	rc := C.crf_load_app(cstrs[0], cstrs[1], cstrs[2], cstrs[3], cstrs[4],
		C.Py_ssize_t(len(keys)), C.int(opts.Threads), C.int(opts.Processes), &cerr)
	if rc != 0 {
		errc <- &LoadError{Traceback: takeCString(cerr)}
		return
	}
	C.crf_release_main()
	errc <- nil
	select {} // keep this OS thread (and Python's main thread state) alive
}

// LoadError is a failure to import the app or find its callable.
type LoadError struct{ Traceback string }

func (e *LoadError) Error() string { return "pyembed: cannot load the app:\n" + e.Traceback }

func takeCString(s *C.char) string {
	if s == nil {
		return "unknown error"
	}
	defer C.free(unsafe.Pointer(s))
	return strings.TrimRight(C.GoString(s), "\n")
}

// pythonThread is one Python thread: a locked OS thread with its own
// persistent thread state, running calls one at a time.
func (ip *Interp) pythonThread(i int, ready chan<- error) {
	runtime.LockOSThread()
	slot := C.crf_thread_start(C.int(i))
	if slot == nil {
		ready <- errors.New("pyembed: out of memory starting a Python thread")
		return
	}
	t := &thread{slot: slot}
	threads[i] = t
	ready <- nil
	for c := range ip.calls {
		ip.busy.Add(1)
		t.run(c)
		ip.busy.Add(-1)
		c.done <- struct{}{}
	}
}

func (t *thread) run(c *Call) {
	t.exch = c.Exch
	rc := C.crf_run(t.slot, bytesPtr(c.Env), C.Py_ssize_t(len(c.Env)),
		bytesPtr(c.Body), C.Py_ssize_t(len(c.Body)), C.int64_t(c.BodyLen))
	s := t.slot
	c.HeadSent = s.head_sent != 0
	c.Result = Result(rc)
	if c.Result == OK {
		var head []byte
		if s.head_sent == 0 {
			head = cBytes(s.head, s.head_len)
		}
		if err := t.exch.Output(head, cBytes(s.body, s.body_len), nil, true); err != nil {
			c.Result = OutputError
		}
		c.HeadSent = true
	}
	t.exch = nil
}

// Do runs c on a free Python thread and returns when it is done.
func (ip *Interp) Do(c *Call) {
	ip.calls <- c
	<-c.done
}

// Busy is the number of Python threads running a call right now.
func (ip *Interp) Busy() int { return int(ip.busy.Load()) }

// Version is the embedded Python's version string.
func Version() string { return C.GoString(C.crf_version()) }

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

//export crfGoRead
func crfGoRead(slot C.int, buf *C.char, n C.int) C.int {
	t := threads[slot]
	got, err := t.exch.ReadBody(unsafe.Slice((*byte)(unsafe.Pointer(buf)), int(n)))
	if got > 0 {
		return C.int(got)
	}
	if err == nil {
		return 0
	}
	return -1
}

//export crfGoOutput
func crfGoOutput(slot C.int, flags C.int) C.int {
	t := threads[slot]
	s := t.slot
	var head []byte
	if flags&C.CRF_OUT_HEAD != 0 {
		head = cBytes(s.head, s.head_len)
	}
	if err := t.exch.Output(head, cBytes(s.body, s.body_len), cBytes(s.ext, s.ext_len), false); err != nil {
		return 1
	}
	return 0
}
