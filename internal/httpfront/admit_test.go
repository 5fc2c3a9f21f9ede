package httpfront

import (
	"bufio"
	"io"
	"log/slog"
	"net"
	"sync/atomic"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// room counts the calls in the app and the connections not settled
// against the threads: up to the threads always, up to twice as many
// while calls are short; a connection stops counting past freshGrace.
func TestAdmissionRoom(t *testing.T) {
	var slow atomic.Int64
	a := &Admission{Pool: func() (int, time.Duration) { return 2, time.Duration(slow.Load()) }}
	c1, c2, c3 := &conn{start: time.Now()}, &conn{start: time.Now()}, &conn{start: time.Now()}
	if !a.room() {
		t.Fatal("no room in an idle worker")
	}
	a.accepted(c1)
	a.inApp.Add(1)
	slow.Store(int64(time.Second))
	if a.room() {
		t.Error("room past the threads with a slow call running")
	}
	slow.Store(int64(time.Millisecond))
	if !a.room() {
		t.Error("no room for a queue of short calls")
	}
	a.accepted(c2)
	a.accepted(c3)
	if a.room() {
		t.Error("room past twice the threads")
	}
	a.settled(c2)
	if !a.room() {
		t.Error("a settled connection still counts")
	}
	a.accepted(&conn{start: time.Now().Add(-2 * freshGrace)})
	if !a.room() {
		t.Error("a connection accepted more than freshGrace ago still counts")
	}
}

// wait returns at a poke once there is room, or when told to stop.
func TestAdmissionWait(t *testing.T) {
	a := &Admission{Pool: func() (int, time.Duration) { return 1, time.Second }}
	a.inApp.Add(1)
	done := make(chan time.Duration)
	go func() { done <- a.wait(func() bool { return false }) }()
	time.Sleep(20 * time.Millisecond)
	select {
	case <-done:
		t.Fatal("wait returned with no room")
	default:
	}
	a.inApp.Add(-1)
	a.poke()
	select {
	case d := <-done:
		if d < 20*time.Millisecond {
			t.Errorf("waited %v, want the 20 ms it was held", d)
		}
	case <-time.After(admitRecheck / 2):
		t.Fatal("a poke with room did not end the wait")
	}
	var stop atomic.Bool
	a.inApp.Add(1)
	go func() { done <- a.wait(stop.Load) }()
	time.Sleep(10 * time.Millisecond)
	stop.Store(true)
	a.poke()
	select {
	case <-done:
	case <-time.After(admitRecheck / 2):
		t.Fatal("a stop did not end the wait")
	}
}

// Served on a shared listener, a connection counts while its first call
// is in the app, and stops counting when it ends, a panic in the call
// included (a bug costs the connection, not the worker's admission).
func TestAdmissionCountsCalls(t *testing.T) {
	release := make(chan struct{})
	a := &Admission{Pool: func() (int, time.Duration) { return 4, 0 }}
	app := panicky{fakeApp{fn: func(c *wsgi.Call, env map[string]string) wsgi.Result {
		<-release
		c.Exch.Output(head("200 OK", "Content-Length", "2"), []byte("ok"), nil, true)
		return wsgi.OK
	}}}
	srv := NewServer(app, Options{Admit: a, Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.ServeAdmitted(l)
	t.Cleanup(func() { srv.Shutdown(time.Second) })
	get := func(path string) net.Conn {
		c, err := net.Dial("tcp", l.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		return c
	}
	waitIn := func(want int32) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); a.inApp.Load() != want; time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d calls counted in the app, want %d", a.inApp.Load(), want)
			}
		}
	}
	c := get("/slow")
	waitIn(1)
	if n := a.freshNow(time.Now()); n != 0 {
		t.Errorf("%d connections still counted fresh once their call is in the app", n)
	}
	close(release)
	if _, body := readResponse(t, bufio.NewReader(c)); body != "ok" {
		t.Errorf("body %q", body)
	}
	waitIn(0)
	get("/panic")
	time.Sleep(100 * time.Millisecond)
	waitIn(0)
}

// panicky is fakeApp whose Do panics, on the connection's goroutine, for
// the target /panic.
type panicky struct{ fakeApp }

func (p panicky) Do(c *wsgi.Call) {
	if string(c.Target) == "/panic" {
		panic("a bug")
	}
	p.fakeApp.Do(c)
}
