package static

import (
	"bytes"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestRangeEdges covers the Range values ServeContent alone answers
// wrongly: a unit other than bytes, an empty file, and suffixes of zero
// bytes; and that every 416 says the size in Content-Range.
func TestRangeEdges(t *testing.T) {
	h, _ := newHandler(t, Options{})
	tests := []struct {
		name, target string
		hdr          []string
		want
	}{
		{"unknown unit ignored", "/static/big.txt", []string{"Range", "items=0-1"}, want{true, 200, bigText, map[string]string{
			"Content-Range": ""}}},
		{"unit is case-insensitive", "/static/big.txt", []string{"Range", "Bytes=0-1"}, want{true, 206, "01", map[string]string{
			"Content-Range": "bytes 0-1/1000"}}},
		{"empty file, suffix", "/static/zero.txt", []string{"Range", "bytes=-1"}, want{true, 200, "", map[string]string{
			"Content-Range": "", "Content-Length": "0"}}},
		{"empty file, first byte", "/static/zero.txt", []string{"Range", "bytes=0-0"}, want{true, 200, "", map[string]string{
			"Content-Range": "", "Content-Length": "0"}}},
		{"zero suffix", "/static/big.txt", []string{"Range", "bytes=-0"}, want{true, 416, "", map[string]string{
			"Content-Range": "bytes */1000"}}},
		{"zero suffixes", "/static/big.txt", []string{"Range", "bytes=-0, -00"}, want{true, 416, "", map[string]string{
			"Content-Range": "bytes */1000"}}},
		{"zero suffix among others", "/static/big.txt", []string{"Range", "bytes=-0,2-3"}, want{true, 206, "23", map[string]string{
			"Content-Range": "bytes 2-3/1000"}}},
		{"zero suffix, stale If-Range", "/static/big.txt", []string{"Range", "bytes=-0", "If-Range", `"old"`},
			want{true, 200, bigText, nil}},
		{"invalid range has Content-Range", "/static/big.txt", []string{"Range", "bytes=5-2"}, want{true, 416, "", map[string]string{
			"Content-Range": "bytes */1000"}}},
		// Past maxRanges the whole file, as Apache answers past MaxRanges:
		// each part's head made a small request's answer 18 times its size.
		{"too many ranges", "/static/big.txt", []string{"Range", "bytes=" + manyRanges(101)},
			want{true, 200, bigText, map[string]string{"Content-Range": ""}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served, w := do(h, "GET", tt.target, tt.hdr...)
			check(t, served, w, tt.want)
		})
	}
	// Ranges are counted, not commas: empty list elements are allowed.
	for _, v := range []string{manyRanges(100), manyRanges(100) + ",", "0-0" + strings.Repeat(",", 100), " , 0-0,,2-2 ,"} {
		if _, w := do(h, "GET", "/static/big.txt", "Range", "bytes="+v); w.Code != 206 {
			t.Errorf("Range bytes=%.40s... (%d commas): status %d, want 206", v, strings.Count(v, ","), w.Code)
		}
	}
}

// TestAnswersHaveLength: every answer that is not a file carries a
// Content-Length matching its body, so that carafe need not close a
// keep-alive connection to end it.
func TestAnswersHaveLength(t *testing.T) {
	h, _ := newHandler(t, Options{Index: []string{"index.html"}, Expires: time.Hour})
	tests := []struct {
		name, target string
		hdr          []string
		code         int
	}{
		{"directory redirect", "/static/sub", nil, 301},
		{"refused symlink", "/static/out", nil, 403},
		{"fifo", "/static/fifo", nil, 403},
		{"if-match", "/static/a.css", []string{"If-Match", `"x"`}, 412},
		{"unsatisfiable", "/static/big.txt", []string{"Range", "bytes=5000-"}, 416},
		{"invalid range", "/static/big.txt", []string{"Range", "bytes=5-2"}, 416},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served, w := do(h, "GET", tt.target, tt.hdr...)
			cl := w.Header().Get("Content-Length")
			if !served || w.Code != tt.code || cl == "" || cl != strconv.Itoa(w.Body.Len()) {
				t.Errorf("got served %v %d Content-Length %q for a body of %d, want %d with its length",
					served, w.Code, cl, w.Body.Len(), tt.code)
			}
		})
	}
}

