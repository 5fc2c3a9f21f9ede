package listen

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// lazyPair listens on network ("unix" or "tcp") through Lazy, connects a
// client, and returns both ends once the connection waits in the backlog
// (so Accept takes it without the poller).
func lazyPair(t *testing.T, network string) (l net.Listener, client net.Conn) {
	t.Helper()
	addr := "127.0.0.1:0"
	if network == "unix" {
		addr = filepath.Join(t.TempDir(), "s.sock")
	}
	nl, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	l = Lazy(nl)
	t.Cleanup(func() { l.Close() })
	client, err = net.Dial(network, nl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	client.SetDeadline(time.Now().Add(10 * time.Second))
	if network == "tcp" {
		time.Sleep(10 * time.Millisecond) // the handshake ends in the backlog
	}
	return l, client
}

// both runs fn over a unix socket and over TCP.
func both(t *testing.T, fn func(t *testing.T, network string)) {
	for _, network := range []string{"unix", "tcp"} {
		t.Run(network, func(t *testing.T) { fn(t, network) })
	}
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

func joined(c *lazyConn) bool { return c.f.Load() != nil }

func TestLazyLeavesOtherListeners(t *testing.T) {
	ul, err := net.ListenUnix("unixpacket", &net.UnixAddr{Name: filepath.Join(t.TempDir(), "p.sock"), Net: "unixpacket"})
	if err != nil {
		t.Fatal(err)
	}
	defer ul.Close()
	if Lazy(ul) != net.Listener(ul) {
		t.Error("a unixpacket listener was wrapped")
	}
}

// A request that is there when accepted, and an answer that fits the
// socket, never touch the poller; the client sees the answer, then EOF.
func TestLazyConnWithoutWaiting(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, client := lazyPair(t, network)
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
		if c.LocalAddr().String() != l.Addr().String() || c.RemoteAddr().Network() != network ||
			network == "tcp" && c.RemoteAddr().String() != client.LocalAddr().String() {
			t.Errorf("addresses %v, %v; want %v, %v", c.LocalAddr(), c.RemoteAddr(), l.Addr(), client.LocalAddr())
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
	})
}

// A read with nothing to read waits in the poller until the client writes;
// a client that hangs up is EOF.
func TestLazyConnReadWaits(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, client := lazyPair(t, network)
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
	})
}

// An answer bigger than the socket's buffer waits for the client to read
// and arrives whole.
func TestLazyConnWriteWaits(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, client := lazyPair(t, network)
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
	})
}

// Deadlines hold whether or not the connection has joined the poller: one
// already passed fails at once, one that passes while a read waits ends
// it; both are timeouts, as net's are.
func TestLazyConnDeadlines(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, client := lazyPair(t, network)
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
	})
}

// Close from another goroutine ends a read waiting in the poller (as
// harakiri's Abandon does).
func TestLazyConnCloseEndsWait(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, _ := lazyPair(t, network)
		c := acceptLazy(t, l)
		errc := make(chan error, 1)
		go func() {
			_, err := c.Read(make([]byte, 8))
			errc <- err
		}()
		time.Sleep(50 * time.Millisecond)
		c.Close()
		wantClosed(t, errc, "the waiting Read")
	})
}

// wantClosed waits for what a Close was to end, and checks it ended with
// net.ErrClosed.
func wantClosed(t *testing.T, errc <-chan error, what string) {
	t.Helper()
	select {
	case err := <-errc:
		if !errors.Is(err, net.ErrClosed) {
			t.Errorf("%s: %v, want net.ErrClosed", what, err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Close did not end %s", what)
	}
}

// The listener's deadline holds even for a connection already waiting
// (a paused server takes none); with none waiting, Accept waits as net's
// does; Close ends it.
func TestLazyListenerDeadlineAndClose(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, _ := lazyPair(t, network)
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
			c, err := net.Dial(network, l.Addr().String())
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
		wantClosed(t, errc, "Accept")
	})
}

// A TCP connection gets TCP_NODELAY (as net's do), and the unsent-bytes
// bound Tune sets, where the machine sets none; no connection gets TCP
// keep-alive probes, whether Accept took it itself or net's did.
func TestLazyTCPOptions(t *testing.T) {
	l, _ := lazyPair(t, "tcp")
	c := acceptLazy(t, l)
	c.mu.Lock()
	defer c.mu.Unlock()
	if v, err := syscall.GetsockoptInt(c.fd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY); err != nil || v == 0 {
		t.Errorf("TCP_NODELAY %d, %v; want set", v, err)
	}
	if lowatUnset() {
		if v, err := syscall.GetsockoptInt(c.fd, syscall.IPPROTO_TCP, tcpNotsentLowat); err != nil || v != NotsentLowat {
			t.Errorf("TCP_NOTSENT_LOWAT %d, %v; want %d", v, err, NotsentLowat)
		}
	}
	if v, err := syscall.GetsockoptInt(c.fd, syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); err != nil || v != 0 {
		t.Errorf("SO_KEEPALIVE %d, %v; want off", v, err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		if late, err := net.Dial("tcp", l.Addr().String()); err == nil {
			defer late.Close()
			time.Sleep(time.Second)
		}
	}()
	nc, err := l.Accept() // none waiting: net's Accept
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	tc, ok := nc.(*net.TCPConn)
	if !ok {
		t.Fatalf("Accept with none waiting gave a %T, want net's", nc)
	}
	rc, _ := tc.SyscallConn()
	rc.Control(func(fd uintptr) {
		if v, err := syscall.GetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_KEEPALIVE); err != nil || v != 0 {
			t.Errorf("net's connection: SO_KEEPALIVE %d, %v; want off", v, err)
		}
	})
}

