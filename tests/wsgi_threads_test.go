package tests

import (
	"fmt"
	"sort"
	"sync"
	"testing"
	"time"
)

func TestWSGIThreadsRunInParallel(t *testing.T) {
	t.Parallel()
	tests := []struct {
		threads  string
		min, max time.Duration
	}{
		{"4", 0, 1800 * time.Millisecond},
		{"1", 3500 * time.Millisecond, 10 * time.Second},
	}
	for _, tt := range tests {
		t.Run("threads="+tt.threads, func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "threads", "--threads", tt.threads)
			var warm map[string]any
			wsgiGetJSON(t, s, "/local", &warm)
			start := time.Now()
			var wg sync.WaitGroup
			for i := 0; i < 4; i++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					var out map[string]any
					if err := wsgiFetchJSON(s, "/sleep", &out); err != nil {
						t.Error(err)
					}
				}()
			}
			wg.Wait()
			if d := time.Since(start); d < tt.min || d > tt.max {
				t.Errorf("4 concurrent 1s requests took %v, want between %v and %v", d, tt.min, tt.max)
			}
		})
	}
}

// Each pool thread keeps its own threading.local across requests: per
// thread ident, the counts seen are exactly 1..k, and the stored owner is
// that thread.
func TestWSGIThreadingLocal(t *testing.T) {
	t.Parallel()
	for _, threads := range []int{1, 4} {
		t.Run(fmt.Sprintf("threads=%d", threads), func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "threads", "--threads", fmt.Sprint(threads))
			var mu sync.Mutex
			counts := map[float64][]float64{}
			var wg sync.WaitGroup
			for g := 0; g < 8; g++ {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; i < 6; i++ {
						var out struct {
							Ident, Owner, Count float64
							Multithread         bool
						}
						if err := wsgiFetchJSON(s, "/local", &out); err != nil {
							t.Error(err)
							return
						}
						if out.Owner != out.Ident {
							t.Errorf("thread %v sees the threading.local of thread %v", out.Ident, out.Owner)
						}
						if out.Multithread != (threads > 1) {
							t.Errorf("wsgi.multithread = %v with --threads %d", out.Multithread, threads)
						}
						mu.Lock()
						counts[out.Ident] = append(counts[out.Ident], out.Count)
						mu.Unlock()
					}
				}()
			}
			wg.Wait()
			if len(counts) > threads {
				t.Errorf("requests ran on %d Python threads, want at most %d", len(counts), threads)
			}
			for ident, cs := range counts {
				sort.Float64s(cs)
				for i, c := range cs {
					if c != float64(i+1) {
						t.Errorf("thread %v: counts %v, want 1..%d (threading.local lost or shared)", ident, cs, len(cs))
						break
					}
				}
			}
		})
	}
}

// Python threads carry their own OS thread name, so top -H and perf tell
// them from the Go runtime's threads: "carafe-py N", N below --threads.
func TestWSGIThreadsNamed(t *testing.T) {
	t.Parallel()
	s := startApp(t, "threads", "--threads", "2")
	var out struct{ Name string }
	wsgiGetJSON(t, s, "/name", &out)
	if out.Name != "carafe-py 0" && out.Name != "carafe-py 1" {
		t.Errorf("the app's OS thread is named %q, want carafe-py 0 or 1", out.Name)
	}
}
