package httpfront

import (
	"errors"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"carafe/internal/listen"
	"carafe/internal/wsgi"
)

// Output implements wsgi.Exchange: it frames the app's output. It runs
// on the Python thread (GIL released); the last call of a response only
// buffers, and the connection goroutine flushes.
func (c *conn) Output(head, body, ext []byte, last bool) error {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.abandoned {
		return errAbandoned
	}
	if c.writeErr != nil {
		return c.writeErr
	}
	if head == nil && c.headErr != nil {
		return c.headErr // no body goes out without the head it belongs to
	}
	if c.parkable() {
		c.parking = true
		defer func() { c.parking = false }()
	}
	if head != nil {
		if err := c.head.Parse(head); err != nil {
			c.headErr = err
			return err
		}
		c.headErr = nil // a head given again (start_response with exc_info) replaced it
		if c.takeRedirect() {
			c.redirecting = true // the file replaces the body, served after the call
		} else {
			c.writeHead(int64(len(body)+len(ext)), last)
		}
	}
	if c.redirecting {
		return nil
	}
	if len(body)+len(ext) > 0 {
		c.writeBody(body, ext)
	}
	if last {
		c.disarmFlush()
		c.endBody()
	} else {
		c.flushSoon()
	}
	return c.writeErr
}

// streamGather is how long the small pieces of a streamed body may gather
// in bw before they go out. Each piece sent on its own is a packet (the
// socket has TCP_NODELAY, which a response's last bytes need) and a
// wake-up of the client: a generator of 10,000 lines of 100 bytes cost
// 70 ms of CPU and went out at 19 responses/s, where uWSGI, whose Nagle
// merges them, sends 64. The first piece, and any that follows a quiet
// spell of streamGather (an event stream's next event), goes out at once;
// those that come sooner join it within streamGather, or as soon as bw is
// full, while the app goes on producing (PEP 3333 allows that: the server
// keeps transmitting while the app makes its next block).
const streamGather = time.Millisecond

// flushSoon sends what bw holds of a streamed body now, or within
// streamGather of the last time it did (see streamGather). Called with
// outMu held.
func (c *conn) flushSoon() {
	if c.writeErr != nil || c.bw.Buffered() == 0 || c.flushArmed.Load() {
		return
	}
	now := time.Now()
	wait := streamGather - now.Sub(c.lastFlush)
	if c.pw != nil && !c.pw.over() {
		// What bw holds follows a parked piece still going out: it is
		// sent after it, from the timer, and the thread goes on (a
		// chunked body's last piece ends with bytes of framing).
		wait = parkPoll
	}
	if wait > 0 {
		c.flushArmed.Store(true)
		if c.flushTimer == nil {
			c.flushTimer = time.AfterFunc(wait, c.timedFlush)
		} else {
			c.flushTimer.Reset(wait)
		}
		return
	}
	c.lastFlush = now
	c.flushAt(now)
}

// timedFlush is flushSoon's timer: it sends what gathered meanwhile,
// unless the call ended or its goroutine took bw back (disarmFlush).
func (c *conn) timedFlush() {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if !c.flushArmed.Load() {
		return
	}
	if c.pw != nil && !c.pw.over() && !c.abandoned {
		c.flushTimer.Reset(parkPoll) // still armed: the parked piece goes first
		return
	}
	if !c.abandoned { // (harakiri closed the connection)
		c.lastFlush = time.Now()
		c.flushAt(c.lastFlush)
	}
	// Armed until the write is over: a body read (ReadBody) waits for it,
	// since a write may start the spool, which takes the body's reads.
	c.flushArmed.Store(false)
}

// disarmFlush stops flushSoon's timer (a run already waiting for outMu
// then does nothing); what bw holds stays for the caller to send. Called
// with outMu held.
func (c *conn) disarmFlush() {
	if c.flushArmed.Load() {
		c.flushArmed.Store(false)
		c.flushTimer.Stop()
	}
}

