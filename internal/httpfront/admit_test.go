package httpfront

import (
	"sync/atomic"
	"testing"
	"time"
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
