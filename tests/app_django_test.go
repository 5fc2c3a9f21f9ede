package tests

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// A real Django project (testdata/apps/django_site) served end to end
// from the test venv.
func TestAppDjango(t *testing.T) {
	t.Parallel()
	s := startApp(t, "django_site", "--virtualenv", venvDir(t), "--threads", "4")
	file := make([]byte, 1<<20)
	rand.Read(file)

	t.Run("template page", func(t *testing.T) {
		resp, body := httpGet(t, s.URL("/"))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{"<title>Django on carafe</title>", `<li class="item">two</li>`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		resp, body := httpGet(t, s.URL("/api/info?q=a+b%26c"))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var got map[string]string
		if err := json.Unmarshal(body, &got); err != nil || got["framework"] != "django" || got["q"] != "a b&c" || got["method"] != "GET" {
			t.Fatalf("%v %s", err, body)
		}
	})

	t.Run("form post", func(t *testing.T) {
		resp, err := http.PostForm(s.URL("/form"), url.Values{"name": {"Grace"}, "tag": {"x", "y=z"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct{ Fields map[string][]string }
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		if strings.Join(got.Fields["name"], ",") != "Grace" || strings.Join(got.Fields["tag"], "|") != "x|y=z" {
			t.Fatalf("fields %+v", got.Fields)
		}
	})

	t.Run("multipart upload", func(t *testing.T) {
		body, ctype := httpMultipart("photo.jpg", file, "hi")
		resp, err := http.Post(s.URL("/upload"), ctype, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got appUploadInfo
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		if got.Filename != "photo.jpg" || got.Size != len(file) || got.SHA256 != httpHexSHA(file) || got.Note != "hi" {
			t.Fatalf("upload seen as %+v, want %d bytes sha %s", got, len(file), httpHexSHA(file))
		}
	})

	// Django sizes request.body by CONTENT_LENGTH alone (WSGIRequest wraps
	// wsgi.input in LimitedStream(CONTENT_LENGTH or 0) and ignores
	// wsgi.input_terminated), so a chunked body reaches the view whole only
	// if the server supplies CONTENT_LENGTH for it.
	t.Run("chunked upload", func(t *testing.T) {
		data := file[:300<<10] // under DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB)
		req, _ := http.NewRequest("POST", s.URL("/raw"), httpChunkedReader{bytes.NewReader(data)})
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, body := httpDo(t, req)
		var got appUploadInfo
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v %s", resp.StatusCode, err, body)
		}
		if got.Size != len(data) || got.SHA256 != httpHexSHA(data) {
			cl := "absent"
			if got.ContentLength != nil {
				cl = fmt.Sprintf("%q", *got.ContentLength)
			}
			t.Fatalf("request.body saw %d bytes, want %d (CONTENT_LENGTH %s)", got.Size, len(data), cl)
		}
	})

	t.Run("csrf still enforced elsewhere", func(t *testing.T) {
		client := &http.Client{Transport: &http.Transport{}} // its own connection
		resp, err := client.PostForm(s.URL("/api/info"), url.Values{"a": {"b"}})
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 403 {
			t.Fatalf("POST to a CSRF-protected view: %d, want 403", resp.StatusCode)
		}
	})

	t.Run("not found", func(t *testing.T) {
		if resp, _ := httpGet(t, s.URL("/no/such/page")); resp.StatusCode != 404 {
			t.Fatalf("status %d, want 404", resp.StatusCode)
		}
	})

	t.Run("view raises", func(t *testing.T) {
		if resp, _ := httpGet(t, s.URL("/boom")); resp.StatusCode != 500 {
			t.Fatalf("status %d, want 500", resp.StatusCode)
		}
		httpExpectOK(t, s, "/")
	})
}
