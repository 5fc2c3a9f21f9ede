package httpfront

import (
	"bytes"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// A client that reads none of a big answer: with room in the budget, the
// rest is parked and the call ends while nothing is read; the client
// still gets it whole, and the budget is given back. Without room, the
// call waits with the write, as before parking. (Not parallel: the
// budget is the worker's.)
func TestParkBudget(t *testing.T) {
	const size = 32 << 20 // more than any socket buffer takes
	body := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	defer func(b int64) { parkBudget = b }(parkBudget)
	for _, tc := range []struct {
		budget int64
		parks  bool
	}{{64 << 20, true}, {1 << 20, false}} {
		parkBudget = tc.budget
		returned := make(chan struct{}, 1)
		app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
			c.Exch.Output(head("200 OK", "Content-Length", "33554432"), body, nil, true)
			returned <- struct{}{}
			return wsgi.OK
		}}
		started := parksStarted.Load()
		c, br := serve(t, app, Options{})
		c.(*net.TCPConn).SetReadBuffer(16 << 10)
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		ended := false
		select {
		case <-returned:
			ended = true
			if !tc.parks {
				t.Errorf("budget %d: the call ended though the answer could not be parked", tc.budget)
			}
		case <-time.After(time.Second):
			if tc.parks {
				t.Errorf("budget %d: the call did not end while its client read nothing", tc.budget)
			}
		}
		if parked := parksStarted.Load() > started; parked != tc.parks {
			t.Errorf("budget %d: parked %v, want %v", tc.budget, parked, tc.parks)
		}
		h, got := readResponse(t, br)
		if !strings.HasPrefix(h, "HTTP/1.1 200") || len(got) != size || got != string(body) {
			t.Fatalf("budget %d: the slow client got %d of %d bytes", tc.budget, len(got), size)
		}
		if !ended {
			<-returned // (nothing parked: the write is done now)
		}
		for deadline := time.Now().Add(5 * time.Second); parkUsed.Load() != 0; time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("budget %d: %d bytes still counted as parked", tc.budget, parkUsed.Load())
			}
		}
	}
}
