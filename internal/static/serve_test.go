package static

import (
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"
)

// want describes the answer to one request; zero fields are not checked.
type want struct {
	served bool
	code   int
	body   string
	header map[string]string // "" means the header must be absent
}

func check(t *testing.T, served bool, w *httptest.ResponseRecorder, tt want) {
	t.Helper()
	if served != tt.served {
		t.Fatalf("served = %v, want %v (code %d)", served, tt.served, w.Code)
	}
	if !served {
		if w.Body.Len() != 0 || len(w.Header()) != 0 || w.Code != http.StatusOK {
			t.Fatalf("not served, yet wrote code %d headers %v body %q", w.Code, w.Header(), w.Body)
		}
		return
	}
	if w.Code != tt.code {
		t.Errorf("code = %d, want %d (body %q)", w.Code, tt.code, w.Body)
	}
	if tt.body != "" && w.Body.String() != tt.body {
		t.Errorf("body = %q, want %q", w.Body, tt.body)
	}
	for k, v := range tt.header {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
	if strings.Contains(w.Body.String(), secret) {
		t.Errorf("response leaks a file outside the directory: %q", w.Body)
	}
}

func TestServe(t *testing.T) {
	h, _ := newHandler(t, Options{Index: []string{"index.htm", "index.html"}})
	css := "body{color:red}\n"
	tests := []struct {
		name, method, target string
		hdr                  []string
		want
	}{
		{"file", "GET", "/static/a.css", nil, want{true, 200, css, map[string]string{
			"Content-Type": "text/css; charset=utf-8", "Content-Length": "16", "Etag": etagOf(16, ""),
			"Last-Modified": lastModified, "Accept-Ranges": "bytes", "Vary": "", "Cache-Control": "", "Expires": ""}}},
		{"head", "HEAD", "/static/a.css", nil, want{true, 200, "", map[string]string{
			"Content-Type": "text/css; charset=utf-8", "Content-Length": "16", "Etag": etagOf(16, "")}}},
		{"query ignored", "GET", "/static/a.css?v=3", nil, want{true, 200, css, nil}},
		{"encoded name", "GET", "/static/%61.css", nil, want{true, 200, css, nil}},
		{"dot segment", "GET", "/static/./a.css", nil, want{true, 200, css, nil}},
		{"double slash", "GET", "/static//a.css", nil, want{true, 200, css, nil}},
		{"upper-case extension", "GET", "/static/UPPER.PNG", nil, want{true, 200, "", map[string]string{"Content-Type": "image/png"}}},
		{"unknown type", "GET", "/static/noext", nil, want{true, 200, "", map[string]string{"Content-Type": "application/octet-stream"}}},
		{"unknown type not sniffed", "GET", "/static/sniffed", nil, want{true, 200, "", map[string]string{"Content-Type": "application/octet-stream"}}},
		{"symlink inside", "GET", "/static/in", nil, want{true, 200, css, nil}},
		{"literal percent file", "GET", "/static/lit/%252e%252e", nil, want{true, 200, "literal percent name\n", nil}},
		{"second directory", "GET", "/static/extra.txt", nil, want{true, 200, "from the second directory\n", nil}},

		{"304 if-none-match", "GET", "/static/a.css", []string{"If-None-Match", etagOf(16, "")},
			want{true, 304, "", map[string]string{"Etag": etagOf(16, ""), "Content-Type": "", "Content-Length": ""}}},
		{"304 if-none-match list", "GET", "/static/a.css", []string{"If-None-Match", `"x", ` + etagOf(16, "")}, want{true, 304, "", nil}},
		{"304 if-none-match star", "GET", "/static/a.css", []string{"If-None-Match", "*"}, want{true, 304, "", nil}},
		{"200 stale etag", "GET", "/static/a.css", []string{"If-None-Match", `"0-10"`}, want{true, 200, css, nil}},
		{"304 if-modified-since", "GET", "/static/a.css", []string{"If-Modified-Since", lastModified}, want{true, 304, "", nil}},
		{"200 modified since", "GET", "/static/a.css", []string{"If-Modified-Since", mtime.Add(-time.Hour).Format(http.TimeFormat)}, want{true, 200, css, nil}},
		{"412 if-match", "GET", "/static/a.css", []string{"If-Match", `"other"`}, want{true, 412, "", nil}},

		{"range", "GET", "/static/big.txt", []string{"Range", "bytes=10-19"}, want{true, 206, "0123456789", map[string]string{
			"Content-Range": "bytes 10-19/1000", "Content-Length": "10"}}},
		{"range suffix", "GET", "/static/big.txt", []string{"Range", "bytes=-5"}, want{true, 206, "56789", map[string]string{
			"Content-Range": "bytes 995-999/1000"}}},
		{"range open", "GET", "/static/big.txt", []string{"Range", "bytes=998-"}, want{true, 206, "89", nil}},
		{"range unsatisfiable", "GET", "/static/big.txt", []string{"Range", "bytes=1000-1001"}, want{true, 416, "", map[string]string{
			"Content-Range": "bytes */1000", "Etag": ""}}},
		{"range if-range match", "GET", "/static/big.txt", []string{"Range", "bytes=0-1", "If-Range", etagOf(1000, "")}, want{true, 206, "01", nil}},
		{"range if-range stale", "GET", "/static/big.txt", []string{"Range", "bytes=0-1", "If-Range", `"old"`}, want{true, 200, bigText, nil}},

		{"index with slash", "GET", "/static/sub/", nil, want{true, 200, "<h1>index</h1>\n", map[string]string{"Content-Type": "text/html; charset=utf-8"}}},
		{"index via symlinked dir", "GET", "/static/insub/", nil, want{true, 200, "<h1>index</h1>\n", nil}},
		{"index redirect", "GET", "/static/sub?x=1", nil, want{true, 301, "", map[string]string{"Location": "./sub/?x=1"}}},
		{"directory without index", "GET", "/static/empty/", nil, want{served: false}},
		{"directory without index no slash", "GET", "/static/empty", nil, want{served: false}},
		{"mapping root without index", "GET", "/static/", nil, want{served: false}},
		{"mapping root bare", "GET", "/static", nil, want{served: false}},

		{"missing", "GET", "/static/nope.css", nil, want{served: false}},
		{"missing dir", "GET", "/static/no/such/file", nil, want{served: false}},
		{"file as dir", "GET", "/static/a.css/x", nil, want{served: false}},
		{"file with slash", "GET", "/static/a.css/", nil, want{served: false}},
		{"dangling symlink", "GET", "/static/broken", nil, want{served: false}},
		{"not mapped", "GET", "/app/a.css", nil, want{served: false}},

		{"post", "POST", "/static/a.css", nil, want{served: false}},
		{"put", "PUT", "/static/a.css", nil, want{served: false}},
		{"options", "OPTIONS", "/static/a.css", nil, want{served: false}},

		{"fifo refused", "GET", "/static/fifo", nil, want{true, 403, "", nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served, w := do(h, tt.method, tt.target, tt.hdr...)
			check(t, served, w, tt.want)
		})
	}
}

var (
	forbidden = want{true, 403, "", nil}
	absent    = want{served: false}
)

// traversalTests are every escape attempt we know of, against the
// fixture; each must be refused (403) or find nothing (handed to the
// app), and none may leak. FuzzResolve starts from them.
var traversalTests = []struct {
	name, target string
	want
}{
	{"dotdot", "/static/../secret.txt", absent},
	{"dotdot deep", "/static/sub/../../secret.txt", absent},
	{"dotdot inside", "/static/sub/../a.css", want{true, 200, "body{color:red}\n", nil}},
	{"encoded dotdot", "/static/%2e%2e/secret.txt", absent},
	{"encoded upper", "/static/%2E%2E/secret.txt", absent},
	{"half encoded", "/static/.%2e/secret.txt", absent},
	{"encoded slash", "/static/..%2fsecret.txt", absent},
	{"encoded both", "/static/%2e%2e%2fsecret.txt", absent},
	{"encoded prefix slash", "/static%2f..%2fsecret.txt", absent},
	{"backslashes", `/static/a\..\..\secret.txt`, absent},
	{"encoded backslashes", "/static/a%5c..%5c..%5csecret.txt", absent},
	{"nul", "/static/a.css%00.png", absent},
	{"nul alone", "/static/%00", absent},
	{"double encoded", "/static/%252e%252e/secret.txt", absent},
	{"double encoded slash", "/static/..%252fsecret.txt", absent},
	{"absolute", "//etc/passwd", absent},
	{"absolute after prefix", "/static//etc/passwd", absent},
	{"absolute encoded", "/static/%2fetc%2fpasswd", absent},
	{"symlink out", "/static/out", forbidden},
	{"absolute symlink out", "/static/abs", forbidden},
	{"symlinked dir out", "/static/outdir/secret.txt", forbidden},
	{"symlinked dir out as dir", "/static/outdir/", forbidden},
}

func TestTraversal(t *testing.T) {
	h, _ := newHandler(t, Options{Index: []string{"secret.txt"}, Precompressed: true})
	for _, tt := range traversalTests {
		t.Run(tt.name, func(t *testing.T) {
			served, w := do(h, "GET", tt.target)
			check(t, served, w, tt.want)
		})
	}
}

// TestRootMapping maps "/" so that absolute-looking paths reach the
// resolver at all.
func TestRootMapping(t *testing.T) {
	base := fixture(t)
	h, err := New(Options{Maps: []Mapping{{Prefix: "/", Dir: base + "/static"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	for _, target := range []string{"//etc/passwd", "///secret.txt", "/%2fsecret.txt"} {
		if served, w := do(h, "GET", target); served {
			t.Errorf("%s: served %d %q", target, w.Code, w.Body)
		}
	}
	for _, target := range []string{"/../secret.txt", "/%2e%2e/secret.txt"} {
		if served, w := do(h, "GET", target); served {
			t.Errorf("%s: served %d %q, want it left to the app", target, w.Code, w.Body)
		}
	}
	if served, w := do(h, "GET", "/out"); !served || w.Code != 403 {
		t.Errorf("/out: served %v code %d, want 403", served, w.Code)
	}
	if served, w := do(h, "GET", "//a.css"); !served || w.Code != 200 {
		t.Errorf("//a.css: served %v code %d", served, w.Code)
	}
}

func TestPrecompressed(t *testing.T) {
	h, _ := newHandler(t, Options{Precompressed: true, Index: []string{"index.html"}})
	js := strings.Repeat("console.log(1);\n", 20)
	jsType := "text/javascript; charset=utf-8"
	tests := []struct {
		name, target, accept string
		want
	}{
		{"br preferred", "/static/app.js", "gzip, deflate, br", want{true, 200, "BROTLI-BYTES", map[string]string{
			"Content-Encoding": "br", "Content-Type": jsType, "Vary": "Accept-Encoding",
			"Content-Length": "12", "Etag": etagOf(12, "-br")}}},
		{"gzip only", "/static/app.js", "gzip", want{true, 200, "GZIP-BYTES", map[string]string{
			"Content-Encoding": "gzip", "Content-Type": jsType, "Vary": "Accept-Encoding",
			"Content-Length": "10", "Etag": etagOf(10, "-gz")}}},
		{"gzip by q", "/static/app.js", "br;q=0.1, gzip", want{true, 200, "GZIP-BYTES", nil}},
		{"gzip q0", "/static/app.js", "gzip;q=0", want{true, 200, js, map[string]string{
			"Content-Encoding": "", "Vary": "Accept-Encoding", "Etag": etagOf(len(js), "")}}},
		{"none accepted", "/static/app.js", "", want{true, 200, js, map[string]string{
			"Content-Encoding": "", "Vary": "Accept-Encoding", "Content-Length": strconv.Itoa(len(js))}}},
		{"identity", "/static/app.js", "identity", want{true, 200, js, map[string]string{"Vary": "Accept-Encoding"}}},
		{"br wanted, only gz exists", "/static/only.css", "br", want{true, 200, "", map[string]string{
			"Content-Encoding": "", "Vary": "Accept-Encoding"}}},
		{"gz sibling", "/static/only.css", "br, gzip", want{true, 200, "GZ-ONLY", map[string]string{
			"Content-Encoding": "gzip", "Content-Type": "text/css; charset=utf-8"}}},
		{"no sibling, no vary", "/static/a.css", "br, gzip", want{true, 200, "body{color:red}\n", map[string]string{
			"Content-Encoding": "", "Vary": ""}}},
		{"unknown type, not sniffed", "/static/sniffed", "gzip", want{true, 200, "GZ-OF-HTML", map[string]string{
			"Content-Encoding": "gzip", "Content-Type": "application/octet-stream"}}},
		{"index sibling", "/static/sub/", "gzip", want{true, 200, "GZ-INDEX", map[string]string{
			"Content-Encoding": "gzip", "Content-Type": "text/html; charset=utf-8"}}},
		{"head", "/static/app.js", "br", want{true, 200, "", map[string]string{"Content-Length": "12", "Content-Encoding": "br"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			method := "GET"
			if tt.name == "head" {
				method = "HEAD"
			}
			served, w := do(h, method, tt.target, "Accept-Encoding", tt.accept)
			check(t, served, w, tt.want)
		})
	}

	// One range of the compressed file is a 206 of its bytes; several get
	// the whole file, not a multipart body claiming Content-Encoding.
	t.Run("ranges of a variant", func(t *testing.T) {
		served, w := do(h, "GET", "/static/app.js", "Accept-Encoding", "gzip", "Range", "bytes=0-3")
		check(t, served, w, want{true, 206, "GZIP", map[string]string{"Content-Encoding": "gzip", "Content-Range": "bytes 0-3/10"}})
		served, w = do(h, "GET", "/static/app.js", "Accept-Encoding", "gzip", "Range", "bytes=0-1,5-6")
		check(t, served, w, want{true, 200, "GZIP-BYTES", map[string]string{"Content-Encoding": "gzip", "Content-Length": "10"}})
		served, w = do(h, "GET", "/static/app.js", "Range", "bytes=0-1,5-6")
		if !served || w.Code != 206 || !strings.HasPrefix(w.Header().Get("Content-Type"), "multipart/byteranges") {
			t.Errorf("several ranges of the plain file: %d %q", w.Code, w.Header().Get("Content-Type"))
		}
	})

	t.Run("304 per variant", func(t *testing.T) {
		served, w := do(h, "GET", "/static/app.js", "Accept-Encoding", "br", "If-None-Match", etagOf(12, "-br"))
		check(t, served, w, want{true, 304, "", map[string]string{"Vary": "Accept-Encoding", "Content-Encoding": ""}})
		served, w = do(h, "GET", "/static/app.js", "Accept-Encoding", "gzip", "If-None-Match", etagOf(12, "-br"))
		check(t, served, w, want{true, 200, "GZIP-BYTES", nil})
	})
	t.Run("range on compressed bytes", func(t *testing.T) {
		served, w := do(h, "GET", "/static/app.js", "Accept-Encoding", "br", "Range", "bytes=0-5")
		check(t, served, w, want{true, 206, "BROTLI", map[string]string{
			"Content-Range": "bytes 0-5/12", "Content-Length": "6", "Content-Encoding": "br"}})
	})
	t.Run("412 has its own length", func(t *testing.T) {
		served, w := do(h, "GET", "/static/app.js", "Accept-Encoding", "br", "If-Match", `"nope"`)
		check(t, served, w, want{true, 412, "412 Precondition Failed\n", map[string]string{"Content-Length": "24"}})
	})
	t.Run("off", func(t *testing.T) {
		off, _ := newHandler(t, Options{})
		served, w := do(off, "GET", "/static/app.js", "Accept-Encoding", "br, gzip")
		check(t, served, w, want{true, 200, js, map[string]string{"Content-Encoding": "", "Vary": ""}})
	})
}

func TestExpires(t *testing.T) {
	h, _ := newHandler(t, Options{Expires: 90 * time.Minute})
	before := time.Now().Truncate(time.Second)
	served, w := do(h, "GET", "/static/a.css")
	check(t, served, w, want{true, 200, "", map[string]string{"Cache-Control": "public, max-age=5400"}})
	exp, err := http.ParseTime(w.Header().Get("Expires"))
	if err != nil {
		t.Fatal(err)
	}
	if d := exp.Sub(before); d < 90*time.Minute || d > 90*time.Minute+5*time.Second {
		t.Errorf("Expires %v is %v ahead, want 90m", exp, d)
	}

	served, w = do(h, "GET", "/static/a.css", "If-None-Match", etagOf(16, ""))
	check(t, served, w, want{true, 304, "", map[string]string{"Cache-Control": "public, max-age=5400"}})
	if w.Header().Get("Expires") == "" {
		t.Error("304 lacks Expires")
	}
	served, w = do(h, "GET", "/static/big.txt", "Range", "bytes=5000-")
	check(t, served, w, want{true, 416, "", map[string]string{"Cache-Control": "", "Expires": ""}})
	served, w = do(h, "GET", "/static/a.css", "If-Match", `"other"`)
	check(t, served, w, want{true, 412, "", map[string]string{"Cache-Control": "", "Expires": ""}})
	served, w = do(h, "GET", "/static/out")
	check(t, served, w, want{true, 403, "", map[string]string{"Cache-Control": "", "Expires": ""}})
}

// TestMappingRootIndex covers the mapping's own directory as an index.
func TestMappingRootIndex(t *testing.T) {
	h, _ := newHandler(t, Options{Index: []string{"a.css"}})
	tests := []struct {
		name, target string
		want
	}{
		{"bare prefix redirects", "/static", want{true, 301, "", map[string]string{"Location": "./static/"}}},
		{"slash serves index", "/static/", want{true, 200, "body{color:red}\n", nil}},
		{"dot serves index", "/static/.", want{true, 200, "body{color:red}\n", nil}},
		{"second directory has none", "/static/empty/", want{served: false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served, w := do(h, "GET", tt.target)
			check(t, served, w, tt.want)
		})
	}
}

func TestServeHTTP(t *testing.T) {
	h, _ := newHandler(t, Options{})
	tests := []struct {
		name, method, target string
		code                 int
		allow                string
	}{
		{"file", "GET", "/static/a.css", 200, ""},
		{"missing", "GET", "/static/nope", 404, ""},
		{"directory", "GET", "/static/empty/", 404, ""},
		{"above the directory", "GET", "/static/../x", 404, ""},
		{"post", "POST", "/static/a.css", 405, "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest(tt.method, tt.target, nil))
			if w.Code != tt.code || w.Header().Get("Allow") != tt.allow {
				t.Errorf("got %d Allow %q, want %d Allow %q", w.Code, w.Header().Get("Allow"), tt.code, tt.allow)
			}
			if w.Code == 404 && strings.Contains(w.Body.String(), ".keep") {
				t.Errorf("directory listed: %q", w.Body)
			}
		})
	}
}

// sendfileSpy stands in for carafe's connection writer: it records what
// reaches ReadFrom, where the real one calls sendfile for an *os.File.
type sendfileSpy struct {
	http.ResponseWriter
	files int
}

func (s *sendfileSpy) ReadFrom(src io.Reader) (int64, error) {
	f := src
	if lr, ok := src.(*io.LimitedReader); ok {
		f = lr.R
	}
	if _, ok := f.(*os.File); ok {
		s.files++
	}
	return io.Copy(s.ResponseWriter, src)
}

// TestRealServer runs the handler behind net/http, whose writer also
// implements io.ReaderFrom (sendfile), and checks Range end to end.
func TestRealServer(t *testing.T) {
	h, _ := newHandler(t, Options{Precompressed: true, Expires: time.Minute})
	var spy *sendfileSpy
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		spy = &sendfileSpy{ResponseWriter: w}
		h.ServeHTTP(spy, r)
	}))
	defer srv.Close()
	get := func(t *testing.T, target string, hdr ...string) (*http.Response, string) {
		t.Helper()
		req, err := http.NewRequest("GET", srv.URL+target, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Accept-Encoding", "identity")
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}

	t.Run("whole file through ReadFrom", func(t *testing.T) {
		resp, body := get(t, "/static/big.txt")
		if resp.StatusCode != 200 || body != bigText || resp.ContentLength != 1000 {
			t.Fatalf("got %d len %d", resp.StatusCode, resp.ContentLength)
		}
		if spy.files != 1 {
			t.Errorf("the file reached ReadFrom %d times, want 1", spy.files)
		}
	})
	t.Run("compressed through ReadFrom with length", func(t *testing.T) {
		resp, body := get(t, "/static/app.js", "Accept-Encoding", "br")
		if resp.StatusCode != 200 || body != "BROTLI-BYTES" || resp.ContentLength != 12 || resp.Header.Get("Content-Encoding") != "br" {
			t.Fatalf("got %d len %d %q", resp.StatusCode, resp.ContentLength, body)
		}
		if spy.files != 1 {
			t.Errorf("the file reached ReadFrom %d times, want 1", spy.files)
		}
	})
	t.Run("single range", func(t *testing.T) {
		resp, body := get(t, "/static/big.txt", "Range", "bytes=100-104")
		if resp.StatusCode != 206 || body != "01234" || resp.Header.Get("Content-Range") != "bytes 100-104/1000" {
			t.Fatalf("got %d %q %q", resp.StatusCode, body, resp.Header.Get("Content-Range"))
		}
	})
	t.Run("multi range", func(t *testing.T) {
		resp, body := get(t, "/static/big.txt", "Range", "bytes=0-2,10-12,-3")
		mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
		if resp.StatusCode != 206 || err != nil || mt != "multipart/byteranges" {
			t.Fatalf("got %d %q %v", resp.StatusCode, resp.Header.Get("Content-Type"), err)
		}
		mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
		wantParts := []struct{ rng, body string }{
			{"bytes 0-2/1000", "012"}, {"bytes 10-12/1000", "012"}, {"bytes 997-999/1000", "789"},
		}
		for _, wp := range wantParts {
			p, err := mr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p)
			if p.Header.Get("Content-Range") != wp.rng || string(b) != wp.body ||
				p.Header.Get("Content-Type") != "text/plain; charset=utf-8" {
				t.Errorf("part %q %q %q, want %q %q", p.Header.Get("Content-Range"), b, p.Header.Get("Content-Type"), wp.rng, wp.body)
			}
		}
		if _, err := mr.NextPart(); err != io.EOF {
			t.Errorf("extra part: %v", err)
		}
	})
	t.Run("unsatisfiable", func(t *testing.T) {
		resp, _ := get(t, "/static/big.txt", "Range", "bytes=2000-")
		if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */1000" || resp.Header.Get("Expires") != "" {
			t.Fatalf("got %d %q Expires %q", resp.StatusCode, resp.Header.Get("Content-Range"), resp.Header.Get("Expires"))
		}
	})
	t.Run("traversal over the wire", func(t *testing.T) {
		for target, code := range map[string]int{"/static/%2e%2e/secret.txt": 404, "/static/..%2fsecret.txt": 404,
			"/static/out": 403} {
			resp, body := get(t, target)
			if resp.StatusCode != code || strings.Contains(body, secret) {
				t.Errorf("%s: got %d %q", target, resp.StatusCode, body)
			}
		}
	})
}

// SkipExt: a file with a skipped ending is not served (the app gets its
// request), in a mapping and as a directory's index; others still are.
func TestSkipExt(t *testing.T) {
	h, _ := newHandler(t, Options{SkipExt: []string{".js", ".html"}, Index: []string{"index.html"}})
	for _, target := range []string{"/static/app.js", "/static/sub/", "/static/sub/index.html"} {
		if served, w := do(h, "GET", target); served {
			t.Errorf("%s: served %d %q, want it left to the app", target, w.Code, w.Body)
		}
	}
	for _, target := range []string{"/static/a.css", "/static/app.js.gz", "/static/extra.txt"} {
		if served, w := do(h, "GET", target); !served || w.Code != 200 {
			t.Errorf("%s: served %v code %d, want 200", target, served, w.Code)
		}
	}
}
