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
