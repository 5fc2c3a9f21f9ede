package worker

import (
	"net"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"carafe/internal/control"
)

// fakeMaster is the master's end of a worker's control socket: what the
// worker sends arrives on msgs.
func fakeMaster(t *testing.T) (msgs chan control.Msg, worker *control.Conn) {
	mine, theirs := net.Pipe()
	t.Cleanup(func() { mine.Close(); theirs.Close() })
	msgs = make(chan control.Msg, 16)
	go func() {
		c := control.NewConn(mine)
		for {
			m, err := c.Recv()
			if err != nil {
				return
			}
			msgs <- m
		}
	}()
	return msgs, control.NewConn(theirs)
}

// expect waits for a message of type typ (or, with typ "", for silence).
func expect(t *testing.T, msgs chan control.Msg, typ, what string) control.Msg {
	t.Helper()
	select {
	case m := <-msgs:
		if m.T != typ {
			t.Fatalf("%s: the worker sent %+v, want %q", what, m, typ)
		}
		return m
	case <-time.After(200 * time.Millisecond):
		if typ != "" {
			t.Fatalf("%s: the worker sent nothing, want %q", what, typ)
		}
	}
	return control.Msg{}
}

// The lifetime is checked again and again, not armed once: a recycle
// turned away within the back-off after a failed replacement comes once
// the back-off is over.
func TestLifetimeAfterFailedReplacement(t *testing.T) {
	msgs, ctl := fakeMaster(t)
	now := time.Now()
	w := &worker{ctl: ctl, start: now.Add(-2 * time.Second), life: time.Second}
	w.checkLimits(now, 0)
	expect(t, msgs, control.Recycle, "past the lifetime")
	w.resume() // the master: the replacement failed
	w.checkLimits(now, 0)
	expect(t, msgs, "", "within the back-off")
	w.recycleMu.Lock()
	w.noRecycle = time.Now().Add(-time.Millisecond) // the back-off is over
	w.recycleMu.Unlock()
	w.checkLimits(time.Now(), 0)
	expect(t, msgs, control.Recycle, "after the back-off")
}

// A Resume the worker did not ask for (its reload replacement failed)
// leaves its limits on.
func TestResumeUnaskedKeepsLimits(t *testing.T) {
	msgs, ctl := fakeMaster(t)
	now := time.Now()
	w := &worker{ctl: ctl, start: now.Add(-2 * time.Second), life: time.Second}
	w.resume()
	w.checkLimits(now, 0)
	expect(t, msgs, control.Recycle, "past the lifetime after an unasked resume")
}

// A worker over --reload-on-rss as it becomes ready says so, and memory
// recycles it only once it has served a request and run overRSSHold.
func TestReloadOnRSSBornOver(t *testing.T) {
	msgs, ctl := fakeMaster(t)
	start := time.Now()
	w := &worker{ctl: ctl, start: start, o: Options{ReloadOnRSS: 1}}
	w.noteReadyRSS()
	if m := expect(t, msgs, control.OverRSS, "ready over the limit"); !strings.Contains(m.Text, "already at") {
		t.Errorf("warning %q does not say the fresh worker is already over", m.Text)
	}
	big := int64(1 << 30)
	tests := []struct {
		name     string
		requests int64
		after    time.Duration
		want     string
	}{
		{"idle, fresh", 0, 0, ""},
		{"idle, old", 0, 2 * overRSSHold, ""},
		{"served, fresh", 1, 0, ""},
		{"served, old", 1, overRSSHold, control.Recycle},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w.requests.Store(tt.requests)
			w.checkLimits(start.Add(tt.after), big)
			expect(t, msgs, tt.want, tt.name)
		})
	}
}

// A worker that starts under the limit is recycled as soon as it passes
// it, idle or not, when giving back its free memory does not bring it
// under: then for giveBackEvery it is recycled without trying again.
func TestReloadOnRSSGrown(t *testing.T) {
	msgs, ctl := fakeMaster(t)
	w := &worker{ctl: ctl, start: time.Now(), o: Options{ReloadOnRSS: 1}} // 1 byte: always over
	w.checkLimits(time.Now(), 2)
	expect(t, msgs, control.Recycle, "over the limit")
	if w.gaveBackInVain.IsZero() {
		t.Errorf("the give-back that left the worker over the limit was not noted")
	}
}

// Memory the worker holds free does not recycle it: over the limit, it
// first gives that memory back and measures again. Here 64 MB of Go heap,
// garbage but still resident, take the worker over its limit.
func TestReloadOnRSSGivesBackFirst(t *testing.T) {
	if raceOn {
		t.Skip("under the race detector the heap's shadow memory stays resident")
	}
	msgs, ctl := fakeMaster(t)
	debug.FreeOSMemory()
	before := selfRSS()
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = 1
	}
	runtime.KeepAlive(b)
	b = nil
	runtime.GC() // garbage now, and still resident
	rss := selfRSS()
	if rss < before+48<<20 {
		t.Skipf("64 MB of garbage took the resident set only from %d to %d: nothing to give back", before, rss)
	}
	w := &worker{ctl: ctl, start: time.Now(), o: Options{ReloadOnRSS: before + 24<<20}}
	w.checkLimits(time.Now(), rss)
	expect(t, msgs, "", "over the limit only with free memory")
	if after := selfRSS(); after > w.o.ReloadOnRSS {
		t.Errorf("resident %d bytes after giving back, over the limit %d", after, w.o.ReloadOnRSS)
	}
	if !w.gaveBackInVain.IsZero() {
		t.Errorf("a give-back that worked was noted as in vain")
	}
}
