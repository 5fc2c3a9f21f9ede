package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// masterDisjoint is a masterWaitWorkers condition: no pid is in old.
func masterDisjoint(old []int) func([]int) bool {
	return func(pids []int) bool {
		for _, p := range pids {
			for _, o := range old {
				if p == o {
					return false
				}
			}
		}
		return true
	}
}

// masterFirstLine is the smallest masterLogLine index over pids (-1 if none).
func masterFirstLine(log string, pids []int, word string) int {
	first := -1
	for _, p := range pids {
		if i := masterLogLine(log, p, word); i >= 0 && (first < 0 || i < first) {
			first = i
		}
	}
	return first
}

type masterResult struct {
	code int
	body string
	err  error
	took time.Duration
}

// masterGetAsync runs one GET on a fresh connection in the background.
func masterGetAsync(url string, timeout time.Duration) <-chan masterResult {
	ch := make(chan masterResult, 1)
	go func() {
		start := time.Now()
		code, body, err := masterGet(masterClient(false, timeout), url)
		ch <- masterResult{code, body, err, time.Since(start)}
	}()
	return ch
}

// SIGHUP under continuous load: new workers (with the re-imported app) take
// over, old ones finish what they run; zero failed requests.
func TestMasterSIGHUPReload(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "2", "--threads", "4",
		"--env", "MASTER_VERSION_FILE="+vf)
	old := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	master := s.cmd.Process.Pid

	load := masterStartLoad(s.URL("/"), 4, 0, 20*time.Second)
	time.Sleep(1 * time.Second)
	slow := masterGetAsync(s.URL("/sleep?s=2"), 15*time.Second)
	time.Sleep(500 * time.Millisecond)
	if err := os.WriteFile(vf, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	hup := time.Now()
	s.cmd.Process.Signal(syscall.SIGHUP)
	fresh := masterWaitWorkers(t, stats, 2, 15*time.Second, masterDisjoint(old))
	took := time.Since(hup)
	time.Sleep(1500 * time.Millisecond)
	load.Stop()

	t.Logf("SIGHUP: old workers %v replaced by %v, all serving after %v", old, fresh, took.Round(time.Millisecond))
	load.report(t, "client loop around SIGHUP", 0)
	t.Logf("bodies seen: %v", load.bodies)

	r := <-slow
	t.Logf("request in flight at SIGHUP: %d %q %v after %v", r.code, r.body, r.err, r.took.Round(time.Millisecond))
	if r.err != nil || r.code != 200 || !strings.HasPrefix(r.body, "v=one ") {
		t.Errorf("the request in flight at SIGHUP got %d %q %v, want 200 from the old code", r.code, r.body, r.err)
	}
	c := masterClient(false, 10*time.Second)
	for i := 0; i < 6; i++ {
		code, body, err := masterGet(c, s.URL("/"))
		if err != nil || code != 200 || !strings.HasPrefix(body, "v=two ") {
			t.Errorf("after reload: %d %q %v, want the re-imported app's v=two", code, body, err)
		}
	}
	if gone, alive := masterWaitGone(old, 10*time.Second); len(alive) > 0 {
		t.Errorf("old workers %v still alive %v after SIGHUP", alive, gone)
	}
	if !masterAlive(master) || masterStats(t, stats).Pid != master {
		t.Errorf("the master changed or died on SIGHUP")
	}
	log := s.Log()
	ready, exited := masterFirstLine(log, fresh, "ready"), masterFirstLine(log, old, "exit")
	switch {
	case ready < 0 || exited < 0:
		t.Logf("could not find the new workers' ready line (%d) or the old ones' exit line (%d) to check their order", ready, exited)
	case exited < ready:
		t.Errorf("an old worker exited before any new one was ready")
	}
}

// SIGHUP again and again under 16 clients on the HTTP socket, GETs and
// small POSTs, kept alive or not (see masterReloadUnderLoad): not one
// request fails.
func TestMasterRepeatedSIGHUPUnderLoad(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_body", "--processes", "2", "--threads", "4")
	masterReloadUnderLoad(t, s, stats, s.URL("/"), "HTTP")
}

// During a SIGTERM's drain the stats list a worker that has left as
// "stopped": "respawning", with pid 0, read as a crash loop to a monitor.
func TestMasterStatsDuringStopSayStopped(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_pid", "--processes", "2")
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	slow := masterGetAsync(s.URL("/sleep?s=3"), 20*time.Second)
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	var seen []string
	stopped := false
	for end := time.Now().Add(2 * time.Second); !stopped && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		doc, err := masterReadStats(stats)
		if err != nil {
			continue
		}
		for _, w := range doc.Workers {
			seen = append(seen, w.Status)
			stopped = stopped || w.Pid == 0 && w.Status == "stopped"
		}
	}
	if !stopped || slices.Contains(seen, "respawning") {
		t.Errorf("stats during the drain said %q: want the worker that left \"stopped\", none \"respawning\"", seen)
	}
	if r := <-slow; r.code != 200 {
		t.Errorf("the request in flight: %d %v, want 200", r.code, r.err)
	}
}

// SIGTERM: the request in flight completes, then the master exits 0.
func TestMasterSIGTERMDrains(t *testing.T) {
	t.Parallel()
	s := startApp(t, "master_pid", "--processes", "2", "--threads", "2")
	masterWaitChildren(t, s.cmd.Process.Pid, 2, 20*time.Second)
	if code, _, err := masterGet(masterClient(false, 10*time.Second), s.URL("/")); err != nil || code != 200 {
		t.Fatalf("warm-up: %d %v", code, err)
	}
	slow := masterGetAsync(s.URL("/sleep?s=3"), 15*time.Second)
	time.Sleep(300 * time.Millisecond)
	term := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)

	time.Sleep(200 * time.Millisecond)
	late := masterGetAsync(s.URL("/"), 10*time.Second)

	r := <-slow
	code, ok := s.wait(15 * time.Second)
	if !ok {
		t.Fatal("master still running 15s after SIGTERM")
	}
	exit := time.Since(term)
	l := <-late
	t.Logf("SIGTERM with a 3 s request in flight: it got %d %q %v; exit %d after %v; a request sent 200ms after TERM got %d %q %v after %v",
		r.code, r.body, r.err, code, exit.Round(time.Millisecond), l.code, l.body, l.err, l.took.Round(time.Millisecond))
	if r.err != nil || r.code != 200 {
		t.Errorf("the request in flight at SIGTERM failed: %d %v", r.code, r.err)
	}
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if exit < 2500*time.Millisecond {
		t.Errorf("exited %v after SIGTERM, before the in-flight request could finish", exit)
	}
	// Nobody accepts once SIGTERM is in: a new connection must be refused
	// at once, not queue on the master's copy of the socket for the whole
	// drain and be reset when the master exits.
	if l.err == nil || l.took > time.Second {
		t.Errorf("a connection made during the drain got %d %v after %v, want refused at once", l.code, l.err, l.took)
	}
}

