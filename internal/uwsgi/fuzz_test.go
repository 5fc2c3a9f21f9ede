package uwsgi

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"testing"
	"testing/iotest"
)

func FuzzReadRequest(f *testing.F) {
	for _, tt := range readTests {
		f.Add([]byte(tt.raw), uint16(tt.bufferSize))
	}
	for _, name := range []string{"nginx-get.bin", "nginx-post.bin", "nginx-modifier30.bin"} {
		raw := readTestdata(f, name)
		f.Add(raw, uint16(0))
		f.Add(append(append([]byte(nil), raw...), raw...), uint16(512))
	}
	f.Fuzz(func(t *testing.T, data []byte, bufferSize uint16) {
		whole := replayStream(t, bufio.NewReader(bytes.NewReader(data)), int(bufferSize))
		bytewise := replayStream(t, bufio.NewReaderSize(iotest.OneByteReader(bytes.NewReader(data)), 16), int(bufferSize))
		if whole != bytewise {
			t.Fatalf("feeding changes the result:\nwhole:    %s\nbytewise: %s", whole, bytewise)
		}
	})
}

// replayStream reads up to a few packets with their bodies, as the server
// does, checks each accepted one, and summarises what it saw.
func replayStream(t *testing.T, br *bufio.Reader, bufferSize int) string {
	var (
		req Request
		out bytes.Buffer
	)
	for range 4 {
		atStart := br.Buffered() == 0
		if atStart {
			_, err := br.Peek(1)
			atStart = err == io.EOF
		}
		err := ReadRequest(br, bufferSize, &req)
		if err != nil {
			checkError(t, err, atStart)
			fmt.Fprintf(&out, "err %v", err)
			return out.String()
		}
		checkRequest(t, &req, bufferSize)
		fmt.Fprintf(&out, "%+v %q cl=%d; ", req.Header, pairs(req.Vars), req.ContentLength)
		if n, _ := br.Discard(int(min(req.ContentLength, 1<<20))); int64(n) < req.ContentLength {
			out.WriteString("short body")
			return out.String()
		}
	}
	return out.String()
}

// checkError: a bytes.Reader only ends, so every error is the packet's.
func checkError(t *testing.T, err error, atStart bool) {
	t.Helper()
	var e *Error
	switch {
	case err == io.EOF:
		if !atStart {
			t.Fatal("io.EOF after the first byte of a packet")
		}
	case err == ErrTruncated:
		if atStart {
			t.Fatal("ErrTruncated for an empty stream")
		}
	case errors.As(err, &e):
		if e.Kind < ErrMalformed || e.Kind > ErrBadContentLength || e.Msg == "" {
			t.Fatalf("bad *Error %#v", e)
		}
	default:
		t.Fatalf("unexpected error %T %v", err, err)
	}
}

// checkRequest verifies an accepted packet's invariants, then that
// AppendRequest re-encodes it into a packet that parses the same.
func checkRequest(t *testing.T, req *Request, bufferSize int) {
	t.Helper()
	if m := req.Header.Modifier1; m != ModifierWSGI && m != ModifierManagePathInfo {
		t.Fatalf("accepted modifier1 %d", m)
	}
	if bufferSize == 0 {
		bufferSize = DefaultBufferSize
	}
	if int(req.Header.Size) > bufferSize {
		t.Fatalf("accepted a %d-byte block with buffer-size %d", req.Header.Size, bufferSize)
	}
	size := 0
	for _, v := range req.Vars {
		if len(v.Key) == 0 {
			t.Fatal("accepted an empty name")
		}
		size += 4 + len(v.Key) + len(v.Value)
	}
	if size != int(req.Header.Size) {
		t.Fatalf("vars cover %d bytes of a %d-byte block", size, req.Header.Size)
	}
	if req.ContentLength < 0 {
		t.Fatalf("ContentLength %d", req.ContentLength)
	}
	if cl, ok := req.Get("CONTENT_LENGTH"); ok {
		if n, _ := parseContentLength(cl); n != req.ContentLength {
			t.Fatalf("ContentLength %d, CONTENT_LENGTH %q", req.ContentLength, cl)
		}
	} else if req.ContentLength != 0 {
		t.Fatalf("ContentLength %d without CONTENT_LENGTH", req.ContentLength)
	}

	raw := AppendRequest(nil, req.Header.Modifier1, req.Vars)
	var again Request
	if err := ReadRequest(bufio.NewReader(bytes.NewReader(raw)), MaxBufferSize, &again); err != nil {
		t.Fatalf("re-encoded packet refused: %v", err)
	}
	if again.Header.Modifier1 != req.Header.Modifier1 || again.Header.Size != req.Header.Size ||
		again.ContentLength != req.ContentLength || !equalStrings(pairs(again.Vars), pairs(req.Vars)) {
		t.Fatalf("round trip changed the request:\n%+v %q\n%+v %q", req.Header, pairs(req.Vars), again.Header, pairs(again.Vars))
	}
}

func FuzzStripScriptName(f *testing.F) {
	for _, s := range []struct{ script, path string }{
		{"/app", "/app/x"}, {"/app", "/app"}, {"/app", "/application"}, {"/app/", "/app/x"},
		{"/", "/x"}, {"", ""}, {"/a/b", "/a/b/c"}, {"//", "//x"},
	} {
		f.Add([]byte(s.script), []byte(s.path))
	}
	f.Fuzz(func(t *testing.T, script, path []byte) {
		got := StripScriptName(script, path)
		if !bytes.HasSuffix(path, got) {
			t.Fatalf("result %q is not a suffix of %q", got, path)
		}
		if len(got) == len(path) {
			return
		}
		// Something was stripped: a whole SCRIPT_NAME, ending on a segment
		// boundary, leaving an absolute path or nothing.
		stripped := path[:len(path)-len(got)]
		if len(got) > 0 && got[0] != '/' {
			t.Fatalf("StripScriptName(%q, %q) = %q, not absolute", script, path, got)
		}
		if string(bytes.TrimRight(script, "/")) != string(stripped) || len(stripped) == 0 {
			t.Fatalf("StripScriptName(%q, %q) stripped %q", script, path, stripped)
		}
	})
}
