package tests

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Several requests on one connection, each answered with its own body and
// the Date and Server headers.
func TestHTTPKeepAlive(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_echo")
	c := httpOpen(t, s)
	for _, path := range []string{"/one", "/two", "/three", "/four"} {
		r := c.roundTrip("GET", "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if r.Status != 200 || string(r.Body) != "GET "+path {
			t.Fatalf("GET %s: %d %q, want 200 %q", path, r.Status, r.Body, "GET "+path)
		}
		if r.Proto != "HTTP/1.1" {
			t.Errorf("GET %s: proto %q, want HTTP/1.1", path, r.Proto)
		}
		if r.Header.Get("Date") == "" || r.Header.Get("Server") == "" {
			t.Errorf("GET %s: missing Date or Server header:\n%s", path, r.Head)
		}
		if _, err := time.Parse(time.RFC1123, r.Header.Get("Date")); err != nil {
			t.Errorf("Date %q is not an HTTP date: %v", r.Header.Get("Date"), err)
		}
		if strings.EqualFold(r.Header.Get("Connection"), "close") {
			t.Fatalf("GET %s: server closes a keep-alive connection:\n%s", path, r.Head)
		}
	}
	// A POST with a body in the middle must not disturb the framing.
	r := c.roundTrip("POST", "POST /post HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello")
	if r.Status != 200 || string(r.Body) != "POST /post" {
		t.Fatalf("POST: %d %q", r.Status, r.Body)
	}
	r = c.roundTrip("GET", "GET /last HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if string(r.Body) != "GET /last" {
		t.Fatalf("last: %q", r.Body)
	}
	if _, _, closed := c.closedWithin(2 * time.Second); !closed {
		t.Fatal("connection still open after Connection: close")
	}
}

