package httpfront

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"carafe/internal/accesslog"
	"carafe/internal/listen"
	"carafe/internal/static"
	"carafe/internal/wsgi"
)

// Options configure a Server. Zero durations and sizes mean the defaults
// noted on each field.
type Options struct {
	Limits Limits
	// LimitPost is the largest request body accepted (413 beyond); 0 means
	// no limit.
	LimitPost int64
	// PostBuffering, when positive, has every body read whole before the
	// app is called: in memory up to this many bytes, else in a temp file
	// (--post-buffering).
	PostBuffering int64
	// HeaderTimeout bounds receiving a whole request head (default 10s).
	HeaderTimeout time.Duration
	// IOTimeout bounds each read of a body and each write of a response
	// (default 60s).
	IOTimeout time.Duration
	// Keepalive is how long an idle connection waits for its next request
	// (default 15s); negative disables keep-alive.
	Keepalive time.Duration
	// Static, when set, serves --static-map files before the app.
	Static *static.Handler
	// XSendfile, when set, serves the files apps name in X-Sendfile
	// (mapped over --x-sendfile-dir); XAccel, the URIs they name in
	// X-Accel-Redirect (--x-accel-map, then --static-map).
	XSendfile *static.Handler
	XAccel    *static.Handler
	// MountPoint, when set (--mount with --manage-script-name), moves
	// that prefix of PATH_INFO to SCRIPT_NAME for requests under it; over
	// the uwsgi protocol, for those the gateway sent no SCRIPT_NAME.
	MountPoint string
	// NoSendfile sends files (static, X-Sendfile, file_wrapper) with
	// read and write instead of sendfile (--disable-sendfile), for a file
	// system whose sendfile is broken.
	NoSendfile bool
	// AddHeaders are header lines ("Name: value\r\n" each) added to every
	// response from the app or Static (--add-header).
	AddHeaders []byte
	// Protocol is what connections speak (HTTP unless UWSGI).
	Protocol Protocol
	// BufferSize bounds a uwsgi packet's variable block (default 4096).
	BufferSize int
	// Forwarded names the peers whose X-Forwarded-Proto (and Gunicorn's
	// other scheme headers) set wsgi.url_scheme, over HTTP
	// (--forwarded-allow-ips); over uwsgi the gateway's HTTPS does.
	Forwarded ProxyTrust
	// LogXForwardedFor logs the X-Forwarded-For value, when a request has
	// one, as the request's remote address (--log-x-forwarded-for).
	LogXForwardedFor bool
	// Log receives errors; Access, when non-nil, one line per request.
	Log    *slog.Logger
	Access *accesslog.Logger
	// OutOfFiles, when set, hears that accepting has failed for want of
	// file descriptors (EMFILE, ENFILE) for starveAfter, on any of the
	// server's listeners (true), and that every one accepts again
	// (false).
	OutOfFiles func(starved bool)
	// Admit, when set, holds accepting on the listeners served with
	// ServeAdmitted back while the app's threads have more than they can
	// start on soon (see Admission); one Admission serves every Server
	// that shares the threads.
	Admit *Admission
}

