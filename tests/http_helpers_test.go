package tests

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// httpResp is one HTTP response read off a raw connection, with the framing
// kept so tests can check the bytes the server put on the wire.
type httpResp struct {
	Proto   string // "HTTP/1.1"
	Status  int
	Head    string      // status line and header lines, CRLFs included
	Header  http.Header // canonical keys
	Body    []byte      // decoded body
	RawBody []byte      // body bytes as sent (chunk framing included)
	Chunked bool        // Transfer-Encoding: chunked
	ToEOF   bool        // body was delimited by the connection closing
}

// readResponse reads one response for a request with the given method.
// It follows the framing the server announced: no body for HEAD, 1xx, 204
// and 304; chunked; Content-Length; otherwise until EOF.
func httpReadResponse(br *bufio.Reader, method string) (*httpResp, error) {
	r := &httpResp{Header: http.Header{}}
	var head strings.Builder
	line, err := br.ReadString('\n')
	if err != nil {
		return nil, fmt.Errorf("status line: %w (got %q)", err, line)
	}
	head.WriteString(line)
	parts := strings.SplitN(strings.TrimRight(line, "\r\n"), " ", 3)
	if len(parts) < 2 || !strings.HasSuffix(line, "\r\n") {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	r.Proto = parts[0]
	if r.Status, err = strconv.Atoi(parts[1]); err != nil {
		return nil, fmt.Errorf("bad status line %q", line)
	}
	for {
		line, err = br.ReadString('\n')
		if err != nil {
			return nil, fmt.Errorf("header: %w (head so far %q)", err, head.String()+line)
		}
		head.WriteString(line)
		if line == "\r\n" {
			break
		}
		k, v, ok := strings.Cut(strings.TrimRight(line, "\r\n"), ":")
		if !ok || !strings.HasSuffix(line, "\r\n") {
			return nil, fmt.Errorf("bad header line %q", line)
		}
		r.Header.Add(textproto.CanonicalMIMEHeaderKey(k), strings.TrimSpace(v))
	}
	r.Head = head.String()
	if method == "HEAD" || r.Status/100 == 1 || r.Status == 204 || r.Status == 304 {
		return r, nil
	}
	switch {
	case strings.EqualFold(r.Header.Get("Transfer-Encoding"), "chunked"):
		r.Chunked = true
		err = httpReadChunked(br, r)
	case r.Header.Get("Content-Length") != "":
		n, perr := strconv.ParseInt(r.Header.Get("Content-Length"), 10, 64)
		if perr != nil {
			return r, fmt.Errorf("bad Content-Length %q", r.Header.Get("Content-Length"))
		}
		r.Body = make([]byte, n)
		_, err = io.ReadFull(br, r.Body)
		r.RawBody = r.Body
	default:
		r.ToEOF = true
		r.Body, err = io.ReadAll(br)
		r.RawBody = r.Body
	}
	return r, err
}

// readChunked reads a chunked body (and its trailer section) into r.
func httpReadChunked(br *bufio.Reader, r *httpResp) error {
	var raw, body bytes.Buffer
	for {
		line, err := br.ReadString('\n')
		raw.WriteString(line)
		if err != nil {
			r.RawBody, r.Body = raw.Bytes(), body.Bytes()
			return fmt.Errorf("chunk size: %w", err)
		}
		sz, _, _ := strings.Cut(strings.TrimRight(line, "\r\n"), ";")
		n, err := strconv.ParseInt(strings.TrimSpace(sz), 16, 64)
		if err != nil {
			return fmt.Errorf("bad chunk size line %q", line)
		}
		if n == 0 {
			for {
				line, err = br.ReadString('\n')
				raw.WriteString(line)
				if err != nil || line == "\r\n" {
					r.RawBody, r.Body = raw.Bytes(), body.Bytes()
					return err
				}
			}
		}
		chunk := make([]byte, n+2)
		if _, err := io.ReadFull(br, chunk); err != nil {
			r.RawBody, r.Body = raw.Bytes(), body.Bytes()
			return fmt.Errorf("chunk data: %w", err)
		}
		raw.Write(chunk)
		if !bytes.HasSuffix(chunk, []byte("\r\n")) {
			return fmt.Errorf("chunk of %d bytes not followed by CRLF", n)
		}
		body.Write(chunk[:n])
	}
}

// httpConn is a raw client connection with a reader on it.
type httpConn struct {
	t  testing.TB
	c  net.Conn
	br *bufio.Reader
}

// httpOpen dials the server for test t (which may be a subtest of the one that
// started the server).
func httpOpen(t testing.TB, s *server) *httpConn {
	t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	t.Cleanup(func() { c.Close() })
	return &httpConn{t: t, c: c, br: bufio.NewReader(c)}
}

// send writes s verbatim in one write.
func (c *httpConn) send(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("write: %v", err)
	}
}

// resp reads one response, failing the test on error.
func (c *httpConn) resp(method string) *httpResp {
	c.t.Helper()
	r, err := httpReadResponse(c.br, method)
	if err != nil {
		c.t.Fatalf("reading response to %s: %v", method, err)
	}
	return r
}

