package httpfront

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"carafe/internal/uwsgi"
	"carafe/internal/wsgi"
)

// okApp answers every request with its path.
var okApp = fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
	c.Exch.Output(head("200 OK"), []byte("ok "+env["PATH_INFO"]), nil, true)
	return wsgi.OK
}}

// soon reads one response within a second: a response that waits for the
// connection's next request (or for its keep-alive timeout) fails it.
func soon(t *testing.T, c net.Conn, br *bufio.Reader, isHead bool) (string, string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(time.Second))
	defer c.SetReadDeadline(time.Now().Add(60 * time.Second))
	return readResponseFor(t, br, isHead)
}

// A response goes out before the connection waits for more bytes, even
// when some of the next request (or a stray CRLF after a body, which RFC
// 9112 §2.2 asks servers to tolerate) is already buffered.
func TestServerAnswersBeforeWaiting(t *testing.T) {
	for _, tt := range []struct{ name, first, rest, want2 string }{
		{"stray CRLF after a body", "POST /a HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi\r\n",
			"GET /b HTTP/1.1\r\nHost: x\r\n\r\n", "ok /b"},
		{"part of the next request", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTT",
			"P/1.1\r\nHost: x\r\n\r\n", "ok /b"},
		{"the next head without its body", "GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n",
			"xyz", "ok /b"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, br := serve(t, okApp, Options{})
			io.WriteString(c, tt.first)
			if _, body := soon(t, c, br, false); body != "ok /a" {
				t.Fatalf("first response %q", body)
			}
			io.WriteString(c, tt.rest)
			if _, body := soon(t, c, br, false); body != tt.want2 {
				t.Errorf("second response %q, want %q", body, tt.want2)
			}
		})
	}
}

// A client that sends its whole body before it reads gets the response of
// an app that never read the body, not a connection reset, and the
// response says that the connection closes.
func TestServerUnreadBodyLingers(t *testing.T) {
	for _, tt := range []struct {
		name, head string
		body       int
	}{
		{"body too big to drain", "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n", 4 << 20},
		{"refused with 413", "POST /up HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n", 4 << 20},
	} {
		t.Run(tt.name, func(t *testing.T) {
			opts := Options{}
			if strings.Contains(tt.name, "413") {
				opts.LimitPost = 1 << 20
			}
			c, br := serve(t, okApp, opts)
			sent := make(chan error, 1)
			go func() {
				_, err := c.Write(append([]byte(tt.head), make([]byte, tt.body)...))
				sent <- err
			}()
			if err := <-sent; err != nil {
				t.Fatalf("sending the body: %v", err)
			}
			h, _ := readResponse(t, br)
			if !strings.Contains(h, "Connection: close") {
				t.Errorf("the response does not say the connection closes:\n%s", h)
			}
			if _, err := io.ReadAll(br); err != nil {
				t.Errorf("after the response: %v, want a clean end", err)
			}
		})
	}
}

// The same on the uwsgi protocol, where a gateway may write the whole body
// before it reads the response.
func TestUWSGIUnreadBodyLingers(t *testing.T) {
	c, br := serve(t, okApp, Options{Protocol: UWSGI})
	vars := []uwsgi.Var{{Key: []byte("REQUEST_METHOD"), Value: []byte("POST")},
		{Key: []byte("PATH_INFO"), Value: []byte("/up")}, {Key: []byte("CONTENT_LENGTH"), Value: []byte("4194304")}}
	sent := make(chan error, 1)
	go func() {
		_, err := c.Write(append(uwsgi.AppendRequest(nil, 0, vars), make([]byte, 4<<20)...))
		sent <- err
	}()
	if err := <-sent; err != nil {
		t.Fatalf("sending the body: %v", err)
	}
	if rest, err := io.ReadAll(br); err != nil || !strings.HasSuffix(string(rest), "ok /up") {
		t.Errorf("got %q, %v; want the response, then a clean end", rest, err)
	}
}

