package listen

import (
	"bytes"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// lazyPair listens on a unix socket through Lazy, connects a client, and
// returns both ends once the connection waits in the backlog (so Accept
// takes it without the poller).
func lazyPair(t *testing.T) (l net.Listener, client net.Conn) {
	t.Helper()
	ul, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	l = Lazy(ul)
	t.Cleanup(func() { l.Close() })
	client, err = net.Dial("unix", ul.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	client.SetDeadline(time.Now().Add(10 * time.Second))
	return l, client
}

func acceptLazy(t *testing.T, l net.Listener) *lazyConn {
	t.Helper()
	c, err := l.Accept()
	if err != nil {
		t.Fatal(err)
	}
	lc, ok := c.(*lazyConn)
	if !ok {
		t.Fatalf("Accept of a waiting connection gave a %T, want a lazy one", c)
	}
	t.Cleanup(func() { lc.Close() })
	return lc
}

func joined(c *lazyConn) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.f != nil
}

func TestLazyOnlyWrapsUnixListeners(t *testing.T) {
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	if Lazy(tl) != tl {
		t.Error("a TCP listener was wrapped")
	}
}

// A request that is there when accepted, and an answer that fits the
// socket, never touch the poller; the client sees the answer, then EOF.
func TestLazyConnWithoutWaiting(t *testing.T) {
	l, client := lazyPair(t)
	io.WriteString(client, "request")
	c := acceptLazy(t, l)
	buf := make([]byte, 64)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "request" {
		t.Fatalf("Read: %q, %v", buf[:n], err)
	}
	if n, err := c.Write([]byte("answer")); n != 6 || err != nil {
		t.Fatalf("Write: %d, %v", n, err)
	}
	if joined(c) {
		t.Error("the connection joined the poller without waiting")
	}
	if c.LocalAddr().String() != l.Addr().String() || c.RemoteAddr().Network() != "unix" {
		t.Errorf("addresses %v, %v", c.LocalAddr(), c.RemoteAddr())
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(client)
	if err != nil || string(got) != "answer" {
		t.Fatalf("client read %q, %v", got, err)
	}
	if _, err := c.Read(buf); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after Close: %v, want net.ErrClosed", err)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("second Close: %v, want net.ErrClosed", err)
	}
}

// A read with nothing to read waits in the poller until the client writes;
// a client that hangs up is EOF.
func TestLazyConnReadWaits(t *testing.T) {
	l, client := lazyPair(t)
	c := acceptLazy(t, l)
	go func() {
		time.Sleep(50 * time.Millisecond)
		io.WriteString(client, "late")
		client.Close()
	}()
	got, err := io.ReadAll(c)
	if err != nil || string(got) != "late" {
		t.Fatalf("read %q, %v", got, err)
	}
	if !joined(c) {
		t.Error("a read that waited did not join the poller")
	}
}

// An answer bigger than the socket's buffer waits for the client to read
// and arrives whole.
func TestLazyConnWriteWaits(t *testing.T) {
	l, client := lazyPair(t)
	c := acceptLazy(t, l)
	want := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB
	done := make(chan error, 1)
	go func() {
		n, err := c.Write(want)
		if err == nil && n != len(want) {
			err = io.ErrShortWrite
		}
		c.Close()
		done <- err
	}()
	time.Sleep(20 * time.Millisecond) // the socket fills up first
	got, err := io.ReadAll(client)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("client read %d bytes (%v), want %d", len(got), err, len(want))
	}
	if err := <-done; err != nil {
		t.Fatalf("Write: %v", err)
	}
}

// Deadlines hold whether or not the connection has joined the poller: one
// already passed fails at once, one that passes while a read waits ends
// it; both are timeouts, as net's are.
func TestLazyConnDeadlines(t *testing.T) {
	l, client := lazyPair(t)
	io.WriteString(client, "x")
	c := acceptLazy(t, l)
	c.SetReadDeadline(time.Now().Add(-time.Second))
	var ne net.Error
	if _, err := c.Read(make([]byte, 8)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Read past its deadline: %v, want a timeout", err)
	}
	if joined(c) {
		t.Error("a read past its deadline joined the poller")
	}
	c.SetReadDeadline(time.Time{})
	if n, err := c.Read(make([]byte, 8)); n != 1 || err != nil {
		t.Fatalf("Read: %d, %v", n, err)
	}
	c.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	start := time.Now()
	if _, err := c.Read(make([]byte, 8)); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("waiting Read: %v, want a timeout", err)
	}
	if d := time.Since(start); d < 40*time.Millisecond || d > 5*time.Second {
		t.Errorf("the deadline fired after %v, want about 50ms", d)
	}
	c.SetWriteDeadline(time.Now().Add(-time.Second))
	if _, err := c.Write([]byte("y")); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Write past its deadline (joined): %v, want a timeout", err)
	}
}

// Close from another goroutine ends a read waiting in the poller (as
// harakiri's Abandon does).
func TestLazyConnCloseEndsWait(t *testing.T) {
	l, _ := lazyPair(t)
	c := acceptLazy(t, l)
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		errc <- err
	}()
	time.Sleep(50 * time.Millisecond)
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the waiting Read")
	}
}

// The listener's deadline holds even for a connection already waiting
// (a paused server takes none); with none waiting, Accept waits as net's
// does; Close ends it.
func TestLazyListenerDeadlineAndClose(t *testing.T) {
	l, _ := lazyPair(t)
	d := l.(interface{ SetDeadline(time.Time) error })
	d.SetDeadline(time.Now().Add(-time.Second))
	var ne net.Error
	if c, err := l.Accept(); !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("Accept past the deadline: %v, %v; want a timeout", c, err)
	}
	d.SetDeadline(time.Time{})
	acceptLazy(t, l) // the waiting one
	late := make(chan net.Conn, 1)
	go func() {
		time.Sleep(50 * time.Millisecond)
		c, err := net.Dial("unix", l.Addr().String())
		if err == nil {
			late <- c
		}
	}()
	c, err := l.Accept()
	if err != nil {
		t.Fatalf("Accept with none waiting: %v", err)
	}
	c.Close()
	(<-late).Close()
	errc := make(chan error, 1)
	go func() { _, err := l.Accept(); errc <- err }()
	time.Sleep(20 * time.Millisecond)
	l.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Close: %v, want net.ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end Accept")
	}
}
