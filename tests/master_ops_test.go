package tests

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A reload whose new code cannot be imported leaves the old worker as it
// was, its limits included: once the code is fixed, --max-requests
// recycles it as before. (The failed reload used to tell the worker its
// own replacement had failed, which held its limits off for a minute.)
func TestMasterFailedReloadKeepsLimits(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "1", "--max-requests", "5",
		"--env", "MASTER_VERSION_FILE="+vf)
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	os.Remove(vf) // the reload's import fails
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !s.waitLog("reload failed", 15*time.Second) {
		t.Fatalf("no word of the failed reload:\n%s", s.Log())
	}
	if err := os.WriteFile(vf, []byte("two\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	load := masterStartLoadPaced(s.URL("/"), 1, 20, 30*time.Second, 50*time.Millisecond).Wait()
	load.report(t, "20 requests with --max-requests 5 after a failed reload", 0)
	if pids := load.pids(); len(pids) < 2 {
		t.Errorf("one worker answered all 20 requests with --max-requests 5 (pids %v): "+
			"the failed reload switched its limit off", pids)
	}
}

// A worker killed outright (the OOM killer's SIGKILL) loses no request
// line older than the access log's batch (5 ms): with batches of 100 ms, a
// busy worker's last tenth of a second of lines was lost, the ones wanted.
func TestMasterKill9KeepsOlderRequestLines(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_pid", "--processes", "1")
	pid := masterWaitWorkers(t, stats, 1, 20*time.Second, nil)[0]
	c := masterClient(true, 10*time.Second)
	for i := 1; i <= 3; i++ { // the first alone, written at once; then a batch
		if code, _, err := masterGet(c, s.URL(fmt.Sprintf("/?kill9=%d", i))); err != nil || code != 200 {
			t.Fatalf("GET /?kill9=%d: %d %v", i, code, err)
		}
	}
	time.Sleep(60 * time.Millisecond)
	syscall.Kill(pid, syscall.SIGKILL)
	masterWaitWorkers(t, stats, 1, 20*time.Second, masterDisjoint([]int{pid}))
	for i := 1; i <= 3; i++ {
		if want := fmt.Sprintf(`"GET /?kill9=%d HTTP/1.1" 200`, i); !strings.Contains(s.Log(), want) {
			t.Errorf("no request line %s: lost to the kill 60 ms after it:\n%s", want, s.Log())
		}
	}
}

// SIGINT and SIGQUIT stop at once, yet the request log has a line for
// each request already answered: the access log's buffer is flushed, not
// lost to a SIGKILL.
func TestMasterSIGINTQUITKeepsRequestLog(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "master_pid", "--processes", "2")
			kids := masterWaitChildren(t, s.cmd.Process.Pid, 2, 20*time.Second)
			masterKillLeftovers(t, kids)
			c := masterClient(false, 10*time.Second)
			for i := 1; i <= 3; i++ {
				if code, _, err := masterGet(c, s.URL(fmt.Sprintf("/?n=%d", i))); err != nil || code != 200 {
					t.Fatalf("GET /?n=%d: %d %v", i, code, err)
				}
			}
			s.cmd.Process.Signal(sig) // at once: the lines are still buffered
			if _, ok := s.wait(10 * time.Second); !ok {
				t.Fatalf("master still running 10 s after %v", sig)
			}
			for i := 1; i <= 3; i++ {
				if want := fmt.Sprintf(`"GET /?n=%d HTTP/1.1" 200`, i); !strings.Contains(s.Log(), want) {
					t.Errorf("no request log line %s after %v:\n%s", want, sig, s.Log())
				}
			}
		})
	}
}