func (o *Options) setDefaults() {
	if o.HeaderTimeout <= 0 {
		o.HeaderTimeout = 10 * time.Second
	}
	if o.IOTimeout <= 0 {
		o.IOTimeout = 60 * time.Second
	}
	if o.Keepalive == 0 {
		o.Keepalive = 15 * time.Second
	}
	if o.BufferSize <= 0 {
		o.BufferSize = 4096
	}
	if o.Log == nil {
		o.Log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
}

// Server serves HTTP/1.1 on listeners, handing each request to App.
type Server struct {
	app  wsgi.Runner
	opts Options

	mu        sync.Mutex
	conns     map[*conn]struct{}
	droppedAt atomic.Int64 // when dropIdle last logged (Unix seconds)
	listeners map[net.Listener]struct{}
	closed    bool
	stopping  bool           // Shutdown has begun: no new hold
	pausing   bool           // Pause holds accepting
	shedding  bool           // Shed holds accepting
	held      chan struct{}  // non-nil while accepting is held; closed when it resumes
	active    int            // connections being served
	drained   chan struct{}  // made by Shutdown while some are; closed when none is left
	loops     sync.WaitGroup // Serve calls running

	starveMu sync.Mutex // orders the calls of OutOfFiles
	starved  int        // Serve loops whose accepts fail for want of descriptors (see OutOfFiles)

	// departMu guards the count of requests not run since the last line
	// about them (see departed), and whether its timer is armed.
	departMu    sync.Mutex
	departN     int
	departArmed bool
	departTimer *time.Timer // the next count's, while armed; stopped by Shutdown
	// schemeSaid is set once an https X-Forwarded-Proto from a peer not
	// in --forwarded-allow-ips was logged (see conn.untrustedScheme).
	schemeSaid atomic.Bool
	// badMu guards the lines of requests refused unread (see logRefused).
	badMu      sync.Mutex
	badSince   time.Time // the current second's start
	badN       int       // lines of it logged
	badDropped int       // lines of it not logged, said at its end
	badArmed   bool

	// next hands an accepted connection to a goroutine that has served
	// one and waits for another (see serveLoop); spare counts those
	// waiting, and quit, closed by Shutdown, ends them.
	next  chan *conn
	spare atomic.Int32
	quit  chan struct{}

	sent atomic.Int64 // bytes of the responses finished, heads included
}

// Sent is the bytes of the responses the server has finished, heads
// included (uWSGI's tx).
func (s *Server) Sent() int64 { return s.sent.Load() }

// NewServer returns a Server for app.
func NewServer(app wsgi.Runner, opts Options) *Server {
	opts.setDefaults()
	return &Server{app: app, opts: opts, conns: make(map[*conn]struct{}),
		listeners: make(map[net.Listener]struct{}), next: make(chan *conn), quit: make(chan struct{})}
}

// Serve accepts connections on l until l is closed.
func (s *Server) Serve(l net.Listener) error { return s.serve(l, nil) }

// ServeAdmitted is Serve that takes connections only while Options.Admit
// has room (see Admission): for a listener other workers accept from too
// (a unix socket, a TCP socket shared by the workers), which then take
// them, and for one whose queue outlives the worker (a master's).
func (s *Server) ServeAdmitted(l net.Listener) error { return s.serve(l, s.opts.Admit) }

func (s *Server) serve(l net.Listener, admit *Admission) error {
	host, port := splitHostPort(l.Addr().String())
	if strings.Contains(host, ":") {
		// SERVER_NAME is a host as Host would give it: an IPv6 address in
		// brackets (RFC 3875 4.1.14), or Django's get_host() builds
		// "::1:8000" from it and answers 400.
		host = "[" + host + "]"
	}
	if l.Addr().Network() == "unix" {
		// A request without Host (HTTP/1.0) on a unix socket: the name
		// nginx itself sends upstream for unix:, not the socket's path.
		host, port = "localhost", "80"
	}
	l = listen.Lazy(l)
	s.loops.Add(1)
	defer s.loops.Done()
	s.mu.Lock()
	s.listeners[l] = struct{}{}
	if s.held != nil {
		setAcceptDeadline(l, time.Now())
	}
	s.mu.Unlock()
	var tempDelay time.Duration
	var starvedSince time.Time // when accepts began to fail for want of descriptors
	failed := 0                // accepts failed in a row
	// Until when the backlog is drained after a hold's end, or as the loop
	// starts: a worker that starts (after a crash, a harakiri, a reload)
	// takes over what queued on the socket meanwhile.
	backlogUntil := time.Now().Add(departedAfter)
	starved := false
	defer func() {
		if starved {
			s.starve(-1)
		}
	}()
	for {
		if admit != nil && admit.wait(s.isStopping) >= departedAfter/10 {
			// As after a hold: what queued in the backlog meanwhile may
			// have been given up on.
			backlogUntil = time.Now().Add(departedAfter)
		}
		nc, err := l.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				// Only a hold (Pause, Shed) sets a deadline, and its end
				// clears it: wait for that, if it has not come already.
				if wait := s.heldChan(); wait != nil {
					<-wait
				}
				// What queued in the backlog meanwhile is accepted at once:
				// its requests may have waited as long as the hold.
				backlogUntil = time.Now().Add(departedAfter)
				continue
			}
			if isTemporary(err) {
				if errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
					if starvedSince.IsZero() {
						starvedSince = time.Now()
					} else if !starved && time.Since(starvedSince) >= starveAfter {
						starved = true
						s.starve(1)
					}
				}
				if failed++; failed == 1 {
					// Once a spell, not once a retry: out of descriptors for
					// an hour wrote thousands of lines, about one a second.
					s.opts.Log.Warn("httpfront: accept failed, retrying with a back-off up to 1s", "err", err)
				}
				if (errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE)) && s.dropIdle(dropIdleMax) > 0 {
					tempDelay = 0 // their descriptors are coming free: try again soon
				}
				tempDelay = min(max(2*tempDelay, 5*time.Millisecond), time.Second)
				time.Sleep(tempDelay)
				continue
			}
			return err
		}
		if failed > 1 {
			s.opts.Log.Info("httpfront: accepting again", "failed_accepts", failed)
		}
		tempDelay, starvedSince, failed = 0, time.Time{}, 0
		if starved {
			starved = false
			s.starve(-1)
		}
		backlogged := false
		if !backlogUntil.IsZero() {
			if backlogged = time.Now().Before(backlogUntil); !backlogged {
				backlogUntil = time.Time{}
			}
		}
		s.serveConn(nc, host, port, backlogged, admit)
	}
}

