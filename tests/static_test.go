package tests

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestStaticMap: --static-map files are served by Go (the app never sees
// them), with validators, ranges, precompressed siblings and an index;
// missing files fall through to the app; traversal is refused.
func TestStaticMap(t *testing.T) {
	t.Parallel()
	dir := appDir("static_site")
	s := startApp(t, "static_site", "--static-map", "/static="+filepath.Join(dir, "static"),
		"--static-index", "index.html", "--static-max-age", "60")
	blob, err := os.ReadFile(filepath.Join(dir, "static", "blob.bin"))
	if err != nil {
		t.Fatal(err)
	}
	get := func(path string, hdr ...string) (*http.Response, []byte) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.URL(path), nil)
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		tr := &http.Transport{DisableCompression: true}
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			t.Fatalf("GET %s: %v", path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, b
	}

	resp, body := get("/static/blob.bin")
	if resp.StatusCode != 200 || !bytes.Equal(body, blob) || resp.Header.Get("Content-Length") != "100000" {
		t.Errorf("blob: %d, %d bytes, CL %q", resp.StatusCode, len(body), resp.Header.Get("Content-Length"))
	}
	etag := resp.Header.Get("Etag")
	if etag == "" || resp.Header.Get("Last-Modified") == "" || !strings.Contains(resp.Header.Get("Cache-Control"), "max-age=60") {
		t.Errorf("blob headers: %v", resp.Header)
	}
	if resp, _ := get("/static/blob.bin", "If-None-Match", etag); resp.StatusCode != 304 {
		t.Errorf("If-None-Match: %d, want 304", resp.StatusCode)
	}
	resp, body = get("/static/blob.bin", "Range", "bytes=100-199")
	if resp.StatusCode != 206 || !bytes.Equal(body, blob[100:200]) {
		t.Errorf("range: %d, %d bytes", resp.StatusCode, len(body))
	}
	if resp, _ := get("/static/blob.bin", "Range", "bytes=200000-"); resp.StatusCode != 416 {
		t.Errorf("unsatisfiable range: %d, want 416", resp.StatusCode)
	}
	resp, body = get("/static/css/site.css", "Accept-Encoding", "gzip")
	if resp.Header.Get("Content-Encoding") != "gzip" || resp.Header.Get("Vary") != "Accept-Encoding" ||
		!strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || body[0] != 0x1f {
		t.Errorf("precompressed: %v", resp.Header)
	}
	resp, body = get("/static/css/site.css")
	if resp.Header.Get("Content-Encoding") != "" || string(body) != "body { color: #333; }\n" {
		t.Errorf("plain css: %v %q", resp.Header, body)
	}
	if resp, body := get("/static/docs/"); resp.StatusCode != 200 || string(body) != "<h1>docs</h1>\n" {
		t.Errorf("index: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("/static/missing.txt"); resp.StatusCode != 200 || string(body) != "app:/static/missing.txt" {
		t.Errorf("missing file should reach the app: %d %q", resp.StatusCode, body)
	}
	if resp, body := get("/hello"); string(body) != "app:/hello" {
		t.Errorf("app route: %d %q", resp.StatusCode, body)
	}
	// HEAD: headers, no body.
	c := s.dial()
	io.WriteString(c, "HEAD /static/blob.bin HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	raw, _ := io.ReadAll(c)
	if !bytes.Contains(raw, []byte("Content-Length: 100000")) || !bytes.HasSuffix(raw, []byte("\r\n\r\n")) {
		t.Errorf("HEAD: %q", raw)
	}
	// Traversal, sent raw so nothing cleans the path first.
	for _, p := range []string{"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
		"/static/%2e%2e%2fsecret.txt", "/static/.%2e/secret.txt", "/static/..\\secret.txt", "/static/x%00.css"} {
		c := s.dial()
		io.WriteString(c, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		raw, _ := io.ReadAll(c)
		if bytes.Contains(raw, []byte("secret")) || !(bytes.HasPrefix(raw, []byte("HTTP/1.1 403")) || bytes.HasPrefix(raw, []byte("HTTP/1.1 404")) || bytes.HasPrefix(raw, []byte("HTTP/1.1 400"))) {
			t.Errorf("traversal %s: %q", p, raw)
		}
	}
}

// --add-header reaches every response: the app's and --static-map's, on
// HTTP and on the uwsgi socket, after the app's own headers.
func TestAddHeader(t *testing.T) {
	t.Parallel()
	dir := appDir("static_site")
	sock := filepath.Join(t.TempDir(), "app.sock")
	s := startApp(t, "static_site", "--static-map", "/static="+filepath.Join(dir, "static"), "--socket", sock,
		"--add-header", "X-Frame-Options: DENY", "--add-header", "Strict-Transport-Security:max-age=63072000")
	for _, path := range []string{"/page", "/static/css/site.css"} {
		resp, err := http.Get(s.URL(path))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if got := resp.Header.Values("X-Frame-Options"); len(got) != 1 || got[0] != "DENY" {
			t.Errorf("GET %s: X-Frame-Options %q, want one DENY", path, got)
		}
		if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=63072000" {
			t.Errorf("GET %s: Strict-Transport-Security %q", path, got)
		}
	}
	c := uwsgiDial(t, sock)
	c.Write(uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/page"}, {"SERVER_PROTOCOL", "HTTP/1.1"}}, ""))
	raw, _ := io.ReadAll(c)
	if !bytes.Contains(raw, []byte("\r\nX-Frame-Options: DENY\r\n")) {
		t.Errorf("uwsgi response lacks the added header: %q", raw)
	}
}

// --check-static DIR serves the whole path under DIR, as uWSGI's docroot;
// --static-skip-ext keeps the app's own code (.py) out of it: those
// requests, like those for missing files, reach the app.
func TestCheckStaticSkipExt(t *testing.T) {
	t.Parallel()
	dir := appDir("static_site")
	s := startApp(t, "static_site", "--check-static", dir, "--static-skip-ext", ".py", "--static-skip-ext", ".pyc")
	get := func(path string) (int, string) {
		code, body, _ := xsendfileGet(t, s, path)
		return code, body
	}
	if code, body := get("/static/blob.bin"); code != 200 || len(body) != 100000 {
		t.Errorf("/static/blob.bin from the docroot: %d, %d bytes", code, len(body))
	}
	for _, path := range []string{"/wsgi.py", "/no-such-file"} {
		if code, body := get(path); code != 200 || body != "app:"+path {
			t.Errorf("%s: %d %.60q, want the app's answer", path, code, body)
		}
	}
}

// --static-map2 looks the whole URL path up under its directory (uWSGI's
// static-map2): /static=DIR serves /static/x from DIR/static/x.
func TestStaticMap2(t *testing.T) {
	t.Parallel()
	s := startApp(t, "static_site", "--static-map2", "/static="+appDir("static_site"))
	if code, body, _ := xsendfileGet(t, s, "/static/blob.bin"); code != 200 || len(body) != 100000 {
		t.Errorf("/static/blob.bin: %d, %d bytes, want the 100000-byte file under DIR/static", code, len(body))
	}
	if code, body, _ := xsendfileGet(t, s, "/static/no-such-file"); code != 200 || body != "app:/static/no-such-file" {
		t.Errorf("/static/no-such-file: %d %.60q, want the app's answer", code, body)
	}
}

// --disable-sendfile: static files are read and written, and arrive whole
// (which path the bytes took is checked in httpfront's TestServerNoSendfile).
func TestStaticDisableSendfile(t *testing.T) {
	t.Parallel()
	dir := appDir("static_site")
	s := startApp(t, "static_site", "--static-map", "/static="+filepath.Join(dir, "static"), "--disable-sendfile")
	want, err := os.ReadFile(filepath.Join(dir, "static", "blob.bin"))
	if err != nil {
		t.Fatal(err)
	}
	if code, body, _ := xsendfileGet(t, s, "/static/blob.bin"); code != 200 || body != string(want) {
		t.Errorf("/static/blob.bin: %d, %d bytes, want the file's %d", code, len(body), len(want))
	}
}

// uWSGI's static-expires options, as Django deployments set them for
// hashed file names: the first rule matching a file sets its caching
// headers; --static-max-age covers the rest.
func TestStaticExpires(t *testing.T) {
	t.Parallel()
	dir := appDir("static_site")
	s := startApp(t, "static_site", "--static-map", "/static="+filepath.Join(dir, "static"),
		"--static-expires-uri", `/static/css/.*\.css$ 315360000`, "--static-expires-type", "application/octet-stream=2000",
		"--static-max-age", "60", "--static-index", "index.html")
	for path, want := range map[string]string{
		"/static/css/site.css": "public, max-age=315360000",
		"/static/blob.bin":     "public, max-age=2000",
		"/static/docs/":        "public, max-age=60",
	} {
		code, _, hdr := xsendfileGet(t, s, path)
		if got := hdr.Get("Cache-Control"); code != 200 || got != want || hdr.Get("Expires") == "" {
			t.Errorf("%s: %d Cache-Control %q Expires %q, want %q", path, code, got, hdr.Get("Expires"), want)
		}
	}
}
