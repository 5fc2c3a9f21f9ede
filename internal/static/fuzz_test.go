package static

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// FuzzResolve drives raw request paths through the resolver and the whole
// handler. It checks that cleanRel never yields a path that could leave
// the directory, that a file the handler opens is, by the kernel's own
// account (/proc/self/fd), inside the directory, and that no response
// carries the content of a file outside it.
func FuzzResolve(f *testing.F) {
	for _, tt := range traversalTests {
		f.Add(tt.target)
	}
	for _, s := range []string{"/static/a.css", "/static/sub/", "/static/sub", "/static/in",
		"/static/insub/index.html", "/static/fifo", "/static/lit/%252e%252e", "/static/./a.css",
		"/static/absin", "/static/absdir/index.html", "/static/viaparent"} {
		f.Add(s)
	}
	h, base := newHandler(f, Options{Index: []string{"index.html", "secret.txt"}, Precompressed: true})
	dir, err := filepath.EvalSymlinks(filepath.Join(base, "static"))
	if err != nil {
		f.Fatal(err)
	}
	_, procErr := os.Stat("/proc/self/fd")
	f.Fuzz(func(t *testing.T, raw string) {
		decoded, err := url.PathUnescape(raw)
		if err != nil {
			return
		}
		checkClean(t, dir, decoded)
		if procErr == nil {
			checkOpen(t, h, dir, decoded)
		}
		r := &http.Request{Method: "GET", URL: &url.URL{Path: decoded, RawPath: raw}, Header: http.Header{
			"Accept-Encoding": {"br, gzip"},
		}}
		w := httptest.NewRecorder()
		served := h.Serve(w, r)
		if strings.Contains(w.Body.String(), secret) {
			t.Fatalf("%q leaked a file outside the directory", raw)
		}
		switch {
		case !served && (w.Body.Len() != 0 || len(w.Header()) != 0):
			t.Fatalf("%q: not served, yet wrote %d %v", raw, w.Code, w.Header())
		case served && w.Code != 200 && w.Code != 301 && w.Code != 403:
			t.Fatalf("%q: unexpected %d", raw, w.Code)
		}
	})
}

// checkClean checks cleanRel's promise for every suffix a prefix could
// leave.
func checkClean(t *testing.T, dir, decoded string) {
	for _, rest := range []string{decoded, "/" + decoded} {
		rel, _, ok := cleanRel(rest)
		if !ok {
			continue
		}
		if rel == "" || strings.HasPrefix(rel, "/") || strings.IndexByte(rel, 0) >= 0 {
			t.Fatalf("cleanRel(%q) = %q", rest, rel)
		}
		for seg := range strings.SplitSeq(rel, "/") {
			if seg == ".." || seg == "" || (seg == "." && rel != ".") {
				t.Fatalf("cleanRel(%q) = %q: bad segment %q", rest, rel, seg)
			}
		}
		if p := filepath.Join(dir, rel); p != dir && !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("cleanRel(%q) = %q leaves %s", rest, rel, dir)
		}
	}
}

// checkOpen opens what the first mapping would open for decoded and asks
// the kernel where that file really is.
func checkOpen(t *testing.T, h *Handler, dir, decoded string) {
	rest, ok := cutPrefixString(decoded, h.maps[0].prefix)
	if !ok {
		return
	}
	rel, _, ok := cleanRel(rest)
	if !ok {
		return
	}
	file, _, res, _ := h.maps[0].cur.Load().open(rel)
	if res != found {
		return
	}
	defer file.Close()
	real, err := os.Readlink("/proc/self/fd/" + strconv.Itoa(int(file.Fd())))
	if err != nil {
		t.Fatal(err)
	}
	if real != dir && !strings.HasPrefix(real, dir+"/") {
		t.Fatalf("%q opened %s, outside %s", decoded, real, dir)
	}
}
