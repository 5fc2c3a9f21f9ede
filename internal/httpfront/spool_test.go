package httpfront

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"carafe/internal/static"
	"carafe/internal/uwsgi"
	"carafe/internal/wsgi"
)

// bigAnswer answers /big with answerSize bytes before it reads any of the
// body, in pieces of 1 MiB; /big-then-read then reads the body and ends
// with its length and SHA-256; anything else gets "ok PATH".
const answerSize = 16 << 20

var bigAnswer = fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
	path := env["PATH_INFO"]
	if !strings.HasPrefix(path, "/big") {
		return okApp.fn(c, env)
	}
	piece := bytes.Repeat([]byte("x"), 1<<20)
	then := path == "/big-then-read"
	hd := head("200 OK")
	if !then {
		hd = head("200 OK", "Content-Length", strconv.Itoa(answerSize))
	}
	for sent := 0; sent < answerSize; sent += len(piece) {
		if err := c.Exch.Output(hd, piece, nil, !then && sent+len(piece) == answerSize); err != nil {
			return wsgi.OutputError
		}
		hd = nil
	}
	if then {
		h := sha256.New()
		h.Write(c.Body)
		n, err := io.Copy(h, readerFunc(c.Exch.ReadBody))
		if err != nil {
			return wsgi.AppError
		}
		c.Exch.Output(nil, fmt.Appendf(nil, "|%d %x", len(c.Body)+int(n), h.Sum(nil)), nil, true)
	}
	return wsgi.OK
}}

// sendAll writes b whole before the caller reads anything, as Apache's
// proxies send a request body, and fails the test if that cannot finish.
func sendAll(t *testing.T, c net.Conn, b []byte) {
	t.Helper()
	c.SetWriteDeadline(time.Now().Add(20 * time.Second))
	if _, err := c.Write(b); err != nil {
		t.Fatalf("sending the request whole before reading: %v (the server's answer and the body wait for each other)", err)
	}
}

// An app that answers before it reads a large body, to a client that
// sends the whole body before it reads: the answer would wait for the
// client to read, the client for the server to take its body. The rest of
// the body is buffered while the answer goes out.
func TestSpoolUnreadBodyWhileAnswering(t *testing.T) {
	c, br := serve(t, bigAnswer, Options{})
	body := make([]byte, 16<<20)
	before := spoolsStarted.Load()
	sendAll(t, c, append([]byte("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\n\r\n"), body...))
	h, got := readResponse(t, br)
	if !strings.HasPrefix(h, "HTTP/1.1 200") || len(got) != answerSize {
		t.Fatalf("got %d bytes with head:\n%s", len(got), h)
	}
	if spoolsStarted.Load() == before {
		t.Error("the body was not spooled")
	}
	if _, err := io.ReadAll(br); err != nil {
		t.Errorf("after the response: %v, want a clean end", err)
	}
}

// What the app reads after its answer blocked comes from the spool, byte
// for byte, whatever the head's read had buffered of it.
func TestSpoolServesLaterReads(t *testing.T) {
	c, br := serve(t, bigAnswer, Options{})
	body := make([]byte, 16<<20+3)
	rand.Read(body)
	sendAll(t, c, append([]byte("POST /big-then-read HTTP/1.1\r\nHost: x\r\nContent-Length: 16777219\r\n\r\n"), body...))
	_, got := readResponse(t, br)
	tail, ok := strings.CutPrefix(got[answerSize:], "|")
	if len(got) <= answerSize || !ok || tail != digest(body) {
		t.Fatalf("the app read %q, want %q", got[min(len(got), answerSize):], "|"+digest(body))
	}
}

