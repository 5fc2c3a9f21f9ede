package httpfront

import (
	"bufio"
	"bytes"
	"carafe/internal/httpsyntax"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"carafe/internal/accesslog"
	"carafe/internal/listen"
	"carafe/internal/uwsgi"
	"carafe/internal/wsgi"
)

const (
	// prefetchMax: bodies up to this size are read before the app is
	// called, so a slow client never holds a Python thread.
	prefetchMax = 64 << 10
	// chunkedMemMax: a chunked body is buffered (to CONTENT_LENGTH it, as
	// Django needs); past this size it spills to an unlinked temp file.
	chunkedMemMax = 1 << 20
	// bodyChunk is the piece a body is copied to its temp file in.
	bodyChunk = 64 << 10
	// drainMax: after the response, an unread body up to this size is
	// discarded to keep the connection; a larger one closes it.
	drainMax = 256 << 10
)

// conn is one client connection and, while a request runs, the
// wsgi.Exchange for it. Only one goroutine touches it at a time: the
// connection's own, or the Python thread running its request.
type conn struct {
	s             *Server
	nc            net.Conn
	wait          listen.Waiter         // reads a request once it comes (see awaitRequest)
	waitRead      func(fd uintptr) bool // c.readReady, bound once
	waitFD        int                   // while waitRead runs, the socket it reads; else -1
	waitErr       error                 // what waitRead's read ended with
	bufs          *connBufs             // br and bw; nil while the connection waits for a request
	br            *bufio.Reader
	bw            *bufio.Writer
	remote        string
	rAddr, rPort  string
	trustProxy    bool         // the peer's X-Forwarded-Proto sets the scheme (see ProxyTrust)
	wrClosed      bool         // the writing side is shut (lingerClose)
	inHead        atomic.Int32 // headNone, headReading or headCut (see shutdown)
	logVars       [][]byte     // the access line's %(var.HTTP_NAME) values (reused)
	lHost, lPort  string
	req           Request
	ureq          uwsgi.Request // the current packet, in UWSGI mode
	env           wsgi.Env
	call          *wsgi.Call
	head          wsgi.Head
	chunked       *ChunkedReader
	scratch, body []byte
	same          []int        // sameName's indexes, reused
	state         atomic.Int32 // connIdle / connBusy / connClosing
	stopMu        sync.Mutex   // orders shutdown's deadline before busy's (see shutdown)
	closeAfter    bool         // the connection must close after this response
	bodyLeft      int64        // Content-Length bytes not yet read from br
	bodyFile      *os.File     // a body spilled to a temp file
	streaming     bool         // the app's call is on, its body (if any) read from the socket as it asks
	spool         *bodySpool   // the rest of the body, read while the response goes out (see spool.go)
	bodyMem       int64        // bytes of bodyMemUsed this connection holds
	parking       bool         // Output is writing, and may park what the client does not take (see park.go)
	pw            *parkedWrite // a parked piece on its way out
	parkedOut     atomic.Bool  // ...for a stop to see (see Server.Shutdown)
	expect100     bool
	admit         *Admission  // the listener's, when served with ServeAdmitted
	fresh         bool        // counted among admit's fresh connections, as far as c knows (see settle)
	freshPeriod   int64       // the freshGrace period c was accepted in
	kept          bool        // a request of c's has been answered: the next ones are a kept-alive connection's
	reused        atomic.Bool // kept, for dropIdle
	linger        bool        // close with a lingering close: the request's body was not all read
	sent100       bool
	isHead        bool
	respChunked   bool
	respLeft      int64 // bytes the app's Content-Length still allows; -1: none given
	sendQueued    int   // the socket's send queue when a write deadline last passed in this response; -1: none did (see progressed)
	headWritten   bool
	// outMu orders the Python thread's writes of a response (Output,
	// SendFile, a 100 Continue) with Abandon's on the watchdog's
	// goroutine; done and abandoned say which of the two ended it.
	outMu          sync.Mutex
	done           bool        // finished: the response is over
	abandoned      bool        // Abandon answered and logged the request
	lastFlush      time.Time   // when a streamed body's pieces last went out (see flushSoon)
	flushArmed     atomic.Bool // flushTimer is to send what bw holds (see flushSoon)
	flushTimer     *time.Timer // nil until a response first streams small pieces
	tracked        bool        // counted in s.active (guarded by s.mu; see track)
	backlogged     bool        // accepted as a hold ended: its first request may be stale (see ClientGone)
	headErr        error
	writeErr       error
	bodyErr        error // reading the body for the app failed
	written        int64
	headSize       int64  // bytes of the response head written, for a log-format's %(hsize)
	headFields     int    // its header fields, for %(headers) (see countHead)
	sentFile       bool   // the body went out by copyFile, for --log-sendfile
	gwProto        string // a gateway's SERVER_PROTOCOL past HTTP/1.1, for the access log
	status         int
	overflowLogged bool
	redirecting    bool   // the app answered with X-Sendfile / X-Accel-Redirect
	redirect       string // the path or URI it named
	redirectX      bool   // X-Sendfile (a file path) rather than X-Accel-Redirect (a URI)
	redirectHdr    http.Header
	rdl, wdl       time.Time // the deadlines armed now (see deadline.go)
	start          time.Time // when this request began (its Date header too)
	queued         time.Time // when its call was handed to the app, to wait for a thread (see ClientGone)
	ended          time.Time // when the last response was done
	wallAt         time.Time // the last full clock reading (see now)
}

const (
	connIdle int32 = iota
	connBusy
	connClosing
)

// connPool recycles connections with their request memory: a uwsgi
// gateway opens one connection per request.
var connPool sync.Pool

// connBufs is a connection's read and write buffers. A connection holds a
// pair only while it has a request to read or answer: an idle keep-alive
// connection waits for its next request without them (see awaitRequest),
// so that ten thousand idle clients do not hold ten thousand pairs.
type connBufs struct {
	br *bufio.Reader
	bw *bufio.Writer
}

var bufsPool = sync.Pool{New: func() any {
	return &connBufs{br: bufio.NewReaderSize(nil, 16<<10), bw: bufio.NewWriterSize(nil, 16<<10)}
}}

