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

// pool hands calls to the Python threads. Waking a parked OS thread and
// passing it the GIL costs more than a small app call, so the pool keeps
// as few threads awake as the load needs: a queued call wakes another
// thread only when none is awake, or when every awake thread has been
// inside one call for longer than longCall. A timer re-checks while calls
// wait, so a call never waits behind a blocked thread for more than about
// longCall while another thread sleeps.
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

// wakeLocked wakes one parked thread when calls are queued and no awake
// thread is fresh (between calls, or in a call younger than longCall), and
// arms the timer to look again while calls remain queued. A deep queue
// alone wakes nobody: a fresh thread drains it faster than several threads
// passing the GIL around would.
func (p *pool) wakeLocked() {
	if len(p.queue) == p.head || len(p.idle) == 0 {
		return
	}
	now := p.now()
	fresh := false
	for _, t := range p.awake {
		if start := t.callStart.Load(); start == 0 || now-start < int64(longCall) {
			fresh = true
			break
		}
	}
	if !fresh {
		t := p.idle[len(p.idle)-1]
		p.idle = p.idle[:len(p.idle)-1]
		p.awake = append(p.awake, t)
		t.wake <- struct{}{} // never blocks: a parked thread's slot is empty
	}
	if len(p.idle) > 0 && !p.armed {
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
// queue is empty.
func (p *pool) next(t *thread) *wsgi.Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.head < len(p.queue) {
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
	return nil
}

// park registers a new thread as parked.
func (p *pool) park(t *thread) {
	p.mu.Lock()
	p.idle = append(p.idle, t)
	p.mu.Unlock()
}
