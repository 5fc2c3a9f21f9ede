package tests

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
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

// slowGet sends GET path (Connection: close) and reads the body through a
// small receive buffer, pausing between reads, so that a large write stays
// in flight (the GIL released) for a few hundred milliseconds.
func slowGet(addr, path string) (*http.Response, []byte, error) {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return nil, nil, err
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: carafe\r\nConnection: close\r\n\r\n", path); err != nil {
		return nil, nil, err
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	buf := make([]byte, 64<<10)
	for {
		n, err := resp.Body.Read(buf)
		body.Write(buf[:n])
		if err == io.EOF {
			return resp, body.Bytes(), nil
		}
		if err != nil {
			return resp, body.Bytes(), err
		}
		time.Sleep(time.Millisecond)
	}
}

// byteValues is the set of distinct byte values in b, as a string.
func byteValues(b []byte) string {
	var seen [256]bool
	var out []byte
	for _, c := range b {
		if !seen[c] {
			seen[c] = true
			out = append(out, c)
		}
	}
	return string(out)
}

// An item of a returned list goes out with the GIL released while another
// thread replaces it in the list: the server must keep the item alive, so
// the body is that item whole (before, the write read freed memory: mixed
// bytes, or EFAULT and a cut response).
func TestWSGIListItemReplacedDuringWrite(t *testing.T) {
	t.Parallel()
	s := startApp(t, "list_item_swap")
	for i := range 3 {
		resp, body, err := slowGet(s.addr, "/")
		if err != nil {
			t.Fatalf("request %d: %v after %d bytes", i, err, len(body))
		}
		if resp.StatusCode != 200 || len(body) != 16<<20 || len(byteValues(body)) != 1 {
			t.Fatalf("request %d: %d with %d bytes of values %q; want 200 with 16 MiB of one value",
				i, resp.StatusCode, len(body), byteValues(body))
		}
	}
}

// A write() from a second thread while the app's own write is in flight
// is refused: it would otherwise change the slot's head and body under Go.
func TestWSGIWriteFromAnotherThreadDuringOutput(t *testing.T) {
	t.Parallel()
	s := startApp(t, "write_threads")
	resp, body, err := slowGet(s.addr, "/")
	if err != nil {
		t.Fatalf("%v after %d bytes", err, len(body))
	}
	want := append(bytes.Repeat([]byte("x"), 16<<20), "refused"...)
	if resp.StatusCode != 200 || !bytes.Equal(body, want) {
		t.Fatalf("%d with %d bytes ending %q; want 200 with 16 MiB of x then %q",
			resp.StatusCode, len(body), body[max(len(body)-20, 0):], "refused")
	}
}

// A thread the app started is still in its 16 MiB write() when the app
// returns its body: the request's own thread must wait for that write
// before it sends more or ends the call. Before, both wrote to the
// connection at once, and the call ended under the write (a cut body, the
// connection reset, the slot's state then reset under the next request).
func TestWSGIWriteOutlivesCall(t *testing.T) {
	t.Parallel()
	s := startApp(t, "write_outlives", "--threads", "2")
	want := append(bytes.Repeat([]byte("y"), 16<<20), bytes.Repeat([]byte("z"), 1<<20)...)
	for i := range 3 {
		resp, body, err := slowGet(s.addr, "/")
		if err != nil {
			t.Fatalf("request %d: %v after %d bytes", i, err, len(body))
		}
		if resp.StatusCode != 200 || !bytes.Equal(body, want) {
			t.Fatalf("request %d: %d with %d bytes of values %q; want 200 with 16 MiB of y then 1 MiB of z",
				i, resp.StatusCode, len(body), byteValues(body))
		}
	}
}