func newConn(s *Server, nc net.Conn, lHost, lPort string, backlogged bool) *conn {
	c, _ := connPool.Get().(*conn)
	if c == nil {
		c = &conn{call: wsgi.NewCall()}
		c.call.Exch = c
		c.waitRead, c.waitFD = c.readReady, -1
	}
	c.s, c.nc, c.lHost, c.lPort = s, nc, lHost, lPort
	c.wait.Reset(nc)
	c.rdl, c.wdl, c.sendQueued = time.Time{}, time.Time{}, -1
	c.done, c.abandoned, c.backlogged, c.fresh, c.kept = false, false, backlogged, false, false
	c.reused.Store(false)
	c.writeErr, c.wrClosed = nil, false
	c.start = time.Now()
	c.wallAt = c.start
	c.state.Store(connIdle)
	c.remote = ""
	if ra := nc.RemoteAddr(); ra != nil && ra.Network() != "unix" { // a unix peer has no address ("@")
		c.remote = ra.String()
	}
	c.rAddr, c.rPort = splitHostPort(c.remote)
	c.trustProxy = s.opts.Protocol == HTTP && s.opts.Forwarded.trusts(c.rAddr)
	return c
}

// connReader is what br reads the socket through: before the connection
// waits for more bytes, the responses still buffered go out. A client that
// sent a partial next request (or a stray CRLF after a body, which RFC 9112
// §2.2 asks servers to tolerate) is waiting for them; a pipelined batch
// whose requests are all buffered never reads here, and its answers leave
// in one write.
type connReader struct{ c *conn }

func (r connReader) Read(p []byte) (int, error) {
	if r.c.bw.Buffered() > 0 {
		r.c.flush()
	}
	if r.c.waitFD < 0 {
		return r.c.nc.Read(p)
	}
	// Inside readReady: one attempt, on the socket the poller gave.
	for {
		n, err := syscall.Read(r.c.waitFD, p)
		switch {
		case err == syscall.EINTR:
			continue
		case err == syscall.EAGAIN:
			return 0, errWouldBlock
		case err != nil:
			return 0, os.NewSyscallError("read", err)
		case n == 0 && len(p) > 0:
			return 0, io.EOF
		}
		return n, nil
	}
}

// takeBufs gives the connection a pair of buffers.
func (c *conn) takeBufs() {
	b := bufsPool.Get().(*connBufs)
	b.br.Reset(connReader{c})
	b.bw.Reset(connWriter{c})
	c.bufs, c.br, c.bw = b, b.br, b.bw
}

// dropBufs returns the connection's buffers to the pool; what they still
// hold is dropped.
func (c *conn) dropBufs() {
	b := c.bufs
	if b == nil {
		return
	}
	b.br.Reset(nil)
	b.bw.Reset(nil)
	bufsPool.Put(b)
	c.bufs, c.br, c.bw = nil, nil, nil
}

// awaitRequest waits for the client's next request (its first byte, the
// end of the connection, or the read deadline) and reports whether a byte
// of it is buffered. It waits without buffers, as nginx waits for a
// keep-alive request: the first read is made from the poller's read
// function (readReady), which takes a pair of buffers for it and gives
// them back when it finds nothing. The system calls are a read's: one
// where the request is there, one that finds nothing and one after the
// wait where it is not.
func (c *conn) awaitRequest() bool {
	if c.bufs == nil || c.bw.Buffered() == 0 {
		c.dropBufs()
		c.waitErr = nil
		ok, err := c.wait.Read(c.waitRead)
		switch {
		case !ok: // this connection cannot be waited on so: read as before
			c.takeBufs()
		case err != nil:
			return false
		default:
			return c.waitErr == nil // readReady buffered a byte, or the read failed
		}
	}
	_, err := c.br.Peek(1)
	return err == nil
}

// errWouldBlock is connReader's "nothing to read" inside readReady.
var errWouldBlock = errors.New("httpfront: nothing to read yet")

// readReady is awaitRequest's read function: one non-blocking read, into
// buffers taken for it; it gives them back and reports false when the
// socket had nothing.
func (c *conn) readReady(fd uintptr) bool {
	if c.bufs == nil {
		c.takeBufs()
	}
	c.waitFD = int(fd)
	_, err := c.br.Peek(1)
	c.waitFD = -1
	if err == errWouldBlock {
		c.dropBufs()
		return false
	}
	c.waitErr = err
	return true
}

// doCounted runs the call counted among a's calls in the app, until it
// returns or panics (a bug that costs the connection must not leave the
// worker counting it, and taking one connection fewer, for good).
func (c *conn) doCounted(a *Admission) {
	a.inApp.Add(1)
	c.settle() // counted above from now, with no moment counted in neither
	defer func() {
		a.inApp.Add(-1)
		a.poke() // a thread is free
	}()
	c.s.app.Do(c.call)
}

// settle stops counting c among admit's fresh connections: its request
// reaches the app, it was answered without the app (a static file, an
// error), or the connection is over. One whose body is still being read
// stops counting on its own (see Admission).
func (c *conn) settle() {
	if c.fresh {
		c.fresh = false
		c.admit.settled(c)
	}
}

// release returns a finished connection's memory to the pools.
func (c *conn) release() {
	c.s, c.nc, c.bodyFile, c.redirectHdr = nil, nil, nil, nil
	c.gwProto = ""
	c.wait.Reset(nil)
	c.dropBufs()
	if cap(c.body) > prefetchMax {
		c.body = nil
	}
	if cap(c.req.head) > 16<<10 { // a big head's buffer is not kept for the next
		c.req.head = nil
	}
	c.call.Body, c.call.Env = nil, nil
	connPool.Put(c)
}

// drainGrace is how long a connection of a stopping server waits for one
// more request. A keep-alive client may already be sending it: closing
// at once would fail that request, so it is served (with Connection:
// close) if it comes within the grace.
const drainGrace = time.Second

// shutdown makes the connection serve at most one more request, with
// Connection: close, and close; an idle one waits drainGrace (or its
// shorter keep-alive) for it. It runs on the stopping server's goroutine,
// so it moves the socket's deadline behind the connection's back; busy
// re-arms the connection's own when that request comes.
func (c *conn) shutdown() {
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if c.state.Swap(connClosing) == connIdle {
		grace := drainGrace
		if ka := c.s.opts.Keepalive; ka > 0 { // -1: no keep-alive, but a first request may be on its way
			grace = min(grace, ka)
		}
		c.nc.SetReadDeadline(time.Now().Add(grace))
	} else if c.inHead.CompareAndSwap(headReading, headCut) {
		// A head begun and not finished (a slow or stalled client, a
		// slowloris) would hold the stop for --http-header-timeout: it
		// gets drainGrace to come whole.
		c.nc.SetReadDeadline(time.Now().Add(drainGrace))
	}
}