// Three requests in one write come back as three responses, in order.
func TestHTTPPipelining(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_echo")
	c := httpOpen(t, s)
	c.send("GET /a HTTP/1.1\r\nHost: x\r\n\r\n" +
		"POST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nxyz" +
		"GET /c HTTP/1.1\r\nHost: x\r\n\r\n")
	for _, want := range []string{"GET /a", "POST /b", "GET /c"} {
		r := c.resp("GET")
		if r.Status != 200 || string(r.Body) != want {
			t.Fatalf("pipelined response: %d %q, want 200 %q", r.Status, r.Body, want)
		}
	}

	// A deeper pipeline, HEADs and bodies mixed in, still comes back in order.
	var req strings.Builder
	var want []string
	for i := 0; i < 100; i++ {
		switch i % 3 {
		case 0:
			fmt.Fprintf(&req, "GET /g%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			want = append(want, fmt.Sprintf("GET /g%d", i))
		case 1:
			fmt.Fprintf(&req, "HEAD /h%d HTTP/1.1\r\nHost: x\r\n\r\n", i)
			want = append(want, "")
		default:
			fmt.Fprintf(&req, "POST /p%d HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n", i)
			want = append(want, fmt.Sprintf("POST /p%d", i))
		}
	}
	go c.c.Write([]byte(req.String()))
	for i, w := range want {
		method := "GET"
		if w == "" {
			method = "HEAD"
		}
		r := c.resp(method)
		if r.Status != 200 || string(r.Body) != w {
			t.Fatalf("pipelined response %d: %d %q, want 200 %q", i, r.Status, r.Body, w)
		}
	}
}

// Many idle connections do not starve a new one.
func TestHTTPManyIdleConnections(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_echo", "--threads", "2")
	for i := 0; i < 300; i++ {
		c := httpOpen(t, s)
		if i%2 == 0 {
			c.send("GET /idle HTTP/1.1\r\nHost: x\r\n") // half a head
		}
	}
	start := time.Now()
	httpExpectOK(t, s, "/fresh")
	if took := time.Since(start); took > time.Second {
		t.Fatalf("a request behind 300 idle connections took %v", took)
	}
}

// An idle keep-alive connection holds no buffers: it waits for its next
// request without them and takes a pair when the request comes. Idle
// connections cost 16 KiB each when each kept its own (a page of its
// 16 KiB read and write buffers touched, and the rest), 8-9 KiB without.
func TestHTTPIdleConnectionsHoldNoBuffers(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_echo", "--threads", "2")
	pid := s.cmd.Process.Pid
	const n = 1000
	conns := make([]*httpConn, n)
	conns[0] = httpOpen(t, s)
	conns[0].roundTrip("GET", "GET /warm HTTP/1.1\r\nHost: x\r\n\r\n")
	base := httpRSSKB(pid)
	for i := range conns {
		if conns[i] == nil {
			conns[i] = httpOpen(t, s)
		}
		if r := conns[i].roundTrip("GET", "GET /a HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 {
			t.Fatalf("connection %d: status %d", i, r.Status)
		}
	}
	time.Sleep(200 * time.Millisecond)
	per := (httpRSSKB(pid) - base) * 1024 / n
	t.Logf("%d idle keep-alive connections: %d bytes resident each", n, per)
	if per > 12<<10 {
		t.Errorf("an idle keep-alive connection costs %d bytes, want at most 12 KiB", per)
	}
	for i, c := range conns { // and each takes its next request
		if r := c.roundTrip("GET", "GET /b HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 || string(r.Body) != "GET /b" {
			t.Fatalf("connection %d, second request: %d %q", i, r.Status, r.Body)
		}
	}
}

func TestHTTP10(t *testing.T) {
	t.Parallel()
	echo := startApp(t, "http_echo")
	chunky := startApp(t, "http_chunked_out")

	t.Run("close by default", func(t *testing.T) {
		c := httpOpen(t, echo)
		r := c.roundTrip("GET", "GET /x HTTP/1.0\r\n\r\n")
		if r.Status != 200 || string(r.Body) != "GET /x" {
			t.Fatalf("%d %q", r.Status, r.Body)
		}
		if r.Proto != "HTTP/1.1" && r.Proto != "HTTP/1.0" {
			t.Errorf("proto %q", r.Proto)
		}
		if strings.EqualFold(r.Header.Get("Connection"), "keep-alive") {
			t.Errorf("keep-alive offered to an HTTP/1.0 client that did not ask:\n%s", r.Head)
		}
		if _, extra, closed := c.closedWithin(2 * time.Second); !closed || len(extra) > 0 {
			t.Fatalf("HTTP/1.0 connection not closed after the response (closed=%v, extra %q)", closed, extra)
		}
	})

	t.Run("keep-alive when asked", func(t *testing.T) {
		c := httpOpen(t, echo)
		for _, path := range []string{"/1", "/2"} {
			r := c.roundTrip("GET", "GET "+path+" HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
			if r.Status != 200 || string(r.Body) != "GET "+path {
				t.Fatalf("%s: %d %q", path, r.Status, r.Body)
			}
			if r.Header.Get("Content-Length") == "" {
				t.Errorf("%s: keep-alive HTTP/1.0 response without Content-Length:\n%s", path, r.Head)
			}
			if !strings.EqualFold(r.Header.Get("Connection"), "keep-alive") {
				t.Errorf("%s: HTTP/1.0 keep-alive response lacks Connection: keep-alive:\n%s", path, r.Head)
			}
		}
	})

	t.Run("unknown length is delimited by close", func(t *testing.T) {
		for _, req := range []string{
			"GET / HTTP/1.0\r\n\r\n",
			"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
		} {
			c := httpOpen(t, chunky)
			r := c.roundTrip("GET", req)
			if r.Status != 200 || string(r.Body) != "hello chunked world" {
				t.Fatalf("%q: %d %q", req, r.Status, r.Body)
			}
			if r.Chunked || !r.ToEOF {
				t.Fatalf("%q: an HTTP/1.0 response must not be chunked; want body until close:\n%s", req, r.Head)
			}
		}
	})
}

// HEAD gets the headers a GET would (Content-Length included) and not one
// body byte: the next response on the connection starts right after.
func TestHTTPHead(t *testing.T) {
	t.Parallel()
	echo := startApp(t, "http_echo")
	chunky := startApp(t, "http_chunked_out")

	c := httpOpen(t, echo)
	r := c.roundTrip("HEAD", "HEAD /page HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("HEAD: %d", r.Status)
	}
	// The app answers HEAD with the body (and Content-Length) of "HEAD /page".
	if r.Header.Get("Content-Length") != "10" {
		t.Errorf("HEAD: Content-Length %q, want the app's 10:\n%s", r.Header.Get("Content-Length"), r.Head)
	}
	r = c.roundTrip("GET", "GET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.Status != 200 || string(r.Body) != "GET /next" {
		t.Fatalf("response after HEAD: %d %q (body bytes leaked into the HEAD response?)", r.Status, r.Body)
	}

	// No Content-Length from the app: still no body, and no "0\r\n\r\n".
	c = httpOpen(t, chunky)
	r = c.roundTrip("HEAD", "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("HEAD (unknown length): %d", r.Status)
	}
	c.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	r2, err := httpReadResponse(c.br, "GET")
	if err != nil {
		t.Fatalf("after HEAD of an unknown-length body: %v (did the server send a chunk terminator?)", err)
	}
	if string(r2.Body) != "hello chunked world" {
		t.Fatalf("GET after HEAD: %q", r2.Body)
	}
}

// Without a Content-Length from the app an HTTP/1.1 response is chunked,
// well-formed to the last byte, and the connection stays usable.
func TestHTTPChunkedResponse(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_chunked_out")
	c := httpOpen(t, s)
	r := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
	if !r.Chunked || r.Header.Get("Content-Length") != "" {
		t.Fatalf("want Transfer-Encoding: chunked and no Content-Length:\n%s", r.Head)
	}
	if string(r.Body) != "hello chunked world" {
		t.Fatalf("decoded body %q", r.Body)
	}
	raw := string(r.RawBody)
	if !strings.HasSuffix(raw, "\r\n0\r\n\r\n") {
		t.Fatalf("raw chunked body does not end with the terminating chunk: %q", raw)
	}
	if strings.HasPrefix(raw, "0\r\n") || strings.Contains(raw, "\r\n0\r\n\r\n0") {
		t.Fatalf("an empty body item was sent as a (terminating) zero-size chunk: %q", raw)
	}
	r = c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if string(r.Body) != "hello chunked world" {
		t.Fatalf("second response on the connection: %q", r.Body)
	}
}

// The response that closes a reused connection (the client asked for
// close) is sent under a fresh write deadline: it used to go out under the
// deadline the connection's previous response had armed, long past, and
// the client got nothing at all though the log said 200.
func TestHTTPCloseResponseAfterIdle(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count", "--http-timeout", "1")
	c := s.dial()
	br := bufio.NewReader(c)
	io.WriteString(c, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
	if r, err := httpReadResponse(br, "GET"); err != nil || r.Status != 200 {
		t.Fatalf("first request: %v %v", r, err)
	}
	time.Sleep(1500 * time.Millisecond) // past the first response's write deadline
	io.WriteString(c, "GET /second HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	r, err := httpReadResponse(br, "GET")
	if err != nil || r.Status != 200 || string(r.Body) != "ok /second" {
		t.Fatalf("the closing response on the reused connection: %+v %v, want 200 \"ok /second\"", r, err)
	}
}

// --http-timeout bounds each write of a response, not the whole of one
// big chunk: a client that reads steadily, if slowly, gets an 8 MiB body
// that the app gave in one piece (as Django and Flask give theirs), though
// it takes longer than the timeout. It used to be cut at the timeout.
func TestHTTPSlowReaderBigChunk(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_stream", "--http-timeout", "1")
	c := s.dial()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	const size = 8 << 20
	io.WriteString(c, "GET /download?mb=8&piece=128 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	start := time.Now()
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
		time.Sleep(20 * time.Millisecond) // about 3 MB/s at most
	}
	r, err := httpReadResponse(bufio.NewReader(bytes.NewReader(got)), "GET")
	took := time.Since(start)
	if err != nil || r.Status != 200 || len(r.Body) != size || httpHexSHA(r.Body) != httpPatternSHA(size) {
		n := 0
		if r != nil {
			n = len(r.Body)
		}
		t.Fatalf("slow reader, one 8 MiB chunk, --http-timeout 1: %d body bytes after %v (%v), want all %d",
			n, took.Round(time.Millisecond), err, size)
	}
	t.Logf("8 MiB read slowly in %v", took.Round(time.Millisecond))
}

// --http-timeout bounds the time a response makes no progress, not the
// time one write takes: a client reading 16 KiB every 100 ms (160 KB/s)
// takes 0.8 s for each 128 KiB piece, which --http-timeout 0.5 cut off,
// for an app's body and for a static file sent with sendfile alike.
func TestHTTPSlowSteadyReaderNotCut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file, _ := io.ReadAll(httpNewPattern(1 << 20))
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), file, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "http_stream", "--http-timeout", "0.5", "--static-map", "/static="+dir, "--threads", "2")
	for _, target := range []string{"/download?mb=1&piece=16", "/static/big.bin"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			c := s.dial()
			c.(*net.TCPConn).SetReadBuffer(16 << 10)
			io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			start := time.Now()
			var got []byte
			buf := make([]byte, 16<<10)
			for {
				c.SetReadDeadline(time.Now().Add(5 * time.Second))
				n, err := io.ReadFull(c, buf)
				got = append(got, buf[:n]...)
				if err != nil {
					break
				}
				time.Sleep(100 * time.Millisecond)
			}
			r, err := httpReadResponse(bufio.NewReader(bytes.NewReader(got)), "GET")
			if err != nil || r.Status != 200 || len(r.Body) != 1<<20 || httpHexSHA(r.Body) != httpPatternSHA(1<<20) {
				n := 0
				if r != nil {
					n = len(r.Body)
				}
				t.Fatalf("a 160 KB/s reader, --http-timeout 0.5: %d body bytes after %v (%v), want all of 1 MiB",
					n, time.Since(start).Round(time.Millisecond), err)
			}
			t.Logf("1 MiB read at 160 KB/s in %v", time.Since(start).Round(time.Millisecond))
		})
	}
}

