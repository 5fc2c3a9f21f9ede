package tests

import (
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// With --threads 8, eight requests to an app that sleeps 0.5 s run side by
// side on the Python thread pool instead of one after another.
func TestHTTPThreadsRunConcurrently(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_sleep", "--threads", "8")
	httpGet(t, s.URL("/warm"))

	const n = 8
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: n, MaxIdleConnsPerHost: n}}
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			resp, err := client.Get(s.URL("/sleep"))
			if err != nil {
				errs <- err
				return
			}
			defer resp.Body.Close()
			if b, _ := io.ReadAll(resp.Body); resp.StatusCode != 200 || string(b) != "slept" {
				errs <- &httpUnexpected{resp.StatusCode, string(b)}
			}
		}()
	}
	wg.Wait()
	took := time.Since(start)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if took > 1200*time.Millisecond {
		t.Fatalf("%d concurrent 0.5 s requests with --threads 8 took %v, want < 1.2 s", n, took)
	}
	t.Logf("%d concurrent 0.5 s requests took %v", n, took)
}

type httpUnexpected struct {
	status int
	body   string
}

func (u *httpUnexpected) Error() string {
	return "unexpected response " + http.StatusText(u.status) + ": " + u.body
}

// CPU-bound calls keep to few Python threads: with --threads 8 and 16
// clients, requests that run Python for 10 ms each (longer than CPython's
// 5 ms switch interval, after which a thread waiting for the GIL takes it
// mid-call) mostly run one at a time, since threads taking turns on a busy
// GIL only convoy. (The app reports how many requests were inside it at
// once; the speed is bench/'s business.)
func TestHTTPThreadsCPUBoundCallsShareFewThreads(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_cpu", "--threads", "8")
	httpGet(t, s.URL("/?ms=0"))

	const clients, each = 16, 8
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: clients, MaxIdleConnsPerHost: clients}}
	var mu sync.Mutex
	peaks := map[int]int{} // requests inside the app at once -> requests that saw it
	var wg sync.WaitGroup
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				resp, err := client.Get(s.URL("/spin?ms=10"))
				if err != nil {
					t.Error(err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				var ident string
				var peak int
				if _, err := fmt.Sscan(string(b), &ident, &peak); err != nil || resp.StatusCode != 200 {
					t.Errorf("status %d: %q", resp.StatusCode, b)
					return
				}
				mu.Lock()
				peaks[peak]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	total, alone := 0, 0
	for peak, n := range peaks {
		total += n
		if peak == 1 {
			alone += n
		}
	}
	t.Logf("%d requests; requests inside the app at once -> how many saw it: %v", total, peaks)
	if total != clients*each {
		t.Fatalf("%d of %d requests answered", total, clients*each)
	}
	// A thread may still be woken now and then (a look at the GIL that
	// lands between two calls); most requests must have run alone.
	if alone*10 < total*7 {
		t.Errorf("%d of %d CPU-bound requests ran alone in the app, want >= 70%%: %v", alone, total, peaks)
	}
}

// A long CPU-bound request does not hold up short ones: once it has kept
// the GIL busy for a while, another thread takes the queued requests and
// shares the GIL with it, so a short request sent after it completes
// before it.
func TestHTTPThreadsLongCPUCallDoesNotBlockShortOnes(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_cpu", "--threads", "4")
	httpGet(t, s.URL("/?ms=0"))

	long := make(chan time.Time, 1)
	go func() {
		if resp, err := http.Get(s.URL("/spin?ms=3000")); err != nil {
			t.Error(err)
		} else {
			resp.Body.Close()
		}
		long <- time.Now()
	}()
	time.Sleep(300 * time.Millisecond) // the long call is running
	for range 5 {
		httpGet(t, s.URL("/spin?ms=1"))
	}
	short := time.Now()
	select {
	case end := <-long:
		t.Fatalf("5 short requests sent 0.3 s after a 3 s one finished %v after it", short.Sub(end))
	default:
	}
	<-long
}