// dropIdleMax is how many idle connections a failed accept closes for
// want of descriptors (nginx closes up to 32 of its idle keep-alive
// connections then).
const dropIdleMax = 32

// dropIdle closes up to max idle keep-alive connections, for their file
// descriptors: clients that keep connections open took them all, and new
// clients could not connect until the keep-alive timeout. (The master
// replaced the worker after 10 s of it, with every connection and an
// import of the app, and the clients filled the new one again.) A client
// whose request crosses the close sees it closed, as at any keep-alive
// timeout. It returns how many it closed.
func (s *Server) dropIdle(max int) int {
	n := 0
	s.mu.Lock()
	for c := range s.conns {
		if n == max {
			break
		}
		if c.dropIdle() {
			n++
		}
	}
	s.mu.Unlock()
	if n > 0 {
		if now := time.Now().Unix(); now-s.droppedAt.Swap(now) >= 60 {
			s.opts.Log.Warn("httpfront: out of file descriptors: closing idle keep-alive connections for new ones "+
				"(logged once a minute)", "closed", n)
		}
	}
	return n
}

// starveAfter is how long accepts fail for want of file descriptors
// before OutOfFiles hears of it: long enough to pass over a burst that
// closes its connections again, short enough that few clients queue on
// a socket of this worker's own meanwhile.
const starveAfter = 250 * time.Millisecond

// starve counts a Serve loop that starts (d 1) or stops (-1) failing for
// want of descriptors, and tells OutOfFiles when the first starts and
// the last stops.
func (s *Server) starve(d int) {
	s.starveMu.Lock()
	defer s.starveMu.Unlock() // held: what OutOfFiles hears keeps its order
	s.starved += d
	if s.opts.OutOfFiles != nil && (s.starved == 1 && d > 0 || s.starved == 0) {
		s.opts.OutOfFiles(s.starved > 0)
	}
}

// serveConn serves an accepted connection on a goroutine that waits for
// one (see serveLoop), or else a new one.
func (s *Server) serveConn(nc net.Conn, host, port string, backlogged bool, admit *Admission) {
	listen.Tune(nc)
	c := newConn(s, nc, host, port, backlogged)
	if c.admit = admit; admit != nil {
		c.fresh = true
		admit.accepted(c)
	}
	s.track(c, true)
	select {
	case s.next <- c:
	default:
		go s.serveLoop(c)
	}
}

// maxSpare bounds the goroutines that wait for a connection after
// serving one; each keeps the stack its last connection grew (8-16 KiB).
const maxSpare = 128

// serveLoop serves c, then waits for the next connection instead of
// exiting, up to maxSpare such goroutines. A fresh goroutine's stack grows
// (copied, twice) while it serves its first request, and a uwsgi gateway
// opens one connection per request: with nginx in front of the hello
// world app that copying was 7% of the worker's CPU.
func (s *Server) serveLoop(c *conn) {
	for {
		c.serve()
		if s.spare.Add(1) > maxSpare {
			s.spare.Add(-1)
			return
		}
		select {
		case c = <-s.next:
			s.spare.Add(-1)
		case <-s.quit:
			s.spare.Add(-1)
			return
		}
	}
}

// Pause stops accepting connections (they wait in the listen backlog, for
// this worker's siblings or its replacement) and lets each open
// connection serve at most one more request, with Connection: close.
// Resume undoes the first part.
func (s *Server) Pause() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pausing || s.stopping {
		return
	}
	s.pausing = true
	s.holdLocked()
	for c := range s.conns {
		c.shutdown()
	}
}

// Resume accepts connections again after Pause (unless Shed holds them).
func (s *Server) Resume() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pausing = false
	s.holdLocked()
}

// Shed stops accepting new connections while on, and only that: the open
// ones go on as they are. A worker sheds while every Python thread is
// stuck in a call, so that new connections wait for a sibling, or in the
// backlog for this worker or its replacement, rather than behind the
// stuck calls. An Accept under way as the hold begins may still take one
// connection.
func (s *Server) Shed(on bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.shedding = on
	s.holdLocked()
}

