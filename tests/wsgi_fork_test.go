package tests

import (
	"strconv"
	"strings"
	"testing"
	"time"
)

// A child the app forks (os.fork, multiprocessing's "fork" start method)
// has the signal actions a child of python3 has: Go's handler, inherited
// from the worker, caught SIGTERM there and let the child run on, as no
// Go runtime was left to act on it. multiprocessing ends a Pool's workers
// with SIGTERM, and leaving a Pool then could wait for them for good.
func TestWSGIForkedChildSignals(t *testing.T) {
	t.Parallel()
	s := startApp(t, "fork_child", "--threads", "4")
	_, body := wsgiGet(t, s, "/term")
	if !strings.HasPrefix(string(body), "exit -15 ") {
		t.Errorf("a forked child sent SIGTERM: %q, want it ended by the signal (exit -15)", body)
	}
	// A SIGTERM sent the moment the child exists (Pool.terminate() of a
	// worker it just started) was taken by Go's handler, with no runtime
	// in the child to act on it, and lost: 90 of 100 children lived on.
	if _, body := wsgiGet(t, s, "/term-now"); string(body) != "ended 20 of 20 by the signal" {
		t.Errorf("children sent SIGTERM as they were forked: %q", body)
	}
	_, body = wsgiGet(t, s, "/signals")
	masks := strings.Fields(string(body)) // SigIgn, SigCgt
	if len(masks) != 2 {
		t.Fatalf("/signals: %q", body)
	}
	ign, err1 := strconv.ParseUint(masks[0], 16, 64)
	cgt, err2 := strconv.ParseUint(masks[1], 16, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("/signals: %q", body)
	}
	bit := func(sig uint) uint64 { return 1 << (sig - 1) }
	if ign&bit(13) == 0 || ign&bit(25) == 0 { // SIGPIPE, SIGXFSZ: ignored, as Python sets them
		t.Errorf("the child ignores %#x, want SIGPIPE and SIGXFSZ among them", ign)
	}
	// Only glibc's own (its real-time signals, 32 and up) may be caught.
	if caught := cgt & (bit(32) - 1); caught != 0 {
		t.Errorf("the child catches signals %#x (SigCgt %#x), want none below 32", caught, cgt)
	}
	for i := range 5 {
		start := time.Now()
		if _, body := wsgiGet(t, s, "/pool"); string(body) != "285" {
			t.Fatalf("Pool map %d: %q", i, body)
		}
		if took := time.Since(start); took > 5*time.Second {
			t.Errorf("Pool map %d took %v", i, took)
		}
	}
}

// A child the app forks that returns from the view, instead of ending
// with os._exit, leaves as it comes back into carafe: it had answered the
// request a second time on the worker's connection, kept the worker's
// listening sockets (and its port) past the worker's end, and hung the
// parent that waited for it.
func TestWSGIForkedChildReturning(t *testing.T) {
	t.Parallel()
	s := startApp(t, "fork_child", "--threads", "2")
	c := httpOpen(t, s)
	c.c.SetDeadline(time.Now().Add(10 * time.Second))
	if r := c.roundTrip("GET", "GET /returns HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 || string(r.Body) != "parent, child exit 1" {
		t.Fatalf("/returns: %d %q, want the parent's answer, its child ended with 1", r.Status, r.Body)
	}
	// The connection carries the answers to its requests, and nothing more.
	if r := c.roundTrip("GET", "GET /term HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); r.Status != 200 || !strings.HasPrefix(string(r.Body), "exit ") {
		t.Fatalf("the next request on the connection: %d %q", r.Status, r.Body)
	}
	if _, more, _ := c.closedWithin(2 * time.Second); len(more) > 0 {
		t.Errorf("more bytes after the last answer: %q", more)
	}
	// Written just before the parent answers: the answers can reach the client first.
	if !s.waitLog("came back into the server instead of ending with os._exit(); it exits (1)", 5*time.Second) {
		t.Errorf("no word of the child that came back:\n%s", s.Log())
	}
	// Nor does it run the response's close() (Django's closes the database
	// connection the child shares with the worker), and SystemExit's code
	// is its exit status, as under python3.
	for path, want := range map[string]string{"/returns-close": "child exit 1; no close()", "/exits": "child exit 0; no close()"} {
		if _, body := wsgiGet(t, s, path); string(body) != want {
			t.Errorf("%s: %q, want %q", path, body, want)
		}
	}
}

// A child the app forks holds a copy of the worker's sockets: the
// connection's close alone then ends nothing while the child lives, and
// a client that reads a response to its end (HTTP/1.0; nginx behind
// uwsgi_pass) waited for the child. carafe shuts the writing side first.
func TestWSGIForkedChildHoldsNoConnection(t *testing.T) {
	t.Parallel()
	s := startApp(t, "fork_child", "--threads", "2")
	forkedChildLets(t, s, "/linger", "the whole answer", func(data string) bool {
		return strings.HasSuffix(data, "answered before the child ends")
	})
}

// The same for harakiri's 504: the stuck view's child held its end back.
func TestWSGIForkedChildHarakiri504Ends(t *testing.T) {
	t.Parallel()
	s := startApp(t, "fork_child", "--threads", "2", "--harakiri", "1")
	forkedChildLets(t, s, "/stuck", "the 504", func(data string) bool {
		return strings.HasPrefix(data, "HTTP/1.1 504 ")
	})
}

// forkedChildLets asks s for path over HTTP/1.0, whose view forks a child
// that lives 5 s, and wants the answer (ok, described by want) and the end
// of the connection before the child ends.
func forkedChildLets(t *testing.T, s *server, path, want string, ok func(data string) bool) {
	t.Helper()
	start := time.Now()
	c, br := wsgiRaw(t, s, "GET "+path+" HTTP/1.0\r\nHost: x\r\n\r\n")
	data, closed := wsgiReadToClose(c, br, 4*time.Second)
	if !closed || !ok(string(data)) {
		t.Errorf("after %v: closed %v, %q; want %s and the end of the connection before the child's (5 s)",
			time.Since(start).Round(time.Millisecond), closed, data, want)
	}
}

// A process the app forks closes the worker's listening sockets: one that
// outlived the worker (a daemon a view started) held its port, and the
// next carafe could not bind it. The worker keeps them and serves on.
func TestWSGIForkedChildHoldsNoListener(t *testing.T) {
	t.Parallel()
	s := startApp(t, "fork_child", "--threads", "2")
	for range 2 {
		if resp, body := wsgiGet(t, s, "/listening"); resp.StatusCode != 200 || string(body) != "worker 1, child 0" {
			t.Errorf("got %d %q, want the worker's listener and none in its child", resp.StatusCode, body)
		}
	}
}