// --worker-reload-mercy bounds the SIGTERM drain.
func TestMasterSIGTERMMercy(t *testing.T) {
	t.Parallel()
	s := startApp(t, "master_pid", "--master", "--processes", "1", "--worker-reload-mercy", "1")
	kids := masterWaitChildren(t, s.cmd.Process.Pid, 1, 20*time.Second)
	masterKillLeftovers(t, kids)
	slow := masterGetAsync(s.URL("/sleep?s=20"), 25*time.Second)
	time.Sleep(500 * time.Millisecond)
	term := time.Now()
	s.cmd.Process.Signal(syscall.SIGTERM)
	code, ok := s.wait(10 * time.Second)
	took := time.Since(term)
	if !ok {
		t.Fatalf("master still running 10s after SIGTERM with --worker-reload-mercy 1")
	}
	r := <-slow
	t.Logf("SIGTERM, mercy 1s, a 20 s request in flight: exit %d after %v; the request got %d %v", code, took.Round(time.Millisecond), r.code, r.err)
	if took > 4*time.Second {
		t.Errorf("drain took %v, want about 1s (--worker-reload-mercy 1)", took)
	}
	if _, alive := masterWaitGone(kids, 3*time.Second); len(alive) > 0 {
		t.Errorf("worker %v outlived the master", alive)
	}
}

// SIGINT and SIGQUIT stop at once, without waiting for requests.
func TestMasterSIGINTQUITImmediate(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "master_pid", "--processes", "2")
			kids := masterWaitChildren(t, s.cmd.Process.Pid, 2, 20*time.Second)
			masterKillLeftovers(t, kids)
			slow := masterGetAsync(s.URL("/sleep?s=10"), 15*time.Second)
			time.Sleep(300 * time.Millisecond)
			at := time.Now()
			s.cmd.Process.Signal(sig)
			code, ok := s.wait(5 * time.Second)
			took := time.Since(at)
			if !ok {
				t.Fatalf("master still running 5s after %v", sig)
			}
			gone, alive := masterWaitGone(kids, 3*time.Second)
			r := <-slow
			t.Logf("%v with a 10 s request in flight: exit %d after %v, workers gone after %v more; the request got %d %v",
				sig, code, took.Round(time.Millisecond), gone.Round(time.Millisecond), r.code, r.err)
			if took > 3*time.Second {
				t.Errorf("%v took %v, want immediate", sig, took)
			}
			if len(alive) > 0 {
				t.Errorf("workers %v still alive after %v", alive, sig)
			}
			// The master's last line says the stop is done, as a
			// graceful stop's does.
			if want := "carafe: master: 2 workers stopped; bye"; !strings.Contains(s.Log(), want) {
				t.Errorf("no %q after %v:\n%s", want, sig, s.Log())
			}
		})
	}
}

// SIGTTIN adds a worker, SIGTTOU removes one (never the last); the client
// loop running meanwhile loses nothing.
func TestMasterTTINTTOU(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_pid", "--processes", "2")
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	load := masterStartLoad(s.URL("/"), 2, 0, 30*time.Second)
	step := func(sig syscall.Signal, want int) {
		t.Helper()
		at := time.Now()
		s.cmd.Process.Signal(sig)
		pids := masterWaitWorkers(t, stats, want, 10*time.Second, nil)
		t.Logf("%v: %d workers %v after %v", sig, want, pids, time.Since(at).Round(time.Millisecond))
	}
	step(syscall.SIGTTIN, 3)
	step(syscall.SIGTTOU, 2)
	step(syscall.SIGTTOU, 1)
	s.cmd.Process.Signal(syscall.SIGTTOU)
	time.Sleep(1500 * time.Millisecond)
	pids := masterWaitWorkers(t, stats, 1, 5*time.Second, nil)
	if kids := masterChildren(s.cmd.Process.Pid); len(kids) != 1 {
		t.Errorf("after SIGTTOU at one worker: children %v, want 1", kids)
	}
	t.Logf("SIGTTOU at one worker: still %v", pids)
	time.Sleep(300 * time.Millisecond)
	load.Stop().report(t, "client loop during SIGTTIN/SIGTTOU", 0)
}

// SIGUSR1 reopens the --logto file: after a rename, a new file with the
// old name receives the next access lines.
func TestMasterSIGUSR1ReopensLog(t *testing.T) {
	t.Parallel()
	t.Run("SIGUSR1", func(t *testing.T) {
		t.Parallel()
		masterReopenLog(t, nil, func(s *server) { s.cmd.Process.Signal(syscall.SIGUSR1) })
	})
	// --touch-logreopen FILE: the same when FILE's mtime changes (the
	// master looks once a second).
	t.Run("touch-logreopen", func(t *testing.T) {
		t.Parallel()
		touch := filepath.Join(t.TempDir(), "reopen")
		os.WriteFile(touch, nil, 0o644)
		masterReopenLog(t, []string{"--touch-logreopen", touch}, func(*server) {
			later := time.Now().Add(time.Hour)
			os.Chtimes(touch, later, later)
		})
	})
}

// masterReopenLog renames a master's --logto file, has it reopened by
// reopen, and checks that later lines go to a new file at the old name.
func masterReopenLog(t *testing.T, extra []string, reopen func(*server)) {
	dir := t.TempDir()
	logf := filepath.Join(dir, "carafe.log")
	s, stats := masterStartStats(t, "master_pid", append([]string{"--processes", "2", "--logto", logf}, extra...)...)
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	c := masterClient(false, 10*time.Second)
	fileHas := masterFileHas
	masterGet(c, s.URL("/before-usr1"))
	if !fileHas(logf, "/before-usr1", 5*time.Second) {
		b, _ := os.ReadFile(logf)
		t.Fatalf("no access line for /before-usr1 in %s:\n%s", logf, b)
	}
	if err := os.Rename(logf, logf+".1"); err != nil {
		t.Fatal(err)
	}
	reopen(s)
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if _, err := os.Stat(logf); err == nil {
			break
		}
	}
	time.Sleep(200 * time.Millisecond)
	for i := 0; i < 10; i++ {
		if code, _, err := masterGet(c, s.URL("/after-usr1-"+strconv.Itoa(i)+"-end")); err != nil || code != 200 {
			t.Errorf("GET after SIGUSR1: %d %v", code, err)
		}
	}
	for i := 0; i < 10; i++ {
		if !fileHas(logf, "/after-usr1-"+strconv.Itoa(i)+"-end", 3*time.Second) {
			b, _ := os.ReadFile(logf)
			t.Errorf("reopened %s lacks the access line for /after-usr1-%d-end:\n%s", logf, i, b)
		}
	}
	old, _ := os.ReadFile(logf + ".1")
	if strings.Contains(string(old), "/after-usr1-") {
		t.Errorf("the renamed file still receives access lines after SIGUSR1:\n%s", old)
	}
	if !strings.Contains(string(old), "/before-usr1") {
		t.Errorf("the renamed file lost its lines:\n%s", old)
	}
}