// TestSymlinksInside: symlinks that end inside the directory are served
// however they get there; os.Root alone refuses absolute ones and ones
// that pass through the parent.
func TestSymlinksInside(t *testing.T) {
	h, _ := newHandler(t, Options{Index: []string{"index.html"}, Precompressed: true})
	for _, target := range []string{"/static/absin", "/static/viaparent", "/static/absdir/index.html", "/static/absdir/"} {
		served, w := do(h, "GET", target)
		if !served || w.Code != 200 || (w.Body.String() != "body{color:red}\n" && w.Body.String() != "<h1>index</h1>\n") {
			t.Errorf("%s: served %v %d %q, want the file", target, served, w.Code, w.Body)
		}
	}
	served, w := do(h, "GET", "/static/absdir/index.html", "Accept-Encoding", "gzip")
	check(t, served, w, want{true, 200, "GZ-INDEX", map[string]string{"Vary": "Accept-Encoding"}})
	served, w = do(h, "GET", "/static/absdir/index.html")
	check(t, served, w, want{true, 200, "<h1>index</h1>\n", map[string]string{"Vary": "Accept-Encoding"}})
}

// doNamed runs a request through ServeNamed with the app's headers
// already in the response, as carafe does for X-Sendfile.
func doNamed(h *Handler, target string, appHdr, reqHdr []string) (bool, *httptest.ResponseRecorder) {
	r := httptest.NewRequest("GET", "/app-url", nil)
	r.URL.Path = target
	for i := 0; i+1 < len(reqHdr); i += 2 {
		r.Header.Add(reqHdr[i], reqHdr[i+1])
	}
	w := httptest.NewRecorder()
	for i := 0; i+1 < len(appHdr); i += 2 {
		w.Header().Add(appHdr[i], appHdr[i+1])
	}
	return h.ServeNamed(w, r), w
}

