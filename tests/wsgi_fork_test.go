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
