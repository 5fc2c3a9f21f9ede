package listen

import (
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Lazy returns a unix-socket listener whose connections join Go's network
// poller only when they first have to wait; any other listener is
// returned as it is.
//
// nginx's uwsgi_pass, and an HTTP proxy without upstream keep-alive, open
// a unix connection per request, whose request is usually all there when
// it is accepted and whose answer usually fits the socket's buffer: such
// a connection never waits. A net.Conn costs it three system calls that
// bought nothing (getsockname on accept, and epoll_ctl to add it to the
// poller and to remove it again): 12% of a worker's CPU behind nginx with
// a hello-world app. A connection from Lazy reads and writes with plain
// non-blocking calls until one would block; it then joins the poller (as
// an *os.File) for good, deadlines included, and behaves as a net.Conn
// would from there on.
//
// Its Accept takes a connection that is already waiting in the backlog
// (as one is, under load) without the poller; when none is, net's Accept
// waits for the next, which then joins the poller at once. Deadlines and
// Close act on the listener as they do on the one Lazy was given.
func Lazy(l net.Listener) net.Listener {
	ul, ok := l.(*net.UnixListener)
	if !ok {
		return l
	}
	rc, err := ul.SyscallConn()
	if err != nil {
		return l
	}
	return &lazyListener{UnixListener: ul, rc: rc}
}

type lazyListener struct {
	*net.UnixListener
	rc       syscall.RawConn
	deadline atomic.Int64 // the accept deadline (UnixNano), 0 for none
}

func (l *lazyListener) Accept() (net.Conn, error) {
	if dl := l.deadline.Load(); dl != 0 && time.Now().UnixNano() >= dl {
		return l.UnixListener.Accept() // which reports the timeout
	}
	nfd := -1
	var aerr error
	err := l.rc.Control(func(fd uintptr) {
		for {
			nfd, _, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			if aerr != syscall.EINTR && aerr != syscall.ECONNABORTED {
				return
			}
		}
	})
	if err != nil || aerr != nil {
		// None is waiting, or the listener is closed or failing: net's
		// Accept waits for one, or says what is wrong.
		return l.UnixListener.Accept()
	}
	return &lazyConn{fd: nfd, laddr: l.Addr()}, nil
}

// SetDeadline sets the listener's accept deadline (see net.UnixListener),
// which Accept also heeds before taking a waiting connection itself.
func (l *lazyListener) SetDeadline(t time.Time) error {
	var dl int64
	if !t.IsZero() {
		dl = t.UnixNano()
	}
	l.deadline.Store(dl)
	return l.UnixListener.SetDeadline(t)
}

// lazyConn is an accepted unix connection that has not needed the poller
// yet (f is nil), or has (then every call goes to f).
type lazyConn struct {
	mu       sync.Mutex // held across each non-blocking call, so Close cannot free fd under it
	fd       int        // -1 once closed
	f        *os.File
	rdl, wdl time.Time // deadlines set before f exists
	laddr    net.Addr
}

// unixPeer is the address of an accepted unix connection's client, which
// has none (net's RemoteAddr says the same).
var unixPeer = &net.UnixAddr{Name: "@", Net: "unix"}

func (c *lazyConn) LocalAddr() net.Addr  { return c.laddr }
func (c *lazyConn) RemoteAddr() net.Addr { return unixPeer }

func (c *lazyConn) Read(p []byte) (int, error) {
	c.mu.Lock()
	if c.f == nil {
		if err := c.usableLocked(c.rdl); err != nil {
			c.mu.Unlock()
			return 0, c.opError("read", err)
		}
		n, err := ignoringEINTR(func() (int, error) { return syscall.Read(c.fd, p) })
		if err != syscall.EAGAIN {
			c.mu.Unlock()
			switch {
			case err != nil:
				return 0, c.opError("read", os.NewSyscallError("read", err))
			case n == 0 && len(p) > 0:
				return 0, io.EOF
			}
			return n, nil
		}
		if err := c.joinLocked(); err != nil {
			c.mu.Unlock()
			return 0, c.opError("read", err)
		}
	}
	f := c.f
	c.mu.Unlock()
	n, err := f.Read(p)
	return n, c.fileError("read", err)
}

func (c *lazyConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	done := 0
	if c.f == nil {
		if err := c.usableLocked(c.wdl); err != nil {
			c.mu.Unlock()
			return 0, c.opError("write", err)
		}
		for done < len(p) {
			n, err := ignoringEINTR(func() (int, error) { return syscall.Write(c.fd, p[done:]) })
			if n > 0 {
				done += n
			}
			if err == syscall.EAGAIN {
				break
			}
			if err != nil {
				c.mu.Unlock()
				return done, c.opError("write", os.NewSyscallError("write", err))
			}
		}
		if done == len(p) {
			c.mu.Unlock()
			return done, nil
		}
		if err := c.joinLocked(); err != nil {
			c.mu.Unlock()
			return done, c.opError("write", err)
		}
	}
	f := c.f
	c.mu.Unlock()
	n, err := f.Write(p[done:])
	return done + n, c.fileError("write", err)
}

// usableLocked is what a call finds before it starts: the connection
// closed, its deadline dl passed, or nil.
func (c *lazyConn) usableLocked(dl time.Time) error {
	if c.fd < 0 {
		return net.ErrClosed
	}
	if !dl.IsZero() && !time.Now().Before(dl) {
		return os.ErrDeadlineExceeded
	}
	return nil
}

// joinLocked hands the socket to the poller, with the deadlines set so
// far.
func (c *lazyConn) joinLocked() error {
	f := os.NewFile(uintptr(c.fd), "unix")
	if f == nil {
		return net.ErrClosed
	}
	if err := f.SetReadDeadline(c.rdl); err != nil {
		return err // not pollable: NewFile could not register it
	}
	f.SetWriteDeadline(c.wdl)
	c.f = f
	return nil
}

func (c *lazyConn) SetDeadline(t time.Time) error {
	if err := c.SetReadDeadline(t); err != nil {
		return err
	}
	return c.SetWriteDeadline(t)
}

func (c *lazyConn) SetReadDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		return c.fileError("set", c.f.SetReadDeadline(t))
	}
	if c.fd < 0 {
		return c.opError("set", net.ErrClosed)
	}
	c.rdl = t
	return nil
}

