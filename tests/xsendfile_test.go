package tests

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestXSendfile: with --x-sendfile-dir, carafe serves the file an app
// names in X-Sendfile (keeping the app's other headers), only from inside
// the configured directory; X-Accel-Redirect URIs go through
// --static-map. Without the options the headers are passed through.
func TestXSendfile(t *testing.T) {
	t.Parallel()
	dir := appDir("xsendfile")
	s := startApp(t, "xsendfile", "--x-sendfile-dir", filepath.Join(dir, "files"),
		"--x-accel-redirect", "--static-map", "/protected="+filepath.Join(dir, "files"))
	code, body, hdr := redirectGet(t, s, "/download")
	if code != 200 || body != "private report\n" || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment") ||
		hdr.Get("X-Sendfile") != "" {
		t.Errorf("X-Sendfile: %d %q %v", code, body, hdr)
	}
	for _, p := range []string{"/escape", "/outside"} {
		if code, body, _ := redirectGet(t, s, p); code == 200 || strings.Contains(body, "outside") {
			t.Errorf("%s served a file outside --x-sendfile-dir: %d %q", p, code, body)
		}
	}
	if code, body, _ := redirectGet(t, s, "/accel"); code != 200 || body != "private report\n" {
		t.Errorf("X-Accel-Redirect: %d %q", code, body)
	}

	plain := startApp(t, "xsendfile")
	code, body, hdr = redirectGet(t, plain, "/download")
	if body != "this body is replaced by the file" || hdr.Get("X-Sendfile") == "" || code != 200 {
		t.Errorf("without --x-sendfile-dir the app's answer must pass unchanged: %d %q %v", code, body, hdr)
	}
}

