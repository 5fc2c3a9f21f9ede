package httpfront

import (
	"bufio"
	"bytes"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carafe/internal/static"
	"carafe/internal/uwsgi"
	"carafe/internal/wsgi"
)

// staticDir lays out files (name → content) in a temporary directory.
func staticDir(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// staticHandler maps prefix onto dir.
func staticHandler(t *testing.T, o static.Options, prefix, dir string) *static.Handler {
	t.Helper()
	o.Maps = []static.Mapping{{Prefix: prefix, Dir: dir}}
	h, err := static.New(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// listenServer starts a Server on loopback and returns its address, for
// serve and for tests that open more than one connection (uwsgi serves
// one request per connection).
func listenServer(t testing.TB, app wsgi.Runner, opts Options) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	srv := NewServer(app, opts)
	go srv.Serve(l)
	t.Cleanup(func() { l.Close(); srv.Shutdown(time.Second) })
	return l.Addr().String()
}

func staticDial(t *testing.T, addr string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// redirectApp answers with the header name: value (X-Sendfile,
// X-Accel-Redirect) taken from the request's query, plus extra headers.
func redirectApp(name string, extra ...string) fakeApp {
	return fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		parts := append([]string{"200 OK", name, env["QUERY_STRING"]}, extra...)
		c.Exch.Output(head(parts...), []byte("replaced by the file"), nil, true)
		return wsgi.OK
	}}
}

// slowRead reads the whole response to a request sent on c in 64 KiB
// steps, pausing between them, so that the download takes far longer
// than a short write timeout while the client is never idle for long.
func slowRead(t *testing.T, c net.Conn, req string, pause time.Duration) []byte {
	t.Helper()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	io.WriteString(c, req)
	var got []byte
	buf := make([]byte, 64<<10)
	for {
		n, err := c.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			return got
		}
		time.Sleep(pause)
	}
}

// TestStaticSlowReader: a client that keeps reading gets the whole file,
// however long that takes in all: --http-timeout is the idle time between
// writes, as for an app's body, for --static-map, X-Sendfile and
// wsgi.file_wrapper alike.
func TestStaticSlowReader(t *testing.T) {
	const size = 24 << 20
	dir := staticDir(t, map[string]string{"big.bin": strings.Repeat("0123456789abcdef", size/16)})
	path := filepath.Join(dir, "big.bin")
	sendFile := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		f, err := os.Open(path)
		if err != nil {
			return wsgi.AppError
		}
		defer f.Close()
		c.Exch.SendFile(head("200 OK", "Content-Length", "25165824"), f, size)
		return wsgi.OK
	}}
	tests := []struct {
		name string
		app  fakeApp
		opts Options
	}{
		{"static-map", okApp, Options{Static: staticHandler(t, static.Options{}, "/static", dir)}},
		{"x-sendfile", redirectApp("X-Sendfile"), Options{XSendfile: staticHandler(t, static.Options{}, dir, dir)}},
		{"file_wrapper", sendFile, Options{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// A second between writes: under the race detector on a busy
			// CI machine, 400 ms cut a reader that was keeping up. The
			// download takes about 3 s in all.
			tt.opts.IOTimeout = time.Second
			c, _ := staticDial(t, listenServer(t, tt.app, tt.opts))
			start := time.Now()
			got := slowRead(t, c, "GET /static/big.bin?"+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 8*time.Millisecond)
			i := bytes.Index(got, []byte("\r\n\r\n"))
			if i < 0 || len(got)-i-4 != size {
				t.Fatalf("got %d body bytes after %v, want %d", len(got)-i-4, time.Since(start), size)
			}
			if d := time.Since(start); d < 2*tt.opts.IOTimeout {
				t.Logf("the download took %v only: the test proves little on this machine", d)
			}
		})
	}
}

