package control

import (
	"io"
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
