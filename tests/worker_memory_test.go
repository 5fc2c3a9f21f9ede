package tests

import (
	"bytes"
	"fmt"
	"testing"
	"time"
)

// The memory a burst took is given back once the burst is over. Go keeps
// a freed heap resident (no collection runs while nothing allocates, and
// its background scavenger did not release in a quiet process), so
// without the worker's own return this worker stayed over 100 MB above
// its idle size for minutes after the uploads below ended.
func TestWorkerReturnsBurstMemory(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_chunked_in", "--threads", "2")
	pid := s.cmd.Process.Pid
	base := httpRSSKB(pid)

	// Chunked uploads are read whole before the call: held one chunk
	// short of their end, they sit in the worker's memory.
	const clients, chunks = 120, 60
	var body bytes.Buffer
	chunk := bytes.Repeat([]byte("x"), 16<<10)
	for range chunks {
		fmt.Fprintf(&body, "%x\r\n%s\r\n", len(chunk), chunk)
	}
	conns := make([]*httpConn, clients)
	for i := range conns {
		conns[i] = httpOpen(t, s)
		conns[i].c.SetDeadline(time.Now().Add(60 * time.Second))
		conns[i].send("POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + body.String())
	}
	held := waitRSS(pid, func(kb int64) bool { return kb >= base+60<<10 }, 20*time.Second)
	if held < base+60<<10 {
		t.Fatalf("the held uploads took the worker only from %d to %d KiB: the test shows nothing", base, held)
	}
	for _, c := range conns {
		c.send("0\r\n\r\n")
	}
	for i, c := range conns {
		if r := c.resp("POST"); r.Status != 200 {
			t.Fatalf("upload %d: status %d", i, r.Status)
		}
	}
	after := waitRSS(pid, func(kb int64) bool { return kb <= base+30<<10 }, 30*time.Second)
	t.Logf("worker RSS: %d KiB idle, %d KiB with the uploads held, %d KiB after them", base, held, after)
	if after > base+30<<10 {
		t.Errorf("30 s after the uploads the worker still holds %d KiB, %d above its idle %d", after, after-base, base)
	}
}

// waitRSS polls the resident set of pid (and its children) until ok holds
// or d has passed, and returns the last reading.
func waitRSS(pid int, ok func(kb int64) bool, d time.Duration) int64 {
	deadline := time.Now().Add(d)
	for {
		kb := httpRSSKB(pid)
		if ok(kb) || time.Now().After(deadline) {
			return kb
		}
		time.Sleep(100 * time.Millisecond)
	}
}
