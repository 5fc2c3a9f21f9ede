package httpfront

import (
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"testing"

	"carafe/internal/uwsgi"
	"carafe/internal/wsgi"
)

// uwsgiEnv sends one uwsgi request with vars and returns the environ the
// app got and the response's head.
func uwsgiEnv(t *testing.T, opts Options, modifier1 uint8, vars ...string) (map[string]string, string) {
	t.Helper()
	got := make(chan map[string]string, 1)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		got <- env
		c.Exch.Output(head("200 OK"), []byte("ok"), nil, true)
		return wsgi.OK
	}}
	opts.Protocol = UWSGI
	c, br := serve(t, app, opts)
	var vs []uwsgi.Var
	for i := 0; i+1 < len(vars); i += 2 {
		vs = append(vs, uwsgi.Var{Key: []byte(vars[i]), Value: []byte(vars[i+1])})
	}
	if _, err := c.Write(uwsgi.AppendRequest(nil, modifier1, vs)); err != nil {
		t.Fatal(err)
	}
	h, _ := readResponse(t, br)
	io.ReadAll(br)
	return <-got, h
}

// The environ built from a gateway's variables: the mount of
// --manage-script-name, the scheme, and repeated header fields.
func TestUWSGIEnv(t *testing.T) {
	mount := Options{MountPoint: "/app"}
	trust := func(list string) Options {
		pt, err := ParseProxyTrust(list)
		if err != nil {
			t.Fatal(err)
		}
		return Options{Forwarded: pt}
	}
	loopback := trust("127.0.0.1,::1")
	tests := []struct {
		name      string
		opts      Options
		modifier1 uint8
		vars      []string
		want      map[string]string // "" for a key that must be missing
	}{
		{"mount, no SCRIPT_NAME", mount, 0, []string{"PATH_INFO", "/app/whoami"},
			map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": "/whoami"}},
		// nginx's "uwsgi_param SCRIPT_NAME /app" still sends the whole path:
		// uWSGI's manage-script-name strips it all the same.
		{"mount, gateway's SCRIPT_NAME", mount, 0, []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/app/whoami"},
			map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": "/whoami"}},
		{"mount, SCRIPT_NAME after PATH_INFO", mount, 0, []string{"PATH_INFO", "/app/x", "SCRIPT_NAME", "/app"},
			map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": "/x"}},
		{"mount, path already stripped", mount, 0, []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/whoami"},
			map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": "/whoami"}},
		{"mount, outside it", mount, 0, []string{"SCRIPT_NAME", "/other", "PATH_INFO", "/other/x"},
			map[string]string{"SCRIPT_NAME": "/other", "PATH_INFO": "/other/x"}},
		{"no mount, gateway's SCRIPT_NAME", Options{}, 0, []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/app/whoami"},
			map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": "/app/whoami"}},
		{"modifier1 30", mount, 30, []string{"SCRIPT_NAME", "/app", "PATH_INFO", "/app/whoami"},
			map[string]string{"SCRIPT_NAME": "/app", "PATH_INFO": "/whoami"}},

		{"HTTPS on", Options{}, 0, []string{"HTTPS", "on"}, map[string]string{"wsgi.url_scheme": "https", "HTTPS": "on"}},
		{"HTTPS On", Options{}, 0, []string{"HTTPS", "On"}, map[string]string{"wsgi.url_scheme": "https"}},
		{"HTTPS 1", Options{}, 0, []string{"HTTPS", "1"}, map[string]string{"wsgi.url_scheme": "https"}},
		{"HTTPS off", Options{}, 0, []string{"HTTPS", "off", "REQUEST_SCHEME", "https"}, map[string]string{"wsgi.url_scheme": "http"}},
		{"REQUEST_SCHEME", Options{}, 0, []string{"REQUEST_SCHEME", "https"}, map[string]string{"wsgi.url_scheme": "https"}},
		{"UWSGI_SCHEME wins", Options{}, 0, []string{"HTTPS", "on", "UWSGI_SCHEME", "http"}, map[string]string{"wsgi.url_scheme": "http"}},
		{"UWSGI_SCHEME https", Options{}, 0, []string{"UWSGI_SCHEME", "HTTPS"}, map[string]string{"wsgi.url_scheme": "https"}},
		{"none", Options{}, 0, []string{"PATH_INFO", "/"}, map[string]string{"wsgi.url_scheme": "http"}},

		// A Content-Length: 0 the client sent is the app's to see, as over
		// HTTP and under uWSGI; nginx's $content_length is empty without one.
		{"CONTENT_LENGTH 0", Options{}, 0, []string{"REQUEST_METHOD", "POST", "CONTENT_LENGTH", "0"}, map[string]string{"CONTENT_LENGTH": "0"}},
		{"CONTENT_LENGTH empty", Options{}, 0, []string{"REQUEST_METHOD", "GET", "CONTENT_LENGTH", ""}, map[string]string{"CONTENT_LENGTH": ""}},
		{"CONTENT_LENGTH none", Options{}, 0, []string{"REQUEST_METHOD", "GET"}, map[string]string{"CONTENT_LENGTH": ""}},

		// A client's X-Forwarded-Proto, which a stock nginx passes on, says
		// nothing even from a gateway --forwarded-allow-ips trusts (the peer
		// here is loopback): on a plain-HTTP site any client could claim
		// https. Behind a TLS load balancer nginx sets UWSGI_SCHEME from it.
		{"X-Forwarded-Proto ignored", loopback, 0, []string{"HTTP_X_FORWARDED_PROTO", "https", "HTTP_X_FORWARDED_SSL", "on"},
			map[string]string{"wsgi.url_scheme": "http", "HTTP_X_FORWARDED_PROTO": "https"}},
		{"UWSGI_SCHEME from X-Forwarded-Proto", Options{}, 0, []string{"UWSGI_SCHEME", "https", "HTTP_X_FORWARDED_PROTO", "https"},
			map[string]string{"wsgi.url_scheme": "https"}},
		{"UWSGI_SCHEME empty", Options{}, 0, []string{"UWSGI_SCHEME", "", "REQUEST_SCHEME", "https"}, map[string]string{"wsgi.url_scheme": "https"}},

		{"repeated fields joined", Options{}, 0, []string{
			"HTTP_COOKIE", "a=1", "HTTP_X_FORWARDED_FOR", "1.1.1.1", "HTTP_ACCEPT", "*/*",
			"HTTP_COOKIE", "b=2", "HTTP_X_FORWARDED_FOR", "2.2.2.2", "HTTP_COOKIE", "c=3"},
			map[string]string{"HTTP_COOKIE": "a=1; b=2; c=3", "HTTP_X_FORWARDED_FOR": "1.1.1.1, 2.2.2.2", "HTTP_ACCEPT": "*/*"}},
		// uwsgi_params' "HTTP_HOST $host", then the site's own: the last
		// stands, as in uWSGI; "a, b" was no host any app accepts.
		{"the last HTTP_HOST", Options{}, 0, []string{
			"HTTP_HOST", "site.example", "HTTP_ACCEPT", "*/*", "HTTP_HOST", "site.example:8080"},
			map[string]string{"HTTP_HOST": "site.example:8080", "HTTP_ACCEPT": "*/*"}},
		{"different fields kept apart", Options{}, 0, []string{"HTTP_AB", "1", "HTTP_BA", "2", "HTTP_A_B", "3"},
			map[string]string{"HTTP_AB": "1", "HTTP_BA": "2", "HTTP_A_B": "3"}},
	}
	// Repeated fields are found by a scan of a small packet and by a map in
	// a big one: each case again behind more variables than joinScanMax.
	var pad []string
	for i := range joinScanMax {
		pad = append(pad, fmt.Sprintf("HTTP_PAD_%d", i), "p")
	}
	for _, tt := range tests {
		for _, padded := range []bool{false, true} {
			vars := tt.vars
			if padded {
				vars = append(slices.Clone(pad), vars...)
			}
			t.Run(fmt.Sprintf("%s/padded=%v", tt.name, padded), func(t *testing.T) {
				env, _ := uwsgiEnv(t, tt.opts, tt.modifier1, vars...)
				for k, want := range tt.want {
					if got, ok := env[k]; got != want || (want == "" && ok) {
						t.Errorf("%s = %q (set: %v), want %q", k, got, ok, want)
					}
				}
			})
		}
	}
}

// A uwsgi response has no Date or Server of carafe's: the gateway adds its
// own (and nginx would pass carafe's on in place of them), as it does for
// uWSGI. The app's own pass through. Nor a Connection field: the
// connection ends with the response anyway, and a head the app filled to
// just under nginx's 4 KiB uwsgi_buffer_size got a 502 for carafe's 19
// bytes, where uWSGI's passed.
func TestUWSGINoOriginFields(t *testing.T) {
	_, h := uwsgiEnv(t, Options{}, 0, "PATH_INFO", "/")
	if strings.Contains(h, "\nDate:") || strings.Contains(h, "\nServer:") || strings.Contains(h, "\nConnection:") {
		t.Errorf("uwsgi response head has carafe's Date, Server or Connection:\n%s", h)
	}
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		c.Exch.Output(head("200 OK", "Server", "app/1"), []byte("ok"), nil, true)
		return wsgi.OK
	}}
	c, br := serve(t, app, Options{Protocol: UWSGI})
	c.Write(uwsgi.AppendRequest(nil, 0, []uwsgi.Var{{Key: []byte("PATH_INFO"), Value: []byte("/")}}))
	if h, _ := readResponse(t, br); !strings.Contains(h, "\nServer: app/1") {
		t.Errorf("the app's Server is missing:\n%s", h)
	}
	fail := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result { return wsgi.AppError }}
	c, br = serve(t, fail, Options{Protocol: UWSGI}) // carafe's own answer, a 500
	c.Write(uwsgi.AppendRequest(nil, 0, []uwsgi.Var{{Key: []byte("PATH_INFO"), Value: []byte("/")}}))
	if h, _ := readResponse(t, br); !strings.HasPrefix(h, "HTTP/1.1 500") || strings.Contains(h, "\nConnection:") {
		t.Errorf("carafe's own uwsgi answer:\n%s", h)
	}
	c, br = serve(t, okApp, Options{})
	c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	if h, _ := readResponse(t, br); !strings.Contains(h, "\nDate: ") || !strings.Contains(h, "\nServer: carafe") {
		t.Errorf("HTTP response head lacks Date or Server:\n%s", h)
	}
}

// A packet with no variables is no request: the app is not run (it was,
// as a GET of ""), and the connection closes with a line that says why,
// as uWSGI drops such a packet.
func TestUWSGIEmptyPacketRefused(t *testing.T) {
	ran := make(chan struct{}, 1)
	app := fakeApp{func(c *wsgi.Call, env map[string]string) wsgi.Result {
		ran <- struct{}{}
		c.Exch.Output(head("200 OK"), []byte("ok"), nil, true)
		return wsgi.OK
	}}
	var logs lockedBuffer
	c, br := serve(t, app, Options{Protocol: UWSGI, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	c.Write(uwsgi.AppendRequest(nil, 0, nil))
	if b, err := io.ReadAll(br); len(b) > 0 || err != nil {
		t.Errorf("an empty packet was answered: %q %v", b, err)
	}
	select {
	case <-ran:
		t.Error("an empty packet ran the app")
	default:
	}
	if want := "a packet with no variables, so no request"; !strings.Contains(logs.String(), want) {
		t.Errorf("no %q in the log:\n%s", want, logs.String())
	}
}
