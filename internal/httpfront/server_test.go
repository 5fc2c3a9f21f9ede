package httpfront

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// fakeApp stands in for the interpreter: it runs fn on the call as the
// Python thread would, so the connection loop is tested without Python
// (and under the race detector).
type fakeApp struct {
	fn func(c *wsgi.Call, env map[string]string) wsgi.Result
}

func (a fakeApp) Do(c *wsgi.Call) {
	entries, ok := wsgi.Decode(c.Env)
	if !ok {
		panic("bad environ block")
	}
	env := map[string]string{}
	for _, e := range entries {
		env[e.Key] = e.Value
	}
	done := make(chan struct{})
	go func() { // another goroutine, like a Python thread
		c.Result = a.fn(c, env)
		close(done)
	}()
	<-done
}

func head(parts ...string) []byte {
	var b []byte
	for _, p := range parts {
		b = binary.LittleEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// serve starts a Server on loopback and returns a connected client.
func serve(t *testing.T, app fakeApp, opts Options) (net.Conn, *bufio.Reader) {
	t.Helper()
	return serveRunner(t, app, opts)
}

func serveBench(b *testing.B, app wsgi.Runner) (net.Conn, *bufio.Reader) {
	return serveRunner(b, app, Options{})
}

func serveRunner(t testing.TB, app wsgi.Runner, opts Options) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", listenServer(t, app, opts))
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(60 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// readResponse reads one response's head and, when framed, its body.
func readResponse(t *testing.T, br *bufio.Reader) (string, string) {
	t.Helper()
	return readResponseFor(t, br, false)
}

func readResponseFor(t *testing.T, br *bufio.Reader, isHead bool) (string, string) {
	t.Helper()
	var headLines []string
	cl, chunked := -1, false
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatalf("reading head: %v (got %q)", err, headLines)
		}
		if line == "\r\n" {
			break
		}
		headLines = append(headLines, strings.TrimRight(line, "\r\n"))
		lower := strings.ToLower(line)
		if strings.HasPrefix(lower, "content-length:") {
			cl = atoi(strings.TrimSpace(line[len("content-length:"):]))
		}
		if strings.HasPrefix(lower, "transfer-encoding: chunked") {
			chunked = true
		}
	}
	var body []byte
	switch {
	case isHead:
	case chunked:
		body = readChunkedBody(t, br)
	case cl >= 0:
		body = make([]byte, cl)
		if _, err := io.ReadFull(br, body); err != nil {
			t.Fatalf("reading body: %v", err)
		}
	}
	return strings.Join(headLines, "\n"), string(body)
}

func readChunkedBody(t *testing.T, br *bufio.Reader) []byte {
	cr := NewChunkedReader(br, 0)
	b, err := io.ReadAll(cr)
	if err != nil {
		t.Fatalf("chunked body: %v", err)
	}
	return b
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestServerFraming(t *testing.T) {
	tests := []struct {
		name     string
		request  string
		app      func(c *wsgi.Call, env map[string]string) wsgi.Result
		wantHead []string
		noHead   []string
		wantBody string
	}{
		{
			name:    "whole body known: Content-Length",
			request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			app: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
				c.Exch.Output(head("200 OK"), []byte("hello"), nil, true)
				return wsgi.OK
			},
			wantHead: []string{"HTTP/1.1 200 OK", "Content-Length: 5", "Server: carafe", "Date: "},
			wantBody: "hello",
		},
		{
			name:    "streamed without length: chunked",
			request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			app: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
				c.Exch.Output(head("200 OK"), []byte("ab"), nil, false)
				c.Exch.Output(nil, []byte("c"), []byte("d"), false)
				c.Exch.Output(nil, nil, nil, true)
				return wsgi.OK
			},
			wantHead: []string{"Transfer-Encoding: chunked"},
			wantBody: "abcd",
		},
		{
			name:    "app Content-Length never exceeded",
			request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			app: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
				c.Exch.Output(head("200 OK", "Content-Length", "3"), []byte("abcdef"), nil, false)
				c.Exch.Output(nil, []byte("gh"), nil, true)
				return wsgi.OK
			},
			wantHead: []string{"Content-Length: 3"},
			wantBody: "abc",
		},
		{
			name:    "HEAD sends no body",
			request: "HEAD / HTTP/1.1\r\nHost: x\r\n\r\n",
			app: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
				c.Exch.Output(head("200 OK"), []byte("hello"), nil, true)
				return wsgi.OK
			},
			wantHead: []string{"Content-Length: 5"},
			wantBody: "",
		},
		{
			name:    "hop-by-hop and injected headers never reach the wire",
			request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			app: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
				if c.Exch.Output(head("200 OK", "X-A", "1\r\nSet-Cookie: evil=1"), []byte("x"), nil, true) == nil {
					panic("invalid header accepted")
				}
				return wsgi.OutputError
			},
			wantHead: []string{"HTTP/1.1 500 Internal Server Error"},
			noHead:   []string{"evil"},
			wantBody: "Internal Server Error\n",
		},
		{
			name:    "app error before output: 500",
			request: "GET / HTTP/1.1\r\nHost: x\r\n\r\n",
			app: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
				return wsgi.AppError
			},
			wantHead: []string{"HTTP/1.1 500 Internal Server Error"},
			wantBody: "Internal Server Error\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, br := serve(t, fakeApp{tt.app}, Options{})
			io.WriteString(c, tt.request)
			h, body := readResponseFor(t, br, strings.HasPrefix(tt.request, "HEAD"))
			for _, w := range tt.wantHead {
				if !strings.Contains(h, w) {
					t.Errorf("head lacks %q:\n%s", w, h)
				}
			}
			for _, w := range tt.noHead {
				if strings.Contains(h, w) {
					t.Errorf("head has %q:\n%s", w, h)
				}
			}
			if body != tt.wantBody {
				t.Errorf("body %q, want %q", body, tt.wantBody)
			}
		})
	}
}

