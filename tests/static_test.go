package tests

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestStaticMap: --static-map files are served by Go (the app never sees
// them), with validators, ranges, precompressed siblings and an index;
// missing files fall through to the app; traversal is refused.
func TestStaticMap(t *testing.T) {
	t.Parallel()
	dir := appDir("static_site")
	s := startApp(t, "static_site", "--static-map", "/static="+filepath.Join(dir, "static"),
		"--static-index", "index.html", "--static-max-age", "60", "--static-precompressed")
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
	// Off by default: a sibling FILE.gz is not what FILE's URL gives.
	plain := startApp(t, "static_site", "--static-map", "/static="+filepath.Join(dir, "static"))
	tr := &http.Transport{DisableCompression: true}
	req, _ := http.NewRequest("GET", plain.URL("/static/css/site.css"), nil)
	req.Header.Set("Accept-Encoding", "gzip, br")
	if resp, err := (&http.Client{Transport: tr}).Do(req); err != nil {
		t.Error(err)
	} else {
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.Header.Get("Content-Encoding") != "" || string(body) != "body { color: #333; }\n" {
			t.Errorf("without --static-precompressed: %v %q, want the plain file", resp.Header, body)
		}
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
	// Traversal, sent raw so nothing cleans the path first: a dot segment,
	// encoded or not, is refused (400) before a file is looked for; a path
	// with a NUL, or backslashes (ordinary characters in a file name),
	// names no file and goes to the app (as under uWSGI); none reaches the
	// file secret.txt beside the directory.
	for _, p := range []string{"/static/../secret.txt", "/static/%2e%2e/secret.txt", "/static/..%2fsecret.txt",
		"/static/%2e%2e%2fsecret.txt", "/static/.%2e/secret.txt", "/static/..\\secret.txt", "/static/x%00.css",
		"/static/css/../../secret.txt"} {
		c := s.dial()
		io.WriteString(c, "GET "+p+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		raw, _ := io.ReadAll(c)
		_, body, _ := bytes.Cut(raw, []byte("\r\n\r\n"))
		dotted := !strings.ContainsAny(p, "\\\x00") && !strings.Contains(p, "%00")
		if dotted && !bytes.HasPrefix(raw, []byte("HTTP/1.1 400 ")) ||
			!dotted && (!bytes.HasPrefix(raw, []byte("HTTP/1.1 200 ")) || !bytes.HasPrefix(body, []byte("app:"))) {
			t.Errorf("traversal %s: %q, want 400 for a dot segment, else the app's answer", p, raw)
		}
	}
	// A fragment sent in the target is no part of the file's path, as it
	// is none of the app's PATH_INFO.
	c = s.dial()
	io.WriteString(c, "GET /static/css/site.css#top HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	if raw, _ := io.ReadAll(c); !bytes.HasPrefix(raw, []byte("HTTP/1.1 200 ")) || !bytes.Contains(raw, []byte("color: #333")) {
		t.Errorf("/static/css/site.css#top: %q, want the file", raw)
	}
	// Dot segments inside the directory too: no browser sends one.
	if resp, _ = get("/static/css/../blob.bin"); resp.StatusCode != 400 {
		t.Errorf("/static/css/../blob.bin: %d, want 400", resp.StatusCode)
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

// --add-header "Connection: close" (OpenStack's uWSGI configs carry it)
// closes every connection after its response, as uWSGI does, rather than
// say close and keep it open.
func TestAddHeaderConnectionClose(t *testing.T) {
	t.Parallel()
	s := startApp(t, "static_site", "--add-header", "Connection: close")
	c, br := wsgiRaw(t, s, "GET /page HTTP/1.1\r\nHost: x\r\n\r\nGET /page HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, _ := wsgiReadResp(t, br, "GET")
	if !resp.Close {
		t.Errorf("the response does not say Connection: close")
	}
	if rest, closed := wsgiReadToClose(c, br, 5*time.Second); len(rest) != 0 || !closed {
		t.Errorf("after the response: closed %v, then %.80q; want the connection closed, nothing more", closed, rest)
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
		code, body, _ := redirectGet(t, s, path)
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

// A mapped directory that is missing does not stop the start, as it does
// not stop uWSGI's (a Django STATIC_ROOT before collectstatic ran): a
// warning names the option and the value as the user gave them (and for
// --static-map2, the directory it looked for: DIR/URL, not the DIR given,
// which may well exist), and the URLs go to the app.
func TestStaticMissingDirNamed(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "nope")
	for _, args := range [][]string{
		{"--static-map", "/static=" + missing, ""},
		{"--static-map2", "/static=" + missing, " (its directory " + missing + "/static)"},
		{"--check-static", missing, ""},
		{"--x-sendfile-dir", missing, ""},
		{"--x-accel-map", "/protected=" + missing, ""},
	} {
		s := startApp(t, "static_site", append(args[:2:2], "--processes", "1", "--master")...)
		want := "not found; served once it exists"
		if !s.waitLog(want, 5*time.Second) || !strings.Contains(s.Log(), `option="`+args[0]+" "+args[1]+args[2]+`"`) {
			t.Errorf("%v: no warning naming the option; log:\n%s", args, s.Log())
		}
		if code, body, _ := redirectGet(t, s, "/static/a.css"); code != 200 || body != "app:/static/a.css" {
			t.Errorf("%v: /static/a.css: %d %.60q, want the app's answer", args, code, body)
		}
		s.stop()
	}
}

// A static directory made after the start (collectstatic run late) is
// served within a second or so, without a reload, and so is one replaced
// on disk; a --static-map of one file serves it at its URL alone, as
// uWSGI's does (Galaxy's and many sites' `/favicon.ico=static/favicon.ico`).
func TestStaticDirAppearsAndFileMapping(t *testing.T) {
	t.Parallel()
	base := t.TempDir()
	dir := filepath.Join(base, "collected")
	icon := filepath.Join(base, "favicon.ico")
	if err := os.WriteFile(icon, []byte("ICON"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "static_site", "--static-map", "/static="+dir, "--static-map", "/favicon.ico="+icon)
	if code, body, _ := redirectGet(t, s, "/static/a.css"); body != "app:/static/a.css" {
		t.Fatalf("/static/a.css before the directory exists: %d %.60q, want the app's answer", code, body)
	}
	if code, body, hdr := redirectGet(t, s, "/favicon.ico"); code != 200 || body != "ICON" ||
		hdr.Get("Content-Type") != "image/vnd.microsoft.icon" {
		t.Errorf("/favicon.ico: %d %.60q %v, want the file", code, body, hdr)
	}
	if _, body, _ := redirectGet(t, s, "/favicon.ico/x"); body != "app:/favicon.ico/x" {
		t.Errorf("/favicon.ico/x: %.60q, want the app's answer", body)
	}
	for i, content := range []string{"first", "rebuilt"} {
		os.RemoveAll(dir)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "a.css"), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		var body string
		for end := time.Now().Add(3 * time.Second); time.Now().Before(end); time.Sleep(100 * time.Millisecond) {
			if _, body, _ = redirectGet(t, s, "/static/a.css"); body == content {
				break
			}
		}
		if body != content {
			t.Errorf("step %d: /static/a.css is %.60q 3 s after the directory was made, want %q", i, body, content)
		}
	}
}

// --static-map2 looks the whole URL path up under its directory (uWSGI's
// static-map2): /static=DIR serves /static/x from DIR/static/x.
func TestStaticMap2(t *testing.T) {
	t.Parallel()
	s := startApp(t, "static_site", "--static-map2", "/static="+appDir("static_site"))
	if code, body, _ := redirectGet(t, s, "/static/blob.bin"); code != 200 || len(body) != 100000 {
		t.Errorf("/static/blob.bin: %d, %d bytes, want the 100000-byte file under DIR/static", code, len(body))
	}
	if code, body, _ := redirectGet(t, s, "/static/no-such-file"); code != 200 || body != "app:/static/no-such-file" {
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
	if code, body, _ := redirectGet(t, s, "/static/blob.bin"); code != 200 || body != string(want) {
		t.Errorf("/static/blob.bin: %d, %d bytes, want the file's %d", code, len(body), len(want))
	}
}

// uWSGI's static-expires options, as Django deployments set them for
// hashed file names: the first rule matching a file sets its caching
// headers, trying the kinds in uWSGI's order (a URI rule before a type
// rule, whichever came first: the type rule was tried first, and the
// exception never applied); --static-max-age covers the rest.
func TestStaticExpires(t *testing.T) {
	t.Parallel()
	dir := appDir("static_site")
	s := startApp(t, "static_site", "--static-map", "/static="+filepath.Join(dir, "static"),
		"--static-expires-type", "text/css=1000",
		"--static-expires-uri", `/static/css/.*\.css$ 315360000`, "--static-expires-type", "application/octet-stream=2000",
		"--static-max-age", "60", "--static-index", "index.html")
	for path, want := range map[string]string{
		"/static/css/site.css": "public, max-age=315360000",
		"/static/blob.bin":     "public, max-age=2000",
		"/static/docs/":        "public, max-age=60",
	} {
		code, _, hdr := redirectGet(t, s, path)
		if got := hdr.Get("Cache-Control"); code != 200 || got != want || hdr.Get("Expires") == "" {
			t.Errorf("%s: %d Cache-Control %q Expires %q, want %q", path, code, got, hdr.Get("Expires"), want)
		}
	}
}

// staticFiles lays out files (name → content) in a new directory.
func staticFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// staticSlowConn pauses before every read: a client that is never idle
// for long, yet takes far longer in all than a short --http-timeout.
type staticSlowConn struct{ net.Conn }

func (c staticSlowConn) Read(p []byte) (int, error) {
	time.Sleep(4 * time.Millisecond)
	return c.Conn.Read(p)
}

// staticSlowGet sends GET path on a new connection and reads the
// response slowly; it returns the status and how much body arrived.
func staticSlowGet(t *testing.T, s *server, path string) (int, int64) {
	t.Helper()
	c := s.dial()
	c.(*net.TCPConn).SetReadBuffer(64 << 10)
	io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReaderSize(staticSlowConn{c}, 64<<10), nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	// Reads of 64 KiB: io.Discard's own ReadFrom would read 8 KiB at a time.
	n, _ := io.CopyBuffer(struct{ io.Writer }{io.Discard}, resp.Body, make([]byte, 64<<10))
	return resp.StatusCode, n
}

// TestStaticSlowClient: --http-timeout bounds the time without progress,
// as docs/options.md says, for files too: a client that keeps reading
// gets the whole file from --static-map, X-Sendfile and
// wsgi.file_wrapper, however long the download takes in all.
func TestStaticSlowClient(t *testing.T) {
	t.Parallel()
	const size = 16 << 20
	dir := staticFiles(t, map[string]string{"big.bin": strings.Repeat("0123456789abcdef", size/16)})
	big := filepath.Join(dir, "big.bin")
	s := startApp(t, "xsendfile_echo", "--http-timeout", "0.5", "--static-map", "/static="+dir, "--x-sendfile-dir", dir)
	// A plain binary file is what file_wrapper hands to sendfile.
	fw := startAppEnv(t, []string{"DATA_FILE=" + big}, "file_wrapper_kinds", "--http-timeout", "0.5")
	for _, tt := range []struct {
		s    *server
		path string
	}{{s, "/static/big.bin"}, {s, "/xs?" + big}, {fw, "/plain"}} {
		start := time.Now()
		if code, n := staticSlowGet(t, tt.s, tt.path); code != 200 || n != size {
			t.Errorf("%s: %d, %d of %d bytes after %v", tt.path, code, n, size, time.Since(start))
		}
	}
}

// A directory's redirect over uwsgi keeps the query, but a CR LF in the
// gateway's QUERY_STRING (which no HTTP parser checked) is escaped: it
// ended the Location field and added fields of the client's choosing.
func TestStaticUWSGIRedirectQuery(t *testing.T) {
	t.Parallel()
	dir := staticFiles(t, map[string]string{"sub/index.html": "index"})
	sock := filepath.Join(t.TempDir(), "app.sock")
	startApp(t, "static_site", "--static-map", "/static="+dir, "--static-index", "index.html", "--socket", sock)
	c := uwsgiDial(t, sock)
	c.Write(uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/static/sub"},
		{"QUERY_STRING", "a=1\r\nSet-Cookie: pwned=1"}, {"SERVER_PROTOCOL", "HTTP/1.1"}}, ""))
	raw, _ := io.ReadAll(c)
	head, _, _ := strings.Cut(string(raw), "\r\n\r\n")
	head += "\r\n" // (Location may be the last field)
	if !strings.HasPrefix(head, "HTTP/1.1 301") || !strings.Contains(head, "\r\nLocation: ./sub/?a=1%0D%0ASet-Cookie: pwned=1\r\n") ||
		strings.Contains(head, "\r\nSet-Cookie") {
		t.Errorf("redirect with a CR LF in QUERY_STRING: %q", head)
	}
}

// TestStaticUWSGIRequest: behind nginx's uwsgi_pass, static files honour
// Range, conditional requests and Accept-Encoding from the HTTP_*
// variables, and are looked up by PATH_INFO (what nginx routed after its
// rewrites), not REQUEST_URI.
func TestStaticUWSGIRequest(t *testing.T) {
	t.Parallel()
	dir := staticFiles(t, map[string]string{"ten.txt": "0123456789", "ten.txt.gz": "GZ"})
	sock := filepath.Join(t.TempDir(), "app.sock")
	s := startApp(t, "static_site", "--static-map", "/static="+dir, "--socket", sock, "--static-precompressed")
	_, _, hdr := redirectGet(t, s, "/static/ten.txt")
	get := func(extra ...[2]string) string {
		t.Helper()
		vars := append([][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/static/ten.txt"},
			{"REQUEST_URI", "/static/ten.txt"}, {"SERVER_PROTOCOL", "HTTP/1.1"}}, extra...)
		c := uwsgiDial(t, sock)
		c.Write(uwsgiPacket(0, vars, ""))
		raw, _ := io.ReadAll(c)
		return string(raw)
	}
	for _, tt := range []struct {
		name, value, want string
	}{
		{"HTTP_RANGE", "bytes=0-1", "HTTP/1.1 206"},
		{"HTTP_IF_NONE_MATCH", hdr.Get("Etag"), "HTTP/1.1 304"},
		{"HTTP_IF_MODIFIED_SINCE", hdr.Get("Last-Modified"), "HTTP/1.1 304"},
		{"HTTP_IF_MATCH", `"other"`, "HTTP/1.1 412"},
	} {
		if raw := get([2]string{tt.name, tt.value}); !strings.HasPrefix(raw, tt.want) {
			t.Errorf("%s: %s: got %q", tt.name, tt.value, raw)
		}
	}
	if raw := get([2]string{"HTTP_ACCEPT_ENCODING", "gzip"}); !strings.Contains(raw, "Content-Encoding: gzip") || !strings.HasSuffix(raw, "\r\n\r\nGZ") {
		t.Errorf("Accept-Encoding: got %q", raw)
	}
	if raw := get([2]string{"REQUEST_URI", "/assets/ten.txt"}); !strings.HasSuffix(raw, "\r\n\r\n0123456789") {
		t.Errorf("REQUEST_URI from a rewrite: got %q, want the file PATH_INFO names", raw)
	}
}

// TestStaticAnswersKeepAlive: answers that are not a file (a directory's
// redirect, 403, 412, 416, an X-Sendfile that names nothing) keep the
// connection: the next pipelined request is answered.
func TestStaticAnswersKeepAlive(t *testing.T) {
	t.Parallel()
	dir := staticFiles(t, map[string]string{"ten.txt": "0123456789", "idx/index.html": "<p>i</p>"})
	if err := os.Symlink("/etc/passwd", filepath.Join(dir, "out")); err != nil { // a 403
		t.Fatal(err)
	}
	s := startApp(t, "xsendfile_echo", "--static-map", "/static="+dir, "--static-index", "index.html", "--x-sendfile-dir", dir)
	c := s.dial()
	br := bufio.NewReader(c)
	reqs := []struct{ req, status string }{
		{"GET /static/idx HTTP/1.1\r\nHost: x\r\n\r\n", "301"},
		{"GET /static/out HTTP/1.1\r\nHost: x\r\n\r\n", "403"},
		{"GET /static/ten.txt HTTP/1.1\r\nHost: x\r\nIf-Match: \"x\"\r\n\r\n", "412"},
		{"GET /static/ten.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=99-\r\n\r\n", "416"},
		{"GET /xs?" + dir + "/nope HTTP/1.1\r\nHost: x\r\n\r\n", "404"},
		{"GET /static/ten.txt HTTP/1.1\r\nHost: x\r\n\r\n", "200"},
	}
	var all string
	for _, r := range reqs {
		all += r.req
	}
	io.WriteString(c, all)
	for _, r := range reqs {
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatalf("%q: %v", r.req, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.Status[:3] != r.status || resp.Close {
			t.Fatalf("%q: got %s, Connection close %v", r.req, resp.Status, resp.Close)
		}
	}
}

// TestStaticEdges: symlinks that end inside the directory are served
// however they get there; Range edge cases follow RFC 9110 where
// ServeContent alone does not; a file of unknown type is
// application/octet-stream, never sniffed (nginx's default_type).
func TestStaticEdges(t *testing.T) {
	t.Parallel()
	dir := staticFiles(t, map[string]string{"ten.txt": "0123456789", "empty.txt": "",
		"page.dat": "<html><script>alert(1)</script>", "sub/in.txt": "in"})
	for name, target := range map[string]string{"abs.txt": filepath.Join(dir, "ten.txt"),
		"absdir": filepath.Join(dir, "sub"), "sub/viaparent.txt": "../../" + filepath.Base(dir) + "/ten.txt"} {
		if err := os.Symlink(target, filepath.Join(dir, name)); err != nil {
			t.Fatal(err)
		}
	}
	s := startApp(t, "static_site", "--static-map", "/static="+dir)
	get := func(path string, hdr ...string) (int, string, http.Header) {
		t.Helper()
		return redirectGet(t, s, path, hdr...)
	}
	for _, p := range []string{"/static/abs.txt", "/static/absdir/in.txt", "/static/sub/viaparent.txt"} {
		if code, body, _ := get(p); code != 200 || (body != "0123456789" && body != "in") {
			t.Errorf("%s: %d %q", p, code, body)
		}
	}
	if code, body, _ := get("/static/ten.txt", "Range", "items=0-1"); code != 200 || body != "0123456789" {
		t.Errorf("unknown range unit: %d %q, want the whole file", code, body)
	}
	if code, _, hdr := get("/static/ten.txt", "Range", "bytes=-0"); code != 416 || hdr.Get("Content-Range") != "bytes */10" {
		t.Errorf("bytes=-0: %d %v", code, hdr)
	}
	if code, _, hdr := get("/static/ten.txt", "Range", "bytes=5-2"); code != 416 || hdr.Get("Content-Range") != "bytes */10" {
		t.Errorf("bytes=5-2: %d %v", code, hdr)
	}
	if code, _, hdr := get("/static/empty.txt", "Range", "bytes=-1"); code != 200 || hdr.Get("Content-Range") != "" {
		t.Errorf("range on an empty file: %d %v", code, hdr)
	}
	if _, _, hdr := get("/static/page.dat"); hdr.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("unknown type: %q", hdr.Get("Content-Type"))
	}
}

// --static-safe DIR: a --static-map directory whose files are symlinks
// into DIR (Django's collectstatic --link) serves them; uWSGI does, and
// carafe answered 403 and warned of an unknown option.
func TestStaticSafeLinks(t *testing.T) {
	t.Parallel()
	outside := staticFiles(t, map[string]string{"admin/base.css": "body{}"})
	dir := t.TempDir()
	if err := os.Symlink(filepath.Join(outside, "admin"), filepath.Join(dir, "admin")); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "static_site", "--static-map", "/static="+dir, "--static-safe", outside, "--strict")
	if code, body, _ := redirectGet(t, s, "/static/admin/base.css"); code != 200 || body != "body{}" {
		t.Errorf("a file linked into --static-safe: %d %q, want the file", code, body)
	}
}