// SIGUSR2 to the master: every worker logs, in one block, which request
// each busy thread runs and the Python stack of every thread; the worker
// goes on serving (the busy request completes).
func TestMasterSIGUSR2Stacks(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_sleep", "--processes", "2", "--threads", "2")
	pids := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	slow := masterGetAsync(s.URL("/stuck?s=2"), 20*time.Second)
	victim := masterStuckWorker(t, stats, "/stuck")
	s.cmd.Process.Signal(syscall.SIGUSR2)
	head := fmt.Sprintf("carafe: SIGUSR2: worker pid %d, thread 0x", victim)
	if !s.waitLog(head, 5*time.Second) {
		t.Fatalf("no SIGUSR2 block from worker %d", victim)
	}
	s.waitLog("in stuck_view", 2*time.Second)
	log := s.Log()
	block := log[strings.Index(log, head):]
	if end := strings.Index(block[1:], "carafe: SIGUSR2:"); end >= 0 {
		block = block[:end+1] // the other worker's block, if it came after
	}
	for _, want := range []string{"GET /stuck?s=2, running", "(most recent call first):", "line 18 in stuck_view",
		"in application"} {
		if !strings.Contains(block, want) {
			t.Errorf("the busy worker's block lacks %q:\n%s", want, block)
		}
	}
	for _, p := range pids {
		// Each worker writes its block on its own time: the other's may come later.
		if !s.waitLog(fmt.Sprintf("carafe: SIGUSR2: worker pid %d,", p), 5*time.Second) {
			t.Errorf("worker %d logged no SIGUSR2 block", p)
		}
	}
	if r := <-slow; r.code != 200 || r.body != "woke up" {
		t.Errorf("the request running during the dump: %d %q %v, want it to complete", r.code, r.body, r.err)
	}
}

// A reload (SIGHUP) reopens the --logto file, as uWSGI's log-reopen: after
// a rename, the master's own lines and the new workers' go to a new file.
func TestMasterReloadReopensLog(t *testing.T) {
	t.Parallel()
	logf := filepath.Join(t.TempDir(), "carafe.log")
	s, stats := masterStartStats(t, "master_pid", "--processes", "2", "--logto", logf)
	old := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	if err := os.Rename(logf, logf+".1"); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	masterWaitWorkers(t, stats, 2, 20*time.Second, masterDisjoint(old))
	c := masterClient(false, 10*time.Second)
	masterGet(c, s.URL("/after-reload-end"))
	for _, want := range []string{"SIGHUP, reloading workers gracefully", "/after-reload-end"} {
		if !masterFileHas(logf, want, 5*time.Second) {
			b, _ := os.ReadFile(logf)
			t.Errorf("the reopened log lacks %q:\n%s", want, b)
		}
	}
	if b, _ := os.ReadFile(logf + ".1"); strings.Contains(string(b), "reloading workers") {
		t.Errorf("the master still writes to the renamed log after SIGHUP:\n%s", b)
	}
}

// --touch-reload FILE: changing FILE's mtime reloads like SIGHUP.
func TestMasterTouchReload(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	touch := filepath.Join(t.TempDir(), "reload.trigger")
	if err := os.WriteFile(touch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, stats := masterStartStats(t, "master_reload", "--processes", "2",
		"--env", "MASTER_VERSION_FILE="+vf, "--touch-reload", touch)
	old := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	load := masterStartLoad(s.URL("/"), 2, 0, 30*time.Second)
	time.Sleep(500 * time.Millisecond)
	if err := os.WriteFile(vf, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	at := time.Now()
	future := at.Add(5 * time.Second)
	if err := os.Chtimes(touch, future, future); err != nil {
		t.Fatal(err)
	}
	fresh := masterWaitWorkers(t, stats, 2, 15*time.Second, masterDisjoint(old))
	t.Logf("touch-reload: workers %v replaced by %v after %v", old, fresh, time.Since(at).Round(time.Millisecond))
	code, body, err := masterGet(masterClient(false, 10*time.Second), s.URL("/"))
	if err != nil || code != 200 || !strings.HasPrefix(body, "v=two ") {
		t.Errorf("after touch-reload: %d %q %v, want v=two", code, body, err)
	}
	time.Sleep(500 * time.Millisecond)
	load.Stop().report(t, "client loop around touch-reload", 0)
}

// Relative file options are taken as uWSGI takes them: the files it opens
// or looks at after changing directory (the touch files, --pidfile2, the
// logger's and req-logger's files) from --chdir, --pidfile from where
// carafe started. A uwsgi.ini with `chdir = /srv/app` and `touch-reload =
// reload.txt` reloads on /srv/app/reload.txt.
func TestMasterRelativeFilesInChdir(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src, err := os.ReadFile(filepath.Join(appDir("master_reload"), "wsgi.py"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "wsgi.py"), src, 0o644); err != nil {
		t.Fatal(err)
	}
	touch := filepath.Join(dir, "reload.txt")
	if err := os.WriteFile(touch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--chdir", dir, "--processes", "1",
		"--env", "MASTER_VERSION_FILE="+vf, "--touch-reload", "reload.txt", "--pidfile2", "p2.pid",
		"--req-logger", "file:req.log")
	old := masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	if code, body, err := masterGet(masterClient(false, 10*time.Second), s.URL("/")); err != nil || code != 200 {
		t.Fatalf("first request: %d %q %v", code, body, err)
	}
	for _, name := range []string{"p2.pid", "req.log"} {
		if _, ok := wsgiWaitFile(filepath.Join(dir, name), 5*time.Second); !ok {
			t.Errorf("%s is not in --chdir %s", name, dir)
		}
	}
	if err := os.WriteFile(vf, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	future := time.Now().Add(5 * time.Second)
	if err := os.Chtimes(touch, future, future); err != nil {
		t.Fatal(err)
	}
	masterWaitWorkers(t, stats, 1, 15*time.Second, masterDisjoint(old))
	code, body, err := masterGet(masterClient(false, 10*time.Second), s.URL("/"))
	if err != nil || code != 200 || !strings.HasPrefix(body, "v=two ") {
		t.Errorf("after touching reload.txt in --chdir: %d %q %v, want v=two", code, body, err)
	}
}

// masterFileHas waits up to d for the file at path to contain want.
func masterFileHas(path, want string, d time.Duration) bool {
	for deadline := time.Now().Add(d); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(path); strings.Contains(string(b), want) {
			return true
		}
		if time.Now().After(deadline) {
			return false
		}
	}
}

// SIGUSR1 that arrives while a worker is still starting (here: right after
// SIGTTIN) must not be lost: that worker's access lines go to the new file
// too, as log rotation can come at any moment, respawns included.
func TestMasterSIGUSR1DuringWorkerStart(t *testing.T) {
	t.Parallel()
	logf := filepath.Join(t.TempDir(), "carafe.log")
	s, stats := masterStartStats(t, "master_pid", "--processes", "2", "--logto", logf)
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	// The new worker opens the log file by name as it starts, then spends
	// tens of milliseconds starting Python: rotate the file in between.
	s.cmd.Process.Signal(syscall.SIGTTIN)
	time.Sleep(20 * time.Millisecond)
	if err := os.Rename(logf, logf+".1"); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGUSR1)
	pids := masterWaitWorkers(t, stats, 3, 20*time.Second, nil)
	time.Sleep(200 * time.Millisecond)
	// Fresh connections until every worker has answered (bounded).
	c := masterClient(false, 10*time.Second)
	seen := map[int]bool{}
	servedBy := map[string]int{}
	var paths []string
	for i := 0; i < 300 && len(seen) < 3; i++ {
		p := "/usr1-start-" + strconv.Itoa(i) + "-end"
		code, body, err := masterGet(c, s.URL(p))
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %v", p, code, err)
		}
		seen[masterPidOf(body)] = true
		paths = append(paths, p)
		servedBy[p] = masterPidOf(body)
	}
	t.Logf("workers %v; %d requests reached %d of them", pids, len(paths), len(seen))
	var missing []string
	lost := map[int]bool{}
	for _, p := range paths {
		if !masterFileHas(logf, p+" ", time.Second) {
			missing = append(missing, p)
			lost[servedBy[p]] = true
		}
	}
	if len(missing) > 0 {
		old, _ := os.ReadFile(logf + ".1")
		t.Errorf("%d of %d access lines after SIGUSR1 are not in the reopened file (%d are in the renamed one); they were served by %v, the worker SIGTTIN added is %d",
			len(missing), len(paths), strings.Count(string(old), "/usr1-start-"), lost, pids[len(pids)-1])
	}
}

