package pyembed

import (
	"errors"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// runPoolWith drives p with n threads and calls that do work, and
// returns how many threads ever ran a call and how long all took. Calls run
// as Interp.Do runs them: on the caller's goroutine when the pool says so,
// else on the thread's own goroutine.
func runPoolWith(t *testing.T, p *pool, n, calls int, work func()) (woke int, took time.Duration) {
	var mu sync.Mutex
	seen := map[*thread]bool{}
	run := func(th *thread) {
		mu.Lock()
		seen[th] = true
		mu.Unlock()
		th.callStart.Store(p.now())
		work()
		th.callStart.Store(0)
	}
	for range n {
		th := &thread{wake: make(chan struct{}, 1)}
		p.park(th)
		go func() {
			for range th.wake {
				for w := p.next(th); w != nil; w = p.next(th) {
					run(th)
					w.ready <- struct{}{}
				}
			}
		}()
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range calls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if th := p.acquire(wsgi.NewCall()); th != nil {
				run(th)
				p.release(th, 0)
			}
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return len(seen), time.Since(start)
}

// inlinePool is a pool that runs calls on their callers' OS threads where
// it can, as with more than one Python thread.
func inlinePool() *pool {
	p := newPool()
	p.inline = true
	return p
}

// TestPoolBlockedCallsSpreadOut: calls that block (sleep) get a thread each.
func TestPoolBlockedCallsSpreadOut(t *testing.T) {
	for _, p := range []*pool{newPool(), inlinePool()} {
		woke, took := runPoolWith(t, p, 4, 4, func() { time.Sleep(200 * time.Millisecond) })
		if woke != 4 {
			t.Errorf("inline %v: %d threads woke for 4 blocking calls, want 4", p.inline, woke)
		}
		if took > 350*time.Millisecond {
			t.Errorf("inline %v: 4 blocking 200ms calls on 4 threads took %v", p.inline, took)
		}
	}
}

// TestPoolShortCallsStayOnFewThreads: instant calls do not wake every
// thread (each wake-up costs more than the call).
func TestPoolShortCallsStayOnFewThreads(t *testing.T) {
	for _, p := range []*pool{newPool(), inlinePool()} {
		woke, _ := runPoolWith(t, p, 8, 2000, func() {})
		if woke == 0 || woke > 4 {
			t.Errorf("inline %v: %d of 8 threads woke for instant calls, want 1-4", p.inline, woke)
		}
	}
}

// serve runs the calls t's OS thread is sent to take, counting them.
func serve(p *pool, t *thread, ran *atomic.Int32) {
	for range t.wake {
		for w := p.next(t); w != nil; w = p.next(t) {
			ran.Add(1)
			w.ready <- struct{}{}
		}
	}
}

// queued waits until n calls are queued in p.
func queued(t *testing.T, p *pool, n int) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		p.mu.Lock()
		got := len(p.queue) - p.head
		p.mu.Unlock()
		if got == n {
			return
		}
	}
	t.Fatalf("%d calls never queued", n)
}

// TestPoolIdleCallRunsInline: a call that finds a thread parked and none
// queued gets the thread to run on its own goroutine's OS thread; with
// inline off (one Python thread) the thread's own OS thread runs it.
func TestPoolIdleCallRunsInline(t *testing.T) {
	for _, p := range []*pool{newPool(), inlinePool()} {
		th := &thread{wake: make(chan struct{}, 1)}
		p.park(th)
		var ran atomic.Int32
		go serve(p, th, &ran)
		got := p.acquire(wsgi.NewCall())
		if p.inline && (got != th || ran.Load() != 0) {
			t.Errorf("inline: acquire gave %p (ran on the thread: %d), want the parked thread", got, ran.Load())
		}
		if !p.inline && (got != nil || ran.Load() != 1) {
			t.Errorf("not inline: acquire gave %p (ran on the thread: %d), want the thread to run it", got, ran.Load())
		}
		if got != nil {
			p.release(got, 0)
		}
	}
}

