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

// recentLook is how old the pool's last look at the GIL may be for a
// thread to park on the strength of it (see surplusLocked).
const recentLook = 2 * time.Millisecond

// pool hands calls to the Python threads. Waking a parked OS thread and
// passing it the GIL costs more than a small app call, and threads that
// take turns on a busy GIL run slower than one thread alone (they convoy on
// the app's own locks: Django's asgiref Locals took 60-100 context switches
// a request with 8 threads awake), so the pool keeps as few threads awake
// as keep the GIL busy. A queued call wakes another thread only when none
// is awake, or when every awake thread has been inside one call for longer
// than longCall and either the GIL is free (the calls are blocked: then as
// many threads again as are awake wake up) or every call is older than
// fairCall (then one more). A thread done with a call parks instead of
// taking the next while the GIL is busy with another thread's short call.
// A timer re-checks while calls wait, so a call never waits behind blocked
// threads for more than about longCall while another thread sleeps (in
// practice about a millisecond: that is the resolution of the runtime's
// sleep when no thread is otherwise awake).
type pool struct {
	mu      sync.Mutex
	queue   []*wsgi.Call
	head    int
	idle    []*thread // parked threads, most recently parked last
	awake   []*thread
	timer   *time.Timer
	armed   bool
	epoch   time.Time
	running atomic.Int32 // calls inside the app right now
	// gilBusy reports whether some thread holds the GIL; nil where the
	// interpreter gives no way to tell (the pool then goes by time alone).
	gilBusy   func() bool
	freeSince int64 // now() when the GIL was first seen free since it was last seen busy
	busyAt    int64 // now() when the GIL was last seen busy
}

func newPool() *pool {
	p := &pool{epoch: time.Now()}
	p.timer = time.AfterFunc(time.Hour, p.recheck)
	p.timer.Stop()
	return p
}

func (p *pool) now() int64 { return int64(time.Since(p.epoch)) }

// submit queues c and wakes threads if the awake ones cannot take it soon.
func (p *pool) submit(c *wsgi.Call) {
	p.mu.Lock()
	p.queue = append(p.queue, c)
	p.wakeLocked()
	p.mu.Unlock()
}

// wakeLocked wakes one parked thread when calls are queued and the awake
// threads cannot take them soon (see pool), and arms the timer to look
// again while calls remain queued. A deep queue alone wakes nobody: a fresh
// thread drains it faster than several threads passing the GIL around.
func (p *pool) wakeLocked() {
	if len(p.queue) == p.head || len(p.idle) == 0 {
		return
	}
	now := p.now()
	fresh, short := false, false
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
	p.wakeLocked()
	p.mu.Unlock()
}

// next returns the next queued call, or parks t (returning nil) when the
// queue is empty or t would only queue for a GIL that another thread's
// short call keeps busy (that thread takes the queue when it is done).
func (p *pool) next(t *thread) *wsgi.Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head < len(p.queue) && !p.surplusLocked(t) {
		c := p.queue[p.head]
		p.queue[p.head] = nil
		p.head++
		if p.head == len(p.queue) {
			p.queue, p.head = p.queue[:0], 0
		}
		return c
	}
	for i, a := range p.awake {
		if a == t {
			p.awake = append(p.awake[:i], p.awake[i+1:]...)
			break
		}
	}
	p.idle = append(p.idle, t)
	p.armLocked()
	return nil
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
