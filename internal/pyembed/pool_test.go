package pyembed

import (
	"sync"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// runPool drives a pool with n fake threads whose calls take d each, the
// way pythonThread does, and returns how many threads ever woke.
func runPool(t *testing.T, n, calls int, d time.Duration) (woke int, took time.Duration) {
	p := newPool()
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
					time.Sleep(d)
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