func TestServerPipelineAndEnviron(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		body := env["REQUEST_METHOD"] + " " + env["PATH_INFO"] + " " + env["QUERY_STRING"] +
			" " + env["HTTP_X_MULTI"] + " " + env["CONTENT_LENGTH"] + " " + env["SERVER_NAME"] +
			":" + env["SERVER_PORT"] + " " + string(c.Body)
		c.Exch.Output(head("200 OK"), []byte(body), nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "GET /a%20b?q=1 HTTP/1.1\r\nHost: ex.com:81\r\nX-Multi: 1\r\nX-Multi: 2\r\n\r\n"+
		"POST /p HTTP/1.1\r\nHost: ex.com\r\nContent-Length: 3\r\n\r\nxyz"+
		"POST /c HTTP/1.1\r\nHost: ex.com\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n1\r\nc\r\n0\r\n\r\n")
	want := []string{"GET /a b q=1 1, 2  ex.com:81 ", "POST /p   3 ex.com:80 xyz", "POST /c   3 ex.com:80 abc"}
	for i, w := range want {
		if _, body := readResponse(t, br); body != w {
			t.Errorf("response %d: %q, want %q", i, body, w)
		}
	}
}

func TestServerExpectContinueOnFirstRead(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		p := make([]byte, 10)
		n, _ := io.ReadFull(readerFunc(c.Exch.ReadBody), p[:4])
		c.Exch.Output(head("200 OK"), p[:n], nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	line, err := br.ReadString('\n')
	if err != nil || line != "HTTP/1.1 100 Continue\r\n" {
		t.Fatalf("got %q, %v; want the interim 100", line, err)
	}
	br.ReadString('\n')
	io.WriteString(c, "data")
	if _, body := readResponse(t, br); body != "data" {
		t.Errorf("body %q", body)
	}
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(p []byte) (int, error) { return f(p) }

func TestServerAbortAfterHeaders(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK"), []byte("partial"), nil, false)
		return wsgi.AppError
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	rest, _ := io.ReadAll(br)
	s := string(rest)
	if !strings.Contains(s, "Transfer-Encoding: chunked") || !strings.Contains(s, "partial") {
		t.Fatalf("unexpected response %q", s)
	}
	if strings.HasSuffix(s, "0\r\n\r\n") {
		t.Errorf("aborted response ends with the terminating chunk: %q", s)
	}
}

func TestServerLimits(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK"), []byte("ok"), nil, true)
		return wsgi.OK
	}}
	tests := []struct {
		name, req string
		opts      Options
		want      string
	}{
		{"body too large", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\n", Options{LimitPost: 10}, "413"},
		{"chunked body too large", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n", Options{LimitPost: 10}, "413"},
		// Refused on the chunk-size line, before the 1 TiB it announces.
		{"chunk size over the limit", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nabcd\r\n10000000000\r\n", Options{LimitPost: 1 << 20}, "413"},
		{"request line", "GET /" + strings.Repeat("a", 100) + " HTTP/1.1\r\nHost: x\r\n\r\n", Options{Limits: Limits{MaxRequestLine: 50}}, "414"},
		{"header count", "GET / HTTP/1.1\r\nHost: x\r\nA: 1\r\nB: 2\r\n\r\n", Options{Limits: Limits{MaxHeaders: 2}}, "431"},
		// 9 fields of 8000 bytes: each within the field limit, 72 KB together.
		{"header bytes", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("A: "+strings.Repeat("a", 7995)+"\r\n", 9) + "\r\n", Options{}, "431"},
		{"header bytes within", "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("A: "+strings.Repeat("a", 7995)+"\r\n", 7) + "\r\n", Options{}, "200"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, br := serve(t, app, tt.opts)
			io.WriteString(c, tt.req)
			line, _ := br.ReadString('\n')
			if !strings.HasPrefix(line, "HTTP/1.1 "+tt.want) {
				t.Errorf("got %q, want %s", line, tt.want)
			}
		})
	}
}

// startServer serves app on a loopback listener; served receives what
// Serve returns.
func startServer(t *testing.T, app wsgi.Runner) (*Server, net.Listener, chan error) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(app, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() { l.Close(); srv.Shutdown(time.Second) })
	return srv, l, served
}

// stopping reports whether Shutdown has begun on srv and reached every
// connection it holds (see conn.shutdown).
func stopping(srv *Server) bool {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	for c := range srv.conns {
		if !c.stopping() {
			return false
		}
	}
	return srv.stopping && len(srv.conns) > 0
}

// A connection accepted as the server shuts down (its Accept returned just
// before the listener closed) is answered, then closed, and Shutdown waits
// for it: closing it unread reset a client in CI.
func TestShutdownAnswersLastAccepted(t *testing.T) {
	entered := make(chan struct{}, 2)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		entered <- struct{}{}
		time.Sleep(50 * time.Millisecond)
		c.Exch.Output(head("200 OK"), []byte("late"), nil, true)
		return wsgi.OK
	}}
	srv, l, served := startServer(t, app)
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(client, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
	// The accept loop's connection, tracked only once the server is closed:
	// the order a late Accept can produce.
	l2, _ := net.Listen("tcp", "127.0.0.1:0")
	defer l2.Close()
	late, _ := net.Dial("tcp", l2.Addr().String())
	defer late.Close()
	lateSrv, err := l2.Accept()
	if err != nil {
		t.Fatal(err)
	}
	late.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(late, "GET /late HTTP/1.1\r\nHost: h\r\n\r\n")

	<-entered // the first request is in the app
	shut := make(chan struct{})
	go func() { srv.Shutdown(5 * time.Second); close(shut) }() // closes l: Serve returns
	if err := <-served; err != nil {
		t.Fatalf("Serve after Shutdown: %v", err)
	}
	srv.serveConn(lateSrv, "127.0.0.1", "80", false, nil)
	for name, c := range map[string]net.Conn{"in flight": client, "accepted last": late} {
		br := bufio.NewReader(c)
		head, body := readResponse(t, br)
		if !strings.HasPrefix(head, "HTTP/1.1 200") || body != "late" {
			t.Errorf("%s: %q %q, want the app's 200", name, head, body)
		}
		if _, err := br.ReadByte(); err != io.EOF { // then closed, within the drain grace
			t.Errorf("%s: after the response: %v, want EOF", name, err)
		}
	}
	select {
	case <-shut:
	case <-time.After(5 * time.Second):
		t.Fatal("Shutdown did not return")
	}
}

