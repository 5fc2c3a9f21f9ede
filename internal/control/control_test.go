package control

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
)

func TestPairRoundTrip(t *testing.T) {
	m, f, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	w, err := fileConn(f)
	if err != nil {
		t.Fatal(err)
	}
	want := Msg{T: StatsResp, Stats: &WorkerStats{Requests: 3, Threads: []ThreadStats{{Busy: true, Method: "GET", Path: "/x"}}}}
	if err := w.Send(want); err != nil {
		t.Fatal(err)
	}
	got, err := m.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if got.T != want.T || got.Stats.Requests != 3 || got.Stats.Threads[0].Path != "/x" {
		t.Fatalf("got %+v", got)
	}
	w.Close()
	if _, err := m.Recv(); err != io.EOF {
		t.Fatalf("after close: %v, want io.EOF", err)
	}
}

// A message over MaxMsg is skipped without being kept whole (the app's
// code can write the worker's end: a master read 2.8 GiB into 732 MB of
// memory), and the next one is read.
func TestRecvSkipsOverlongMessage(t *testing.T) {
	r, w := io.Pipe()
	c := NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{r, io.Discard, r})
	go func() {
		chunk := bytes.Repeat([]byte("x"), 1<<20)
		for range 200 { // 200 MiB: read whole, several times that allocated
			w.Write(chunk)
		}
		w.Write([]byte("\nnot json\n{\"t\":\"ready\",\"text\":\"after\"}\n"))
		w.Close()
	}()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	if _, err := c.Recv(); err != ErrTooLong {
		t.Fatalf("an overlong message: %v, want ErrTooLong", err)
	}
	runtime.ReadMemStats(&after)
	if grew := after.TotalAlloc - before.TotalAlloc; grew > 150<<20 {
		t.Errorf("reading 200 MiB allocated %d MiB: not bounded by MaxMsg", grew>>20)
	}
	if _, err := c.Recv(); !errors.Is(err, ErrBadMessage) {
		t.Fatalf("a line that is no message: %v, want ErrBadMessage", err)
	}
	m, err := c.Recv()
	if err != nil || m.Text != "after" {
		t.Fatalf("the message after it: %+v %v", m, err)
	}
}
