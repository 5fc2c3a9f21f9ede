package httpfront

import (
	"bufio"
	"bytes"
	"carafe/internal/httpsyntax"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"testing/iotest"
)

// corpusRaws returns the conformance corpus request streams, if present.
func corpusRaws() [][]byte {
	dir := corpusDir()
	if dir == "" {
		return nil
	}
	paths, _ := filepath.Glob(filepath.Join(dir, "*", "*.raw"))
	var raws [][]byte
	for _, p := range paths {
		if b, err := os.ReadFile(p); err == nil {
			raws = append(raws, b)
		}
	}
	return raws
}

func FuzzReadRequest(f *testing.F) {
	for _, tt := range parseTests {
		f.Add([]byte(tt.raw))
	}
	for _, raw := range corpusRaws() {
		f.Add(raw)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := replayStream(t, bufio.NewReader(bytes.NewReader(data)))
		bytewise := replayStream(t, bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16))
		if whole != bytewise {
			t.Fatalf("feeding changes the result:\nwhole:    %s\nbytewise: %s", whole, bytewise)
		}
	})
}

// replayStream parses up to a few requests with their bodies, checks the
// invariants of each accepted head, and summarises what it saw.
func replayStream(t *testing.T, br *bufio.Reader) string {
	var (
		req Request
		out bytes.Buffer
	)
	cr := NewChunkedReader(br, 0)
	for range 4 {
		err := ReadRequest(br, nil, &req)
		if err != nil {
			fmt.Fprintf(&out, "err %v", err)
			return out.String()
		}
		checkInvariants(t, &req)
		fmt.Fprintf(&out, "%q %q %q %q %d.%d cl=%d ch=%v ka=%v host=%q hdrs=%d; ",
			req.Method, req.Target, req.Path, req.Query, req.Major, req.Minor,
			req.ContentLength, req.Chunked, req.KeepAlive, req.Host, len(req.Headers))
		var n int64
		switch {
		case req.Chunked:
			cr.Reset(br)
			n, err = io.Copy(io.Discard, cr)
		case req.ContentLength > 0:
			n, err = io.CopyN(io.Discard, br, req.ContentLength)
		}
		fmt.Fprintf(&out, "body %d %v; ", n, err)
		if err != nil || !req.KeepAlive {
			break
		}
	}
	return out.String()
}

func checkInvariants(t *testing.T, req *Request) {
	t.Helper()
	if !validMethod(req.Method) {
		t.Fatalf("accepted method %q", req.Method)
	}
	if len(req.Target) == 0 || bytes.ContainsAny(req.Target, " \r\n\x00") {
		t.Fatalf("accepted target %q", req.Target)
	}
	if req.Major != 1 || req.Minor > 1 {
		t.Fatalf("accepted version %d.%d", req.Major, req.Minor)
	}
	if req.ContentLength < -1 || (req.Chunked && req.ContentLength >= 0) {
		t.Fatalf("ContentLength %d with Chunked %v", req.ContentLength, req.Chunked)
	}
	if req.Chunked && req.Minor == 0 {
		t.Fatal("chunked HTTP/1.0 request accepted")
	}
	if req.Minor == 1 && req.Host == nil {
		t.Fatal("HTTP/1.1 request without Host accepted")
	}
	for _, h := range req.Headers {
		if !httpsyntax.IsToken(h.Name) || bytes.IndexByte(h.Name, '_') >= 0 {
			t.Fatalf("accepted field name %q", h.Name)
		}
		for _, c := range h.Value {
			if !httpsyntax.IsFieldVchar(c) {
				t.Fatalf("accepted field value %q", h.Value)
			}
		}
		if len(h.Value) > 0 && (h.Value[0] == ' ' || h.Value[len(h.Value)-1] == '\t') {
			t.Fatalf("untrimmed field value %q", h.Value)
		}
	}
}

func FuzzChunkedReader(f *testing.F) {
	for _, tt := range chunkedTests {
		f.Add([]byte(tt.raw))
	}
	for _, raw := range corpusRaws() {
		if i := bytes.Index(raw, []byte("\r\n\r\n")); i >= 0 {
			f.Add(raw[i+4:])
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		whole := decodeChunked(t, data, bufio.NewReader(bytes.NewReader(data)))
		bytewise := decodeChunked(t, data, bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16))
		if whole != bytewise {
			t.Fatalf("feeding changes the result:\nwhole:    %s\nbytewise: %s", whole, bytewise)
		}
	})
}

func decodeChunked(t *testing.T, data []byte, br *bufio.Reader) string {
	cr := NewChunkedReader(br, 64)
	buf := make([]byte, 7)
	var body []byte
	var err error
	for err == nil {
		var n int
		n, err = cr.Read(buf)
		if n < 0 || n > len(buf) {
			t.Fatalf("Read returned %d", n)
		}
		body = append(body, buf[:n]...)
	}
	if len(body) > len(data) {
		t.Fatalf("decoded %d bytes from %d", len(body), len(data))
	}
	if err == io.EOF {
		// A body ends with at least "0\r\n\r\n", and each chunk costs
		// at least three framing bytes on top of its data.
		if len(body)+5 > len(data) {
			t.Fatalf("decoded %d bytes from %d with framing", len(body), len(data))
		}
		for _, h := range cr.Trailers() {
			if forbiddenTrailer(h.Name) || !httpsyntax.IsToken(h.Name) {
				t.Fatalf("accepted trailer %q", h.Name)
			}
		}
	}
	if _, ok := err.(*Error); err != io.EOF && err != io.ErrUnexpectedEOF && !ok {
		t.Fatalf("unexpected error type %T: %v", err, err)
	}
	return fmt.Sprintf("%q %v %d", body, err, len(cr.Trailers()))
}
