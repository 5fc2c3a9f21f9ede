package httpfront

import (
	"carafe/internal/listen"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"
)

// An app may answer before it has read the request's body: a view that
// refuses an upload, or one that never looks at it. A client that sends
// its whole body before it reads anything (Apache's mod_proxy_uwsgi and
// mod_proxy_http do) cannot take such an answer once the socket buffers
// are full: carafe waits for the client to read, the client waits for
// carafe to read, until --socket-timeout. So when a write of the response
// makes no progress for spoolAfter while the body still streams unread
// from the socket, the rest of the body is read into an unlinked temp file
// in the background (what --post-buffering does up front), and the app's
// later reads come from it. A response its client takes costs nothing.

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
	taken int64     // bytes taken from the socket
	got   int64     // bytes in f: taken, unless writing f failed
	err   error     // why it ended short (the client stalled or left); nil when whole
	ferr  error     // writing f failed: the rest of the body was taken and dropped
	ended bool
	stop  bool  // endSpool wants the connection's reads back
	read  int64 // bytes of f the app has read (only ReadBody touches it)
}

// spoolsStarted counts the spools started, for the tests to see one ran.
var spoolsStarted atomic.Int64

// spoolable reports whether a write that makes no progress should start
// the spool: the app's call is on, part of its body is still unread on
// the socket, and the client is sending it (not waiting for a 100
// Continue).
func (c *conn) spoolable() bool {
	return c.streaming && c.spool == nil && c.bodyLeft > 0 && !(c.expect100 && !c.sent100)
}

// spoolErrAt is when a spool last failed to start, so that a full or
// unwritable temp dir is logged once a minute, not once a request.
var spoolErrAt atomic.Int64

