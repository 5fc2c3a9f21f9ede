package tests

import (
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
)

func xsendfileGet(t *testing.T, s *server, path string) (int, string, http.Header) {
	t.Helper()
	resp, err := http.Get(s.URL(path))
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// TestXSendfile: with --x-sendfile-dir, carafe serves the file an app
// names in X-Sendfile (keeping the app's other headers), only from inside
// the configured directory; X-Accel-Redirect URIs go through
// --static-map. Without the options the headers are passed through.
func TestXSendfile(t *testing.T) {
	t.Parallel()
	dir := appDir("xsendfile")
	s := startApp(t, "xsendfile", "--x-sendfile-dir", filepath.Join(dir, "files"),
		"--x-accel-redirect", "--static-map", "/protected="+filepath.Join(dir, "files"))
	code, body, hdr := xsendfileGet(t, s, "/download")
	if code != 200 || body != "private report\n" || !strings.HasPrefix(hdr.Get("Content-Disposition"), "attachment") ||
		hdr.Get("X-Sendfile") != "" {
		t.Errorf("X-Sendfile: %d %q %v", code, body, hdr)
	}
	for _, p := range []string{"/escape", "/outside"} {
		if code, body, _ := xsendfileGet(t, s, p); code == 200 || strings.Contains(body, "outside") {
			t.Errorf("%s served a file outside --x-sendfile-dir: %d %q", p, code, body)
		}
	}
	if code, body, _ := xsendfileGet(t, s, "/accel"); code != 200 || body != "private report\n" {
		t.Errorf("X-Accel-Redirect: %d %q", code, body)
	}

	plain := startApp(t, "xsendfile")
	code, body, hdr = xsendfileGet(t, plain, "/download")
	if body != "this body is replaced by the file" || hdr.Get("X-Sendfile") == "" || code != 200 {
		t.Errorf("without --x-sendfile-dir the app's answer must pass unchanged: %d %q %v", code, body, hdr)
	}
}
