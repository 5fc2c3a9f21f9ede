package listen

import (
	"io"
	"math"
	"net"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
	"unsafe"
)

// Lazy returns a TCP or unix-socket listener whose connections join Go's
// network poller only when they first have to wait; any other listener is
// returned as it is.
//
// nginx's uwsgi_pass, and an HTTP proxy or client without keep-alive,
// open a connection per request, whose request is usually all there when
// it is accepted and whose answer usually fits the socket's buffer: such
// a connection never waits. A net.Conn costs it system calls that bought
// nothing: getsockname on accept and epoll_ctl twice, to add it to the
// poller and to remove it again (12% of a worker's CPU behind nginx with
// a hello-world app on a unix socket), and on TCP four setsockopt more,
// for keep-alive probes. carafe sends no TCP keep-alive probes (nor do
// uWSGI, Gunicorn or nginx by default): its own timeouts (the idle
// keep-alive, a request head's, each read's and write's) already end a
// connection whose client went away.
//
// A connection from Lazy reads and writes with plain non-blocking calls
// until one would block; it then joins the poller (as an *os.File) for
// good, deadlines included, and behaves as a net.Conn would from there on.
// A TCP connection gets TCP_NODELAY, as net's do, and Tune's bound. Files
// go out with sendfile, on unix sockets too (net's unix connections copy
// them through a buffer).
//
// Its Accept takes a connection that is already waiting in the backlog
// (as one is, under load) without the poller; when none is, net's Accept
// waits for the next, which is then a plain net.Conn. Deadlines and Close
// act on the listener as they do on the one Lazy was given.
func Lazy(l net.Listener) net.Listener {
	ll, ok := l.(lazyable)
	if !ok {
		return l
	}
	network := l.Addr().Network()
	if network != "tcp" && network != "unix" {
		return l
	}
	rc, err := ll.SyscallConn()
	if err != nil {
		return l
	}
	return &lazyListener{lazyable: ll, rc: rc, tcp: network == "tcp"}
}

// lazyable is what *net.TCPListener and *net.UnixListener have in common.
type lazyable interface {
	net.Listener
	SetDeadline(time.Time) error
	SyscallConn() (syscall.RawConn, error)
}

type lazyListener struct {
	lazyable
	rc       syscall.RawConn
	tcp      bool
	deadline atomic.Pointer[time.Time] // the accept deadline; nil for none
}

func (l *lazyListener) Accept() (net.Conn, error) {
	if dl := l.deadline.Load(); dl != nil && !time.Now().Before(*dl) {
		return l.lazyable.Accept() // which reports the timeout
	}
	nfd := -1
	var sa syscall.Sockaddr
	var aerr error
	err := l.rc.Control(func(fd uintptr) {
		for {
			nfd, sa, aerr = syscall.Accept4(int(fd), syscall.SOCK_NONBLOCK|syscall.SOCK_CLOEXEC)
			if aerr != syscall.EINTR && aerr != syscall.ECONNABORTED {
				return
			}
		}
	})
	if err != nil || aerr != nil {
		// None is waiting, or the listener is closed or failing: net's
		// Accept waits for one, or says what is wrong.
		c, err := l.lazyable.Accept()
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetKeepAlive(false) // as the lazy ones: see Lazy
		}
		return c, err
	}
	c := &lazyConn{fd: nfd, network: "unix", laddr: l.Addr(), raddr: unixPeer}
	if l.tcp {
		c.network, c.laddr, c.raddr = "tcp", nil, tcpAddr(sa)
		// Best effort, as net's: a socket that refuses still works.
		syscall.SetsockoptInt(nfd, syscall.IPPROTO_TCP, syscall.TCP_NODELAY, 1)
		boundUnsent(nfd)
	}
	return c, nil
}

// SetDeadline sets the listener's accept deadline, which Accept also heeds
// before taking a waiting connection itself.
func (l *lazyListener) SetDeadline(t time.Time) error {
	var dl *time.Time
	if !t.IsZero() {
		dl = &t // with its monotonic reading: a step of the wall clock cannot undo a Pause
	}
	l.deadline.Store(dl)
	return l.lazyable.SetDeadline(t)
}

// unixPeer is the address of an accepted unix connection's client, which
// has none.
var unixPeer = &net.UnixAddr{Name: "@", Net: "unix"}

