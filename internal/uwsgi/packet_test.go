package uwsgi

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"strings"
	"testing"
	"testing/iotest"
)

// kv builds Vars from alternating names and values.
func kv(pairs ...string) []Var {
	vars := make([]Var, 0, len(pairs)/2)
	for i := 0; i+1 < len(pairs); i += 2 {
		vars = append(vars, Var{Key: []byte(pairs[i]), Value: []byte(pairs[i+1])})
	}
	return vars
}

// pkt encodes a packet from alternating names and values.
func pkt(modifier1 uint8, pairs ...string) string {
	return string(AppendRequest(nil, modifier1, kv(pairs...)))
}

// hdr encodes a bare header; block is the raw var block that follows.
func hdr(modifier1 uint8, size int, modifier2 uint8, block string) string {
	return string([]byte{modifier1, byte(size), byte(size >> 8), modifier2}) + block
}

// str16 is one length-prefixed string of a var block.
func str16(s string) string {
	return string(binary.LittleEndian.AppendUint16(nil, uint16(len(s)))) + s
}

// nginxParams is what "include uwsgi_params;" sends for a GET over TLS, in
// its order, then the request headers as HTTP_* variables.
var nginxParams = []string{
	"QUERY_STRING", "page=2&sort=name",
	"REQUEST_METHOD", "GET",
	"CONTENT_TYPE", "",
	"CONTENT_LENGTH", "",
	"REQUEST_URI", "/items/?page=2&sort=name",
	"PATH_INFO", "/items/",
	"DOCUMENT_ROOT", "/srv/www/example",
	"SERVER_PROTOCOL", "HTTP/1.1",
	"REQUEST_SCHEME", "https",
	"HTTPS", "on",
	"REMOTE_ADDR", "203.0.113.7",
	"REMOTE_PORT", "51334",
	"SERVER_PORT", "443",
	"SERVER_NAME", "example.com",
	"HTTP_HOST", "example.com",
	"HTTP_USER_AGENT", "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
	"HTTP_ACCEPT", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
	"HTTP_ACCEPT_LANGUAGE", "en-GB,en;q=0.5",
	"HTTP_ACCEPT_ENCODING", "gzip, deflate, br, zstd",
	"HTTP_COOKIE", "session=eyJ1c2VyIjo0Mn0.ZmFrZQ.c2ln; theme=dark",
	"HTTP_CONNECTION", "keep-alive",
}

func withCL(cl string) []string {
	out := append([]string(nil), nginxParams...)
	out[7] = cl
	return out
}

const noKind ErrorKind = -1

type readTest struct {
	name       string
	raw        string
	bufferSize int // 0: the default

	// For an accepted packet:
	vars          []string // alternating names and values
	modifier1     uint8
	modifier2     uint8
	contentLength int64
	zeroLength    bool // CONTENT_LENGTH given as 0 (ContentLengthSet with no length)

	// For a refused one, either a sentinel or an *Error of kind:
	err  error
	kind ErrorKind
	msg  string // a substring of the error text
}

