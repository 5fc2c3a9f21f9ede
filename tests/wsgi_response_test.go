package tests

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestWSGIWriteCallable(t *testing.T) {
	t.Parallel()
	s := startApp(t, "write")
	for _, path := range []string{"/", "/with-length"} {
		resp, body := wsgiGet(t, s, path)
		if resp.StatusCode != 200 || string(body) != "abc" {
			t.Errorf("GET %s: %d %q, want 200 \"abc\" (write() bytes, then the iterable)", path, resp.StatusCode, body)
		}
	}
}

func TestWSGILazyStartResponse(t *testing.T) {
	t.Parallel()
	s := startApp(t, "lazy_start")
	tests := []struct {
		path   string
		status int
		body   string
	}{
		// start_response runs on the first next(), which yields b"".
		{"/", 200, "hello lazy"},
		// Only b"" went by, so exc_info may still replace the status.
		{"/held", 503, "replaced after empty chunk"},
	}
	for _, tt := range tests {
		resp, body := wsgiGet(t, s, tt.path)
		if resp.StatusCode != tt.status || string(body) != tt.body {
			t.Errorf("GET %s: %d %q, want %d %q", tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
	}
}

func TestWSGIExcInfo(t *testing.T) {
	t.Parallel()
	s := startApp(t, "exc_info")

	t.Run("before body the second status wins", func(t *testing.T) {
		resp, body := wsgiGet(t, s, "/replace")
		if resp.StatusCode != 500 || string(body) != "replaced" {
			t.Errorf("got %d %q, want 500 \"replaced\"", resp.StatusCode, body)
		}
	})

	t.Run("after body start_response re-raises and the connection aborts", func(t *testing.T) {
		c, br := wsgiRaw(t, s, "GET /after-body HTTP/1.1\r\nHost: x\r\n\r\n")
		raw, closed := wsgiReadToClose(c, br, 5*time.Second)
		wsgiCheckAbortedChunked(t, raw, closed, "first")
		if strings.Contains(string(raw), "should-not-appear") {
			t.Errorf("the app went on after start_response(exc_info) returned:\n%q", raw)
		}
		if !s.waitLog("exc_info reraised", 5*time.Second) {
			t.Errorf("start_response(..., exc_info) after body bytes did not raise (app log has no %q)", "exc_info reraised")
		}
	})

	t.Run("after write() start_response re-raises and the connection aborts", func(t *testing.T) {
		c, br := wsgiRaw(t, s, "GET /after-write HTTP/1.1\r\nHost: x\r\n\r\n")
		raw, closed := wsgiReadToClose(c, br, 5*time.Second)
		wsgiCheckAbortedChunked(t, raw, closed, "first")
		if strings.Contains(string(raw), "should-not-appear") {
			t.Errorf("the app's body went out after start_response(exc_info) failed:\n%q", raw)
		}
		if !s.waitLog("exc_info after write() reraised", 5*time.Second) {
			t.Errorf("start_response(..., exc_info) after write() did not raise")
		}
	})

	t.Run("after body with Content-Length the body stops short", func(t *testing.T) {
		c, br := wsgiRaw(t, s, "GET /after-body-length HTTP/1.1\r\nHost: x\r\n\r\n")
		raw, closed := wsgiReadToClose(c, br, 5*time.Second)
		head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
		if !strings.HasPrefix(head, "HTTP/1.1 200") || !strings.HasPrefix(body, "first") || len(body) != 70005 || !closed {
			t.Errorf("got head %q, %d body bytes (closed: %v); want the 200 head, the 70005-byte first chunk and the connection closed", head, len(body), closed)
		}
	})

	t.Run("second call without exc_info is an error", func(t *testing.T) {
		resp, body := wsgiGet(t, s, "/twice")
		if resp.StatusCode != 500 || strings.Contains(string(body), "second call accepted") {
			t.Errorf("got %d %q, want a 500 from the server", resp.StatusCode, body)
		}
	})

	resp, body := wsgiGet(t, s, "/replace")
	if resp.StatusCode != 500 || string(body) != "replaced" {
		t.Errorf("server stopped serving properly: %d %q", resp.StatusCode, body)
	}
}

// start_response with exc_info after the head went out raises; an exc_info
// that is no exception being handled (sys.exc_info() outside an except
// block, a made-up tuple) must become an exception of the server's, not
// the tuple's parts set as the pending exception: (None, None, None) there
// crashed the worker, a non-exception value corrupted memory unlogged.
func TestWSGIExcInfoNotAnException(t *testing.T) {
	t.Parallel()
	s := startApp(t, "exc_info_invalid")
	tests := []struct{ path, raised string }{
		{"/none", "TypeError"},
		{"/made-up", "TypeError"},
		{"/not-a-tuple", "TypeError"},
		{"/class-only", "LookupError"}, // a class still makes its exception
	}
	for _, tt := range tests {
		t.Run(strings.TrimPrefix(tt.path, "/"), func(t *testing.T) {
			for range 20 { // a worker that crashed refuses the next one
				c, br := wsgiRaw(t, s, "GET "+tt.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
				raw, closed := wsgiReadToClose(c, br, 5*time.Second)
				wsgiCheckAbortedChunked(t, raw, closed, "first")
				if t.Failed() {
					return
				}
			}
			if want := "exc_info " + tt.path + " raised " + tt.raised; !s.waitLog(want, 5*time.Second) {
				t.Errorf("the app's log lacks %q", want)
			}
		})
	}
}

// The write callable is the request's: after start_response(..., exc_info)
// replaced the status, the one the first call returned still writes
// (before, it refused as if its request had ended). One kept past its
// request, and start_response itself, refuse in the next request.
func TestWSGIWriteCallableOfTheRequest(t *testing.T) {
	t.Parallel()
	s := startApp(t, "write_callable", "--threads", "1")
	for range 3 {
		resp, body := wsgiGet(t, s, "/after-exc-info")
		if resp.StatusCode != 500 || string(body) != "first callable, second callable" {
			t.Fatalf("got %d %q, want 500 %q", resp.StatusCode, body, "first callable, second callable")
		}
	}
	wsgiGet(t, s, "/keep")
	if resp, body := wsgiGet(t, s, "/stale"); resp.StatusCode != 200 || string(body) != "refused refused" {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, "refused refused")
	}
}

// wsgiCheckAbortedChunked checks raw (everything the server sent) is a
// chunked 200 whose body began with prefix and was cut off: no terminating
// zero-length chunk, and the server closed the connection.
func wsgiCheckAbortedChunked(t *testing.T, raw []byte, closed bool, prefix string) {
	t.Helper()
	head, body, ok := strings.Cut(string(raw), "\r\n\r\n")
	if !ok || !strings.HasPrefix(head, "HTTP/1.1 200") {
		t.Fatalf("want a 200 head before the failure, got %q", raw)
	}
	if !strings.Contains(strings.ToLower(head), "transfer-encoding: chunked") {
		t.Errorf("response without Content-Length on HTTP/1.1 is not chunked, so an abort looks like a clean end:\n%s", head)
	}
	if !strings.Contains(body, prefix) {
		t.Errorf("body %q lacks the bytes sent before the failure (%q)", body, prefix)
	}
	if strings.HasSuffix(body, "0\r\n\r\n") {
		t.Errorf("aborted response ends with the terminating chunk, so it looks complete: %q", body)
	}
	if !closed {
		t.Errorf("connection still open 5s after the app failed mid-body (got %q)", raw)
	}
}

func TestWSGICloseCalled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	s := startApp(t, "close", "--env", "MARKER_DIR="+dir)
	marker := func(t *testing.T, id string) string {
		t.Helper()
		got, ok := wsgiWaitFile(filepath.Join(dir, id), 10*time.Second)
		if !ok {
			t.Fatalf("close() was not called on the iterable (no marker %s after 10s)", id)
		}
		return got
	}

	t.Run("after success", func(t *testing.T) {
		resp, body := wsgiGet(t, s, "/ok?id=ok")
		if resp.StatusCode != 200 || len(body) != 30 {
			t.Errorf("got %d with %d bytes, want 200 with 30", resp.StatusCode, len(body))
		}
		if got := marker(t, "ok"); got != "exhausted" {
			t.Errorf("marker %q, want \"exhausted\"", got)
		}
	})

	t.Run("on a list subclass", func(t *testing.T) {
		resp, body := wsgiGet(t, s, "/list-subclass?id=listsub")
		if resp.StatusCode != 200 || string(body) != "listed" {
			t.Errorf("got %d %q, want 200 \"listed\"", resp.StatusCode, body)
		}
		if got := marker(t, "listsub"); got != "closed" {
			t.Errorf("marker %q, want \"closed\"", got)
		}
	})

	t.Run("after an error on the first next", func(t *testing.T) {
		resp, _ := wsgiGet(t, s, "/raise-early?id=early")
		if resp.StatusCode != 500 {
			t.Errorf("status %d, want 500", resp.StatusCode)
		}
		if got := marker(t, "early"); got != "aborted 0" {
			t.Errorf("marker %q, want \"aborted 0\"", got)
		}
	})

	t.Run("after an error mid-body", func(t *testing.T) {
		c, br := wsgiRaw(t, s, "GET /raise-late?id=late HTTP/1.1\r\nHost: x\r\n\r\n")
		wsgiReadToClose(c, br, 5*time.Second)
		if got := marker(t, "late"); got != "aborted 2" {
			t.Errorf("marker %q, want \"aborted 2\"", got)
		}
	})

	t.Run("after the client disconnects mid-response", func(t *testing.T) {
		c, br := wsgiRaw(t, s, "GET /slow?id=gone HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := io.ReadFull(br, make([]byte, 256<<10)); err != nil {
			t.Fatalf("reading the start of the stream: %v", err)
		}
		c.Close()
		start := time.Now()
		got := marker(t, "gone")
		if !strings.HasPrefix(got, "aborted") {
			t.Errorf("marker %q, want \"aborted N\": the server iterated the whole body for a gone client", got)
		}
		t.Logf("close() called %v after the client left (%s)", time.Since(start).Round(time.Millisecond), got)
	})

	t.Run("write() raises once the client is gone", func(t *testing.T) {
		c, br := wsgiRaw(t, s, "GET /slow-write?id=gone-write HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := io.ReadFull(br, make([]byte, 256<<10)); err != nil {
			t.Fatalf("reading the start of the stream: %v", err)
		}
		c.Close()
		if got := marker(t, "gone-write"); !strings.HasPrefix(got, "write raised") {
			t.Errorf("app says %q, want write() to raise after the client left", got)
		}
	})

	resp, _ := wsgiGet(t, s, "/ok?id=final")
	if resp.StatusCode != 200 {
		t.Errorf("server stopped serving: %d", resp.StatusCode)
	}
}

func TestWSGIFileWrapper(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	data := make([]byte, 300_001) // not a multiple of the 8192 block size
	rand.Read(data)
	file := filepath.Join(dir, "data.bin")
	if err := os.WriteFile(file, data, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "file_wrapper", "--env", "MARKER_DIR="+dir, "--env", "DATA_FILE="+file)
	tests := []struct {
		name string
		want []byte
	}{
		{"file", data},
		{"bytesio", data},
		{"validated", data},
		{"offset", data[1000:]}, // the app seeked to 1000 before wrapping
		{"length", data[:5000]}, // Content-Length 5000 caps a 300 kB file
	}
	for _, tt := range tests {
		name := tt.name
		t.Run(name, func(t *testing.T) {
			resp, body := wsgiGet(t, s, "/"+name)
			if resp.StatusCode != 200 || !bytes.Equal(body, tt.want) {
				t.Errorf("got %d with %d bytes, want 200 with %d bytes of the file (equal: %v)",
					resp.StatusCode, len(body), len(tt.want), bytes.Equal(body, tt.want))
			}
			if _, ok := wsgiWaitFile(filepath.Join(dir, name), 5*time.Second); !ok {
				t.Errorf("the file-like object's close() was not called")
			}
		})
	}
}

// A file_wrapper response's close() runs on the Python thread that ran
// the call, as every other result's does: Django closes the request's
// database connection there, from thread-local storage. The file goes out
// with sendfile after the call returns, and the call may have run on a
// thread of Go's (the threads float), which must stay under it until the
// close.
func TestWSGIFileWrapperClosesOnCallThread(t *testing.T) {
	t.Parallel()
	// One worker on one CPU: the Python threads float. The app's data file
	// goes in the test's own directory: a worker that exits leaves it.
	env := []string{"GOMAXPROCS=1", "FWT_SIZE=1048576", "TMPDIR=" + t.TempDir()}
	s := startAppEnv(t, env, "file_wrapper_thread", "--threads", "4")
	for range 4 {
		var wg sync.WaitGroup
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, body := wsgiGet(t, s, "/file")
				if resp.StatusCode != 200 || len(body) != 1<<20 {
					t.Errorf("got %d with %d bytes, want 200 with 1 MiB", resp.StatusCode, len(body))
				}
			}()
		}
		wg.Wait()
	}
	time.Sleep(200 * time.Millisecond) // the last close()s, after the bodies
	_, body := wsgiGet(t, s, "/report")
	t.Logf("%s", body)
	if string(body) != "32 closes, 0 elsewhere" {
		t.Errorf("report %q, want 32 closes, none on another thread than their call's", body)
	}
}

