package tests

import (
	"io"
	"net/http"
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
