package tests

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// Each limit option rejects what is over it with the right status and lets
// through what is under it.
func TestHTTPLimits(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count",
		"--limit-request-line", "200",
		"--limit-request-fields", "20",
		"--limit-request-field-size", "200",
		"--limit-post", "1000")

	headers := func(n int) string {
		var b strings.Builder
		for i := 0; i < n; i++ {
			fmt.Fprintf(&b, "X-H%d: v\r\n", i)
		}
		return b.String()
	}
	tests := []struct {
		name string
		req  string
		want int
	}{
		{"request line under", "GET /" + strings.Repeat("a", 150) + " HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"request line over", "GET /" + strings.Repeat("a", 300) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"request line far over", "GET /" + strings.Repeat("a", 100000) + " HTTP/1.1\r\nHost: x\r\n\r\n", 414},
		{"fields under", "GET /f HTTP/1.1\r\nHost: x\r\n" + headers(10) + "\r\n", 200},
		{"fields over", "GET /f HTTP/1.1\r\nHost: x\r\n" + headers(30) + "\r\n", 431},
		{"fields far over", "GET /f HTTP/1.1\r\nHost: x\r\n" + headers(5000) + "\r\n", 431},
		{"field size under", "GET /s HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 100) + "\r\n\r\n", 200},
		{"field size over", "GET /s HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 300) + "\r\n\r\n", 431},
		{"field size far over", "GET /s HTTP/1.1\r\nHost: x\r\nX-Big: " + strings.Repeat("b", 100000) + "\r\n\r\n", 431},
		{"post under", "POST /small HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n" + strings.Repeat("p", 1000), 200},
		// Only the head is sent: the server must answer from Content-Length
		// alone, without waiting for (or running the app on) the body.
		{"post over", "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 1001\r\n\r\n", 413},
		{"post far over", "POST /big HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\n", 413},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := httpOpen(t, s)
			c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			// The server may answer and close before it has read all of a
			// far-over request; the write error that causes is not the point.
			go c.c.Write([]byte(tt.req))
			r := c.resp("GET")
			if r.Status != tt.want {
				t.Fatalf("status %d, want %d\n%s%s", r.Status, tt.want, r.Head, r.Body)
			}
		})
	}

	t.Run("post over, body sent too", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL("/big"), bytes.NewReader(make([]byte, 5000)))
		resp, _ := httpDo(t, req)
		if resp.StatusCode != 413 {
			t.Fatalf("status %d, want 413", resp.StatusCode)
		}
	})

	t.Run("chunked post over", func(t *testing.T) {
		c := httpOpen(t, s)
		chunk := strings.Repeat("c", 500)
		c.send("POST /chunkbig HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			strings.Repeat(fmt.Sprintf("%x\r\n%s\r\n", len(chunk), chunk), 4) + "0\r\n\r\n")
		r, err := httpReadResponse(c.br, "POST")
		if err != nil || r.Status != 413 {
			t.Fatalf("chunked body of 2000 bytes over --limit-post 1000: %v %+v", err, r)
		}
	})

	httpExpectOK(t, s, "/still-serving")
	_, seen := httpGet(t, s.URL("/seen"))
	if strings.Contains(string(seen), "/big") {
		t.Errorf("the app ran for a body over --limit-post; it saw:\n%s", seen)
	}
}

// An idle keep-alive connection is closed after --http-keepalive seconds.
func TestHTTPKeepAliveTimeout(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_echo", "--http-keepalive", "1")
	c := httpOpen(t, s)
	if r := c.roundTrip("GET", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); r.Status != 200 {
		t.Fatalf("status %d", r.Status)
	}
	took, extra, closed := c.closedWithin(5 * time.Second)
	if !closed {
		t.Fatalf("idle keep-alive connection still open after %v with --http-keepalive 1", took)
	}
	if took < 700*time.Millisecond {
		t.Fatalf("idle connection closed after %v, before --http-keepalive 1 ran out", took)
	}
	if len(extra) > 0 {
		t.Logf("server sent %q before closing the idle connection", extra)
	}
}

// A client that sends half a request head and stalls is cut off after
// --http-header-timeout; one that trickles the head byte by byte too.
func TestHTTPHeaderTimeout(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_echo", "--http-header-timeout", "1")

	t.Run("stall", func(t *testing.T) {
		c := httpOpen(t, s)
		c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Partial: ")
		took, extra, closed := c.closedWithin(5 * time.Second)
		if !closed {
			t.Fatalf("half-sent request head still open after %v with --http-header-timeout 1", took)
		}
		if len(extra) > 0 && !bytes.HasPrefix(extra, []byte("HTTP/1.1 408")) && !bytes.HasPrefix(extra, []byte("HTTP/1.1 400")) {
			t.Errorf("server answered a stalled head with %q", extra)
		}
	})

	t.Run("slowloris", func(t *testing.T) {
		c := httpOpen(t, s)
		head := "GET / HTTP/1.1\r\nHost: x\r\n" + strings.Repeat("X-Slow: y\r\n", 100)
		start := time.Now()
		for i := 0; i < len(head); i++ {
			if _, err := c.c.Write([]byte{head[i]}); err != nil {
				break // closed by the server: what we want
			}
			if time.Since(start) > 5*time.Second {
				t.Fatalf("server still reading a trickled head after %v", time.Since(start))
			}
			time.Sleep(20 * time.Millisecond)
		}
		if _, _, closed := c.closedWithin(5 * time.Second); !closed {
			t.Fatal("trickled head never cut off")
		}
	})

	httpExpectOK(t, s, "/after")
}

// The request body read is bounded too: a client that declares a body and
// stalls half way does not hold a connection (or a Python thread) forever.
func TestHTTPBodyTimeout(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count", "--http-timeout", "1", "--threads", "1")
	c := httpOpen(t, s)
	c.send("POST /stall HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly ten b")
	took, _, closed := c.closedWithin(8 * time.Second)
	if !closed {
		t.Fatalf("stalled body still open after %v with --http-timeout 1", took)
	}
	httpExpectOK(t, s, "/after") // the single Python thread is free again
}

// A buffer-size raised for big cookies, as uWSGI configs raise it, lets a
// 12 KB Cookie through on --http too: uWSGI's buffer-size bounds HTTP heads
// as well, and carafe answered 431 (its field limit stayed 8190).
func TestHTTPBufferSizeBigCookie(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count", "--buffer-size", "32768")
	c := httpOpen(t, s)
	c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	c.send("GET /c HTTP/1.1\r\nHost: x\r\nCookie: session=" + strings.Repeat("s", 12000) + "\r\n\r\n")
	if r := c.resp("GET"); r.Status != 200 {
		t.Fatalf("a 12 KB Cookie with --buffer-size 32768: status %d, want 200\n%s", r.Status, r.Head)
	}
}