// A write() from a thread of the app's that races the choice to send a
// file_wrapper's file with sendfile: one well-formed response either way,
// never a second head inside the first.
func TestWSGIFileWrapperRacingWrite(t *testing.T) {
	t.Parallel()
	s := startApp(t, "file_wrapper_race", "--threads", "2")
	for i := 0; i < 40; i++ {
		c, br := wsgiRaw(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		resp, body := wsgiReadResp(t, br, "GET")
		if resp.StatusCode != 200 || (string(body) != "file-body" && string(body) != "WRITTENfile-body") {
			t.Fatalf("request %d: %d %q, want the file, after what was written if anything", i, resp.StatusCode, body)
		}
		// The connection must be clean for the next request.
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		if resp, body := wsgiReadResp(t, br, "GET"); resp.StatusCode != 200 || !strings.HasSuffix(string(body), "file-body") {
			t.Fatalf("request %d, the next on its connection: %d %q", i, resp.StatusCode, body)
		}
		c.Close()
	}
}

// A file_wrapper in a reference cycle with its file-like object is freed by
// the cycle collector.
func TestWSGIFileWrapperCycleFreed(t *testing.T) {
	t.Parallel()
	s := startApp(t, "file_wrapper_cycle")
	for i := 0; i < 50; i++ {
		if _, body := wsgiGet(t, s, "/make"); string(body) != "cyclic-body" {
			t.Fatalf("GET /make: %q", body)
		}
	}
	if _, body := wsgiGet(t, s, "/count"); string(body) != "0" {
		t.Errorf("file-like objects in a cycle with their wrapper still alive after gc.collect(): %s of 50", body)
	}
}

// A file_wrapper whose file's read() gives None (no length) raises the
// TypeError for it when iterated; before, it yielded the None with the
// error left pending, and the app's next call failed with a SystemError
// that its except clause could not catch.
func TestWSGIFileWrapperReadNone(t *testing.T) {
	t.Parallel()
	s := startApp(t, "file_wrapper_read_none")
	resp, body := wsgiGet(t, s, "/")
	if resp.StatusCode != 200 || string(body) != "TypeError" {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, "TypeError")
	}
}