// SIGINT and SIGQUIT stop at once even while the workers import the app:
// the master asks them to leave (a SIGKILL would lose the log lines of a
// worker that served before the master read that it was ready), and one
// still importing leaves then and there, saying so, rather than at the end
// of its import (30 s here) or of the master's second of grace. No worker
// dumps its goroutines, as Go's default for SIGQUIT would. So does SIGTERM,
// the graceful stop: a worker that has served nothing has nothing to
// finish, and its copies of the sockets would meanwhile take connections
// that it reset at its stop, once imported.
func TestMasterStopDuringImport(t *testing.T) {
	t.Parallel()
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGQUIT, syscall.SIGTERM} {
		t.Run(sig.String(), func(t *testing.T) {
			t.Parallel()
			vf, marks := masterVersionFile(t, "one"), t.TempDir()
			addr := freeAddr(t) // (not startApp, which waits for the import)
			s := launch(t, addr, "--http", addr, "--chdir", appDir("master_reload"), "--module", "wsgi",
				"--processes", "2", "--env", "MASTER_VERSION_FILE="+vf,
				"--env", "MASTER_IMPORT_SLEEP=30", "--env", "MASTER_IMPORT_MARK="+marks)
			s.waitReady(20 * time.Second)
			kids := masterWaitChildren(t, s.cmd.Process.Pid, 2, 20*time.Second)
			masterKillLeftovers(t, kids)
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				if m, _ := os.ReadDir(marks); len(m) == 2 {
					break // both are in the import's sleep
				} else if time.Now().After(deadline) {
					t.Fatalf("the workers did not start their import:\n%s", s.Log())
				}
			}
			s.cmd.Process.Signal(sig)
			if _, ok := s.wait(10 * time.Second); !ok {
				t.Fatalf("master still running 10 s after %v", sig)
			}
			if _, left := masterWaitGone(kids, 5*time.Second); len(left) > 0 {
				t.Fatalf("workers %v still running after %v", left, sig)
			}
			log := s.Log()
			if n := strings.Count(log, "while importing the app; leaving"); n != 2 {
				t.Errorf("%d of 2 workers left on their own as they imported the app:\n%s", n, log)
			}
			if strings.Contains(log, "goroutine ") {
				t.Errorf("a worker dumped its goroutines:\n%s", log)
			}
		})
	}
}

// Without a master too, a stop while the app imports ends carafe at once,
// and --vacuum still removes the unix sockets.
func TestStandaloneSIGTERMDuringImport(t *testing.T) {
	t.Parallel()
	vf, marks := masterVersionFile(t, "one"), t.TempDir()
	addr := freeAddr(t)
	sock := filepath.Join(t.TempDir(), "u.sock")
	s := launch(t, addr, "--http", addr, "--socket", sock, "--vacuum", "--chdir", appDir("master_reload"), "--module", "wsgi",
		"--env", "MASTER_VERSION_FILE="+vf, "--env", "MASTER_IMPORT_SLEEP=30", "--env", "MASTER_IMPORT_MARK="+marks)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m, _ := os.ReadDir(marks); len(m) == 1 {
			break
		} else if time.Now().After(deadline) {
			t.Fatalf("the import did not start:\n%s", s.Log())
		}
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	code, ok := s.wait(10 * time.Second)
	if !ok {
		t.Fatalf("carafe still running 10 s after SIGTERM during a 30 s import")
	}
	if code != 0 || !strings.Contains(s.Log(), "terminated while importing the app; leaving") {
		t.Errorf("exit code %d, want 0 and a line that says why:\n%s", code, s.Log())
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("--vacuum left the uwsgi socket file: %v", err)
	}
}

// A --reload-on-rss below what a fresh worker takes does not recycle idle
// workers in a loop: the operator is told once, and the workers stay.
func TestMasterReloadOnRSSBelowFreshWorker(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_pid", "--processes", "2", "--reload-on-rss", "1")
	pids := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	if !s.waitLog("already at", 10*time.Second) {
		t.Errorf("no warning that a fresh worker is over --reload-on-rss:\n%s", s.Log())
	}
	time.Sleep(3 * time.Second) // idle: at 7 recycles a second, they would show
	log := s.Log()
	if n := strings.Count(log, "recycling worker"); n > 0 {
		t.Errorf("%d recycles of idle workers with --reload-on-rss 1:\n%s", n, log)
	}
	if n := strings.Count(log, "already at"); n != 1 {
		t.Errorf("the warning came %d times, want once:\n%s", n, log)
	}
	if _, alive := masterWaitGone(pids, 0); len(alive) != 2 {
		t.Errorf("of the first workers %v, only %v still serve", pids, alive)
	}
}