// redirectGet sends GET path with the request headers hdr (name, value
// pairs) and returns the response.
func redirectGet(t *testing.T, s *server, path string, hdr ...string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest("GET", s.URL(path), nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestXSendfileKeepsAppHeaders: the app's Cache-Control, Expires,
// Content-Type, ETag and Date stand over the ones carafe would give the file
// (the type from the name), as nginx, Apache and uWSGI keep them: an
// upload forced to text/plain must not turn into HTML. Where the app set
// no caching header, none is added: --static-max-age and the expiry rules
// are for public files, and a permission-checked download (Django's
// django-sendfile sets nothing) went out "public, max-age=3600", for
// shared caches to give whoever asks next.
func TestXSendfileKeepsAppHeaders(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "upload.html"), []byte("<script>alert(1)</script>"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "xsendfile_echo", "--static-max-age", "3600", "--x-sendfile-dir", dir, "--x-accel-redirect",
		"--static-map", "/static="+dir, "--static-expires-type", "text/html=600")
	file := filepath.Join(dir, "upload.html")
	for _, path := range []string{"/xs?" + file, "/xa?/static/upload.html"} {
		code, body, hdr := redirectGet(t, s, path, "X-Extra",
			"Cache-Control:private, no-store|Content-Type:text/plain|Etag:\"v1\"|Date:Thu, 01 Jan 2026 00:00:00 GMT")
		if code != 200 || body != "<script>alert(1)</script>" || hdr.Get("Cache-Control") != "private, no-store" ||
			hdr.Get("Expires") != "" || hdr.Get("Content-Type") != "text/plain" || hdr.Get("Etag") != `"v1"` {
			t.Errorf("%s: %d %q %v", path, code, body, hdr)
		}
		// Werkzeug's send_file sets Date: it is the only one.
		if d := hdr.Values("Date"); len(d) != 1 || d[0] != "Thu, 01 Jan 2026 00:00:00 GMT" {
			t.Errorf("%s: Date fields %q, want the app's alone", path, d)
		}
		code, _, hdr = redirectGet(t, s, path)
		if code != 200 || hdr.Get("Cache-Control") != "" || hdr.Get("Expires") != "" ||
			!strings.HasPrefix(hdr.Get("Content-Type"), "text/html") || hdr.Get("Etag") == "" {
			t.Errorf("%s without the app's headers: %d %v", path, code, hdr)
		}
	}
	// The same file asked for under --static-map is public, and gets them.
	if code, _, hdr := redirectGet(t, s, "/static/upload.html"); code != 200 || hdr.Get("Cache-Control") != "public, max-age=600" {
		t.Errorf("/static/upload.html: %d %v", code, hdr)
	}
}

// TestXAccelMapIsInternal: an --x-accel-map directory serves the files an
// app names in X-Accel-Redirect, as nginx's internal location does, and
// never a client that asks for them itself: its request goes to the app.
// With --static-map alone (the only way before), a permission-checked
// download was one GET away from anybody.
func TestXAccelMapIsInternal(t *testing.T) {
	t.Parallel()
	private, public := t.TempDir(), t.TempDir()
	for dir, name := range map[string]string{private: "invoice.txt", public: "site.css"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("file "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startApp(t, "xsendfile_echo", "--x-accel-map", "/protected="+private, "--static-map", "/static="+public)
	for path, want := range map[string]string{
		"/xa?/protected/invoice.txt": "file invoice.txt", // through the app: served
		"/protected/invoice.txt":     "app /protected/invoice.txt",
		"/xa?/static/site.css":       "file site.css", // a public one too
		"/static/site.css":           "file site.css",
	} {
		if code, body, _ := redirectGet(t, s, path); code != 200 || body != want {
			t.Errorf("%s: %d %q, want 200 %q", path, code, body, want)
		}
	}
}

// An X-Sendfile path naming a directory gets 404, with a trailing slash
// too: --static-index is for --static-map, and a path the app built from
// an empty name served that directory's index file.
func TestXSendfileDirectoryNoIndex(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "index.html"), []byte("index"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "xsendfile_echo", "--x-sendfile-dir", dir, "--static-index", "index.html")
	for _, p := range []string{filepath.Join(dir, "sub") + "/", filepath.Join(dir, "sub")} {
		if code, body, _ := redirectGet(t, s, "/xs?"+url.PathEscape(p)); code != 404 {
			t.Errorf("X-Sendfile %s: %d %q, want 404", p, code, body)
		}
	}
	if code, body, _ := redirectGet(t, s, "/xs?"+url.PathEscape(filepath.Join(dir, "sub", "index.html"))); code != 200 || body != "index" {
		t.Errorf("the file itself: %d %q", code, body)
	}
}

// An app that sets both X-Sendfile and X-Accel-Redirect gets the last,
// each read as its own kind: a path, a URI.
func TestXSendfileBothHeadersLastWins(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a.txt", "b.txt"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("file "+name), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startApp(t, "xsendfile_echo", "--x-sendfile-dir", dir, "--x-accel-redirect", "--static-map", "/static="+dir)
	for _, tc := range []struct{ path, extra, want string }{
		{"/xa?/static/b.txt", "X-Sendfile:" + filepath.Join(dir, "a.txt"), "file b.txt"},
		{"/xs?" + filepath.Join(dir, "a.txt"), "X-Accel-Redirect:/static/b.txt", "file a.txt"},
	} {
		// (X-Extra's headers come before the one the path names.)
		if code, body, _ := redirectGet(t, s, tc.path, "X-Extra", tc.extra); code != 200 || body != tc.want {
			t.Errorf("%s with %s: %d %q, want 200 %q", tc.path, tc.extra, code, body, tc.want)
		}
	}
}

// The app's Vary stays when carafe adds Accept-Encoding for a file with a
// precompressed sibling (X-Accel-Redirect, with --static-precompressed) (Django's sessions vary a protected download on
// Cookie: dropped, a shared cache could give one user's file to another),
// and a file the app says is already encoded (Content-Encoding: gzip on a
// .gz it names) still goes out with its Content-Length, GET and HEAD alike,
// on a connection kept alive.
func TestXSendfileVaryAndEncodedLength(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{"app.css": "body{}\n", "app.css.gz": "GZ-CSS", "doc.txt.gz": "GZIPPED-DOC"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startApp(t, "xsendfile_echo", "--x-sendfile-dir", dir, "--x-accel-redirect", "--static-map", "/static="+dir,
		"--static-precompressed")
	_, _, hdr := redirectGet(t, s, "/xa?/static/app.css", "X-Extra", "Vary:Cookie")
	if v := strings.Join(hdr.Values("Vary"), ", "); v != "Cookie, Accept-Encoding" {
		t.Errorf("X-Accel-Redirect: Vary %q, want the app's Cookie and Accept-Encoding", v)
	}
	// X-Sendfile names a file: never a sibling FILE.gz in its place.
	_, body, hdr := redirectGet(t, s, "/xs?"+filepath.Join(dir, "app.css"), "X-Extra", "Vary:Cookie", "Accept-Encoding", "gzip")
	if v := strings.Join(hdr.Values("Vary"), ", "); v != "Cookie" || body != "body{}\n" || hdr.Get("Content-Encoding") != "" {
		t.Errorf("X-Sendfile: Vary %q, Content-Encoding %q, body %q; want the app's Vary and the file it named",
			v, hdr.Get("Content-Encoding"), body)
	}
	path := "/xs?" + filepath.Join(dir, "doc.txt.gz")
	for _, method := range []string{"GET", "HEAD"} {
		c := s.dial()
		fmt.Fprintf(c, "%s %s HTTP/1.1\r\nHost: x\r\nX-Extra: Content-Type:application/gzip|Content-Encoding:gzip\r\n\r\n", method, path)
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		r, err := httpReadResponse(bufio.NewReader(c), method)
		c.Close()
		if err != nil || r.Status != 200 || r.Header.Get("Content-Length") != "11" || r.Header.Get("Connection") == "close" {
			t.Errorf("%s of an app-encoded file: %+v %v, want 200 with Content-Length 11, kept alive", method, r, err)
		}
	}
}

// TestXAccelRedirectEncoded: an X-Accel-Redirect value is a URI, as nginx
// takes it (django-sendfile's nginx backend quotes it): percent-decoded,
// its query dropped; a bad escape is a 404. X-Sendfile values are paths,
// and a directory named by one is no file (404, not a redirect).
func TestXAccelRedirectEncoded(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for name, body := range map[string]string{"a b.txt": "space", "é.txt": "accent", "a.txt": "plain", "sub/index.html": "index"} {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s := startApp(t, "xsendfile_echo", "--x-sendfile-dir", dir, "--x-accel-redirect", "--static-map", "/static="+dir,
		"--static-index", "index.html")
	tests := []struct {
		path string
		code int
		body string
	}{
		{"/xa?/static/a%20b.txt", 200, "space"},
		{"/xa?/static/%C3%A9.txt", 200, "accent"},
		{"/xa?/static/a.txt?v=1", 200, "plain"},
		{"/xa?/static/100%.txt", 404, ""},
		{"/xs?" + url.PathEscape(filepath.Join(dir, "a b.txt")), 200, "space"},
		{"/xs?" + url.PathEscape(filepath.Join(dir, "sub")), 404, ""},
	}
	for _, tt := range tests {
		code, body, hdr := redirectGet(t, s, tt.path)
		if code != tt.code || tt.body != "" && body != tt.body || hdr.Get("Location") != "" {
			t.Errorf("%s: %d %q %v, want %d %q", tt.path, code, body, hdr, tt.code, tt.body)
		}
	}
}

// TestXSendfileDirAnyPath: --x-sendfile-dir takes any directory, one
// with a space or a non-ASCII letter in its path too: it is a file path,
// not a URL prefix.
func TestXSendfileDirAnyPath(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "my files", "café")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "r é.txt"), []byte("report"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "xsendfile_echo", "--x-sendfile-dir", dir)
	if code, body, _ := redirectGet(t, s, "/xs?"+url.PathEscape(filepath.Join(dir, "r é.txt"))); code != 200 || body != "report" {
		t.Errorf("got %d %q", code, body)
	}
}

// --x-accel-redirect with nothing to serve from (no --x-accel-map, no
// --static-map) says so at the start and leaves the header to the server
// in front, as without the option: every such response was a 404.
func TestXAccelRedirectWithoutMaps(t *testing.T) {
	t.Parallel()
	s := startApp(t, "xsendfile_echo", "--x-accel-redirect")
	code, body, hdr := redirectGet(t, s, "/xa?/protected/a.txt")
	if code != 200 || body != "replaced by the file" || hdr.Get("X-Accel-Redirect") != "/protected/a.txt" {
		t.Errorf("%d %q %v, want the app's answer passed on", code, body, hdr)
	}
	if !strings.Contains(s.Log(), "--x-accel-redirect is not applied") {
		t.Errorf("no warning at the start:\n%s", s.Log())
	}
}