// fileWrapperKinds serves testdata/apps/file_wrapper_kinds with its files
// and returns the server and DATA_FILE's contents.
func fileWrapperKinds(t *testing.T) (*server, []byte) {
	dir := t.TempDir()
	data := bytes.Repeat([]byte("carafe sends the file's own text. "), 10_000) // 340 kB
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write(data)
	zw.Close()
	files := map[string][]byte{
		"data.txt":  data,
		"data.gz":   gz.Bytes(),
		"decoy.txt": bytes.Repeat([]byte("-"), len(data)),
	}
	for name, b := range files {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startApp(t, "file_wrapper_kinds", "--env", "DATA_FILE="+filepath.Join(dir, "data.txt"),
		"--env", "GZIP_FILE="+filepath.Join(dir, "data.gz"), "--env", "DECOY_FILE="+filepath.Join(dir, "decoy.txt"))
	return s, data
}

// A file_wrapper sends what read() gives: only a plain binary file (whose
// read() is the file's bytes) may go out with sendfile, which is seen here
// as a Content-Length (iterating a file larger than the bridge's buffer
// streams it chunked).
func TestWSGIFileWrapperSendsWhatReadGives(t *testing.T) {
	t.Parallel()
	s, data := fileWrapperKinds(t)
	upper := bytes.ToUpper(data)
	tests := []struct {
		name     string
		want     []byte
		sendfile bool
	}{
		{"plain", data, true},
		{"fileio", data, true},
		{"random", data, true},
		{"offset", data[10:], true},
		{"repointed", data, true}, // the descriptor was reused after the bridge looked at it
		{"gzip", data, false},     // the decompressed text, not the file's bytes
		{"subclass", upper, false},
		{"raw_subclass", upper, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := wsgiGet(t, s, "/"+tt.name)
			if resp.StatusCode != 200 || !bytes.Equal(body, tt.want) {
				t.Errorf("got %d with %d bytes starting %q; want 200 with %d bytes starting %q",
					resp.StatusCode, len(body), body[:min(len(body), 40)], len(tt.want), tt.want[:40])
			}
			if sent := resp.ContentLength == int64(len(tt.want)); sent != tt.sendfile {
				t.Errorf("Content-Length %d (sendfile: %v), want sendfile: %v",
					resp.ContentLength, sent, tt.sendfile)
			}
		})
	}
}

// A file positioned past its end sends an empty body with
// Content-Length: 0, and the connection stays usable.
func TestWSGIFileWrapperPastEnd(t *testing.T) {
	t.Parallel()
	s, data := fileWrapperKinds(t)
	c, br := wsgiRaw(t, s, "GET /past_end HTTP/1.1\r\nHost: carafe\r\n\r\n")
	resp, body := wsgiReadResp(t, br, "GET")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != "0" || len(body) != 0 {
		t.Fatalf("got %d, Content-Length %q, %d bytes; want 200, 0, none",
			resp.StatusCode, resp.Header.Get("Content-Length"), len(body))
	}
	if _, err := io.WriteString(c, "GET /plain HTTP/1.1\r\nHost: carafe\r\n\r\n"); err != nil {
		t.Fatalf("second request: %v", err)
	}
	if resp, body := wsgiReadResp(t, br, "GET"); resp.StatusCode != 200 || !bytes.Equal(body, data) {
		t.Fatalf("second request on the connection: %d with %d bytes, want 200 with the file", resp.StatusCode, len(body))
	}
}

// A head the server refuses is refused by start_response itself, while
// the app runs (PEP 3333: "so that an error can be raised while the
// application is still running"): the app may answer with another head.
// It used to be refused only once the app had returned, a 500 the app
// never saw. An app that swallows the error leaves the client a 500, not
// silence.
func TestWSGIHeadRefused(t *testing.T) {
	t.Parallel()
	s := startApp(t, "head_refused")
	tests := []struct {
		path, want string
		code       int
	}{
		{"/replace", "replaced, refused 1", 500},
		{"/retry", "replaced, refused 2", 500},
		{"/swallow", "", 500},
	}
	for _, tt := range tests {
		t.Run(tt.path[1:], func(t *testing.T) {
			_, br := wsgiRaw(t, s, "GET "+tt.path+" HTTP/1.1\r\nHost: carafe\r\n\r\n")
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("no response: %v", err)
			}
			body, err := io.ReadAll(resp.Body)
			if err != nil || resp.StatusCode != tt.code || tt.want != "" && string(body) != tt.want {
				t.Fatalf("got %d %q (%v), want %d %q", resp.StatusCode, body, err, tt.code, tt.want)
			}
		})
	}
}

// start_response's error message for a header value formats the name,
// whose __str__ may run the app's code, then the value: both are held
// while it does. They were borrowed from the headers list, and a name
// that emptied the list had the worker read a freed value (a SIGSEGV with
// freed memory scribbled, as MALLOC_PERTURB_ does here).
func TestWSGIHeadRefusedFreedValue(t *testing.T) {
	t.Parallel()
	s := startAppEnv(t, []string{"PYTHONMALLOC=malloc", "MALLOC_PERTURB_=85"}, "head_refused")
	resp, body := wsgiGet(t, s, "/freed-value")
	want := "header X-Cleared: value 'a" + strings.Repeat(`\x01`, 1000) + "' has control characters"
	if resp.StatusCode != 200 || string(body) != want {
		t.Fatalf("got %d %.80q..., want 200 %.80q...", resp.StatusCode, body, want)
	}
}