// bothModes runs a test with carafe standalone and under a master.
var bothModes = []struct {
	name  string
	extra []string
}{
	{"standalone", nil},
	{"master", []string{"--processes", "2"}},
}

// --log-maxsize: once the --logto file reaches the size it is renamed to
// FILE.<unix time> and a new FILE takes the next lines. Every access line
// lands in exactly one file, with a master (which rotates for its workers)
// and without one (the worker rotates itself).
func TestLogMaxsizeRotates(t *testing.T) {
	for _, mode := range bothModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			const max, n = 3000, 150 // about 11 KB of access lines: three rotations or more
			logf := filepath.Join(t.TempDir(), "carafe.log")
			s := startApp(t, "master_pid", append([]string{"--logto", logf,
				"--log-maxsize", strconv.Itoa(max)}, mode.extra...)...)
			c := masterClient(false, 10*time.Second)
			for i := range n { // paced over about three seconds, so several checks see the file grow
				if code, _, err := masterGet(c, s.URL(fmt.Sprintf("/line-%03d-end", i))); err != nil || code != 200 {
					t.Fatalf("GET %d: %d %v", i, code, err)
				}
				time.Sleep(20 * time.Millisecond)
			}
			time.Sleep(1500 * time.Millisecond) // the last lines flushed, the last check done
			rotated, _ := filepath.Glob(logf + ".*")
			if len(rotated) < 2 {
				t.Fatalf("%d rotated files (%v) for ~11 KB of lines at --log-maxsize %d, want 2 or more", len(rotated), rotated, max)
			}
			all := ""
			for _, f := range rotated {
				if !regexp.MustCompile(`\.log\.\d{10}(\.\d+)?$`).MatchString(f) {
					t.Errorf("rotated file %s: want FILE.<unix time>", f)
				}
				if fi, err := os.Stat(f); err != nil || fi.Size() < max {
					t.Errorf("rotated file %s: %v %v, want at least %d bytes", f, fi, err, max)
				}
				b, _ := os.ReadFile(f)
				all += string(b)
			}
			b, err := os.ReadFile(logf)
			if err != nil {
				t.Fatalf("the live log after rotation: %v", err)
			}
			all += string(b)
			for i := range n {
				if k := strings.Count(all, fmt.Sprintf("/line-%03d-end", i)); k != 1 {
					t.Errorf("access line %d is in the logs %d times, want once", i, k)
				}
			}
			if !strings.Contains(all, "log rotated (--log-maxsize)") {
				t.Errorf("no line says the log was rotated")
			}
			t.Logf("%d rotations at %d bytes; live log %d bytes", len(rotated), max, len(b))
		})
	}
	// --log-backupname: one fixed name, replaced at each rotation.
	t.Run("backupname", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		logf, old := filepath.Join(dir, "carafe.log"), filepath.Join(dir, "carafe.old")
		s := startApp(t, "master_pid", "--logto", logf, "--log-maxsize", "1000", "--log-backupname", old)
		c := masterClient(false, 10*time.Second)
		for i := range 40 {
			masterGet(c, s.URL(fmt.Sprintf("/b-%03d", i)))
			time.Sleep(20 * time.Millisecond)
		}
		if !masterFileHas(old, "/b-", 3*time.Second) {
			t.Fatalf("%s has no access lines after ~3 KB at --log-maxsize 1000", old)
		}
		if stamped, _ := filepath.Glob(logf + ".*"); len(stamped) != 0 {
			t.Errorf("with --log-backupname, rotated files %v appeared", stamped)
		}
	})
}

