package httpfront

import (
	"sync"
	"sync/atomic"
	"time"
)

// Admission holds a worker's accepting back while its Python threads have
// more than they can start on soon, as a uWSGI worker accepts only with a
// core free. On a socket the workers share (a unix socket: the nginx and
// Apache recipes), a connection left in the socket's queue goes to the
// first worker with room, where one taken here would wait behind calls
// that may run for seconds: 16 one-second requests sent at once to 2
// workers of 4 threads were taken 15 to 1 or 9 to 7, and answered in 3 to
// 4 s; held back, 8 to 8, in 2 s, as uWSGI. A connection a worker leaves
// costs nothing: it waits in the queue, as it would have waited here. On
// a socket of the worker's own (TCP with several processes) it gains that
// too: the queue, which the master keeps, outlives a crash of the worker
// and waits a harakiri out for its replacement; a connection taken in
// dies or waits with the worker.
//
// A worker takes connections while the connections it has accepted whose
// first request is not answered yet (being read, waiting for a thread, or
// running) are fewer than its threads; up to twice as many while its
// calls are short (admitQueueAfter), so that short calls keep the threads
// fed from a queue of their own (a thread that finds a call waiting as it
// finishes one goes on with it, where one that parks must be woken). A
// connection whose request has not reached the app counts for freshGrace
// at most (for one to two such periods, counted by period): a client idle
// after connecting (a browser's speculative connection) or slow to send
// its request or its body must not hold the worker's accepting. A kept-alive connection's next
// requests do not count: they wait for a thread as they come, beside the
// new connections', or a worker whose threads its kept-alive clients keep
// busy would never take another connection (with 64 threads and 256
// kept-alive clients, p99 went from 0.22 s to 1.2 s).
//
// One Admission serves every Server of a worker (HTTP and uwsgi share the
// threads); the zero value with Pool set is ready.
type Admission struct {
	// Pool reports the worker's Python threads and how long calls take
	// (the longer of the oldest running call's time so far and the recent
	// calls' average).
	Pool func() (size int, slow time.Duration)

	size    atomic.Int32 // the threads, as Pool last said
	inApp   atomic.Int32 // first calls of connections, handed to the app and not returned
	waiting atomic.Int32 // Serve loops waiting for room
	mu      sync.Mutex
	// fresh counts the connections accepted whose request has not reached
	// the app, by the freshGrace period they were accepted in: those of
	// the period before the last no longer count.
	fresh   [2]freshCount
	changed chan struct{} // closed, and dropped, when room may have come; made by a waiter
}

// freshCount is the connections accepted in one freshGrace period, and
// not settled since.
type freshCount struct {
	period int64
	n      int
}

// admitQueueAfter is how long calls may take (see Pool) for a worker to
// take more connections than it has threads: far
// above a hello world's or a Django page's call (tens of microseconds to a
// few milliseconds, more with every thread sharing the GIL), below any
// view slow enough to leave another worker idle meanwhile.
const admitQueueAfter = 10 * time.Millisecond

// freshGrace is how long an accepted connection counts at most before
// its request head is read: nginx and HTTP clients send theirs with the
// connection, within microseconds.
const freshGrace = 5 * time.Millisecond

// admitRecheck bounds a wait for room that no event ended: a safety net,
// since every change that makes room (a call's end, a connection's
// settling, a shutdown) ends it at once.
const admitRecheck = 100 * time.Millisecond

// room reports whether the worker may accept a connection now.
func (a *Admission) room() bool {
	n := int(a.inApp.Load()) + a.freshNow(time.Now())
	if n < int(a.size.Load()) {
		return true // (the threads' number is all it takes)
	}
	size, slow := a.Pool()
	a.size.Store(int32(size))
	return n < size || n < 2*size && slow < admitQueueAfter
}

// period is the freshGrace period of t.
func period(t time.Time) int64 { return t.UnixNano() / int64(freshGrace) }

// freshNow is the connections that count as fresh at now: those of this
// period and the one before.
func (a *Admission) freshNow(now time.Time) int {
	p := period(now)
	a.mu.Lock()
	defer a.mu.Unlock()
	n := 0
	for _, f := range a.fresh {
		if f.period >= p-1 {
			n += f.n
		}
	}
	return n
}

// accepted counts c until settled, by its period (that of c.start, its
// accepting).
func (a *Admission) accepted(c *conn) {
	p := period(c.start)
	c.freshPeriod = p
	a.mu.Lock()
	f := &a.fresh[p&1]
	if f.period != p {
		f.period, f.n = p, 0
	}
	f.n++
	a.mu.Unlock()
}

// settled stops counting c, and wakes a Serve loop that waits for room.
func (a *Admission) settled(c *conn) {
	p := c.freshPeriod
	a.mu.Lock()
	if f := &a.fresh[p&1]; f.period == p && f.n > 0 {
		f.n--
	}
	a.mu.Unlock()
	a.poke()
}

// wait returns once the worker may accept a connection, or stop reports
// true (the Server is shutting down), and how long it waited.
func (a *Admission) wait(stop func() bool) time.Duration {
	if a.room() || stop() {
		return 0
	}
	start := time.Now()
	for !a.room() && !stop() {
		a.mu.Lock()
		if a.changed == nil {
			a.changed = make(chan struct{})
		}
		ch := a.changed
		a.mu.Unlock()
		a.waiting.Add(1)
		// Registered: a change from now on closes ch. One that came
		// since the look above is seen by this one.
		if a.room() || stop() {
			a.waiting.Add(-1)
			break
		}
		d := admitRecheck
		if a.freshNow(time.Now()) > 0 {
			d = freshGrace // when the oldest may stop counting, at the latest
		}
		t := time.NewTimer(d)
		select {
		case <-ch:
		case <-t.C:
		}
		t.Stop()
		a.waiting.Add(-1)
	}
	return time.Since(start)
}

// poke wakes the Serve loops waiting for room: a call has ended, or an
// accepted connection settled. It costs a load when none waits.
func (a *Admission) poke() {
	if a.waiting.Load() == 0 {
		return
	}
	if size, slow := a.Pool(); slow < admitQueueAfter {
		// Short calls: the waiting loop is woken once a few can be taken,
		// not for each call's end, which cost a wake-up a request (7% of
		// hello world's requests/s behind nginx).
		if n := int(a.inApp.Load()) + a.freshNow(time.Now()); n > 2*size-max(size/2, 1) {
			return
		}
	}
	a.wake()
}

// wake ends every wait for room now.
func (a *Admission) wake() {
	a.mu.Lock()
	if a.changed != nil {
		close(a.changed)
		a.changed = nil
	}
	a.mu.Unlock()
}
