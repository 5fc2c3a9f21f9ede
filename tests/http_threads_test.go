package tests

import (
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