// --req-logger file:FILE (with --logger file:FILE for the rest, uWSGI's
// split logs): request lines go to their own file and nowhere else, the
// master's and workers' own lines to the other; SIGUSR1 reopens both.
func TestReqLoggerSplitLogs(t *testing.T) {
	for _, mode := range bothModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			main, access := filepath.Join(dir, "app.log"), filepath.Join(dir, "access.log")
			s := startApp(t, "master_pid", append([]string{"--logger", "file:" + main, "--req-logger", "file:" + access},
				mode.extra...)...)
			c := masterClient(false, 10*time.Second)
			masterGet(c, s.URL("/first-request-end"))
			if !masterFileHas(access, "/first-request-end", 5*time.Second) {
				b, _ := os.ReadFile(access)
				t.Fatalf("no request line in %s:\n%s", access, b)
			}
			if b, _ := os.ReadFile(main); !strings.Contains(string(b), "carafe: ") || strings.Contains(string(b), "/first-request-end") {
				t.Errorf("%s should hold carafe's own lines and no request line:\n%s", main, b)
			}
			if err := os.Rename(access, access+".1"); err != nil {
				t.Fatal(err)
			}
			s.cmd.Process.Signal(syscall.SIGUSR1)
			time.Sleep(300 * time.Millisecond)
			for i := range 4 {
				masterGet(c, s.URL(fmt.Sprintf("/after-usr1-%d-end", i)))
			}
			for i := range 4 {
				if !masterFileHas(access, fmt.Sprintf("/after-usr1-%d-end", i), 3*time.Second) {
					b, _ := os.ReadFile(access)
					t.Errorf("the reopened request log lacks /after-usr1-%d-end:\n%s", i, b)
				}
			}
			if b, _ := os.ReadFile(access + ".1"); !strings.Contains(string(b), "/first-request-end") ||
				strings.Contains(string(b), "/after-usr1-") {
				t.Errorf("the renamed request log:\n%s", b)
			}
		})
	}
	// A request log that cannot be opened stops carafe at start, once,
	// with the reason: no worker restart loop.
	t.Run("cannot open", func(t *testing.T) {
		t.Parallel()
		s := startNoWait(t, "--chdir", appDir("master_pid"), "--module", "wsgi", "--processes", "2",
			"--req-logger", "file:/nonexistent-carafe-dir/access.log")
		code, exited := s.wait(20 * time.Second)
		const want = "--req-logger: open /nonexistent-carafe-dir/access.log: no such file or directory"
		if !exited || code != 1 || !strings.Contains(s.Log(), want) {
			t.Errorf("exited %v with %d, want 1 and %q:\n%s", exited, code, want, s.Log())
		}
	})
}

// Relative paths of the files carafe opens itself are taken from where it
// was started, not from --chdir: a worker reopening the log after SIGUSR1
// (it has changed directory, its master has not) reopens the same file.
// Relative unix sockets are taken from --chdir, as uWSGI binds them after
// changing directory, by a standalone worker as by a master.
func TestRelativePathsFromStartDir(t *testing.T) {
	t.Run("master log reopen", func(t *testing.T) {
		t.Parallel()
		start := t.TempDir()
		addr, stats := freeAddr(t), freeAddr(t)
		s := launchIn(t, start, nil, addr, "--http", addr, "--chdir", appDir("master_pid"), "--module", "wsgi",
			"--processes", "2", "--stats", stats, "--logto", "carafe.log")
		s.waitReady(20 * time.Second)
		masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
		logf := filepath.Join(start, "carafe.log")
		if err := os.Rename(logf, logf+".1"); err != nil {
			t.Fatal(err)
		}
		s.cmd.Process.Signal(syscall.SIGUSR1)
		time.Sleep(300 * time.Millisecond)
		c := masterClient(false, 10*time.Second)
		for i := range 4 {
			masterGet(c, s.URL(fmt.Sprintf("/after-usr1-%d-end", i)))
		}
		for i := range 4 {
			if !masterFileHas(logf, fmt.Sprintf("/after-usr1-%d-end", i), 3*time.Second) {
				b, _ := os.ReadFile(logf)
				t.Errorf("%s lacks /after-usr1-%d-end:\n%s", logf, i, b)
			}
		}
		if _, err := os.Stat(filepath.Join(appDir("master_pid"), "carafe.log")); err == nil {
			os.Remove(filepath.Join(appDir("master_pid"), "carafe.log"))
			t.Error("a worker reopened the log relative to --chdir")
		}
	})
	for _, mode := range []struct {
		name  string
		extra []string
	}{{"standalone socket", nil}, {"master socket", []string{"--processes", "2"}}} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			start, chdir := t.TempDir(), t.TempDir()
			addr := freeAddr(t)
			s := launchIn(t, start, nil, addr, append([]string{"--http", addr, "--chdir", chdir,
				"--pythonpath", appDir("uwsgi_echo"), "--module", "wsgi", "--socket", "app.sock", "--vacuum"},
				mode.extra...)...)
			s.waitReady(20 * time.Second)
			if _, err := os.Stat(filepath.Join(chdir, "app.sock")); err != nil {
				t.Errorf("the socket is not in the --chdir directory: %v", err)
			}
			if _, err := os.Stat(filepath.Join(start, "app.sock")); err == nil {
				t.Error("the socket was bound in the start directory")
			}
		})
	}
}

// Type=notify: with $NOTIFY_SOCKET set, carafe tells systemd READY=1 once
// its workers serve, RELOADING=1 then READY=1 around a SIGHUP reload, and
// STOPPING=1 on SIGTERM; a worker running without a master says READY=1
// and STOPPING=1 itself. Nothing is sent before the workers are ready.
func TestSystemdNotify(t *testing.T) {
	for _, mode := range []struct {
		name  string
		extra []string
		want  []string // the states, in order, each as a prefix
	}{
		{"master", []string{"--processes", "2"}, []string{"READY=1\nSTATUS=2 workers ready", "RELOADING=1\nMONOTONIC_USEC=",
			"READY=1\nSTATUS=reload complete", "STOPPING=1"}},
		{"standalone", nil, []string{"READY=1\nSTATUS=Python ", "STOPPING=1"}},
	} {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			path, got, next := notifyListener(t)
			addr := freeAddr(t)
			s := launchEnv(t, []string{"NOTIFY_SOCKET=" + path}, addr, append([]string{"--http", addr,
				"--chdir", appDir("master_pid"), "--module", "wsgi"}, mode.extra...)...)
			next(mode.want[0])
			if code, _, err := masterGet(masterClient(false, 5*time.Second), s.URL("/")); err != nil || code != 200 {
				t.Errorf("not serving after READY=1: %d %v", code, err)
			}
			if len(mode.want) > 2 {
				s.cmd.Process.Signal(syscall.SIGHUP)
				next(mode.want[1])
				next(mode.want[2])
			}
			s.cmd.Process.Signal(syscall.SIGTERM)
			next(mode.want[len(mode.want)-1])
			s.wait(20 * time.Second)
			select {
			case extra, ok := <-got:
				if ok {
					t.Errorf("systemd also got %q (a worker reporting?)", extra)
				}
			case <-time.After(200 * time.Millisecond):
			}
		})
	}
}