// TestStaticAnswersKeepConnection: answers that are not a file (a
// directory's redirect, refusals, failed preconditions, an unsatisfiable
// range, an X-Sendfile that names nothing) have a length, so the next
// pipelined request on the connection is answered.
func TestStaticAnswersKeepConnection(t *testing.T) {
	dir := staticDir(t, map[string]string{"a.txt": "0123456789", "idx/index.html": "<p>i</p>"})
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "out")); err != nil { // refused: 403
		t.Fatal(err)
	}
	// A handler with --static-index (as carafe's X-Accel-Redirect one): a
	// directory named without its slash must still not be redirected.
	index := static.Options{Index: []string{"index.html"}}
	opts := Options{Keepalive: time.Minute,
		Static:    staticHandler(t, index, "/static", dir),
		XSendfile: staticHandler(t, index, dir, dir)}
	c, br := staticDial(t, listenServer(t, redirectApp("X-Sendfile"), opts))
	reqs := []struct{ req, status string }{
		{"GET /static/idx HTTP/1.1\r\nHost: x\r\n\r\n", "301"},
		{"GET /static/out HTTP/1.1\r\nHost: x\r\n\r\n", "403"},
		{"GET /static/a.txt HTTP/1.1\r\nHost: x\r\nIf-Match: \"x\"\r\n\r\n", "412"},
		{"GET /static/a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=99-\r\n\r\n", "416"},
		{"GET /app?" + dir + "/nope HTTP/1.1\r\nHost: x\r\n\r\n", "404"},
		{"GET /app?" + dir + "/idx HTTP/1.1\r\nHost: x\r\n\r\n", "404"},
		{"GET /static/a.txt HTTP/1.1\r\nHost: x\r\n\r\n", "200"},
	}
	var all string
	for _, r := range reqs {
		all += r.req
	}
	io.WriteString(c, all)
	for _, r := range reqs {
		h, body := readResponse(t, br)
		if !strings.HasPrefix(h, "HTTP/1.1 "+r.status+" ") || strings.Contains(h, "Connection: close") {
			t.Fatalf("%q: got %q\n%s", r.req, body, h)
		}
	}
}

