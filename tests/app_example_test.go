package tests

import (
	"encoding/json"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
)

// The bundled example starts with the exact command line `make run` uses
// (bar the port) and serves its pages.
func TestAppExample(t *testing.T) {
	t.Parallel()
	s := start(t, "--virtualenv", venvDir(t), "--chdir", filepath.Join(root, "examples", "flaskapp"), "--module", "app:app")

	resp, body := httpGet(t, s.URL("/"))
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !strings.Contains(string(body), "<h1>Hello from carafe</h1>") {
		t.Fatalf("GET /: unexpected page:\n%s", body)
	}

	resp, body = httpGet(t, s.URL("/api/status"))
	var st map[string]any
	if err := json.Unmarshal(body, &st); err != nil || resp.StatusCode != 200 {
		t.Fatalf("GET /api/status: %d %v %s", resp.StatusCode, err, body)
	}

	// The guestbook form posts back and redirects to the page showing it.
	resp, err := http.PostForm(s.URL("/"), url.Values{"name": {"tester"}, "message": {"<hello & welcome>"}})
	if err != nil {
		t.Fatal(err)
	}
	page := new(strings.Builder)
	resp.Body.Close()
	_, b := httpGet(t, s.URL("/"))
	page.Write(b)
	if resp.StatusCode != 200 || !strings.Contains(page.String(), "&lt;hello &amp; welcome&gt;") {
		t.Fatalf("guestbook entry not shown (status %d):\n%s", resp.StatusCode, page)
	}
}
