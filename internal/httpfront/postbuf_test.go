package httpfront

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"carafe/internal/wsgi"
)

// bodyDigest answers with the body's length and SHA-256 as the app saw
// it (the prefetched part, then ReadBody), and where it came from: read
// before the call into memory or a temp file, or streamed.
var bodyDigest = fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
	h := sha256.New()
	h.Write(c.Body)
	n, _ := io.Copy(h, readerFunc(c.Exch.ReadBody))
	how := "memory"
	if c.Exch.(*conn).bodyFile != nil {
		how = "file"
	} else if n > 0 {
		how = "streamed"
	}
	body := fmt.Sprintf("%d %x %s", len(c.Body)+int(n), h.Sum(nil), how)
	c.Exch.Output(head("200 OK"), []byte(body), nil, true)
	return wsgi.OK
}}

func digest(b []byte) string { return fmt.Sprintf("%d %x", len(b), sha256.Sum256(b)) }

// --post-buffering: every body reaches the app whole, read before the
// call, in memory up to the size given and from a temp file past it; a
// client waiting for 100 Continue gets it from carafe. Without it, large
// bodies stream.
func TestServerPostBuffering(t *testing.T) {
	body := bytes.Repeat([]byte("0123456789abcdef"), 20000) // 320,000 bytes
	for _, tc := range []struct {
		name   string
		pb     int64
		expect bool
		how    string
	}{
		{"off", 0, false, "streamed"},
		{"memory", 1 << 20, false, "memory"},
		{"file", 100000, false, "file"},
		{"memory, 100-continue", 1 << 20, true, "memory"},
		{"file, 100-continue", 100000, true, "file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := serve(t, bodyDigest, Options{PostBuffering: tc.pb})
			hdr := fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n", len(body))
			if tc.expect {
				io.WriteString(c, hdr+"Expect: 100-continue\r\n\r\n")
				if line, _ := br.ReadString('\n'); line != "HTTP/1.1 100 Continue\r\n" {
					t.Fatalf("got %q, want a 100 Continue before the body", line)
				}
				br.ReadString('\n')
			} else {
				io.WriteString(c, hdr+"\r\n")
			}
			c.Write(body)
			h, got := readResponse(t, br)
			if want := digest(body) + " " + tc.how; !strings.HasPrefix(h, "HTTP/1.1 200") || got != want {
				t.Errorf("got %q %q, want %q", h, got, want)
			}
		})
	}
	if n := bodyMemUsed.Load(); n != 0 {
		t.Errorf("%d bytes of the body budget still held after the requests", n)
	}
}

// Past the worker's budget for bodies in memory, a chunked or
// --post-buffering body goes to a temp file, and arrives whole all the
// same; the budget comes back when the request ends.
func TestServerBodyMemBudget(t *testing.T) {
	old := bodyMemBudget
	bodyMemBudget = 150000
	defer func() { bodyMemBudget = old }()
	hold, holding := make(chan struct{}), make(chan struct{})
	held := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		if env["PATH_INFO"] == "/hold" {
			close(holding)
			<-hold
		}
		return bodyDigest.fn(c, env)
	}}
	body := bytes.Repeat([]byte("x"), 140000)
	chunked := func(path string) string {
		return fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n0\r\n\r\n",
			path, len(body), body)
	}
	first, firstR := serve(t, held, Options{PostBuffering: 1 << 20})
	io.WriteString(first, chunked("/hold")) // in memory, held while its call waits
	select {
	case <-holding: // the call has begun: the whole body is read, and counted
	case <-time.After(5 * time.Second):
		t.Fatal("the first request's call did not begin")
	}
	deadline := time.Now().Add(5 * time.Second)
	if n := bodyMemUsed.Load(); n == 0 || n > bodyMemBudget {
		t.Fatalf("the first body holds %d bytes of the budget", n)
	}
	for _, req := range []string{chunked("/"),
		fmt.Sprintf("POST / HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)} {
		c, br := serve(t, held, Options{PostBuffering: 1 << 20})
		io.WriteString(c, req)
		if _, got := readResponse(t, br); got != digest(body)+" file" {
			t.Errorf("past the budget: got %q, want it from a file", got)
		}
	}
	close(hold)
	if _, got := readResponse(t, firstR); got != digest(body)+" memory" {
		t.Errorf("the first body: got %q", got)
	}
	for bodyMemUsed.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := bodyMemUsed.Load(); n != 0 {
		t.Errorf("%d bytes of the budget still held", n)
	}
}