// A spooled body that the client sent whole leaves the connection ready
// for its next request: the spool takes the body's bytes and no more.
func TestSpoolKeepsPipelinedRequest(t *testing.T) {
	c, br := serve(t, bigAnswer, Options{})
	body := make([]byte, 200<<10) // past the prefetch, within drainMax: the connection stays
	req := fmt.Appendf(nil, "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", len(body))
	req = append(append(req, body...), "GET /next HTTP/1.1\r\nHost: x\r\n\r\n"...)
	before := spoolsStarted.Load()
	sendAll(t, c, req)
	time.Sleep(500 * time.Millisecond) // the answer's write stalls (spoolAfter) with the body unread
	h, got := readResponse(t, br)
	if strings.Contains(h, "Connection: close") || len(got) != answerSize {
		t.Fatalf("got %d bytes with head:\n%s", len(got), h)
	}
	if spoolsStarted.Load() == before {
		t.Error("the body was not spooled")
	}
	if _, got := soon(t, c, br, false); got != "ok /next" {
		t.Fatalf("the pipelined request got %q", got)
	}
}

// A client that stops sending its body halfway, and reads nothing: the
// spool gives up at the read timeout, and the app's read of the body
// fails, as it would have from the socket; its answer already begun, the
// connection is cut.
func TestSpoolStalledBody(t *testing.T) {
	c, _ := serve(t, bigAnswer, Options{IOTimeout: 500 * time.Millisecond})
	sendAll(t, c, append([]byte("POST /big-then-read HTTP/1.1\r\nHost: x\r\nContent-Length: 33554432\r\n\r\n"), make([]byte, 1<<20)...))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	start := time.Now()
	_, err := io.Copy(io.Discard, c)
	if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("the connection was still open after %v", time.Since(start))
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("the server closed after %v", d)
	}
}

// The same through the uwsgi protocol on a unix socket, whose small
// buffers Apache's mod_proxy_uwsgi filled with an upload it sent whole.
func TestSpoolUWSGIUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.sock")
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	srv := NewServer(bigAnswer, Options{Protocol: UWSGI, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go srv.Serve(l)
	t.Cleanup(func() { l.Close(); srv.Shutdown(time.Second) })
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	vars := []uwsgi.Var{{Key: []byte("REQUEST_METHOD"), Value: []byte("POST")},
		{Key: []byte("PATH_INFO"), Value: []byte("/big")}, {Key: []byte("CONTENT_LENGTH"), Value: []byte("8388608")}}
	sendAll(t, c, append(uwsgi.AppendRequest(nil, 0, vars), make([]byte, 8<<20)...))
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	resp, err := io.ReadAll(bufio.NewReader(c))
	if err != nil || !bytes.HasPrefix(resp, []byte("HTTP/1.1 200")) {
		t.Fatalf("got %d bytes, %v", len(resp), err)
	}
	if i := bytes.Index(resp, []byte("\r\n\r\n")); len(resp)-i-4 != answerSize {
		t.Fatalf("got a body of %d bytes, want %d", len(resp)-i-4, answerSize)
	}
}

// A file answer (file_wrapper's sendfile, X-Sendfile) to the same client:
// the spool starts before the file goes out.
func TestSpoolBeforeFileAnswer(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, make([]byte, answerSize), 0o644); err != nil {
		t.Fatal(err)
	}
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		f, err := os.Open(path)
		if err != nil {
			return wsgi.AppError
		}
		defer f.Close()
		if c.Exch.SendFile(head("200 OK", "Content-Length", strconv.Itoa(answerSize)), f, answerSize) != nil {
			return wsgi.OutputError
		}
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	sendAll(t, c, append([]byte("POST /file HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\n\r\n"), make([]byte, 16<<20)...))
	h, got := readResponse(t, br)
	if !strings.HasPrefix(h, "HTTP/1.1 200") || len(got) != answerSize {
		t.Fatalf("got %d bytes with head:\n%s", len(got), h)
	}
}

