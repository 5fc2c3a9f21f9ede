package tests

import (
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// leakStats is what testdata/apps/leak_paths answers on /stats.
type leakStats struct{ Objects, Blocks int }

// wsgiHammer sends n requests for path over four keep-alive connections
// and reads each response to its end (or to its abort: an error path may
// cut the body). A request that gets no response at all fails t: the
// worker died.
func wsgiHammer(t *testing.T, s *server, client *http.Client, path, body string, n int) {
	t.Helper()
	work := make(chan struct{}, n)
	for range n {
		work <- struct{}{}
	}
	close(work)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var failed error
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				var resp *http.Response
				var err error
				if body != "" {
					resp, err = client.Post(s.URL(path), "text/plain", strings.NewReader(body))
				} else {
					resp, err = client.Get(s.URL(path))
				}
				if err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
		}()
	}
	wg.Wait()
	if failed != nil {
		t.Fatalf("%s: %v", path, failed)
	}
}

// Every error and edge path of the bridge, driven a couple of thousand
// times, must leave the worker's objects and memory blocks where they
// were: a reference leaked a request on some error path is a slow leak
// that ends in --reload-on-rss churn or an OOM kill. The bounds are per
// 1000 requests and generous (the first requests down a path fill caches,
// and the counts move a little on their own); a leak of one object or one
// block a request adds 1000.
func TestWSGINoLeakOnErrorPaths(t *testing.T) {
	t.Parallel()
	s := startApp(t, "leak_paths", "--threads", "4")
	client := &http.Client{Timeout: 15 * time.Second,
		Transport: &http.Transport{MaxIdleConnsPerHost: 4}}
	t.Cleanup(client.CloseIdleConnections)
	const n, bound = 1500, 400
	tests := []struct{ path, body string }{
		{"/raise-before", ""},
		{"/exc-info-after-body", ""},
		{"/exc-info-replaces", ""},
		{"/raise-mid-body", ""},
		{"/str-chunk", ""},
		{"/bad-headers", ""},
		{"/file-wrapper-bad", ""},
		{"/file-wrapper-bytesio", ""},
		{"/input-modes", "line one\nline two is longer\nthree\nno newline at the end"},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			wsgiHammer(t, s, client, tt.path, tt.body, 300)
			var before, after leakStats
			wsgiGetJSON(t, s, "/stats", &before)
			wsgiHammer(t, s, client, tt.path, tt.body, n)
			wsgiGetJSON(t, s, "/stats", &after)
			objects := (after.Objects - before.Objects) * 1000 / n
			blocks := (after.Blocks - before.Blocks) * 1000 / n
			if objects > bound || blocks > bound {
				t.Errorf("%+d objects and %+d memory blocks per 1000 requests (bound %d): a leak",
					objects, blocks, bound)
			}
		})
	}
}