// readFromConn is an accepted connection that notes whether a file was
// handed to its ReadFrom (the sendfile path of a TCP connection).
type readFromConn struct {
	net.Conn
	used *atomic.Bool
}

func (c readFromConn) ReadFrom(r io.Reader) (int64, error) {
	c.used.Store(true)
	return io.Copy(struct{ io.Writer }{c.Conn}, r)
}

type readFromListener struct {
	net.Listener
	used *atomic.Bool
}

func (l readFromListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return readFromConn{c, l.used}, nil
}

// A file_wrapper response goes to the socket's ReadFrom (sendfile), except
// with NoSendfile (--disable-sendfile), where it is read and written.
func TestServerNoSendfile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "body")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.Repeat("carafe file body ", 10000)
	f.WriteString(want)
	for _, noSendfile := range []bool{false, true} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		var used atomic.Bool
		app := fakeApp{fn: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
			f.Seek(0, io.SeekStart)
			if err := c.Exch.SendFile(head("200 OK"), f, int64(len(want))); err != nil {
				return wsgi.OutputError
			}
			return wsgi.OK
		}}
		srv := NewServer(app, Options{NoSendfile: noSendfile, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		go srv.Serve(readFromListener{l, &used})
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		_, body := readResponse(t, bufio.NewReader(c))
		c.Close()
		srv.Shutdown(time.Second)
		if body != want {
			t.Errorf("NoSendfile %v: body of %d bytes, want the file's %d", noSendfile, len(body), len(want))
		}
		if used.Load() == noSendfile {
			t.Errorf("NoSendfile %v: the socket's ReadFrom used: %v", noSendfile, used.Load())
		}
	}
}

