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
	"time"
)

// appUploadInfo is what the Flask and Django upload/raw views answer.
type appUploadInfo struct {
	Filename      string  `json:"filename"`
	Size          int     `json:"size"`
	SHA256        string  `json:"sha256"`
	Note          string  `json:"note"`
	ContentLength *string `json:"content_length"`
}

// A real Flask app (testdata/apps/flask_site) served end to end from the
// test venv.
func TestAppFlask(t *testing.T) {
	t.Parallel()
	s := startApp(t, "flask_site", "--virtualenv", venvDir(t), "--threads", "4")
	file := make([]byte, 1<<20)
	rand.Read(file)

	t.Run("template page", func(t *testing.T) {
		resp, body := httpGet(t, s.URL("/"))
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		for _, want := range []string{"<title>Flask on carafe</title>", `<li class="item">beta</li>`} {
			if !strings.Contains(string(body), want) {
				t.Errorf("page lacks %q:\n%s", want, body)
			}
		}
	})

	t.Run("json", func(t *testing.T) {
		resp, body := httpGet(t, s.URL("/api/greet?name=caf%C3%A9"))
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
			t.Fatalf("%d %q", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		var got struct {
			Greeting string `json:"greeting"`
			Length   int    `json:"length"`
		}
		if err := json.Unmarshal(body, &got); err != nil || got.Greeting != "hello café" || got.Length != 4 {
			t.Fatalf("%v %+v %s", err, got, body)
		}
	})

	t.Run("form post", func(t *testing.T) {
		resp, err := http.PostForm(s.URL("/form"), url.Values{"name": {"Ada"}, "tag": {"a", "b & c"}})
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got struct{ Fields map[string][]string }
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		if strings.Join(got.Fields["name"], ",") != "Ada" || strings.Join(got.Fields["tag"], "|") != "a|b & c" {
			t.Fatalf("fields %+v", got.Fields)
		}
	})

	t.Run("multipart upload", func(t *testing.T) {
		body, ctype := httpMultipart("data.bin", file, "a note")
		resp, err := http.Post(s.URL("/upload"), ctype, bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got appUploadInfo
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v", resp.StatusCode, err)
		}
		if got.Filename != "data.bin" || got.Size != len(file) || got.SHA256 != httpHexSHA(file) || got.Note != "a note" {
			t.Fatalf("upload seen as %+v, want %d bytes sha %s", got, len(file), httpHexSHA(file))
		}
	})

	t.Run("chunked upload", func(t *testing.T) {
		req, _ := http.NewRequest("POST", s.URL("/raw"), httpChunkedReader{bytes.NewReader(file)})
		req.ContentLength = -1
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, body := httpDo(t, req)
		var got appUploadInfo
		if err := json.Unmarshal(body, &got); err != nil || resp.StatusCode != 200 {
			t.Fatalf("%d %v %s", resp.StatusCode, err, body)
		}
		if got.Size != len(file) || got.SHA256 != httpHexSHA(file) {
			t.Fatalf("request.get_data() saw %d bytes (sha %s), want %d", got.Size, got.SHA256, len(file))
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
		if !s.waitLog("flask_site boom", 3*time.Second) {
			t.Errorf("the view's traceback is not in the log")
		}
		httpExpectOK(t, s, "/")
	})

	// A client that leaves mid-upload: Werkzeug's ClientDisconnected, a
	// 400 that Flask does not log, as under uWSGI, not an error traceback
	// and a 500 for every dropped mobile upload.
	t.Run("upload cut short", func(t *testing.T) {
		for _, path := range []string{"/raw", "/upload"} {
			mark := len(s.Log())
			c := s.dial()
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\n"+
				"Content-Length: 2000000\r\n\r\n--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\n%s",
				path, strings.Repeat("x", 100000))
			time.Sleep(100 * time.Millisecond) // the view is reading
			c.Close()
			want := `"POST ` + path + ` HTTP/1.1" 400 `
			if !wsgiEventually(5*time.Second, func() bool { return strings.Contains(wsgiLogSince(s, mark), want) }) {
				t.Errorf("%s: no %s line; log since:\n%s", path, want, wsgiLogSince(s, mark))
			}
			if log := wsgiLogSince(s, mark); strings.Contains(log, "Traceback") || strings.Contains(log, "Exception on") {
				t.Errorf("%s: the dropped upload was logged as an error:\n%s", path, log)
			}
		}
	})
}
