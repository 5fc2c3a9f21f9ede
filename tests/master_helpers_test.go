package tests

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// masterStatsDoc is what --stats answers (uWSGI's stats server shape).
type masterStatsDoc struct {
	Pid     int                `json:"pid"`
	Workers []masterStatWorker `json:"workers"`
}

type masterStatWorker struct {
	ID         int                `json:"id"`
	Pid        int                `json:"pid"`
	Status     string             `json:"status"`
	Requests   float64            `json:"requests"`
	Exceptions float64            `json:"exceptions"`
	ClientGone float64            `json:"client_gone"`
	RSS        float64            `json:"rss"`
	AvgRTms    float64            `json:"avg_rt_ms"`
	Respawns   float64            `json:"respawns"`
	Threads    []masterStatThread `json:"threads"`
	Accepting  int                `json:"accepting"`
	Shedding   bool               `json:"shedding"`
}

type masterStatThread struct {
	Busy      bool    `json:"busy"`
	Method    string  `json:"method"`
	Path      string  `json:"path"`
	RunningMs float64 `json:"running_ms"`
}

// masterReadStats reads one document from the stats server at addr.
func masterReadStats(addr string) (*masterStatsDoc, error) {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		return nil, fmt.Errorf("reading stats: %w (got %q)", err, b)
	}
	var doc masterStatsDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("stats is not the JSON document expected: %w: %q", err, b)
	}
	return &doc, nil
}

// masterStats reads the stats document, retrying for up to 5 s while the
// stats server comes up; it fails the test if none arrives.
func masterStats(t testing.TB, addr string) *masterStatsDoc {
	t.Helper()
	var last error
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		doc, err := masterReadStats(addr)
		if err == nil {
			return doc
		}
		last = err
	}
	t.Fatalf("stats server %s: %v", addr, last)
	return nil
}

// masterStartStats starts testdata/apps/<app> with --stats on a free port
// and returns the server and the stats address.
func masterStartStats(t testing.TB, app string, extra ...string) (*server, string) {
	t.Helper()
	stats := freeAddr(t)
	s := startApp(t, app, append([]string{"--stats", stats}, extra...)...)
	return s, stats
}

// masterServing reports whether a stats worker looks up and serving.
func masterServing(w masterStatWorker) bool {
	return (w.Status == "idle" || w.Status == "busy") && masterAlive(w.Pid)
}

// masterWaitWorkers waits until stats lists exactly n workers, all serving,
// and (when not nil) ok(pids) holds; it returns their pids by worker id.
// The slots --cheaper does not run ("cheap") are not counted.
func masterWaitWorkers(t testing.TB, stats string, n int, d time.Duration, ok func(pids []int) bool) []int {
	t.Helper()
	var doc *masterStatsDoc
	var err error
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		doc, err = masterReadStats(stats)
		if err != nil {
			continue
		}
		running := slices.DeleteFunc(slices.Clone(doc.Workers), func(w masterStatWorker) bool { return w.Status == "cheap" })
		if len(running) != n {
			continue
		}
		pids := make([]int, 0, n)
		for _, w := range running {
			if !masterServing(w) {
				break
			}
			pids = append(pids, w.Pid)
		}
		if len(pids) == n && (ok == nil || ok(pids)) {
			return pids
		}
	}
	t.Fatalf("stats did not show %d serving workers within %v (last: %+v, err %v)", n, d, doc, err)
	return nil
}

// masterProcState returns the state letter of /proc/<pid>/stat ("" when
// the process is gone) and its parent pid.
func masterProcState(pid int) (string, int) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return "", 0
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return "", 0
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 2 {
		return "", 0
	}
	ppid, _ := strconv.Atoi(f[1])
	return f[0], ppid
}

// masterComm is pid's command name (/proc/PID/comm), "" when it is gone.
func masterComm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

// masterAlive: the process exists and is not a zombie.
func masterAlive(pid int) bool {
	st, _ := masterProcState(pid)
	return st != "" && st != "Z" && st != "X"
}

// masterChildren lists the live child processes of pid, by scanning /proc
// (the per-thread children files only list what each thread forked).
func masterChildren(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if st, ppid := masterProcState(p); ppid == pid && st != "Z" && st != "X" {
			out = append(out, p)
		}
	}
	sort.Ints(out)
	return out
}

// masterWaitChildren waits until pid has n live children and returns them.
func masterWaitChildren(t testing.TB, pid, n int, d time.Duration) []int {
	t.Helper()
	var kids []int
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if kids = masterChildren(pid); len(kids) == n {
			return kids
		}
	}
	t.Fatalf("master %d has children %v, want %d within %v", pid, kids, n, d)
	return nil
}