// A goroutine done with a connection waits for the next one (keeping the
// stack its first request grew) rather than exiting: one by one, every
// connection is served by the same goroutine; at once, more connections
// than maxSpare leave maxSpare goroutines waiting; Shutdown ends them.
func TestServeLoopReusesGoroutines(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK", "Content-Length", "2"), []byte("ok"), nil, true)
		return wsgi.OK
	}}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(app, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go srv.Serve(l)
	defer srv.Shutdown(time.Second)
	settle := func(want int32) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for srv.spare.Load() != want {
			if time.Now().After(deadline) {
				t.Fatalf("%d goroutines wait for a connection, want %d", srv.spare.Load(), want)
			}
			time.Sleep(time.Millisecond)
		}
	}
	request := func() net.Conn {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: h\r\n\r\n")
		if h, body := readResponse(t, bufio.NewReader(c)); !strings.HasPrefix(h, "HTTP/1.1 200") || body != "ok" {
			t.Fatalf("response %q %q", h, body)
		}
		return c
	}
	base := runtime.NumGoroutine()
	for range 20 {
		request().Close()
		settle(1)
	}
	if n := runtime.NumGoroutine(); n > base+1 {
		t.Errorf("%d goroutines after 20 connections one by one, started with %d", n, base)
	}
	var open []net.Conn
	for range maxSpare + 5 {
		open = append(open, request())
	}
	for _, c := range open {
		c.Close()
	}
	settle(maxSpare)
	srv.Shutdown(time.Second)
	settle(0)
}

