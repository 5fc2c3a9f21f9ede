package tests

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// httpChunkedInfo is what testdata/apps/http_chunked_in reports.
type httpChunkedInfo struct {
	ContentLength   *string `json:"content_length"`
	TransferEnc     *string `json:"transfer_encoding"`
	InputTerminated bool    `json:"input_terminated"`
	Len             int     `json:"len"`
	SHA256          string  `json:"sha256"`
	Again           int     `json:"again"`
}

// A chunked request body reaches the app whole through wsgi.input.read(),
// with wsgi.input_terminated set. carafe buffers it, so CONTENT_LENGTH is
// exactly the decoded length (Django trusts only CONTENT_LENGTH), and the
// framing it undid is not in the environ (no HTTP_TRANSFER_ENCODING), as
// behind nginx's uwsgi_pass: Flask's request.content_length is the same
// number over either listener.
func TestHTTPChunkedRequestBody(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_chunked_in")

	many := strings.Repeat("1\r\nx\r\n", 1000)
	tests := []struct {
		name, body, want string
	}{
		{"two chunks", "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n", "hello world"},
		{"uppercase hex", "A\r\n0123456789\r\n0\r\n\r\n", "0123456789"},
		{"extensions", "5;name=value\r\nhello\r\n0;last\r\n\r\n", "hello"},
		{"trailer", "5\r\nhello\r\n0\r\nX-Checksum: abc\r\n\r\n", "hello"},
		{"empty", "0\r\n\r\n", ""},
		{"thousand one-byte chunks", many + "0\r\n\r\n", strings.Repeat("x", 1000)},
		{"binary", "4\r\n\x00\r\n\xff\r\n0\r\n\r\n", "\x00\r\n\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := httpOpen(t, s)
			req := "POST /in HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + tt.body
			// A pipelined request after the body proves the body's end was found.
			c.send(req + "POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc")
			r := c.resp("POST")
			if r.Status != 200 {
				t.Fatalf("status %d: %s", r.Status, r.Body)
			}
			var info httpChunkedInfo
			if err := json.Unmarshal(r.Body, &info); err != nil {
				t.Fatalf("%v: %s", err, r.Body)
			}
			if info.Len != len(tt.want) || info.SHA256 != httpHexSHA([]byte(tt.want)) {
				t.Errorf("app read %d bytes (sha %s), want %d", info.Len, info.SHA256, len(tt.want))
			}
			if !info.InputTerminated {
				t.Errorf("wsgi.input_terminated not True for a chunked body")
			}
			if info.Again != 0 {
				t.Errorf("a second read() after EOF returned %d bytes", info.Again)
			}
			if info.ContentLength == nil || *info.ContentLength != fmt.Sprint(len(tt.want)) {
				t.Errorf("CONTENT_LENGTH %v for a chunked body of %d bytes", info.ContentLength, len(tt.want))
			}
			if info.TransferEnc != nil {
				t.Errorf("HTTP_TRANSFER_ENCODING %q in the environ, want none", *info.TransferEnc)
			}
			r = c.resp("POST")
			if err := json.Unmarshal(r.Body, &info); err != nil || info.Len != 3 {
				t.Fatalf("pipelined request after the chunked body: %d %s", r.Status, r.Body)
			}
		})
	}
}

// A malformed chunked body is an error (4xx, or 5xx if the app saw the read
// fail), and the connection is closed so the rest is never parsed as a request.
func TestHTTPChunkedRequestMalformed(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count")
	tests := []struct{ name, body string }{
		{"bad hex", "zz\r\nhello\r\n0\r\n\r\n"},
		{"missing CRLF after data", "5\r\nhelloXX0\r\n\r\n"},
		{"size overflow", "ffffffffffffffffffffff\r\nx\r\n0\r\n\r\n"},
		{"negative size", "-5\r\nhello\r\n0\r\n\r\n"},
		{"size with space", "5 5\r\nhello\r\n0\r\n\r\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := httpOpen(t, s)
			c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
			c.send("POST /malformed HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n" + tt.body +
				"GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n")
			r, err := httpReadResponse(c.br, "POST")
			if err == nil && r.Status < 400 {
				t.Fatalf("malformed chunked body accepted: %d %q", r.Status, r.Body)
			}
			if _, _, closed := c.closedWithin(3 * time.Second); !closed {
				t.Fatalf("connection left open after a malformed chunked body")
			}
		})
	}
	httpExpectOK(t, s, "/after")
	_, seen := httpGet(t, s.URL("/seen"))
	if strings.Contains(string(seen), "/smuggled") {
		t.Fatalf("a request after a malformed chunked body was executed; app saw:\n%s", seen)
	}
}
