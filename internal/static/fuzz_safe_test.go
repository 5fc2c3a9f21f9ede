package static

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzResolveSafe: with --static-safe naming one directory, links into it
// serve, and links into a sibling whose name only starts the same
// (pkg vs pkgx), or out by way of it, never do.
func FuzzResolveSafe(f *testing.F) {
	for _, s := range []string{"/static/topkg/ok.txt", "/static/topkgx/secret.txt", "/static/relx/secret.txt",
		"/static/topkg/../topkgx/secret.txt", "/static/topkg/up/secret.txt", "/static/pkgfile", "/static/topkg/"} {
		f.Add(s)
	}
	base := fixture(f)
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	must(os.MkdirAll(filepath.Join(base, "pkg"), 0o755))
	must(os.MkdirAll(filepath.Join(base, "pkgx"), 0o755))
	must(os.WriteFile(filepath.Join(base, "pkg", "ok.txt"), []byte("fine"), 0o644))
	must(os.WriteFile(filepath.Join(base, "pkgx", "secret.txt"), []byte(secret), 0o644))
	must(os.Symlink(filepath.Join(base, "pkg"), filepath.Join(base, "static", "topkg")))
	must(os.Symlink(filepath.Join(base, "pkgx"), filepath.Join(base, "static", "topkgx")))
	must(os.Symlink("../pkgx", filepath.Join(base, "static", "relx")))
	must(os.Symlink("..", filepath.Join(base, "pkg", "up")))                 // pkg/up -> base
	must(os.Symlink("../pkgx/secret.txt", filepath.Join(base, "pkg", "sx"))) // out of the safe dir
	must(os.Symlink(filepath.Join(base, "pkg", "sx"), filepath.Join(base, "static", "pkgfile")))
	h, err := New(Options{Maps: []Mapping{{Prefix: "/static", Dir: filepath.Join(base, "static")}},
		Safe: []string{filepath.Join(base, "pkg")}})
	must(err)
	f.Cleanup(func() { h.Close() })
	{
		w := httptest.NewRecorder()
		h.Serve(w, &http.Request{Method: "GET", URL: &url.URL{Path: "/static/topkg/ok.txt"}, Header: http.Header{}})
		if w.Body.String() != "fine" {
			f.Fatalf("safe link not served: %d %q", w.Code, w.Body.String())
		}
	}
	f.Fuzz(func(t *testing.T, raw string) {
		decoded, err := url.PathUnescape(raw)
		if err != nil {
			return
		}
		r := &http.Request{Method: "GET", URL: &url.URL{Path: decoded, RawPath: raw}, Header: http.Header{}}
		w := httptest.NewRecorder()
		h.Serve(w, r)
		if strings.Contains(w.Body.String(), secret) {
			t.Fatalf("%q leaked a file outside the directory and the safe one", raw)
		}
	})
}
