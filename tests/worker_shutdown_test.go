package tests

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestSIGTERMFinalisesPython: a graceful stop runs the app's atexit
// handlers (Py_FinalizeEx) and exits 0.
func TestSIGTERMFinalisesPython(t *testing.T) {
	t.Parallel()
	s := startApp(t, "shutdown_atexit")
	resp, err := http.Get(s.URL("/"))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	s.cmd.Process.Signal(syscall.SIGTERM)
	code, ok := s.wait(10 * time.Second)
	if !ok {
		t.Fatal("carafe did not stop within 10s of SIGTERM")
	}
	if code != 0 {
		t.Errorf("exit code %d after SIGTERM, want 0", code)
	}
	if !strings.Contains(s.Log(), "atexit-handler-ran") {
		t.Errorf("atexit handler did not run:\n%s", s.Log())
	}
}

// A graceful stop finalises what only the app module's globals hold, as
// python does at exit: buffered files are flushed, __del__ methods run.
// The WSGI callable keeps the module's globals alive after the module
// itself is gone, so carafe must drop it before finalising.
func TestSIGTERMFinalisesModuleGlobals(t *testing.T) {
	t.Parallel()
	file := filepath.Join(t.TempDir(), "hits.log")
	s := startAppEnv(t, []string{"GLOBALS_LOG=" + file}, "shutdown_globals")
	for range 3 {
		wsgiGet(t, s, "/")
	}
	s.cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := s.wait(10 * time.Second); !ok {
		t.Fatal("carafe did not stop within 10s of SIGTERM")
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != "hit\nhit\nhit\n" {
		t.Errorf("the app's buffered log holds %q (%v), want its 3 lines flushed at the stop", b, err)
	}
	if !strings.Contains(s.Log(), "module global finalised") {
		t.Errorf("a module global's __del__ did not run at the stop:\n%s", s.Log())
	}
}

// An app that first imports threading inside a request still stops at
// once: threading must take the interpreter's main thread for its main
// thread, not the request's, which never ends (finalisation waited for it
// for the whole --worker-reload-mercy, then gave up without atexit).
func TestSIGTERMThreadingImportedInRequest(t *testing.T) {
	t.Parallel()
	// The test venv: the base installation's site-packages may have a
	// .pth file that imports threading at start-up (pyenv's does).
	// With one Python thread the calls run on the main thread itself.
	for threads, want := range map[string]string{"1": "main", "2": "not main"} {
		s := startApp(t, "shutdown_lazy_threading", "--virtualenv", venvDir(t), "--threads", threads)
		if _, body := wsgiGet(t, s, "/"); string(body) != want {
			t.Errorf("--threads %s: threading.main_thread() is the request's thread: %q, want %q", threads, body, want)
		}
		start := time.Now()
		s.cmd.Process.Signal(syscall.SIGTERM)
		code, ok := s.wait(20 * time.Second)
		if !ok {
			t.Fatal("carafe did not stop within 20s of SIGTERM")
		}
		t.Logf("--threads %s: stopped in %v", threads, time.Since(start).Round(time.Millisecond))
		if time.Since(start) > 5*time.Second {
			t.Errorf("the stop took %v, want it well under 5s (the mercy is 60s)", time.Since(start))
		}
		if code != 0 || !strings.Contains(s.Log(), "atexit ran") {
			t.Errorf("exit code %d; want 0 with the atexit handler run:\n%s", code, s.Log())
		}
	}
}

// A request whose body comes only after the drain gave up (--worker-reload-mercy)
// starts its call while Python's finalisation waits for the app's
// non-daemon thread: with more than one Python thread it is served, and
// the worker exits 0. Dropping the app before finalising made that call
// crash the worker (SIGSEGV). With one, whose calls run on the main
// thread, now finalising, it gets a 503 (it waited for good, unanswered).
func TestSIGTERMLateRequestDuringFinalisation(t *testing.T) {
	t.Parallel()
	t.Run("threads 1", func(t *testing.T) {
		t.Parallel()
		resp, code := lateRequest(t, "1")
		if !strings.HasPrefix(resp, "HTTP/1.1 503") || code != 0 {
			t.Errorf("got %q, exit code %d; want a 503 and exit 0", resp, code)
		}
	})
	t.Run("threads 2", func(t *testing.T) {
		t.Parallel()
		resp, code := lateRequest(t, "2")
		if !strings.HasPrefix(resp, "HTTP/1.1 200") || !strings.HasSuffix(resp, "served hello") || code != 0 {
			t.Errorf("got %q, exit code %d; want the late request served and exit 0", resp, code)
		}
	})
}

// lateRequest sends a request's body after a SIGTERM's drain gave up,
// and returns what came back and the exit code.
func lateRequest(t *testing.T, threads string) (string, int) {
	s := startAppEnv(t, []string{"LINGER_S=4"}, "shutdown_late_request", "--worker-reload-mercy", "1",
		"--threads", threads)
	c, err := net.Dial("tcp", s.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, "POST /late HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	time.Sleep(1200 * time.Millisecond) // past the mercy: finalisation waits for the linger thread
	io.WriteString(c, "hello")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, _ := io.ReadAll(c)
	code, ok := s.wait(15 * time.Second)
	if !ok {
		t.Fatal("carafe did not stop")
	}
	return string(resp), code
}

// The app's own threads and children see signals as under python: a write
// to a closed socket from a thread the app started raises BrokenPipeError
// (the worker died of SIGPIPE: Python's start-up ignores it, and the
// embedded interpreter installs nothing), and a child the app starts ends
// on SIGHUP (the worker's SIGHUP, ignored, was inherited as ignored).
func TestAppThreadsAndChildrenSignals(t *testing.T) {
	t.Parallel()
	s := startApp(t, "signals")
	for path, want := range map[string]string{"/pipe": "BrokenPipeError", "/child": "rc -1"} {
		resp, err := http.Get(s.URL(path))
		if err != nil {
			t.Fatalf("GET %s: %v (the worker died?)\n%s", path, err, s.Log())
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(body) != want {
			t.Errorf("GET %s: %q, want %q", path, body, want)
		}
	}
	if _, body := httpGet(t, s.URL("/pipe")); string(body) != "BrokenPipeError" {
		t.Errorf("after the broken pipes: %q", body)
	}
}

// An app that sets handlers for SIGTERM and SIGINT at import does not
// take them from carafe (Python would never run them: its main thread runs
// no Python in a worker), with a master or without: SIGTERM still stops
// the server, and the log says what was taken back. Its handler for
// another signal (SIGALRM) is dropped too: it ran at the stop, its
// exception breaking into carafe's finalisation.
func TestAppSignalHandlersAtImport(t *testing.T) {
	t.Parallel()
	for _, mode := range [][]string{nil, {"--master"}} {
		t.Run(fmt.Sprint("master=", mode != nil), func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "signal_handlers", mode...)
			if _, body := httpGet(t, s.URL("/")); string(body) != "ok" {
				t.Fatalf("GET /: %q", body)
			}
			if !s.waitLog("set handlers for SIGALRM, SIGTERM, SIGINT while it loaded; carafe drops them", 5*time.Second) {
				t.Errorf("no word of the handlers taken back:\n%s", s.Log())
			}
			// SIG_IGN in Python's table (which its finalisation leaves
			// alone); the kernel's action is carafe's again.
			if _, body := httpGet(t, s.URL("/table")); string(body) != "True True" {
				t.Errorf("Python's table for SIGALRM and SIGTERM: %q, want both SIG_IGN", body)
			}
			if _, body := httpGet(t, s.URL("/alarm")); string(body) != "ok" {
				t.Fatalf("GET /alarm: %q", body)
			}
			time.Sleep(1500 * time.Millisecond) // the alarm comes
			if _, body := httpGet(t, s.URL("/")); string(body) != "ok" {
				t.Fatalf("GET / after the alarm: %q", body)
			}
			s.cmd.Process.Signal(syscall.SIGTERM)
			if code, ok := s.wait(10 * time.Second); !ok || code != 0 {
				t.Fatalf("after SIGTERM: exit %d (exited: %v), want a prompt 0:\n%s", code, ok, s.Log())
			}
			if strings.Contains(s.Log(), "SIGALRM handler ran") {
				t.Errorf("the app's SIGALRM handler ran:\n%s", s.Log())
			}
		})
	}
}

// A live non-daemon thread holds Python's finalisation (it is joined
// before the atexit handlers run): a stop waits for it at most what is
// left of --worker-reload-mercy, says so, and exits 0 without the atexit
// handlers if it still runs; SIGINT cuts the wait short. Before, SIGTERM
// never finished without a master, and a master killed the worker with no
// reason logged. Threads Python stops by itself (an idle pool's) add no
// line to a stop.
func TestSIGTERMNonDaemonThread(t *testing.T) {
	t.Parallel()
	const (
		waits   = "the exit waits for the app's non-daemon threads"
		gaveUp  = "the app's non-daemon threads are still running"
		atexit  = "atexit-handler-ran"
		killing = "killing it"
	)
	tests := []struct {
		name     string
		flags    []string
		path     string         // requested before the stop
		then     syscall.Signal // sent once the wait is logged; 0 for none
		within   time.Duration
		want     []string // in the log
		wantNot  []string
		exitCode int
	}{
		{"bounded", []string{"--worker-reload-mercy", "2"}, "/", 0, 6 * time.Second,
			[]string{waits, "threads=flusher", gaveUp}, []string{atexit}, 0},
		{"idle pool only", []string{"--env", "FLUSHER=0"}, "/", 0, 6 * time.Second,
			[]string{atexit}, []string{waits, gaveUp}, 0},
		// A Thread started from a request is no daemon (it was: the
		// request's thread was threading's dummy, whose flag it took).
		{"thread from a request", []string{"--env", "FLUSHER=0", "--worker-reload-mercy", "10"}, "/spawn", 0, 6 * time.Second,
			[]string{waits, "threads=late", "late-job-done", atexit}, []string{gaveUp}, 0},
		{"thread from a request, master", []string{"--env", "FLUSHER=0", "--master", "--worker-reload-mercy", "10"}, "/spawn", 0,
			6 * time.Second, []string{waits, "late-job-done", atexit}, []string{gaveUp}, 0},
		{"thread ends in time", []string{"--worker-reload-mercy", "10"}, "/finish?in=3", 0, 6 * time.Second,
			[]string{waits, atexit}, []string{gaveUp}, 0},
		{"SIGINT cuts the wait", []string{"--worker-reload-mercy", "60"}, "/", syscall.SIGINT, 3 * time.Second,
			[]string{waits, "signal=interrupt"}, []string{atexit}, 0},
		{"master", []string{"--master", "--worker-reload-mercy", "2"}, "/", 0, 6 * time.Second,
			[]string{waits, gaveUp}, []string{atexit, killing}, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "shutdown_nondaemon", tt.flags...)
			httpGet(t, s.URL(tt.path))
			s.cmd.Process.Signal(syscall.SIGTERM)
			start := time.Now()
			if tt.then != 0 {
				if !s.waitLog(waits, 5*time.Second) {
					t.Fatalf("no %q line within 5s of SIGTERM", waits)
				}
				start = time.Now()
				s.cmd.Process.Signal(tt.then)
			}
			code, ok := s.wait(tt.within)
			if !ok {
				t.Fatalf("carafe still running %v after the stop", tt.within)
			}
			t.Logf("exited %v after the last signal", time.Since(start).Round(time.Millisecond))
			if code != tt.exitCode {
				t.Errorf("exit code %d, want %d", code, tt.exitCode)
			}
			log := s.Log()
			for _, w := range tt.want {
				if !strings.Contains(log, w) {
					t.Errorf("log lacks %q", w)
				}
			}
			for _, w := range tt.wantNot {
				if strings.Contains(log, w) {
					t.Errorf("log has %q", w)
				}
			}
		})
	}
}