// The stats document has uWSGI's keys beside carafe's, those uwsgitop and
// the uWSGI collectors read, with values that make sense.
func TestMasterStatsUWSGIKeys(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_pid", "--processes", "2")
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	c := masterClient(false, 10*time.Second)
	for i := 0; i < 6; i++ {
		if code, _, err := masterGet(c, s.URL("/sleep?s=0.01")); err != nil || code != 200 {
			t.Fatalf("GET: %d %v", code, err)
		}
	}
	doc := masterRawStats(t, stats)
	for _, k := range []string{"version", "listen_queue", "listen_queue_errors", "load", "signal_queue",
		"cwd", "uid", "gid", "sockets", "pid", "workers"} {
		if _, ok := doc[k]; !ok {
			t.Errorf("no top-level %q in the stats", k)
		}
	}
	if doc["uid"] != float64(os.Getuid()) {
		t.Errorf("uid %v, want %d", doc["uid"], os.Getuid())
	}
	socks, _ := doc["sockets"].([]any)
	if len(socks) != 1 {
		t.Fatalf("sockets %v, want the one --http", doc["sockets"])
	}
	sock := socks[0].(map[string]any)
	if sock["name"] != s.addr || sock["proto"] != "http" || sock["max_queue"].(float64) <= 0 {
		t.Errorf("socket %v, want %s, http, with its backlog as max_queue", sock, s.addr)
	}
	workers, _ := doc["workers"].([]any)
	var requests, running, tx float64
	for _, x := range workers {
		w := x.(map[string]any)
		for _, k := range []string{"id", "pid", "requests", "exceptions", "status", "rss", "vsz", "avg_rt",
			"tx", "running_time", "last_spawn", "respawn_count", "harakiri_count", "signals",
			"delta_requests", "accepting", "cores", "apps"} {
			if _, ok := w[k]; !ok {
				t.Errorf("worker %v: no %q", w["id"], k)
			}
		}
		if w["vsz"].(float64) < w["rss"].(float64) || w["rss"].(float64) <= 0 {
			t.Errorf("worker %v: vsz %v, rss %v", w["id"], w["vsz"], w["rss"])
		}
		if d := time.Since(time.Unix(int64(w["last_spawn"].(float64)), 0)); d < 0 || d > time.Minute {
			t.Errorf("worker %v: last_spawn %v is %v ago", w["id"], w["last_spawn"], d)
		}
		if w["accepting"] != float64(1) {
			t.Errorf("worker %v: accepting %v, want 1", w["id"], w["accepting"])
		}
		if r := w["requests"].(float64); r > 0 && w["avg_rt"].(float64) < 10000 {
			t.Errorf("worker %v: avg_rt %v µs for 10 ms requests", w["id"], w["avg_rt"])
		}
		requests += w["delta_requests"].(float64)
		running += w["running_time"].(float64)
		tx += w["tx"].(float64)
	}
	if tx < 6*100 { // six responses, each with a head of 100 bytes or more
		t.Errorf("tx adds up to %v bytes for six responses", tx)
	}
	if requests != 6 || running < 60000 {
		t.Errorf("delta_requests add up to %v, running_time to %v µs; want 6 and 6 x 10 ms", requests, running)
	}
}

// The stats server waits a second for the workers' figures, all of them
// together: with two workers that cannot answer (stopped here; exiting in
// a reload, in the flake that found it), it answers within that second and
// keeps answering, where it used to wait for the second one without end,
// and every later document with it.
func TestMasterStatsWorkersNotAnswering(t *testing.T) {
	t.Parallel()
	_, stats := masterStartStats(t, "master_pid", "--processes", "2")
	pids := masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	cont := func() {
		for _, p := range pids {
			syscall.Kill(p, syscall.SIGCONT)
		}
	}
	t.Cleanup(cont) // a stopped worker would hold up the harness's stop
	for _, p := range pids {
		syscall.Kill(p, syscall.SIGSTOP)
	}
	for i := 0; i < 2; i++ {
		start := time.Now()
		doc, err := masterReadStats(stats)
		took := time.Since(start)
		if err != nil {
			t.Fatalf("stats with both workers stopped, read %d: %v after %v", i+1, err, took.Round(time.Millisecond))
		}
		if len(doc.Workers) != 2 || took > 2500*time.Millisecond {
			t.Errorf("stats with both workers stopped, read %d: %d workers after %v, want 2 within the second (and the read's 100 ms)",
				i+1, len(doc.Workers), took.Round(time.Millisecond))
		}
	}
	cont()
	masterWaitWorkers(t, stats, 2, 5*time.Second, func(now []int) bool { return now[0] == pids[0] && now[1] == pids[1] })
}