// holdLocked holds accepting, or resumes it, as Pause and Shed want: a
// hold sets each listener's accept deadline to now, which wakes its Serve
// loop to wait on held.
func (s *Server) holdLocked() {
	hold := (s.pausing || s.shedding) && !s.stopping
	switch {
	case hold && s.held == nil:
		s.held = make(chan struct{})
		for l := range s.listeners {
			setAcceptDeadline(l, time.Now())
		}
	case !hold && s.held != nil:
		for l := range s.listeners {
			setAcceptDeadline(l, time.Time{})
		}
		close(s.held)
		s.held = nil
	}
}

// isStopping reports whether Shutdown has begun.
func (s *Server) isStopping() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stopping
}

func (s *Server) heldChan() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.held
}

func setAcceptDeadline(l net.Listener, t time.Time) {
	if d, ok := l.(interface{ SetDeadline(time.Time) error }); ok {
		d.SetDeadline(t)
	}
}

func isTemporary(err error) bool {
	var se interface{ Temporary() bool }
	return errors.As(err, &se) && se.Temporary()
}

func (s *Server) track(c *conn, add bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if add {
		s.conns[c] = struct{}{}
		s.active++
		c.tracked = true
		if s.closed {
			// Accepted just before its listener closed, its client has sent
			// the request already: it is answered, with Connection: close,
			// and Shutdown waits for it. Closing it unread would reset the
			// client (seen once in CI during a SIGTTOU).
			c.shutdown()
		}
		return
	}
	if !c.tracked {
		return // abandoned: no longer waited for (see Abandon)
	}
	c.tracked = false
	delete(s.conns, c)
	s.active--
	if s.active == 0 && s.drained != nil {
		close(s.drained)
		s.drained = nil
	}
}