// An app that answers an Expect: 100-continue request without reading its
// body gets the connection closed, and its response says so.
func TestServerExpectUnreadCloses(t *testing.T) {
	c, br := serve(t, okApp, Options{})
	io.WriteString(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n")
	h, body := readResponse(t, br)
	if body != "ok /" || !strings.Contains(h, "Connection: close") {
		t.Errorf("got %q with head:\n%s", body, h)
	}
}

// HEAD responses never carry a body: not carafe's own 500, and the next
// pipelined response is read where it begins.
func TestServerHeadErrorHasNoBody(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		if env["PATH_INFO"] == "/raise" {
			return wsgi.AppError
		}
		return okApp.fn(c, env)
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "HEAD /raise HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\n\r\n")
	h, _ := readResponseFor(t, br, true)
	if !strings.HasPrefix(h, "HTTP/1.1 500") {
		t.Fatalf("HEAD got:\n%s", h)
	}
	if line, _ := br.ReadString('\n'); line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("after the HEAD response: %q, want the next response's status line", line)
	}
}

// A HEAD response whose app sent no body (as Werkzeug and Django do for
// HEAD) does not claim Content-Length: 0: GET's length is unknown.
func TestServerHeadWithoutBodyNoLength(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK"), nil, nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "HEAD / HTTP/1.1\r\nHost: x\r\n\r\nHEAD / HTTP/1.1\r\nHost: x\r\n\r\n")
	for range 2 { // and the connection stays usable
		h, _ := soon(t, c, br, true)
		if strings.Contains(h, "Content-Length") || !strings.HasPrefix(h, "HTTP/1.1 200") {
			t.Errorf("HEAD head:\n%s", h)
		}
	}
}

// Once the app's head was refused, nothing the app writes after it goes
// out: the client gets a 500, and the pipelined request after it its own
// answer.
func TestServerRefusedHeadStaysRefused(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		if env["PATH_INFO"] != "/bad" {
			return okApp.fn(c, env)
		}
		if c.Exch.Output(head("200 OK", "X-A", "1\r\nb"), nil, nil, false) == nil {
			panic("invalid header accepted")
		}
		// The app catches the error and writes on regardless.
		if c.Exch.Output(nil, []byte("HTTP/1.1 200 OK\r\nX-Injected: yes\r\n\r\n"), nil, true) == nil {
			t.Error("a body was accepted after its head was refused")
		}
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "GET /bad HTTP/1.1\r\nHost: x\r\n\r\nGET /next HTTP/1.1\r\nHost: x\r\n\r\n")
	h, body := soon(t, c, br, false)
	if !strings.HasPrefix(h, "HTTP/1.1 500") || strings.Contains(h, "Injected") {
		t.Fatalf("first response:\n%s\n\n%s", h, body)
	}
	if h, body := soon(t, c, br, false); body != "ok /next" || strings.Contains(h, "Injected") {
		t.Errorf("second response %q:\n%s", body, h)
	}
}

// A head given again after a refused one (start_response with exc_info)
// replaces it, and the body that follows it goes out.
func TestServerRefusedHeadReplaced(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		if c.Exch.Output(head("200 OK", "X-A", "1\r\nb"), nil, nil, false) == nil {
			panic("invalid header accepted")
		}
		if err := c.Exch.Output(head("500 Oops"), []byte("re"), nil, false); err != nil {
			t.Errorf("the replacing head: %v", err)
		}
		if err := c.Exch.Output(nil, []byte("placed"), nil, true); err != nil {
			t.Errorf("the replacing body: %v", err)
		}
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if h, body := soon(t, c, br, false); !strings.HasPrefix(h, "HTTP/1.1 500 Oops") || body != "replaced" {
		t.Errorf("got %q:\n%s", body, h)
	}
}

// A 100 Continue never follows the final response's head: an app that
// answers first and reads the body after gets no interim response
// written into its own.
func TestServerNoContinueAfterHead(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK"), []byte("a"), nil, false)
		p := make([]byte, 4)
		n, _ := io.ReadFull(readerFunc(c.Exch.ReadBody), p)
		c.Exch.Output(nil, p[:n], nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
	line, _ := br.ReadString('\n')
	if line != "HTTP/1.1 200 OK\r\n" {
		t.Fatalf("first line %q", line)
	}
	io.WriteString(c, "data")
	rest, _ := io.ReadAll(br)
	if strings.Contains(string(rest), "100 Continue") || !strings.Contains(string(rest), "data") {
		t.Errorf("rest of the response: %q", rest)
	}
}

// carafe's 500 keeps an HTTP/1.0 keep-alive connection only if it can say
// so; it says Connection: close and closes.
func TestServer500HTTP10Closes(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result { return wsgi.AppError }}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
	h, _ := soon(t, c, br, false)
	if !strings.Contains(h, "Connection: close") {
		t.Errorf("head:\n%s", h)
	}
	c.SetReadDeadline(time.Now().Add(time.Second))
	if _, err := br.ReadByte(); err != io.EOF {
		t.Errorf("after the 500: %v, want the connection closed", err)
	}
}