func tcpAddr(sa syscall.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *syscall.SockaddrInet4:
		return &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
	case *syscall.SockaddrInet6:
		a := &net.TCPAddr{IP: append(net.IP(nil), sa.Addr[:]...), Port: sa.Port}
		if sa.ZoneId != 0 { // a link-local client: named as net names it
			a.Zone = strconv.Itoa(int(sa.ZoneId))
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return &net.TCPAddr{}
}

// lazyConn is an accepted connection that has not needed the poller yet
// (f is nil), or has: then every call goes to f.
type lazyConn struct {
	f        atomic.Pointer[os.File]
	mu       sync.Mutex // held across each non-blocking call, so Close cannot free fd under it
	fd       int        // -1 once closed
	rdl, wdl time.Time  // deadlines set before f exists
	network  string     // "tcp" or "unix"
	laddr    net.Addr   // nil until asked for, on TCP
	raddr    net.Addr
}

func (c *lazyConn) RemoteAddr() net.Addr { return c.raddr }

// LocalAddr is the listener's address on a unix socket; on TCP it is
// looked up when first asked for (the listener's may be 0.0.0.0).
func (c *lazyConn) LocalAddr() net.Addr {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.laddr == nil {
		c.laddr = &net.TCPAddr{}
		if f := c.f.Load(); f != nil {
			if rc, err := f.SyscallConn(); err == nil {
				rc.Control(func(fd uintptr) { c.laddr = localTCP(int(fd)) })
			}
		} else if c.fd >= 0 {
			c.laddr = localTCP(c.fd)
		}
	}
	return c.laddr
}

func localTCP(fd int) net.Addr {
	sa, err := syscall.Getsockname(fd)
	if err != nil {
		return &net.TCPAddr{}
	}
	return tcpAddr(sa)
}

func (c *lazyConn) Read(p []byte) (int, error) {
	var n int
	var rerr error
	f, err := c.unjoined(false, func(fd int) bool {
		n, rerr = ignoringEINTR(func() (int, error) { return syscall.Read(fd, p) })
		return rerr == syscall.EAGAIN
	})
	switch {
	case err != nil:
		return 0, c.opError("read", err)
	case f != nil:
		n, err = f.Read(p)
		return n, c.fileError("read", err)
	case rerr != nil:
		return 0, c.opError("read", os.NewSyscallError("read", rerr))
	case n == 0 && len(p) > 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *lazyConn) Write(p []byte) (int, error) {
	done := 0
	var werr error
	f, err := c.unjoined(true, func(fd int) bool {
		for done < len(p) {
			n, err := ignoringEINTR(func() (int, error) { return syscall.Write(fd, p[done:]) })
			if n > 0 {
				done += n
			}
			if err == syscall.EAGAIN {
				return true
			}
			if err != nil {
				werr = err
				return false
			}
		}
		return false
	})
	switch {
	case err != nil:
		return done, c.opError("write", err)
	case f != nil:
		n, err := f.Write(p[done:])
		return done + n, c.fileError("write", err)
	case werr != nil:
		return done, c.opError("write", os.NewSyscallError("write", werr))
	}
	return done, nil
}

// unjoined runs op on the socket, holding mu, while the connection has not
// joined the poller; op reports whether the socket would block, and the
// connection then joins. It returns the *os.File to go on with (nil when
// op finished: its own results stand), or why the connection cannot be
// used: closed, past its read (or write) deadline, refused by the poller.
func (c *lazyConn) unjoined(write bool, op func(fd int) (block bool)) (*os.File, error) {
	if f := c.f.Load(); f != nil {
		return f, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if f := c.f.Load(); f != nil {
		return f, nil
	}
	dl := c.rdl
	if write {
		dl = c.wdl
	}
	if err := c.usableLocked(dl); err != nil {
		return nil, err
	}
	if !op(c.fd) {
		return nil, nil
	}
	return c.joinLocked()
}

// ReadFrom sends a file with sendfile(2) when r is one (an *os.File, or
// one under an *io.LimitedReader, as io.CopyN and the static handler pass
// it), as net's TCP connections do; any other reader is copied.
func (c *lazyConn) ReadFrom(r io.Reader) (int64, error) {
	src, remain := r, int64(math.MaxInt64)
	lr, limited := r.(*io.LimitedReader)
	if limited {
		src, remain = lr.R, lr.N
	}
	// An *os.File, or what io.Copy makes of one (it hides its WriteTo):
	// sendfile refuses anything but a file, and then it is copied.
	file, ok := src.(syscall.Conn)
	if !ok || remain <= 0 {
		return io.Copy(writerOnly{c}, r)
	}
	in, err := file.SyscallConn()
	if err != nil {
		return io.Copy(writerOnly{c}, r)
	}
	var written int64
	var serr error
	// send sends to out until done, the file ends or out is full (it
	// then reports true).
	send := func(out int) (full bool) {
		cerr := in.Control(func(infd uintptr) {
			for remain > 0 {
				n, err := sendfile(out, int(infd), nil, int(min(remain, 1<<30)))
				if n > 0 {
					written += int64(n)
					remain -= int64(n)
				}
				switch {
				case err == syscall.EINTR:
				case err == syscall.EAGAIN:
					full = true
					return
				case err != nil:
					serr = os.NewSyscallError("sendfile", err)
					return
				case n == 0:
					return // the file ended
				}
			}
		})
		if cerr != nil && serr == nil {
			serr = cerr
		}
		return full
	}
	f, err := c.unjoined(true, send)
	if err != nil {
		if limited {
			lr.N -= written
		}
		return written, c.opError("sendfile", err)
	}
	if f == nil {
		return c.sent(r, lr, written, serr)
	}
	out, err := f.SyscallConn()
	if err != nil {
		return c.sent(r, lr, written, c.fileError("sendfile", err))
	}
	werr := out.Write(func(fd uintptr) bool { return !send(int(fd)) })
	if serr == nil && werr != nil {
		serr = c.fileError("sendfile", werr)
		c.mu.Lock()
		if c.fd < 0 { // closed meanwhile: the poller said "use of closed file"
			serr = c.opError("sendfile", net.ErrClosed)
		}
		c.mu.Unlock()
	}
	return c.sent(r, lr, written, serr)
}

// sendfile is syscall.Sendfile (a variable for the tests).
var sendfile = syscall.Sendfile

// sent ends ReadFrom: lr (r, when limited) counts what went, and a file
// that sendfile cannot read (not a regular file) is copied instead.
func (c *lazyConn) sent(r io.Reader, lr *io.LimitedReader, written int64, err error) (int64, error) {
	if lr != nil {
		lr.N -= written
	}
	if written == 0 && (errorIs(err, syscall.EINVAL) || errorIs(err, syscall.ENOSYS) || errorIs(err, syscall.EOPNOTSUPP)) {
		return io.Copy(writerOnly{c}, r)
	}
	if err != nil {
		if _, ok := err.(*net.OpError); !ok {
			err = c.opError("sendfile", err)
		}
	}
	return written, err
}

func errorIs(err error, errno syscall.Errno) bool {
	se, ok := err.(*os.SyscallError)
	return ok && se.Err == errno
}

// writerOnly hides ReadFrom, for io.Copy's plain copy.
type writerOnly struct{ io.Writer }

// CloseWrite shuts down the writing side, as net.TCPConn's does: the
// client reads the end of the stream while the connection can still read.
func (c *lazyConn) CloseWrite() error {
	return c.control("close", func(fd int) error {
		return os.NewSyscallError("shutdown", syscall.Shutdown(fd, syscall.SHUT_WR))
	})
}

// SetLinger sets SO_LINGER as net.TCPConn's does: 0 makes Close reset the
// connection (how a cut-off response shows as one).
func (c *lazyConn) SetLinger(sec int) error {
	l := &syscall.Linger{}
	if sec >= 0 {
		l.Onoff, l.Linger = 1, int32(sec)
	}
	return c.control("set", func(fd int) error {
		return os.NewSyscallError("setsockopt", syscall.SetsockoptLinger(fd, syscall.SOL_SOCKET, syscall.SO_LINGER, l))
	})
}

// SendQueue is the bytes in c's socket that its peer has not yet taken
// (SIOCOUTQ: on TCP, not yet acknowledged), or -1 where that cannot be
// told.
func SendQueue(c net.Conn) int {
	q := -1
	get := func(fd int) error {
		var v int32
		if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, uintptr(fd), syscall.TIOCOUTQ, uintptr(unsafe.Pointer(&v))); e != 0 {
			return e
		}
		q = int(v)
		return nil
	}
	onSocket(c, "ioctl", get)
	return q
}

// onSocket runs fn on c's socket, a lazy connection's or any other's that
// gives its descriptor; op names the operation in a lazy one's error.
func onSocket(c net.Conn, op string, fn func(fd int) error) {
	switch c := c.(type) {
	case *lazyConn:
		c.control(op, fn)
	case syscall.Conn:
		if rc, err := c.SyscallConn(); err == nil {
			rc.Control(func(fd uintptr) { fn(int(fd)) })
		}
	}
}

// PeerGone reports whether c's peer has closed its side of the connection
// or reset it, with nothing left unread: a look at the socket (a recv that
// peeks and does not wait), for a request that waited before it runs.
// Bytes still to read (a body, a next request), no news, or a socket it
// cannot look at, report false.
func PeerGone(c net.Conn) bool {
	gone := false
	peek := func(fd int) error {
		var b [1]byte
		n, _, err := syscall.Recvfrom(fd, b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
		switch {
		case err == nil:
			gone = n == 0 // the end of the stream (a FIN)
		case err == syscall.ECONNRESET || err == syscall.EPIPE || err == syscall.ETIMEDOUT:
			gone = true
		}
		return nil
	}
	onSocket(c, "recv", peek)
	return gone
}

// control runs fn on the socket, whether it has joined the poller or not;
// op names the operation in the error.
func (c *lazyConn) control(op string, fn func(fd int) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return c.opError(op, net.ErrClosed)
	}
	if f := c.f.Load(); f != nil {
		rc, err := f.SyscallConn()
		if err != nil {
			return c.fileError(op, err)
		}
		var serr error
		if err := rc.Control(func(fd uintptr) { serr = fn(int(fd)) }); err != nil {
			return c.fileError(op, err)
		}
		return c.opError(op, serr)
	}
	if err := fn(c.fd); err != nil {
		return c.opError(op, err)
	}
	return nil
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
func (c *lazyConn) joinLocked() (*os.File, error) {
	f := os.NewFile(uintptr(c.fd), c.network)
	if f == nil {
		return nil, net.ErrClosed
	}
	if err := f.SetReadDeadline(c.rdl); err != nil {
		// Not pollable: the poller refused it (epoll's watch limit, no
		// memory). f owns the fd now, and without the poller the
		// connection cannot wait: it ends here.
		f.Close()
		c.fd = -1
		return nil, err
	}
	f.SetWriteDeadline(c.wdl)
	c.f.Store(f)
	return f, nil
}

func (c *lazyConn) SetDeadline(t time.Time) error      { return c.setDeadline(t, true, true) }
func (c *lazyConn) SetReadDeadline(t time.Time) error  { return c.setDeadline(t, true, false) }
func (c *lazyConn) SetWriteDeadline(t time.Time) error { return c.setDeadline(t, false, true) }

// setDeadline sets the read deadline, the write deadline or both: on f
// once the connection has joined the poller, else for joinLocked to pass
// on.
func (c *lazyConn) setDeadline(t time.Time, read, write bool) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.fd < 0 {
		return c.opError("set", net.ErrClosed)
	}
	f := c.f.Load()
	if read {
		c.rdl = t
		if f != nil {
			if err := f.SetReadDeadline(t); err != nil {
				return c.fileError("set", err)
			}
		}
	}
	if write {
		c.wdl = t
		if f != nil {
			return c.fileError("set", f.SetWriteDeadline(t))
		}
	}
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
	if f := c.f.Load(); f != nil {
		return c.fileError("close", f.Close())
	}
	if err := syscall.Close(fd); err != nil {
		return c.opError("close", os.NewSyscallError("close", err))
	}
	return nil
}

// opError wraps err as net's connections do, so that callers' checks
// (net.Error's Timeout, errors.Is net.ErrClosed) hold for both; nil stays
// nil.
func (c *lazyConn) opError(op string, err error) error {
	if err == nil {
		return nil
	}
	return &net.OpError{Op: op, Net: c.network, Addr: c.raddr, Err: err}
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
