package tests

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// A crash in C code under the app (a C extension's bad pointer, ctypes,
// os.abort) is logged as the app's: the signal, the request, and the
// Python stack of its thread, where the Go runtime wrote every goroutine's
// stack instead (hundreds of lines, and one more stack for every open
// connection). The master starts another worker.
func TestWorkerCrashInC(t *testing.T) {
	t.Parallel()
	s := startApp(t, "crash", "--processes", "1", "--threads", "4", "--master")
	for range 20 { // idle keep-alive connections: Go's dump listed each
		c := s.dial()
		defer c.Close()
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if resp, err := http.ReadResponse(bufio.NewReader(c), nil); err != nil || resp.StatusCode != 200 {
			t.Fatalf("keep-alive request: %v", err)
		}
	}
	for _, tc := range []struct{ path, sig, frame string }{
		{"/segv", "SIGSEGV", "in _read_null"},
		{"/abort", "SIGABRT", "wsgi.py\", line 26 in application"},
		{"/thread-segv", "SIGSEGV", "in run"}, // threading's
	} {
		client := &http.Client{Timeout: 5 * time.Second}
		if resp, err := client.Get(s.URL(tc.path)); err == nil {
			resp.Body.Close()
			t.Errorf("%s: answered %d, want the connection cut by the crash", tc.path, resp.StatusCode)
		}
		line := "fatal signal " + tc.sig
		where := "in the app's code, serving GET " + tc.path + "; the worker ends"
		if tc.path == "/thread-segv" {
			where = "in a thread the app started; the worker ends"
		}
		// The Python stack is written after the line, in writes of its own.
		if !s.waitLog(where, 5*time.Second) || !strings.Contains(s.Log(), line) || !s.waitLog(tc.frame, 5*time.Second) {
			t.Errorf("%s: want %q, %q and the Python frame %q in the log", tc.path, line, where, tc.frame)
		}
		if !answersAgain(client, s.URL("/")) {
			t.Errorf("%s: no worker answered after the crash", tc.path)
		}
	}
	if n := strings.Count(s.Log(), "goroutine "); n > 0 {
		t.Errorf("the log has %d goroutine stacks: the Go runtime's dump, not the app's crash", n)
	}
}

// A crash while the app imports says so, with the stack of the import.
func TestWorkerCrashInCAtImport(t *testing.T) {
	t.Parallel()
	code, out := run(t, 20*time.Second, "--http", freeAddr(t), "--chdir", appDir("crash"), "--module", "wsgi",
		"--env", "CRASH_AT_IMPORT=1")
	if code == 0 || !strings.Contains(out, "fatal signal SIGSEGV (a bad memory access) in the app's code, importing it") ||
		!strings.Contains(out, "line 18 in <module>") || strings.Contains(out, "goroutine ") {
		t.Errorf("exit %d, output:\n%s", code, out)
	}
}

// The request log's lines for requests answered just before a crash or an
// os._exit (a buffer of up to 100 ms, written in one batch under load)
// are written before the worker ends: those are the lines wanted to see
// what led to it. They were lost: three segfaults under wrk lost 638 of
// 65,822.
func TestWorkerCrashKeepsLogLines(t *testing.T) {
	t.Parallel()
	s := startApp(t, "crash", "--processes", "1", "--threads", "4", "--master")
	client := &http.Client{Timeout: 5 * time.Second}
	// carafe's os._exit passes for the real one.
	if code, body, _ := masterGet(client, s.URL("/exit-info")); code != 200 || body != "('(status)', 'posix', True, '_exit')" {
		t.Errorf("os._exit: %d %q", code, body)
	}
	for i, end := range []string{"/segv", "/exit", "/abort"} {
		// Requests in a quick burst, the first written at once, the rest
		// gathered for the next batch; the crash comes before it is due.
		for j := range 20 {
			resp, err := client.Get(s.URL(fmt.Sprintf("/burst-%d-%d", i, j)))
			if err != nil {
				t.Fatalf("%s: burst: %v", end, err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		if resp, err := client.Get(s.URL(end)); err == nil {
			resp.Body.Close()
			t.Fatalf("%s: answered %d, want the worker ended", end, resp.StatusCode)
		}
		// The next worker answers, and the master has logged the end.
		if !answersAgain(client, s.URL("/")) {
			t.Fatalf("%s: no worker answered after it", end)
		}
		log := s.Log()
		for j := range 20 {
			if line := fmt.Sprintf(`"GET /burst-%d-%d HTTP/1.1" 200 `, i, j); !strings.Contains(log, line) {
				t.Errorf("%s: the request log lost %s, answered before the worker ended", end, line)
			}
		}
	}
}

// answersAgain reports whether url answers 200 within 10 s: the worker
// that replaces one that ended serves.
func answersAgain(client *http.Client, url string) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if resp, err := client.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return true
			}
		}
	}
	return false
}

// A worker killed from outside (kill -9, the OOM killer) while it imports
// the app says nothing of the code: the connections on its socket wait
// for its replacement, an import away, as at a start. Its slot was taken
// for broken, and a stand-in answered them 503 in between.
func TestMasterKilledWhileImportingNo503(t *testing.T) {
	t.Parallel()
	vf, marks := masterVersionFile(t, "one"), t.TempDir()
	s, stats := masterStartStats(t, "master_reload", "--processes", "1", "--env", "MASTER_VERSION_FILE="+vf,
		"--env", "MASTER_IMPORT_SLEEP=1", "--env", "MASTER_IMPORT_MARK="+marks)
	first := masterWaitWorkers(t, stats, 1, 20*time.Second, nil)[0]
	syscall.Kill(first, syscall.SIGKILL)
	next := 0
	for deadline := time.Now().Add(10 * time.Second); next == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no replacement began its import:\n%s", s.Log())
		}
		entries, _ := os.ReadDir(marks)
		for _, e := range entries {
			if pid, _ := strconv.Atoi(e.Name()); pid != first {
				next = pid
			}
		}
	}
	load := masterStartLoadPaced(s.URL("/"), 2, 0, 20*time.Second, 20*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // requests wait for the import
	syscall.Kill(next, syscall.SIGKILL)
	masterWaitWorkers(t, stats, 1, 20*time.Second, func(p []int) bool { return p[0] != first && p[0] != next })
	time.Sleep(200 * time.Millisecond)
	load.Stop().report(t, "requests while the importing worker was killed", 0)
}

// But an import killed each time (the OOM killer ending an import that
// takes too much) is a broken slot: from the second in a row, a stand-in
// answers its socket's connections 503 rather than leave them waiting.
func TestMasterKilledAtEachImportStandsIn(t *testing.T) {
	t.Parallel()
	vf := masterVersionFile(t, "one")
	s, stats := masterStartStats(t, "master_reload", "--processes", "1", "--env", "MASTER_VERSION_FILE="+vf)
	first := masterWaitWorkers(t, stats, 1, 20*time.Second, nil)[0]
	if err := os.WriteFile(vf, []byte("killed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	syscall.Kill(first, syscall.SIGKILL)
	if !s.waitLog("answering them 503", 15*time.Second) {
		t.Fatalf("no stand-in for a slot whose imports are killed:\n%s", s.Log())
	}
}