// SendFile implements wsgi.Exchange for a file_wrapper response: the
// kernel copies the file to the socket (sendfile). The app's
// Content-Length, if any, still bounds what is sent.
func (c *conn) SendFile(head []byte, f *os.File, n int64) error {
	c.outMu.Lock()
	defer c.outMu.Unlock()
	if c.abandoned {
		return errAbandoned
	}
	if c.writeErr != nil {
		return c.writeErr
	}
	if err := c.head.Parse(head); err != nil {
		c.headErr = err
		return err
	}
	if c.takeRedirect() {
		c.redirecting = true
		return nil
	}
	if c.pw != nil && !c.joinParked() { // (a piece the app wrote before its file)
		return c.writeErr
	}
	if c.head.ContentLength >= 0 && c.head.ContentLength < n {
		n = c.head.ContentLength
	}
	c.writeHead(n, true)
	if !c.isHead && c.respLeft > 0 && c.writeErr == nil {
		c.flush()
		m, err := c.copyFile(f, min(n, c.respLeft))
		c.written += m
		c.respLeft -= m
		// io.EOF: the file ended early, a short body endBody warns of;
		// anything else is the write's.
		if err != nil && !errors.Is(err, io.EOF) && c.writeErr == nil {
			c.writeErr = err
		}
	}
	c.endBody()
	return c.writeErr
}

// writeHead writes the status line and headers. size is the body length
// when last says the whole body is known.
func (c *conn) writeHead(size int64, last bool) {
	h := &c.head
	c.status = h.Code
	c.headWritten = true
	b := c.scratch[:0]
	b = append(b, "HTTP/1.1 "...)
	b = append(b, h.Status...)
	b = append(b, "\r\n"...)
	for _, f := range h.Fields {
		b = append(b, f.Name...)
		b = append(b, ": "...)
		b = append(b, f.Value...)
		b = append(b, "\r\n"...)
	}
	switch {
	case h.Code == 204 || h.Code == 304:
		c.respLeft = 0
	case h.Code == 205:
		// Reset Content has no content (RFC 9110 §15.3.6), but unlike
		// 204 its framing is read as usual: say so.
		c.respLeft = 0
		b = appendContentLength(b, 0)
	case h.ContentLength >= 0:
		c.respLeft = h.ContentLength
		b = appendContentLength(b, h.ContentLength)
	case last && c.isHead && size == 0:
		// No body from the app for HEAD (Werkzeug and Django send none):
		// what GET would send is unknown, so no Content-Length (RFC 9110
		// §8.6); a HEAD response ends with its head anyway.
	case last:
		c.respLeft = size
		b = appendContentLength(b, size)
	case c.req.Minor >= 1 && c.s.opts.Protocol == HTTP:
		c.respChunked = !c.isHead
		if c.respChunked {
			b = append(b, "Transfer-Encoding: chunked\r\n"...)
		}
	default:
		c.closeAfter = true // HTTP/1.0 or uwsgi: the body ends at close
	}
	if h.Close || !c.drainable() || c.stopping() {
		// An unread body too big to drain ends the connection, and so does
		// a server that began stopping during the call: say so, or the
		// client sends its next request to a worker about to cut it.
		c.closeAfter = true
	}
	b = appendOrigin(b, c.s.opts.Protocol, c.start, h.HasDate, h.HasServer)
	b = append(b, c.s.opts.AddHeaders...)
	keep := c.req.KeepAlive && c.s.opts.Keepalive > 0 && !c.closeAfter
	switch {
	case c.s.opts.Protocol == UWSGI:
		// The gateway's connection ends with the response whatever it
		// says (nginx reads no Connection header from a uwsgi upstream),
		// and its head must fit the gateway's buffer (nginx's
		// uwsgi_buffer_size, 4 KiB by default), which uWSGI's fits.
	case !keep:
		b = append(b, "Connection: close\r\n"...)
	case c.req.Minor == 0:
		b = append(b, "Connection: keep-alive\r\n"...)
	}
	b = append(b, "\r\n"...)
	c.scratch = b
	c.headSize = int64(len(b))
	c.countHead(b)
	c.write(b)
}

func appendContentLength(b []byte, n int64) []byte {
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, n, 10)
	return append(b, "\r\n"...)
}

// writeBody writes body then ext as one piece of the response body, never
// past the app's Content-Length.
func (c *conn) writeBody(body, ext []byte) {
	if c.isHead || c.respLeft == 0 && !c.respChunked {
		if c.respLeft == 0 && !c.isHead {
			c.overflow()
		}
		return
	}
	if c.respLeft > 0 {
		body, ext = c.clip(body, ext)
	}
	n := len(body) + len(ext)
	if c.respChunked {
		b := strconv.AppendInt(c.scratch[:0], int64(n), 16)
		c.write(append(b, "\r\n"...))
	}
	// The access log and the stats count what went out, also of a body
	// a client left part-way (a download cut short logged 0 bytes).
	c.written += int64(c.write(body) + c.write(ext))
	if c.respChunked {
		c.write(crlf)
	}
}

var crlf = []byte("\r\n")