// Without a master, SIGHUP, SIGTTIN and SIGTTOU change nothing, and
// carafe says so rather than leave an operator waiting for a reload.
func TestStandaloneMasterSignalsExplained(t *testing.T) {
	t.Parallel()
	s := startApp(t, "master_pid")
	_, before := httpGet(t, s.URL("/"))
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGTTIN, syscall.SIGTTOU} {
		name := map[syscall.Signal]string{syscall.SIGHUP: "SIGHUP", syscall.SIGTTIN: "SIGTTIN", syscall.SIGTTOU: "SIGTTOU"}[sig]
		s.cmd.Process.Signal(sig)
		if !s.waitLog("carafe: "+name+" ignored: reloading and adding or removing workers need a master (--master)", 5*time.Second) {
			t.Errorf("no line explains the ignored %s", name)
		}
	}
	if _, after := httpGet(t, s.URL("/")); string(after) != string(before) {
		t.Errorf("served by %q after the signals, %q before: the process changed", after, before)
	}
}

// A request still running when the stop's drain runs out of time gets
// its connection closed without an answer, and no request-log line: the
// log names it instead.
func TestShutdownNamesCutRequest(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s := startApp(t, "master_reload", "--env", "MASTER_VERSION_FILE="+vf, "--worker-reload-mercy", "1")
	go masterGet(masterClient(false, 10*time.Second), s.URL("/sleep?s=5"))
	time.Sleep(300 * time.Millisecond)
	s.cmd.Process.Signal(syscall.SIGTERM)
	if !s.waitLog("GET /sleep?s=5 was cut short after", 10*time.Second) {
		t.Errorf("the cut request is not named:\n%s", s.Log())
	}
}