// dropIdle closes the connection now if it is a kept-alive one waiting
// for its next request (see Server.dropIdle), as a stop's shutdown would
// after its grace, and reports whether it did. One whose request has
// begun is left alone, and so is a new one, whose first request is
// likely on its way (a uwsgi gateway's always is).
func (c *conn) dropIdle() bool {
	if !c.reused.Load() {
		return false
	}
	c.stopMu.Lock()
	defer c.stopMu.Unlock()
	if !c.state.CompareAndSwap(connIdle, connClosing) {
		return false
	}
	c.nc.SetReadDeadline(time.Now())
	return true
}

// The states of conn.inHead.
const (
	headNone    = iota
	headReading // the head's bytes are being read from the socket
	headCut     // ...and shutdown moved the deadline to its grace
)

// stopping reports whether the server has begun stopping since this
// connection's request came (see shutdown): its response is the last.
func (c *conn) stopping() bool { return c.state.Load() == connClosing }

// busy marks the connection as serving a request and reports whether its
// server is stopping. Then shutdown may have moved the read deadline to
// the end of the grace: the armed one is forgotten, so that the request's
// own (its head's, its body's) are armed afresh, and a body still coming
// is read in full.
func (c *conn) busy() (draining bool) {
	if c.state.CompareAndSwap(connIdle, connBusy) {
		return false
	}
	c.stopMu.Lock() // shutdown's SetReadDeadline is done
	c.stopMu.Unlock()
	c.rdl = time.Time{}
	return true
}

func (c *conn) serve() {
	defer func() {
		v := recover()
		if v != nil {
			// A bug in carafe must cost one connection, not the worker.
			c.s.opts.Log.Error("httpfront: internal error, connection closed",
				"remote", c.remote, "err", fmt.Sprint(v), "stack", string(debug.Stack()))
		}
		c.closeConn()
		c.settle()
		c.s.track(c, false)
		if v == nil {
			c.release()
		}
	}()
	if c.s.opts.Protocol == UWSGI {
		c.serveUWSGI()
		return
	}
	lim := &c.s.opts.Limits
	first := true
	c.ended = c.start
	for {
		if c.bufs == nil || c.br.Buffered() == 0 {
			wait := c.s.opts.Keepalive
			if first {
				wait = c.s.opts.HeaderTimeout
			}
			closing := c.state.Load() == connClosing
			if closing {
				wait = min(wait, drainGrace)
			}
			c.readDeadline(c.ended, wait)
			if !closing && c.state.Load() == connClosing {
				// A shutdown between the two loads: its grace, armed
				// first, was overwritten by the wait just armed.
				c.stopMu.Lock() // shutdown's SetReadDeadline is done
				c.stopMu.Unlock()
				c.rdl = time.Time{}
				c.readDeadline(time.Now(), min(wait, drainGrace))
			}
			if !c.awaitRequest() {
				return
			}
		}
		first = false
		draining := c.busy()
		c.start = c.now()
		if !c.headBuffered() {
			wait := c.s.opts.HeaderTimeout
			if draining {
				wait = min(wait, drainGrace)
			}
			c.readDeadline(c.start, wait)
			// Published after the deadline is armed, so that a shutdown's
			// shorter one is never overwritten; a shutdown that came
			// between busy and here did not see it: cut it here.
			c.inHead.Store(headReading)
			if c.state.Load() == connClosing && c.inHead.CompareAndSwap(headReading, headCut) {
				c.nc.SetReadDeadline(time.Now().Add(drainGrace))
			}
		}
		err := ReadRequest(c.br, lim, &c.req)
		if c.inHead.Swap(headNone) == headCut {
			c.stopMu.Lock() // shutdown's SetReadDeadline is done
			c.stopMu.Unlock()
			c.rdl = time.Time{} // re-armed for the body
		}
		if err != nil {
			c.reject(err)
			return
		}
		keep := c.handle(draining)
		c.settle()   // (answered without the app: a static file, an error)
		if !c.kept { // (an atomic store once a connection, not once a request)
			c.kept = true
			c.reused.Store(true)
		}
		c.ended = c.now()
		if !keep {
			// Under a deadline of its own: the one armed for the previous
			// response on this connection may be long past.
			c.flushAt(c.ended)
			if c.linger {
				c.lingerClose()
			}
			return
		}
		if c.br.Buffered() == 0 { // pipelined requests get their answers in one write
			c.flushAt(c.ended)
		}
		// A shutdown that came during the request after its head went out
		// is seen on the next turn: the response promised keep-alive, so
		// one more request is served (with close) rather than cut. (One
		// that came before says close in the head.)
		c.state.CompareAndSwap(connBusy, connIdle)
	}
}

// The limits of a lingering close: nginx's defaults (lingering_time,
// lingering_timeout).
const (
	lingerTime    = 30 * time.Second
	lingerTimeout = 5 * time.Second
)

// closeConn closes the connection. The writing side is shut first, after
// a response that went out whole: a child process the app forked (a
// multiprocessing pool) holds a copy of every socket open at the fork,
// and the close alone then sends no FIN while the child lives, so a
// client that reads to the end (HTTP/1.0, nginx behind uwsgi_pass) waited
// for its timeout, and one that kept the connection sent its next request
// into it. An aborted response (SO_LINGER 0) is not shut: its reset must
// not become a FIN that makes it look complete.
func (c *conn) closeConn() {
	if !c.wrClosed && c.writeErr == nil {
		if cw, ok := c.nc.(interface{ CloseWrite() error }); ok {
			cw.CloseWrite()
		}
	}
	c.nc.Close()
}

// lingerClose ends the writing side and reads what the client still sends
// before the connection closes. Closing a socket that has unread bytes
// makes the kernel reset the connection, and a client that is still
// sending a body the server did not read (an upload the app did not read,
// a 413) would get the reset instead of the response already sent. It
// reads until the client closes too, sends nothing for lingerTimeout, or
// lingerTime has passed; a stopping server gives it drainGrace at most.
func (c *conn) lingerClose() {
	cw, ok := c.nc.(interface{ CloseWrite() error })
	if !ok || c.writeErr != nil || cw.CloseWrite() != nil {
		return
	}
	c.wrClosed = true
	end := time.Now().Add(lingerTime)
	for {
		if c.state.Load() == connClosing {
			if stop := time.Now().Add(drainGrace); end.After(stop) {
				end = stop
			}
		}
		wait := min(lingerTimeout, time.Until(end))
		if wait <= 0 {
			return
		}
		c.nc.SetReadDeadline(time.Now().Add(wait))
		if _, err := c.br.Discard(c.br.Size()); err != nil {
			return
		}
	}
}

