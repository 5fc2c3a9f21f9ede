package pyembed

import (
	"sync"
	"sync/atomic"
	"time"

	"carafe/internal/wsgi"
)

// longCall is how long a call may run before the pool assumes its thread
// is blocked (in I/O, a sleep, a lock) and wakes another for queued calls.
const longCall = 100 * time.Microsecond

// fairCall is how long a call may keep the GIL busy before queued calls get
// another thread to share the GIL with it: a long CPU-bound call (a report,
// an export) must not hold up every short request behind it.
const fairCall = 50 * time.Millisecond

// shortCall is how short a call must be for the next queued call to run
// on its own goroutine rather than on the thread's OS thread: below it,
// the thread switch costs more than the call; above it, keeping the
// interpreter on one CPU pays.
const shortCall = 20 * time.Microsecond

// recentLook is how old the pool's last look at the GIL may be for a
// thread to park on the strength of it (see surplusLocked).
const recentLook = 2 * time.Millisecond

// pool hands the Python threads to calls. A Python thread is a slot (its
// per-request state) and an OS thread of its own, but a call need not run
// on that OS thread: waking a parked OS thread and passing it the GIL
// costs more than a small app call (hello world: three thread switches a
// request, 40 us of CPU with two workers sharing two CPUs). So a call that
// finds a thread parked and no call queued runs on its caller's OS thread
// (inline: no switch at all), and so does the next queued call when the
// last one took under shortCall; calls that queue behind longer calls go
// to the thread's own OS thread, which takes them one after another while
// they come and so keeps a busy interpreter's caches on one CPU (Flask
// lost 14% running every call inline).
//
// Threads that take turns on a busy GIL run slower than one thread alone
// (they convoy on the app's own locks: Django's asgiref Locals took 60-100
// context switches a request with 8 threads awake), so the pool keeps as
// few threads awake as keep the GIL busy. A queued call wakes another
// thread only when none is awake, or when every awake thread has been
// inside one call for longer than longCall and either the GIL is free (the
// calls are blocked: then as many threads again as are awake wake up) or
// every call is older than fairCall (then one more). A thread done with a
// call parks instead of taking the next while the GIL is busy with another
// thread's short call. A timer re-checks while calls wait, so a call never
// waits behind blocked threads for more than about longCall while another
// thread sleeps (in practice about a millisecond: that is the resolution
// of the runtime's sleep when no thread is otherwise awake).
type pool struct {
	// inline lets a call run on its caller's OS thread (see wakeLocked).
	// Off with a single Python thread: an app run with one thread may
	// keep objects that work only on the thread that made them (sqlite3
	// connections, by default), so its calls stay on one OS thread.
	inline bool
	mu     sync.Mutex
	// closed: no call runs any more (the one Python thread, run by the
	// main thread, has gone to finalise the interpreter); acquire refuses.
	closed  bool
	queue   []*waiter
	head    int
	idle    []*thread // parked threads, most recently parked last
	awake   []*thread
	timer   *time.Timer
	armed   bool
	epoch   time.Time
	running atomic.Int32 // calls inside the app right now
	recent  atomic.Int64 // the recent calls' average time (pool.now units; see Occupancy)
	// gilBusy reports whether some thread holds the GIL; nil where the
	// interpreter gives no way to tell (the pool then goes by time alone).
	gilBusy   func() bool
	freeSince int64 // now() when the GIL was first seen free since it was last seen busy
	busyAt    int64 // now() when the GIL was last seen busy
	// size is the number of threads; allBusy receives a token (never
	// blocking a call) whenever a call starts with every other thread
	// inside one.
	size    int32
	allBusy chan struct{}
}

func newPool() *pool {
	p := &pool{epoch: time.Now(), allBusy: make(chan struct{}, 1)}
	p.timer = time.AfterFunc(time.Hour, p.recheck)
	p.timer.Stop()
	return p
}

func (p *pool) now() int64 { return int64(time.Since(p.epoch)) }

