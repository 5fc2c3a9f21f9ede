package tests

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestWSGIErrorsStream(t *testing.T) {
	t.Parallel()
	s := startApp(t, "errors_stream")
	// The port answers before the start-up line is written: a request
	// sent at once could have the app's pieces split by it (CI saw
	// "marker-456 " and "joined" on either side of it).
	s.waitLog("carafe: serving HTTP", 5*time.Second)
	resp, body := wsgiGet(t, s, "/")
	if resp.StatusCode != 200 || string(body) != "logged" {
		t.Fatalf("got %d %q, want 200 \"logged\"", resp.StatusCode, body)
	}
	for _, want := range []string{"marker-123", "marker-456 joined"} {
		if !s.waitLog(want, 5*time.Second) {
			t.Errorf("wsgi.errors text %q not in carafe's output", want)
		}
	}
}

// Every broken response below must become a 500 from the server, with an
// error logged, none of the app's header or body bytes on the wire, and
// the server still serving afterwards.
func TestWSGIAppErrorsBecome500(t *testing.T) {
	t.Parallel()
	s := startApp(t, "apperror")
	tests := []struct {
		path string
		why  string // the error logged must say why: this regexp matches it
	}{
		{"/raise-before", `kaboom-before-body-4711`},
		{"/returns-none", `(?i)none|iterable`},
		{"/no-start-response", `start_response`},
		{"/str-body", `(?i)bytes`},
		{"/bytes-body", `returned bytes, not an iterable of bytes: return \[body\]`},
		{"/str-body-later", `(?i)bytes`},
		{"/status-abc", `(?i)status`},
		{"/status-no-space", `(?i)status`},
		{"/status-two-digits", `(?i)status`},
		{"/status-crlf", `(?i)status`},
		{"/header-crlf", `(?i)header`},
		{"/header-lf", `(?i)header`},
		{"/header-name-space", `(?i)header`},
		{"/header-name-crlf", `(?i)header`},
		{"/header-name-colon", `(?i)header`},
		{"/header-not-str", `(?i)header`},
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			mark := len(s.Log())
			c, br := wsgiRaw(t, s, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			raw, _ := wsgiReadToClose(c, br, 5*time.Second)
			wire := string(raw)
			if !strings.HasPrefix(wire, "HTTP/1.1 500 ") {
				t.Errorf("want a 500, got %q", wire)
			}
			for _, leak := range []string{"evil", "bad status", "bad header", "a str", "no start_response", "Traceback", "kaboom"} {
				if strings.Contains(wire, leak) {
					t.Errorf("%q from the app reached the wire:\n%q", leak, wire)
				}
			}
			if _, body, _ := strings.Cut(wire, "\r\n\r\n"); len(body) > 512 {
				t.Errorf("500 body is %d bytes, want a short one", len(body))
			}
			// Two lines at least: the access line and the error itself,
			// which must say what was wrong. Lines naming both the path and
			// a duration are taken for access lines and do not count, nor
			// does the path itself.
			lines := wsgiWaitLogLines(s, mark, 2, 3*time.Second)
			if len(lines) < 2 {
				t.Errorf("no error logged; carafe printed only %q", lines)
			}
			why := regexp.MustCompile(tt.why)
			if !wsgiEventually(3*time.Second, func() bool {
				for _, l := range strings.Split(wsgiLogSince(s, mark), "\n") {
					access := strings.Contains(l, tt.path) && wsgiDuration.MatchString(l)
					if !access && why.MatchString(strings.ReplaceAll(l, tt.path, "")) {
						return true
					}
				}
				return false
			}) {
				t.Errorf("the error logged does not say why (no line matching %s besides the access line):\n%s",
					tt.why, wsgiLogSince(s, mark))
			}
			if tt.path == "/raise-before" && !s.waitLog("Traceback (most recent call last)", time.Second) {
				t.Errorf("no Python traceback in carafe's output")
			}
			wsgiExpectStillServing(t, s)
		})
	}
}

// wsgiExpectStillServing checks the apperror server answers a good request.
func wsgiExpectStillServing(t *testing.T, s *server) {
	t.Helper()
	resp, body := wsgiGet(t, s, "/ok")
	if resp.StatusCode != 200 || string(body) != "still serving" {
		t.Errorf("after the failure: %d %q, want 200 \"still serving\"", resp.StatusCode, body)
	}
}