// A file goes out with sendfile, whole or the part an io.LimitedReader
// allows, before and after the connection joins the poller (a file
// bigger than the socket's buffer makes it join); the file's offset and
// the LimitedReader's count say what went, as io.Copy's would.
func TestLazyConnSendsFiles(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		data := bytes.Repeat([]byte("carafe sendfile "), 1<<19) // 8 MiB
		path := filepath.Join(t.TempDir(), "f")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		var calls atomic.Int64
		sendfile = func(out, in int, off *int64, n int) (int, error) {
			calls.Add(1)
			return syscall.Sendfile(out, in, off, n)
		}
		defer func() { sendfile = syscall.Sendfile }()
		l, client := lazyPair(t, network)
		c := acceptLazy(t, l)
		type result struct {
			n   int64
			err error
		}
		done := make(chan result, 2)
		lr := &io.LimitedReader{R: f, N: 100}
		go func() {
			n, err := c.ReadFrom(lr) // the first 100 bytes: no wait
			if n != 100 || err != nil || joined(c) {
				done <- result{n, fmt.Errorf("first part: %v (joined %v)", err, joined(c))}
				return
			}
			n, err = io.Copy(c, f) // io.Copy finds ReadFrom: the rest
			done <- result{n, err}
			c.Close()
		}()
		got, err := io.ReadAll(client)
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("client read %d bytes (%v), want the file's %d", len(got), err, len(data))
		}
		r := <-done
		if r.err != nil || r.n != int64(len(data)-100) {
			t.Fatalf("ReadFrom: %d, %v", r.n, r.err)
		}
		if lr.N != 0 {
			t.Errorf("the LimitedReader has %d left, want 0", lr.N)
		}
		if !joined(c) {
			t.Error("8 MiB went without waiting for the client")
		}
		if calls.Load() < 2 {
			t.Errorf("%d sendfile calls, want the file sent with sendfile", calls.Load())
		}
	})
}

// ReadFrom of anything but a file copies it.
func TestLazyConnCopiesReaders(t *testing.T) {
	l, client := lazyPair(t, "unix")
	c := acceptLazy(t, l)
	if n, err := c.ReadFrom(strings.NewReader("plain reader")); n != 12 || err != nil {
		t.Fatalf("ReadFrom: %d, %v", n, err)
	}
	c.Close()
	if got, _ := io.ReadAll(client); string(got) != "plain reader" {
		t.Fatalf("client read %q", got)
	}
}

// SetLinger(0) then Close resets a TCP connection, as net.TCPConn's does
// (carafe cuts a failed response that way).
func TestLazyConnLingerResets(t *testing.T) {
	l, client := lazyPair(t, "tcp")
	c := acceptLazy(t, l)
	if err := c.SetLinger(0); err != nil {
		t.Fatal(err)
	}
	c.Close()
	if _, err := io.ReadAll(client); !errors.Is(err, syscall.ECONNRESET) {
		t.Errorf("client read: %v, want a reset", err)
	}
}

// CloseWrite ends what the client reads while the connection still reads
// what the client sends, before and after the connection joins the poller.
func TestLazyConnCloseWrite(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		for _, join := range []bool{false, true} {
			l, client := lazyPair(t, network)
			c := acceptLazy(t, l)
			if join {
				go func() { time.Sleep(20 * time.Millisecond); io.WriteString(client, "x") }()
				if _, err := c.Read(make([]byte, 1)); err != nil || !joined(c) {
					t.Fatalf("joining: %v, joined %v", err, joined(c))
				}
			}
			io.WriteString(c, "bye")
			if err := c.CloseWrite(); err != nil {
				t.Fatalf("CloseWrite (joined %v): %v", join, err)
			}
			if got, err := io.ReadAll(client); err != nil || string(got) != "bye" {
				t.Errorf("client read %q, %v; want bye, then the end", got, err)
			}
			io.WriteString(client, "more")
			client.Close()
			if got, err := io.ReadAll(c); err != nil || string(got) != "more" {
				t.Errorf("after CloseWrite the connection read %q, %v (joined %v)", got, err, join)
			}
		}
		c := acceptLazyClosed(t, network)
		if err := c.CloseWrite(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("CloseWrite of a closed connection: %v, want net.ErrClosed", err)
		}
	})
}

func acceptLazyClosed(t *testing.T, network string) *lazyConn {
	l, _ := lazyPair(t, network)
	c := acceptLazy(t, l)
	c.Close()
	return c
}