// start_response checks the status and every header when it is called,
// by the rules the response's head is held to, and raises ValueError the
// app can catch; what passes goes out as given.
func TestWSGIStartResponseChecks(t *testing.T) {
	t.Parallel()
	s := startApp(t, "head_checks")
	type hdr = [2]string
	tests := []struct {
		status  string
		headers []hdr
		want    string
	}{
		{"200 OK", []hdr{{"X-Token_1", "a\tb c"}}, "accepted"},
		{"599 Custom reason", nil, "accepted"},
		{"200 OK", []hdr{{"Content-Length", " 8 "}, {"content-length", "8"}}, "accepted"},
		{"200", nil, "accepted"}, // PEP 3333 wants a reason; Gunicorn and uWSGI take it
		{"20", nil, "refused: invalid status '20' (want a 3-digit code 200-999, a space and a reason)"},
		{"abc OK", nil, "refused: invalid status 'abc OK'"},
		{"100 Continue", nil, "refused: invalid status '100 Continue'"},
		{"200\tOK", nil, "refused: invalid status '200\\tOK'"},
		{"200 OK\r\nX-Evil: 1", nil, "refused: invalid status '200 OK\\r\\nX-Evil: 1'"},
		{"200 OK", []hdr{{"Bad Name", "x"}}, "refused: invalid header name 'Bad Name'"},
		{"200 OK", []hdr{{"", "x"}}, "refused: invalid header name ''"},
		{"200 OK", []hdr{{"X-Bad", "a\r\nSet-Cookie: evil=1"}}, "refused: header X-Bad: value 'a\\r\\nSet-Cookie: evil=1' has control characters"},
		{"200 OK", []hdr{{"X-Bad", "a\x00"}}, "refused: header X-Bad: value 'a\\x00' has control characters"},
		{"200 OK", []hdr{{"X-Bad", "a\x7f"}}, "refused: header X-Bad: value 'a\\x7f' has control characters"},
		{"200 OK", []hdr{{"Content-Length", "x"}}, "refused: invalid Content-Length 'x'"},
		{"200 OK", []hdr{{"Content-Length", "-1"}}, "refused: invalid Content-Length '-1'"},
		{"200 OK", []hdr{{"Content-Length", "8"}, {"Content-Length", "9"}}, "refused: a second Content-Length, '9', differs from the first"},
	}
	for _, tt := range tests {
		if tt.headers == nil {
			tt.headers = []hdr{}
		}
		body, _ := json.Marshal([]any{tt.status, tt.headers})
		resp, err := http.Post(s.URL("/"), "application/json", bytes.NewReader(body))
		if err != nil {
			t.Fatalf("%s: %v", body, err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		code := 200
		if tt.want == "accepted" {
			code, _ = strconv.Atoi(tt.status[:3])
		}
		if resp.StatusCode != code || !strings.HasPrefix(string(got), tt.want) {
			t.Errorf("%s: got %d %q, want %d %q", body, resp.StatusCode, got, code, tt.want)
		}
	}
}

// An empty write() sends the head (PEP 3333: the head goes out "upon the
// application's first invocation of the write() callable"): apps call it
// to answer at once and stream later. It waited for the first bytes.
func TestWSGIEmptyWriteSendsHead(t *testing.T) {
	t.Parallel()
	s := startApp(t, "head_checks")
	c, br := wsgiRaw(t, s, "GET /early HTTP/1.1\r\nHost: carafe\r\nConnection: close\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second)) // the app sleeps 10 s
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("no head before the app's body: %q %v", line, err)
	}
}

// A second thread reading wsgi.input while the app's own read waits for
// the body is refused: Go would otherwise read one connection from two
// threads at once.
func TestWSGIInputFromAnotherThreadDuringRead(t *testing.T) {
	t.Parallel()
	s := startApp(t, "input_threads")
	const size = 256 << 10                  // past what is read ahead of the call
	resp, got := postInTwo(t, s, "/", size) // the app's read waits; the other thread tries meanwhile
	if want := fmt.Sprintf("%d refused", size); resp.StatusCode != 200 || string(got) != want {
		t.Errorf("got %d %q, want 200 %q", resp.StatusCode, got, want)
	}
}

// start_response while a thread the app started reads wsgi.input is the
// app's answer: it does no I/O, and was refused as "called from another
// thread" although it came from the request's own.
func TestWSGIStartResponseDuringAnotherThreadsRead(t *testing.T) {
	t.Parallel()
	s := startApp(t, "input_threads")
	resp, got := postInTwo(t, s, "/answer-while-reading", 256<<10)
	if resp.StatusCode != 202 || string(got) != "answered" {
		t.Errorf("got %d %q, want 202 \"answered\"", resp.StatusCode, got)
	}
}

// postInTwo POSTs size bytes to path, half of them, then the rest 600 ms
// later (while the app reads), and returns the response and its body.
func postInTwo(t *testing.T, s *server, path string, size int) (*http.Response, []byte) {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	body := bytes.Repeat([]byte("b"), size)
	fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: carafe\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", path, size)
	c.Write(body[:size/2])
	time.Sleep(600 * time.Millisecond)
	c.Write(body[size/2:])
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	return resp, got
}

// An app that closes fd 1 and 2 (a daemonising library's habit) leaves
// those numbers to the next sockets the worker accepts. carafe's own log
// lines, written to fd 2, then went to whichever client had it: other
// clients' request lines, with their addresses and URLs. They go to a
// copy of fd 2 now, and still reach the log.
func TestWSGIClosedStderrNotSentToClients(t *testing.T) {
	t.Parallel()
	s := startApp(t, "close_stdio", "--threads", "1")
	if resp, body := wsgiGet(t, s, "/closefd"); resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("/closefd: %d %q", resp.StatusCode, body)
	}
	for i := range 5 {
		// Two connections at once: the sockets take fd 1 and fd 2.
		a, b := s.dial(), s.dial()
		io.WriteString(a, fmt.Sprintf("GET /a%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i))
		ra, _ := io.ReadAll(a)
		time.Sleep(50 * time.Millisecond) // the request log's lines are written out meanwhile
		io.WriteString(b, fmt.Sprintf("GET /b%d HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", i))
		rb, _ := io.ReadAll(b)
		for name, raw := range map[string][]byte{"a": ra, "b": rb} {
			if !bytes.HasPrefix(raw, []byte("HTTP/1.1 200 ")) || !bytes.HasSuffix(raw, []byte("\r\n\r\nok")) ||
				bytes.Count(raw, []byte("HTTP/1.1")) != 1 {
				t.Fatalf("round %d, client %s got more than its answer:\n%q", i, name, raw)
			}
		}
	}
	if !s.waitLog(`"GET /b4 HTTP/1.1" 200`, 5*time.Second) {
		t.Errorf("the request log no longer reaches the log:\n%s", s.Log())
	}
}

// And a reopen of the log (SIGUSR1) after such an app takes back only the
// descriptors that are still the log's: it made fd 1 and 2 the log
// again, whichever clients' sockets they had become, and cut them.
func TestWSGIClosedStderrReopenKeepsClients(t *testing.T) {
	t.Parallel()
	logf := filepath.Join(t.TempDir(), "app.log")
	s := startApp(t, "close_stdio", "--threads", "1", "--logto", logf)
	if resp, body := wsgiGet(t, s, "/closefd"); resp.StatusCode != 200 || string(body) != "ok" {
		t.Fatalf("/closefd: %d %q", resp.StatusCode, body)
	}
	a, b := httpOpen(t, s), httpOpen(t, s) // kept alive: fd 1 and fd 2
	for _, c := range []*httpConn{a, b} {
		if r := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 {
			t.Fatalf("before the reopen: %d", r.Status)
		}
	}
	s.cmd.Process.Signal(syscall.SIGUSR1)
	time.Sleep(300 * time.Millisecond)
	for name, c := range map[string]*httpConn{"a": a, "b": b} {
		c.send("GET /again HTTP/1.1\r\nHost: x\r\n\r\n")
		c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if r, err := httpReadResponse(c.br, "GET"); err != nil || r.Status != 200 {
			t.Errorf("client %s after the reopen: %v %v", name, r, err)
		}
	}
	if b, _ := os.ReadFile(logf); !bytes.Contains(b, []byte(`"GET /again HTTP/1.1" 200`)) {
		t.Errorf("the reopened log has no line of the requests after it:\n%s", b)
	}
}