// TestPoolQueuedCallAfterShortCallRunsInline: a call queued behind a short
// inline call gets the thread on its own goroutine; behind a longer one it
// goes to the thread's OS thread.
func TestPoolQueuedCallAfterShortCallRunsInline(t *testing.T) {
	for _, took := range []time.Duration{time.Microsecond, time.Millisecond} {
		p := inlinePool()
		th := &thread{wake: make(chan struct{}, 1)}
		p.park(th)
		var ran atomic.Int32
		go serve(p, th, &ran)
		holder := p.acquire(wsgi.NewCall())
		if holder != th {
			t.Fatalf("the first call did not run inline")
		}
		got := make(chan *thread)
		go func() { got <- p.acquire(wsgi.NewCall()) }()
		queued(t, p, 1)
		handed := p.release(th, int64(took))
		second := <-got
		if took < shortCall && (!handed || second != th || ran.Load() != 0) {
			t.Errorf("after a %v call: handed %v, second call got %p, ran on the thread %d; want it inline", took, handed, second, ran.Load())
		}
		if took >= shortCall && (handed || second != nil || ran.Load() != 1) {
			t.Errorf("after a %v call: handed %v, second call got %p, ran on the thread %d; want the thread to run it", took, handed, second, ran.Load())
		}
		if second != nil {
			p.release(second, 0)
		}
	}
}

// fakeGIL stands in for the interpreter's lock: a call that "runs Python"
// holds it, and the pool's probe reads whether it is held.
type fakeGIL struct {
	mu   sync.Mutex
	held atomic.Bool
}

func (g *fakeGIL) run(d time.Duration) {
	g.mu.Lock()
	g.held.Store(true)
	time.Sleep(d)
	g.held.Store(false)
	g.mu.Unlock()
}

func gilPool(g *fakeGIL) *pool {
	p := newPool()
	p.gilBusy = g.held.Load
	return p
}

// TestPoolGILBoundCallsStayOnOneThread: calls that keep the GIL busy get
// no second thread, which would only wait for the GIL.
func TestPoolGILBoundCallsStayOnOneThread(t *testing.T) {
	g := &fakeGIL{}
	woke, _ := runPoolWith(t, gilPool(g), 8, 40, func() { g.run(2 * time.Millisecond) })
	if woke != 1 {
		t.Errorf("%d of 8 threads woke for calls that hold the GIL, want 1", woke)
	}
}

// TestPoolGILFreeCallsSpreadOut: with the probe, calls blocked with the GIL
// released still get a thread each.
func TestPoolGILFreeCallsSpreadOut(t *testing.T) {
	g := &fakeGIL{}
	woke, took := runPoolWith(t, gilPool(g), 4, 4, func() { time.Sleep(200 * time.Millisecond) })
	if woke != 4 || took > 350*time.Millisecond {
		t.Errorf("4 blocking 200ms calls woke %d of 4 threads and took %v", woke, took)
	}
}

// TestPoolLongGILCallSharesTheGIL: a call that keeps the GIL busy past
// fairCall gets a second thread for the calls queued behind it.
func TestPoolLongGILCallSharesTheGIL(t *testing.T) {
	g := &fakeGIL{}
	p := gilPool(g)
	var first atomic.Bool
	var shortDone atomic.Int64
	woke, _ := runPoolWith(t, p, 4, 6, func() {
		if first.CompareAndSwap(false, true) {
			// Not holding the fake lock, so the short calls can run; the
			// probe still says busy throughout, as a real GIL shared by
			// switching would.
			g.held.Store(true)
			time.Sleep(4 * fairCall)
			if shortDone.Load() != 5 {
				t.Errorf("%d of 5 short calls done when the long one finished", shortDone.Load())
			}
			g.held.Store(false)
			return
		}
		time.Sleep(time.Millisecond)
		shortDone.Add(1)
	})
	if woke < 2 {
		t.Errorf("%d threads woke, want a second one for the calls behind the long one", woke)
	}
}

