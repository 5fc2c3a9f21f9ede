package httpfront

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// An app may answer before it has read the request's body: a view that
// refuses an upload, or one that never looks at it. A client that sends
// its whole body before it reads anything (Apache's mod_proxy_uwsgi and
// mod_proxy_http do) cannot take such an answer once the socket buffers
// are full: carafe waits for the client to read, the client waits for
// carafe to read, until --socket-timeout. So when a write of the response
// would block while the body still streams unread from the socket, the
// rest of the body is read into an unlinked temp file in the background
// (what --post-buffering does up front), and the app's later reads come
// from it. A response that goes out without blocking costs nothing.

// bodySpool reads the rest of a request body into a temp file while the
// response goes out. Its goroutine owns the connection's reads until
// endSpool; the app's reads (ReadBody) take what has arrived.
type bodySpool struct {
	c    *conn
	f    *os.File
	want int64 // the body bytes to take from the socket
	done chan struct{}

	mu    sync.Mutex
	cond  sync.Cond // broadcast as bytes arrive and when the spool ends
	got   int64     // bytes in f
	err   error     // why it ended short (the client stalled or left); nil when whole
	ended bool
	stop  bool  // endSpool wants the connection's reads back
	read  int64 // bytes of f the app has read (only ReadBody touches it)
}

// spoolsStarted counts the spools started, for the tests to see one ran.
var spoolsStarted atomic.Int64

// spoolable reports whether a write that would block should start the
// spool: the app's call is on, part of its body is still unread on the
// socket, and the client is sending it (not waiting for a 100 Continue).
func (c *conn) spoolable() bool {
	return c.streaming && c.spool == nil && c.bodyLeft > 0 && !(c.expect100 && !c.sent100)
}

// startSpool starts reading the rest of the body into a temp file. Where
// no temp file can be made, the response's writes just wait as before.
func (c *conn) startSpool() {
	f, err := tempBodyFile()
	if err != nil {
		c.s.opts.Log.Error("httpfront: cannot buffer the unread request body", "err", err)
		c.streaming = false // one try per request
		return
	}
	s := &bodySpool{c: c, f: f, want: c.bodyLeft, done: make(chan struct{})}
	s.cond.L = &s.mu
	c.spool = s
	spoolsStarted.Add(1)
	go s.run()
}

func (s *bodySpool) run() {
	defer close(s.done)
	c := s.c
	buf := make([]byte, min(bodyChunk, s.want))
	var err error
	for s.got < s.want && err == nil {
		p := buf[:min(int64(len(buf)), s.want-s.got)]
		var n int
		if b := c.br.Buffered(); b > 0 {
			// What the head's read took of the body: from the buffer, which
			// keeps any bytes past the body for the next request.
			n, _ = c.br.Read(p[:min(len(p), b)])
		} else {
			// The socket itself: br's reader would flush bw, which the
			// response's writer owns now.
			s.mu.Lock()
			if s.stop {
				s.mu.Unlock()
				break
			}
			c.nc.SetReadDeadline(time.Now().Add(c.s.opts.IOTimeout))
			s.mu.Unlock()
			n, err = c.nc.Read(p)
			if err == io.EOF {
				err = io.ErrUnexpectedEOF
			}
		}
		if n > 0 {
			if _, werr := s.f.Write(p[:n]); werr != nil {
				err = fmt.Errorf("buffering it: %w", werr)
				n = 0
			}
		}
		s.mu.Lock()
		s.got += int64(n)
		s.cond.Broadcast()
		s.mu.Unlock()
	}
	s.mu.Lock()
	if err != nil && !s.stop {
		s.err = fmt.Errorf("%w: %w", errBodyRead, err)
	}
	s.ended = true
	s.cond.Broadcast()
	s.mu.Unlock()
}

// Read is ReadBody's read from the spool: it waits for bytes to arrive.
func (s *bodySpool) Read(p []byte) (int, error) {
	s.mu.Lock()
	for s.read == s.got && !s.ended {
		s.cond.Wait()
	}
	avail, err := s.got-s.read, s.err
	s.mu.Unlock()
	if avail == 0 {
		if err == nil {
			err = io.ErrUnexpectedEOF
		}
		return 0, err
	}
	n, err := s.f.ReadAt(p[:min(int64(len(p)), avail)], s.read)
	s.read += int64(n)
	if n > 0 {
		err = nil
	}
	return n, err
}

// endSpool ends the spool, if one ran, once the response is done: it
// takes the connection's reads back (what the client has not sent yet
// stays on the socket, for drain or the lingering close), and leaves in
// bodyLeft what is still unread there.
func (c *conn) endSpool() {
	c.streaming = false
	s := c.spool
	if s == nil {
		return
	}
	c.spool = nil
	s.mu.Lock()
	if !s.ended {
		s.stop = true
		c.nc.SetReadDeadline(time.Unix(1, 0)) // ends a read in progress
	}
	s.mu.Unlock()
	<-s.done
	c.rdl = time.Time{} // the armed deadline is unknown: re-arm on the next read
	s.f.Close()
	c.bodyLeft = s.want - s.got
	if s.err != nil && c.bodyErr == nil {
		c.bodyErr = s.err
	}
}

// connWriter is what bw writes to the socket through: while the app's
// call may leave a body unread (see spoolable), a write that would block
// starts the spool first.
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	c := w.c
	if !c.spoolable() {
		return c.nc.Write(p)
	}
	n, blocked, err := c.tryWrite(p)
	if !blocked {
		return n, err
	}
	c.startSpool()
	m, err := c.nc.Write(p[n:])
	return n + m, err
}

// tryWrite writes what the socket takes of p now and reports whether the
// rest would have to wait. A connection without a file descriptor reports
// that at once.
func (c *conn) tryWrite(p []byte) (n int, blocked bool, err error) {
	sc, ok := c.nc.(syscall.Conn)
	if !ok {
		return 0, true, nil
	}
	rc, rerr := sc.SyscallConn()
	if rerr != nil {
		return 0, true, nil
	}
	werr := rc.Write(func(fd uintptr) bool {
		for n < len(p) {
			m, e := syscall.Write(int(fd), p[n:])
			switch {
			case e == syscall.EINTR:
				continue
			case e == syscall.EAGAIN:
				blocked = true
				return true
			case e != nil:
				err = os.NewSyscallError("write", e)
				return true
			}
			n += m
		}
		return true
	})
	if werr != nil && err == nil {
		err = werr // the write deadline had passed, or the socket was closed
	}
	return n, blocked && err == nil, err
}

// tempBodyFile makes an unlinked temp file for a request body.
func tempBodyFile() (*os.File, error) {
	f, err := os.CreateTemp("", "carafe-body-")
	if err != nil {
		return nil, err
	}
	if err := os.Remove(f.Name()); err != nil && !errors.Is(err, os.ErrNotExist) {
		f.Close()
		return nil, err
	}
	return f, nil
}