func TestWSGIAppErrorAfterHeaders(t *testing.T) {
	t.Parallel()
	s := startApp(t, "apperror")

	t.Run("a sized body failing after a small first chunk is cut short", func(t *testing.T) {
		// The chunk went out as the app gave it (PEP 3333 lets no block
		// wait for the next), so only the body can break off.
		resp, err := wsgiClient.Get(s.URL("/raise-after-small-sized"))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err == nil || len(body) > 1000 {
			t.Errorf("got %d, %d bytes, err %v; want 200, then the body breaking off",
				resp.StatusCode, len(body), err)
		}
		if !s.waitLog("kaboom-after-small-sized-4714", 5*time.Second) {
			t.Errorf("the exception is not in carafe's output")
		}
		wsgiExpectStillServing(t, s)
	})

	t.Run("with Content-Length the body is cut short", func(t *testing.T) {
		resp, err := wsgiClient.Get(s.URL("/raise-after-length"))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || err == nil || len(body) >= 100000 {
			t.Errorf("got %d, %d bytes, err %v; want 200 then an unexpected EOF before the declared 100000",
				resp.StatusCode, len(body), err)
		}
		if !s.waitLog("kaboom-after-length-4712", 5*time.Second) {
			t.Errorf("the exception is not in carafe's output")
		}
		wsgiExpectStillServing(t, s)
	})

	// A body the app completed before its iterable failed goes out whole,
	// as Gunicorn and uWSGI send it, and the connection closes cleanly
	// after it: the error is the app's, after its answer.
	for _, tt := range []struct{ path, body, why string }{
		{"/raise-after-complete", "complete-body", "kaboom-after-complete-4715"},
		{"/bad-item-after-complete", "whole", "int"},
	} {
		t.Run("a completed body then a failure "+tt.path, func(t *testing.T) {
			mark := len(s.Log())
			c, br := wsgiRaw(t, s, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			raw, closed := wsgiReadToClose(c, br, 5*time.Second)
			wire := string(raw)
			want := fmt.Sprintf("Content-Length: %d\r\n", len(tt.body))
			if !strings.HasPrefix(wire, "HTTP/1.1 200 ") || !strings.Contains(wire, want) ||
				!strings.HasSuffix(wire, "\r\n\r\n"+tt.body) || !closed {
				t.Errorf("got %q (closed %v); want the whole 200 with %q, then the connection closed",
					wire, closed, tt.body)
			}
			if !wsgiEventually(3*time.Second, func() bool {
				return strings.Contains(wsgiLogSince(s, mark), tt.why)
			}) {
				t.Errorf("the app's error is not logged; since: %q", wsgiLogSince(s, mark))
			}
			wsgiExpectStillServing(t, s)
		})
	}

	t.Run("chunked ends without the last chunk", func(t *testing.T) {
		c, br := wsgiRaw(t, s, "GET /raise-after-chunked HTTP/1.1\r\nHost: x\r\n\r\n")
		raw, closed := wsgiReadToClose(c, br, 5*time.Second)
		wsgiCheckAbortedChunked(t, raw, closed, "partial-body")
		if !s.waitLog("kaboom-after-chunked-4713", 5*time.Second) {
			t.Errorf("the exception is not in carafe's output")
		}
		wsgiExpectStillServing(t, s)
	})
}

// A close() that raises once the body is whole is logged, and the
// response goes out as the app gave it, on a connection that stays open:
// a 500 instead, or a cut after a streamed body, would tell the client
// that a POST which did its work failed (Django runs request_finished's
// receivers in close()).
func TestWSGICloseRaisesAfterWholeBody(t *testing.T) {
	t.Parallel()
	s := startApp(t, "close_raises")
	self, err := os.ReadFile(filepath.Join(appDir("close_raises"), "wsgi.py"))
	if err != nil {
		t.Fatal(err)
	}
	c := httpOpen(t, s)
	for _, tt := range []struct {
		path   string
		status int
		body   string
	}{
		{"/length", 201, "done once"},
		{"/stream", 201, "done once"},
		{"/file", 200, string(self)},
		{"/length", 201, "done once"}, // the connection still serves
	} {
		mark := len(s.Log())
		r := c.roundTrip("GET", "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if r.Status != tt.status || string(r.Body) != tt.body {
			t.Fatalf("%s: got %d with %d bytes, want %d with %d", tt.path, r.Status, len(r.Body), tt.status, len(tt.body))
		}
		if !wsgiEventually(3*time.Second, func() bool {
			return strings.Contains(wsgiLogSince(s, mark), "close-raised-8841")
		}) {
			t.Errorf("%s: close()'s exception not logged; log since: %q", tt.path, wsgiLogSince(s, mark))
		}
	}
}

// The app's stdout and stderr are line-buffered: a line the app writes in
// pieces, across requests, reaches the log whole, and no access line lands
// inside it. Write-through streams wrote each piece at once, so the half
// line joined the next access line. PYTHONUNBUFFERED, which Docker images
// set, changes nothing of that. A piece pending at os.fork is written
// once, and one pending at os._exit is not lost.
func TestWSGIStdioLines(t *testing.T) {
	t.Parallel()
	for _, env := range [][]string{{"PYTHONUNBUFFERED="}, {"PYTHONUNBUFFERED=1"}} {
		t.Run(env[0], func(t *testing.T) {
			t.Parallel()
			s := startAppEnv(t, env, "stdout_lines")
			s.waitLog("carafe: serving HTTP", 5*time.Second)
			for _, path := range []string{"/start", "/between", "/end", "/fork"} {
				if resp, body := wsgiGet(t, s, path); resp.StatusCode != 200 || string(body) != path {
					t.Fatalf("%s: got %d %q", path, resp.StatusCode, body)
				}
				if !s.waitLog(path+" ", 5*time.Second) { // the access line
					t.Fatalf("no access line for %s:\n%s", path, s.Log())
				}
			}
			for _, want := range []string{"stdout-half-one-stdout half-two", "stderr-half-one-stderr half-two", "fork-child-line"} {
				if !s.waitLog(want, 5*time.Second) {
					t.Errorf("%q is not one line of the log", want)
				}
			}
			for _, line := range strings.Split(s.Log(), "\n") {
				if strings.Contains(line, "half-one") && !strings.HasSuffix(line, "half-two") {
					t.Errorf("a half line joined another: %q", line)
				}
			}
			if n := strings.Count(s.Log(), "fork-piece"); n != 1 {
				t.Errorf("the piece pending at os.fork was written %d times, want once", n)
			}
			if resp, err := http.Get(s.URL("/exit")); err == nil {
				resp.Body.Close()
			}
			if !s.waitLog("exit-piece", 5*time.Second) {
				t.Errorf("the piece pending at os._exit was lost")
			}
		})
	}
}

// Without --logto, what the app prints goes to stderr with the rest of the
// log, as under uWSGI: run as `carafe ... 2>>app.log` (an init script,
// supervisord's stderr_logfile), the prints went to stdout and were lost
// to the log, the tracebacks and request lines kept.
func TestWSGIStdoutJoinsTheLog(t *testing.T) {
	t.Parallel()
	for _, extra := range [][]string{nil, {"--processes", "2"}} {
		t.Run(fmt.Sprint(len(extra)), func(t *testing.T) {
			t.Parallel()
			_, stdout := stdoutLinesApart(t, extra...)
			if b, err := os.ReadFile(stdout); err != nil || len(b) > 0 {
				t.Errorf("stdout got %q (%v), want nothing: the print belongs with the log", b, err)
			}
		})
	}
}

// stdoutLinesApart runs the stdout_lines app with extra, its stdout to a
// file of its own (whose path it returns) and its stderr to the test's
// log, has it print a line (/start, /end), and checks that the line is
// in the log.
func stdoutLinesApart(t *testing.T, extra ...string) (*server, string) {
	t.Helper()
	stdout := filepath.Join(t.TempDir(), "stdout")
	addr := freeAddr(t)
	args := append([]string{carafeBin(t), "--http", addr, "--chdir", appDir("stdout_lines"), "--module", "wsgi"}, extra...)
	cmd := exec.Command("/bin/sh", append([]string{"-c", `exec "$@" >"$0"`, stdout}, args...)...)
	s := launchCmd(t, cmd, addr)
	s.waitReady(20 * time.Second)
	for _, path := range []string{"/start", "/end"} {
		if resp, body := wsgiGet(t, s, path); resp.StatusCode != 200 || string(body) != path {
			t.Fatalf("%s: got %d %q", path, resp.StatusCode, body)
		}
	}
	if !s.waitLog("stdout-half-one-stdout half-two", 5*time.Second) {
		t.Errorf("the app's print is not in the log (stderr):\n%s", s.Log())
	}
	return s, stdout
}

// --req-logger file:/dev/stdout keeps the request lines on stdout when the
// workers' own stdout is stderr (a container's "requests on stdout, errors
// on stderr"): opened by name, it opened stderr's file a second time, and
// the lines went there, or overwrote the log in a file of the shell's.
func TestReqLoggerStdoutStaysStdout(t *testing.T) {
	t.Parallel()
	s, stdout := stdoutLinesApart(t, "--processes", "2", "--req-logger", "file:/dev/stdout")
	var out []byte
	waitFor(5*time.Second, func() bool {
		out, _ = os.ReadFile(stdout)
		return strings.Contains(string(out), `"GET /end HTTP/1.1" 200`)
	})
	if !strings.Contains(string(out), `"GET /start HTTP/1.1" 200`) || !strings.Contains(string(out), `"GET /end HTTP/1.1" 200`) ||
		strings.Contains(string(out), "stdout-half") {
		t.Errorf("stdout has %q: want the two request lines, and nothing the app printed", out)
	}
	if strings.Contains(s.Log(), `"GET /start`) {
		t.Errorf("a request line is in stderr:\n%s", s.Log())
	}
}

// A daemon thread blocked writing to stdout when the worker stops (its
// stdout a full pipe) does not make the stop abort: Python's final flush
// finds no lock held by the stopped thread.
func TestWSGIStdioDaemonWriterAtStop(t *testing.T) {
	t.Parallel()
	s := startAppEnv(t, []string{"PYTHONUNBUFFERED="}, "stdout_daemon") // (this would unbuffer any build)
	if resp, body := wsgiGet(t, s, "/"); resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
	time.Sleep(300 * time.Millisecond) // the pipe fills at once; the thread blocks
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	code, ok := s.wait(10 * time.Second)
	if !ok {
		t.Fatalf("still running 10 s after SIGTERM:\n%s", s.Log())
	}
	if code != 0 || strings.Contains(s.Log(), "Fatal Python error") {
		t.Errorf("exit code %d after SIGTERM, want 0 and no fatal error:\n%s", code, s.Log())
	}
}