// notifyListener stands in for systemd's notify socket: it returns the
// socket's path, the states carafe sends, and next, which fails the test
// unless the next state begins with want.
func notifyListener(t *testing.T) (string, chan string, func(want string)) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	got := make(chan string, 16)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := l.Read(buf)
			if err != nil {
				close(got)
				return
			}
			got <- string(buf[:n])
		}
	}()
	next := func(want string) {
		t.Helper()
		select {
		case s := <-got:
			if !strings.HasPrefix(s, want) {
				t.Fatalf("systemd got %q, want %q first", s, want)
			}
		case <-time.After(20 * time.Second):
			t.Fatalf("systemd got nothing, want %q", want)
		}
	}
	return path, got, next
}

// A reload refused for a mistake in the ini still tells systemd that a
// reload began and ended (Type=notify-reload waits for both), and its
// status says it was refused, not "reload complete".
func TestSystemdNotifyRefusedReload(t *testing.T) {
	t.Parallel()
	path, _, next := notifyListener(t)
	addr := freeAddr(t)
	ini := filepath.Join(t.TempDir(), "site.ini")
	text := fmt.Sprintf("[uwsgi]\nmaster = true\nprocesses = 1\nhttp = %s\nchdir = %s\nmodule = wsgi\n", addr, appDir("master_pid"))
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s := launchEnv(t, []string{"NOTIFY_SOCKET=" + path}, addr, "--ini", ini)
	next("READY=1\nSTATUS=1 worker ready")
	if err := os.WriteFile(ini, []byte(text+"threads = lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	next("RELOADING=1\nMONOTONIC_USEC=")
	next("READY=1\nSTATUS=reload refused: ")
}

// A reload after the ini file changed its listeners keeps the master's
// sockets as they were bound: the workers serve them with the protocol
// the master bound them for (an HTTP socket turned "socket = " in the file
// used to answer HTTP with "this is a uwsgi-protocol socket"), say that
// the file differs, and take the rest of the file's changes.
func TestMasterReloadKeepsListenerRoles(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	ini := filepath.Join(t.TempDir(), "site.ini")
	write := func(listener string, threads int) {
		text := fmt.Sprintf("[uwsgi]\nmaster = true\nprocesses = 1\n%s = %s\nthreads = %d\nchdir = %s\nmodule = wsgi\n",
			listener, addr, threads, appDir("master_pid"))
		if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("http", 2)
	s := launch(t, addr, "--ini", ini)
	s.waitReady(20 * time.Second)
	if !s.waitLog("1 worker ready", 20*time.Second) {
		t.Fatalf("the worker did not start:\n%s", s.Log())
	}
	write("socket", 3)
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("reload complete", 15*time.Second) {
		t.Fatalf("no reload:\n%s", s.Log())
	}
	code, body, err := masterGet(masterClient(false, 5*time.Second), s.URL("/"))
	if err != nil || code != 200 {
		t.Errorf("HTTP after the reload: %d %q %v, want the app", code, body, err)
	}
	if !s.waitLog("socket changed in the config", 3*time.Second) {
		t.Error("the worker did not say that the file's listeners differ from the master's")
	}
	if !s.waitLog("3 thread(s)", 3*time.Second) {
		t.Error("the reloaded worker did not take the file's new thread count")
	}
}

// A reload whose new code cannot be imported says that it failed (the old
// workers serving on), not "reload complete".
func TestMasterReloadFailureSaysSo(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "1", "--env", "MASTER_VERSION_FILE="+vf)
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	os.Remove(vf) // the next import fails
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("reload failed", 15*time.Second) {
		t.Fatalf("no word of the failed reload:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "reload complete") {
		t.Errorf("a failed reload was logged as complete:\n%s", s.Log())
	}
	if code, body, err := masterGet(masterClient(false, 5*time.Second), s.URL("/")); err != nil || code != 200 || !strings.HasPrefix(body, "v=one ") {
		t.Errorf("after the failed reload: %d %q %v, want the old worker's v=one", code, body, err)
	}
}

// A reload after the ini was edited into something invalid is refused by
// the master, which reads the configuration again first: no worker is
// started, the log says why, and the old worker serves on.
func TestMasterReloadBrokenIniSaysSo(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	ini := filepath.Join(t.TempDir(), "site.ini")
	text := fmt.Sprintf("[uwsgi]\nmaster = true\nprocesses = 1\nhttp = %s\nchdir = %s\nmodule = wsgi\n", addr, appDir("master_pid"))
	if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	s := launch(t, addr, "--ini", ini)
	s.waitReady(20 * time.Second)
	if !s.waitLog("1 worker ready", 20*time.Second) {
		t.Fatalf("the worker did not start:\n%s", s.Log())
	}
	if err := os.WriteFile(ini, []byte(text+"threads = lots\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("SIGHUP: the configuration has an error; not reloading", 15*time.Second) ||
		!strings.Contains(s.Log(), `threads: invalid integer \"lots\"`) {
		t.Fatalf("no word of the refused reload and its cause:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "reloading workers gracefully") || strings.Contains(s.Log(), "reload complete") {
		t.Errorf("a reload began:\n%s", s.Log())
	}
	if code, body, err := masterGet(masterClient(false, 5*time.Second), s.URL("/")); err != nil || code != 200 {
		t.Errorf("after the refused reload: %d %q %v, want the old worker's answer", code, body, err)
	}
}

// A worker that replaces another (a crash here; --max-requests alike)
// takes the configuration as the master read it at its start or last
// reload, as uWSGI's forked workers do: an edit of the ini waits for the
// reload, and a mistake in it does not take the site down when a worker
// dies. The reload then applies the edit.
func TestMasterRespawnKeepsConfig(t *testing.T) {
	t.Parallel()
	addr, stats := freeAddr(t), freeAddr(t)
	one, two := masterVersionFile(t, "one"), masterVersionFile(t, "two")
	ini := filepath.Join(t.TempDir(), "site.ini")
	write := func(version, extra string) {
		text := fmt.Sprintf("[uwsgi]\nmaster = true\nprocesses = 1\nhttp = %s\nstats = %s\nchdir = %s\nmodule = wsgi\n"+
			"env = MASTER_VERSION_FILE=%s\n%s", addr, stats, appDir("master_reload"), version, extra)
		if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var s *server
	get := func(want string) {
		t.Helper()
		code, body, err := masterGet(masterClient(false, 5*time.Second), "http://"+addr+"/")
		if err != nil || code != 200 || !strings.HasPrefix(body, "v="+want+" ") {
			t.Fatalf("GET /: %d %q %v, want v=%s\n%s", code, body, err, want, s.Log())
		}
	}
	write(one, "")
	s = launch(t, addr, "--ini", ini)
	pids := masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	get("one")
	respawn := func() {
		t.Helper()
		old := pids[0]
		syscall.Kill(old, syscall.SIGKILL)
		pids = masterWaitWorkers(t, stats, 1, 20*time.Second, func(p []int) bool { return p[0] != old })
	}
	write(two, "")
	respawn()
	get("one")
	write(two, "threads = lots\n")
	respawn()
	get("one")
	write(two, "")
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("reload complete", 20*time.Second) {
		t.Fatalf("no reload:\n%s", s.Log())
	}
	get("two")
}

// masterBrokenSlot starts master_reload with one worker, breaks the app
// on disk (its version file removed), and kills the worker: each restart
// then fails at import. It returns carafe, the stats address and the
// version file, whose return makes the next restart serve.
func masterBrokenSlot(t *testing.T) (*server, string, string) {
	t.Helper()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "1", "--env", "MASTER_VERSION_FILE="+vf)
	pids := masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	os.Remove(vf)
	syscall.Kill(pids[0], syscall.SIGKILL)
	return s, stats, vf
}

// A worker that dies and whose replacement cannot import the app leaves
// its slot empty: the log must say so, not that the others serve on.
func TestMasterRespawnLoadErrorSaysSlotEmpty(t *testing.T) {
	t.Parallel()
	s, _, _ := masterBrokenSlot(t)
	if !s.waitLog("could not load the app", 15*time.Second) {
		t.Fatalf("no word of the failed respawn:\n%s", s.Log())
	}
	if !strings.Contains(s.Log(), "its slot has no worker serving") || strings.Contains(s.Log(), "keep serving") {
		t.Errorf("with no worker left, the log should say the slot is empty:\n%s", s.Log())
	}
}

// --touch-reload: a file that goes missing (a deploy replacing it) reloads
// nothing; it coming back with a new time reloads once.
func TestMasterTouchReloadMissingFile(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	touch := filepath.Join(t.TempDir(), "reload.trigger")
	if err := os.WriteFile(touch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	s, stats := masterStartStats(t, "master_reload", "--processes", "1",
		"--env", "MASTER_VERSION_FILE="+vf, "--touch-reload", touch)
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	os.Remove(touch)
	time.Sleep(2500 * time.Millisecond) // the master looks every second
	if strings.Contains(s.Log(), "reloading workers") {
		t.Fatalf("removing the --touch-reload file reloaded:\n%s", s.Log())
	}
	future := time.Now().Add(5 * time.Second)
	if err := os.WriteFile(touch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chtimes(touch, future, future)
	if !s.waitLog("reload complete", 15*time.Second) {
		t.Fatalf("the file's return did not reload:\n%s", s.Log())
	}
	if n := strings.Count(s.Log(), "reloading workers"); n != 1 {
		t.Errorf("%d reloads, want 1:\n%s", n, s.Log())
	}
}

// A reload that comes while the last one's workers still import stops
// those as any worker is stopped, finishing what they took, instead of
// killing them: a worker accepts before it says it is ready.
func TestMasterReloadSupersedesGracefully(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "1",
		"--env", "MASTER_VERSION_FILE="+vf, "--env", "MASTER_IMPORT_SLEEP=1")
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	s.cmd.Process.Signal(syscall.SIGHUP)
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("superseded by a newer reload", 5*time.Second) {
		t.Fatalf("the first reload's worker was not stopped gracefully:\n%s", s.Log())
	}
	if !s.waitLog("reload complete", 15*time.Second) {
		t.Fatalf("no reload completed:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "killing it") {
		t.Errorf("a worker was killed:\n%s", s.Log())
	}
}

// A master whose log pipe lost its reader (a `| head`, a restarted
// journald stream) serves on: its next log line, a reload's, killed it
// with SIGPIPE, and every worker with it.
func TestMasterBrokenLogPipe(t *testing.T) {
	t.Parallel()
	addr, stats := freeAddr(t), freeAddr(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(carafeBin(t), "--http", addr, "--stats", stats, "--chdir", appDir("master_pid"),
		"--module", "wsgi", "--processes", "2", "--virtualenv", venvDir(t), "--disable-logging")
	cmd.Stdout, cmd.Stderr = w, w
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
		}
	})
	pids := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	r.Close() // the reader goes
	cmd.Process.Signal(syscall.SIGHUP)
	masterWaitWorkers(t, stats, 2, 20*time.Second, func(p []int) bool { return p[0] != pids[0] && p[1] != pids[1] })
	select {
	case err := <-done:
		t.Fatalf("the master exited: %v", err)
	default:
	}
	if code, _, err := masterGet(masterClient(false, 5*time.Second), "http://"+addr+"/"); err != nil || code != 200 {
		t.Errorf("after the reload: %d %v", code, err)
	}
}

// A reload whose new code fails in one worker but not in the other says
// that the site now runs both, not only that the reload failed.
func TestMasterReloadFailedInPart(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "2", "--env", "MASTER_VERSION_FILE="+vf)
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	if err := os.WriteFile(vf, []byte("broken-in-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("reload failed: 1 of 2 workers run the new code, the others the code they had", 20*time.Second) {
		t.Fatalf("no word that the reload took in part:\n%s", s.Log())
	}
}

// A reload that finds a slot empty, its worker respawning after a crash,
// starts one there; when the new code fails in it, by an import error or
// an exit without a word, the reload fails and says so, also when that
// worker fails last. It once counted only the workers it replaced: the
// reload said "complete", or, when that worker failed last, never ended,
// and every later SIGHUP waited behind it.
func TestMasterReloadFailsInEmptySlot(t *testing.T) {
	t.Parallel()
	for _, deploy := range []string{"broken-in-2", "broken-in-2-late", "broken-in-2-exit"} {
		t.Run(deploy, func(t *testing.T) {
			t.Parallel()
			vf := masterVersionFile(t, "one")
			s, stats := masterStartStats(t, "master_reload", "--processes", "2", "--env", "MASTER_VERSION_FILE="+vf)
			pids := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
			if err := os.WriteFile(vf, []byte("broken-in-2\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			syscall.Kill(pids[1], syscall.SIGKILL) // slot 2 respawns, and fails, over and over
			if !s.waitLog("worker 2 keeps dying; respawning in 800ms", 20*time.Second) {
				t.Fatalf("slot 2 does not crash-loop:\n%s", s.Log())
			}
			if err := os.WriteFile(vf, []byte(deploy+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			s.cmd.Process.Signal(syscall.SIGHUP)
			if !s.waitLog("reload failed: 1 of 2 workers run the new code", 10*time.Second) {
				t.Fatalf("the reload did not fail, or did not end:\n%s", s.Log())
			}
			if strings.Contains(s.Log(), "reload complete") {
				t.Errorf("the reload is said complete, though slot 2 failed:\n%s", s.Log())
			}
		})
	}
}

// A reload that supersedes one whose new code had already failed in a
// worker (a fix deployed at once) completes when its own workers are
// ready: it once reported the superseded reload's failure.
func TestMasterReloadSupersedesFailed(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "2", "--env", "MASTER_VERSION_FILE="+vf,
		"--env", "MASTER_IMPORT_SLEEP=2")
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	if err := os.WriteFile(vf, []byte("broken-in-2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("a broken deploy, in worker 2", 10*time.Second) {
		t.Fatalf("worker 2's import did not fail:\n%s", s.Log())
	}
	if err := os.WriteFile(vf, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s.cmd.Process.Signal(syscall.SIGHUP) // while worker 1's replacement still imports
	if !s.waitLog("reload complete", 20*time.Second) {
		t.Fatalf("the second reload did not complete:\n%s", s.Log())
	}
	if strings.Contains(s.Log(), "reload failed") {
		t.Errorf("the superseded reload's failure is reported:\n%s", s.Log())
	}
	masterWaitWorkers(t, stats, 2, 10*time.Second, nil)
}

// SIGTERM while the workers import: no "ready" is logged (nor sent to
// systemd after STOPPING=1), and no warning about steering connections
// through listeners the stop has closed.
func TestMasterStopDuringStartSaysNoReady(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s := startNoWait(t, "--chdir", appDir("master_reload"), "--module", "wsgi", "--virtualenv", venvDir(t),
		"--processes", "2", "--env", "MASTER_VERSION_FILE="+vf, "--env", "MASTER_IMPORT_SLEEP=2")
	if !s.waitLog("starting 2 workers", 20*time.Second) {
		t.Fatalf("no start:\n%s", s.Log())
	}
	time.Sleep(500 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	if _, done := s.wait(20 * time.Second); !done {
		t.Fatalf("still running:\n%s", s.Log())
	}
	if log := s.Log(); strings.Contains(log, "ready in") || strings.Contains(log, "cannot steer") {
		t.Errorf("a stop during the start-up logged a ready, or a steering warning:\n%s", log)
	}
}

// While no worker takes a socket's connections (a worker died, and its
// app, broken on disk since, no longer imports: its restarts back off),
// the master answers them 503 at once; they hung until the client's own
// timeout. A worker that starts again takes them back.
func TestMasterStandInAnswers503(t *testing.T) {
	t.Parallel()
	s, stats, vf := masterBrokenSlot(t)
	if !s.waitLog("answering them 503", 15*time.Second) {
		t.Fatalf("no stand-in:\n%s", s.Log())
	}
	// The stats list the slot while it waits for its restart.
	listed := false
	for end := time.Now().Add(5 * time.Second); !listed && time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if doc, err := masterReadStats(stats); err == nil && len(doc.Workers) == 1 {
			w := doc.Workers[0]
			listed = w.ID == 1 && w.Pid == 0 && w.Status == "respawning"
		}
	}
	if !listed {
		t.Errorf("the stats never listed worker 1 as respawning")
	}
	c := masterClient(false, 5*time.Second)
	got503 := 0
	for end := time.Now().Add(2 * time.Second); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		start := time.Now()
		code, body, err := masterGet(c, s.URL("/"))
		if err != nil || (code != 503 && code != 200) || time.Since(start) > 3*time.Second {
			t.Fatalf("while no worker serves: %d %q %v after %v\n%s", code, body, err, time.Since(start), s.Log())
		}
		if code == 503 {
			got503++
		}
	}
	if got503 == 0 {
		t.Errorf("no 503 in 2 s with no worker")
	}
	if err := os.WriteFile(vf, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if !s.waitLog("takes the connections of", 20*time.Second) {
		t.Fatalf("the stand-in did not stop:\n%s", s.Log())
	}
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	if code, body, err := masterGet(c, s.URL("/")); err != nil || code != 200 || !strings.HasPrefix(body, "v=two ") {
		t.Errorf("once a worker serves again: %d %q %v", code, body, err)
	}
}

// A log reopen (SIGUSR1) or a stack dump (SIGUSR2) right after a reload
// reaches workers that have just been started, before their signal
// handlers are in place: the default action ended them, and the reload
// failed ("a new worker exited during start-up (killed by signal user
// defined signal 1)", 3 of 3 with kill -HUP; kill -USR1). The master now
// holds the reopen till the worker says it watches, and each reload of
// this test completes.
func TestMasterReopenDuringReload(t *testing.T) {
	t.Parallel()
	logf := filepath.Join(t.TempDir(), "carafe.log")
	s := startApp(t, "master_pid", "--processes", "2", "--logto", logf)
	for i := range 3 {
		s.cmd.Process.Signal(syscall.SIGHUP)
		time.Sleep(2 * time.Millisecond)
		s.cmd.Process.Signal(syscall.SIGUSR1)
		s.cmd.Process.Signal(syscall.SIGUSR2)
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			b, _ := os.ReadFile(logf)
			log := string(b)
			if strings.Count(log, "reload failed") > 0 || strings.Contains(log, "user defined signal") {
				t.Fatalf("reload %d: a worker was killed by the reopen:\n%s", i+1, log)
			}
			if strings.Count(log, "reload complete") == i+1 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("reload %d did not complete:\n%s", i+1, log)
			}
		}
	}
	c := masterClient(false, 10*time.Second)
	if code, _, err := masterGet(c, s.URL("/")); err != nil || code != 200 {
		t.Errorf("after the reloads: %d %v", code, err)
	}
}

// A READY=1 that cannot reach systemd (a $NOTIFY_SOCKET gone, or not
// writable by the user carafe runs as) is said: a Type=notify unit then
// times out at its start, and nothing told why.
func TestNotifyUnheardSaid(t *testing.T) {
	for _, mode := range bothModes {
		t.Run(mode.name, func(t *testing.T) {
			t.Parallel()
			addr := freeAddr(t)
			s := launchEnv(t, []string{"NOTIFY_SOCKET=" + filepath.Join(t.TempDir(), "gone.sock")}, addr,
				append([]string{"--http", addr, "--chdir", appDir("master_pid"), "--module", "wsgi"}, mode.extra...)...)
			s.waitReady(20 * time.Second)
			if !s.waitLog("cannot tell systemd the service is ready", 10*time.Second) {
				t.Errorf("no warning of the READY=1 nobody heard:\n%s", s.Log())
			}
		})
	}
}