// tailApp answers x bytes, then a last piece of 15,000 that Output only
// buffers: it goes out after the call, and may be the write that stalls.
func tailApp(x int) fakeApp {
	const tail = 15000
	return fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		hd := head("200 OK", "Content-Length", strconv.Itoa(x+tail))
		if c.Exch.Output(hd, bytes.Repeat([]byte("x"), x), nil, false) != nil {
			return wsgi.OutputError
		}
		c.Exch.Output(nil, bytes.Repeat([]byte("y"), tail), nil, true)
		return wsgi.OK
	}}
}

// Whichever write of the answer stalls, its last buffered piece
// included, the body is taken meanwhile: answers of many sizes, to a
// client that sends its whole body first, on a unix socket (uwsgi) and
// on TCP.
func TestSpoolAnswerTail(t *testing.T) {
	const tail = 15000
	check := func(t *testing.T, x int, c net.Conn, r io.Reader, req []byte) {
		t.Helper()
		start := time.Now()
		c.SetDeadline(time.Now().Add(10 * time.Second))
		_, werr := c.Write(req)
		resp, rerr := io.ReadAll(r)
		i := bytes.Index(resp, []byte("\r\n\r\n"))
		if d := time.Since(start); werr != nil || i < 0 || len(resp)-i-4 != x+tail || d > 1500*time.Millisecond {
			t.Errorf("answer of %d: after %v, sending %v, reading %v, %d bytes", x+tail, d, werr, rerr, len(resp))
		}
	}
	t.Run("uwsgi", func(t *testing.T) {
		vars := []uwsgi.Var{{Key: []byte("REQUEST_METHOD"), Value: []byte("POST")},
			{Key: []byte("PATH_INFO"), Value: []byte("/")}, {Key: []byte("CONTENT_LENGTH"), Value: []byte("4194304")}}
		req := append(uwsgi.AppendRequest(nil, 0, vars), make([]byte, 4<<20)...)
		for x := 96 << 10; x <= 512<<10; x += 24 << 10 {
			path := filepath.Join(t.TempDir(), "s.sock")
			l, err := net.Listen("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			srv := NewServer(tailApp(x), Options{Protocol: UWSGI, IOTimeout: 2 * time.Second,
				Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			go srv.Serve(l)
			c, err := net.Dial("unix", path)
			if err != nil {
				t.Fatal(err)
			}
			check(t, x, c, c, req)
			c.Close()
			l.Close()
			srv.Shutdown(time.Second)
		}
	})
	t.Run("http", func(t *testing.T) {
		req := append([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 8388608\r\n\r\n"), make([]byte, 8<<20)...)
		for x := 64 << 10; x <= 1<<20; x += 64 << 10 {
			c, br := serve(t, tailApp(x), Options{IOTimeout: 2 * time.Second})
			check(t, x, c, br, req)
			c.Close()
		}
	})
}

// A client that reads the answer as it comes (nginx, curl) has nothing
// spooled: a socket that is full for a moment only is not a stall.
func TestSpoolNotForReadingClient(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK"), bytes.Repeat([]byte("x"), 2<<20), nil, false)
		n, err := io.Copy(io.Discard, readerFunc(c.Exch.ReadBody))
		if err != nil {
			return wsgi.AppError
		}
		c.Exch.Output(nil, []byte("|"+strconv.FormatInt(n, 10)), nil, true)
		return wsgi.OK
	}}
	spooled := 0
	for range 10 {
		c, br := serve(t, app, Options{})
		before := spoolsStarted.Load()
		go c.Write(append([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4194304\r\n\r\n"), make([]byte, 4<<20)...))
		if _, body := readResponse(t, br); !strings.HasSuffix(body, "|4194304") {
			t.Fatalf("the app read %q", body[max(0, len(body)-20):])
		}
		if spoolsStarted.Load() != before {
			spooled++
		}
		c.Close()
	}
	if spooled > 1 { // one, on a machine that paused the client 100 ms
		t.Errorf("%d of 10 bodies from a client that reads were spooled", spooled)
	}
}

// A small answer to a request whose body is unread goes out without a
// spool, on a connection accepted from the backlog too (listen.Lazy's,
// which has no poller registration yet).
func TestSpoolNotForPromptAnswer(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		// Not last: written during the call, while a spool could start.
		c.Exch.Output(head("403 Forbidden", "Content-Length", "2"), []byte("no"), nil, false)
		return wsgi.OK
	}}
	for _, backlog := range []bool{false, true} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := NewServer(app, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if !backlog {
			go srv.Serve(l)
			time.Sleep(50 * time.Millisecond) // Serve waits in accept
		}
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(5 * time.Second))
		c.Write(append([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1048576\r\n\r\n"), make([]byte, 100<<10)...))
		before := spoolsStarted.Load()
		if backlog {
			go srv.Serve(l)
		}
		if _, body := readResponse(t, bufio.NewReader(c)); body != "no" {
			t.Errorf("backlog %v: got %q", backlog, body)
		}
		if spoolsStarted.Load() != before {
			t.Errorf("backlog %v: a 2-byte answer started a spool", backlog)
		}
		c.Close()
		l.Close()
		srv.Shutdown(time.Second)
	}
}

// A temp file that cannot be written (a full /tmp), or none at all
// (TMPDIR missing, or not writable by --uid): the answer still goes out
// whole, the rest of the body is taken and dropped, and the failure is
// logged as the server's. With no file, the answer used to wait for the
// client, which waited for carafe, until the write timeout cut it.
func TestSpoolFileFails(t *testing.T) {
	for _, tc := range []struct {
		name string
		make func() (*os.File, error)
		log  string
	}{
		{"write fails", func() (*os.File, error) { return os.Open(os.DevNull) }, "cannot buffer"}, // read-only
		{"no file", func() (*os.File, error) { return os.CreateTemp("/nonexistent", "carafe-body-") }, "/nonexistent"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			old := tempBodyFile
			tempBodyFile = tc.make
			t.Cleanup(func() { tempBodyFile = old })
			var logs lockedBuffer
			c, br := serve(t, bigAnswer, Options{IOTimeout: 2 * time.Second, Log: slog.New(slog.NewTextHandler(&logs, nil))})
			start := time.Now()
			sendAll(t, c, append([]byte("POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 16777216\r\n\r\n"), make([]byte, 16<<20)...))
			_, got := readResponse(t, br)
			if len(got) != answerSize || time.Since(start) > 1500*time.Millisecond {
				t.Fatalf("got %d bytes after %v", len(got), time.Since(start))
			}
			if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), tc.log) {
				t.Errorf("log:\n%s", logs.String())
			}
		})
	}
}

// harakiri's answer (Abandon, on the watchdog's goroutine) while the
// stuck call reads the body from the socket starts no spool, whose reads
// would race the call's (go test -race).
func TestSpoolNotFromAbandon(t *testing.T) {
	got := make(chan *conn, 1)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		got <- c.Exch.(*conn)
		p := make([]byte, 1)
		for {
			if _, err := c.Exch.ReadBody(p); err != nil {
				return wsgi.AppError
			}
		}
	}}
	c, br := serve(t, app, Options{})
	c.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"))
	go func() {
		for {
			if _, err := c.Write(make([]byte, 100)); err != nil {
				return
			}
		}
	}()
	cn := <-got
	time.Sleep(50 * time.Millisecond)
	before := spoolsStarted.Load()
	cn.Abandon()
	if h, _ := readResponse(t, br); !strings.HasPrefix(h, "HTTP/1.1 504") {
		t.Errorf("got:\n%s", h)
	}
	if spoolsStarted.Load() != before {
		t.Error("Abandon started a spool")
	}
}

