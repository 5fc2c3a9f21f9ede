package pyembed

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// runPool drives a pool with n fake threads whose calls take d each, the
// way pythonThread does, and returns how many threads ever woke.
func runPool(t *testing.T, n, calls int, d time.Duration) (woke int, took time.Duration) {
	return runPoolWith(t, newPool(), n, calls, func() { time.Sleep(d) })
}

// runPoolWith is runPool with p and each call's work given.
func runPoolWith(t *testing.T, p *pool, n, calls int, work func()) (woke int, took time.Duration) {
	var mu sync.Mutex
	seen := map[*thread]bool{}
	for range n {
		th := &thread{wake: make(chan struct{}, 1)}
		p.park(th)
		go func() {
			for range th.wake {
				mu.Lock()
				seen[th] = true
				mu.Unlock()
				for c := p.next(th); c != nil; c = p.next(th) {
					th.callStart.Store(p.now())
					work()
					th.callStart.Store(0)
					c.Done()
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
			c := wsgi.NewCall()
			p.submit(c)
			c.Wait()
		}()
	}
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	return len(seen), time.Since(start)
}

// TestPoolBlockedCallsSpreadOut: calls that block (sleep) get a thread each.
func TestPoolBlockedCallsSpreadOut(t *testing.T) {
	woke, took := runPool(t, 4, 4, 200*time.Millisecond)
	if woke != 4 {
		t.Errorf("%d threads woke for 4 blocking calls, want 4", woke)
	}
	if took > 350*time.Millisecond {
		t.Errorf("4 blocking 200ms calls on 4 threads took %v", took)
	}
}

// TestPoolShortCallsStayOnFewThreads: instant calls do not wake every
// thread (each wake-up costs more than the call).
func TestPoolShortCallsStayOnFewThreads(t *testing.T) {
	woke, _ := runPool(t, 8, 2000, 0)
	if woke == 0 || woke > 4 {
		t.Errorf("%d of 8 threads woke for instant calls, want 1-4", woke)
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
