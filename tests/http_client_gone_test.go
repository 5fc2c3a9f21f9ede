package tests

import (
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A request whose client closed (or reset) its connection while the
// request waited for a Python thread is not run: nobody is left to answer,
// and the requests queued behind it get the thread sooner. It is logged
// with nginx's 499. That holds for a request accepted and queued, and for
// one that waited in the listen backlog while the worker, its threads all
// busy, held accepting. A client that stays gets its answer, over HTTP
// and the uwsgi protocol alike.
func TestClientGoneWhileQueuedNotRun(t *testing.T) {
	t.Parallel()
	t.Run("http", func(t *testing.T) {
		t.Parallel()
		s := startApp(t, "http_count", "--threads", "1")
		get := func(path string) string { return "GET " + path + " HTTP/1.1\r\nHost: x\r\n\r\n" }
		httpGet(t, s.URL("/seen")) // the worker is up: /hold is the first to run
		hold := httpOpen(t, s)
		hold.send(get("/hold"))
		time.Sleep(30 * time.Millisecond)
		early := httpOpen(t, s) // accepted, it waits for the thread
		early.send(get("/early"))
		early.c.Close()
		// /hold has had the one thread for stuckAfter: the worker stops
		// accepting, and the next wait in the listen backlog.
		time.Sleep(170 * time.Millisecond)
		gone := httpOpen(t, s)
		gone.send(get("/gone"))
		gone.c.Close()
		reset := httpOpen(t, s)
		reset.send(get("/reset"))
		reset.c.(*net.TCPConn).SetLinger(0)
		reset.c.Close()
		half := httpOpen(t, s) // a client that closes its side, as nginx takes it: gone
		half.send(get("/half"))
		half.c.(*net.TCPConn).CloseWrite()
		stays := httpOpen(t, s)
		stays.send(get("/stays"))
		if r := hold.resp("GET"); r.Status != 200 {
			t.Fatalf("/hold: %d", r.Status)
		}
		if r := stays.resp("GET"); r.Status != 200 || string(r.Body) != "ok /stays" {
			t.Fatalf("/stays: %d %q", r.Status, r.Body)
		}
		if got, rest, closed := half.closedWithin(2 * time.Second); !closed || len(rest) != 0 {
			t.Errorf("half-closed client: closed %v after %v, got %q", closed, got, rest)
		}
		_, body := httpGet(t, s.URL("/seen"))
		if string(body) != "/hold\n/stays" {
			t.Errorf("the app ran %q, want /hold /stays", body)
		}
		checkGoneLogged(t, s, "/early", "/gone", "/reset", "/half")
	})
	t.Run("uwsgi", func(t *testing.T) {
		t.Parallel()
		sock := filepath.Join(t.TempDir(), "app.sock")
		s := startApp(t, "http_count", "--threads", "1", "--socket", sock)
		packet := func(path string) []byte {
			return uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", path},
				{"PATH_INFO", path}, {"SERVER_PROTOCOL", "HTTP/1.1"}}, "")
		}
		httpGet(t, s.URL("/seen"))
		hold := uwsgiDial(t, sock)
		hold.Write(packet("/hold"))
		time.Sleep(200 * time.Millisecond)
		gone := uwsgiDial(t, sock) // nginx, its uwsgi_read_timeout passed
		gone.Write(packet("/gone"))
		gone.Close()
		stays := uwsgiDial(t, sock)
		stays.Write(packet("/stays"))
		if raw, _ := io.ReadAll(stays); !strings.HasSuffix(string(raw), "ok /stays") {
			t.Fatalf("/stays: %q", raw)
		}
		seen := uwsgiDial(t, sock)
		seen.Write(packet("/seen"))
		if raw, _ := io.ReadAll(seen); !strings.HasSuffix(string(raw), "\r\n\r\n/hold\n/stays") {
			t.Errorf("the app ran %q, want /hold /stays", raw)
		}
		checkGoneLogged(t, s, "/gone")
	})
}