// A file_wrapper (SendFile) answer over the uwsgi protocol on a unix
// socket (mod_proxy_uwsgi's), its request body unread, whether its client
// sends the body whole first or reads slowly: the file arrives byte for
// byte. A unix connection has no sendfile, and a watched turn of the
// buffered copy lost the 32 KiB it had read (review found 8323072 of
// 8388608 bytes).
func TestSpoolFileAnswerIntact(t *testing.T) {
	const size = 2 << 20
	data := make([]byte, size)
	rand.Read(data)
	path := filepath.Join(t.TempDir(), "f")
	os.WriteFile(path, data, 0o644)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		f, err := os.Open(path)
		if err != nil {
			return wsgi.AppError
		}
		defer f.Close()
		if c.Exch.SendFile(head("200 OK", "Content-Length", strconv.Itoa(size)), f, size) != nil {
			return wsgi.OutputError
		}
		return wsgi.OK
	}}
	for _, mode := range []string{"send-whole-body-first", "slow-reader"} {
		t.Run(mode, func(t *testing.T) {
			sock := filepath.Join(t.TempDir(), "s.sock")
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			srv := NewServer(app, Options{Protocol: UWSGI, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			go srv.Serve(l)
			defer func() { l.Close(); srv.Shutdown(time.Second) }()
			time.Sleep(50 * time.Millisecond) // Serve waits in accept: the connection is a plain *net.UnixConn
			c, err := net.Dial("unix", sock)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			vars := []uwsgi.Var{{Key: []byte("REQUEST_METHOD"), Value: []byte("POST")},
				{Key: []byte("PATH_INFO"), Value: []byte("/f")}, {Key: []byte("CONTENT_LENGTH"), Value: []byte("2097152")}}
			req := uwsgi.AppendRequest(nil, 0, vars)
			var r io.Reader = c
			if mode == "send-whole-body-first" {
				sendAll(t, c, append(req, make([]byte, 2<<20)...))
			} else {
				c.Write(append(req, make([]byte, 100<<10)...)) // the rest of the body never comes
				r = &slowReader{c}
			}
			c.SetReadDeadline(time.Now().Add(60 * time.Second))
			resp, err := io.ReadAll(r)
			i := bytes.Index(resp, []byte("\r\n\r\n"))
			got := resp[i+4:]
			if !bytes.Equal(got, data) {
				off := 0
				for off < len(got) && got[off] == data[off] {
					off++
				}
				t.Fatalf("body: %d bytes (want %d), sha %x vs %x, first difference at %d; err %v",
					len(got), size, sha256.Sum256(got), sha256.Sum256(data), off, err)
			}
		})
	}
}

type slowReader struct{ c net.Conn }

func (s *slowReader) Read(p []byte) (int, error) {
	time.Sleep(30 * time.Millisecond)
	return s.c.Read(p[:min(len(p), 32<<10)])
}

// A multi-range X-Sendfile answer (ServeContent's pipe: not a file, so no
// sendfile) to a POST whose body is unread, read slowly: both parts whole.
func TestSpoolMultiRangeAnswerIntact(t *testing.T) {
	const size = 2 << 20
	data := make([]byte, size)
	rand.Read(data)
	dir := t.TempDir()
	path := filepath.Join(dir, "f.bin")
	os.WriteFile(path, data, 0o644)
	addr := listenServer(t, redirectApp("X-Sendfile"), Options{XSendfile: staticHandler(t, static.Options{}, dir, dir)})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	req := "POST /x?" + path + " HTTP/1.1\r\nHost: x\r\nRange: bytes=0-999999,1000000-1999999\r\nContent-Length: 1048576\r\n\r\n"
	c.Write(append([]byte(req), make([]byte, 100<<10)...)) // the rest of the body never comes
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	resp, err := io.ReadAll(&slowReader{c})
	want := [][]byte{data[:1000000], data[1000000:2000000]}
	for i, w := range want {
		if !bytes.Contains(resp, w) {
			t.Errorf("part %d not intact in the %d-byte response (err %v)", i, len(resp), err)
		}
	}
}
