package httpfront

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// chunkedTests drive TestChunkedReader and seed FuzzChunkedReader. With
// status 0 the body must decode to body with the given trailers and leave
// rest unread; otherwise Read must fail with that status (-1: a plain
// error such as io.ErrUnexpectedEOF).
var chunkedTests = []struct {
	name     string
	raw      string
	maxLine  int
	status   int
	body     string
	trailers []string
	rest     string
}{
	{name: "one chunk", raw: "5\r\nhello\r\n0\r\n\r\n", body: "hello"},
	{name: "empty body", raw: "0\r\n\r\n", body: ""},
	{name: "two chunks", raw: "5\r\nhello\r\n6\r\n world\r\n000\r\n\r\n", body: "hello world"},
	{name: "uppercase hex", raw: "A\r\n0123456789\r\n0\r\n\r\n", body: "0123456789"},
	{name: "lowercase hex", raw: "a\r\n0123456789\r\n0\r\n\r\n", body: "0123456789"},
	{name: "leading zeros", raw: "0005\r\nhello\r\n0\r\n\r\n", body: "hello"},
	{name: "many leading zeros", raw: strings.Repeat("0", 40) + "5\r\nhello\r\n0\r\n\r\n", body: "hello"},
	{name: "rest left unread", raw: "1\r\nx\r\n0\r\n\r\nGET / HTTP/1.1\r\n", body: "x", rest: "GET / HTTP/1.1\r\n"},
	{name: "extensions", raw: "5; some; parameters=stuff\r\nhello\r\n6; blahblah; blah\r\n world\r\n0\r\n\r\n", body: "hello world"},
	{name: "quoted extension", raw: "5;foo=\"bar baz\"\r\nhello\r\n0;x=\"a\\\"b\"\r\n\r\n", body: "hello"},
	{name: "BWS before extension", raw: "5 ;a=b\r\nhello\r\n0\t; a = b\r\n\r\n", body: "hello"},
	{name: "trailers", raw: "5\r\nhello\r\n0\r\nVary: *\r\nContent-Type:  text/plain \r\n\r\n", body: "hello",
		trailers: []string{"Vary", "*", "Content-Type", "text/plain"}},
	{name: "underscore trailer dropped", raw: "0\r\nX_Y: 1\r\nX-Y: 2\r\n\r\n", trailers: []string{"X-Y", "2"}},
	{name: "binary data", raw: "4\r\n\r\n\x00\xff\r\n0\r\n\r\n", body: "\r\n\x00\xff"},

	{name: "underscore in size", raw: "6_0\r\n world\r\n0\r\n\r\n", status: 400},
	{name: "minus sign", raw: "-5\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "plus sign", raw: "+5\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "0x prefix", raw: "0x5\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "OWS without extension", raw: "5\r\nhello\r\n0 \r\n\r\n", status: 400, body: "hello"},
	{name: "OWS before size", raw: "5\r\nhello\r\n 0\r\n\r\n", status: 400, body: "hello"},
	{name: "bare LF after size", raw: "5\n;\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "no size but extension", raw: " ;foo=bar\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "empty size line", raw: "\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "bare CR in extension", raw: "5;ext=val\rue\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "NUL in extension", raw: "5;ext=a\x00\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension without name", raw: "5;=x\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension unterminated quote", raw: "5;a=\"x\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "extension bad value", raw: "5;a=\r\nhello\r\n0\r\n\r\n", status: 400},
	{name: "16 significant digits", raw: "1000000000000000\r\n", status: 400},
	{name: "15 significant digits", raw: "fffffffffffffff\r\nab", status: -1, body: "ab"},
	{name: "data not followed by CRLF", raw: "5\r\nhelloX\r\n0\r\n\r\n", status: 400, body: "hello"},
	{name: "data followed by LF", raw: "5\r\nhello\n0\r\n\r\n", status: 400, body: "hello"},
	{name: "size line too long", raw: "5;" + strings.Repeat("a", 30) + "\r\nhello\r\n0\r\n\r\n", maxLine: 16, status: 400},
	{name: "trailer line too long", raw: "0\r\nX: " + strings.Repeat("a", 30) + "\r\n\r\n", maxLine: 16, status: 400},
	{name: "too many trailers", raw: "0\r\n" + strings.Repeat("A: 1\r\n", maxTrailers+1) + "\r\n", status: 400},
	{name: "trailers past the head's bytes", raw: "0\r\n" + strings.Repeat("X: "+strings.Repeat("a", 8000)+"\r\n", 9) + "\r\n", status: 400},
	{name: "trailers within the head's bytes", raw: "0\r\n" + strings.Repeat("X: "+strings.Repeat("a", 8000)+"\r\n", 8) + "\r\n",
		trailers: bigTrailers(8, 8000)},
	{name: "trailers past twice a long field", raw: "0\r\n" + strings.Repeat("X: "+strings.Repeat("a", 30000)+"\r\n", 5) + "\r\n",
		maxLine: 32768, status: 400},
	{name: "trailer Content-Length", raw: "5\r\nhello\r\n0\r\nContent-Length: 99\r\n\r\n", status: 400, body: "hello"},
	{name: "trailer Host", raw: "0\r\nhost: evil\r\n\r\n", status: 400},
	{name: "trailer Transfer-Encoding", raw: "0\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400},
	{name: "trailer Connection", raw: "0\r\nConnection: close\r\n\r\n", status: 400},
	{name: "trailer obs-fold", raw: "0\r\nX: a\r\n b\r\n\r\n", status: 400},
	{name: "trailer space before colon", raw: "0\r\nX : a\r\n\r\n", status: 400},
	{name: "trailer CTL in value", raw: "0\r\nX: a\x01\r\n\r\n", status: 400},
	{name: "trailer bare LF", raw: "0\r\nX: a\n\r\n", status: 400},
	{name: "missing final CRLF", raw: "0\r\n", status: -1},
	{name: "truncated data", raw: "5\r\nhel", status: -1, body: "hel"},
	{name: "truncated size", raw: "5", status: -1},
	{name: "empty stream", raw: "", status: -1},
}

// bigTrailers is n trailer fields "X" of size bytes each, as Trailers
// gives them in chunkedTests.
func bigTrailers(n, size int) []string {
	var out []string
	for range n {
		out = append(out, "X", strings.Repeat("a", size))
	}
	return out
}

func TestChunkedReader(t *testing.T) {
	for _, tt := range chunkedTests {
		t.Run(tt.name, func(t *testing.T) {
			for _, mode := range []string{"whole", "bytewise"} {
				var r io.Reader = strings.NewReader(tt.raw)
				if mode == "bytewise" {
					r = iotest.OneByteReader(r)
				}
				br := bufio.NewReaderSize(r, 16)
				cr := NewChunkedReader(br, tt.maxLine)
				body, err := io.ReadAll(cr)
				if string(body) != tt.body {
					t.Fatalf("%s: body %q, want %q", mode, body, tt.body)
				}
				if got := statusOf(err); got != tt.status {
					t.Fatalf("%s: status %d (err %v), want %d", mode, got, err, tt.status)
				}
				if err != nil {
					if _, err2 := cr.Read(make([]byte, 1)); err2 != err {
						t.Fatalf("%s: error not sticky: %v then %v", mode, err, err2)
					}
					continue
				}
				var got []string
				for _, h := range cr.Trailers() {
					got = append(got, string(h.Name), string(h.Value))
				}
				if fmt.Sprintf("%q", got) != fmt.Sprintf("%q", tt.trailers) {
					t.Fatalf("%s: trailers %q, want %q", mode, got, tt.trailers)
				}
				rest, _ := io.ReadAll(br)
				if string(rest) != tt.rest {
					t.Fatalf("%s: rest %q, want %q", mode, rest, tt.rest)
				}
			}
		})
	}
}

func TestChunkedReaderErrors(t *testing.T) {
	cr := NewChunkedReader(bufio.NewReader(strings.NewReader("5\r\nhel")), 0)
	if _, err := io.ReadAll(cr); err != io.ErrUnexpectedEOF {
		t.Fatalf("truncated body: %v, want io.ErrUnexpectedEOF", err)
	}
	r := io.MultiReader(strings.NewReader("5\r\n"), iotest.ErrReader(timeoutErr{}))
	cr.Reset(bufio.NewReader(r))
	if _, err := io.ReadAll(cr); !errors.Is(err, timeoutErr{}) {
		t.Fatalf("read error: %v, want a wrapped timeoutErr", err)
	}
}

func TestChunkedReaderReset(t *testing.T) {
	raw := "3\r\nabc\r\n0\r\nX: 1\r\n\r\n" + "2\r\nde\r\n0\r\n\r\n"
	br := bufio.NewReader(strings.NewReader(raw))
	cr := NewChunkedReader(br, 0)
	for i, want := range []string{"abc", "de"} {
		body, err := io.ReadAll(cr)
		if err != nil || string(body) != want {
			t.Fatalf("body %d: %q, %v", i, body, err)
		}
		if n := len(cr.Trailers()); n != 1-i {
			t.Fatalf("body %d: %d trailers", i, n)
		}
		cr.Reset(br)
	}
	buf := make([]byte, 8)
	if n, err := cr.Read(buf[:0]); n != 0 || err != nil {
		t.Fatalf("empty read: %d, %v", n, err)
	}
}

func TestChunkedReaderZeroAllocs(t *testing.T) {
	body := "5\r\nhello\r\n6;x=y\r\n world\r\n0\r\nA: b\r\n\r\n"
	br := bufio.NewReader(&loopReader{data: body})
	cr := NewChunkedReader(br, 0)
	buf := make([]byte, 64)
	drain := func() {
		cr.Reset(br)
		for {
			if _, err := cr.Read(buf); err == io.EOF {
				return
			} else if err != nil {
				t.Fatal(err)
			}
		}
	}
	drain()
	if allocs := testing.AllocsPerRun(1000, drain); allocs != 0 {
		t.Fatalf("%v allocations per body, want 0", allocs)
	}
}

// A connection's reader does not keep a large trailer section between
// requests: an idle keep-alive connection would hold it for good.
func TestChunkedReaderResetDropsLargeTrailers(t *testing.T) {
	raw := "0\r\n" + strings.Repeat("X: "+strings.Repeat("a", 8000)+"\r\n", 8) + "\r\n"
	cr := NewChunkedReader(bufio.NewReader(strings.NewReader(raw)), 0)
	if _, err := io.ReadAll(cr); err != nil {
		t.Fatal(err)
	}
	if len(cr.Trailers()) != 8 {
		t.Fatalf("%d trailers, want 8", len(cr.Trailers()))
	}
	cr.Reset(bufio.NewReader(strings.NewReader("0\r\nA: 1\r\n\r\n")))
	if cap(cr.trailer) > keepTrailer {
		t.Fatalf("after Reset the trailer buffer keeps %d bytes, want at most %d", cap(cr.trailer), keepTrailer)
	}
	if _, err := io.ReadAll(cr); err != nil || len(cr.Trailers()) != 1 {
		t.Fatalf("the next body: %v, %d trailers", err, len(cr.Trailers()))
	}
}