// The environ's HTTP_HOST agrees with SERVER_NAME for an absolute-form
// target (RFC 9112 §3.2.2: the Host field is ignored), and repeated Cookie
// fields join as one cookie list.
func TestServerEnvironHostAndCookies(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		body := env["HTTP_HOST"] + " " + env["SERVER_NAME"] + ":" + env["SERVER_PORT"] + " " + env["HTTP_COOKIE"]
		c.Exch.Output(head("200 OK"), []byte(body), nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "GET http://good.example:99/p HTTP/1.1\r\nHost: other.example\r\nCookie: a=1\r\nCookie: b=2\r\n\r\n")
	if _, body := readResponse(t, br); body != "good.example:99 good.example:99 a=1; b=2" {
		t.Errorf("environ gave %q", body)
	}
}

// A chunked body spilled to a temp file is closed when the request fails
// half-way, not left open until the garbage collector finds it (with the
// default --limit-post of 1 GiB, such files held disk space).
func TestServerSpilledBodyClosedOnError(t *testing.T) {
	c, br := serve(t, okApp, Options{})
	chunk := strings.Repeat("a", 64<<10)
	var req strings.Builder
	req.WriteString("POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	for range (chunkedMemMax / len(chunk)) + 4 {
		req.WriteString("10000\r\n" + chunk + "\r\n")
	}
	req.WriteString("zz\r\n")
	go io.WriteString(c, req.String())
	if line, _ := br.ReadString('\n'); !strings.HasPrefix(line, "HTTP/1.1 400") {
		t.Fatalf("got %q, want a 400", line)
	}
	// It is closed before the 400 is written.
	if n := spilledOpen(t); n > 0 {
		t.Errorf("%d spilled body temp file(s) still open after the 400", n)
	}
}

// spilledOpen counts this process's open spilled-body temp files.
func spilledOpen(t *testing.T) int {
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip("no /proc/self/fd")
	}
	n := 0
	for _, e := range ents {
		if target, err := os.Readlink("/proc/self/fd/" + e.Name()); err == nil && strings.Contains(target, "carafe-body-") {
			n++
		}
	}
	return n
}

