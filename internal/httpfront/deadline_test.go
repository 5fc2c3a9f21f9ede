package httpfront

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// countingConn counts the deadlines armed on a server connection.
type countingConn struct {
	net.Conn
	reads, writes *atomic.Int32
}

func (c countingConn) SetReadDeadline(t time.Time) error {
	c.reads.Add(1)
	return c.Conn.SetReadDeadline(t)
}

func (c countingConn) SetWriteDeadline(t time.Time) error {
	c.writes.Add(1)
	return c.Conn.SetWriteDeadline(t)
}

type countingListener struct {
	net.Listener
	reads, writes atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return countingConn{c, &l.reads, &l.writes}, nil
}

// Keep-alive requests whose heads arrive whole arm no deadline each: the
// idle and write deadlines are re-armed only once they lag by the slack.
func TestDeadlinesArmedLazily(t *testing.T) {
	hd := head("200 OK", "Content-Length", "2")
	app := fakeRunner(func(c *wsgi.Call) {
		c.Exch.Output(hd, []byte("ok"), nil, true)
		c.Result = wsgi.OK
	})
	inner, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	l := &countingListener{Listener: inner}
	srv := NewServer(app, Options{Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	go srv.Serve(l)
	t.Cleanup(func() { l.Close(); srv.Shutdown(time.Second) })
	nc, err := net.Dial("tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	br := bufio.NewReader(nc)
	const n = 500
	for range n {
		nc.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		if status, body := readResponse(t, br); !strings.HasPrefix(status, "HTTP/1.1 200 OK") || body != "ok" {
			t.Fatalf("got %q %q", status, body)
		}
	}
	r, w := l.reads.Load(), l.writes.Load()
	t.Logf("%d requests armed %d read and %d write deadlines", n, r, w)
	if r > 10 || w > 10 {
		t.Errorf("%d keep-alive requests armed %d read and %d write deadlines, want a few", n, r, w)
	}
}

func TestDeadlineSlack(t *testing.T) {
	for _, c := range []struct{ d, want time.Duration }{
		{15 * time.Second, time.Second},
		{time.Second, 125 * time.Millisecond},
		{100 * time.Millisecond, 12500 * time.Microsecond},
	} {
		if got := deadlineSlack(c.d); got != c.want {
			t.Errorf("deadlineSlack(%v) = %v, want %v", c.d, got, c.want)
		}
	}
}

// now carries the last full clock reading forward on the monotonic clock,
// and takes a fresh one (wall clock included) once that is a second old.
func TestConnNow(t *testing.T) {
	c := &conn{wallAt: time.Now().Add(-10 * time.Millisecond)}
	base := c.wallAt
	got := c.now()
	if c.wallAt != base {
		t.Errorf("a 10 ms old reading was renewed")
	}
	if d := got.Sub(base); d < 10*time.Millisecond || d > time.Second {
		t.Errorf("now is %v after the last reading, want the 10 ms since (and more)", d)
	}
	if d := time.Since(got); d < 0 || d > 100*time.Millisecond {
		t.Errorf("now is %v behind the clock", d)
	}

	c.wallAt = time.Now().Add(-2 * time.Second).Round(0) // wall clock only: as after a step
	got = c.now()
	if c.wallAt != got {
		t.Errorf("a 2 s old reading was not renewed")
	}
	if d := time.Since(got); d < 0 || d > 100*time.Millisecond {
		t.Errorf("the renewed reading is %v behind the clock", d)
	}
}