// A socket the poller refuses (epoll's watch limit reached) ends the
// connection at its join, its fd closed once, by the *os.File that took
// it: a later Close must not close the number again (by then another
// file's). A regular file stands in for the socket: epoll refuses it too.
func TestLazyConnFailedJoinClosesOnce(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	if err := os.WriteFile(path, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &lazyConn{fd: fd, network: "tcp"}
	c.mu.Lock()
	_, jerr := c.joinLocked()
	c.mu.Unlock()
	if jerr == nil {
		t.Fatal("the poller took a regular file")
	}
	if _, err := c.Read(make([]byte, 1)); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Read after a failed join: %v, want net.ErrClosed", err)
	}
	runtime.GC()
	other, err := os.Open(path) // likely the same number
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Errorf("Close after a failed join: %v, want net.ErrClosed", err)
	}
	if _, err := other.Read(make([]byte, 1)); err != nil {
		t.Errorf("a file opened after the failed join: %v", err)
	}
}

// Once a connection has joined the poller and is closed, every call says
// net.ErrClosed, as net's connections do.
func TestLazyConnClosedAfterJoin(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, _ := lazyPair(t, network)
		c := acceptLazy(t, l)
		c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
		c.Read(make([]byte, 1)) // waits, so joins; then times out
		if !joined(c) {
			t.Fatal("the read did not join the poller")
		}
		c.Close()
		f, err := os.Open(filepath.Join("testdata", "lazy.txt"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		_, rerr := c.Read(make([]byte, 1))
		_, werr := c.Write([]byte("x"))
		_, ferr := c.ReadFrom(io.LimitReader(f, 4))
		for name, err := range map[string]error{"Read": rerr, "Write": werr, "ReadFrom": ferr,
			"SetLinger": c.SetLinger(0), "SetDeadline": c.SetDeadline(time.Now()), "Close": c.Close()} {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s after Close: %v, want net.ErrClosed", name, err)
			}
		}
	})
}

// SendQueue counts what the peer has not taken yet, before and after the
// connection joins the poller, and on a plain net.Conn too.
func TestSendQueue(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		l, client := lazyPair(t, network)
		c := acceptLazy(t, l)
		if q := SendQueue(c); q != 0 {
			t.Errorf("an idle connection's queue: %d, want 0", q)
		}
		c.Write(make([]byte, 1000))
		time.Sleep(20 * time.Millisecond)                              // (TCP: acknowledged, though unread)
		if q := SendQueue(c); network == "unix" && q < 1000 || q < 0 { // (unix: with its buffers' overhead)
			t.Errorf("1000 bytes unread: queue %d", q)
		}
		c.SetWriteDeadline(time.Now().Add(50 * time.Millisecond))
		if _, err := c.Write(make([]byte, 8<<20)); err == nil { // fills the socket; joins the poller
			t.Fatalf("8 MiB unread went out whole")
		}
		if !joined(c) || SendQueue(c) <= 0 {
			t.Errorf("a full socket: joined %v, queue %d; want a queue", joined(c), SendQueue(c))
		}
		if q := SendQueue(client); q != 0 {
			t.Errorf("the client's own queue: %d, want 0", q)
		}
	})
}

// PeerGone tells a client that closed or reset its connection from one
// that is there, sending or not, on a lazy connection before and after it
// joins the poller and on a plain one; bytes still unread say "there".
func TestPeerGone(t *testing.T) {
	both(t, func(t *testing.T, network string) {
		for _, kind := range []string{"lazy", "joined", "plain"} {
			t.Run(kind, func(t *testing.T) {
				l, client := lazyPair(t, network)
				var c net.Conn
				switch kind {
				case "plain":
					nl := l.(*lazyListener).lazyable.(net.Listener)
					var err error
					if c, err = nl.Accept(); err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { c.Close() })
				case "joined":
					c = acceptLazy(t, l)
					go func() { time.Sleep(50 * time.Millisecond); client.Write([]byte("w")) }()
					c.Read(make([]byte, 1)) // waits: joins the poller
					if !joined(c.(*lazyConn)) {
						t.Fatal("did not join the poller")
					}
				default:
					c = acceptLazy(t, l)
				}
				if PeerGone(c) {
					t.Error("a silent client: gone")
				}
				client.Write([]byte("next"))
				time.Sleep(10 * time.Millisecond)
				if PeerGone(c) {
					t.Error("a client with bytes unread: gone")
				}
				client.Close()
				time.Sleep(10 * time.Millisecond)
				if PeerGone(c) {
					t.Error("a closed client with bytes unread: gone")
				}
				if _, err := io.ReadFull(c, make([]byte, 4)); err != nil {
					t.Fatal(err)
				}
				if !PeerGone(c) {
					t.Error("a closed client: not gone")
				}
			})
		}
	})
	t.Run("reset", func(t *testing.T) {
		l, client := lazyPair(t, "tcp")
		c := acceptLazy(t, l)
		client.(*net.TCPConn).SetLinger(0)
		client.Close()
		time.Sleep(10 * time.Millisecond)
		if !PeerGone(c) {
			t.Error("a reset client: not gone")
		}
	})
}