// clip trims body+ext to the bytes Content-Length still allows.
func (c *conn) clip(body, ext []byte) ([]byte, []byte) {
	left := c.respLeft
	if int64(len(body)) > left {
		body, ext = body[:left], nil
		c.overflow()
	} else if int64(len(body)+len(ext)) > left {
		ext = ext[:left-int64(len(body))]
		c.overflow()
	}
	c.respLeft -= int64(len(body) + len(ext))
	return body, ext
}

func (c *conn) overflow() {
	if c.overflowLogged {
		return
	}
	c.overflowLogged = true
	if c.status == 204 || c.status == 205 || c.status == 304 {
		c.s.opts.Log.Warn("httpfront: app sent a body with a "+strconv.Itoa(c.status)+" response, which has none; "+
			"the body was dropped", "method", string(c.req.Method), "target", string(c.req.Target))
		return
	}
	c.s.opts.Log.Warn("httpfront: app sent more than its Content-Length; the excess was dropped",
		"method", string(c.req.Method), "target", string(c.req.Target))
}

// endBody completes a response whose app finished normally.
func (c *conn) endBody() {
	switch {
	case c.respChunked:
		c.write([]byte("0\r\n\r\n"))
	case c.respLeft > 0 && !c.isHead:
		// A client that went away took the rest unsent: the app is not
		// to blame (a download cut short, through sendfile above all).
		if c.writeErr == nil {
			c.s.opts.Log.Warn("httpfront: app sent less than its Content-Length; closing the connection",
				"method", string(c.req.Method), "target", string(c.req.Target), "missing", c.respLeft)
		}
		c.closeAfter = true
	}
}

// write writes p, a head or a piece of the app's body, through bw. A body
// bigger than bw goes to the socket in one write, as the app gave it: its
// deadline moves on while the client takes bytes (writeProgress), so a
// slow but steady reader gets a 20 MB body whole. Cutting it into pieces
// cost a 10 MiB download a third more CPU (a write, a TCP push and a
// deadline per piece).
func (c *conn) write(p []byte) int {
	if c.writeErr != nil || len(p) == 0 {
		return 0
	}
	if c.bw.Available() < len(p) {
		if c.pw != nil && !c.joinParked() {
			return 0
		}
		c.writeDeadline(time.Now(), c.s.opts.IOTimeout)
	}
	n, err := c.bw.Write(p)
	c.writeErr = err
	return n
}

func (c *conn) flush() { c.flushAt(time.Now()) }

// flushAt is flush for a caller that has just read the clock.
func (c *conn) flushAt(now time.Time) {
	if c.writeErr != nil || c.bw.Buffered() == 0 {
		return
	}
	if c.pw != nil && !c.joinParked() {
		return
	}
	c.writeDeadline(now, c.s.opts.IOTimeout)
	c.writeErr = c.bw.Flush()
}

// finish deals with a call that did not end in a clean response: an app
// error before any output becomes a 500; after output went out, the
// connection is cut so the client cannot take the response as complete.
func (c *conn) finish() {
	switch c.call.Result {
	case wsgi.OK:
		if c.bodyErr != nil {
			// The app caught its read's error and answered (Werkzeug's
			// ClientDisconnected is a 400): the log says why the body
			// was short, as when the app raises.
			c.logBodyIncomplete()
		}
		if c.headErr == nil || c.headWritten {
			return
		}
		// The app went on after its head was refused (it caught the
		// error of its write): it still owes a response.
		c.s.opts.Log.Error("httpfront: app response refused", "method", string(c.req.Method),
			"target", string(c.req.Target), "err", c.headErr)
	case wsgi.AppError:
		if c.bodyErr != nil {
			// The app raised after its body read failed (the bridge logged
			// no traceback): the client's fault, answered as a body that
			// could not be read before the call is (408 past the timeout).
			c.logBodyIncomplete()
			if !c.headWritten && c.writeErr == nil {
				c.writeSimple(bodyErrStatus(c.bodyErr), false)
				c.closeAfter = true
				return
			}
			break
		}
		c.s.opts.Log.Error("httpfront: app error", "method", string(c.req.Method),
			"target", string(c.req.Target), "headers_sent", c.headWritten)
	case wsgi.Unavailable: // never ran: the worker stops (see wsgi.Unavailable)
		c.closeAfter = true
		c.writeSimple(503, false)
		return
	case wsgi.ClientGone: // never ran: nobody to answer
		c.departed()
		return
	case wsgi.OutputError:
		if c.headErr != nil {
			c.s.opts.Log.Error("httpfront: app response refused", "method", string(c.req.Method),
				"target", string(c.req.Target), "err", c.headErr)
		} else if c.writeErr != nil && !errors.Is(c.writeErr, errAbandoned) {
			// The request log's line reads as an answer like any other:
			// say that this one did not reach the client whole.
			c.s.opts.Log.Info("httpfront: response cut short, "+c.whyUndelivered(c.writeErr), "remote", c.remote,
				"method", string(c.req.Method), "target", string(c.req.Target), "err", c.writeErr)
		}
	}
	if c.headWritten && c.call.Result == wsgi.AppError && c.answered() {
		// The app raised after its whole answer (a generator's cleanup
		// after its last chunk): the client has it, and a reset could
		// still take it from the client's buffer. Close cleanly.
		c.closeAfter = true
		c.flush()
		return
	}
	if c.headWritten {
		c.abort()
		return
	}
	if c.writeErr != nil {
		c.closeAfter = true
		return
	}
	// Keep the connection where the response says so: HTTP/1.1 keep-alive
	// (this short response names no keep-alive for HTTP/1.0), and a body
	// left unread that drain will discard.
	keep := c.req.KeepAlive && c.req.Minor >= 1 && c.s.opts.Keepalive > 0 && !c.closeAfter && c.drainable() && !c.stopping()
	c.writeSimple(500, keep)
	if !keep {
		c.closeAfter = true
	}
}

