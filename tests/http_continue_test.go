package tests

import (
	"strings"
	"testing"
	"time"
)

// Expect: 100-continue — the interim response goes out only when the app
// first reads wsgi.input.
func TestHTTPExpectContinue(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_continue")
	const hdr = "HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\nExpect: 100-continue\r\n\r\n"

	t.Run("app never reads", func(t *testing.T) {
		c := httpOpen(t, s)
		r := c.roundTrip("POST", "POST /noread "+hdr)
		if r.Status == 100 {
			t.Fatalf("100 Continue sent although the app never read the body")
		}
		if r.Status != 200 || string(r.Body) != "did not read" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
	})

	t.Run("app reads", func(t *testing.T) {
		c := httpOpen(t, s)
		c.send("POST /echo " + hdr)
		c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := c.resp("POST")
		if r.Status != 100 || r.Proto != "HTTP/1.1" {
			t.Fatalf("want HTTP/1.1 100 Continue before the body, got %d:\n%s", r.Status, r.Head)
		}
		c.send("hello world")
		r = c.resp("POST")
		if r.Status != 200 || string(r.Body) != "hello world" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
		// The connection stays usable.
		r = c.roundTrip("POST", "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
		if r.Status != 200 || string(r.Body) != "abc" {
			t.Fatalf("next request: %d %q", r.Status, r.Body)
		}
	})

	t.Run("100 waits for the first read", func(t *testing.T) {
		c := httpOpen(t, s)
		start := time.Now()
		c.send("POST /slowread " + hdr)
		r := c.resp("POST")
		waited := time.Since(start)
		if r.Status != 100 {
			t.Fatalf("want 100 Continue, got %d", r.Status)
		}
		if waited < 400*time.Millisecond {
			t.Fatalf("100 Continue after %v, before the app (sleeping 0.5 s first) read the body", waited)
		}
		c.send("slow reader")
		if r = c.resp("POST"); r.Status != 200 || string(r.Body) != "slow reader" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
	})

	t.Run("HTTP/1.0 gets no 100", func(t *testing.T) {
		c := httpOpen(t, s)
		c.send("POST /echo HTTP/1.0\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\nbody")
		r := c.resp("POST")
		if r.Status != 200 || string(r.Body) != "body" {
			t.Fatalf("an HTTP/1.0 client got %d %q (100 Continue must not go to HTTP/1.0)", r.Status, r.Body)
		}
	})

	t.Run("chunked body", func(t *testing.T) {
		c := httpOpen(t, s)
		c.send("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n")
		c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r := c.resp("POST")
		if r.Status != 100 {
			t.Fatalf("want 100 Continue before a chunked body the app reads, got %d:\n%s", r.Status, r.Head)
		}
		c.send("6\r\nchunky\r\n5\r\n body\r\n0\r\n\r\n")
		if r = c.resp("POST"); r.Status != 200 || string(r.Body) != "chunky body" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
	})

	t.Run("client sends the body without waiting", func(t *testing.T) {
		c := httpOpen(t, s)
		c.send("POST /echo " + hdr + "hello again")
		r := c.resp("POST")
		if r.Status == 100 {
			r = c.resp("POST")
		}
		if r.Status != 200 || string(r.Body) != "hello again" {
			t.Fatalf("final response: %d %q", r.Status, r.Body)
		}
	})
}

// A body the app never read is drained (or the connection closed, and the
// response says so) before the next request on the connection is parsed.
func TestHTTPUnreadBody(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_continue")
	tests := []struct{ name, req string }{
		{"content-length", "POST /noread HTTP/1.1\r\nHost: x\r\nContent-Length: 39\r\n\r\n" +
			"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\nxxxx"},
		{"chunked", "POST /noread HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" +
			"23\r\nGET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := httpOpen(t, s)
			r := c.roundTrip("POST", tt.req)
			if r.Status != 200 || string(r.Body) != "did not read" {
				t.Fatalf("%d %q", r.Status, r.Body)
			}
			closing := strings.EqualFold(r.Header.Get("Connection"), "close")
			c.send("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nnext")
			r2, err := httpReadResponse(c.br, "POST")
			switch {
			case err == nil && r2.Status == 200 && string(r2.Body) == "next":
			case err != nil && closing:
			default:
				t.Fatalf("next request after an unread body: %v %+v (first response said Connection: %q)",
					err, r2, r.Header.Get("Connection"))
			}
		})
	}
}