// roundTrip sends a request and reads its response.
func (c *httpConn) roundTrip(method, req string) *httpResp {
	c.t.Helper()
	c.send(req)
	return c.resp(method)
}

// closedWithin waits up to d for the server to close the connection and
// returns how long that took; anything it sends first is returned too.
func (c *httpConn) closedWithin(d time.Duration) (time.Duration, []byte, bool) {
	start := time.Now()
	c.c.SetReadDeadline(start.Add(d))
	defer c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	data, err := io.ReadAll(c.br)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return time.Since(start), data, false
	}
	return time.Since(start), data, true
}

// httpGet is a simple GET through net/http (bounded, see wsgiClient),
// failing the test on transport errors.
func httpGet(t testing.TB, url string) (*http.Response, []byte) {
	t.Helper()
	resp, err := wsgiClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s body: %v", url, err)
	}
	return resp, body
}

// httpDo runs req (bounded, see wsgiClient), failing the test on transport errors.
func httpDo(t testing.TB, req *http.Request) (*http.Response, []byte) {
	t.Helper()
	resp, err := wsgiClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s body: %v", req.Method, req.URL, err)
	}
	return resp, body
}

// httpExpectOK checks that a fresh connection still gets a 200 from the server.
func httpExpectOK(t testing.TB, s *server, path string) {
	t.Helper()
	c := httpOpen(t, s)
	r := c.roundTrip("GET", "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
	if r.Status != 200 {
		t.Fatalf("GET %s on a fresh connection: status %d, want 200\n%s", path, r.Status, r.Head)
	}
}

// httpPiece is the 64 KiB pattern testdata/apps/http_stream sends and the
// upload tests send: bytes 0..255 repeated.
var httpPiece = func() []byte {
	b := make([]byte, 64<<10)
	for i := range b {
		b[i] = byte(i)
	}
	return b
}()

// httpPattern yields n bytes of httpPiece, repeated.
type httpPattern struct{ left, off int64 }

func httpNewPattern(n int64) *httpPattern { return &httpPattern{left: n} }

func (p *httpPattern) Read(b []byte) (int, error) {
	if p.left == 0 {
		return 0, io.EOF
	}
	if int64(len(b)) > p.left {
		b = b[:p.left]
	}
	n := 0
	for n < len(b) {
		k := copy(b[n:], httpPiece[p.off:])
		n += k
		p.off = (p.off + int64(k)) % int64(len(httpPiece))
	}
	p.left -= int64(n)
	return n, nil
}

// httpPatternSHA is the hex sha256 of n bytes of the pattern.
func httpPatternSHA(n int64) string {
	h := sha256.New()
	io.Copy(h, httpNewPattern(n))
	return hex.EncodeToString(h.Sum(nil))
}

// httpRSSKB is the resident set of pid and all its descendants, in KiB, so the
// number stays right whether carafe serves in-process or from workers.
func httpRSSKB(pid int) int64 {
	total := int64(0)
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if f := strings.Fields(line); len(f) >= 2 && f[0] == "VmRSS:" {
				n, _ := strconv.ParseInt(f[1], 10, 64)
				total += n
			}
		}
	}
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, f := range tasks {
		b, _ := os.ReadFile(f)
		for _, c := range strings.Fields(string(b)) {
			if cpid, err := strconv.Atoi(c); err == nil {
				total += httpRSSKB(cpid)
			}
		}
	}
	return total
}

// httpRSSWatch samples httpRSSKB(pid) until stop is called and returns the peak.
func httpRSSWatch(pid int) (stop func() int64) {
	done := make(chan struct{})
	peak := make(chan int64, 1)
	go func() {
		max := httpRSSKB(pid)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-done:
				if n := httpRSSKB(pid); n > max {
					max = n
				}
				peak <- max
				return
			case <-tick.C:
				if n := httpRSSKB(pid); n > max {
					max = n
				}
			}
		}
	}()
	return func() int64 { close(done); return <-peak }
}

// httpMultipart builds a multipart/form-data body with one file field
// "file" and one text field "note"; it returns the body and content type.
func httpMultipart(filename string, file []byte, note string) ([]byte, string) {
	const boundary = "carafe-test-boundary-7d3f"
	var b bytes.Buffer
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"note\"\r\n\r\n%s\r\n", boundary, note)
	fmt.Fprintf(&b, "--%s\r\nContent-Disposition: form-data; name=\"file\"; filename=%q\r\n"+
		"Content-Type: application/octet-stream\r\n\r\n", boundary, filename)
	b.Write(file)
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), "multipart/form-data; boundary=" + boundary
}

// httpChunkedReader hides the length of r so net/http sends it chunked.
type httpChunkedReader struct{ r io.Reader }

func (c httpChunkedReader) Read(b []byte) (int, error) { return c.r.Read(b) }

// httpHexSHA is the hex sha256 of b.
func httpHexSHA(b []byte) string {
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:])
}