// lingerClose gives up at once on a connection it cannot half-close.
func TestLingerNeedsCloseWrite(t *testing.T) {
	a, b := net.Pipe() // no CloseWrite
	defer b.Close()
	c := &conn{nc: a, br: bufio.NewReader(a), s: &Server{}}
	done := make(chan struct{})
	go func() { c.lingerClose(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
		t.Fatal("lingerClose waited on a connection without CloseWrite")
	}
}

// CONNECT asks for a tunnel no WSGI app can open: 501 without calling the
// app, and the connection closes, so nothing sent after it (tunnel bytes)
// is taken for a request.
func TestServerConnectRefused(t *testing.T) {
	called := make(chan string, 2)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		called <- env["REQUEST_METHOD"]
		c.Exch.Output(head("200 OK"), []byte("tunnel open"), nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{Keepalive: time.Minute})
	io.WriteString(c, "CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
	h, body := soon(t, c, br, false)
	if !strings.HasPrefix(h, "HTTP/1.1 501 ") || !strings.Contains(h, "Connection: close") {
		t.Errorf("CONNECT: %q %q, want a 501 that closes", h, body)
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Errorf("after the 501: %q, want the connection closed", rest)
	}
	select {
	case m := <-called:
		t.Errorf("the app was called (%s)", m)
	default:
	}
}

// ClientGone looks at the socket only for a request that may have waited
// (its call handed to the app departedAfter ago, or the first of a
// connection accepted as a loop began or a hold ended), and a pipelined
// request buffered says the client is there.
func TestClientGoneLooksAtOldRequestsOnly(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	client, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	nc, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	client.Close()
	time.Sleep(10 * time.Millisecond)
	c := &conn{nc: nc, br: bufio.NewReader(nc)}
	for _, tc := range []struct {
		name       string
		age        time.Duration
		backlogged bool
		want       bool
	}{
		{"young", 0, false, false},
		{"old", departedAfter, false, true},
		{"young, from the backlog", 0, true, true},
	} {
		c.queued, c.backlogged = time.Now().Add(-tc.age), tc.backlogged
		if got := c.ClientGone(); got != tc.want {
			t.Errorf("%s: ClientGone %v, want %v", tc.name, got, tc.want)
		}
		if c.backlogged {
			t.Errorf("%s: still marked as from the backlog after its first look", tc.name)
		}
	}
	c.br = bufio.NewReader(strings.NewReader("GET / HTTP/1.1\r\n\r\n"))
	c.br.Peek(1)
	c.queued = time.Now().Add(-time.Second)
	if c.ClientGone() {
		t.Error("a pipelined request buffered: gone")
	}
}

// Requests not run for want of their clients are logged as they come: the
// first at once, then those of each departedEvery in one line at its end,
// and none once a quiet one has passed.
func TestDepartedLoggedOnceAWhile(t *testing.T) {
	old := departedEvery
	departedEvery = 100 * time.Millisecond
	defer func() { departedEvery = old }()
	var logged lockedBuffer
	srv := NewServer(fakeApp{}, Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
	c := &conn{s: srv}
	c.req.Method, c.req.Target = []byte("GET"), []byte("/report")
	for range 5 {
		c.departed()
	}
	if c.status != 499 || !c.closeAfter || c.writeErr == nil {
		t.Errorf("status %d, closeAfter %v, writeErr %v: want 499, closed, nothing written", c.status, c.closeAfter, c.writeErr)
	}
	time.Sleep(150 * time.Millisecond)
	c.departed()
	time.Sleep(300 * time.Millisecond) // its line, then a quiet spell
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	want := []string{"a request was not run", "requests=4", "requests=1"}
	if len(lines) != len(want) {
		t.Fatalf("logged %d lines, want %d:\n%s", len(lines), len(want), logged.String())
	}
	for i, w := range want {
		if !strings.Contains(lines[i], w) {
			t.Errorf("line %d: %q, want %q in it", i, lines[i], w)
		}
	}
	c.departed() // after the quiet spell: at once again
	if !strings.Contains(logged.String(), "target=/report") || strings.Count(logged.String(), "a request was not run") != 2 {
		t.Errorf("after a quiet spell, a departed request is not logged at once:\n%s", logged.String())
	}
	c.departed()
	c.departed()
	srv.departedFinal() // a stop says the count at once, and stops the timer
	if !strings.HasSuffix(strings.TrimSpace(logged.String()), "requests=2") {
		t.Errorf("the stop did not say the count:\n%s", logged.String())
	}
	n := len(logged.String())
	time.Sleep(250 * time.Millisecond)
	if len(logged.String()) != n {
		t.Errorf("logged after the stop:\n%s", logged.String())
	}
}

// Requests refused unread are logged one by one up to refusedPerSecond a
// second; the rest of that second get one line with their count. A client
// sending garbage as fast as it could wrote a line a request.
func TestRefusedLoggedWithinALimit(t *testing.T) {
	var logged lockedBuffer
	srv := NewServer(fakeApp{}, Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
	for i := range refusedPerSecond + 15 {
		srv.logRefused(slog.LevelInfo, "httpfront: bad request", "n", i)
	}
	if n := strings.Count(logged.String(), "bad request"); n != refusedPerSecond {
		t.Errorf("%d lines logged at once, want %d:\n%s", n, refusedPerSecond, logged.String())
	}
	time.Sleep(1200 * time.Millisecond)
	if !strings.Contains(logged.String(), "15 more requests refused unread within a second") {
		t.Errorf("no count of the rest:\n%s", logged.String())
	}
	srv.logRefused(slog.LevelInfo, "httpfront: bad request", "n", "later")
	if !strings.Contains(logged.String(), "n=later") {
		t.Errorf("a refusal in a later second is not logged:\n%s", logged.String())
	}
}