// A stats document during a reload does not wait for the worker that is
// importing the app, which reads no request: each took the stats server's
// whole second of waiting while a reload or a respawn lasted.
func TestMasterStatsDuringImport(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--env", "MASTER_VERSION_FILE="+vf,
		"--env", "MASTER_IMPORT_SLEEP=3")
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	s.cmd.Process.Signal(syscall.SIGHUP)
	masterWaitChildren(t, s.cmd.Process.Pid, 2, 5*time.Second) // the replacement imports for 3 s
	start := time.Now()
	doc, err := masterReadStats(stats)
	took := time.Since(start)
	if err != nil {
		t.Fatal(err)
	}
	starting := 0
	for _, w := range doc.Workers {
		if w.Status == "starting" {
			starting++
		}
	}
	if starting != 1 || took > 700*time.Millisecond {
		t.Errorf("stats during the import: %d workers starting, after %v; want 1, within the read's 100 ms and little more",
			starting, took.Round(time.Millisecond))
	}
}

// masterRawStats reads one stats document as JSON values.
func masterRawStats(t testing.TB, addr string) map[string]any {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("stats: %v: %q", err, b)
	}
	return doc
}

// A reload after the ini file changed options the master acts on (its
// log, the number of workers) keeps the master's values in the workers
// too, and says which ones a reload does not apply: the log is not split
// between two files, one of them never rotated.
func TestMasterReloadKeepsMasterSettings(t *testing.T) {
	t.Parallel()
	addr := freeAddr(t)
	dir := t.TempDir()
	ini := filepath.Join(dir, "site.ini")
	lt1, lt2 := filepath.Join(dir, "lt1.log"), filepath.Join(dir, "lt2.log")
	write := func(logto string, processes int) {
		text := fmt.Sprintf("[uwsgi]\nmaster = true\nprocesses = %d\nhttp = %s\nlogto = %s\nchdir = %s\nmodule = wsgi\n",
			processes, addr, logto, appDir("master_pid"))
		if err := os.WriteFile(ini, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(lt1, 2)
	s := launch(t, addr, "--ini", ini)
	s.waitReady(20 * time.Second)
	if !masterFileHas(lt1, "2 workers ready", 20*time.Second) {
		t.Fatalf("the workers did not start:\n%s", readFile(lt1))
	}
	write(lt2, 3)
	s.cmd.Process.Signal(syscall.SIGHUP)
	if !masterFileHas(lt1, "reload complete", 20*time.Second) {
		t.Fatalf("no reload:\n%s", readFile(lt1))
	}
	if code, _, err := masterGet(masterClient(false, 5*time.Second), s.URL("/after")); err != nil || code != 200 {
		t.Fatalf("GET /after: %d %v", code, err)
	}
	if !masterFileHas(lt1, `"GET /after HTTP/1.1" 200`, 5*time.Second) {
		t.Errorf("the request log line is not in the master's log:\n%s", readFile(lt1))
	}
	if _, err := os.Stat(lt2); err == nil {
		t.Errorf("the workers opened the file's new logto %s:\n%s", lt2, readFile(lt2))
	}
	for _, name := range []string{"logto", "processes"} {
		if !masterFileHas(lt1, name+" changed in the config", 5*time.Second) {
			t.Errorf("no word that %s changed and a reload does not apply it:\n%s", name, readFile(lt1))
		}
	}
	if got := strings.Count(readFile(lt1), "ready: Python"); got != 4 {
		t.Errorf("%d workers started in all, want 2 then 2 again (the master's processes)", got)
	}
}

// An app that cannot be imported at the start ends a master of several
// workers, and the master says so before the other workers' "interrupt
// while importing the app" lines, which read like a Ctrl-C.
func TestMasterStartupLoadErrorSaid(t *testing.T) {
	t.Parallel()
	code, out := run(t, 20*time.Second, "--http", freeAddr(t), "--chdir", appDir("startup_import_error"),
		"--module", "wsgi", "--processes", "3")
	if code == 0 || !strings.Contains(out, "ZeroDivisionError") ||
		!strings.Contains(out, "could not load the app at the start; stopping the others and exiting") {
		t.Errorf("exit %d; output:\n%s", code, out)
	}
}
