package tests

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// nginx with deploy/nginx/carafe.conf in front of carafe's unix socket,
// carafe running deploy/site.ini (with --strict: the shipped ini has no
// unknown key), serving testdata/apps/deploy_flask. Only the listen
// address, the document root, the socket and the /srv/myproject paths are
// replaced.
func TestDeployNginx(t *testing.T) {
	t.Parallel()
	deployTool(t, "nginx")
	venv := venvDir(t)
	dir := deployDir(t)
	sock := filepath.Join(dir, "app.sock")
	app := appDir("deploy_flask")
	// A copy of the document root, readable by nginx's workers (www-data)
	// whatever the checkout's permissions are.
	docroot := filepath.Join(dir, "public")
	deployCopyDir(t, filepath.Join(app, "public"), docroot)

	// The unit runs carafe as www-data, whose socket nginx's workers may
	// use at 660; a test run as root gives them the socket instead (as
	// www-data, carafe could not read a Python under /root).
	perm := "chmod-socket = 660"
	if usr, group := deployRunAs(); usr != "" {
		perm += "\nchown-socket = " + usr + ":" + group
	}
	ini := deployWrite(t, dir, "site.ini", deployRender(t, "deploy/site.ini",
		"/srv/myproject/venv", venv,
		"/srv/myproject", app,
		"/run/carafe/app.sock", sock,
		"chmod-socket = 660", perm))
	s := start(t, "--strict", "--ini", ini)
	deployWaitUnix(t, s, sock)

	addr := freeAddr(t)
	nginx := deployNginx(t, dir, deployRender(t, "deploy/nginx/carafe.conf",
		"listen 80;", "listen "+addr+";",
		"root /srv/myproject/public;", "root "+docroot+";",
		"unix:/run/carafe/app.sock", "unix:"+sock))
	ng := func(path string) string { return "http://" + addr + path }
	deployWaitTCP(t, nginx, addr)

	t.Run("query string", func(t *testing.T) {
		_, body := deployGet(t, ng("/?a=1&b=caf%C3%A9&b=x+y"), "", 200)
		var got deployQuery
		deployJSON(t, body, &got)
		if got.Query != "a=1&b=caf%C3%A9&b=x+y" || strings.Join(got.Args["b"], "|") != "café|x y" {
			t.Fatalf("%+v", got)
		}
	})

	t.Run("form post", func(t *testing.T) {
		form := url.Values{"name": {"Ada"}, "tag": {"a", "b & c"}}
		req, _ := http.NewRequest("POST", ng("/form"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, body := deployDo(t, req, "")
		var got struct{ Fields map[string][]string }
		deployJSON(t, body, &got)
		if resp.StatusCode != 200 || strings.Join(got.Fields["name"], ",") != "Ada" || strings.Join(got.Fields["tag"], "|") != "a|b & c" {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	})

	t.Run("chunked upload", func(t *testing.T) {
		data := make([]byte, 3<<20+12345)
		rand.Read(data)
		// A body of unknown length goes out chunked; nginx buffers it and
		// passes carafe a CONTENT_LENGTH.
		req, _ := http.NewRequest("POST", ng("/upload"), struct{ io.Reader }{bytes.NewReader(data)})
		req.ContentLength = -1
		req.TransferEncoding = []string{"chunked"}
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, body := deployDo(t, req, "")
		var got deployUpload
		deployJSON(t, body, &got)
		sum := sha256.Sum256(data)
		if resp.StatusCode != 200 || got.Size != len(data) || got.SHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("%d %s; sent %d bytes", resp.StatusCode, body, len(data))
		}
		if got.ContentLength == nil || *got.ContentLength != strconv.Itoa(len(data)) {
			t.Fatalf("CONTENT_LENGTH %v, want %d", got.ContentLength, len(data))
		}
		// nginx passes the client's header on; Werkzeug would read an
		// empty body by it (as under uWSGI), were it in the environ.
		if got.TransferEncoding != nil {
			t.Errorf("HTTP_TRANSFER_ENCODING %q in the environ, want none", *got.TransferEncoding)
		}
	})

	t.Run("20 MB download", func(t *testing.T) {
		deployCheckDownload(t, ng("/download"), "")
	})

	t.Run("requests that wait for a thread", func(t *testing.T) {
		deployQueued(t, ng("/slow"), "", 2*4+4) // site.ini: 2 processes of 4 threads
	})

	t.Run("whoami", func(t *testing.T) {
		_, body := deployGet(t, ng("/whoami"), "", 200)
		var got deployWhoami
		deployJSON(t, body, &got)
		if got.ScriptName != "" || got.PathInfo != "/whoami" || got.RemoteAddr != "127.0.0.1" || got.URLScheme != "http" || !got.Multithread {
			t.Fatalf("%+v", got)
		}
	})

	t.Run("mounted prefix", func(t *testing.T) {
		_, body := deployGet(t, ng("/app/whoami"), "", 200)
		var got deployWhoami
		deployJSON(t, body, &got)
		if got.ScriptName != "/app" || got.PathInfo != "/whoami" {
			t.Fatalf("SCRIPT_NAME %q PATH_INFO %q, want /app and /whoami", got.ScriptName, got.PathInfo)
		}
	})

	t.Run("static by nginx", func(t *testing.T) {
		want, err := os.ReadFile(filepath.Join(docroot, "static", "hello.txt"))
		if err != nil {
			t.Fatal(err)
		}
		resp, body := deployGet(t, ng("/static/hello.txt"), "", 200)
		if !bytes.Equal(body, want) || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
			t.Fatalf("%q %q", resp.Header.Get("Content-Type"), body)
		}
		// The app's code is next to the document root, not in it: it is
		// not a file nginx serves, so the app answers (404).
		deployGet(t, ng("/myapp.py"), "", 404)
		// carafe logged both requests, and none for the file. (The two
		// workers' log lines may come in either order.)
		if !s.waitLog(`"GET /myapp.py `, 5*time.Second) {
			t.Fatalf("/myapp.py did not reach the app:\n%s", s.Log())
		}
		deployGet(t, ng("/whoami?after-static"), "", 200)
		if !s.waitLog("/whoami?after-static", 5*time.Second) {
			t.Fatalf("no access-log line for /whoami?after-static:\n%s", s.Log())
		}
		if strings.Contains(s.Log(), "hello.txt") {
			t.Fatalf("carafe saw the static file's request: nginx should serve it:\n%s", s.Log())
		}
	})
}

// A common uWSGI layout for an app under a prefix: nginx sends
// "uwsgi_param SCRIPT_NAME /app" with the whole path, and the app server
// moves the prefix with mount and manage-script-name. With HTTPS set (in
// any case) by a uwsgi_param, a client's repeated header fields joined,
// and nginx's own Server on the response, not carafe's.
func TestDeployNginxMountScriptName(t *testing.T) {
	t.Parallel()
	deployTool(t, "nginx")
	dir := deployDir(t)
	sock := filepath.Join(dir, "app.sock")
	s := start(t, "--chdir", appDir("deploy_flask"), "--mount", "/app=myapp:app", "--manage-script-name",
		"--virtualenv", venvDir(t), "--socket", sock, "--chmod-socket", "666")
	deployWaitUnix(t, s, sock)
	addr := freeAddr(t)
	nginx := deployNginx(t, dir, `server {
    listen `+addr+`;
    location /app/ {
        include uwsgi_params;
        uwsgi_param SCRIPT_NAME /app;
        uwsgi_param HTTPS On;
        uwsgi_param HTTP_HOST $http_host;
        uwsgi_pass unix:`+sock+`;
    }
}
`)
	deployWaitTCP(t, nginx, addr)
	req, _ := http.NewRequest("GET", "http://"+addr+"/app/whoami", nil)
	req.Header["X-Forwarded-For"] = []string{"192.0.2.1", "192.0.2.2"}
	resp, body := deployDo(t, req, "")
	var got deployWhoami
	deployJSON(t, body, &got)
	if resp.StatusCode != 200 || got.ScriptName != "/app" || got.PathInfo != "/whoami" || got.URLScheme != "https" {
		t.Fatalf("%d: SCRIPT_NAME %q PATH_INFO %q wsgi.url_scheme %q, want /app, /whoami and https",
			resp.StatusCode, got.ScriptName, got.PathInfo, got.URLScheme)
	}
	// uwsgi_params' "HTTP_HOST $host" (no port), then the site's own: the
	// last stands, as in uWSGI. Joined, Flask saw no host at all.
	if got.Host != addr {
		t.Errorf("Flask's request.host %q, want %q (the site's uwsgi_param HTTP_HOST $http_host)", got.Host, addr)
	}
	if got.ForwardedFor == nil || *got.ForwardedFor != "192.0.2.1, 192.0.2.2" {
		t.Errorf("HTTP_X_FORWARDED_FOR %v, want both fields joined", got.ForwardedFor)
	}
	if sv := resp.Header.Get("Server"); !strings.HasPrefix(sv, "nginx") {
		t.Errorf("Server %q, want nginx's own", sv)
	}
}

// Behind a TLS load balancer, nginx hands the scheme on with the line
// docs/deployment.md gives (UWSGI_SCHEME from X-Forwarded-Proto); a
// client's own X-Forwarded-Proto, which uwsgi_params passes on, does not
// set it (uWSGI lets it: on a plain-HTTP site any client claimed https).
func TestDeployNginxForwardedScheme(t *testing.T) {
	t.Parallel()
	deployTool(t, "nginx")
	dir := deployDir(t)
	sock := filepath.Join(dir, "app.sock")
	s := start(t, "--chdir", appDir("deploy_flask"), "--module", "myapp:app",
		"--virtualenv", venvDir(t), "--socket", sock, "--chmod-socket", "666")
	deployWaitUnix(t, s, sock)
	plain, behindLB := freeAddr(t), freeAddr(t)
	nginx := deployNginx(t, dir, `server {
    listen `+plain+`;
    location / {
        include uwsgi_params;
        uwsgi_pass unix:`+sock+`;
    }
}
server {
    listen `+behindLB+`;
    location / {
        include uwsgi_params;
        uwsgi_param UWSGI_SCHEME $http_x_forwarded_proto if_not_empty;
        uwsgi_pass unix:`+sock+`;
    }
}
`)
	deployWaitTCP(t, nginx, plain)
	deployWaitTCP(t, nginx, behindLB)
	for _, tt := range []struct {
		addr, proto, want string
	}{
		{plain, "https", "http"},
		{behindLB, "https", "https"},
		{behindLB, "", "http"},
	} {
		req, _ := http.NewRequest("GET", "http://"+tt.addr+"/whoami", nil)
		if tt.proto != "" {
			req.Header.Set("X-Forwarded-Proto", tt.proto)
		}
		resp, body := deployDo(t, req, "")
		var got deployWhoami
		deployJSON(t, body, &got)
		if resp.StatusCode != 200 || got.URLScheme != tt.want {
			t.Errorf("%s with X-Forwarded-Proto %q: %d, wsgi.url_scheme %q, want %q",
				tt.addr, tt.proto, resp.StatusCode, got.URLScheme, tt.want)
		}
	}
}

// nginx proxy_pass to carafe's HTTP on a unix socket: Gunicorn's usual
// layout (gunicorn -b unix:PATH behind proxy_pass http://unix:PATH) keeps
// its nginx config when carafe takes over with --http PATH. The master
// binds the socket with --chmod-socket, and --vacuum removes it on exit.
func TestDeployNginxHTTPUnix(t *testing.T) {
	t.Parallel()
	deployTool(t, "nginx")
	dir := deployDir(t)
	sock := filepath.Join(dir, "gunicorn.sock")
	s := start(t, "--chdir", appDir("deploy_flask"), "--module", "myapp:app", "--virtualenv", venvDir(t),
		"--processes", "2", "--http", sock, "--chmod-socket", "666", "--vacuum")
	deployWaitUnix(t, s, sock)
	addr := freeAddr(t)
	nginx := deployNginx(t, dir, `server {
    listen `+addr+`;
    server_name example.com;
    location / {
        proxy_pass http://unix:`+sock+`;
        proxy_set_header Host $host;
        proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }
}
`)
	deployWaitTCP(t, nginx, addr)
	ng := func(path string) string { return "http://" + addr + path }

	_, body := deployGet(t, ng("/whoami"), "example.com", 200)
	var got deployWhoami
	deployJSON(t, body, &got)
	// An empty REMOTE_ADDR (a unix peer has no address), as Gunicorn and
	// uWSGI give: apps that index environ["REMOTE_ADDR"] keep working. The
	// client is in X-Forwarded-For, for ProxyFix.
	if got.PathInfo != "/whoami" || !got.HasRemoteAddr || got.RemoteAddr != "" || got.ServerName != "example.com" ||
		got.ForwardedFor == nil || *got.ForwardedFor != "127.0.0.1" {
		t.Fatalf("%+v (forwarded for %v)", got, got.ForwardedFor)
	}
	deployCheckDownload(t, ng("/download"), "")
	if !s.waitLog(` - "GET /whoami HTTP/1.0" 200 `, 5*time.Second) {
		t.Errorf("no access line with - for the unix peer:\n%s", s.Log())
	}
	s.stop()
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("--vacuum left the HTTP socket file: %v", err)
	}
}