// TestNamedKeepsAppHeaders: for a file the app named, the app's
// Content-Type, caching headers and ETag win over the handler's.
func TestNamedKeepsAppHeaders(t *testing.T) {
	rule, err := ParseExpiresRule("static-expires-type", "text/css=600")
	if err != nil {
		t.Fatal(err)
	}
	h, _ := newHandler(t, Options{Expires: time.Hour, ExpiresRules: []ExpiresRule{rule}, Precompressed: true})
	tests := []struct {
		name, target string
		app, req     []string
		want
	}{
		{"private stays private", "/static/a.css", []string{"Cache-Control", "private, no-store"}, nil,
			want{true, 200, "", map[string]string{"Cache-Control": "private, no-store", "Expires": ""}}},
		{"app's Expires alone stands", "/static/a.css", []string{"Expires", "0"}, nil,
			want{true, 200, "", map[string]string{"Cache-Control": "", "Expires": "0"}}},
		{"no app caching: the rule's", "/static/a.css", nil, nil,
			want{true, 200, "", map[string]string{"Cache-Control": "public, max-age=600"}}},
		{"app's type kept", "/static/a.css", []string{"Content-Type", "text/plain"}, nil,
			want{true, 200, "", map[string]string{"Content-Type": "text/plain", "Cache-Control": "public, max-age=3600"}}},
		{"app's type kept for a variant", "/static/app.js", []string{"Content-Type", "application/x-foo"}, []string{"Accept-Encoding", "gzip"},
			want{true, 200, "GZIP-BYTES", map[string]string{"Content-Type": "application/x-foo", "Content-Encoding": "gzip"}}},
		{"app's etag kept", "/static/a.css", []string{"Etag", `"v7"`}, nil,
			want{true, 200, "", map[string]string{"Etag": `"v7"`}}},
		{"app's etag validates", "/static/a.css", []string{"Etag", `"v7"`}, []string{"If-None-Match", `"v7"`},
			want{true, 304, "", nil}},
		{"app's etag marked for a variant", "/static/app.js", []string{"Etag", `"v7"`}, []string{"Accept-Encoding", "gzip"},
			want{true, 200, "GZIP-BYTES", map[string]string{"Etag": `"v7-gz"`, "Content-Encoding": "gzip"}}},
		{"app's weak etag marked for a variant", "/static/app.js", []string{"Etag", `W/"v7"`}, []string{"Accept-Encoding", "gzip"},
			want{true, 200, "GZIP-BYTES", map[string]string{"Etag": `W/"v7-gz"`}}},
		{"a variant does not answer the file's If-Range", "/static/app.js", []string{"Etag", `"v7"`},
			[]string{"Accept-Encoding", "gzip", "Range", "bytes=0-1", "If-Range", `"v7"`},
			want{true, 200, "GZIP-BYTES", nil}},
		{"a 412 for a variant is not labelled gzip", "/static/app.js", nil,
			[]string{"Accept-Encoding", "gzip", "If-Match", `"nope"`},
			want{true, 412, "", map[string]string{"Content-Encoding": ""}}},
		{"other headers kept", "/static/a.css", []string{"Content-Disposition", "attachment"}, nil,
			want{true, 200, "", map[string]string{"Content-Disposition": "attachment", "Content-Type": "text/css; charset=utf-8"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			served, w := doNamed(h, tt.target, tt.app, tt.req)
			check(t, served, w, tt.want)
		})
	}
}

// TestNamedDirectory: a directory the app named without its slash is no
// file (carafe answers 404), not a redirect relative to the app's URL.
func TestNamedDirectory(t *testing.T) {
	h, _ := newHandler(t, Options{Index: []string{"index.html"}})
	if served, w := doNamed(h, "/static/sub", nil, nil); served {
		t.Errorf("directory: served %d %v", w.Code, w.Header())
	}
	served, w := doNamed(h, "/static/sub/", nil, nil)
	check(t, served, w, want{true, 200, "<h1>index</h1>\n", nil})
	if served, w := do(h, "GET", "/static/sub"); !served || w.Code != 301 {
		t.Errorf("a client's request still redirects: %v %d", served, w.Code)
	}
}

// TestFilePathPrefix: a mapping whose prefix is a file path with a space
// or a non-ASCII letter (an X-Sendfile directory) serves its files, named
// literally.
func TestFilePathPrefix(t *testing.T) {
	base := fixture(t)
	h, err := New(Options{Maps: []Mapping{{Prefix: "/srv/my files/café", Dir: base + "/static"}}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	path := "/srv/my files/café/a.css"
	if !h.Match([]byte(path)) {
		t.Fatalf("%q does not match", path)
	}
	served, w := doNamed(h, path, nil, nil)
	check(t, served, w, want{true, 200, "body{color:red}\n", nil})
}

// TestStaticSafe: with --static-safe DIR, a symlink leading out of the
// mapped directory into DIR is served (Django's collectstatic --link, a
// Debian package's links into /usr/share), by absolute or relative link,
// file or directory; links leading anywhere else are still refused.
func TestStaticSafe(t *testing.T) {
	base := fixture(t)
	maps := []Mapping{{Prefix: "/static", Dir: filepath.Join(base, "static")}}
	plain, err := New(Options{Maps: maps})
	if err != nil {
		t.Fatal(err)
	}
	defer plain.Close()
	if served, w := do(plain, "GET", "/static/outdir/secret.txt"); !served || w.Code != 403 {
		t.Fatalf("without --static-safe: served %v %d, want 403", served, w.Code)
	}
	h, err := New(Options{Maps: maps, Safe: []string{filepath.Join(base, "secretdir")}})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	if served, w := do(h, "GET", "/static/outdir/secret.txt"); !served || w.Code != 200 || w.Body.String() != secret {
		t.Errorf("a link into the safe directory: served %v %d %q, want the file", served, w.Code, w.Body)
	}
	for _, target := range []string{"/static/out", "/static/abs"} { // ../secret.txt: outside the safe directory
		if served, w := do(h, "GET", target); !served || w.Code != 403 {
			t.Errorf("%s with another directory safe: served %v %d, want 403", target, served, w.Code)
		}
	}
	// A missing file under a link into the safe directory is missing, not
	// refused: its request goes to the app (review: 403).
	if err := os.Symlink(filepath.Join(base, "secretdir"), filepath.Join(base, "static", "pkg")); err != nil {
		t.Fatal(err)
	}
	if served, w := do(h, "GET", "/static/pkg/missing.css"); served {
		t.Errorf("a missing file under a link into the safe directory: served %v %d, want it passed to the app", served, w.Code)
	}
	if served, w := do(plain, "GET", "/static/pkg/missing.css"); !served || w.Code != 403 {
		t.Errorf("the same without --static-safe: served %v %d, want 403", served, w.Code)
	}
	// A safe directory that does not exist (a Python version's gone after
	// an upgrade) is skipped, as uWSGI skips it, for the caller to say.
	h2, err := New(Options{Maps: maps, Safe: []string{filepath.Join(base, "nowhere"), filepath.Join(base, "secretdir")}})
	if err != nil {
		t.Fatalf("a --static-safe directory that does not exist: %v", err)
	}
	defer h2.Close()
	if m := h2.Missing(); len(m) != 1 || m[0] != "--static-safe "+filepath.Join(base, "nowhere") {
		t.Errorf("Missing %q", m)
	}
	if served, w := do(h2, "GET", "/static/outdir/secret.txt"); !served || w.Code != 200 {
		t.Errorf("the other safe directory: served %v %d", served, w.Code)
	}
}

// manyRanges is n single-byte ranges, every other byte.
func manyRanges(n int) string {
	r := make([]string, n)
	for i := range r {
		r[i] = fmt.Sprintf("%d-%d", 2*i, 2*i)
	}
	return strings.Join(r, ",")
}

// Out of descriptors, a file is answered 500 and said in the log, as
// nginx does: it was a silent 403, and the operator looked for a
// permission problem. The descriptors back, the same file is served.
func TestOpenFailureIsServerError(t *testing.T) {
	var logged bytes.Buffer
	h, _ := newHandler(t, Options{Log: slog.New(slog.NewTextHandler(&logged, nil))})
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var held []*os.File
	func() {
		defer func() {
			for _, f := range held {
				f.Close()
			}
		}()
		// Take every descriptor below a low limit, then lower it there.
		low := lim
		low.Cur = 256
		for {
			f, err := os.Open(os.DevNull)
			if err != nil {
				t.Fatal(err)
			}
			if uint64(f.Fd()) >= low.Cur-1 {
				f.Close()
				break
			}
			held = append(held, f)
		}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &low); err != nil {
			t.Skip("cannot lower RLIMIT_NOFILE:", err)
		}
		defer syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		f, err := os.Open(os.DevNull) // the last one left
		if err == nil {
			held = append(held, f)
		}
		served, w := do(h, "GET", "/static/sub/index.html")
		if !served || w.Code != 500 {
			t.Errorf("out of descriptors: served %v, %d %q; want 500", served, w.Code, w.Body.String())
		}
	}()
	if !strings.Contains(logged.String(), "cannot open the file") || !strings.Contains(logged.String(), "too many open files") {
		t.Errorf("the failure was not logged: %q", logged.String())
	}
	if served, w := do(h, "GET", "/static/sub/index.html"); !served || w.Code != 200 {
		t.Errorf("with descriptors again: served %v, %d", served, w.Code)
	}
}