// startSpool starts reading the rest of the body into a temp file. Where
// no temp file can be made (TMPDIR missing or not writable), the rest is
// taken and dropped, as when writing the file fails: the answer must go
// out, and it waited for the client, which waited for carafe, until the
// timeout cut it, logged as the client's fault. The app's later reads
// fail.
func (c *conn) startSpool() {
	f, err := tempBodyFile()
	var ferr error
	if err != nil {
		if now := time.Now().Unix(); now-spoolErrAt.Swap(now) >= 60 {
			c.s.opts.Log.Error("httpfront: cannot buffer an unread request body while answering; the rest is dropped",
				"method", string(c.req.Method), "target", string(c.req.Target), "err", err)
		}
		ferr = fmt.Errorf("httpfront: buffering the request body: %w", err)
	}
	s := &bodySpool{c: c, f: f, want: c.bodyLeft, done: make(chan struct{}), ferr: ferr}
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
	ferr := s.ferr // (set before the goroutine started)
	for s.taken < s.want && err == nil {
		p := buf[:min(int64(len(buf)), s.want-s.taken)]
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
		kept := n
		if ferr != nil {
			kept = 0
		} else if n > 0 {
			if _, werr := s.f.Write(p[:n]); werr != nil {
				// The answer must still go out: the rest of the body is
				// taken and dropped; the app's reads past here fail.
				c.s.opts.Log.Error("httpfront: cannot buffer an unread request body while answering; the rest is dropped",
					"method", string(c.req.Method), "target", string(c.req.Target), "err", werr)
				ferr = fmt.Errorf("httpfront: buffering the request body: %w", werr)
				kept = 0
			}
		}
		s.mu.Lock()
		s.taken += int64(n)
		s.got += int64(kept)
		s.ferr = ferr
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
	for s.read == s.got && !s.ended && s.ferr == nil {
		s.cond.Wait()
	}
	avail, err := s.got-s.read, s.err
	if s.ferr != nil {
		err = s.ferr
	}
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
	if s.f != nil {
		s.f.Close()
	}
	c.bodyLeft = s.want - s.taken
	if s.err != nil && c.bodyErr == nil {
		c.bodyErr = s.err
	}
}

// connWriter is what bw writes to the socket through: while the app's
// call may leave a body unread (see spoolable), writes are watched.
type connWriter struct{ c *conn }

func (w connWriter) Write(p []byte) (int, error) {
	c := w.c
	if c.pw != nil && !c.joinParked() { // (write and flushAt join first)
		return 0, c.writeErr
	}
	switch {
	case c.parking:
		return c.writeParking(p)
	case !c.spoolable():
		return c.writeProgress(p)
	}
	return c.writeWatched(p)
}

// writeProgress writes p under the connection's write deadline, and moves
// that deadline on while the client takes bytes: the timeout
// (--http-timeout) bounds the time a response makes no progress, as
// nginx's send_timeout does, not the time a slow but steady reader takes
// for a whole write (a body in one piece), which cut off slow clients.
func (c *conn) writeProgress(p []byte) (int, error) {
	n := 0
	for {
		m, err := c.nc.Write(p[n:])
		n += m
		if err == nil {
			// What it added since the last deadline makes the queue then
			// no measure for the next write's.
			c.sendQueued = -1
		}
		if c.wdl.IsZero() || !errors.Is(err, os.ErrDeadlineExceeded) || !c.progressed(m) {
			return n, err
		}
		c.writeDeadline(time.Now(), c.s.opts.IOTimeout)
	}
}

// progressed reports whether the client took some of the response in the
// write deadline that just passed, in which the socket took m more bytes:
// the socket wakes a writer only once its queue has drained well below
// full (and below TCP_NOTSENT_LOWAT), so a slow reader can take bytes for
// a whole timeout without a write seeing room. The socket's send queue
// (SIOCOUTQ) shows it instead: one that shrank since the response's last
// deadline passed is progress. The first to pass in a response has
// nothing to compare with and counts as progress, and the bytes in flight
// then are still taken in the next, so a client that stops altogether is
// cut after two to three timeouts: its write never ends, and only a write
// that ends (adding to the queue) starts the comparison afresh.
func (c *conn) progressed(m int) bool {
	q := listen.SendQueue(c.nc)
	last := c.sendQueued
	c.sendQueued = q
	return m > 0 || q >= 0 && (last < 0 || q < last)
}

// spoolAfter is how long a write may make no progress, with the body
// unread, before the spool starts. A client that reads sees the socket
// take bytes again within a round trip: a brief full buffer (the
// response is larger than it, or past TCP_NOTSENT_LOWAT) starts nothing.
const spoolAfter = 100 * time.Millisecond

// writeWatched writes p in turns of spoolAfter; a turn in which the
// socket took nothing starts the spool, and the write goes on under the
// connection's own deadline.
func (c *conn) writeWatched(p []byte) (int, error) { return c.writeTurns(p, turnSpool) }

// What a turn of writeTurns that the socket took nothing in does.
const (
	turnSpool = iota // start the spool (spoolAfter)
	turnPark         // park the rest (parkAfter; see park.go)
)

// writeTurns writes p in turns, each under a deadline of its own, and
// does what mode says when a turn passes in which the socket took none
// of it: a client that reads takes bytes again within a round trip. The
// rest goes under the connection's own deadline (writeProgress).
func (c *conn) writeTurns(p []byte, mode int) (int, error) {
	length := spoolAfter
	if mode == turnPark {
		length = parkAfter
	}
	n := 0
	for n < len(p) && (mode != turnSpool || c.spoolable()) {
		turn := time.Now().Add(length)
		if !c.wdl.IsZero() && c.wdl.Before(turn) {
			break // the write's own deadline comes first
		}
		c.nc.SetWriteDeadline(turn)
		m, err := c.nc.Write(p[n:])
		n += m
		if err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
			c.nc.SetWriteDeadline(c.wdl)
			return n, err
		}
		if err == nil || m > 0 {
			continue
		}
		if mode == turnSpool {
			c.startSpool()
			continue
		}
		// The connection's own deadline first: the parked write, on a
		// goroutine of its own from now on, goes under it.
		c.nc.SetWriteDeadline(c.wdl)
		if c.park(p[n:]) {
			return len(p), nil
		}
		break // no room to park: the thread waits
	}
	c.nc.SetWriteDeadline(c.wdl) // (zero: none)
	if n == len(p) {
		c.sendQueued = -1
		return n, nil
	}
	m, err := c.writeProgress(p[n:])
	return n + m, err
}

// fileTurn is copyFile's piece deadline while the body is unread, for a
// sendfile copy (see fileSink): the copy is watched as writeWatched
// watches a write, and sendfile moves the file's offset by what it sent
// when a turn ends it.
func (c *conn) fileTurn() (watched bool) {
	if !c.spoolable() {
		return false
	}
	turn := time.Now().Add(spoolAfter)
	if !c.wdl.IsZero() && c.wdl.Before(turn) {
		return false
	}
	c.nc.SetWriteDeadline(turn)
	return true
}

// tempBodyFile makes an unlinked temp file for a request body (a variable
// for the tests).
var tempBodyFile = func() (*os.File, error) {
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
