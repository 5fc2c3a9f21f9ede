package tests

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// Malformed requests get the right 4xx/5xx, the connection is closed, and
// the worker goes on serving.
func TestHTTPBadRequests(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count")
	tests := []struct {
		name string
		req  string
		want []int
	}{
		{"garbage", "this is not http\r\n\r\n", []int{400}},
		{"binary garbage", "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", []int{400}},
		{"bad version", "GET / HTTP/1.x\r\nHost: x\r\n\r\n", []int{400}},
		{"lowercase version", "GET / http/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"HTTP/2.0", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", []int{505}},
		{"HTTP/3.0", "GET / HTTP/3.0\r\nHost: x\r\n\r\n", []int{505}},
		{"missing target", "GET HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"space in target", "GET /a b HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"bad method token", "G(T / HTTP/1.1\r\nHost: x\r\n\r\n", []int{400}},
		{"header without colon", "GET / HTTP/1.1\r\nHost: x\r\nNoColon\r\n\r\n", []int{400}},
		{"space before colon", "GET / HTTP/1.1\r\nHost : x\r\n\r\n", []int{400}},
		{"obs-fold", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\r\n  folded\r\n\r\n", []int{400}},
		{"NUL in header value", "GET / HTTP/1.1\r\nHost: x\r\nX-A: a\x00b\r\n\r\n", []int{400}},
		{"no Host in 1.1", "GET / HTTP/1.1\r\n\r\n", []int{400}},
		{"two Hosts", "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", []int{400}},
		{"bad Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n", []int{400}},
		{"negative Content-Length", "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: -1\r\n\r\n", []int{400}},
		// A coding carafe cannot decode on a body it can frame is 501. With
		// chunked not last the body cannot be framed at all, and RFC 9112
		// section 6.3 requires 400, so 400 is right there too.
		{"Transfer-Encoding gzip, chunked", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", []int{501}},
		{"Transfer-Encoding gzip", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", []int{501}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := httpOpen(t, s)
			c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			r := c.roundTrip("GET", tt.req)
			ok := false
			for _, w := range tt.want {
				ok = ok || r.Status == w
			}
			if !ok {
				t.Fatalf("status %d, want %v\n%s%s", r.Status, tt.want, r.Head, r.Body)
			}
			if _, _, closed := c.closedWithin(3 * time.Second); !closed {
				t.Errorf("connection left open after a %d", r.Status)
			}
		})
	}
	httpExpectOK(t, s, "/after-bad")
	_, seen := httpGet(t, s.URL("/seen"))
	if got := strings.TrimSpace(string(seen)); got != "/after-bad" {
		t.Errorf("the app ran for bad requests; it saw:\n%s", seen)
	}
}

// Request smuggling shapes are rejected and the request hidden in the body
// never reaches the app, whichever way a front end would have framed it.
func TestHTTPSmuggling(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count")

	const smuggled = "GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n"
	// clte hides the request behind a zero chunk: a server that trusts TE
	// over CL would run it as the next request.
	clte := func(te string) string {
		body := "0\r\n\r\n" + smuggled
		return fmt.Sprintf("POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n%s", len(body), te, body)
	}
	// tecl hides it inside a chunk: a server that trusts CL over TE (or
	// ignores an obfuscated TE) would run it.
	tecl := func(te string) string {
		inner := smuggled
		body := fmt.Sprintf("%x\r\n%s\r\n0\r\n\r\n", len(inner), inner)
		return "POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n" + te + "\r\n" + body
	}
	tes := []struct{ name, header string }{
		{"plain", "Transfer-Encoding: chunked\r\n"},
		{"trailing space", "Transfer-Encoding: chunked \r\n"},
		{"tab", "Transfer-Encoding:\tchunked\r\n"},
		{"tabs around", "Transfer-Encoding: \tchunked\t\r\n"},
		{"vertical tab", "Transfer-Encoding:\x0bchunked\r\n"},
		{"space before colon", "Transfer-Encoding : chunked\r\n"},
		{"xchunked", "Transfer-Encoding: xchunked\r\n"},
		{"chunked-false", "Transfer-Encoding: chunked-false\r\n"},
		{"uppercase", "TRANSFER-ENCODING: CHUNKED\r\n"},
		{"chunked twice", "Transfer-Encoding: chunked, chunked\r\n"},
		{"identity then chunked", "Transfer-Encoding: identity\r\nTransfer-Encoding: chunked\r\n"},
		{"chunked then x", "Transfer-Encoding: chunked\r\nTransfer-Encoding: x\r\n"},
		{"folded", "Transfer-Encoding:\r\n chunked\r\n"},
		{"quoted", "Transfer-Encoding: \"chunked\"\r\n"},
	}
	check := func(t *testing.T, req string) {
		c := httpOpen(t, s)
		c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		c.send(req)
		r, err := httpReadResponse(c.br, "POST")
		if err != nil {
			t.Fatalf("no response: %v", err)
		}
		if r.Status != 400 && r.Status != 501 {
			t.Errorf("status %d, want 400 or 501\n%s%s", r.Status, r.Head, r.Body)
		}
		if _, more, closed := c.closedWithin(3 * time.Second); !closed || len(more) > 0 {
			t.Errorf("after rejecting a smuggling shape: closed=%v, more bytes %q", closed, more)
		}
	}
	for _, te := range tes {
		t.Run("CL.TE/"+te.name, func(t *testing.T) { check(t, clte(te.header)) })
		t.Run("TE.CL/"+te.name, func(t *testing.T) { check(t, tecl(te.header)) })
	}
	t.Run("two Content-Lengths", func(t *testing.T) {
		check(t, "POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nContent-Length: 41\r\n\r\nabcd"+smuggled)
	})
	t.Run("Content-Length list", func(t *testing.T) {
		check(t, "POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: 4, 41\r\n\r\nabcd"+smuggled)
	})
	t.Run("Content-Length plus sign", func(t *testing.T) {
		check(t, "POST /front HTTP/1.1\r\nHost: x\r\nContent-Length: +4\r\n\r\nabcd"+smuggled)
	})
	t.Run("obfuscated TE alone", func(t *testing.T) {
		check(t, "POST /front HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: xchunked\r\n\r\n0\r\n\r\n"+smuggled)
	})
	t.Run("TE in HTTP/1.0", func(t *testing.T) {
		check(t, "POST /front HTTP/1.0\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"+smuggled)
	})

	httpExpectOK(t, s, "/after")
	_, seen := httpGet(t, s.URL("/seen"))
	if strings.Contains(string(seen), "/smuggled") {
		t.Fatalf("a smuggled request reached the app; it saw:\n%s", seen)
	}
	if strings.Contains(string(seen), "/front") {
		t.Errorf("the app ran for a rejected smuggling shape; it saw:\n%s", seen)
	}
}
