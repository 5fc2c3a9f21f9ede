package tests

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Apache with deploy/apache/carafe.conf in front of carafe serving the
// seed's mod_wsgi-style app (app.wsgi) with threads=5 as in its
// WSGIDaemonProcess: the first vhost through mod_proxy_uwsgi to the unix
// socket, the second through mod_proxy_http to --http. One carafe serves
// both (the harness adds --http). Only the port, the paths and the
// addresses are replaced in the file.
func TestDeployApache(t *testing.T) {
	t.Parallel()
	deployTool(t, "apache2")
	venv := venvDir(t)
	dir := deployDir(t)
	sock := filepath.Join(dir, "app.sock")
	app := appDir("deploy_flask")
	docroot := filepath.Join(dir, "public")
	deployCopyDir(t, filepath.Join(app, "public"), docroot)

	s := start(t, "--wsgi-file", filepath.Join(app, "app.wsgi"), "--threads", "5", "--virtualenv", venv,
		"--socket", sock, "--chmod-socket", "666", "--vacuum", "--buffer-size", "32768")
	deployWaitUnix(t, s, sock)
	if !s.waitLog("5 thread(s)", 10*time.Second) {
		t.Fatalf("carafe did not start 5 threads:\n%s", s.Log())
	}

	addr := freeAddr(t)
	_, port, _ := strings.Cut(addr, ":")
	apache := deployApache(t, dir, deployRender(t, "deploy/apache/carafe.conf",
		"<VirtualHost *:80>", "<VirtualHost *:"+port+">",
		"/srv/myproject/public", docroot,
		"unix:/run/carafe/app.sock|", "unix:"+sock+"|",
		"http://127.0.0.1:8000/", "http://"+s.addr+"/"), addr)
	deployWaitTCP(t, apache, addr)
	u := func(path string) string { return "http://" + addr + path }

	for _, via := range []struct {
		name, host string
		forwarded  bool // mod_proxy_http adds X-Forwarded-Host; the uwsgi protocol does not
	}{
		{"mod_proxy_uwsgi", "example.com", false},
		{"mod_proxy_http", "http.example.com", true},
	} {
		t.Run(via.name, func(t *testing.T) {
			t.Run("route", func(t *testing.T) {
				_, body := deployGet(t, u("/whoami"), via.host, 200)
				var got deployWhoami
				deployJSON(t, body, &got)
				if (got.ForwardedHost != nil) != via.forwarded || got.ScriptName != "" || got.PathInfo != "/whoami" ||
					got.RemoteAddr != "127.0.0.1" || !got.Multithread {
					t.Fatalf("%s", body)
				}
			})

			// Apache sends more variables than nginx: a few KB of cookies
			// passed the default buffer-size (4096) and got a bare 500;
			// site.ini's 32768 takes them.
			t.Run("big cookie", func(t *testing.T) {
				req, _ := http.NewRequest("GET", u("/whoami"), nil)
				req.Header.Set("Cookie", "session="+strings.Repeat("x", 6000))
				if resp, body := deployDo(t, req, via.host); resp.StatusCode != 200 {
					t.Fatalf("a 6 KB cookie: %d\n%.300s", resp.StatusCode, body)
				}
			})

			t.Run("query string", func(t *testing.T) {
				_, body := deployGet(t, u("/?a=1&b=caf%C3%A9&b=x+y"), via.host, 200)
				var got deployQuery
				deployJSON(t, body, &got)
				if got.Query != "a=1&b=caf%C3%A9&b=x+y" || strings.Join(got.Args["b"], "|") != "café|x y" {
					t.Fatalf("%+v", got)
				}
			})

			t.Run("form post", func(t *testing.T) {
				form := url.Values{"name": {"Ada"}, "tag": {"a", "b & c"}}
				req, _ := http.NewRequest("POST", u("/form"), strings.NewReader(form.Encode()))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				resp, body := deployDo(t, req, via.host)
				var got struct{ Fields map[string][]string }
				deployJSON(t, body, &got)
				if resp.StatusCode != 200 || strings.Join(got.Fields["name"], ",") != "Ada" || strings.Join(got.Fields["tag"], "|") != "a|b & c" {
					t.Fatalf("%d %s", resp.StatusCode, body)
				}
			})

			t.Run("upload", func(t *testing.T) {
				// A Content-Length body: mod_proxy_uwsgi refuses chunked
				// request bodies itself (411).
				data := make([]byte, 2<<20+7)
				rand.Read(data)
				req, _ := http.NewRequest("POST", u("/upload"), bytes.NewReader(data))
				resp, body := deployDo(t, req, via.host)
				var got deployUpload
				deployJSON(t, body, &got)
				sum := sha256.Sum256(data)
				if resp.StatusCode != 200 || got.Size != len(data) || got.SHA256 != hex.EncodeToString(sum[:]) {
					t.Fatalf("%d %s; sent %d bytes", resp.StatusCode, body, len(data))
				}
			})

			t.Run("upload the view does not read", func(t *testing.T) {
				// Apache sends all 16 MB before it reads; the 8 MB answer
				// fills the sockets first. carafe takes the rest of the
				// body while it answers (it used to wait for
				// socket-timeout, and Apache answered 503).
				start := time.Now()
				req, _ := http.NewRequest("POST", u("/refuse"), bytes.NewReader(make([]byte, 16<<20)))
				resp, body := deployDo(t, req, via.host)
				if resp.StatusCode != 200 || len(body) != 8<<20 {
					t.Fatalf("%d with %d bytes after %v", resp.StatusCode, len(body), time.Since(start))
				}
				if d := time.Since(start); d > 10*time.Second {
					t.Fatalf("the answer took %v", d)
				}
			})

			t.Run("upload the view does not read, file answer", func(t *testing.T) {
				// The same, answered with a file (wsgi.file_wrapper): over
				// mod_proxy_uwsgi's unix socket it goes through a buffer,
				// which must lose nothing while the body is taken.
				req, _ := http.NewRequest("POST", u("/refuse-file"), bytes.NewReader(make([]byte, 16<<20)))
				resp, body := deployDo(t, req, via.host)
				sum := sha256.Sum256(body)
				if resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != deployDownloadSHA256() {
					t.Fatalf("%d with %d bytes (want %d), not the file", resp.StatusCode, len(body), deployDownloadSize)
				}
			})

			t.Run("20 MB download", func(t *testing.T) {
				deployCheckDownload(t, u("/download"), via.host)
			})

			t.Run("requests that wait for a thread", func(t *testing.T) {
				deployQueued(t, u("/slow"), via.host, 5+3)
			})
		})
	}

	t.Run("static by Apache", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join(docroot, "static", "hello.txt"))
		if err != nil {
			t.Fatal(err)
		}
		_, body := deployGet(t, u("/static/hello.txt"), "example.com", 200)
		if !bytes.Equal(body, want) {
			t.Fatalf("%q", body)
		}
		deployGet(t, u("/whoami?after-static"), "example.com", 200)
		if !s.waitLog("/whoami?after-static", 5*time.Second) {
			t.Fatalf("no access-log line for /whoami?after-static:\n%s", s.Log())
		}
		if strings.Contains(s.Log(), "hello.txt") {
			t.Fatalf("carafe saw the static file's request: Apache should serve it:\n%s", s.Log())
		}
	})
}