// now reads the clock for the connection's own use (request start and
// end, deadlines, the Date header) with one read of the monotonic clock,
// where time.Now takes two (the wall clock too): it carries the last full
// reading forward, and takes a new one once that is a second old, so a
// step of the wall clock reaches the Date header within a second.
func (c *conn) now() time.Time {
	d := time.Since(c.wallAt)
	if d >= time.Second {
		c.wallAt = time.Now()
		return c.wallAt
	}
	return c.wallAt.Add(d)
}

// headBuffered reports whether a whole request head is already in the
// read buffer (as a keep-alive request's usually is after one read), so
// reading it needs no head deadline.
func (c *conn) headBuffered() bool {
	b, _ := c.br.Peek(c.br.Buffered())
	// The empty lines a request may follow (which ReadRequest skips) are
	// no head's end: a half head behind them would be read under an old
	// deadline, past --http-header-timeout and a stop's grace.
	return bytes.Contains(bytes.TrimLeft(b, "\r\n"), []byte("\r\n\r\n"))
}

// reject answers a request that could not be read, when an answer is owed.
func (c *conn) reject(err error) {
	code := errorStatus(err)
	if code == 0 {
		// A head begun and never finished: one that stalled (a
		// slowloris, cut at --http-header-timeout) is nginx's 408, one
		// whose client closed or reset it a 400. Nothing is sent (the
		// client stopped sending or left), but the access log has its
		// line, as nginx's has: a watcher of the log saw no such attack.
		// A connection that ends before its next request is no request,
		// nor are the empty lines RFC 9112 lets a client send before one.
		if code = unfinishedStatus(err); code != 0 && (len(c.req.line) > 0 || c.req.Method != nil) {
			c.s.logRefused(slog.LevelInfo, "httpfront: request head not finished", "remote", c.remote,
				"status", code, "err", err)
			c.logRejected(code, 0)
		}
		return
	}
	c.s.logRefused(slog.LevelInfo, "httpfront: bad request", "remote", c.remote, "status", code, "err", err)
	c.writeDeadline(time.Now(), c.s.opts.IOTimeout)
	resp := appendSimpleResponse(c.scratch[:0], c.s.opts.Protocol, code, false)
	c.bw.Write(resp)
	c.writeErr = c.bw.Flush()
	c.logRejected(code, int64(len(resp)))
	// The client may still be sending (a body behind a bad head): closed
	// with its bytes unread, the socket would send a reset, which can
	// reach the client before it has read the answer.
	c.lingerClose()
}

// logRejected gives a request refused unread its access line, as nginx
// logs its 400s: what of the request line was read ("-" for the rest), the
// status and the bytes of carafe's answer. A log watcher (fail2ban, a WAF's
// rules) saw no line for them, only the rate-limited diagnostic.
func (c *conn) logRejected(code int, sent int64) {
	if c.s.opts.Access == nil {
		return
	}
	dash := []byte("-")
	e := accesslog.Entry{Remote: c.remote, Method: c.req.Method, Target: c.req.Target, Proto: "-",
		Status: code, Duration: time.Since(c.start)}
	if len(e.Method) == 0 {
		e.Method = dash
	}
	if len(e.Target) == 0 {
		e.Target = dash
	}
	if c.req.Major == 1 {
		e.Proto = "HTTP/1.1"
		if c.req.Minor == 0 {
			e.Proto = "HTTP/1.0"
		}
	}
	if c.writeErr == nil && sent > 0 {
		e.Bytes = int64(len(reason(code)) + 1)
		e.HeadBytes = sent - e.Bytes
	}
	e.WriteErr = c.writeErr != nil
	c.s.opts.Access.Log(&e)
}

// handle serves one parsed request and reports whether to keep the
// connection.
func (c *conn) handle(draining bool) bool {
	start := c.start
	r := &c.req
	c.resetResponse()
	c.closeAfter = draining
	keep := r.KeepAlive && c.s.opts.Keepalive > 0 && !draining
	if string(r.Method) == "CONNECT" {
		// A tunnel no WSGI app can open: an app's 2xx would carry a body
		// where RFC 9110 has the connection turn into the tunnel, and the
		// bytes after it parsed as requests. 501, as for a method carafe
		// does not serve, and close.
		c.writeSimple(501, false)
		c.finished(start)
		c.linger = r.ContentLength > 0 || r.Chunked
		return false
	}
	if c.isHead || string(r.Method) == "GET" {
		// A GET with a body: the file's answer says Connection: close, and
		// the body is left unread, so no next request is looked for in it.
		// A proxy that keeps its connections open would otherwise send the
		// next client's request on one that carafe closes (502s).
		withBody := r.ContentLength > 0 || r.Chunked
		c.closeAfter = draining || withBody
		if c.serveStatic(start) {
			if withBody {
				c.linger = true // the client may still be sending it
				return false
			}
			return keep && !c.closeAfter && c.writeErr == nil
		}
		c.closeAfter = draining
	}
	bodyLen, code := c.readBodyFraming()
	if code != 0 {
		c.closeBody()
		c.writeSimple(code, false)
		c.finished(start)
		c.linger = r.ContentLength > 0 || r.Chunked // the client may still be sending it
		return false
	}
	if c.s.opts.Protocol == UWSGI {
		c.buildUWSGIEnv(bodyLen)
	} else {
		c.buildEnv(bodyLen)
	}
	c.call.Env = c.env.Bytes()
	c.call.BodyLen = bodyLen
	c.call.Method, c.call.Target, c.call.Start = r.Method, r.Target, start
	if c.bw.Buffered() > 0 {
		// A pipelined request's answer, held to go out with the next in
		// one write: not while the app works on this one, however long.
		c.flushAt(start)
	}
	c.streaming = c.bodyLeft > 0 && c.bodyFile == nil
	c.queued = c.now()
	if a := c.admit; a != nil && !c.kept {
		// A connection's first request: a kept-alive one's next ones are
		// not counted, or a worker whose threads its kept-alive clients
		// keep busy would never take another connection.
		c.doCounted(a)
	} else {
		c.s.app.Do(c.call)
	}
	c.outMu.Lock()
	abandoned := c.abandoned
	c.disarmFlush() // the call is over: what bw holds is this goroutine's again
	c.outMu.Unlock()
	if abandoned {
		// harakiri answered, logged and closed the connection while the
		// call was stuck (see Abandon), which has now returned anyway.
		if c.pw != nil {
			c.joinParked() // (ended by the close)
		}
		c.writeErr = errAbandoned
		c.endSpool()
		c.closeBody()
		return false
	}
	c.endParked() // the thread is free: the rest goes out meanwhile
	if c.redirecting && c.call.Result == wsgi.OK {
		c.serveRedirect()
	}
	c.finish()
	if c.spool != nil || c.spoolable() {
		// The answer's last piece, buffered, goes out while a spool can
		// still take the body it may wait on.
		c.flush()
	}
	c.endSpool()
	c.closeBody()
	switch {
	case c.bodyErr != nil:
		// The body stalled or its client left: draining it, or a
		// lingering close, would only wait out another timeout.
		c.closeAfter = true
	case c.bodyLeft > 0 && !c.drain():
		c.closeAfter = true
		c.linger = true
	}
	if c.closeAfter || !keep {
		// Out before its request-log line, which would otherwise read as
		// an answer given when the client had gone (nginx's read timeout
		// over the uwsgi protocol: nginx logs 504, and the line said 200).
		if c.writeErr == nil && c.bufs != nil && c.bw.Buffered() > 0 {
			c.flushAt(c.now())
			if c.writeErr != nil {
				c.s.opts.Log.Info("httpfront: response not delivered, "+c.whyUndelivered(c.writeErr), "remote", c.remote,
					"method", string(c.req.Method), "target", string(c.req.Target), "status", c.status,
					"err", c.writeErr)
			}
		}
		c.finished(start)
		return false
	}
	c.finished(start)
	return c.writeErr == nil
}