// Shed holds new connections in the backlog and leaves open ones alone;
// Pause and Shed hold accepting each on its own account, so that neither's
// end resumes it while the other still holds; Shutdown ends a held Serve.
func TestServerShedAndPause(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK"), []byte(env["PATH_INFO"]), nil, true)
		return wsgi.OK
	}}
	srv, l, served := startServer(t, app)
	dial := func() (net.Conn, *bufio.Reader) {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c, bufio.NewReader(c)
	}
	get := func(c net.Conn, br *bufio.Reader, path string) {
		t.Helper()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: h\r\n\r\n")
		if head, body := readResponse(t, br); !strings.HasPrefix(head, "HTTP/1.1 200") || body != path {
			t.Fatalf("%s: %q %q", path, head, body)
		}
	}
	// unanswered sends a request on a new connection and checks that it
	// waits (unaccepted); the returned func reads its answer.
	unanswered := func(path string) func() {
		t.Helper()
		// An Accept already past its deadline check as the hold began may
		// still take one connection: let the Serve loop reach its wait.
		time.Sleep(50 * time.Millisecond)
		c, br := dial()
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: h\r\n\r\n")
		c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if _, err := br.ReadByte(); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("%s was answered (%v) while accepting was held", path, err)
		}
		return func() {
			t.Helper()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			if head, body := readResponse(t, br); !strings.HasPrefix(head, "HTTP/1.1 200") || body != path {
				t.Fatalf("%s: %q %q", path, head, body)
			}
		}
	}
	open, openR := dial()
	get(open, openR, "/before")

	srv.Shed(true)
	srv.Shed(true) // twice: no second hold to undo
	waiting := unanswered("/shed")
	get(open, openR, "/kept-alive") // an open connection is served as before
	srv.Shed(false)
	waiting()

	srv.Pause()
	srv.Shed(true)
	srv.Resume()
	waiting = unanswered("/paused-then-shed")
	srv.Shed(false)
	waiting()

	srv.Shed(true)
	shut := make(chan struct{})
	go func() { srv.Shutdown(5 * time.Second); close(shut) }()
	select {
	case err := <-served:
		if err != nil {
			t.Fatalf("Serve after Shutdown: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a held Serve did not return on Shutdown")
	}
	srv.Shed(true) // after Shutdown: nothing to hold
	<-shut
}

// A request in the app when the server begins stopping (a reload, a
// recycle, SIGTERM) is answered with Connection: close: a keep-alive
// client would otherwise send its next request to a worker that cuts it
// at the end of its mercy, with no response.
func TestServerStopDuringCallSaysClose(t *testing.T) {
	entered, release := make(chan struct{}), make(chan struct{})
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		close(entered)
		<-release
		c.Exch.Output(head("200 OK"), []byte("late"), nil, true)
		return wsgi.OK
	}}
	srv, l, _ := startServer(t, app)
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(client, "GET /x HTTP/1.1\r\nHost: h\r\n\r\n")
	<-entered // the request is in the app
	go srv.Shutdown(5 * time.Second)
	for !stopping(srv) {
		time.Sleep(time.Millisecond)
	}
	close(release)
	br := bufio.NewReader(client)
	head, body := readResponse(t, br)
	if body != "late" || !strings.Contains(head, "Connection: close") {
		t.Errorf("%q %q, want the app's answer with Connection: close", head, body)
	}
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the response: %v, want EOF", err)
	}
}

// A file that ends before the size it was given (it shrank while sent)
// is the app's short body: endBody warns of it and closes. It was taken
// for a failed write, which the warning leaves to the client's leaving.
func TestSendFileShorterThanSaid(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "short")
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(strings.Repeat("x", 100))
	for _, noSendfile := range []bool{false, true} {
		var logged lockedBuffer
		app := fakeApp{fn: func(c *wsgi.Call, _ map[string]string) wsgi.Result {
			f.Seek(0, io.SeekStart)
			c.Exch.SendFile(head("200 OK", "Content-Length", "1000"), f, 1000)
			return wsgi.OK
		}}
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(app, Options{NoSendfile: noSendfile,
			Log: slog.New(slog.NewTextHandler(&logged, nil))})
		go srv.Serve(l)
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		got, _ := io.ReadAll(c) // to the close
		c.Close()
		srv.Shutdown(time.Second)
		log := logged.String()
		if !strings.HasSuffix(string(got), strings.Repeat("x", 100)) || !strings.Contains(log, "app sent less than its Content-Length") {
			t.Errorf("NoSendfile %v: got %q, log %q; want the 100 bytes, a close and the warning", noSendfile, got, log)
		}
	}
}