// nginx in front of the uwsgi socket while the master reloads again and
// again under load (see masterReloadUnderLoad): not one request fails.
func TestDeployNginxReloadUnderLoad(t *testing.T) {
	t.Parallel()
	s, stats, base := deployNginxMaster(t, "master_body", "--processes", "2", "--threads", "4")
	masterReloadUnderLoad(t, s, stats, base+"/", "nginx → uwsgi socket")
}

// deployNginxMaster starts testdata/apps/<app> with a master, --stats and
// extra on a uwsgi unix socket, and nginx in front of that socket; it
// returns carafe, the stats address and nginx's base URL.
func deployNginxMaster(t *testing.T, app string, extra ...string) (*server, string, string) {
	t.Helper()
	deployTool(t, "nginx")
	dir := deployDir(t)
	sock := filepath.Join(dir, "app.sock")
	s, stats := masterStartStats(t, app, append(extra, "--socket", sock, "--chmod-socket", "666")...)
	deployWaitUnix(t, s, sock)
	addr := freeAddr(t)
	nginx := deployNginx(t, dir, `server {
    listen `+addr+`;
    location / {
        include uwsgi_params;
        uwsgi_pass unix:`+sock+`;
    }
}
`)
	deployWaitTCP(t, nginx, addr)
	return s, stats, "http://" + addr
}

// nginx in front of the uwsgi socket that two workers of --threads 1
// share, one of them stuck until --harakiri ends it: see
// masterHarakiriUnderLoad. nginx opens a connection per request, which
// the worker that accepts first takes: before the stuck one stopped
// accepting, it took a request of nearly every client (7 or 8 of the 8)
// and lost them with its harakiri.
func TestDeployNginxHarakiriOneThread(t *testing.T) {
	t.Parallel()
	s, stats, base := deployNginxMaster(t, "master_sleep", "--processes", "2", "--threads", "1", "--harakiri", "2")
	masterHarakiriUnderLoad(t, s, stats, base, "nginx → a shared uwsgi socket")
}
