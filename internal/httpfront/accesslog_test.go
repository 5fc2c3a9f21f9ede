package httpfront

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"net"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"carafe/internal/accesslog"
	"carafe/internal/wsgi"
)

// lockedBuffer is a bytes.Buffer the logger writes while the test reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// carafe's own answers (here the 500 for an app that failed before its
// head) are logged with their head's size and body's, as the app's are:
// %(hsize) said 0 for them.
func TestAccessLogOwnAnswerSizes(t *testing.T) {
	var out lockedBuffer
	format, err := accesslog.ParseFormat("%(status) %(hsize) %(rsize)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	access := accesslog.New(&out, accesslog.Filter{}, format)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result { return wsgi.AppError }}
	c, br := serve(t, app, Options{Access: access})
	for _, method := range []string{"GET", "HEAD"} {
		io.WriteString(c, method+" / HTTP/1.1\r\nHost: x\r\n\r\n")
		hsize, rsize := readRaw(t, br, method == "HEAD")
		want := fmt.Sprintf("500 %d %d\n", hsize, rsize)
		for deadline := time.Now().Add(5 * time.Second); !strings.HasSuffix(out.String(), want); time.Sleep(5 * time.Millisecond) {
			access.Flush()
			if time.Now().After(deadline) {
				t.Fatalf("%s: log %q, want a line %q", method, out.String(), want)
			}
		}
	}
}

// readRaw reads one response with a Content-Length and returns the sizes
// of its head and body as they came on the wire.
func readRaw(t *testing.T, br *bufio.Reader, isHead bool) (head, body int) {
	t.Helper()
	length := 0
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		head += len(line)
		if line == "\r\n" {
			break
		}
		if v, ok := strings.CutPrefix(line, "Content-Length: "); ok {
			fmt.Sscan(v, &length)
		}
	}
	if isHead {
		return head, 0
	}
	if _, err := br.Discard(length); err != nil {
		t.Fatal(err)
	}
	return head, length
}

