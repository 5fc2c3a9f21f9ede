package tests

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// --cheaper scales the workers with the load, as uWSGI's cheaper
// subsystem does (an existing uwsgi.ini with cheaper = N runs unchanged):
// it starts with cheaper-initial workers, adds one when every worker has
// been busy for cheaper-overload seconds, never runs more than
// --processes, and stops them one at a time when the load falls, without
// failing a request.
func TestMasterCheaper(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_sleep", "--processes", "3", "--cheaper", "1", "--cheaper-overload", "1")
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	if want := "starting 1 worker x 1 thread for module wsgi (cheaper, spare: 1 to 3 as the load asks)"; !strings.Contains(s.Log(), want) {
		t.Errorf("want %q in the log", want)
	}
	time.Sleep(2 * time.Second) // idle, it stays at one
	masterWaitWorkers(t, stats, 1, time.Second, nil)
	// The slots it does not run are listed as uWSGI lists them.
	var cheap []int
	for _, w := range masterStats(t, stats).Workers {
		if w.Status == "cheap" && w.Pid == 0 {
			cheap = append(cheap, w.ID)
		}
	}
	if slices.Sort(cheap); !slices.Equal(cheap, []int{2, 3}) {
		t.Errorf("stats list workers %v as cheap, want 2 and 3", cheap)
	}

	// Requests of 0.2 s coming 20 a second, each on a new connection (a
	// kept-alive one stays with its worker), whatever the answers: four
	// workers' worth, so every worker is busy however many there are.
	load := openLoad(s.URL("/stuck?s=0.2"), 50*time.Millisecond)
	at := time.Now()
	masterWaitWorkers(t, stats, 3, 30*time.Second, nil)
	t.Logf("3 workers %v after the load began", time.Since(at).Round(time.Millisecond))
	time.Sleep(3 * time.Second) // busy still: never a fourth
	masterWaitWorkers(t, stats, 3, time.Second, nil)
	if strings.Contains(s.Log(), "workers=4") {
		t.Error("a fourth worker, past --processes 3")
	}
	if ok, failed := load.stop(); failed > 0 || ok == 0 {
		t.Errorf("busy clients: %d ok, %d failed", ok, failed)
	}

	// The load falls to a light client: the workers go one at a time,
	// down to --cheaper, and the client loses nothing meanwhile.
	light := masterStartLoadPaced(s.URL("/"), 2, 0, 30*time.Second, 50*time.Millisecond)
	at = time.Now()
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	t.Logf("1 worker %v after the load fell", time.Since(at).Round(time.Millisecond))
	time.Sleep(2 * time.Second) // and stays there
	masterWaitWorkers(t, stats, 1, time.Second, nil)
	light.Stop().report(t, "a light client while workers were stopped", 0)
	if n := strings.Count(s.Log(), "one worker fewer"); n != 2 {
		t.Errorf("%d workers stopped, want 2", n)
	}
}