// masterKillLeftovers SIGKILLs, at cleanup, any of pids still alive (a
// failing orphan test must not leave workers behind).
func masterKillLeftovers(t testing.TB, pids []int) {
	t.Cleanup(func() {
		for _, p := range pids {
			if masterAlive(p) {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	})
}

var masterPidRE = regexp.MustCompile(`pid=(\d+)`)

// masterPidOf parses "pid=N" out of a body (0 when absent).
func masterPidOf(body string) int {
	m := masterPidRE.FindStringSubmatch(body)
	if m == nil {
		return 0
	}
	n, _ := strconv.Atoi(m[1])
	return n
}

// masterClient is an HTTP client with its own connection pool.
func masterClient(keepAlive bool, timeout time.Duration) *http.Client {
	return &http.Client{
		Timeout:   timeout,
		Transport: &http.Transport{DisableKeepAlives: !keepAlive, MaxIdleConnsPerHost: 4},
	}
}

// masterGet does one GET and returns the status and body; a transport
// error or a short body is an error.
func masterGet(c *http.Client, url string) (int, string, error) {
	return masterRead(c.Get(url))
}

// masterPost POSTs body and returns the status and the answer, which must
// end in "len=" the body's length (the master_body app's); a transport
// error, a short answer or another length is an error.
func masterPost(c *http.Client, url string, body []byte) (int, string, error) {
	code, b, err := masterRead(c.Post(url, "application/octet-stream", bytes.NewReader(body)))
	if want := " len=" + strconv.Itoa(len(body)); err == nil && code == 200 && !strings.HasSuffix(b, want) {
		return code, b, fmt.Errorf("the app did not get the %d bytes sent", len(body))
	}
	return code, b, err
}

// masterRead reads a response to its end: the status and body, or the
// transport error, or the error that cut the body short.
func masterRead(resp *http.Response, err error) (int, string, error) {
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return resp.StatusCode, string(b), fmt.Errorf("body: %w", err)
	}
	return resp.StatusCode, string(b), nil
}

// masterLoad is a bounded client loop: G goroutines GET url back to back
// until Stop, a request budget or a time limit. Half the goroutines keep
// connections alive (as browsers and proxies do; Go's Transport retries an
// idempotent request once when the server closed a reused connection before
// answering), half open a fresh connection per request (no retry at all).
// With a body, every other pair of goroutines POSTs it instead (retried
// only if none of it was sent), and the answer must end in "len=" its
// length.
type masterLoad struct {
	url      string
	body     []byte
	stop     chan struct{}
	wg       sync.WaitGroup
	mu       sync.Mutex
	ok       int
	failed   int
	errs     []string
	bodies   map[string]int
	firstErr time.Time
	started  time.Time
	budget   int // remaining requests; <0 unlimited
}

// masterStartLoad starts the loop; maxRequests <= 0 means unlimited, and
// maxDur bounds it in time anyway.
func masterStartLoad(url string, goroutines, maxRequests int, maxDur time.Duration) *masterLoad {
	return masterStartLoadPaced(url, goroutines, maxRequests, maxDur, 0)
}

// masterStartLoadPaced is masterStartLoad with each goroutine pausing
// pace between requests.
func masterStartLoadPaced(url string, goroutines, maxRequests int, maxDur, pace time.Duration) *masterLoad {
	return masterStartLoadBody(url, nil, goroutines, maxRequests, maxDur, pace)
}

// masterStartLoadBody is masterStartLoadPaced with POSTs of body too (see
// masterLoad).
func masterStartLoadBody(url string, body []byte, goroutines, maxRequests int, maxDur, pace time.Duration) *masterLoad {
	l := &masterLoad{url: url, body: body, stop: make(chan struct{}), bodies: map[string]int{}, started: time.Now(), budget: -1}
	if maxRequests > 0 {
		l.budget = maxRequests
	}
	deadline := time.Now().Add(maxDur)
	for g := 0; g < goroutines; g++ {
		l.wg.Add(1)
		go func(keepAlive, post bool) {
			defer l.wg.Done()
			c := masterClient(keepAlive, 15*time.Second)
			defer c.CloseIdleConnections()
			for time.Now().Before(deadline) {
				select {
				case <-l.stop:
					return
				default:
				}
				l.mu.Lock()
				if l.budget == 0 {
					l.mu.Unlock()
					return
				}
				if l.budget > 0 {
					l.budget--
				}
				l.mu.Unlock()
				var code int
				var body string
				var err error
				if post {
					code, body, err = masterPost(c, l.url, l.body)
				} else {
					code, body, err = masterGet(c, l.url)
				}
				l.mu.Lock()
				switch {
				case err == nil && code == 200:
					l.ok++
					l.bodies[body]++
				default:
					l.failed++
					if l.firstErr.IsZero() {
						l.firstErr = time.Now()
					}
					if len(l.errs) < 10 {
						msg := fmt.Sprintf("%v: keep-alive=%v post=%v: status %d body %.80q err %v",
							time.Since(l.started).Round(time.Millisecond), keepAlive, post, code, body, err)
						l.errs = append(l.errs, msg)
					}
				}
				l.mu.Unlock()
				if pace > 0 {
					time.Sleep(pace)
				}
			}
		}(g%2 == 0, l.body != nil && g%4 >= 2)
	}
	return l
}

// Stop ends the loop and waits for the goroutines.
func (l *masterLoad) Stop() *masterLoad {
	select {
	case <-l.stop:
	default:
		close(l.stop)
	}
	l.wg.Wait()
	return l
}

// Wait waits for the loop to end by itself (budget or time).
func (l *masterLoad) Wait() *masterLoad { l.wg.Wait(); return l }

// counts returns the successful and failed request counts so far.
func (l *masterLoad) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.ok, l.failed
}