// whyUndelivered says why a response did not reach its client whole:
// the client left, or it stopped reading (its write made no progress
// for the timeout: a client still connected, which "went away" denied).
func (c *conn) whyUndelivered(err error) string {
	switch {
	case errors.Is(err, net.ErrClosed):
		return "the stop's time ran out (--worker-reload-mercy)"
	case !errors.Is(err, os.ErrDeadlineExceeded):
		return "the client went away"
	case c.s.opts.Protocol == UWSGI:
		return "the client stopped reading (no progress for --socket-timeout)"
	}
	return "the client stopped reading (no progress for --http-timeout)"
}

func (c *conn) logBodyIncomplete() {
	c.s.opts.Log.Info("httpfront: request body incomplete", "remote", c.remote,
		"method", string(c.req.Method), "target", string(c.req.Target), "err", c.bodyErr)
}

// departedAfter is how long a request may have waited, as its call is
// about to run, before ClientGone looks whether its client is still
// there. One that waited so long for a Python thread may have been given
// up on: by nginx, whose read timeout closed the connection (and whose
// client may retry), or by a browser's user. Running it would be work for
// nobody, taken from the requests queued behind it: under a load the app
// cannot keep up with, the queue would not drain. nginx drops a proxied
// request whose client closes, for the same reason. The younger calls
// (nearly all) run without the look, a system call.
const departedAfter = 100 * time.Millisecond

// ClientGone implements wsgi.Departer: a request whose call has waited
// departedAfter or more for a thread, or the first of a connection that
// waited in the listen backlog (see Server.Serve), finds its client has
// closed (or reset) the connection and sent nothing more. The time the
// request took to come (a slow upload) is no wait. Bytes still buffered,
// a pipelined request's, say the client is there.
func (c *conn) ClientGone() bool {
	backlogged := c.backlogged
	c.backlogged = false
	if !backlogged && time.Since(c.queued) < departedAfter {
		return false
	}
	return c.br.Buffered() == 0 && listen.PeerGone(c.nc)
}

// departedEvery is how often at most a line says how many requests were
// not run because their clients had gone (a variable for the tests).
var departedEvery = time.Minute

// departed ends a request that did not run because its client had gone
// (wsgi.ClientGone): nothing is sent, and it is logged with nginx's 499
// for a client that closed its request. Many clients that give up while
// their requests queue are the sign of an app that cannot keep up with
// its load: the first such request is logged at once, and those that
// follow within departedEvery in one line at its end.
func (c *conn) departed() {
	c.status, c.closeAfter = 499, true
	c.writeErr = errDeparted
	s := c.s
	s.departMu.Lock()
	defer s.departMu.Unlock()
	if s.departArmed {
		s.departN++
		return
	}
	s.departArmed = true
	s.opts.Log.Warn("httpfront: a request was not run: its client had closed the connection while it waited "+
		"for a Python thread (many such mean too few --threads or --processes for the load, or a slow app)",
		"method", string(c.req.Method), "target", string(c.req.Target))
	s.departTimer = time.AfterFunc(departedEvery, s.departedSince)
}

