package httpfront

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// writeCountingConn counts the writes to a server connection's socket.
type writeCountingConn struct {
	net.Conn
	n *atomic.Int32
}

func (c writeCountingConn) Write(p []byte) (int, error) {
	c.n.Add(1)
	return c.Conn.Write(p)
}

// stallConn makes the server's second socket write look stalled for
// longer than spoolAfter, as a full socket does, then go on.
type stallConn struct{ writeCountingConn }

func (c stallConn) Write(p []byte) (int, error) {
	if c.n.Add(1) == 2 {
		time.Sleep(spoolAfter + 20*time.Millisecond)
		return 0, os.ErrDeadlineExceeded
	}
	return c.Conn.Write(p)
}

// wrapListener hands out its connections wrapped by wrap.
type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l *wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// serveWrapped serves app on loopback through connections wrapped by
// wrap, and returns a connected client.
func serveWrapped(t *testing.T, app fakeApp, wrap func(net.Conn) net.Conn) (net.Conn, *bufio.Reader) {
	t.Helper()
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &wrapListener{inner, wrap}
	srv := NewServer(app, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go srv.Serve(l)
	t.Cleanup(func() { l.Close(); srv.Shutdown(time.Second) })
	c, err := net.Dial("tcp", inner.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c, bufio.NewReader(c)
}

// serveCounting is serveWrapped counting the socket writes in *n.
func serveCounting(t *testing.T, app fakeApp) (*atomic.Int32, net.Conn, *bufio.Reader) {
	t.Helper()
	n := new(atomic.Int32)
	c, br := serveWrapped(t, app, func(c net.Conn) net.Conn { return writeCountingConn{c, n} })
	return n, c, br
}

// A body streamed in many small pieces (a CSV export's lines) goes out in
// few writes: each piece written on its own was a packet and a wake-up of
// the client, and cost a generator of 10,000 lines eight times its CPU.
func TestStreamSmallPiecesGathered(t *testing.T) {
	const pieces = 2000
	line := strings.Repeat("x", 99) + "\n"
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK", "Content-Type", "text/csv"), nil, nil, false)
		for range pieces {
			if err := c.Exch.Output(nil, []byte(line), nil, false); err != nil {
				return wsgi.OutputError
			}
		}
		c.Exch.Output(nil, nil, nil, true)
		return wsgi.OK
	}}
	writes, c, br := serveCounting(t, app)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	_, body := readResponse(t, br)
	if body != strings.Repeat(line, pieces) {
		t.Fatalf("body of %d bytes, want %d pieces of %q", len(body), pieces, line)
	}
	// 200 KB through a 16 KiB buffer is 13 writes when nothing waits;
	// one a millisecond while the app produces adds a few.
	if n := writes.Load(); n > pieces/10 {
		t.Errorf("%d pieces went out in %d writes, want them gathered (at most %d)", pieces, n, pieces/10)
	}
}

// The gathering never holds a piece back while the app works on the next
// (PEP 3333): pieces that came in a burst reach the client within
// streamGather, and one after a quiet spell goes out at once.
func TestStreamPiecesNotHeldWhileAppWorks(t *testing.T) {
	produced := make(chan time.Time, 3)
	next := make(chan struct{})
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK", "Content-Type", "text/plain"), []byte("a"), nil, false)
		c.Exch.Output(nil, []byte("b"), nil, false) // right behind a: gathered
		produced <- time.Now()
		<-next // the app works on, for as long as the client likes
		time.Sleep(20 * time.Millisecond)
		c.Exch.Output(nil, []byte("c"), nil, false) // after a quiet spell
		produced <- time.Now()
		<-next
		c.Exch.Output(nil, nil, nil, true)
		return wsgi.OK
	}}
	_, c, br := serveCounting(t, app)
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	cr := chunkedAfterHead(t, br)
	readPiece := func(want string) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		got := make([]byte, len(want))
		if _, err := io.ReadFull(cr, got); err != nil || string(got) != want {
			t.Fatalf("read %q, %v; want %q while the app works", got, err, want)
		}
	}
	readPiece("ab")
	if took := time.Since(<-produced); took > 500*time.Millisecond {
		t.Errorf("the gathered piece came %v after the app gave it", took)
	}
	next <- struct{}{}
	readPiece("c")
	if took := time.Since(<-produced); took > 500*time.Millisecond {
		t.Errorf("the piece after a pause came %v after the app gave it", took)
	}
	next <- struct{}{}
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if rest, err := io.ReadAll(cr); err != nil || len(rest) != 0 {
		t.Errorf("after the pieces: %q, %v", rest, err)
	}
}

// An app that reads its body between pieces of its answer (an echo that
// answers as it reads) has the pieces so far sent before it reads: the
// client may wait for them before it sends more.
func TestStreamPiecesSentBeforeBodyRead(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK", "Content-Type", "text/plain"), []byte("ready"), nil, false)
		c.Exch.Output(nil, []byte(" set"), nil, false)
		buf := make([]byte, 5)
		n, err := io.ReadFull(readerFunc(c.Exch.ReadBody), buf)
		if err != nil {
			return wsgi.AppError
		}
		c.Exch.Output(nil, []byte(" got "), buf[:n], true)
		return wsgi.OK
	}}
	_, c, br := serveCounting(t, app)
	// (Expect: a body that came with the head would be read before the call.)
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n")
	cr := chunkedAfterHead(t, br)
	got := make([]byte, len("ready set"))
	if _, err := io.ReadFull(cr, got); err != nil || string(got) != "ready set" {
		t.Fatalf("before sending the body: %q, %v", got, err)
	}
	io.WriteString(c, "hello")
	rest, err := io.ReadAll(cr)
	if err != nil || string(rest) != " got hello" {
		t.Errorf("after the body: %q, %v", rest, err)
	}
}

// A body read while the timer's write of gathered pieces stalls (and
// starts the spool) waits for that write: it read the socket beside the
// spool, and flushed the same buffer a second time, so the client got a
// piece twice ("abbc"; own-diff review, under -race a data race).
func TestStreamTimedFlushBeforeBodyRead(t *testing.T) {
	body := strings.Repeat("0123456789", 10000)
	read := make(chan string, 1)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK", "Content-Type", "text/plain"), []byte("a"), nil, false) // at once
		c.Exch.Output(nil, []byte("b"), nil, false)                                          // the timer's, whose write stalls
		time.Sleep(5 * time.Millisecond)
		got, err := io.ReadAll(readerFunc(c.Exch.ReadBody))
		if err != nil {
			got = append(got, " err="+err.Error()...)
		}
		read <- string(got)
		c.Exch.Output(nil, []byte("c"), nil, true)
		return wsgi.OK
	}}
	writes := new(atomic.Int32)
	c, br := serveWrapped(t, app, func(c net.Conn) net.Conn { return stallConn{writeCountingConn{c, writes}} })
	io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n")
	time.Sleep(60 * time.Millisecond) // the app's read waits for the body
	io.WriteString(c, body)
	select {
	case got := <-read:
		if got != body {
			t.Errorf("the app read %d bytes (%.40q...), want the body whole", len(got), got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the app's body read hung")
	}
	if _, got := readResponse(t, br); got != "abc" {
		t.Errorf("response body %q, want \"abc\"", got)
	}
}

// chunkedAfterHead skips a response's head and reads its chunked body.
func chunkedAfterHead(t *testing.T, br *bufio.Reader) io.Reader {
	t.Helper()
	for {
		line, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if line == "\r\n" {
			return NewChunkedReader(br, 0)
		}
	}
}