func (c *conn) resetResponse() {
	c.closeAfter, c.expect100, c.sent100, c.headWritten = false, false, false, false
	c.outMu.Lock()
	c.done = false
	c.outMu.Unlock()
	c.bodyErr = nil
	c.respChunked, c.overflowLogged, c.redirecting = false, false, false
	c.headErr, c.writeErr, c.linger = nil, nil, false
	c.written, c.headSize, c.headFields, c.status, c.respLeft, c.bodyLeft = 0, 0, 0, 0, -1, 0
	c.sentFile = false
	c.sendQueued = -1
	c.lastFlush = time.Time{}
	c.isHead = string(c.req.Method) == "HEAD"
	c.call.Body = nil
}

// bodyMemBudget bounds the request bodies past prefetchMax that a worker
// holds in memory at once (chunked ones, and --post-buffering's); past it
// they go to temp files. Without it, 200 clients each stopping short of
// the end of a 1 MiB chunked body held 370 MB of the worker's memory.
var bodyMemBudget int64 = 64 << 20

// bodyMemUsed is what the worker's connections hold of bodyMemBudget.
var bodyMemUsed atomic.Int64

// reserveBodyMem accounts n more bytes of body held in memory by c, or
// reports false, accounting nothing, when that would pass the budget.
func (c *conn) reserveBodyMem(n int64) bool {
	if bodyMemUsed.Add(n) > bodyMemBudget {
		bodyMemUsed.Add(-n)
		return false
	}
	c.bodyMem += n
	return true
}

// readBodyFraming prepares the request body: small bodies are read now,
// chunked ones are decoded into memory or a temp file, and so are all
// with --post-buffering; other large ones stream from the socket as the
// app reads. It returns the body length, or a status to refuse the
// request with.
func (c *conn) readBodyFraming() (int64, int) {
	r := &c.req
	limit := c.s.opts.LimitPost
	if r.Chunked {
		return c.readChunked(limit)
	}
	n := max(r.ContentLength, 0)
	if limit > 0 && n > limit {
		return 0, 413
	}
	c.bodyLeft = n
	if n == 0 {
		return 0, 0
	}
	if pb := c.s.opts.PostBuffering; pb > 0 && n > prefetchMax {
		return n, c.bufferBody(n, pb)
	}
	if r.Expect100 {
		c.expect100 = true
		return n, 0
	}
	if n <= prefetchMax {
		if cap(c.body) < int(n) {
			c.body = make([]byte, n, max(n, 4096))
		}
		c.body = c.body[:n]
		// Each read has its own --http-timeout, as a streamed body's
		// have: a slow client's 60 KiB may take longer than one.
		if _, err := io.ReadFull(timedReader{c}, c.body); err != nil {
			c.s.opts.Log.Info("httpfront: request body incomplete", "remote", c.remote, "err", err)
			return 0, bodyErrStatus(err)
		}
		c.bodyLeft = 0
		c.call.Body = c.body
	}
	return n, 0
}

// bufferBody reads a body of n bytes whole (--post-buffering): into memory
// when it is at most pb bytes and the budget allows, else into a temp
// file. A client waiting for 100 Continue gets it first, as from nginx.
func (c *conn) bufferBody(n, pb int64) int {
	if c.req.Expect100 {
		c.write100()
	}
	var err error
	if n <= pb && c.reserveBodyMem(n) {
		buf := make([]byte, n)
		if _, err = io.ReadFull(timedReader{c}, buf); err == nil {
			c.bodyLeft = 0
			c.call.Body = buf
			return 0
		}
	} else {
		if err := c.spill(nil); err != nil {
			c.s.opts.Log.Error("httpfront: cannot buffer request body", "err", err)
			return 500
		}
		if cap(c.body) < bodyChunk {
			c.body = make([]byte, bodyChunk)
		}
		// (The file hidden from CopyBuffer, whose ReadFrom would take
		// a buffer of its own.)
		var got int64
		got, err = io.CopyBuffer(struct{ io.Writer }{c.bodyFile}, io.LimitReader(timedReader{c}, n), c.body[:bodyChunk])
		if err == nil && got < n { // the client closed early
			err = fmt.Errorf("%w: %w", errBodyRead, io.ErrUnexpectedEOF)
		}
		if err == nil {
			if _, err := c.bodyFile.Seek(0, io.SeekStart); err != nil {
				return 500
			}
			return 0
		}
		if !errors.Is(err, errBodyRead) {
			c.s.opts.Log.Error("httpfront: cannot buffer request body", "err", err)
			return 500
		}
	}
	c.s.opts.Log.Info("httpfront: request body incomplete", "remote", c.remote, "err", err)
	return bodyErrStatus(err)
}