// A client that reads nothing is still cut within three --http-timeouts,
// for an app's stream of 64 KiB pieces and for a static file alike: the
// first deadline of a response to pass is taken for progress (there is no
// send queue to compare with yet), and the bytes in flight then are still
// acknowledged in the next, but the deadline is not moved on for good.
func TestHTTPDeadReaderCut(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "big.bin"), make([]byte, 64<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "http_stream", "--http-timeout", "1", "--static-map", "/static="+dir, "--threads", "2")
	for _, target := range []string{"/download?mb=64", "/static/big.bin"} {
		t.Run(target, func(t *testing.T) {
			t.Parallel()
			c := s.dial()
			c.(*net.TCPConn).SetReadBuffer(16 << 10)
			io.WriteString(c, "GET "+target+" HTTP/1.1\r\nHost: x\r\n\r\n")
			start := time.Now()
			if !s.waitLog(`"GET `+target+` HTTP/1.1" 200 `, 10*time.Second) {
				t.Fatalf("%s: not given up on after 10 s", target)
			}
			took := time.Since(start)
			t.Logf("%s: a client that reads nothing cut after %v", target, took.Round(10*time.Millisecond))
			if took > 4500*time.Millisecond {
				t.Errorf("%s: cut after %v, want within three timeouts of 1 s (and some slack)", target, took.Round(10*time.Millisecond))
			}
			// The app's response says why it was cut: the client is
			// still connected, so it did not go away.
			want := `response cut short, the client stopped reading (no progress for --http-timeout)" remote=` +
				c.LocalAddr().String() + ` method=GET target="` + target
			if strings.HasPrefix(target, "/download") && !s.waitLog(want, 2*time.Second) {
				t.Errorf("no %q in the log:\n%s", want, s.Log())
			}
		})
	}
}