// waiter is a queued call.
type waiter struct {
	c     *wsgi.Call
	t     *thread       // set when the caller is to run c itself on t
	ready chan struct{} // one token when c ran on a Python thread, or t is set, or c was refused
}

var waiters = sync.Pool{New: func() any { return &waiter{ready: make(chan struct{}, 1)} }}

// acquire queues c and waits. It returns the thread the caller is to run c
// on itself, when c found a thread parked and no call queued before it, or
// nil when a Python thread has run c.
func (p *pool) acquire(c *wsgi.Call) *thread {
	w := waiters.Get().(*waiter)
	w.c = c
	p.mu.Lock()
	if p.closed {
		p.mu.Unlock()
		c.Result, c.HeadSent = wsgi.Unavailable, false
		waiters.Put(w)
		return nil
	}
	p.queue = append(p.queue, w)
	p.wakeLocked(w)
	p.mu.Unlock()
	<-w.ready
	t := w.t
	w.c, w.t = nil, nil
	waiters.Put(w)
	return t
}

// release is acquire's caller done with t after a call that took took
// (pool.now units). Calls queued meanwhile go on: the first to its own
// goroutine when the call was shorter than shortCall (release then returns
// true, and the caller should yield so that it runs at once), else to t's
// OS thread, which takes them one after another as long as they come. With
// none queued t parks.
func (p *pool) release(t *thread, took int64) (handed bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head < len(p.queue) && !p.surplusLocked(t) {
		if took < int64(shortCall) {
			w := p.popLocked()
			w.t = t
			w.ready <- struct{}{} // never blocks: a waiter is signalled once
			return true
		}
		t.wake <- struct{}{} // never blocks: t was not parked on its OS thread
		return false
	}
	p.parkLocked(t)
	return false
}

// close refuses every call queued and every call to come (see closed).
func (p *pool) close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	p.refuseQueued(nil)
}

// refuseQueued takes every call still queued off the queue and ends it
// unrun, its Result wsgi.Unavailable, once it has told before (if not nil)
// how many there are. It returns how many it refused.
func (p *pool) refuseQueued(before func(n int)) int {
	p.mu.Lock()
	var ws []*waiter
	for p.head < len(p.queue) {
		ws = append(ws, p.popLocked())
	}
	p.mu.Unlock()
	if before != nil && len(ws) > 0 {
		before(len(ws))
	}
	for _, w := range ws {
		w.c.Result, w.c.HeadSent = wsgi.Unavailable, false
		w.ready <- struct{}{} // never blocks: a waiter is signalled once
	}
	return len(ws)
}

// next returns the next queued call for t's OS thread, or parks t
// (returning nil) when the queue is empty or t would only queue for a GIL
// that another thread's short call keeps busy (that thread takes the queue
// when it is done).
func (p *pool) next(t *thread) *waiter {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head < len(p.queue) && !p.surplusLocked(t) {
		return p.popLocked()
	}
	p.parkLocked(t)
	return nil
}

func (p *pool) popLocked() *waiter {
	w := p.queue[p.head]
	p.queue[p.head] = nil
	p.head++
	if p.head == len(p.queue) {
		p.queue, p.head = p.queue[:0], 0
	}
	return w
}

func (p *pool) parkLocked(t *thread) {
	for i, a := range p.awake {
		if a == t {
			p.awake = append(p.awake[:i], p.awake[i+1:]...)
			break
		}
	}
	p.idle = append(p.idle, t)
	p.armLocked()
}