// bodyErrStatus is the answer to a request whose body could not be read:
// 408 when the client stopped sending it for longer than --http-timeout
// (as nginx answers past client_body_timeout, RFC 9110 15.5.9), else 400.
func bodyErrStatus(err error) int {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 408
	}
	return 400
}

// timedReader reads the body from the socket, each read under its own
// --http-timeout (--socket-timeout), as the app's reads are; its errors
// wrap errBodyRead.
type timedReader struct{ c *conn }

var errBodyRead = errors.New("reading the body")

func (r timedReader) Read(p []byte) (int, error) {
	r.c.readDeadline(time.Now(), r.c.s.opts.IOTimeout)
	n, err := r.c.br.Read(p)
	if err != nil && err != io.EOF {
		err = fmt.Errorf("%w: %w", errBodyRead, err)
	}
	return n, err
}

func (c *conn) readChunked(limit int64) (int64, int) {
	if c.req.Expect100 {
		c.write100()
	}
	if c.chunked == nil {
		_, field, _ := c.s.opts.Limits.values()
		c.chunked = NewChunkedReader(c.br, field)
	} else {
		c.chunked.Reset(c.br)
	}
	c.chunked.Limit = limit
	buf := c.body[:0]
	var total int64
	for {
		if len(buf) == cap(buf) {
			if len(buf) >= chunkedMemMax && c.bodyFile == nil {
				if err := c.spill(buf); err != nil {
					c.s.opts.Log.Error("httpfront: cannot buffer request body", "err", err)
					return 0, 500
				}
				buf = buf[:0]
			} else if c.bodyFile == nil {
				grown := append(buf, 0)[:len(buf)]
				// The memory past prefetchMax counts against the budget;
				// past it, the body goes to a temp file now.
				more := int64(max(cap(grown)-prefetchMax, 0) - max(cap(buf)-prefetchMax, 0))
				if more > 0 && !c.reserveBodyMem(more) {
					if err := c.spill(buf); err != nil {
						c.s.opts.Log.Error("httpfront: cannot buffer request body", "err", err)
						return 0, 500
					}
					buf = buf[:0]
				} else {
					buf = grown
				}
			}
		}
		c.readDeadline(time.Now(), c.s.opts.IOTimeout)
		n, err := c.chunked.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		total += int64(n)
		if limit > 0 && total > limit {
			return 0, 413
		}
		if c.bodyFile != nil && len(buf) == cap(buf) {
			if _, werr := c.bodyFile.Write(buf); werr != nil {
				return 0, 500
			}
			buf = buf[:0]
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			c.s.opts.Log.Info("httpfront: bad chunked body", "remote", c.remote, "err", err)
			var he *Error
			if errors.As(err, &he) {
				return 0, he.Status
			}
			return 0, bodyErrStatus(err)
		}
	}
	if c.bodyFile != nil {
		if _, err := c.bodyFile.Write(buf); err != nil {
			return 0, 500
		}
		if _, err := c.bodyFile.Seek(0, io.SeekStart); err != nil {
			return 0, 500
		}
		c.bodyLeft = total
		return total, 0
	}
	if cap(buf) <= prefetchMax {
		c.body = buf
	}
	c.call.Body = buf
	return total, 0
}

func (c *conn) spill(buf []byte) error {
	f, err := tempBodyFile()
	if err != nil {
		return err
	}
	c.bodyFile = f
	_, err = f.Write(buf)
	return err
}

func (c *conn) closeBody() {
	if c.bodyFile != nil {
		c.bodyFile.Close()
		c.bodyFile = nil
		c.bodyLeft = 0
	}
	if c.bodyMem > 0 {
		bodyMemUsed.Add(-c.bodyMem)
		c.bodyMem = 0
	}
}

// drainable reports whether the unread body, if any, will be discarded
// after the response to keep the connection: read whole into a file
// already, or small, and the client is sending it (not waiting for a 100
// Continue that never came).
func (c *conn) drainable() bool {
	return c.bodyLeft == 0 || c.bodyFile != nil || c.bodyLeft <= drainMax && !(c.expect100 && !c.sent100)
}

// drain discards a small unread body so the connection can be reused.
func (c *conn) drain() bool {
	if !c.drainable() {
		return false
	}
	c.readDeadline(time.Now(), c.s.opts.IOTimeout)
	n, err := c.br.Discard(int(c.bodyLeft))
	c.bodyLeft -= int64(n)
	return err == nil
}

func (c *conn) write100() {
	c.sent100 = true
	c.writeDeadline(time.Now(), c.s.opts.IOTimeout)
	c.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
	c.bw.Flush()
}

// ReadBody implements wsgi.Exchange: the part of the body the app reads
// past what was prefetched.
func (c *conn) ReadBody(p []byte) (int, error) {
	if c.bodyLeft <= 0 {
		return 0, io.EOF
	}
	// (Only this goroutine arms flushSoon's timer, which stays armed until
	// its write is over: unarmed, no timer writes meanwhile.)
	if c.flushArmed.Load() || c.expect100 && !c.sent100 {
		c.outMu.Lock()
		if c.flushArmed.Load() {
			// The app reads between the pieces of its answer: they go out
			// now, and no timer writes (and may start a spool) while this
			// goroutine reads.
			c.disarmFlush()
			c.flush()
		}
		if c.expect100 && !c.sent100 && !c.headWritten && !c.abandoned { // a 100 after the final head would corrupt it
			c.write100()
		}
		c.outMu.Unlock()
	}
	if int64(len(p)) > c.bodyLeft {
		p = p[:c.bodyLeft]
	}
	var n int
	var err error
	switch {
	case c.spool != nil:
		n, err = c.spool.Read(p)
	case c.bodyFile != nil:
		n, err = c.bodyFile.Read(p)
	default:
		c.readDeadline(time.Now(), c.s.opts.IOTimeout)
		n, err = c.br.Read(p)
	}
	c.bodyLeft -= int64(n)
	if err != nil && n > 0 {
		err = nil
	}
	if err != nil {
		c.closeAfter = true
		c.bodyErr = err
	}
	return n, err
}

