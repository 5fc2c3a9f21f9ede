package sdnotify

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestSendAndTake(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	t.Setenv("NOTIFY_SOCKET", path)
	n := Take()
	if n == nil {
		t.Fatal("Take: nil with NOTIFY_SOCKET set")
	}
	if Take() != nil {
		t.Error("NOTIFY_SOCKET still set after Take: workers would report too")
	}
	for _, state := range []string{"READY=1\nSTATUS=2 workers", Reloading(), "STOPPING=1"} {
		if err := n.Send(state); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 256)
		l.SetReadDeadline(time.Now().Add(2 * time.Second))
		k, err := l.Read(buf)
		if err != nil || string(buf[:k]) != state {
			t.Errorf("received %q (%v), want %q", buf[:k], err, state)
		}
	}
	if r := Reloading(); !strings.HasPrefix(r, "RELOADING=1\nMONOTONIC_USEC=") || len(r) < len("RELOADING=1\nMONOTONIC_USEC=")+4 {
		t.Errorf("Reloading() = %q", r)
	}
	var none *Notifier
	if err := none.Send("READY=1"); err != nil {
		t.Errorf("a nil Notifier: %v", err)
	}
}

// A listener that stops reading does not block the sender for good: once
// its queue is full (about ten datagrams), each Send gives up after a
// second. It blocked, and the master's event loop with it: reloads and
// SIGINT went unanswered.
func TestSendGivesUpOnFullQueue(t *testing.T) {
	path := filepath.Join(t.TempDir(), "notify.sock")
	l, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	n := &Notifier{addr: &net.UnixAddr{Name: path, Net: "unixgram"}}
	done := make(chan error, 1)
	go func() {
		var err error
		for i := 0; i < 1000 && err == nil; i++ {
			err = n.Send("RELOADING=1")
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("1000 sends to a listener that reads none all went through")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Send blocked on a full queue")
	}
}
