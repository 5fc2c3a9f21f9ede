package tests

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"
)

// wsgiClient bounds every request so a hung server fails a test instead of
// the whole run.
var wsgiClient = &http.Client{Timeout: 15 * time.Second}

// wsgiGet GETs path and returns the response and its whole body, failing
// the test on transport errors.
func wsgiGet(t testing.TB, s *server, path string) (*http.Response, []byte) {
	t.Helper()
	resp, err := wsgiClient.Get(s.URL(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: body: %v", path, err)
	}
	return resp, body
}

// wsgiGetJSON GETs path, expects a 200 and decodes the JSON body into v.
func wsgiGetJSON(t testing.TB, s *server, path string, v any) {
	t.Helper()
	resp, body := wsgiGet(t, s, path)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: status %d, want 200; body %q", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %q", path, err, body)
	}
}

// wsgiDial opens a raw connection for t (which may be a subtest of the test
// that started s) with a bufio.Reader on it.
func wsgiDial(t testing.TB, s *server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// wsgiRaw sends req verbatim on a fresh connection.
func wsgiRaw(t testing.TB, s *server, req string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, br := wsgiDial(t, s)
	if _, err := io.WriteString(c, req); err != nil {
		t.Fatalf("write: %v", err)
	}
	return c, br
}

// wsgiReadResp reads one response off br and all of its body.
func wsgiReadResp(t testing.TB, br *bufio.Reader, method string) (*http.Response, []byte) {
	t.Helper()
	resp, err := http.ReadResponse(br, &http.Request{Method: method})
	if err != nil {
		t.Fatalf("reading response: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading response body: %v (got %q)", err, body)
	}
	return resp, body
}

// wsgiReadToClose reads from r until the server closes the connection or d
// passes; closed is false when it was the deadline that ended the read.
func wsgiReadToClose(c net.Conn, r io.Reader, d time.Duration) (data []byte, closed bool) {
	c.SetReadDeadline(time.Now().Add(d))
	defer c.SetReadDeadline(time.Now().Add(30 * time.Second))
	data, err := io.ReadAll(r)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return data, false
	}
	return data, true
}

// wsgiWaitFile waits up to d for path to exist with some content.
func wsgiWaitFile(path string, d time.Duration) (string, bool) {
	deadline := time.Now().Add(d)
	for {
		if b, err := os.ReadFile(path); err == nil && len(b) > 0 {
			return string(b), true
		}
		if time.Now().After(deadline) {
			return "", false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wsgiLogSince returns what s printed after the first n bytes of its log.
func wsgiLogSince(s *server, n int) string {
	l := s.Log()
	if n > len(l) {
		return ""
	}
	return l[n:]
}

// wsgiWaitLogLines waits up to d until s printed at least want non-empty
// lines after the first n bytes of its log, and returns them.
func wsgiWaitLogLines(s *server, n, want int, d time.Duration) []string {
	deadline := time.Now().Add(d)
	for {
		var lines []string
		for _, l := range strings.Split(wsgiLogSince(s, n), "\n") {
			if strings.TrimSpace(l) != "" {
				lines = append(lines, l)
			}
		}
		if len(lines) >= want || time.Now().After(deadline) {
			return lines
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// wsgiNoCrashDump fails t when out looks like a Go crash rather than a
// clean error message.
func wsgiNoCrashDump(t testing.TB, out string) {
	t.Helper()
	for _, bad := range []string{"goroutine ", "panic", "SIGSEGV"} {
		if strings.Contains(out, bad) {
			t.Errorf("output contains %q (a crash dump, not an error message):\n%s", bad, out)
		}
	}
}

// wsgiFetchJSON is wsgiGetJSON for goroutines other than the test's own:
// it returns the failure instead of ending the test.
func wsgiFetchJSON(s *server, path string, v any) error {
	resp, err := wsgiClient.Get(s.URL(path))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return fmt.Errorf("GET %s: body: %w", path, err)
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("GET %s: status %d, body %q", path, resp.StatusCode, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		return fmt.Errorf("GET %s: %w in %q", path, err, body)
	}
	return nil
}

// wsgiEventually polls cond until it holds or d passes.
func wsgiEventually(d time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
	return true
}