// SeekBody implements wsgi.BodySeeker for a body read whole into a temp
// file before the call (a large chunked one, or --post-buffering's); one
// that streams from the socket, or that a spool reads while the response
// goes out, cannot move.
func (c *conn) SeekBody(off int64) error {
	if c.bodyFile == nil || c.spool != nil {
		return errBodyStreams
	}
	size := c.call.BodyLen - int64(len(c.call.Body))
	if off < 0 {
		return nil
	}
	off = min(off, size)
	if _, err := c.bodyFile.Seek(off, io.SeekStart); err != nil {
		return err
	}
	c.bodyLeft = size - off
	return nil
}

var errBodyStreams = errors.New("httpfront: the request body streams from the client")

func (c *conn) buildEnv(bodyLen int64) {
	r := &c.req
	e := &c.env
	e.Reset()
	e.Add(wsgi.KeyRequestMethod, r.Method)
	e.Add(wsgi.KeyRequestURI, r.Target)
	c.scratch = wsgi.UnescapePath(c.scratch[:0], r.Path)
	e.Add(wsgi.KeyPathInfo, c.mount(c.scratch))
	e.Add(wsgi.KeyQueryString, r.Query)
	if r.Minor == 0 {
		e.AddString(wsgi.KeyServerProtocol, "HTTP/1.0")
	} else {
		e.AddString(wsgi.KeyServerProtocol, "HTTP/1.1")
	}
	scheme := "http"
	if c.trustProxy {
		// Headers that disagree leave it http: a scheme in doubt is not
		// taken for https.
		if s, ok := forwardedScheme(r.Headers); ok && s != "" {
			scheme = s
		}
	} else if c.s.opts.Protocol == HTTP && !c.s.schemeSaid.Load() {
		c.untrustedScheme(r.Headers)
	}
	e.AddString(wsgi.KeyURLScheme, scheme)
	if len(r.Host) > 0 {
		host, port := splitHost(r.Host)
		if port == nil {
			port = port80
			if scheme == "https" { // from a trusted proxy
				port = port443
			}
		}
		e.Add(wsgi.KeyServerName, host)
		e.Add(wsgi.KeyServerPort, port)
	} else {
		e.AddString(wsgi.KeyServerName, c.lHost)
		e.AddString(wsgi.KeyServerPort, c.lPort)
	}
	// A unix socket's peer has no address: REMOTE_ADDR is empty then, as
	// Gunicorn and uWSGI give it (apps index environ["REMOTE_ADDR"]).
	e.AddString(wsgi.KeyRemoteAddr, c.rAddr)
	if c.rPort != "" {
		e.AddString(wsgi.KeyRemotePort, c.rPort)
	}
	if r.ContentLength >= 0 || r.Chunked {
		c.scratch = strconv.AppendInt(c.scratch[:0], bodyLen, 10)
		e.Add(wsgi.KeyContentLength, c.scratch)
	}
	c.addHeaders()
}

// mount applies MountPoint to pathInfo: when pathInfo lies under it, the
// prefix goes to SCRIPT_NAME (added here) and the rest is returned.
func (c *conn) mount(pathInfo []byte) []byte {
	rest, under := c.underMount(pathInfo)
	if under {
		c.env.AddString(wsgi.KeyScriptName, c.s.opts.MountPoint)
	}
	return rest
}

// underMount reports whether pathInfo lies under MountPoint, and returns
// the rest of it when it does.
func (c *conn) underMount(pathInfo []byte) ([]byte, bool) {
	mp := c.s.opts.MountPoint
	if mp == "" {
		return pathInfo, false
	}
	rest := uwsgi.StripScriptName([]byte(mp), pathInfo)
	return rest, len(rest) != len(pathInfo)
}

// addHeaders adds each request field once, repeated fields joined by
// ", " (Cookie's by "; ", the separator cookie parsers split on);
// Content-Type becomes CONTENT_TYPE and Content-Length is framing. HTTP_HOST
// is the request's Host, which for an absolute-form target is the
// target's authority, not the field (RFC 9112 §3.2.2), so that it agrees
// with SERVER_NAME.
func (c *conn) addHeaders() {
	hs := c.req.Headers
	for i, h := range hs {
		if httpsyntax.EqualFold(h.Name, "content-length") || httpsyntax.EqualFold(h.Name, "transfer-encoding") {
			// Framing: a chunked body reaches the app decoded and whole,
			// measured by CONTENT_LENGTH, as behind nginx's uwsgi_pass.
			continue
		}
		dup := false
		for j := 0; j < i; j++ {
			if equalFoldBytes(hs[j].Name, h.Name) {
				dup = true
				break
			}
		}
		if dup {
			continue
		}
		val, joined := h.Value, false
		sep := ", "
		if httpsyntax.EqualFold(h.Name, "cookie") {
			sep = "; "
		}
		for j := i + 1; j < len(hs); j++ {
			if equalFoldBytes(hs[j].Name, h.Name) {
				if !joined {
					c.scratch = append(c.scratch[:0], h.Value...)
					joined = true
				}
				c.scratch = append(append(c.scratch, sep...), hs[j].Value...)
				val = c.scratch
			}
		}
		if httpsyntax.EqualFold(h.Name, "host") {
			val = c.req.Host // one Host at most: a second is refused
		}
		if httpsyntax.EqualFold(h.Name, "content-type") {
			c.env.Add(wsgi.KeyContentType, val)
			continue
		}
		c.env.AddHeader(h.Name, val)
	}
}

func equalFoldBytes(a, b []byte) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// splitHost splits a Host value into name and port ("[::1]:8080" works);
// without a port, or with an empty one ("example.com:", which RFC 3986
// allows), port is nil: the scheme's default.
func splitHost(h []byte) (host, port []byte) {
	for i := len(h) - 1; i >= 0; i-- {
		switch h[i] {
		case ':':
			if i == len(h)-1 {
				return h[:i], nil
			}
			return h[:i], h[i+1:]
		case ']':
			return h, nil
		}
	}
	return h, nil
}

var port80, port443 = []byte("80"), []byte("443")

// finished counts a response's bytes (for the stats' tx) and logs it.
func (c *conn) finished(start time.Time) {
	c.outMu.Lock()
	abandoned := c.abandoned
	c.done = true
	c.outMu.Unlock()
	if abandoned {
		return // counted and logged as it was answered (see Abandon)
	}
	c.s.sent.Add(c.headSize + c.written)
	c.logAccess(start)
}