// TestStaticGetWithBodyCloses: a file's answer to a GET that carries a
// body says Connection: close, since the body is left unread and the
// connection then closes: a proxy that keeps its upstream connections
// would send the next client's request on it (nginx answered those 502).
// A GET to the same file without a body keeps the connection.
func TestStaticGetWithBodyCloses(t *testing.T) {
	dir := staticDir(t, map[string]string{"a.txt": "0123456789"})
	opts := Options{Keepalive: time.Minute, Static: staticHandler(t, static.Options{}, "/static", dir)}
	addr := listenServer(t, okApp, opts)
	for _, req := range []string{
		"GET /static/a.txt HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc",
		"GET /static/a.txt HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
		"GET /static/a.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=99-\r\nContent-Length: 3\r\n\r\nabc",
	} {
		c, br := staticDial(t, addr)
		io.WriteString(c, req+"GET /static/a.txt HTTP/1.1\r\nHost: x\r\n\r\n")
		h, _ := readResponse(t, br)
		if !strings.Contains(h, "\nConnection: close") {
			t.Errorf("%q: answer without Connection: close, but the connection closes:\n%s", req, h)
		}
		if rest, _ := io.ReadAll(br); len(rest) != 0 {
			t.Errorf("%q: %q after the answer, want the connection closed", req, rest)
		}
	}
	// The app's answer to a GET with a body it reads keeps the connection.
	c, br := staticDial(t, addr)
	io.WriteString(c, "GET /app HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
	if h, _ := readResponse(t, br); strings.Contains(h, "Connection: close") {
		t.Errorf("an app's GET with a body closes:\n%s", h)
	}
}

// TestXAccelRedirectURI: an X-Accel-Redirect value is a URI: it is
// percent-decoded once, its query dropped, and a bad escape names
// nothing; an X-Sendfile value is a file path, taken literally.
func TestXAccelRedirectURI(t *testing.T) {
	dir := staticDir(t, map[string]string{"a b.txt": "space", "é.txt": "accent", "a.txt": "plain", "100%.txt": "pct",
		"a%20b.txt": "literal"})
	accel := listenServer(t, redirectApp("X-Accel-Redirect"),
		Options{XAccel: staticHandler(t, static.Options{}, "/static", dir)})
	sendfile := listenServer(t, redirectApp("X-Sendfile"), Options{XSendfile: staticHandler(t, static.Options{}, dir, dir)})
	tests := []struct {
		addr, value, status, body string
	}{
		{accel, "/static/a%20b.txt", "200", "space"},
		{accel, "/static/%C3%A9.txt", "200", "accent"},
		{accel, "/static/a.txt?v=1", "200", "plain"},
		{accel, "/static/100%.txt", "404", ""},
		{accel, "/static/%2e%2e/x", "404", ""}, // above the directory: no file
		{sendfile, dir + "/a%20b.txt", "200", "literal"},
		{sendfile, dir + "/100%.txt", "200", "pct"},
	}
	for _, tt := range tests {
		c, br := staticDial(t, tt.addr)
		// The value rides in the query, where the app reads it raw.
		io.WriteString(c, "GET /app?"+tt.value+" HTTP/1.1\r\nHost: x\r\n\r\n")
		h, body := readResponse(t, br)
		if !strings.HasPrefix(h, "HTTP/1.1 "+tt.status+" ") || tt.body != "" && body != tt.body {
			t.Errorf("%s: got %q\n%s", tt.value, body, h)
		}
	}
}

// uwsgiGet sends one uwsgi packet with vars (pairs of name and value)
// and returns the response.
func uwsgiGet(t *testing.T, addr string, vars ...string) (string, string) {
	t.Helper()
	var vs []uwsgi.Var
	for i := 0; i+1 < len(vars); i += 2 {
		vs = append(vs, uwsgi.Var{Key: []byte(vars[i]), Value: []byte(vars[i+1])})
	}
	c, br := staticDial(t, addr)
	c.Write(uwsgi.AppendRequest(nil, 0, vs))
	return readResponse(t, br)
}

// TestStaticUWSGI: over uwsgi, static files honour the request headers
// the gateway passed as HTTP_* variables, and are looked up by PATH_INFO,
// the path the map matched (nginx's, after its rewrites), not REQUEST_URI.
func TestStaticUWSGI(t *testing.T) {
	dir := staticDir(t, map[string]string{"ten.txt": "0123456789", "ten.txt.gz": "GZ"})
	h := staticHandler(t, static.Options{Precompressed: true}, "/static", dir)
	addr := listenServer(t, okApp, Options{Protocol: UWSGI, Static: h})
	base := []string{"REQUEST_METHOD", "GET", "PATH_INFO", "/static/ten.txt", "REQUEST_URI", "/static/ten.txt",
		"SERVER_PROTOCOL", "HTTP/1.1"}
	get := func(vars ...string) (string, string) {
		t.Helper()
		return uwsgiGet(t, addr, append(append([]string{}, base...), vars...)...)
	}
	_, etag, _ := strings.Cut(firstHead(get()), "Etag: ")
	etag, _, _ = strings.Cut(etag, "\n")

	if h, body := get("HTTP_RANGE", "bytes=0-1"); !strings.HasPrefix(h, "HTTP/1.1 206") || body != "01" {
		t.Errorf("Range: %q\n%s", body, h)
	}
	if h, _ := get("HTTP_IF_NONE_MATCH", etag); !strings.HasPrefix(h, "HTTP/1.1 304") {
		t.Errorf("If-None-Match %s:\n%s", etag, h)
	}
	if h, body := get("HTTP_ACCEPT_ENCODING", "gzip"); !strings.Contains(h, "Content-Encoding: gzip") || body != "GZ" {
		t.Errorf("Accept-Encoding: %q\n%s", body, h)
	}
	if h, _ := get("HTTP_IF_MATCH", `"other"`); !strings.HasPrefix(h, "HTTP/1.1 412") {
		t.Errorf("If-Match:\n%s", h)
	}
	rewritten := []string{"REQUEST_METHOD", "GET", "PATH_INFO", "/static/ten.txt", "REQUEST_URI", "/assets/ten.txt"}
	if h, body := uwsgiGet(t, addr, rewritten...); !strings.HasPrefix(h, "HTTP/1.1 200") || body != "0123456789" {
		t.Errorf("rewritten REQUEST_URI: %q\n%s", body, h)
	}
	other := []string{"REQUEST_METHOD", "GET", "PATH_INFO", "/assets/ten.txt", "REQUEST_URI", "/static/ten.txt"}
	if _, body := uwsgiGet(t, addr, other...); body != "ok /assets/ten.txt" {
		t.Errorf("PATH_INFO outside the map must reach the app: %q", body)
	}
}

// firstHead returns the head of a (head, body) pair.
func firstHead(h, _ string) string { return h }
