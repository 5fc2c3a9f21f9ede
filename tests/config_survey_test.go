package tests

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A uwsgi.ini in the shapes a survey of public ones found, which uWSGI runs
// as it is: shared settings in a [base] section of the same file (ini =
// :base), the tutorial's bare `socket = myproject.sock`, a comment after a
// TCP address, `threads = true`, buffer-size = 65536, the logfile plugin,
// and both a module and a wsgi-file (uWSGI loads the module). carafe serves
// it unchanged, over both listeners (the socket in chdir's directory, as in
// uWSGI), and says what it reads differently.
func TestConfigSurveyTutorialIni(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	appDir := filepath.Join(dir, "project")
	if err := os.Mkdir(appDir, 0o755); err != nil {
		t.Fatal(err)
	}
	deployWrite(t, appDir, "wsgi.py", deploySeedApp)
	start := t.TempDir()
	addr := freeAddr(t)
	ini := deployWrite(t, dir, "myproject.ini", fmt.Sprintf(`[uwsgi]
ini = :base
socket = myproject.sock
http-socket = %s   # plain HTTP for the health check
master = true
processes = 2
threads = true
buffer-size = 65536
plugins = logfile, python3
vacuum = true
die-on-term = true

[base]
chdir = %s
module = wsgi:app
wsgi-file = not-loaded.py
`, addr, appDir))

	s := launchIn(t, start, nil, addr, "--ini", ini)
	s.waitReady(20 * time.Second)
	sock := filepath.Join(appDir, "myproject.sock") // from chdir, as uWSGI binds it
	deployWaitUnix(t, s, sock)

	_, body := deployGet(t, "http://"+addr+"/over-http", "", 200)
	if !strings.HasSuffix(string(body), "path=/over-http") {
		t.Errorf("over HTTP: %q", body)
	}
	resp, ubody := deployUwsgiGet(t, "unix", sock, "/over-uwsgi", "")
	if resp.StatusCode != 200 || !strings.HasSuffix(string(ubody), "path=/over-uwsgi") {
		t.Errorf("over the uwsgi socket: %d %q", resp.StatusCode, ubody)
	}
	for _, want := range []string{
		ini + ":7: threads = true is not a number: uWSGI reads it as 0, and carafe leaves threads at its default, 1",
		`--wsgi-file "not-loaded.py" is not loaded: --module "wsgi:app" is the app`,
	} {
		if !strings.Contains(s.Log(), want) {
			t.Errorf("no warning %q:\n%s", want, s.Log())
		}
	}
}

// --show-config (a Docker image's CMD of uWSGI's) prints the configuration
// as read, in uWSGI's form, at the start, and the server serves on.
func TestShowConfigPrinted(t *testing.T) {
	t.Parallel()
	s := startApp(t, "http_count", "--show-config", "--threads", "2")
	if !s.waitLog("[uwsgi]\n", 5*time.Second) || !strings.Contains(s.Log(), "\nthreads = 2\n;end of configuration") {
		t.Errorf("no configuration printed:\n%s", s.Log())
	}
	if resp, _ := httpGet(t, s.URL("/seen")); resp.StatusCode != 200 {
		t.Errorf("GET /seen: %d", resp.StatusCode)
	}
}
