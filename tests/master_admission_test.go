package tests

import (
	"bufio"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// A worker takes no more connections than its threads can start on soon,
// as a uWSGI worker accepts only with a core free: behind nginx (a unix
// socket every worker accepts from), a burst of slow requests is shared
// out, where one worker used to take nearly all of them and leave its
// sibling idle. 8 requests of 0.5 s at once to 2 workers of 2 threads: 4
// each, all answered in 1 s, not 1.5 to 2.
func TestMasterBurstSharedOut(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "app.sock")
	_, stats := masterStartStats(t, "master_pid", "--processes", "2", "--threads", "2", "--socket", sock)
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	for round := range 3 {
		var mu sync.Mutex
		by := map[int]int{}
		var wg sync.WaitGroup
		start := time.Now()
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := uwsgiDial(t, sock)
				c.Write(uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/sleep"},
					{"QUERY_STRING", "s=0.5"}, {"SERVER_NAME", "x"}, {"SERVER_PORT", "80"},
					{"SERVER_PROTOCOL", "HTTP/1.1"}}, ""))
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err != nil {
					t.Errorf("round %d: %v", round, err)
					return
				}
				b, _ := io.ReadAll(resp.Body)
				mu.Lock()
				by[masterPidOf(string(b))]++
				mu.Unlock()
			}()
		}
		wg.Wait()
		took := time.Since(start)
		t.Logf("round %d: %v in %v", round, by, took.Round(time.Millisecond))
		for pid, n := range by {
			if n != 4 {
				t.Errorf("round %d: worker %d served %d of the 8 requests, want 4 each: %v", round, pid, n, by)
			}
		}
		if took > 1400*time.Millisecond {
			t.Errorf("round %d: 8 requests of 0.5 s on 4 threads took %v, want about 1 s", round, took)
		}
	}
}