// PEP 3333: a server "must not delay the transmission of any block". The
// app gives its first block, then waits for /release before the rest: the
// head and that block must arrive meanwhile, from a generator that
// declared Content-Length (carafe held it for 64 KiB or the end) as from
// a file wrapper over a pipe.
//
// A generator that gives its whole Content-Length is answered at once too:
// its code after the last yield may take any time, or raise (the client
// got a 500 for a body it had been given in full).
func TestWSGIBlocksNotDelayed(t *testing.T) {
	t.Parallel()
	s := startApp(t, "blocks_not_delayed", "--threads", "2")
	for _, path := range []string{"/cl", "/pipe"} {
		t.Run(path[1:], func(t *testing.T) {
			c, br := wsgiRaw(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			first := make([]byte, len("first-part\n"))
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			if err == nil {
				_, err = io.ReadFull(resp.Body, first)
			}
			if err != nil || string(first) != "first-part\n" {
				wsgiGet(t, s, "/release")
				t.Fatalf("the first block did not arrive while the app waited: %q, %v", first, err)
			}
			wsgiGet(t, s, "/release")
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			rest, err := io.ReadAll(resp.Body)
			if err != nil || string(rest) != "second-p\n" {
				t.Errorf("the rest: %q, %v; want \"second-p\\n\"", rest, err)
			}
		})
	}
	for _, path := range []string{"/last", "/last_raise"} {
		t.Run(path[1:], func(t *testing.T) {
			c, br := wsgiRaw(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			c.SetReadDeadline(time.Now().Add(3 * time.Second))
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			var body []byte
			if err == nil {
				body, err = io.ReadAll(resp.Body)
			}
			wsgiGet(t, s, "/release")
			if err != nil || resp.StatusCode != 200 || string(body) != "first-part\nsecond-p\n" {
				t.Fatalf("the whole body did not arrive while the generator went on: %v %q", err, body)
			}
		})
	}
}

func TestWSGIContentLengthMismatch(t *testing.T) {
	t.Parallel()
	big := filepath.Join(t.TempDir(), "big")
	if err := os.WriteFile(big, bytes.Repeat([]byte("b"), 32<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startAppEnv(t, []string{"BIG_FILE=" + big}, "content_length")

	t.Run("shorter body closes the connection", func(t *testing.T) {
		mark := len(s.Log())
		resp, err := wsgiClient.Get(s.URL("/short"))
		if err != nil {
			t.Fatal(err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil || string(body) != strings.Repeat("s", 10) {
			t.Errorf("read %q, err %v; want the 10 bytes then an unexpected EOF (100 declared)", body, err)
		}
		if !s.waitLog("app sent less than its Content-Length", 3*time.Second) {
			t.Errorf("no error logged for a body shorter than Content-Length; log after the request:\n%s",
				wsgiLogSince(s, mark))
		}
	})

	// A client that leaves mid-download is no fault of the app's: every
	// Django FileResponse or Flask send_file cut short by its client
	// warned that the app sent less than its Content-Length.
	t.Run("client leaving a download", func(t *testing.T) {
		mark := len(s.Log())
		c, br := wsgiRaw(t, s, "GET /big HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := io.ReadFull(br, make([]byte, 64<<10)); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if !s.waitLog(`"GET /big HTTP/1.1" 200`, 10*time.Second) {
			t.Fatalf("no request log line for the download:\n%s", wsgiLogSince(s, mark))
		}
		if log := wsgiLogSince(s, mark); strings.Contains(log, "less than its Content-Length") {
			t.Errorf("a client's leaving blamed on the app:\n%s", log)
		}
	})

	for _, path := range []string{"/long", "/long-write"} {
		t.Run("longer body is cut at Content-Length "+path, func(t *testing.T) {
			// A second request is pipelined behind: surplus bytes must not
			// reach the wire, where they would pose as its response.
			c, br := wsgiRaw(t, s, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n"+
				"GET /fine HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || len(body) != 10 {
				t.Errorf("first response %d with %q, want 200 with 10 bytes", resp.StatusCode, body)
			}
			rest, _ := wsgiReadToClose(c, br, 5*time.Second)
			if len(rest) > 0 && !strings.HasPrefix(string(rest), "HTTP/1.1 ") {
				t.Errorf("bytes beyond the declared Content-Length reached the wire: %q", rest)
			}
		})
	}

	// An iterable that goes on past its Content-Length for good is closed
	// once it does: it held the thread at full CPU, the client answered
	// long before, and every later request waited (uWSGI closes it).
	t.Run("endless body past Content-Length", func(t *testing.T) {
		resp, body := wsgiGet(t, s, "/endless")
		if resp.StatusCode != 200 || string(body) != strings.Repeat("e", 10) {
			t.Errorf("/endless: %d %q, want 200 with its 10 bytes", resp.StatusCode, body)
		}
		if _, body := wsgiGet(t, s, "/endless-closed"); string(body) != "True 1" {
			t.Errorf("/endless's generator: closed, chunks = %q, want True 1", body)
		}
	})

	resp, body := wsgiGet(t, s, "/fine")
	if resp.StatusCode != 200 || string(body) != "ok" {
		t.Errorf("server stopped serving: %d %q", resp.StatusCode, body)
	}
}

func TestWSGIResponseHeadersLatin1(t *testing.T) {
	t.Parallel()
	s := startApp(t, "response_headers")
	c, br := wsgiRaw(t, s, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, _ := wsgiReadToClose(c, br, 5*time.Second)
	head, body, _ := strings.Cut(string(raw), "\r\n\r\n")
	for _, want := range []string{"HTTP/1.1 200 OK\r\n", "\r\nX-Latin: caf\xe9\r\n", "\r\nX-Repeat: one\r\n", "\r\nX-Repeat: two\r\n"} {
		if !strings.Contains(head, want) {
			t.Errorf("response head lacks %q:\n%q", want, head)
		}
	}
	if !strings.Contains(body, "headers") {
		t.Errorf("body %q, want \"headers\"", body)
	}

	c, br = wsgiRaw(t, s, "GET /not-latin1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, _ = wsgiReadToClose(c, br, 5*time.Second)
	if !strings.HasPrefix(string(raw), "HTTP/1.1 500 ") || strings.Contains(string(raw), "X-Euro") {
		t.Errorf("a header value outside latin-1 gave %q, want a 500 without it", raw)
	}
}

// A one-chunk response goes out with its head once the call ends, after
// the result's close(). A worker that finds close() slow (2 ms or more,
// three times: Flask's call_on_close, Django's request_finished) sends
// such responses before it calls close() from then on, as Gunicorn and
// uWSGI do, and says so; a close() that does nothing never costs that.
func TestWSGISlowCloseSendsFirst(t *testing.T) {
	t.Parallel()
	s := startApp(t, "slow_close", "--threads", "2")
	c := httpOpen(t, s)
	took := func(path string) time.Duration {
		start := time.Now()
		r := c.roundTrip("GET", "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if r.Status != 200 || string(r.Body) != "done "+path {
			t.Fatalf("%s: %d %q", path, r.Status, r.Body)
		}
		return time.Since(start)
	}
	for range 5 {
		took("/fast")
	}
	for i := range 3 { // the worker learns
		if d := took("/slow"); d < 250*time.Millisecond {
			t.Errorf("slow close %d: answered in %v, before close() ended", i, d)
		}
	}
	if !s.waitLog("now sends such responses before it calls close()", 3*time.Second) {
		t.Fatalf("no line about slow close():\n%s", s.Log())
	}
	// The next /slow comes once the last close() is over (the connection's
	// next request waits for its call to end): its answer does not wait.
	if d := took("/slow"); d > 200*time.Millisecond {
		t.Errorf("after three slow close(): answered in %v, after close()", d)
	}
	if strings.Count(s.Log(), "now sends such responses") != 1 {
		t.Errorf("the line about slow close() is not said once:\n%s", s.Log())
	}
}

// A close() that lets the GIL go while another request keeps it busy waits
// for it: that wait is no slowness of the close(), and busy threads do not
// make the worker send first (two clients turned it within 3 s).
func TestWSGIBusyCloseIsNotSlow(t *testing.T) {
	t.Parallel()
	s := startApp(t, "slow_close", "--threads", "4", "--disable-logging")
	var wg sync.WaitGroup
	end := time.Now().Add(3 * time.Second)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := httpOpen(t, s)
			for time.Now().Before(end) {
				if r := c.roundTrip("GET", "GET /busy HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 {
					t.Errorf("/busy: %d", r.Status)
					return
				}
			}
		}()
	}
	wg.Wait()
	if strings.Contains(s.Log(), "now sends such responses") {
		t.Errorf("busy threads made close() look slow:\n%s", s.Log())
	}
}
