package httpfront

import (
	"io"
	"strings"
	"testing"

	"carafe/internal/wsgi"
)

// An app's own Date or Server field stands alone: carafe adds its own only
// when the app gave none (Werkzeug's send_file sets Date, and two Date
// lines make nginx warn and some clients fail).
func TestAppDateAndServerNotDoubled(t *testing.T) {
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		if env["PATH_INFO"] == "/own" {
			c.Exch.Output(head("200 OK", "date", "Thu, 01 Jan 2026 00:00:00 GMT", "Server", "myapp",
				"Content-Length", "2"), []byte("ok"), nil, true)
		} else {
			c.Exch.Output(head("200 OK", "Content-Length", "2"), []byte("ok"), nil, true)
		}
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	for path, want := range map[string][]string{
		"/own":   {"date: Thu, 01 Jan 2026 00:00:00 GMT", "Server: myapp"},
		"/plain": {"Date: ", "Server: carafe"},
	} {
		io.WriteString(c, "GET "+path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		h, _ := readResponse(t, br)
		lower := strings.ToLower(h)
		if n, m := strings.Count(lower, "\ndate:"), strings.Count(lower, "\nserver:"); n != 1 || m != 1 {
			t.Errorf("%s: %d Date and %d Server fields, want one each:\n%s", path, n, m, h)
		}
		for _, w := range want {
			if !strings.Contains(h, w) {
				t.Errorf("%s: no %q in\n%s", path, w, h)
			}
		}
	}
}

// "Host: example.com:" has an empty port, which RFC 3986 allows and means
// the default: SERVER_PORT is 80, not "" (wsgiref's request_uri then
// built "http://example.com:/").
func TestHostWithEmptyPort(t *testing.T) {
	got := make(chan string, 1)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		got <- env["SERVER_NAME"] + " " + env["SERVER_PORT"]
		c.Exch.Output(head("204 No Content"), nil, nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{})
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: example.com:\r\n\r\n")
	readResponse(t, br)
	if g := <-got; g != "example.com 80" {
		t.Errorf("SERVER_NAME SERVER_PORT %q, want \"example.com 80\"", g)
	}
}