// A child process that exits does not cut short the app's waits in C:
// SIGCHLD (and SIGWINCH) keep their default action, ignored, in the
// worker, as under python itself, uWSGI and Gunicorn. Caught by Go's
// handler, each interrupted a poll() or usleep() (EINTR) of code that does
// not retry, SQLite's busy wait among them: "database is locked" came
// early for a view that ran a subprocess.
func TestChildExitDoesNotInterruptCWaits(t *testing.T) {
	t.Parallel()
	for _, threads := range []string{"1", "4"} {
		s := startApp(t, "c_waits", "--threads", threads)
		_, body := httpGet(t, s.URL("/poll"))
		if took, err := strconv.ParseFloat(string(body), 64); err != nil || took < 0.9 {
			t.Errorf("--threads %s: poll(1 s) returned after %q s: a child's exit interrupted it", threads, body)
		}
	}
}

// A tracer or profiler set for every thread (threading.settrace, as
// coverage.py and yappi set it) reaches the request threads, as under
// Gunicorn: a CI job that measured its views' coverage saw none.
func TestThreadingSettraceReachesRequests(t *testing.T) {
	t.Parallel()
	for _, threads := range []string{"1", "4"} {
		s := startApp(t, "c_waits", "--threads", threads)
		if _, body := httpGet(t, s.URL("/trace")); string(body) == "0" {
			t.Errorf("--threads %s: the tracer threading.settrace set saw no call of the view", threads)
		}
	}
}

// An app that saves a signal's handler at import and puts it back sees
// SIG_DFL for the worker's signals, as under python itself (it saw None,
// and putting None back failed its import), and the worker still stops
// on SIGTERM as carafe does, with and without a master.
func TestSignalHandlerSavedAndRestored(t *testing.T) {
	t.Parallel()
	for _, mode := range [][]string{nil, {"--master"}} {
		s := startApp(t, "signal_saved", mode...)
		if _, body := httpGet(t, s.URL("/")); string(body) != "True True True True" {
			t.Errorf("%v: getsignal says %q, want SIG_DFL for each", mode, body)
		}
		if strings.Contains(s.Log(), "carafe drops them") {
			t.Errorf("%v: the app that put back what it was shown is said to have set handlers:\n%s", mode, s.Log())
		}
		s.cmd.Process.Signal(syscall.SIGTERM)
		if code, ok := s.wait(10 * time.Second); !ok || code != 0 || !strings.Contains(s.Log(), "stopped") {
			t.Errorf("%v: after SIGTERM: exit %d (exited: %v), want a graceful stop:\n%s", mode, code, ok, s.Log())
		}
	}
}