// TestPoolWaitingCallsKeepTheirThreads: calls that mostly wait and hold
// the GIL only briefly at the end keep every thread busy; a thread done
// with a call does not park because it caught another holding the GIL.
func TestPoolWaitingCallsKeepTheirThreads(t *testing.T) {
	g := &fakeGIL{}
	woke, took := runPoolWith(t, gilPool(g), 4, 16, func() {
		time.Sleep(50 * time.Millisecond)
		g.run(time.Millisecond)
	})
	// 16 calls of ~51 ms on 4 threads: 4 rounds, ~205 ms.
	if woke != 4 || took > 400*time.Millisecond {
		t.Errorf("16 waiting calls woke %d of 4 threads and took %v, want 4 and ~205ms", woke, took)
	}
}

// TestPoolBurstOfBlockedCallsReachesEveryThread: a burst of calls that
// block (a handler waiting on a database) gets all the threads within a
// few looks at the GIL, not one more thread per look (a look comes about a
// millisecond after the last, so 64 threads took some 64 ms to wake).
func TestPoolBurstOfBlockedCallsReachesEveryThread(t *testing.T) {
	g := &fakeGIL{}
	woke, took := runPoolWith(t, gilPool(g), 64, 64, func() { time.Sleep(50 * time.Millisecond) })
	if woke != 64 || took > 100*time.Millisecond {
		t.Errorf("64 blocking 50ms calls woke %d of 64 threads and took %v, want 64 and ~50ms", woke, took)
	}
}

// offThread returns what the write returned and turns a panic in it into
// an error, also when called from a goroutine locked to its OS thread (as
// the bridge's callbacks are).
func TestOffThread(t *testing.T) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		want := errors.New("client gone")
		if err := offThread(func() error { return want }); err != want {
			t.Errorf("offThread returned %v, want %v", err, want)
		}
		if err := offThread(func() error { return nil }); err != nil {
			t.Errorf("offThread returned %v for a write that succeeded", err)
		}
		err := offThread(func() error { panic("boom") })
		if err == nil || !strings.Contains(err.Error(), "boom") {
			t.Errorf("a panicking write gave %v, want an error naming the panic", err)
		}
	}()
	<-done
}

// TestPoolRefuseQueued: the calls queued behind a busy thread end unrun,
// marked Unavailable, and the queue is empty after; the running call and
// the thread are left alone.
func TestPoolRefuseQueued(t *testing.T) {
	p := inlinePool()
	th := &thread{wake: make(chan struct{}, 1)}
	p.park(th)
	if got := p.acquire(wsgi.NewCall()); got != th {
		t.Fatalf("the first call got %p, want the parked thread to run inline", got)
	}
	type res struct {
		th *thread
		c  *wsgi.Call
	}
	done := make(chan res, 3)
	for range 3 {
		go func() {
			c := wsgi.NewCall()
			done <- res{p.acquire(c), c}
		}()
	}
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(time.Millisecond) {
		p.mu.Lock()
		n := len(p.queue) - p.head
		p.mu.Unlock()
		if n == 3 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d calls queued, want 3", n)
		}
	}
	told := 0
	if n := p.refuseQueued(func(n int) { told = n }); n != 3 || told != 3 {
		t.Errorf("refuseQueued refused %d (told %d), want 3", n, told)
	}
	for range 3 {
		r := <-done
		if r.th != nil || r.c.Result != wsgi.Unavailable {
			t.Errorf("a refused call: thread %p, result %v; want none, Unavailable", r.th, r.c.Result)
		}
	}
	if n := p.refuseQueued(nil); n != 0 {
		t.Errorf("a second refuseQueued refused %d, want 0", n)
	}
	p.release(th, 0)
	if got := p.acquire(wsgi.NewCall()); got != th {
		t.Errorf("after the refusals a call got %p, want the parked thread", got)
	}
}