// The backlog a worker takes over as it starts (here the first, while it
// imports the app; as well a replacement after a crash, a harakiri or a
// reload) may hold requests whose clients have gone: they are not run,
// and the stats server counts them apart from the requests served.
func TestClientGoneFromStartingWorkersBacklog(t *testing.T) {
	t.Parallel()
	s, stats := masterStartStats(t, "master_reload", "--master", "--threads", "1",
		"--env", "MASTER_VERSION_FILE="+masterVersionFile(t, "one"), "--env", "MASTER_IMPORT_SLEEP=1.5")
	gone := httpOpen(t, s) // the master has bound the socket; the worker imports
	gone.send("GET /gone HTTP/1.1\r\nHost: x\r\n\r\n")
	gone.c.Close()
	stays := httpOpen(t, s)
	stays.send("GET /stays HTTP/1.1\r\nHost: x\r\n\r\n")
	if r := stays.resp("GET"); r.Status != 200 || !strings.HasPrefix(string(r.Body), "v=one") {
		t.Fatalf("/stays: %d %q", r.Status, r.Body)
	}
	checkGoneLogged(t, s, "/gone")
	if w := masterStats(t, stats).Workers; len(w) != 1 || w[0].ClientGone != 1 || w[0].Requests != 1 {
		t.Errorf("stats: %+v, want one worker with client_gone 1 and requests 1 (/stays)", w)
	}
}

// A request that took long to come (a slow upload, a head in pieces) has
// not waited for a thread: a client that shut its sending side after it
// (as some monitoring tools do) gets its answer from idle threads.
func TestClientGoneSlowRequestIsNoWait(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count", "--threads", "2")
	// Past the first 100 ms of the worker's serving, whose first
	// connections may have waited in the backlog while it started (the
	// socket takes connections from its bind, before the app's import: a
	// fixed wait from then was sometimes too short under load).
	if !s.waitLog("carafe: serving HTTP on", 20*time.Second) {
		t.Fatal("not serving")
	}
	time.Sleep(200 * time.Millisecond)
	body := strings.Repeat("b", 60000)
	for _, pieces := range [][2]string{
		{"POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 60000\r\n\r\n" + body[:30000], body[30000:]},
		{"GET /head HTTP/1.1\r\nHost: x\r\n", "X-Late: 1\r\n\r\n"},
	} {
		c := httpOpen(t, s)
		c.send(pieces[0])
		time.Sleep(150 * time.Millisecond)
		c.send(pieces[1])
		c.c.(*net.TCPConn).CloseWrite()
		if r := c.resp("GET"); r.Status != 200 {
			t.Errorf("%.20q: %d %q", pieces[0], r.Status, r.Body)
		}
	}
}

// checkGoneLogged looks for each path's 499 in the request log, and for
// the line that tells the operator why.
func checkGoneLogged(t *testing.T, s *server, paths ...string) {
	t.Helper()
	if !s.waitLog("a request was not run: its client had closed the connection", 3*time.Second) {
		t.Errorf("no warning about requests not run:\n%s", s.Log())
	}
	for _, p := range paths {
		logged := func() bool {
			for _, line := range strings.Split(s.Log(), "\n") {
				if strings.Contains(line, "GET "+p+" ") && strings.Contains(line, " 499 ") {
					return true
				}
			}
			return false
		}
		for end := time.Now().Add(3 * time.Second); !logged() && time.Now().Before(end); {
			time.Sleep(20 * time.Millisecond)
		}
		if !logged() {
			t.Errorf("no 499 request-log line for %s:\n%s", p, s.Log())
		}
	}
}

// An app that catches the OSError of a write to a client that left and
// then fails on its own has its own error's traceback logged: it was
// dropped with the write's, which is the client's doing.
func TestHTTPClientGoneThenAppError(t *testing.T) {
	t.Parallel()
	s := startApp(t, "write_gone")
	c := s.dial()
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(100 * time.Millisecond) // the view runs, and waits for the close
	c.(*net.TCPConn).SetLinger(0)
	c.Close()
	if !s.waitLog("ValueError: the app's own error", 10*time.Second) {
		t.Errorf("the app's own error after a failed write was not logged:\n%s", s.Log())
	}
}