func (c *lazyConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.f != nil {
		return c.fileError("set", c.f.SetWriteDeadline(t))
	}
	if c.fd < 0 {
		return c.opError("set", net.ErrClosed)
	}
	c.wdl = t
	return nil
}

// Close closes the socket; a Read or Write waiting in the poller returns
// net.ErrClosed.
func (c *lazyConn) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return c.opError("close", net.ErrClosed)
	}
	fd := c.fd
	c.fd = -1
	if c.f != nil {
		return c.fileError("close", c.f.Close())
	}
	if err := syscall.Close(fd); err != nil {
		return c.opError("close", os.NewSyscallError("close", err))
	}
	return nil
}

// opError wraps err as net's connections do, so that callers' checks
// (net.Error's Timeout, errors.Is net.ErrClosed) hold for both.
func (c *lazyConn) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: "unix", Source: c.laddr, Addr: unixPeer, Err: err}
}

// fileError turns f's errors into net's: its *os.PathError into an
// *net.OpError, and a call on the closed file into net.ErrClosed.
func (c *lazyConn) fileError(op string, err error) error {
	switch pe, ok := err.(*os.PathError); {
	case err == nil || err == io.EOF:
		return err
	case ok && pe.Err == os.ErrClosed:
		return c.opError(op, net.ErrClosed)
	case ok:
		return c.opError(op, pe.Err)
	}
	return c.opError(op, err)
}

func ignoringEINTR(fn func() (int, error)) (int, error) {
	for {
		n, err := fn()
		if err != syscall.EINTR {
			return n, err
		}
	}
}