// wakeLocked wakes one parked thread when calls are queued and the awake
// threads cannot take them soon (see pool), and arms the timer to look
// again while calls remain queued. A deep queue alone wakes nobody: a fresh
// thread drains it faster than several threads passing the GIL around.
//
// self is the call of the goroutine looking, if any: when it is the only
// one queued, its goroutine gets the thread and runs the call on its own
// OS thread, with no thread to wake at all.
func (p *pool) wakeLocked(self *waiter) {
	if len(p.queue) == p.head || len(p.idle) == 0 {
		return
	}
	var now int64
	fresh, short := false, false
	if len(p.awake) > 0 {
		// With no thread awake there is nothing to weigh and nothing to
		// look at: the call takes a parked thread (no clock read on the
		// inline path).
		now = p.now()
		for _, t := range p.awake {
			start := t.callStart.Load()
			if start == 0 || now-start < int64(longCall) {
				fresh = true
				break
			}
			if now-start < int64(fairCall) {
				short = true
			}
		}
		if fresh {
			p.freeSince = 0 // calls are flowing: no need to look at the GIL
		} else {
			p.lookLocked(now)
		}
	}
	if !fresh && (!short || p.gilFreeLocked(now)) {
		// Calls blocked with the GIL free: wake as many threads as are
		// awake (up to the calls waiting), so that a burst of them reaches
		// all the threads in a few looks, not one thread per look (the
		// looks come about a millisecond apart: 64 threads took 64 ms).
		// A long call sharing the GIL gets one more thread at a time.
		n := 1
		if short {
			n = min(max(len(p.awake), 1), len(p.queue)-p.head, len(p.idle))
		}
		for range n {
			t := p.idle[len(p.idle)-1]
			p.idle = p.idle[:len(p.idle)-1]
			p.awake = append(p.awake, t)
			if p.inline && self != nil && p.head == len(p.queue)-1 && p.queue[p.head] == self {
				p.popLocked()
				self.t = t
				self.ready <- struct{}{} // never blocks: a waiter is signalled once
				continue
			}
			t.wake <- struct{}{} // never blocks: a parked thread's slot is empty
		}
		p.freeSince = 0
	}
	p.armLocked()
}

// lookLocked samples the GIL: busyAt is the last look that found it held,
// freeSince the first of the looks since then that found it free.
func (p *pool) lookLocked(now int64) {
	if p.gilBusy == nil {
		return
	}
	if p.gilBusy() {
		p.busyAt, p.freeSince = now, 0
	} else if p.freeSince == 0 {
		p.freeSince = now
	}
}

// gilFreeLocked reports whether the GIL has been seen free on two looks at
// least longCall/2 apart, with no look in between finding it busy: one look
// may land in the few microseconds a thread spends between its call's
// Python and the next. Without a probe it says yes (the pool goes by time).
func (p *pool) gilFreeLocked(now int64) bool {
	return p.gilBusy == nil || p.freeSince != 0 && now-p.freeSince >= int64(longCall)/2
}

// armLocked arms the timer while calls are queued and threads are parked.
func (p *pool) armLocked() {
	if len(p.queue) > p.head && len(p.idle) > 0 && !p.armed {
		p.armed = true
		p.timer.Reset(longCall)
	}
}

func (p *pool) recheck() {
	p.mu.Lock()
	p.armed = false
	p.wakeLocked(nil)
	p.mu.Unlock()
}

// surplusLocked reports whether t, between calls, should park although
// calls are queued: another awake thread is inside a call younger than
// fairCall, and the GIL is busy now and was on the pool's last look (within
// recentLook), so t would only wait for it. One sample alone would also
// park threads of an app that mostly waits (a thread finishing its sleep
// holds the GIL for a moment), and they would be woken again at once.
func (p *pool) surplusLocked(t *thread) bool {
	if p.gilBusy == nil || len(p.awake) < 2 || p.freeSince != 0 {
		return false // (t alone awake: no clock read on the hot path)
	}
	now := p.now()
	if now-p.busyAt > int64(recentLook) {
		return false
	}
	for _, a := range p.awake {
		if start := a.callStart.Load(); a != t && start != 0 && now-start < int64(fairCall) {
			return p.gilBusy()
		}
	}
	return false
}

// park registers a new thread as parked.
func (p *pool) park(t *thread) {
	p.mu.Lock()
	p.idle = append(p.idle, t)
	p.mu.Unlock()
}