var readTests = []readTest{
	{name: "nginx uwsgi_params", raw: pkt(0, nginxParams...), vars: nginxParams, kind: noKind},
	{name: "nginx POST body length", raw: pkt(0, withCL("19")...), vars: withCL("19"), contentLength: 19, kind: noKind},
	{name: "modifier1 30", raw: pkt(30, "SCRIPT_NAME", "/app", "PATH_INFO", "/app/x"),
		vars: []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/app/x"}, modifier1: 30, kind: noKind},
	{name: "modifier2 kept", raw: hdr(0, 6, 7, str16("A")+str16("b")),
		vars: []string{"A", "b"}, modifier2: 7, kind: noKind},
	{name: "empty values", raw: pkt(0, "QUERY_STRING", "", "CONTENT_TYPE", "", "X", ""),
		vars: []string{"QUERY_STRING", "", "CONTENT_TYPE", "", "X", ""}, kind: noKind},
	{name: "empty value last", raw: hdr(0, 5, 0, str16("K")+"\x00\x00"), vars: []string{"K", ""}, kind: noKind},
	{name: "empty var block", raw: hdr(0, 0, 0, ""), vars: []string{}, kind: noKind},
	{name: "binary value", raw: pkt(0, "HTTP_X", "\x00\xff\r\n"), vars: []string{"HTTP_X", "\x00\xff\r\n"}, kind: noKind},
	{name: "duplicate names kept", raw: pkt(0, "A", "1", "A", "2"), vars: []string{"A", "1", "A", "2"}, kind: noKind},

	{name: "key length overruns block", raw: hdr(0, 6, 0, "\x09\x00ABCD"), kind: ErrMalformed},
	{name: "value length overruns block", raw: hdr(0, 7, 0, str16("A")+"\x05\x00ab"), kind: ErrMalformed},
	{name: "lone length byte", raw: hdr(0, 1, 0, "\x01"), kind: ErrMalformed},
	{name: "name without value", raw: hdr(0, 3, 0, str16("A")), kind: ErrMalformed},
	{name: "half a value length", raw: hdr(0, 4, 0, str16("A")+"\x00"), kind: ErrMalformed},
	{name: "second var overruns", raw: hdr(0, 7, 0, str16("A")+str16("b")+"\xff"), kind: ErrMalformed},
	{name: "empty name", raw: hdr(0, 5, 0, "\x00\x00"+str16("v")), kind: ErrMalformed, msg: "empty name"},

	{name: "over buffer-size", raw: hdr(0, 5123, 0, ""), bufferSize: 4096, kind: ErrTooBig,
		msg: "uwsgi: request variables of 5123 bytes exceed --buffer-size 4096; raise --buffer-size (up to 65535)"},
	{name: "over default buffer-size", raw: hdr(0, 4097, 0, ""), kind: ErrTooBig, msg: "--buffer-size 4096;"},
	{name: "at buffer-size", raw: hdr(0, 100, 0, str16("K")+str16(strings.Repeat("v", 95))), bufferSize: 100,
		vars: []string{"K", strings.Repeat("v", 95)}, kind: noKind},
	{name: "one over raised buffer-size", raw: hdr(0, 8193, 0, ""), bufferSize: 8192, kind: ErrTooBig},
	{name: "largest block", raw: hdr(0, 65535, 0, str16("K")+str16(strings.Repeat("v", 65530))), bufferSize: 1 << 20,
		vars: []string{"K", strings.Repeat("v", 65530)}, kind: noKind},

	{name: "HTTP GET", raw: "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", kind: ErrHTTPRequest,
		msg: "an HTTP client is talking to the uwsgi socket"},
	{name: "HTTP POST", raw: "POST /submit HTTP/1.1\r\nContent-Length: 0\r\n\r\n", kind: ErrHTTPRequest, msg: "--http"},
	{name: "HTTP HEAD", raw: "HEAD / HTTP/1.0\r\n\r\n", kind: ErrHTTPRequest, msg: "uwsgi_pass"},
	{name: "HTTP PUT", raw: "PUT /x HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP DELETE", raw: "DELETE /x HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP OPTIONS", raw: "OPTIONS * HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP PATCH", raw: "PATCH /x HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP CONNECT", raw: "CONNECT example.com:443 HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP TRACE", raw: "TRACE / HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP/2 preface", raw: "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", kind: ErrHTTPRequest},
	{name: "WebDAV PROPFIND", raw: "PROPFIND /dav HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "two-letter method", raw: "XY / HTTP/1.1\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP response", raw: "HTTP/1.1 200 OK\r\n\r\n", kind: ErrHTTPRequest},
	{name: "HTTP GET cut after method", raw: "GET ", kind: ErrHTTPRequest},

	{name: "modifier1 5", raw: pkt(5, "A", "b"), kind: ErrModifier, msg: "unsupported modifier1 5"},
	{name: "modifier1 255", raw: hdr(255, 0, 0, ""), kind: ErrModifier, msg: "modifier1 255"},
	{name: "lowercase text", raw: "get / HTTP/1.1\r\n\r\n", kind: ErrModifier, msg: "modifier1 103"},
	{name: "letter then digit", raw: hdr('A', 0x3130, 0, ""), kind: ErrModifier},
	{name: "TLS handshake", raw: "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", kind: ErrModifier, msg: "modifier1 22"},

	{name: "CONTENT_LENGTH 12a", raw: pkt(0, "CONTENT_LENGTH", "12a"), kind: ErrBadContentLength, msg: `"12a"`},
	{name: "CONTENT_LENGTH negative", raw: pkt(0, "CONTENT_LENGTH", "-1"), kind: ErrBadContentLength},
	{name: "CONTENT_LENGTH plus", raw: pkt(0, "CONTENT_LENGTH", "+5"), kind: ErrBadContentLength},
	{name: "CONTENT_LENGTH space", raw: pkt(0, "CONTENT_LENGTH", " 5"), kind: ErrBadContentLength},
	{name: "CONTENT_LENGTH 19 digits", raw: pkt(0, "CONTENT_LENGTH", "1000000000000000000"), kind: ErrBadContentLength},
	{name: "CONTENT_LENGTH long value quoted short", raw: pkt(0, "CONTENT_LENGTH", strings.Repeat("x", 500)),
		kind: ErrBadContentLength, msg: `"` + strings.Repeat("x", 32) + `"`},
	{name: "CONTENT_LENGTH conflict", raw: pkt(0, "CONTENT_LENGTH", "5", "CONTENT_LENGTH", "6"), kind: ErrBadContentLength},
	{name: "CONTENT_LENGTH repeated", raw: pkt(0, "CONTENT_LENGTH", "5", "CONTENT_LENGTH", "5"),
		vars: []string{"CONTENT_LENGTH", "5", "CONTENT_LENGTH", "5"}, contentLength: 5, kind: noKind},
	{name: "CONTENT_LENGTH empty and zero", raw: pkt(0, "CONTENT_LENGTH", "", "CONTENT_LENGTH", "0"),
		vars: []string{"CONTENT_LENGTH", "", "CONTENT_LENGTH", "0"}, zeroLength: true, kind: noKind},
	{name: "CONTENT_LENGTH zero", raw: pkt(0, "CONTENT_LENGTH", "0"),
		vars: []string{"CONTENT_LENGTH", "0"}, zeroLength: true, kind: noKind},
	{name: "CONTENT_LENGTH empty", raw: pkt(0, "CONTENT_LENGTH", ""), vars: []string{"CONTENT_LENGTH", ""}, kind: noKind},
	{name: "CONTENT_LENGTH leading zeros", raw: pkt(0, "CONTENT_LENGTH", "007"),
		vars: []string{"CONTENT_LENGTH", "007"}, contentLength: 7, kind: noKind},
	{name: "CONTENT_LENGTH 18 digits", raw: pkt(0, "CONTENT_LENGTH", "999999999999999999"),
		vars: []string{"CONTENT_LENGTH", "999999999999999999"}, contentLength: 999999999999999999, kind: noKind},
	{name: "HTTP_CONTENT_LENGTH ignored", raw: pkt(0, "HTTP_CONTENT_LENGTH", "x"),
		vars: []string{"HTTP_CONTENT_LENGTH", "x"}, kind: noKind},

	{name: "EOF at start", raw: "", err: io.EOF, kind: noKind},
	{name: "1 header byte", raw: "\x00", err: ErrTruncated, kind: noKind},
	{name: "3 header bytes", raw: "\x00\x10\x00", err: ErrTruncated, kind: noKind},
	{name: "header only", raw: hdr(0, 10, 0, ""), err: ErrTruncated, kind: noKind},
	{name: "vars cut short", raw: pkt(0, nginxParams...)[:200], err: ErrTruncated, kind: noKind},
	{name: "vars one byte short", raw: hdr(0, 10, 0, str16("KEY")+str16("v")[:2]), err: ErrTruncated, kind: noKind},
}

func TestReadRequest(t *testing.T) {
	for _, tt := range readTests {
		t.Run(tt.name, func(t *testing.T) {
			for _, feed := range []struct {
				name string
				r    func(io.Reader) io.Reader
			}{
				{"whole", func(r io.Reader) io.Reader { return r }},
				{"bytewise", iotest.OneByteReader},
			} {
				br := bufio.NewReaderSize(feed.r(strings.NewReader(tt.raw)), 16)
				var req Request
				err := ReadRequest(br, tt.bufferSize, &req)
				checkResult(t, feed.name, &tt, &req, err)
			}
		})
	}
}

func checkResult(t *testing.T, feed string, tt *readTest, req *Request, err error) {
	t.Helper()
	switch {
	case tt.err != nil:
		if err != tt.err {
			t.Fatalf("%s: err = %v, want %v", feed, err, tt.err)
		}
		return
	case tt.kind != noKind:
		var e *Error
		if !errors.As(err, &e) || e.Kind != tt.kind {
			t.Fatalf("%s: err = %v, want an *Error of kind %v", feed, err, tt.kind)
		}
		if !strings.Contains(err.Error(), tt.msg) {
			t.Fatalf("%s: err = %q, want it to contain %q", feed, err, tt.msg)
		}
		return
	case err != nil:
		t.Fatalf("%s: unexpected error %v", feed, err)
	}
	if got := pairs(req.Vars); !equalStrings(got, tt.vars) {
		t.Errorf("%s: vars = %q\nwant %q", feed, got, tt.vars)
	}
	want := Header{Modifier1: tt.modifier1, Size: uint16(len(tt.raw) - headerLen), Modifier2: tt.modifier2}
	if req.Header != want {
		t.Errorf("%s: header = %+v, want %+v", feed, req.Header, want)
	}
	if req.ContentLength != tt.contentLength {
		t.Errorf("%s: ContentLength = %d, want %d", feed, req.ContentLength, tt.contentLength)
	}
	if set := tt.contentLength > 0 || tt.zeroLength; req.ContentLengthSet != set {
		t.Errorf("%s: ContentLengthSet = %v, want %v", feed, req.ContentLengthSet, set)
	}
}

func pairs(vars []Var) []string {
	out := []string{}
	for _, v := range vars {
		out = append(out, string(v.Key), string(v.Value))
	}
	return out
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestBackToBack reads packets the way the server does: request, body,
// next request on the same connection.
func TestBackToBack(t *testing.T) {
	var stream bytes.Buffer
	stream.WriteString(pkt(0, "REQUEST_METHOD", "POST", "PATH_INFO", "/one", "CONTENT_LENGTH", "11"))
	stream.WriteString("hello world")
	stream.WriteString(pkt(30, "REQUEST_METHOD", "GET", "SCRIPT_NAME", "/app", "PATH_INFO", "/app/two", "CONTENT_LENGTH", ""))
	stream.WriteString(pkt(0, "REQUEST_METHOD", "PUT", "PATH_INFO", "/three", "CONTENT_LENGTH", "3"))
	stream.WriteString("abc")

	type step struct {
		path, body string
		modifier1  uint8
	}
	want := []step{{"/one", "hello world", 0}, {"/two", "", 30}, {"/three", "abc", 0}}
	for _, feed := range []func(io.Reader) io.Reader{func(r io.Reader) io.Reader { return r }, iotest.OneByteReader} {
		br := bufio.NewReaderSize(feed(bytes.NewReader(stream.Bytes())), 16)
		var req Request
		for i, w := range want {
			if err := ReadRequest(br, 0, &req); err != nil {
				t.Fatalf("packet %d: %v", i, err)
			}
			path, _ := req.Get("PATH_INFO")
			if req.Header.Modifier1 == ModifierManagePathInfo {
				script, _ := req.Get("SCRIPT_NAME")
				path = StripScriptName(script, path)
			}
			body := make([]byte, req.ContentLength)
			if _, err := io.ReadFull(br, body); err != nil {
				t.Fatalf("packet %d body: %v", i, err)
			}
			if string(path) != w.path || string(body) != w.body || req.Header.Modifier1 != w.modifier1 {
				t.Errorf("packet %d: path %q body %q modifier1 %d, want %+v", i, path, body, req.Header.Modifier1, w)
			}
		}
		if err := ReadRequest(br, 0, &req); err != io.EOF {
			t.Fatalf("after the last packet: err = %v, want io.EOF", err)
		}
	}
}

// TestReadRequestAllocs: a connection reusing its Request allocates
// nothing per request once its buffers have grown.
func TestReadRequestAllocs(t *testing.T) {
	raw := []byte(pkt(0, withCL("19")...))
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	var req Request
	read := func() {
		rd.Reset(raw)
		br.Reset(rd)
		if err := ReadRequest(br, 0, &req); err != nil {
			t.Fatal(err)
		}
		if v, ok := req.Get("HTTP_COOKIE"); !ok || len(v) == 0 {
			t.Fatal("HTTP_COOKIE missing")
		}
		if _, ok := req.Get("SCRIPT_NAME"); ok {
			t.Fatal("SCRIPT_NAME present")
		}
	}
	read() // warm-up: the var buffer and Vars grow here
	if allocs := testing.AllocsPerRun(1000, read); allocs != 0 {
		t.Fatalf("ReadRequest+Get allocate %v times per request, want 0", allocs)
	}
}

// TestReadErrorPassesThrough: errors other than EOF are the connection's,
// not the packet's, and reach the caller unchanged.
func TestReadErrorPassesThrough(t *testing.T) {
	boom := errors.New("i/o timeout")
	for _, prefix := range []string{"", "\x00\x05", hdr(0, 20, 0, "\x03\x00")} {
		r := io.MultiReader(strings.NewReader(prefix), iotest.ErrReader(boom))
		var req Request
		if err := ReadRequest(bufio.NewReader(r), 0, &req); err != boom {
			t.Errorf("after %q: err = %v, want %v", prefix, err, boom)
		}
	}
}

func TestErrTruncatedIsUnexpectedEOF(t *testing.T) {
	if !errors.Is(ErrTruncated, io.ErrUnexpectedEOF) {
		t.Fatal("errors.Is(ErrTruncated, io.ErrUnexpectedEOF) = false")
	}
	if !strings.HasPrefix(ErrTruncated.Error(), "uwsgi: ") {
		t.Fatalf("ErrTruncated = %q, want the uwsgi: prefix", ErrTruncated)
	}
}

func TestErrorKindString(t *testing.T) {
	for k := ErrMalformed; k <= ErrBadContentLength; k++ {
		if s := k.String(); s == "" || strings.HasPrefix(s, "ErrorKind(") {
			t.Errorf("kind %d has no name", int(k))
		}
	}
	if s := ErrorKind(99).String(); s != "ErrorKind(99)" {
		t.Errorf("ErrorKind(99).String() = %q", s)
	}
}

// TestNginxCaptures parses packets captured from nginx 1.22.1 with the
// stock uwsgi_params (see testdata/README.md).
func TestNginxCaptures(t *testing.T) {
	common := []string{
		"DOCUMENT_ROOT", "/srv/www", "SERVER_PROTOCOL", "HTTP/1.1", "REQUEST_SCHEME", "http",
		"REMOTE_ADDR", "127.0.0.1",
	}
	tests := []struct {
		file      string
		modifier1 uint8
		want      map[string]string
		body      string
		pathInfo  string // after modifier1 30 is applied
	}{
		{file: "nginx-get.bin", want: map[string]string{
			"QUERY_STRING": "x=1&y=%20z", "REQUEST_METHOD": "GET", "CONTENT_TYPE": "", "CONTENT_LENGTH": "",
			"REQUEST_URI": "/hello/world?x=1&y=%20z", "PATH_INFO": "/hello/world", "SERVER_PORT": "18080",
			"SERVER_NAME": "example.test", "HTTP_HOST": "127.0.0.1", "HTTP_USER_AGENT": "curl/8.0", "HTTP_ACCEPT": "*/*",
		}, pathInfo: "/hello/world"},
		{file: "nginx-post.bin", want: map[string]string{
			"REQUEST_METHOD": "POST", "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": "19",
			"HTTP_CONTENT_LENGTH": "19", "PATH_INFO": "/submit",
		}, body: "name=carafe&lang=go", pathInfo: "/submit"},
		{file: "nginx-modifier30.bin", modifier1: 30, want: map[string]string{
			"SCRIPT_NAME": "/app", "PATH_INFO": "/app/users/42", "REQUEST_URI": "/app/users/42?full=1",
		}, pathInfo: "/users/42"},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			raw := readTestdata(t, tt.file)
			br := bufio.NewReader(bytes.NewReader(raw))
			var req Request
			if err := ReadRequest(br, 0, &req); err != nil {
				t.Fatal(err)
			}
			if req.Header.Modifier1 != tt.modifier1 {
				t.Errorf("modifier1 = %d, want %d", req.Header.Modifier1, tt.modifier1)
			}
			for i := 0; i < len(common); i += 2 {
				tt.want[common[i]] = common[i+1]
			}
			for k, v := range tt.want {
				if got, ok := req.Get(k); !ok || string(got) != v {
					t.Errorf("%s = %q, %v; want %q", k, got, ok, v)
				}
			}
			path, _ := req.Get("PATH_INFO")
			if req.Header.Modifier1 == ModifierManagePathInfo {
				script, _ := req.Get("SCRIPT_NAME")
				path = StripScriptName(script, path)
			}
			if string(path) != tt.pathInfo {
				t.Errorf("PATH_INFO for the app = %q, want %q", path, tt.pathInfo)
			}
			body, _ := io.ReadAll(br)
			if int64(len(body)) != req.ContentLength || string(body) != tt.body {
				t.Errorf("body %q (ContentLength %d), want %q", body, req.ContentLength, tt.body)
			}
			// nginx sends uwsgi_params in order (HTTPS is if_not_empty,
			// so absent over plain HTTP), then the request headers.
			order := []string{"QUERY_STRING", "REQUEST_METHOD", "CONTENT_TYPE", "CONTENT_LENGTH", "REQUEST_URI",
				"PATH_INFO", "DOCUMENT_ROOT", "SERVER_PROTOCOL", "REQUEST_SCHEME", "REMOTE_ADDR", "REMOTE_PORT",
				"SERVER_PORT", "SERVER_NAME", "HTTP_HOST"}
			for i, k := range order {
				if i >= len(req.Vars) || string(req.Vars[i].Key) != k {
					t.Fatalf("vars not in uwsgi_params order: %q", pairs(req.Vars))
				}
			}
		})
	}
}

func TestAppendRequestRoundTrip(t *testing.T) {
	vars := kv(nginxParams...)
	raw := AppendRequest([]byte("prefix"), 30, vars)
	if !bytes.HasPrefix(raw, []byte("prefix")) {
		t.Fatal("AppendRequest overwrote dst")
	}
	var req Request
	if err := ReadRequest(bufio.NewReader(bytes.NewReader(raw[len("prefix"):])), 0, &req); err != nil {
		t.Fatal(err)
	}
	if !equalStrings(pairs(req.Vars), nginxParams) || req.Header.Modifier1 != 30 || req.Header.Modifier2 != 0 {
		t.Fatalf("round trip: %+v %q", req.Header, pairs(req.Vars))
	}
}

func TestAppendRequestPanics(t *testing.T) {
	for name, vars := range map[string][]Var{
		"long value": {{Key: []byte("K"), Value: make([]byte, 65536)}},
		"long block": {{Key: []byte("A"), Value: make([]byte, 40000)}, {Key: []byte("B"), Value: make([]byte, 40000)}},
	} {
		t.Run(name, func(t *testing.T) {
			defer func() {
				if recover() == nil {
					t.Fatal("no panic")
				}
			}()
			AppendRequest(nil, 0, vars)
		})
	}
}

func BenchmarkReadRequest(b *testing.B) {
	raw := []byte(pkt(0, nginxParams...))
	rd := bytes.NewReader(raw)
	br := bufio.NewReader(rd)
	var req Request
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		rd.Reset(raw)
		br.Reset(rd)
		if err := ReadRequest(br, 0, &req); err != nil {
			b.Fatal(err)
		}
		if _, ok := req.Get("HTTP_CONNECTION"); !ok {
			b.Fatal("HTTP_CONNECTION missing")
		}
	}
}