// %(var.HTTP_NAME) logs a request header as the environ names it, over
// HTTP and from a gateway's variables, a repeated field's values joined as
// in the environ, "-" when it was not sent. It logged the first: a proxy
// that adds its own X-Forwarded-For line after the client's had the
// client's, forged, in the log.
func TestAccessLogVars(t *testing.T) {
	format, err := accesslog.ParseFormat("%(var.HTTP_X_FORWARDED_FOR) %(var.HTTP_X_REAL_IP) %(status)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	access := accesslog.New(&out, accesslog.Filter{}, format)
	c, br := serve(t, okApp, Options{Access: access})
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nx-forwarded-for: 9.9.9.9, 10.0.0.1\r\nX-Forwarded-For: 8.8.8.8\r\n\r\n")
	readResponse(t, br)
	waitLine(t, &out, access, "9.9.9.9, 10.0.0.1, 8.8.8.8 - 200\n")
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Real-IP: 7.7.7.7\r\n\r\n")
	readResponse(t, br)
	waitLine(t, &out, access, "- 7.7.7.7 200\n")

	// %(host) of an HTTP/1.0 request without Host is its SERVER_NAME, the
	// listener's address, as uWSGI logs it; it was "-".
	hostFormat, err := accesslog.ParseFormat("%(host) %(status)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var hout lockedBuffer
	haccess := accesslog.New(&hout, accesslog.Filter{}, hostFormat)
	hc, hbr := serve(t, okApp, Options{Access: haccess})
	io.WriteString(hc, "GET / HTTP/1.0\r\n\r\n")
	readResponse(t, hbr)
	waitLine(t, &hout, haccess, "127.0.0.1 200\n")

	var uout lockedBuffer
	uaccess := accesslog.New(&uout, accesslog.Filter{}, format)
	addr := listenServer(t, okApp, Options{Protocol: UWSGI, Access: uaccess})
	uwsgiGet(t, addr, "PATH_INFO", "/", "HTTP_X_REAL_IP", "6.6.6.6")
	waitLine(t, &uout, uaccess, "- 6.6.6.6 200\n")
	uwsgiGet(t, addr, "PATH_INFO", "/", "HTTP_X_FORWARDED_FOR", "5.5.5.5", "HTTP_X_FORWARDED_FOR", "4.4.4.4")
	waitLine(t, &uout, uaccess, "5.5.5.5, 4.4.4.4 - 200\n")
	// HTTP_HOST given twice is the last, as the app has it.
	hformat, err := accesslog.ParseFormat("%(var.HTTP_HOST) %(status)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var hhout lockedBuffer
	hhaccess := accesslog.New(&hhout, accesslog.Filter{}, hformat)
	haddr := listenServer(t, okApp, Options{Protocol: UWSGI, Access: hhaccess})
	uwsgiGet(t, haddr, "PATH_INFO", "/", "HTTP_HOST", "site", "HTTP_HOST", "site:8080")
	waitLine(t, &hhout, hhaccess, "site:8080 200\n")

	// --log-x-forwarded-for: %(addr) is the whole chain, as one field; it
	// was cut at the first colon, as if it were a peer's host:port.
	addrFormat, err := accesslog.ParseFormat("%(addr) %(status)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var xout lockedBuffer
	xaccess := accesslog.New(&xout, accesslog.Filter{}, addrFormat)
	c, br = serve(t, okApp, Options{Access: xaccess, LogXForwardedFor: true})
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nX-Forwarded-For: 1.2.3.4:5678\r\nX-Forwarded-For: 2001:db8::1\r\n\r\n")
	readResponse(t, br)
	waitLine(t, &xout, xaccess, "1.2.3.4:5678,2001:db8::1 200\n")
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	readResponse(t, br)
	waitLine(t, &xout, xaccess, "127.0.0.1 200\n")
}

// uWSGI's %(headers) counts the response's header fields as they went
// out, %(vars) the request's header fields (a gateway's variables), and
// %(modifier1) the uwsgi packet's: the Logstash recipe of uWSGI's users
// names them, and carafe refused to start on it.
func TestAccessLogUWSGIFigures(t *testing.T) {
	format, err := accesslog.ParseFormat("%(headers) %(vars) %(modifier1) %(ioerr) %(status)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	access := accesslog.New(&out, accesslog.Filter{}, format)
	c, br := serve(t, okApp, Options{Access: access})
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nAccept: */*\r\nX-A: 1\r\n\r\n")
	h, _ := readResponse(t, br)
	fields := strings.Count(strings.TrimRight(h, "\r\n"), "\n") // the lines after the status line
	if fields < 2 {
		t.Fatalf("head %q: want some fields to count", h)
	}
	waitLine(t, &out, access, fmt.Sprintf("%d 3 0 0 200\n", fields))

	var uout lockedBuffer
	uaccess := accesslog.New(&uout, accesslog.Filter{}, format)
	addr := listenServer(t, okApp, Options{Protocol: UWSGI, Access: uaccess})
	uwsgiGet(t, addr, "PATH_INFO", "/", "REQUEST_METHOD", "GET", "HTTP_HOST", "x", "HTTP_X_A", "1")
	waitLine(t, &uout, uaccess, " 4 0 0 200\n") // 4 variables, modifier1 0, no I/O error
}

// %(proto) behind a gateway is the client's protocol as the gateway gives
// it (nginx with HTTP/2 to its clients): it said HTTP/1.1.
func TestAccessLogGatewayProto(t *testing.T) {
	format, err := accesslog.ParseFormat("%(proto) %(status)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	var out lockedBuffer
	access := accesslog.New(&out, accesslog.Filter{}, format)
	addr := listenServer(t, okApp, Options{Protocol: UWSGI, Access: access})
	for _, p := range []string{"HTTP/2.0", "HTTP/1.0", "HTTP/9 \"x"} {
		uwsgiGet(t, addr, "PATH_INFO", "/", "SERVER_PROTOCOL", p)
	}
	// (Each on a connection of its own: their lines may come in any order.)
	want := "HTTP/1.0 200\nHTTP/1.1 200\nHTTP/2.0 200\n" // an unknown one is not logged as sent
	sorted := func() string {
		lines := strings.SplitAfter(out.String(), "\n")
		sort.Strings(lines)
		return strings.Join(lines, "")
	}
	for deadline := time.Now().Add(5 * time.Second); sorted() != want; time.Sleep(5 * time.Millisecond) {
		access.Flush()
		if time.Now().After(deadline) {
			t.Fatalf("log %q, want %q", out.String(), want)
		}
	}
}

// A download the client leaves part-way is logged with the body bytes that
// went out, as uWSGI logs it: %(rsize) said 0, and --log-zero took it for
// an empty response.
//
// Its write error is logged as one (%(werr), --log-ioerror), also when the
// app then raises (as a WSGI app whose write fails does) and the response
// is aborted: the abort's own reason replaced it.
func TestAccessLogCutShortCountsWhatWentOut(t *testing.T) {
	format, err := accesslog.ParseFormat("%(status) %(rsize) %(werr)", 1, 1)
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	body := make([]byte, size)
	for _, raises := range []bool{false, true} {
		var out lockedBuffer
		access := accesslog.New(&out, accesslog.Filter{}, format)
		app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
			if err := c.Exch.Output(head("200 OK", "Content-Length", fmt.Sprint(size)), body, nil, true); err != nil && raises {
				return wsgi.AppError
			}
			return wsgi.OK
		}}
		c, br := serve(t, app, Options{Access: access})
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if _, err := io.CopyN(io.Discard, br, 4<<20); err != nil {
			t.Fatal(err)
		}
		c.Close()
		re := regexp.MustCompile(`^200 (\d+) 1\n$`)
		for deadline := time.Now().Add(10 * time.Second); !re.MatchString(out.String()); time.Sleep(5 * time.Millisecond) {
			access.Flush()
			if time.Now().After(deadline) {
				t.Fatalf("app raises %v: log %q, want one line for the request, with its write error", raises, out.String())
			}
		}
		n, _ := strconv.Atoi(re.FindStringSubmatch(out.String())[1])
		if n < 4<<20 || n >= size {
			t.Errorf("rsize %d: want at least the %d bytes the client read, less than the %d it did not", n, 4<<20, size)
		}
	}
}

// A request refused unread gets its access line, as nginx logs its 400s:
// fail2ban-style watchers of the access log saw none, only the
// diagnostic line, ten a second at most. What of the request line was
// read is logged, "-" for the rest.
func TestAccessLogRefusedRequests(t *testing.T) {
	var out lockedBuffer
	access := accesslog.New(&out, accesslog.Filter{Classes: []int{4}}, nil) // --disable-logging --log-4xx
	for _, tt := range []struct{ req, want string }{
		{"GARBAGE\r\n\r\n", `"- - -" 400 12 `},
		{"GET /x HTTP/1.1\r\nHost: x\r\nBad Name: 1\r\n\r\n", `"GET /x HTTP/1.1" 400 12 `},
		{"GET /" + strings.Repeat("a", 9000) + " HTTP/1.1\r\nHost: x\r\n\r\n", `"- - -" 414 13 `},
		{"GET /y HTTP/1.1\r\n\r\n", `"GET /y HTTP/1.1" 400 12 `}, // no Host
	} {
		c, br := serve(t, okApp, Options{Access: access})
		io.WriteString(c, tt.req)
		io.ReadAll(br)
		waitLine(t, &out, access, tt.want)
	}
	// A head its client never finishes: stalled past the head timeout
	// (a slowloris), 408; closed part-way, 400. Nothing is sent, and the
	// line says so (0 bytes), as nginx logs them.
	for _, tt := range []struct {
		req, want string
		close     bool
	}{
		{"GET /slow HTTP/1.1\r\nHost: x\r\nX-A: b", `"GET /slow HTTP/1.1" 408 0 `, false},
		{"GET /cut HTTP/1.1\r\nHost: x\r\nX-A", `"GET /cut HTTP/1.1" 400 0 `, true},
		{"GET /cu", `"- - -" 400 0 `, true},
	} {
		c, br := serve(t, okApp, Options{Access: access, HeaderTimeout: 200 * time.Millisecond})
		io.WriteString(c, tt.req)
		if tt.close {
			c.(*net.TCPConn).CloseWrite()
		}
		if b, _ := io.ReadAll(br); len(b) > 0 {
			t.Errorf("%q was answered %q", tt.req, b)
		}
		waitLine(t, &out, access, tt.want)
	}
	// Nor are the empty lines a client may send before a request (RFC
	// 9112 §2.2; old clients add one after a POST's body), however long
	// the wait for the request that never follows them.
	before := out.String()
	c, br := serve(t, okApp, Options{Access: access, HeaderTimeout: 200 * time.Millisecond, Keepalive: time.Second})
	io.WriteString(c, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n\r\n")
	readResponse(t, br)
	io.ReadAll(br)
	access.Flush()
	if got := strings.TrimPrefix(out.String(), before); strings.Contains(got, " 408 ") || strings.Contains(got, " 400 ") {
		t.Errorf("an empty line after a request was logged as one: %q", got)
	}
	// A connection closed between requests is no request.
	before = out.String()
	c, _ = serve(t, okApp, Options{Access: access})
	c.Close()
	time.Sleep(50 * time.Millisecond)
	access.Flush()
	if out.String() != before {
		t.Errorf("a connection that sent nothing was logged: %q", strings.TrimPrefix(out.String(), before))
	}
}

// waitLine waits until the access log written to out holds want, flushing
// its batches; the test fails after 5 s.
func waitLine(t *testing.T, out *lockedBuffer, access *accesslog.Logger, want string) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), want); time.Sleep(5 * time.Millisecond) {
		access.Flush()
		if time.Now().After(deadline) {
			t.Fatalf("log %q, want a line %q", out.String(), want)
		}
	}
}