// The worker of a slot cheaper gives up stops once its requests are
// done, as uWSGI's cheaper stops only an idle worker: a long request on it
// (an export, a report) is not cut at the end of --worker-reload-mercy.
// Meanwhile it takes no new connection, over TCP (steered) nor on a unix
// socket that every worker shares.
func TestMasterCheaperStopsIdleWorker(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "http.sock")
	s, stats := masterStartStats(t, "master_sleep", "--processes", "2", "--cheaper", "1", "--cheaper-initial", "2",
		"--threads", "4", "--cheaper-overload", "1", "--worker-reload-mercy", "2", "--http", sock)
	pids := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	// A request of 6 s on worker 2, and no load on worker 1: new
	// connections go to either worker at random, so each asks first which
	// worker it reached and sends the long request only where that is
	// worker 2 (a kept-alive connection stays with its worker). (Sending
	// long requests until one reached worker 2 filled worker 1's threads
	// now and then, and cheaper rightly started worker 2 again.)
	type result struct {
		code int
		body string
		err  error
	}
	long := make(chan result, 1)
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	onTwo := false
	for try := 0; try < 64 && !onTwo; try++ {
		conn, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(30 * time.Second))
		br := bufio.NewReader(conn)
		ask := func(target string) (int, string, error) {
			if _, err := fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: t\r\n\r\n", target); err != nil {
				return 0, "", err
			}
			return masterRead(http.ReadResponse(br, nil))
		}
		code, body, err := ask("/")
		if err != nil || code != 200 {
			t.Fatalf("which worker: %d %q %v", code, body, err)
		}
		if onTwo = body == fmt.Sprintf("pid=%d", pids[1]); !onTwo {
			conn.Close()
			continue
		}
		go func() {
			defer conn.Close()
			code, body, err := ask("/stuck?s=6")
			long <- result{code, body, err}
		}()
	}
	if !onTwo {
		t.Fatal("no connection of 64 reached worker 2")
	}
	if !s.waitLog("one worker fewer; it stops once its requests are done", 10*time.Second) {
		t.Fatal("cheaper did not give up the second slot")
	}
	time.Sleep(1500 * time.Millisecond) // its socket's queue taken, it takes no more
	unix := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true,
		DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, "unix", sock)
		}}}
	for i := range 20 {
		for name, cl := range map[string]*http.Client{"tcp": c, "unix": unix} {
			code, body, err := masterGet(cl, s.URL("/"))
			if err != nil || code != 200 || body != fmt.Sprintf("pid=%d", pids[0]) {
				t.Errorf("%s request %d after the slot was given up: %d %q %v, want worker 1 (pid %d)", name, i, code, body, err, pids[0])
			}
		}
	}
	if got := <-long; got.err != nil || got.code != 200 || got.body != "woke up" {
		t.Errorf("the long request: %d %q %v, want it answered", got.code, got.body, got.err)
	}
	masterWaitWorkers(t, stats, 1, 10*time.Second, nil)
	if strings.Contains(s.Log(), "cut short") {
		t.Error("a request was cut short")
	}
}

// SIGTTIN and SIGTTOU keep to cheaper's bounds: no more than --processes,
// no fewer than --cheaper.
func TestMasterCheaperSignalsKeepBounds(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_sleep", "--processes", "2", "--cheaper", "1", "--cheaper-overload", "30")
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	s.cmd.Process.Signal(syscall.SIGTTOU)
	if !s.waitLog("SIGTTOU: already at --cheaper 1", 5*time.Second) {
		t.Error("SIGTTOU went below --cheaper")
	}
	s.cmd.Process.Signal(syscall.SIGTTIN)
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	s.cmd.Process.Signal(syscall.SIGTTIN)
	if !s.waitLog("SIGTTIN: already at --processes 2", 5*time.Second) {
		t.Error("SIGTTIN went past --processes")
	}
	masterWaitWorkers(t, stats, 2, 5*time.Second, nil)
}

// While a worker cheaper added is starting (importing the app), cheaper
// adds no other: that one is capacity on its way. Each second's look
// added one more, up to --processes, for a load two workers carry.
func TestMasterCheaperWaitsForStartingWorker(t *testing.T) {
	t.Parallel()
	stats := freeAddr(t)
	s := startAppEnv(t, []string{"IMPORT_SLEEP=3"}, "master_sleep", "--stats", stats, "--processes", "4",
		"--cheaper", "1", "--cheaper-overload", "1")
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	// Requests of 0.2 s, 6 a second: 1.2 workers' worth.
	load := openLoad(s.URL("/stuck?s=0.2"), time.Second/6)
	defer load.stop()
	if !s.waitLog("1 worker more", 15*time.Second) {
		t.Fatal("no worker added for 1.2 workers' worth")
	}
	// From the first add to worker 2's ready line, none other.
	var lines []string
	added, ready := -1, -1
	for deadline := time.Now().Add(10 * time.Second); ready < 0 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		lines = strings.Split(s.Log(), "\n")
		for i, l := range lines {
			if added < 0 && strings.Contains(l, "1 worker more") {
				added = i
			}
			if strings.Contains(l, "carafe: worker 2 (pid") && strings.Contains(l, ") ready: ") {
				ready = i
			}
		}
	}
	if ready < added {
		t.Fatal("worker 2 did not start")
	}
	for _, l := range lines[added+1 : ready] {
		if strings.Contains(l, "worker more") {
			t.Errorf("a worker added while worker 2 imported the app: %s", l)
		}
	}
}

// openLoadRun is a load that openLoad starts.
type openLoadRun struct {
	done       chan struct{}
	wg         sync.WaitGroup
	ok, failed atomic.Int64
}