// pids returns the distinct worker pids seen in bodies, with request counts.
func (l *masterLoad) pids() map[int]int {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := map[int]int{}
	for b, n := range l.bodies {
		if p := masterPidOf(b); p != 0 {
			out[p] += n
		}
	}
	return out
}

// report logs the counts and fails the test when more than maxFailed
// requests failed.
func (l *masterLoad) report(t testing.TB, what string, maxFailed int) {
	t.Helper()
	l.mu.Lock()
	ok, failed, errs := l.ok, l.failed, append([]string(nil), l.errs...)
	l.mu.Unlock()
	t.Logf("%s: %d requests ok, %d failed, over %v", what, ok, failed, time.Since(l.started).Round(time.Millisecond))
	if failed > maxFailed {
		t.Errorf("%s: %d failed requests, want at most %d; first errors:\n  %s", what, failed, maxFailed, strings.Join(errs, "\n  "))
	}
	if ok == 0 {
		t.Errorf("%s: no request succeeded", what)
	}
}

// masterLogLine returns the index in log of the first line that names pid
// and has a word starting with word (case-insensitive), or -1.
func masterLogLine(log string, pid int, word string) int {
	pidRE := regexp.MustCompile(`(^|\D)` + strconv.Itoa(pid) + `(\D|$)`)
	wordRE := regexp.MustCompile(`(?i)\b` + regexp.QuoteMeta(word))
	off := 0
	for _, line := range strings.SplitAfter(log, "\n") {
		if pidRE.MatchString(line) && wordRE.MatchString(line) {
			return off
		}
		off += len(line)
	}
	return -1
}

// masterStartAt is startNoWait with a chosen --http address.
func masterStartAt(t testing.TB, addr string, args ...string) *server {
	t.Helper()
	return launch(t, addr, append([]string{"--http", addr}, args...)...)
}

// masterVersionFile writes value to a fresh file for the master_reload app
// and returns its path.
func masterVersionFile(t testing.TB, value string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "version")
	if err := os.WriteFile(p, []byte(value+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// masterWaitGone waits until none of pids is alive and returns how long
// that took, or the survivors.
func masterWaitGone(pids []int, d time.Duration) (time.Duration, []int) {
	start := time.Now()
	for {
		var alive []int
		for _, p := range pids {
			if masterAlive(p) {
				alive = append(alive, p)
			}
		}
		if len(alive) == 0 {
			return time.Since(start), nil
		}
		if time.Since(start) > d {
			return time.Since(start), alive
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// masterReadyRE matches a worker's "ready" log line (not "already").
var masterReadyRE = regexp.MustCompile(`(?i)\bready\b`)

// masterStatusIDs returns the fields of a Uid:, Gid: or Groups: line of
// /proc/PID/status.
func masterStatusIDs(pid int, key string) []string {
	b, _ := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, key+":") {
			return strings.Fields(strings.TrimPrefix(l, key+":"))
		}
	}
	return nil
}

// masterReloadUnderLoad sends the master SIGHUP four times, 600 ms apart,
// while 16 clients send GETs and 2 KB POSTs to url (see masterLoad), and
// fails the test if one request fails, or if the two workers of the last
// reload serve none of them.
func masterReloadUnderLoad(t *testing.T, s *server, stats, url, what string) {
	t.Helper()
	old := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	load := masterStartLoadBody(url, bytes.Repeat([]byte("x"), 2000), 16, 0, 20*time.Second, 0)
	for i := 0; i < 4; i++ {
		time.Sleep(600 * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGHUP)
	}
	fresh := masterWaitWorkers(t, stats, 2, 10*time.Second, masterDisjoint(old))
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if seen := load.pids(); seen[fresh[0]] > 0 && seen[fresh[1]] > 0 {
			break
		}
	}
	load.Stop().report(t, what+", 4 reloads", 0)
	if seen := load.pids(); seen[fresh[0]] == 0 || seen[fresh[1]] == 0 {
		t.Errorf("the workers %v of the last reload served none of the requests (pids seen %v)", fresh, seen)
	}
}