// departedFinal stops departedSince's timer as the server stops, and
// logs the count it would have given. Later skips are counted, unsaid.
func (s *Server) departedFinal() {
	s.departMu.Lock()
	defer s.departMu.Unlock()
	if s.departTimer != nil && s.departTimer.Stop() {
		s.departTimer = nil
		s.logDepartedLocked()
	}
}

// departedSince logs how many requests departed skipped in the last
// departedEvery, and looks again after as long while there were some.
func (s *Server) departedSince() {
	s.departMu.Lock()
	defer s.departMu.Unlock()
	if !s.logDepartedLocked() {
		s.departArmed = false
		return
	}
	s.departTimer = time.AfterFunc(departedEvery, s.departedSince)
}

// logDepartedLocked logs the requests departed counted since the last
// line, if any, and reports whether there were. Called with departMu held.
func (s *Server) logDepartedLocked() bool {
	if s.departN == 0 {
		return false
	}
	s.opts.Log.Warn("httpfront: requests not run in the last minute: their clients had closed their connections "+
		"while they waited for a Python thread", "requests", s.departN)
	s.departN = 0
	return true
}

var errDeparted = errors.New("httpfront: the client had gone before the request ran")

// answered reports whether the client has had the whole response, as
// its head framed it: a HEAD's head, or every byte of its Content-Length.
func (c *conn) answered() bool {
	return c.writeErr == nil && !c.respChunked && (c.isHead || c.respLeft == 0)
}

// abort sends what is buffered, without any end-of-body marker, and
// resets the connection so the truncation is visible to the client.
func (c *conn) abort() {
	c.closeAfter = true
	c.flush()
	if tc, ok := c.nc.(interface{ SetLinger(int) error }); ok {
		tc.SetLinger(0)
	}
	c.nc.Close()
	if c.writeErr == nil { // a write that failed first says why (--log-ioerror, %(werr))
		c.writeErr = errAborted
	}
}

var errAborted = &Error{Status: 500, Msg: "response aborted after an app error"}

// writeSimple answers with carafe's own short plain-text response.
func (c *conn) writeSimple(code int, keepAlive bool) {
	c.status = code
	c.scratch = appendSimpleResponse(c.scratch[:0], c.s.opts.Protocol, code, keepAlive)
	c.written = int64(len(reason(code)) + 1)
	if c.isHead { // the head says what a GET would get; no body follows it
		c.scratch = c.scratch[:len(c.scratch)-int(c.written)]
		c.written = 0
	}
	c.headSize = int64(len(c.scratch)) - c.written
	c.countHead(c.scratch[:c.headSize])
	c.write(c.scratch)
}

// Abandon implements wsgi.Abandoner for harakiri: the app is stuck in this
// request, so answer 504 if nothing went out yet, and close. It runs on
// another goroutine while the Python thread is stuck; the worker exits
// soon after, so the connection is never used again. The request is
// logged here, with what the client got: the stuck call may never
// return, and if it does, its own status is not what went out.
func (c *conn) Abandon() {
	if !c.outMu.TryLock() {
		c.nc.Close() // a write to a slow client holds it: end that write
		c.outMu.Lock()
	}
	defer c.outMu.Unlock()
	if c.done || c.abandoned {
		return // the call ended meanwhile
	}
	c.abandoned = true
	if !c.headWritten {
		resp := appendSimpleResponse(nil, c.s.opts.Protocol, 504, false)
		c.status, c.written = 504, int64(len(reason(504))+1)
		c.headSize = int64(len(resp)) - c.written
		c.countHead(resp[:c.headSize])
		c.nc.SetWriteDeadline(time.Now().Add(time.Second))
		// Straight to the socket: bw holds nothing (a pipelined answer
		// goes out before the call, a 100 Continue at once), and its
		// writer may start a spool, whose reads would race the stuck
		// call's (see spool.go).
		if _, err := c.nc.Write(resp); err == nil {
			// As closeConn: a child the stuck view forked must not hold
			// the 504's end back.
			if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
				cw.CloseWrite()
			}
		}
	}
	c.nc.Close()
	if c.pw != nil {
		// Cut by the close: the log counts what went out of it. (The
		// call is not in Output, whose outMu this holds.)
		c.joinParked()
	}
	c.s.sent.Add(c.headSize + c.written)
	c.logAccess(c.call.Start)
	// Its call may never return (harakiri's very case): a drain waits for
	// the worker's other connections only, not the whole grace for this.
	c.s.track(c, false)
}

// errAbandoned refuses the output of a call that harakiri answered.
var errAbandoned = errors.New("httpfront: the request was ended by harakiri")
