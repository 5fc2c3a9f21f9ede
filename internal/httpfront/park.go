package httpfront

import (
	"errors"
	"sync/atomic"
	"time"

	"carafe/internal/wsgi"
)

// A response's body is written on the Python thread, which waits with
// it: a client that reads slowly, or not at all, held a thread for as
// long as it took, and one that stopped reading for two to three
// --http-timeouts. Eight such clients (phones on a bad link, or an
// attacker's eight connections) took every thread of a 2 x 4 site for
// minutes. So when a turn of parkAfter passes in which the client took
// none of a piece, the rest of it is copied into memory ("parked") and
// written by a goroutine of its own, under the usual timeouts, while the
// app goes on: a Flask or Django response's call ends at once, and the
// thread serves the next request, as when nginx in front buffers the
// response. The next write of the same response waits for the parked
// one (a stream does not run ahead of its client by more than a piece).
// The memory is bounded for the worker (parkBudget); past it the thread
// waits, as before. A response its client takes promptly costs nothing.

// parkAfter is the turn in which a client must take some of a piece
// before the rest is parked. A client that reads sees the socket take
// bytes again within a round trip.
const parkAfter = 100 * time.Millisecond

// parkBudget bounds the parked bytes of a worker's connections together.
var parkBudget int64 = 64 << 20

// parkUsed is what the worker's connections hold of parkBudget.
var parkUsed atomic.Int64

// parksStarted counts the parks, for the tests.
var parksStarted atomic.Int64

// parkPoll is how often a streamed body's small pieces look whether the
// parked piece before them is out (see flushSoon).
const parkPoll = 10 * time.Millisecond

// parkedWrite is a parked piece on its way out.
type parkedWrite struct {
	done   chan struct{}
	err    error // set before done closes
	unsent int64
}

// over reports whether the parked write has ended.
func (pw *parkedWrite) over() bool {
	select {
	case <-pw.done:
		return true
	default:
		return false
	}
}

// parkable reports whether a write of the app's output may park: during
// the call, once the app has no more of the body to read (one still
// coming from the socket would wait for a reader that is gone: see
// spool.go).
func (c *conn) parkable() bool {
	return c.bodyLeft == 0 && c.spool == nil
}

// writeParking writes p in turns of parkAfter; when a turn passes in
// which the socket took nothing of it, the rest is parked and p counts as
// written. It goes on as writeProgress where nothing can be parked.
func (c *conn) writeParking(p []byte) (int, error) { return c.writeTurns(p, turnPark) }

// park starts writing a copy of rest on a goroutine of its own, if the
// budget has room for it. Until joinParked, that goroutine owns the
// socket's writes and their deadline.
func (c *conn) park(rest []byte) bool {
	n := int64(len(rest))
	if parkUsed.Add(n) > parkBudget {
		parkUsed.Add(-n)
		return false
	}
	parksStarted.Add(1)
	buf := append([]byte(nil), rest...)
	pw := &parkedWrite{done: make(chan struct{})}
	c.pw = pw
	c.parkedOut.Store(true)
	go func() {
		defer close(pw.done)
		defer c.parkedOut.Store(false)
		defer parkUsed.Add(-n)
		m, err := c.writeProgress(buf)
		if err != nil {
			pw.err, pw.unsent = err, int64(len(buf)-m)
		}
	}()
	return true
}

// joinParked waits for a parked piece to be out, and reports whether it
// went out whole; if not, the write's error is c's, and what the log
// counts as written leaves out what was not.
func (c *conn) joinParked() bool {
	pw := c.pw
	<-pw.done
	c.pw = nil
	if pw.err == nil {
		return true
	}
	if c.writeErr == nil {
		c.writeErr = pw.err
	}
	// (unsent may hold a head's or a chunk's framing too, which written
	// does not count: a cut chunked body is logged a few bytes short.)
	c.written = max(0, c.written-pw.unsent)
	return false
}

// endParked waits, once the call is over, for a piece parked during it;
// one its client did not take is said in the log, as the response cut
// short it is.
func (c *conn) endParked() {
	if c.pw == nil || c.joinParked() || errors.Is(c.writeErr, errAbandoned) {
		return
	}
	c.closeAfter = true
	if c.call.Result == wsgi.OK { // (an OutputError is logged by finish)
		c.s.opts.Log.Info("httpfront: response cut short, "+c.whyUndelivered(c.writeErr), "remote", c.remote,
			"method", string(c.req.Method), "target", string(c.req.Target), "err", c.writeErr)
	}
}