// A head begun and not finished when the server stops (a stalled client,
// a slowloris) gets the drain's grace, not --http-header-timeout: it held
// every reload and stop for up to 10 s.
// The same for a head begun just after the stop began, on a connection
// idle until then, and for a half head pipelined behind a request and the
// empty lines a request may follow (taken for a whole head, it was read
// under the old request's deadline).
func TestShutdownCutsAHalfHead(t *testing.T) {
	// serverConn serves okApp with a 10 s head timeout and dials it.
	serverConn := func() (*Server, net.Conn) {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(okApp, Options{HeaderTimeout: 10 * time.Second, Keepalive: time.Minute, IOTimeout: time.Minute,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		go srv.Serve(l)
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return srv, c
	}
	for _, before := range []bool{true, false} {
		srv, c := serverConn()
		const half = "GET / HTTP/1.1\r\nHost: x\r\nX-Half: "
		if before {
			io.WriteString(c, half)
		}
		time.Sleep(200 * time.Millisecond) // the server reads the head, or waits for one
		start := time.Now()
		shut := make(chan struct{})
		go func() { srv.Shutdown(8 * time.Second); close(shut) }()
		if !before {
			time.Sleep(300 * time.Millisecond)
			io.WriteString(c, half)
		}
		<-shut
		limit := drainGrace + time.Second // (its grace runs from the head's first bytes)
		if !before {
			limit += 300 * time.Millisecond
		}
		if d := time.Since(start); d > limit {
			t.Errorf("half head sent before the stop %v: Shutdown took %v, want about %v",
				before, d.Round(time.Millisecond), drainGrace)
		}
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		if _, err := io.ReadAll(c); err != nil {
			t.Errorf("half head sent before the stop %v: the connection was not closed: %v", before, err)
		}
	}
	srv, c := serverConn()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if h, _ := readResponse(t, bufio.NewReader(c)); !strings.HasPrefix(h, "HTTP/1.1 200") {
		t.Fatalf("first response %q", h)
	}
	time.Sleep(200 * time.Millisecond) // the server reads the half head
	start := time.Now()
	srv.Shutdown(8 * time.Second)
	if d := time.Since(start); d > drainGrace+time.Second {
		t.Errorf("half head behind empty lines: Shutdown took %v, want about %v", d.Round(time.Millisecond), drainGrace)
	}
}

// A body past the app's Content-Length, or any body with a 204, a 205 or
// a 304, is dropped (the connection stays in step) and logged once,
// saying which of the two it was. A 205 says Content-Length: 0, whatever
// the app said: its framing is read as usual (RFC 9110 §15.3.6).
func TestServerBodyPastItsFraming(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		hd := head("200 OK", "Content-Length", "2")
		switch env["PATH_INFO"] {
		case "/204":
			hd = head("204 No Content")
		case "/205":
			hd = head("205 Reset Content", "Content-Length", "9")
		}
		c.Exch.Output(hd, []byte("okay"), []byte(" more"), true)
		return wsgi.OK
	}}
	for _, tc := range []struct{ path, body, log, length string }{
		{"/long", "ok", "app sent more than its Content-Length; the excess was dropped", "Content-Length: 2"},
		{"/204", "", "app sent a body with a 204 response, which has none; the body was dropped", ""},
		{"/205", "", "app sent a body with a 205 response, which has none; the body was dropped", "Content-Length: 0"},
	} {
		var logs lockedBuffer
		c, br := serve(t, app, Options{Log: slog.New(slog.NewTextHandler(&logs, nil))})
		for range 2 { // the second request finds the connection in step
			io.WriteString(c, "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
			h, body := readResponse(t, br)
			if body != tc.body {
				t.Errorf("%s: body %q, want %q", tc.path, body, tc.body)
			}
			if n := strings.Count(h, "Content-Length"); tc.length == "" && n != 0 || tc.length != "" && (n != 1 || !strings.Contains(h, tc.length)) {
				t.Errorf("%s: want %q as its only Content-Length in\n%s", tc.path, tc.length, h)
			}
		}
		if n := strings.Count(logs.String(), tc.log); n != 2 {
			t.Errorf("%s: %d times %q in the log (once a response):\n%s", tc.path, n, tc.log, logs.String())
		}
	}
}