// openLoad sends a GET to url every interval, each on a new connection (a
// kept-alive one stays with its worker), whatever the answers (an open
// loop, as a site's visitors come), until stop, which waits for the
// answers and counts them.
func openLoad(url string, interval time.Duration) *openLoadRun {
	l := &openLoadRun{done: make(chan struct{})}
	c := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	l.wg.Add(1)
	go func() {
		defer l.wg.Done()
		tick := time.NewTicker(interval)
		defer tick.Stop()
		for {
			select {
			case <-l.done:
				return
			case <-tick.C:
			}
			l.wg.Add(1)
			go func() {
				defer l.wg.Done()
				if code, _, err := masterGet(c, url); err == nil && code == 200 {
					l.ok.Add(1)
				} else {
					l.failed.Add(1)
				}
			}()
		}
	}()
	return l
}

func (l *openLoadRun) stop() (ok, failed int64) {
	select {
	case <-l.done:
	default:
		close(l.done)
	}
	l.wg.Wait()
	return l.ok.Load(), l.failed.Load()
}

// A reload applies an edited cheaper family, as uWSGI's reload does, while
// cheaper stays on: a higher minimum starts the workers it asks for once
// the reload is complete, and the workers do not say the change was left
// out. A reload that fails (a broken deploy) applies none of it, and
// completes (it once waited for good on a new slot's crash loop); nor
// does a later reload that turns cheaper off (it once applied the failed
// reload's values then).
func TestMasterCheaperReloadApplies(t *testing.T) {
	t.Parallel()
	addr, stats := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	ini := filepath.Join(dir, "site.ini")
	write := func(cheaper int) {
		text := fmt.Sprintf("[uwsgi]\nhttp = %s\nstats = %s\nprocesses = 3\ncheaper = %d\nchdir = %s\nmodule = wsgi\n",
			addr, stats, cheaper, dir)
		if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	app, err := os.ReadFile(filepath.Join(appDir("master_sleep"), "wsgi.py"))
	if err != nil {
		t.Fatal(err)
	}
	deploy := func(code []byte) {
		if err := os.WriteFile(filepath.Join(dir, "wsgi.py"), code, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	deploy(app)
	write(1)
	s := launch(t, addr, "--ini", ini)
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)

	// A broken deploy with cheaper raised: the reload fails, and the
	// workers stay as they were, one.
	deploy([]byte("raise RuntimeError('broken deploy')\n"))
	write(2)
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("reload failed", 15*time.Second) {
		t.Fatalf("the broken reload did not end:\n%s", s.Log())
	}
	time.Sleep(time.Second)
	masterWaitWorkers(t, stats, 1, time.Second, nil)
	if strings.Contains(s.Log(), "the reload applies") {
		t.Errorf("a failed reload applied cheaper's change:\n%s", s.Log())
	}

	// Fixed, and cheaper turned off, which a reload does not apply:
	// nothing of the failed reload's comes back either.
	deploy(app)
	write(0)
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("reload complete", 15*time.Second) {
		t.Fatalf("the fixed reload did not complete:\n%s", s.Log())
	}
	time.Sleep(time.Second)
	masterWaitWorkers(t, stats, 1, time.Second, nil)
	if strings.Contains(s.Log(), "the reload applies") {
		t.Errorf("a reload applied a failed reload's cheaper:\n%s", s.Log())
	}
	if !strings.Contains(s.Log(), "cheaper is turned on or off in the config; a reload does not apply it") {
		t.Errorf("no word that cheaper turned off is not applied:\n%s", s.Log())
	}

	// Raised again: the reload applies it.
	write(2)
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("the reload applies cheaper 2 (was 1)", 15*time.Second) {
		t.Errorf("no word that the reload applies cheaper 2:\n%s", s.Log())
	}
	pids := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	// The new minimum holds: the master refuses to go below it.
	s.cmd.Process.Signal(syscall.SIGTTOU)
	if !s.waitLog("already at --cheaper 2, the fewest it runs", 5*time.Second) {
		t.Errorf("SIGTTOU after the reload: no word that 2 is the fewest:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "changed in the config") {
		t.Errorf("a worker says the change was not applied:\n%s", s.Log())
	}
	// The slot the reload added takes connections: new ones reach both.
	seen := map[string]bool{}
	for range 40 {
		if _, body, err := masterGet(masterClient(false, 5*time.Second), s.URL("/")); err == nil {
			seen[body] = true
		}
	}
	for _, pid := range pids {
		if !seen[fmt.Sprintf("pid=%d", pid)] {
			t.Errorf("worker pid %d answered none of 40 new connections (answers: %v)", pid, seen)
		}
	}
}