func (c *conn) logAccess(start time.Time) {
	if c.s.opts.Access == nil {
		return
	}
	proto := "HTTP/1.1"
	if c.req.Minor == 0 {
		proto = "HTTP/1.0"
	}
	if c.gwProto != "" {
		proto = c.gwProto
	}
	remote := c.remote
	if c.s.opts.LogXForwardedFor {
		if xff := c.forwardedFor(); len(xff) > 0 {
			// "a, b" logs as one field: a,b (the logger escapes the rest).
			b := make([]byte, 0, len(xff))
			for _, ch := range xff {
				if ch != ' ' && ch != '\t' {
					b = append(b, ch)
				}
			}
			remote = string(b)
		}
	}
	e := accesslog.Entry{Remote: remote, Forwarded: remote != c.remote, Method: c.req.Method,
		Target: c.req.Target, Proto: proto, Status: c.status, Bytes: c.written,
		Duration: time.Since(start), HeadBytes: c.headSize, ContentLength: max(c.req.ContentLength, 0)}
	e.RespHeaders, e.RequestVars = c.headFields, len(c.req.Headers)
	e.ReadErr, e.Sendfile = c.bodyErr != nil, c.sentFile
	e.WriteErr = c.writeErr != nil && c.writeErr != errAborted && c.writeErr != errAbandoned
	if c.s.opts.Protocol == UWSGI {
		e.ContentLength = c.ureq.ContentLength
		e.RequestVars = len(c.ureq.Vars)
		e.Modifier1, e.Modifier2 = c.ureq.Header.Modifier1, c.ureq.Header.Modifier2
	}
	if c.s.opts.Access.Headers() {
		c.logHeaders(&e)
	}
	c.s.opts.Access.Log(&e)
}

// countHead notes the header fields of the response head written, when
// the log-format names %(headers): head is the status line, the fields and
// the blank line.
func (c *conn) countHead(head []byte) {
	if c.s.opts.Access.CountsHeaders() {
		c.headFields = max(bytes.Count(head, crlf)-2, 0)
	}
}

// logHeaders fills the request fields a log-format may name.
func (c *conn) logHeaders(e *accesslog.Entry) {
	names := c.s.opts.Access.VarNames()
	if len(names) > 0 {
		c.logVars = append(c.logVars[:0], make([][]byte, len(names))...)
		e.Vars = c.logVars
	}
	if c.s.opts.Protocol == UWSGI {
		e.Host, _ = c.ureq.Get("HTTP_HOST")
		e.UserAgent, _ = c.ureq.Get("HTTP_USER_AGENT")
		e.Referer, _ = c.ureq.Get("HTTP_REFERER")
		e.User, _ = c.ureq.Get("REMOTE_USER")
		for i, name := range names {
			n := 0
			for _, kv := range c.ureq.Vars {
				switch {
				case string(kv.Key) != name:
				case name == "HTTP_HOST": // the last, as the environ has it (see joinRepeated)
					e.Vars[i] = kv.Value
				default:
					e.Vars[i] = joinField(e.Vars[i], kv.Value, n)
					n++
				}
			}
		}
		return
	}
	var seen []int // per name: the values joined so far (only when some repeat)
	for _, h := range c.req.Headers {
		switch {
		case httpsyntax.EqualFold(h.Name, "host"):
			e.Host = h.Value
		case httpsyntax.EqualFold(h.Name, "user-agent"):
			e.UserAgent = h.Value
		case httpsyntax.EqualFold(h.Name, "referer"):
			e.Referer = h.Value
		}
		for i, name := range names {
			if !isEnvName(h.Name, name[len("HTTP_"):]) {
				continue
			}
			if e.Vars[i] == nil {
				e.Vars[i] = h.Value
				continue
			}
			if seen == nil {
				seen = make([]int, len(names))
			}
			e.Vars[i] = joinField(e.Vars[i], h.Value, seen[i]+1)
			seen[i]++
		}
	}
	if e.Host == nil && c.lHost != "" {
		// An HTTP/1.0 request without Host: the SERVER_NAME its environ
		// has, as uWSGI logs it.
		e.Host = []byte(c.lHost)
	}
}

// isEnvName reports whether a header's name is cgi (X_FORWARDED_FOR) as
// the environ names it: upper-cased, '-' as '_'. Names holding '_' never
// reach here (they are dropped, see Request.Headers).
func isEnvName(name []byte, cgi string) bool {
	if len(name) != len(cgi) {
		return false
	}
	for i, c := range name {
		if wsgi.EnvNameByte(c) != cgi[i] {
			return false
		}
	}
	return true
}

// untrustedScheme says, once in a worker's life, that a peer not in
// --forwarded-allow-ips sent an https X-Forwarded-Proto (or its kin),
// which is not applied. uWSGI's --http-socket takes it from any peer: a
// site moved from it behind a load balancer that is not on loopback (a
// container's ingress) saw http, and Django's SECURE_SSL_REDIRECT
// redirected every request to itself, with nothing in the log.
func (c *conn) untrustedScheme(headers []Header) {
	if s, ok := forwardedScheme(headers); ok && s == "https" && c.s.schemeSaid.CompareAndSwap(false, true) {
		c.s.opts.Log.Warn(fmt.Sprintf("httpfront: X-Forwarded-Proto https from %s not applied: the peer is not in "+
			"--forwarded-allow-ips (%s); if it is your proxy, add it there for the app to see https "+
			"(said once)", c.remote, c.s.opts.Forwarded))
	}
}

var xForwardedFor = []byte("X-Forwarded-For")

// forwardedFor is the request's X-Forwarded-For value (from the gateway's
// HTTP_X_FORWARDED_FOR on the uwsgi protocol), nil when it has none.
func (c *conn) forwardedFor() []byte {
	var v []byte
	n := 0
	if c.s.opts.Protocol == UWSGI {
		for _, kv := range c.ureq.Vars {
			if string(kv.Key) == "HTTP_X_FORWARDED_FOR" {
				v = joinField(v, kv.Value, n)
				n++
			}
		}
		return v
	}
	for _, h := range c.req.Headers {
		if bytes.EqualFold(h.Name, xForwardedFor) {
			v = joinField(v, h.Value, n)
			n++
		}
	}
	return v
}

// joinField adds value to the n values of a repeated field joined so far
// (v), by ", " as the environ joins them, for the log: a proxy that adds
// its own X-Forwarded-For line after a client's was logged as the
// client's first, forged one. The first value is v itself, not a copy.
func joinField(v, value []byte, n int) []byte {
	switch n {
	case 0:
		return value
	case 1:
		v = append(append(make([]byte, 0, len(v)+2+len(value)), v...), ", "...)
	default:
		v = append(v, ", "...)
	}
	return append(v, value...)
}
