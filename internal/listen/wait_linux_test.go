package listen

import (
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"
)

// waiterConns runs fn on a server end of each kind a Waiter reads: from
// Lazy, before and after it joined the poller, and net's own.
func waiterConns(t *testing.T, fn func(t *testing.T, server, client net.Conn)) {
	both(t, func(t *testing.T, network string) {
		t.Run("lazy", func(t *testing.T) {
			l, client := lazyPair(t, network)
			fn(t, acceptLazy(t, l), client)
		})
		t.Run("lazy joined", func(t *testing.T) {
			l, client := lazyPair(t, network)
			c := acceptLazy(t, l)
			c.SetReadDeadline(time.Now().Add(10 * time.Millisecond))
			c.Read(make([]byte, 1)) // waits, so joins, and times out
			c.SetReadDeadline(time.Time{})
			if !joined(c) {
				t.Fatal("the connection did not join the poller")
			}
			fn(t, c, client)
		})
		t.Run("net", func(t *testing.T) {
			l, client := lazyPair(t, network)
			c, err := l.(*lazyListener).lazyable.Accept()
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { c.Close() })
			fn(t, c, client)
		})
	})
}

// readOnce is a Waiter read function: one non-blocking read into buf.
type readOnce struct {
	buf   []byte
	n     int
	err   error
	calls int
}

func (r *readOnce) read(fd uintptr) bool {
	r.calls++
	r.n, r.err = syscall.Read(int(fd), r.buf)
	return r.err != syscall.EAGAIN
}

// With nothing to read, Read waits until the client writes, then the read
// function reads it: called once before the wait and once after (and once
// more on a connection from Lazy that joins the poller for that wait: see
// Waiter.Read).
func TestWaiterReadWaits(t *testing.T) {
	waiterConns(t, func(t *testing.T, server, client net.Conn) {
		calls := 2
		if lc, ok := server.(*lazyConn); ok && !joined(lc) {
			calls = 3
		}
		var w Waiter
		w.Reset(server)
		go func() {
			time.Sleep(50 * time.Millisecond)
			io.WriteString(client, "late")
		}()
		r := &readOnce{buf: make([]byte, 16)}
		start := time.Now()
		ok, err := w.Read(r.read)
		if !ok || err != nil || r.err != nil || string(r.buf[:r.n]) != "late" {
			t.Fatalf("Read: %v, %v; read %q, %v", ok, err, r.buf[:max(r.n, 0)], r.err)
		}
		if d := time.Since(start); d < 40*time.Millisecond {
			t.Errorf("Read returned after %v, before the client wrote", d)
		}
		if r.calls != calls {
			t.Errorf("the read function was called %d times, want %d", r.calls, calls)
		}
	})
}

// What is there already is read at once, in one call; the end of the
// connection is a read too.
func TestWaiterReadAtOnce(t *testing.T) {
	waiterConns(t, func(t *testing.T, server, client net.Conn) {
		var w Waiter
		w.Reset(server)
		io.WriteString(client, "here")
		time.Sleep(20 * time.Millisecond)
		r := &readOnce{buf: make([]byte, 16)}
		if ok, err := w.Read(r.read); !ok || err != nil || string(r.buf[:r.n]) != "here" || r.calls != 1 {
			t.Fatalf("Read: %v, %v; read %q in %d call(s)", ok, err, r.buf[:max(r.n, 0)], r.calls)
		}
		client.Close()
		r = &readOnce{buf: make([]byte, 16)}
		if ok, err := w.Read(r.read); !ok || err != nil || r.n != 0 || r.err != nil {
			t.Fatalf("Read at the end: %v, %v; read %d, %v", ok, err, r.n, r.err)
		}
	})
}

// The read deadline ends a wait, and Close from another goroutine does.
func TestWaiterReadDeadlineAndClose(t *testing.T) {
	waiterConns(t, func(t *testing.T, server, client net.Conn) {
		var w Waiter
		w.Reset(server)
		server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		var ne net.Error
		if ok, err := w.Read((&readOnce{buf: make([]byte, 1)}).read); !ok || !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("Read: %v, %v; want a timeout", ok, err)
		}
		server.SetReadDeadline(time.Time{})
		errc := make(chan error, 1)
		go func() {
			_, err := w.Read((&readOnce{buf: make([]byte, 1)}).read)
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond)
		server.Close()
		wantClosed(t, errc, "the waiting Read")
	})
}

// A Waiter without a connection it can read so says so, and calls nothing.
func TestWaiterCannot(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	for _, nc := range []net.Conn{nil, a} {
		var w Waiter
		w.Reset(nc)
		if ok, err := w.Read(func(uintptr) bool { t.Error("read function called"); return true }); ok || err != nil {
			t.Errorf("%T: Read %v, %v; want false", nc, ok, err)
		}
	}
}

// Reading through a Waiter allocates nothing.
func TestWaiterReadAllocs(t *testing.T) {
	waiterConns(t, func(t *testing.T, server, client net.Conn) {
		var w Waiter
		w.Reset(server)
		r := &readOnce{buf: make([]byte, 16)}
		read, x := r.read, []byte("x")
		allocs := testing.AllocsPerRun(100, func() {
			client.Write(x)
			for {
				if ok, err := w.Read(read); !ok || err != nil {
					t.Fatal(ok, err)
				}
				if r.n == 1 {
					return
				}
			}
		})
		if allocs != 0 {
			t.Errorf("%v allocations a read", allocs)
		}
	})
}
