package tests

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// wsgiEnviron sends req on a fresh connection to the environ app and
// returns the decoded environ and the client's local port.
func wsgiEnviron(t *testing.T, s *server, req string) (map[string]any, string) {
	t.Helper()
	c, br := wsgiRaw(t, s, req)
	resp, body := wsgiReadResp(t, br, strings.Fields(req)[0])
	if resp.StatusCode != 200 {
		t.Fatalf("status %d, want 200 (the validator rejects a bad environ); body %q", resp.StatusCode, body)
	}
	env := map[string]any{}
	if err := json.Unmarshal(body, &env); err != nil {
		t.Fatalf("%v in %q", err, body)
	}
	_, port, _ := net.SplitHostPort(c.LocalAddr().String())
	return env, port
}

// wsgiCheckEnv compares env[k] with each want; a nil want means "absent".
func wsgiCheckEnv(t *testing.T, env map[string]any, want map[string]any) {
	t.Helper()
	for k, w := range want {
		got, ok := env[k]
		switch {
		case w == nil && ok:
			t.Errorf("environ[%q] = %#v, want the key absent", k, got)
		case w != nil && !ok:
			t.Errorf("environ[%q] missing, want %#v", k, w)
		case w != nil && !reflect.DeepEqual(got, w):
			t.Errorf("environ[%q] = %#v, want %#v", k, got, w)
		}
	}
}

// wsgiCheckTypes checks that every CGI (non-extension) key holds a str and
// that the wsgi.* objects have the methods PEP 3333 lists.
func wsgiCheckTypes(t *testing.T, env map[string]any) {
	t.Helper()
	types, _ := env["_types"].(map[string]any)
	if len(types) == 0 {
		t.Fatalf("no _types in environ dump")
	}
	for k, ty := range types {
		if !strings.Contains(k, ".") && ty != "str" {
			t.Errorf("environ[%q] is %v, want str (a native string)", k, ty)
		}
	}
	for _, k := range []string{"wsgi.input", "wsgi.errors", "wsgi.file_wrapper"} {
		if _, ok := env[k]; !ok {
			t.Errorf("environ[%q] missing", k)
		}
	}
	wsgiCheckEnv(t, env, map[string]any{
		"_input_methods":         []any{"read", "readline", "readlines", "__iter__"},
		"_errors_methods":        []any{"write", "writelines", "flush"},
		"_file_wrapper_callable": true,
	})
}

// --mount /app=APP with --manage-script-name (Flask's documented uWSGI
// command): a request under /app gets SCRIPT_NAME /app and the rest as
// PATH_INFO, over HTTP and over a uwsgi socket whose gateway sent no
// SCRIPT_NAME; other paths pass as they came. A path with a dot segment
// ("%2e" for a dot, or once "%2F" is decoded) is refused: "/app/../admin"
// went into the mount as "/../admin", and any way of resolving it let a
// path some proxy in front routed elsewhere reach "/admin" (nginx decodes
// "%2F" and merges "//" first, Apache keeps "%2F", HAProxy resolves none).
func TestWSGIMountManageScriptName(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "app.sock")
	s := start(t, "--chdir", appDir("environ"), "--mount", "/app=wsgi:application", "--manage-script-name",
		"--socket", sock)
	for _, tc := range []struct{ path, script, info string }{
		{"/app/x/y", "/app", "/x/y"},
		{"/app", "/app", ""},
		{"/application", "", "/application"},
		{"/other", "", "/other"},
		{"/app/x%2Fy/.well-known/..z", "/app", "/x/y/.well-known/..z"},
	} {
		env, _ := wsgiEnviron(t, s, "GET "+tc.path+" HTTP/1.1\r\nHost: x\r\n\r\n")
		if env["SCRIPT_NAME"] != tc.script || env["PATH_INFO"] != tc.info || env["REQUEST_URI"] != tc.path {
			t.Errorf("GET %s: SCRIPT_NAME %q PATH_INFO %q REQUEST_URI %q, want %q %q and the path", tc.path,
				env["SCRIPT_NAME"], env["PATH_INFO"], env["REQUEST_URI"], tc.script, tc.info)
		}
	}
	for _, p := range []string{"/app/../admin", "/app/x/%2e%2E/y", "/../app/./z", "/x/./y/..", "/app/x/..%2f..%2Fadmin",
		"/x%2F..%2Fapp/y", "/admin/a%2F../../", "/admin//../", "/a/.%2E", "http://x/app/../admin"} {
		c, br := wsgiRaw(t, s, "GET "+p+" HTTP/1.1\r\nHost: x\r\n\r\n")
		resp, err := http.ReadResponse(br, nil)
		if err != nil || resp.StatusCode != 400 {
			t.Errorf("GET %s: %v %v, want 400", p, resp, err)
		}
		c.Close()
	}
	c := uwsgiDial(t, sock)
	c.Write(uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/app/u"}, {"PATH_INFO", "/app/u"},
		{"SERVER_PROTOCOL", "HTTP/1.1"}, {"SERVER_NAME", "x"}, {"SERVER_PORT", "80"}}, ""))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("uwsgi response: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	env := map[string]any{}
	json.Unmarshal(body, &env)
	if env["SCRIPT_NAME"] != "/app" || env["PATH_INFO"] != "/u" {
		t.Errorf("uwsgi /app/u: SCRIPT_NAME %q PATH_INFO %q, want /app and /u", env["SCRIPT_NAME"], env["PATH_INFO"])
	}
}