// A pipelined request's answer goes out before the app starts on the next
// request: a slow one behind it no longer holds it back.
func TestHTTPPipelinedAnswerNotHeld(t *testing.T) {
	t.Parallel()
	s := startApp(t, "master_pid", "--threads", "2")
	c := s.dial()
	io.WriteString(c, "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /sleep?s=3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	c.SetReadDeadline(time.Now().Add(1500 * time.Millisecond))
	br := bufio.NewReader(c)
	if r, err := httpReadResponse(br, "GET"); err != nil || r.Status != 200 {
		t.Fatalf("the first answer, with a 3 s request pipelined behind it: %+v %v, want it at once", r, err)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if r, err := httpReadResponse(br, "GET"); err != nil || r.Status != 200 {
		t.Fatalf("the second answer: %+v %v", r, err)
	}
}

// A request refused for its head (here a header name with a space) while
// its client is still sending a big body ends with a lingering close: the
// client may send the rest and read the 400, and no reset cuts it short.
func TestHTTPRejectLingers(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count")
	c := s.dial()
	const size = 4 << 20
	wrote := make(chan error, 1)
	go func() {
		_, err := io.WriteString(c, fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nBad Header: x\r\nContent-Length: %d\r\n\r\n", size))
		if err == nil {
			_, err = c.Write(make([]byte, size))
		}
		wrote <- err
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	r, err := httpReadResponse(bufio.NewReader(c), "POST")
	if err != nil || r.Status != 400 {
		t.Fatalf("the answer to a bad head: %+v %v, want 400", r, err)
	}
	if err := <-wrote; err != nil {
		t.Errorf("sending the body after the 400 failed (%v): the server reset the connection", err)
	}
}

// Clients that keep their connections open can take every file
// descriptor a worker has (64 here, the fd_leak app's limit, which leaks
// nothing on "/"): a new client could then not connect until the
// keep-alive timeout (60 s here), and under a master the worker was
// replaced every 10 s, with every connection. A failed accept now closes
// idle kept-alive connections, as nginx does, and the new client is
// served at once.
func TestHTTPOutOfFilesClosesIdle(t *testing.T) {
	t.Parallel()
	s := startApp(t, "fd_leak", "--http-keepalive", "60", "--threads", "2")
	var kept []*bufio.Reader
	for i := range 80 {
		c, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
		if err != nil {
			t.Fatalf("connection %d: %v", i, err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		br := bufio.NewReader(c)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if r, err := httpReadResponse(br, "GET"); err != nil || r.Status != 200 {
			t.Fatalf("connection %d, with %d kept open: %v %v", i, len(kept), r, err)
		}
		kept = append(kept, br)
	}
	if want := "out of file descriptors: closing idle keep-alive connections"; !s.waitLog(want, time.Second) {
		t.Errorf("no %q in the log:\n%s", want, s.Log())
	}
}

// A client that stops reading a response of one piece (Flask's and
// Django's) does not keep the Python thread: once a turn passes in which
// it took nothing, the rest is kept in memory and the thread serves the
// next request, here the only thread's. It used to wait with the write
// for two to three --http-timeouts, and eight such clients took every
// thread of a 2 x 4 site. The slow client still gets its response whole
// when it reads; one that never reads is cut at the timeout as before.
func TestHTTPStalledReaderFreesThread(t *testing.T) {
	t.Parallel()
	// A list of one piece, with its Content-Length; and a generator's
	// piece without one, chunked, whose framing follows the parked piece.
	for _, target := range []string{"/download?mb=8&piece=128&list=1", "/download?mb=8&piece=128&chunked=1"} {
		t.Run(target, func(t *testing.T) { t.Parallel(); httpStalledReader(t, target) })
	}
}

func httpStalledReader(t *testing.T, target string) {
	s := startApp(t, "http_stream", "--threads", "1", "--http-timeout", "30")
	const size = 8 << 20
	slow := s.dial()
	slow.(*net.TCPConn).SetReadBuffer(16 << 10)
	io.WriteString(slow, "GET "+target+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	time.Sleep(500 * time.Millisecond) // the response fills the socket; nothing is read
	start := time.Now()
	c := s.dial()
	c.SetDeadline(time.Now().Add(3 * time.Second))
	io.WriteString(c, "GET /download?mb=1&piece=16&list=1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	r, err := httpReadResponse(bufio.NewReader(c), "GET")
	if err != nil || r.Status != 200 || len(r.Body) != 1<<20 {
		t.Fatalf("another request while a client does not read its 8 MiB, with one thread: %v %v (after %v)",
			r, err, time.Since(start).Round(time.Millisecond))
	}
	t.Logf("served in %v beside a client that reads nothing", time.Since(start).Round(time.Millisecond))
	slow.SetReadDeadline(time.Now().Add(20 * time.Second))
	got, err := io.ReadAll(slow)
	r, rerr := httpReadResponse(bufio.NewReader(bytes.NewReader(got)), "GET")
	if err != nil || rerr != nil || r.Status != 200 || len(r.Body) != size || httpHexSHA(r.Body) != httpPatternSHA(size) {
		t.Fatalf("the slow client's response, read at last: %d bytes, %v %v", len(got), err, rerr)
	}
}

// A stop whose time runs out while a response is still going out to a
// client that does not read says so, and logs the request: such a
// response has no Python thread for the stop to name, and it went
// without a word.
func TestHTTPStopCutsParkedResponseSaysSo(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_stream", "--threads", "1", "--http-timeout", "30", "--worker-reload-mercy", "1")
	slow := s.dial()
	slow.(*net.TCPConn).SetReadBuffer(16 << 10)
	io.WriteString(slow, "GET /download?mb=8&piece=128&list=1 HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(500 * time.Millisecond) // parked: nothing is read
	s.cmd.Process.Signal(syscall.SIGTERM)
	if _, ok := s.wait(10 * time.Second); !ok {
		t.Fatalf("still running:\n%s", s.Log())
	}
	for _, want := range []string{"response cut short, the stop's time ran out",
		`"GET /download?mb=8&piece=128&list=1 HTTP/1.1" 200 `} {
		if !strings.Contains(s.Log(), want) {
			t.Errorf("no %q in the log:\n%s", want, s.Log())
		}
	}
}

// harakiri ending a call whose earlier piece is still going out (parked)
// logs the bytes that went out, not the whole piece.
func TestHTTPHarakiriCountsParkedBytesSent(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_stream", "--master", "--processes", "1", "--threads", "1", "--harakiri", "2",
		"--http-timeout", "30")
	slow := s.dial()
	slow.(*net.TCPConn).SetReadBuffer(16 << 10)
	io.WriteString(slow, "GET /download?mb=8&piece=128&hang=30 HTTP/1.1\r\nHost: x\r\n\r\n")
	line := regexp.MustCompile(`"GET /download\?mb=8&piece=128&hang=30 HTTP/1.1" 200 (\d+) `)
	for deadline := time.Now().Add(15 * time.Second); line.FindStringSubmatch(s.Log()) == nil; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no request line after harakiri:\n%s", s.Log())
		}
	}
	n, _ := strconv.Atoi(line.FindStringSubmatch(s.Log())[1])
	if n >= 8<<20 {
		t.Errorf("harakiri's line counts %d bytes, the whole parked piece; the client read none of it", n)
	}
}

// A slow but steady reader of a streamed download holds the Python thread
// while each piece goes out (128 KiB unsent at most); that wait is the
// client's, bounded by --http-timeout, and harakiri, which is for stuck
// app code, does not count it: the download completes, where the worker
// was killed at the limit and the client got a cut body. The app's own
// time past the limit is still ended.
func TestHTTPHarakiriSparesSlowReader(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_stream", "--master", "--processes", "1", "--threads", "2", "--harakiri", "1",
		"--http-timeout", "10")
	c := s.dial()
	c.(*net.TCPConn).SetReadBuffer(16 << 10)
	io.WriteString(c, "GET /download?mb=2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	var got []byte
	buf := make([]byte, 16<<10)
	start := time.Now()
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
		time.Sleep(25 * time.Millisecond) // about 600 KB/s
	}
	took := time.Since(start)
	head, body, _ := bytes.Cut(got, []byte("\r\n\r\n"))
	if !bytes.HasPrefix(head, []byte("HTTP/1.1 200")) || len(body) != 2<<20 {
		t.Fatalf("slow download: %d of %d bytes in %v:\n%s\n%s", len(body), 2<<20, took, head, s.Log())
	}
	if took < 1500*time.Millisecond {
		t.Fatalf("the download took %v: the client was not slow enough to outlast --harakiri 1", took)
	}
	if strings.Contains(s.Log(), "harakiri") {
		t.Errorf("harakiri during a slow client's download:\n%s", s.Log())
	}
	// The app's own time still counts: a view that hangs after its body.
	resp, err := http.Get(s.URL("/download?mb=1&hang=5"))
	if err == nil {
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(s.Log(), "carafe: harakiri: GET /download?mb=1&hang=5"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no harakiri for a view that hung:\n%s", s.Log())
		}
	}
}