// Settle waits up to d for the connections busy with a request to be done
// with it (answered and logged), for an immediate stop: a client may have
// its response a moment before the request log has its line, and the
// worker must not exit in between. Requests still in the app are not
// waited for past d.
func (s *Server) Settle(d time.Duration) {
	deadline := time.Now().Add(d)
	for {
		busy := false
		s.mu.Lock()
		for c := range s.conns {
			if c.state.Load() == connBusy {
				busy = true
				break
			}
		}
		s.mu.Unlock()
		if !busy || time.Now().After(deadline) {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

// Shutdown stops accepting (it closes the listeners, if the caller has
// not), closes idle connections, lets busy ones finish their current
// request, and waits for all of them, those accepted last included, until
// timeout.
func (s *Server) Shutdown(timeout time.Duration) {
	defer s.departedFinal()
	deadline := time.Now().Add(timeout)
	s.mu.Lock()
	for l := range s.listeners {
		l.Close()
	}
	s.stopping = true
	s.holdLocked() // a held Serve goes on, to find its listener closed
	s.mu.Unlock()
	if a := s.opts.Admit; a != nil {
		a.wake() // a Serve waiting for room goes on, to find its listener closed
	}
	// Once every Serve has returned, no connection can be accepted behind
	// the drain's back.
	loops := make(chan struct{})
	go func() { s.loops.Wait(); close(loops) }()
	select {
	case <-loops:
	case <-time.After(timeout):
	}
	s.mu.Lock()
	if !s.closed {
		close(s.quit)
	}
	s.closed = true
	for c := range s.conns {
		c.shutdown()
	}
	done := s.drained
	if done == nil && s.active > 0 {
		done = make(chan struct{})
		s.drained = done
	}
	s.mu.Unlock()
	if done == nil {
		return
	}
	select {
	case <-done:
	case <-time.After(time.Until(deadline)):
		s.opts.Log.Warn("httpfront: shutdown timed out with connections open")
		// A response still going out to a slow client (parked: see
		// park.go) has no Python thread for the stop to name: closed now,
		// it says what it was cut short of and logs its line. The others
		// are left as they were (a body that comes late is still read,
		// for a call that runs as Python finalises).
		s.mu.Lock()
		for c := range s.conns {
			if c.parkedOut.Load() {
				c.nc.Close()
			}
		}
		s.mu.Unlock()
		select {
		case <-done:
		case <-time.After(cutGrace):
		}
	}
}

// cutGrace is how long the connections a stop closed at its deadline
// have to log themselves.
const cutGrace = 100 * time.Millisecond

func splitHostPort(addr string) (host, port string) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr, ""
	}
	return h, p
}

// dateCache holds the Date header line, rebuilt at most once a second.
var dateCache struct {
	mu   sync.Mutex
	unix int64
	line []byte
}

func appendDate(b []byte, now time.Time) []byte {
	dateCache.mu.Lock()
	if u := now.Unix(); u != dateCache.unix || dateCache.line == nil {
		dateCache.unix = u
		dateCache.line = now.UTC().AppendFormat(dateCache.line[:0], "Date: Mon, 02 Jan 2006 15:04:05 GMT\r\n")
	}
	b = append(b, dateCache.line...)
	dateCache.mu.Unlock()
	return b
}

var statusText = map[int]string{
	400: "Bad Request", 408: "Request Timeout", 413: "Content Too Large",
	414: "URI Too Long", 417: "Expectation Failed", 431: "Request Header Fields Too Large",
	500: "Internal Server Error", 501: "Not Implemented", 504: "Gateway Timeout",
	505: "HTTP Version Not Supported",
}

func reason(code int) string {
	if t := statusText[code]; t != "" {
		return t
	}
	return "Error"
}

// appendOrigin appends Date and Server, where the response has none of
// its own. They are the fields of the HTTP server a client talks to: over
// uwsgi, that is the gateway (nginx, Apache), which adds its own, as it
// does for uWSGI; carafe's would replace them.
func appendOrigin(b []byte, p Protocol, now time.Time, hasDate, hasServer bool) []byte {
	if p != HTTP {
		return b
	}
	if !hasDate {
		b = appendDate(b, now)
	}
	if !hasServer {
		b = append(b, "Server: carafe\r\n"...)
	}
	return b
}

// appendSimpleResponse appends a complete plain-text response that closes
// the connection when keepAlive is false.
func appendSimpleResponse(b []byte, p Protocol, code int, keepAlive bool) []byte {
	text := reason(code)
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(code), 10)
	b = append(b, ' ')
	b = append(b, text...)
	b = append(b, "\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: "...)
	b = strconv.AppendInt(b, int64(len(text)+1), 10)
	b = append(b, "\r\n"...)
	b = appendOrigin(b, p, time.Now(), false, false)
	if !keepAlive && p != UWSGI { // (see writeHead)
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	b = append(b, text...)
	return append(b, '\n')
}

// errorStatus maps a request-reading error to the status to answer with;
// 0 means close without answering.
// unfinishedStatus is the status logged for a head that errorStatus
// gives none: 408 for one that timed out, 400 for one cut by its
// client, 0 for a connection that closed before a request began.
func unfinishedStatus(err error) int {
	var ne net.Error
	switch {
	case errors.Is(err, io.EOF):
		return 0
	case errors.As(err, &ne) && ne.Timeout():
		return 408
	}
	return 400
}

func errorStatus(err error) int {
	var he *Error
	switch {
	case errors.As(err, &he):
		return he.Status
	case errors.Is(err, io.EOF), errors.Is(err, ErrTruncated):
		return 0
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return 0
	}
	return 0
}

// refusedPerSecond is how many requests refused unread (a bad head, a
// uwsgi packet that does not parse) are logged one by one in a second; the
// rest of that second are counted in one line. A client sending garbage as
// fast as it can wrote a line each, 22,000 in 3 s (uWSGI's log does the
// same), a disk filled by anyone who can connect.
const refusedPerSecond = 10

// logRefused logs a request refused unread, within refusedPerSecond.
func (s *Server) logRefused(level slog.Level, msg string, args ...any) {
	s.badMu.Lock()
	now := time.Now()
	if now.Sub(s.badSince) >= time.Second {
		s.badSince, s.badN = now, 0
	}
	if s.badN < refusedPerSecond {
		s.badN++
		s.badMu.Unlock()
		s.opts.Log.Log(context.Background(), level, msg, args...)
		return
	}
	s.badDropped++
	if !s.badArmed {
		s.badArmed = true
		time.AfterFunc(time.Until(s.badSince.Add(time.Second)), s.refusedSummary)
	}
	s.badMu.Unlock()
}

// refusedSummary says how many refusals logRefused left unsaid.
func (s *Server) refusedSummary() {
	s.badMu.Lock()
	n := s.badDropped
	s.badDropped, s.badArmed = 0, false
	s.badMu.Unlock()
	s.opts.Log.Warn(fmt.Sprintf("httpfront: %d more requests refused unread within a second, not logged one by one "+
		"(at most %d a second are)", n, refusedPerSecond))
}
