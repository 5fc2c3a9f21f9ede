package listen

import (
	"net"
	"syscall"
)

// Waiter reads a connection the way syscall.RawConn.Read does, on a
// connection from Lazy too: it lets a reader take its buffer only once
// there is something to read, and so wait without one (an idle keep-alive
// connection between two requests). The zero Waiter cannot wait; Reset
// gives it a connection.
type Waiter struct {
	lazy *lazyConn
	rc   syscall.RawConn
}

// Reset makes w read nc: a connection from Lazy, or one that has a
// syscall.RawConn (net's TCP and unix connections). Reset(nil) lets go of
// the last one.
func (w *Waiter) Reset(nc net.Conn) {
	w.lazy, w.rc = nil, nil
	switch c := nc.(type) {
	case *lazyConn:
		w.lazy = c
	case syscall.Conn:
		w.rc, _ = c.SyscallConn()
	}
}

// Read calls read with the socket's descriptor until read reports done;
// read makes one non-blocking attempt, and reports false when the socket
// had nothing to read (EAGAIN). Between two calls the connection waits in
// the poller until the socket is readable. Read returns the error that
// ended a wait: the read deadline, or the connection closed. It reports
// false, at once, where it cannot read this connection so: the caller then
// reads as it would have.
//
// A connection from Lazy that has not joined the poller calls read without
// it, and joins once read finds nothing.
func (w *Waiter) Read(read func(fd uintptr) (done bool)) (bool, error) {
	if w.lazy != nil && w.rc == nil {
		f, err := w.lazy.unjoined(false, func(fd int) bool { return !read(uintptr(fd)) })
		if err != nil {
			return true, w.lazy.opError("read", err)
		}
		if f == nil {
			return true, nil // read is done
		}
		if w.rc, err = f.SyscallConn(); err != nil { // it waits in the poller from now on
			return true, w.lazy.fileError("read", err)
		}
	}
	if w.rc == nil {
		return false, nil
	}
	err := w.rc.Read(read)
	if w.lazy != nil && err != nil {
		err = w.lazy.fileError("read", err)
		w.lazy.mu.Lock()
		if w.lazy.fd < 0 { // closed meanwhile: the poller said "use of closed file"
			err = w.lazy.opError("read", net.ErrClosed)
		}
		w.lazy.mu.Unlock()
	}
	return true, err
}
