package pyembed

import "sync/atomic"

// mainCalls carries what Start asks the process's first OS thread to run:
// mainThread, which makes that thread Python's main thread.
var (
	mainCalls   = make(chan func())
	mainServing atomic.Bool
)

// ServeMainThread runs program (the rest of the program) on a goroutine of
// its own, and on the calling one, for good, what Start asks of the
// process's first OS thread. main calls it, its package having locked the
// main goroutine to that thread in an init function (runtime.LockOSThread).
//
// Python's main thread must be the process's first: the kernel gives a
// signal sent to the process (alarm, setitimer, kill) to that thread
// first, and only a signal that lands on Python's main thread interrupts
// the blocking call it is in (a socket read, a sleep, a query). With
// --threads 1 the app's calls run there, and a SIGALRM timeout set in a
// view (as under Gunicorn's sync workers) fired only once the call it was
// to cut short had returned by itself. Without ServeMainThread (the
// package's own tests), Start uses a thread of the runtime's.
func ServeMainThread(program func()) {
	mainServing.Store(true)
	go program()
	for f := range mainCalls {
		f()
	}
}

// onMainThread runs f on the process's first OS thread when main serves
// it (see ServeMainThread), else on a goroutine of its own.
func onMainThread(f func()) {
	if mainServing.Load() {
		mainCalls <- f
		return
	}
	go f()
}