// --wsgi-disable-file-wrapper leaves wsgi.file_wrapper out of the environ.
func TestWSGIDisableFileWrapper(t *testing.T) {
	t.Parallel()
	s := startApp(t, "environ", "--wsgi-disable-file-wrapper")
	env, _ := wsgiEnviron(t, s, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
	if v, ok := env["wsgi.file_wrapper"]; ok {
		t.Errorf("environ[wsgi.file_wrapper] = %v with --wsgi-disable-file-wrapper, want no such key", v)
	}
	if _, ok := env["wsgi.input"]; !ok {
		t.Errorf("environ lacks wsgi.input: %v", env)
	}
}

func TestWSGIEnvironCGIKeys(t *testing.T) {
	t.Parallel()
	s := startApp(t, "environ", "--threads", "1")
	env, port := wsgiEnviron(t, s, "GET /caf%C3%A9?a=1&b=%20x HTTP/1.1\r\n"+
		"Host: example.com:8080\r\n"+
		"User-Agent: carafe-test\r\n"+
		"X-Multi: a\r\n"+
		"X-Multi: b\r\n"+
		"X_Spoof: 1\r\n"+
		"X-Spoof: 2\r\n"+
		"X-Latin: caf\xe9\r\n"+
		"X-Custom-Header: custom\r\n"+
		"Connection: close\r\n\r\n")
	wsgiCheckEnv(t, env, map[string]any{
		"REQUEST_METHOD":       "GET",
		"SCRIPT_NAME":          "",
		"PATH_INFO":            "/caf\u00c3\u00a9", // percent-decoded bytes as latin-1
		"QUERY_STRING":         "a=1&b=%20x",
		"REQUEST_URI":          "/caf%C3%A9?a=1&b=%20x",
		"SERVER_NAME":          "example.com",
		"SERVER_PORT":          "8080",
		"SERVER_PROTOCOL":      "HTTP/1.1",
		"REMOTE_ADDR":          "127.0.0.1",
		"REMOTE_PORT":          port,
		"HTTP_HOST":            "example.com:8080",
		"HTTP_USER_AGENT":      "carafe-test",
		"HTTP_X_MULTI":         "a, b",
		"HTTP_X_SPOOF":         "2",
		"HTTP_X_LATIN":         "caf\u00e9",
		"HTTP_X_CUSTOM_HEADER": "custom",
		"CONTENT_TYPE":         nil,
		"CONTENT_LENGTH":       nil,
		"HTTP_CONTENT_TYPE":    nil,
		"HTTP_CONTENT_LENGTH":  nil,
		"wsgi.version":         []any{1.0, 0.0},
		"wsgi.url_scheme":      "http",
		"wsgi.multithread":     false,
		"wsgi.multiprocess":    false,
		"wsgi.run_once":        false,
	})
	wsgiCheckTypes(t, env)
}

// An underscore header must not be able to pose as its dash twin, in
// whichever order the two arrive.
func TestWSGIEnvironUnderscoreSpoof(t *testing.T) {
	t.Parallel()
	s := startApp(t, "environ")
	for _, order := range [][2]string{{"X_Spoof: 1", "X-Spoof: 2"}, {"X-Spoof: 2", "X_Spoof: 1"}} {
		env, _ := wsgiEnviron(t, s, "GET / HTTP/1.1\r\nHost: h\r\n"+
			order[0]+"\r\n"+order[1]+"\r\nConnection: close\r\n\r\n")
		if got := env["HTTP_X_SPOOF"]; got != "2" {
			t.Errorf("headers %q: HTTP_X_SPOOF = %#v, want \"2\"", order, got)
		}
	}
}

// HTTP/1.0 without Host: SERVER_NAME/PORT come from the bind address, and a
// request body's type and length appear as CONTENT_TYPE/CONTENT_LENGTH.
func TestWSGIEnvironBodyAndNoHost(t *testing.T) {
	t.Parallel()
	s := startApp(t, "environ")
	host, port, _ := net.SplitHostPort(s.addr)
	env, _ := wsgiEnviron(t, s, "POST /submit HTTP/1.0\r\n"+
		"Content-Type: text/plain; charset=utf-8\r\n"+
		"Content-Length: 5\r\n\r\nhello")
	wsgiCheckEnv(t, env, map[string]any{
		"REQUEST_METHOD":      "POST",
		"PATH_INFO":           "/submit",
		"REQUEST_URI":         "/submit",
		"SERVER_NAME":         host,
		"SERVER_PORT":         port,
		"SERVER_PROTOCOL":     "HTTP/1.0",
		"CONTENT_TYPE":        "text/plain; charset=utf-8",
		"CONTENT_LENGTH":      "5",
		"HTTP_HOST":           nil,
		"HTTP_CONTENT_TYPE":   nil,
		"HTTP_CONTENT_LENGTH": nil,
	})
	if q, ok := env["QUERY_STRING"]; ok && q != "" {
		t.Errorf("QUERY_STRING = %#v for a target without '?', want \"\"", q)
	}
	wsgiCheckTypes(t, env)
}

// Behind a proxy that ends TLS (nginx proxy_pass with X-Forwarded-Proto),
// the app sees wsgi.url_scheme https when the proxy is a peer
// --forwarded-allow-ips trusts, loopback by default as in Gunicorn: a
// Django site moved from Gunicorn otherwise built http links and failed
// its CSRF origin check on every form. Other peers, and headers that
// disagree, leave it http.
func TestWSGIEnvironForwardedProto(t *testing.T) {
	t.Parallel()
	get := func(s *server, headers string) any {
		t.Helper()
		env, _ := wsgiEnviron(t, s, "GET / HTTP/1.1\r\nHost: h\r\n"+headers+"Connection: close\r\n\r\n")
		return env["wsgi.url_scheme"]
	}
	def := startApp(t, "environ")
	for _, tt := range []struct{ headers, want string }{
		{"", "http"},
		{"X-Forwarded-Proto: https\r\n", "https"},
		{"X-Forwarded-Proto: http\r\n", "http"},
		{"X-Forwarded-Ssl: on\r\n", "https"},
		{"X-Forwarded-Proto: https\r\nX-Forwarded-Ssl: off\r\n", "http"},
	} {
		if got := get(def, tt.headers); got != tt.want {
			t.Errorf("default trust (loopback), %q: url_scheme %v, want %s", tt.headers, got, tt.want)
		}
	}
	// A Host without a port means the scheme's own: PEP 3333's URL
	// recipe, and Werkzeug's request.server, made https://h:80 of 80.
	for _, tt := range []struct{ host, headers, want string }{
		{"h", "X-Forwarded-Proto: https\r\n", "443"},
		{"h:", "X-Forwarded-Proto: https\r\n", "443"},
		{"h", "", "80"},
		{"h:8443", "X-Forwarded-Proto: https\r\n", "8443"},
	} {
		env, _ := wsgiEnviron(t, def, "GET / HTTP/1.1\r\nHost: "+tt.host+"\r\n"+tt.headers+"Connection: close\r\n\r\n")
		if env["SERVER_PORT"] != tt.want {
			t.Errorf("Host %s, %q: SERVER_PORT %v, want %s", tt.host, tt.headers, env["SERVER_PORT"], tt.want)
		}
	}
	for _, tt := range []struct{ list, said string }{{"10.0.0.0/8", "(10.0.0.0/8)"}, {"", "(empty: nobody)"}} {
		s := startApp(t, "environ", "--forwarded-allow-ips", tt.list)
		for range 2 {
			if got := get(s, "X-Forwarded-Proto: https\r\n"); got != "http" {
				t.Errorf("--forwarded-allow-ips %q, a loopback peer: url_scheme %v, want http", tt.list, got)
			}
		}
		// Said once, with the list: a site moved from uWSGI, which takes
		// the header from any peer, saw http and nothing in the log.
		want := "X-Forwarded-Proto https from 127.0.0.1:"
		if !s.waitLog(tt.said, 3*time.Second) || strings.Count(s.Log(), want) != 1 {
			t.Errorf("--forwarded-allow-ips %q: want one line %q ... %s:\n%s", tt.list, want, tt.said, s.Log())
		}
	}
	if strings.Contains(def.Log(), "not applied") {
		t.Errorf("a trusted peer's header was said not applied:\n%s", def.Log())
	}
}

// On an IPv6 listener, a request without Host gets the listener's address
// as SERVER_NAME in brackets, as a Host header gives it: bare, Django's
// get_host() made "::1:PORT" of it and answered 400.
func TestWSGIEnvironIPv6NoHost(t *testing.T) {
	t.Parallel()
	if l, err := net.Listen("tcp", "[::1]:0"); err != nil {
		t.Skipf("no IPv6 loopback here: %v", err)
	} else {
		l.Close()
	}
	_, port, _ := net.SplitHostPort(freeAddr(t))
	addr := net.JoinHostPort("::1", port)
	s := launch(t, addr, "--http", addr, "--chdir", appDir("environ"), "--module", "wsgi")
	s.waitReady(20 * time.Second)
	env, _ := wsgiEnviron(t, s, "GET / HTTP/1.0\r\n\r\n")
	wsgiCheckEnv(t, env, map[string]any{"SERVER_NAME": "[::1]", "SERVER_PORT": port})
}

// A value that repeats from one request to the next reuses the str the
// last one got, and a value that differs, even in one byte of the same
// length, or in a latin-1 byte, gets its own: over keep-alive requests on
// one connection, each sees exactly its own headers. Credentials (Cookie,
// Authorization) are never kept from one request to the next.
func TestWSGIEnvironRepeatedValues(t *testing.T) {
	t.Parallel()
	s := startApp(t, "environ_values", "--threads", "1")
	type seen struct {
		Value *string `json:"value"`
		Same  bool    `json:"same"`
	}
	show := func(v seen) string {
		if v.Value == nil {
			return fmt.Sprintf("absent (same %v)", v.Same)
		}
		return fmt.Sprintf("%q (same %v)", *v.Value, v.Same)
	}
	long := strings.Repeat("a", 300) // longer than the bridge keeps for reuse
	steps := []struct {
		ua, accept string
		same       bool // whether User-Agent repeats the previous request's
	}{
		{"agent-0001", "text/html", false},
		{"agent-0001", "text/html", true},
		{"agent-0002", "text/html", false}, // same length, one byte differs
		{"agent-0002", "*/*", true},
		{"caf\xe9-agent", "*/*", false}, // latin-1
		{"caf\xe8-agent", "*/*", false},
		{long, "*/*", false},
		{long, "*/*", false}, // equal, but too long to be kept
		{"agent-0001", "text/html", false},
	}
	c, br := wsgiDial(t, s)
	for i, st := range steps {
		req := "GET /reset/MQ/t0k3n/?token=t0k3n HTTP/1.1\r\nHost: x\r\nUser-Agent: " + st.ua + "\r\nAccept: " + st.accept +
			"\r\nCookie: session=s3cr3t\r\nAuthorization: Bearer t0k3n\r\nReferer: http://x/reset?key=k3y\r\n\r\n"
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		resp, body := wsgiReadResp(t, br, "GET")
		if resp.StatusCode != 200 {
			t.Fatalf("request %d: status %d, body %q", i, resp.StatusCode, body)
		}
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body, &raw); err != nil {
			t.Fatalf("request %d: %v in %q", i, err, body)
		}
		if string(raw["gil"]) == "false" {
			t.Skip("a free-threaded Python: the bridge reuses no values there")
		}
		got := map[string]seen{}
		for k, v := range raw {
			if k != "gil" {
				var s seen
				if err := json.Unmarshal(v, &s); err != nil {
					t.Fatalf("request %d: %s: %v in %q", i, k, err, v)
				}
				got[k] = s
			}
		}
		wantUA := strings.NewReplacer("\xe9", "\u00e9", "\xe8", "\u00e8").Replace(st.ua)
		if ua := got["HTTP_USER_AGENT"]; ua.Value == nil || *ua.Value != wantUA || ua.Same != st.same {
			t.Errorf("request %d: HTTP_USER_AGENT %s, want %q (same %v)", i, show(ua), wantUA, st.same)
		}
		if a := got["HTTP_ACCEPT"]; a.Value == nil || *a.Value != st.accept {
			t.Errorf("request %d: HTTP_ACCEPT %s, want %q", i, show(a), st.accept)
		}
		if i > 0 {
			for _, k := range []string{"REQUEST_METHOD", "SERVER_PROTOCOL"} {
				if !got[k].Same {
					t.Errorf("request %d: %s %s is a new str, want the last request's reused", i, k, show(got[k]))
				}
			}
		}
		// Nor is what may carry a token in its path or query: a password
		// reset's key (Django's is in the path), an API token in the URL
		// (a query, or the Referer that names a page with one).
		for k, want := range map[string]string{"HTTP_COOKIE": "session=s3cr3t", "HTTP_AUTHORIZATION": "Bearer t0k3n",
			"QUERY_STRING": "token=t0k3n", "REQUEST_URI": "/reset/MQ/t0k3n/?token=t0k3n", "PATH_INFO": "/reset/MQ/t0k3n/",
			"HTTP_REFERER": "http://x/reset?key=k3y"} {
			if v := got[k]; v.Value == nil || *v.Value != want || v.Same {
				t.Errorf("request %d: %s %s, want %q in a str of its own", i, k, show(v), want)
			}
		}
	}
}
