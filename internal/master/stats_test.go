package master

import (
	"bufio"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"carafe/internal/control"
)

// statsMaster is a master with the given workers and an event loop that
// answers only collect's snapshots.
func statsMaster(t *testing.T, procs ...*proc) *master {
	t.Helper()
	m := &master{procs: procs, events: make(chan event), lastRequests: map[int]int64{}, started: time.Now()}
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case ev := <-m.events:
				ev.reply <- m.snapshot()
			case <-done:
				return
			}
		}
	}()
	return m
}

// silentProc is a ready worker that never reads its control socket; the
// returned connection is its end, to see what it was sent.
func silentProc(t *testing.T, id int) (*proc, net.Conn) {
	t.Helper()
	ctl, theirs, err := control.Pair()
	if err != nil {
		t.Fatal(err)
	}
	nc, err := net.FileConn(theirs)
	theirs.Close()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ctl.Close(); nc.Close() })
	return &proc{id: id, pid: os.Getpid(), ctl: ctl, state: stateReady,
		stats: make(chan *control.WorkerStats, 1)}, nc
}

// A worker that does not answer (one importing the app, one stopped) gets
// one stats request, not one per document: its control socket would fill
// up, and the next request block the stats server for good.
func TestCollectAsksASilentWorkerOnce(t *testing.T) {
	defer func(d time.Duration) { statsWait = d }(statsWait)
	statsWait = time.Millisecond
	p, worker := silentProc(t, 1)
	m := statsMaster(t, p)
	done := make(chan int)
	go func() {
		n := 0
		for ; n < 1000; n++ {
			if doc := m.collect(); len(doc.Workers) != 1 {
				break
			}
		}
		done <- n
	}()
	select {
	case n := <-done:
		if n != 1000 {
			t.Fatalf("document %d does not list the worker", n+1)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("1000 stats documents with a silent worker did not end in 10s: collect blocked sending to it")
	}
	worker.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	var got []string
	for sc := bufio.NewScanner(worker); sc.Scan(); {
		got = append(got, sc.Text())
	}
	if len(got) != 1 || !strings.Contains(got[0], `"`+control.StatsReq+`"`) {
		t.Errorf("the silent worker was sent %d messages %.200q, want one stats request", len(got), got)
	}
}

// statsWait bounds the wait for all the workers together: a second worker
// that does not answer either was waited for without end once the first
// had used up a time.After's single tick.
func TestCollectWaitsOnceForAll(t *testing.T) {
	defer func(d time.Duration) { statsWait = d }(statsWait)
	statsWait = 50 * time.Millisecond
	p1, _ := silentProc(t, 1)
	p2, _ := silentProc(t, 2)
	m := statsMaster(t, p1, p2)
	done := make(chan StatsDoc, 1)
	start := time.Now()
	go func() { done <- m.collect() }()
	select {
	case doc := <-done:
		if len(doc.Workers) != 2 {
			t.Errorf("document lists %d workers, want 2", len(doc.Workers))
		}
		t.Logf("two silent workers: document after %v", time.Since(start).Round(time.Millisecond))
	case <-time.After(5 * time.Second):
		t.Fatal("no stats document within 5s with two silent workers (statsWait 50ms)")
	}
}

// Clients that ask while a collection runs share its document: with a
// worker that does not answer, 20 clients at once were served one
// statsWait after another.
func TestStatsClientsShareACollection(t *testing.T) {
	defer func(d time.Duration) { statsWait = d }(statsWait)
	statsWait = 200 * time.Millisecond
	p, _ := silentProc(t, 1)
	m := statsMaster(t, p)
	var docs sharedDoc
	var wg sync.WaitGroup
	start := time.Now()
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if doc := docs.get(m.collect); len(doc.Workers) != 1 {
				t.Errorf("document lists %d workers, want 1", len(doc.Workers))
			}
		}()
	}
	wg.Wait()
	// Two collections at most: one running as the others arrive, and one
	// for those that came as it ended.
	if d := time.Since(start); d > 4*statsWait {
		t.Errorf("20 clients served in %v, want about one statsWait (%v)", d, statsWait)
	}
}

// During a reload or a recycle a slot's old and new processes are both
// listed; the slot's respawn and harakiri counts go with the newer only:
// each entry carried them, and a sum over the list counted 20 harakiris
// as 31 to 44.
func TestCollectSlotCountsOnce(t *testing.T) {
	defer func(d time.Duration) { statsWait = d }(statsWait)
	statsWait = time.Millisecond
	defer delete(slots, 7)
	s := slotOf(7)
	s.respawns, s.harakiris = 2, 3
	old, _ := silentProc(t, 7)
	old.state, old.started = stateStopping, time.Now().Add(-time.Minute)
	cur, _ := silentProc(t, 7)
	cur.state, cur.started = stateStarting, time.Now()
	other, _ := silentProc(t, 8)
	doc := statsMaster(t, old, cur, other).collect()
	harakiris, respawns := 0, 0
	for _, e := range doc.Workers {
		if e.ID == 7 {
			harakiris += e.HarakiriCount
			respawns += e.RespawnCount
			if e.Status == "starting" && (e.HarakiriCount != 3 || e.Respawns != 2) {
				t.Errorf("the newer process: harakiri_count %d respawns %d, want 3 and 2", e.HarakiriCount, e.Respawns)
			}
		}
	}
	if harakiris != 3 || respawns != 2 {
		t.Errorf("slot 7 over the list: harakiri_count %d, respawn_count %d; want 3 and 2\n%+v", harakiris, respawns, doc.Workers)
	}
}
