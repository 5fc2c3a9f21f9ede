package tests

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestWSGIStartupErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want []string
	}{
		{"import raises", []string{"--chdir", appDir("startup_import_error"), "--module", "wsgi"},
			[]string{"ZeroDivisionError", "Traceback", "wsgi.py", "_explode"}},
		{"no callable", []string{"--chdir", appDir("startup_no_callable"), "--module", "wsgi"},
			[]string{"application"}},
		{"named callable missing", []string{"--chdir", appDir("startup_no_callable"), "--module", "wsgi",
			"--callable", "no_such_callable_xyz"},
			[]string{"no_such_callable_xyz"}},
		// A module not found says where carafe looked, and what to give.
		{"module missing", []string{"--chdir", appDir("environ"), "--module", "no_such_module_xyz"},
			[]string{"ModuleNotFoundError", "no_such_module_xyz", `the app's module "no_such_module_xyz" is not under ` +
				appDir("environ") + " (the working directory)", "give --chdir"}},
		{"import missing", []string{"--chdir", appDir("preimport"), "--module", "wsgi", "--import", "no_such_module_xyz"},
			[]string{"ModuleNotFoundError", "no_such_module_xyz", `"no_such_module_xyz" is not installed for the Python carafe embeds`,
				"no --virtualenv was given"}},
		{"import missing from the venv", []string{"--chdir", appDir("preimport"), "--module", "wsgi", "--import",
			"no_such_module_xyz.sub", "--virtualenv", venvDir(t)},
			[]string{`"no_such_module_xyz" is in neither --virtualenv ` + venvDir(t), "-m pip install"}},
		{"paste file missing", []string{"--chdir", appDir("paste_site"), "--paste", "config:no-such.ini",
			"--virtualenv", venvDir(t)},
			[]string{"FileNotFoundError", "paste_site/no-such.ini"}},
		{"wsgi-file missing", []string{"--wsgi-file", filepath.Join(appDir("wsgifile"), "nope.wsgi")},
			[]string{"nope.wsgi: no file"}},
		// Django's module is mysite.wsgi: as in uWSGI, a file by its
		// ending; Python's FileNotFoundError gave no hint.
		{"mount of Django's module", []string{"--chdir", appDir("environ"), "--mount", "/app=mysite.wsgi"},
			[]string{"--mount /app=mysite.wsgi: no file mysite.wsgi in ", "for the module mysite.wsgi, give --mount /app=mysite.wsgi:application"}},
		{"wsgi-file of Django's module", []string{"--chdir", appDir("environ"), "--wsgi-file", "mysite.wsgi:application"},
			[]string{"--wsgi-file mysite.wsgi:application: no file", "for the module mysite.wsgi, give --module mysite.wsgi"}},
		// An application factory that raises shows its own traceback;
		// one missing, or returning no app, says so.
		{"factory raises", []string{"--chdir", appDir("factory"), "--module", "wsgi:broken_factory()"},
			[]string{"RuntimeError: the factory failed: no DATABASE_URL", "Traceback", "broken_factory"}},
		{"factory missing", []string{"--chdir", appDir("factory"), "--module", "wsgi:no_factory()"},
			[]string{"module wsgi has no factory named 'no_factory'"}},
		{"factory returns no app", []string{"--chdir", appDir("factory"), "--callable", "not_an_app()", "--module", "wsgi"},
			[]string{"'not_an_app()' is not callable (it is a int): the factory returned it"}},
		// An ASGI app (a Gunicorn config's -k uvicorn.workers.UvicornWorker
		// dropped) started and answered every request with a 500.
		{"ASGI function", []string{"--chdir", appDir("startup_asgi"), "--module", "asgi"},
			[]string{"module asgi: the app is an ASGI app", "carafe serves WSGI apps"}},
		{"ASGI instance", []string{"--chdir", appDir("startup_asgi"), "--module", "asgi:app"},
			[]string{"module asgi: the app is an ASGI app", "Django's wsgi.py, not asgi.py"}},
		{"ASGI partial", []string{"--chdir", appDir("startup_asgi"), "--module", "asgi:partial_app"},
			[]string{"module asgi: the app is an ASGI app"}},
		{"ASGI object's partial", []string{"--chdir", appDir("startup_asgi"), "--module", "asgi:partial_instance"},
			[]string{"module asgi: the app is an ASGI app"}},
		{"unknown option", []string{"--chdir", appDir("environ"), "--module", "wsgi", "--no-such-option"},
			[]string{"no-such-option"}},
		// An empty directory was taken without a word: the base
		// installation's packages served in the venv's place.
		{"virtualenv not a venv", []string{"--chdir", appDir("environ"), "--module", "wsgi",
			"--virtualenv", t.TempDir()},
			[]string{"is not a venv (it has no pyvenv.cfg)"}},
		// The app starts a non-daemon thread at import: a worker that
		// finalised Python on this error waited for that thread for good.
		{"request log unwritable", []string{"--chdir", appDir("shutdown_nondaemon"), "--module", "wsgi",
			"--req-logger", "file:" + filepath.Join(os.DevNull, "access.log")},
			[]string{"--req-logger", "access.log"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			code, out := run(t, 15*time.Second, append([]string{"--http", freeAddr(t)}, tt.args...)...)
			if code == 0 {
				t.Errorf("exit code 0, want non-zero")
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w) {
					t.Errorf("output lacks %q", w)
				}
			}
			wsgiNoCrashDump(t, out)
			if t.Failed() {
				t.Logf("exit %d after %v; output:\n%s", code, time.Since(start).Round(time.Millisecond), out)
			}
		})
	}
}

func TestWSGIFileAndCallable(t *testing.T) {
	t.Parallel()
	dir := appDir("wsgifile")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"mod_wsgi script", []string{"--wsgi-file", filepath.Join(dir, "site.wsgi")}, "myapp.app"},
		{"script with --callable", []string{"--wsgi-file", filepath.Join(dir, "site.wsgi"), "--callable", "other"}, "myapp.other"},
		{"script falls back to app", []string{"--wsgi-file", filepath.Join(dir, "only_app.wsgi")}, "myapp.app"},
		{"module falls back to app", []string{"--chdir", filepath.Join(dir, "lib"), "--module", "myapp"}, "myapp.app"},
		{"module with --callable", []string{"--chdir", filepath.Join(dir, "lib"), "--module", "myapp", "--callable", "other"}, "myapp.other"},
		{"module:callable", []string{"--chdir", filepath.Join(dir, "lib"), "--module", "myapp:other"}, "myapp.other"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := start(t, tt.args...)
			resp, body := wsgiGet(t, s, "/")
			if resp.StatusCode != 200 || string(body) != tt.want {
				t.Errorf("got %d %q, want 200 %q", resp.StatusCode, body, tt.want)
			}
		})
	}
}

func TestWSGIPythonpathEnvChdir(t *testing.T) {
	t.Parallel()
	type report struct {
		Extra *string
		Env   *string
		Cwd   string
		Argv  []string
		Path  []string
	}

	t.Run("pythonpath and env", func(t *testing.T) {
		t.Parallel()
		s := startApp(t, "options", "--pythonpath", filepath.Join(appDir("options"), "pylib"),
			"--env", "CARAFE_TEST_ENV=a=b c", "--pyargv", " --settings  prod.yaml -v ")
		var r report
		wsgiGetJSON(t, s, "/", &r)
		if r.Extra == nil || *r.Extra != "extramod-from-pythonpath" {
			t.Errorf("extramod not importable with --pythonpath: %v", r.Extra)
		}
		if r.Env == nil || *r.Env != "a=b c" {
			t.Errorf("os.environ[CARAFE_TEST_ENV] = %v, want \"a=b c\" (split at the first '=')", r.Env)
		}
		if r.Cwd != appDir("options") {
			t.Errorf("cwd %q, want %q", r.Cwd, appDir("options"))
		}
		if want := []string{"carafe", "--settings", "prod.yaml", "-v"}; !slices.Equal(r.Argv, want) {
			t.Errorf("sys.argv %q with --pyargv, want %q", r.Argv, want)
		}
	})

	// --envdir, uWSGI's: a variable a file, the content chomped, an empty
	// file unsetting its variable, dot files and directories skipped.
	t.Run("envdir", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		for name, content := range map[string]string{"CARAFE_ENVDIR_A": "one\n", "CARAFE_ENVDIR_B": "two\x00lines \r\n",
			"CARAFE_ENVDIR_GONE": "", ".CARAFE_ENVDIR_HIDDEN": "x"} {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		s := startAppEnv(t, []string{"CARAFE_ENVDIR_GONE=set before"}, "options", "--envdir", dir)
		var r struct{ Envdir map[string]*string }
		wsgiGetJSON(t, s, "/", &r)
		a, b, gone := r.Envdir["CARAFE_ENVDIR_A"], r.Envdir["CARAFE_ENVDIR_B"], r.Envdir["CARAFE_ENVDIR_GONE"]
		if a == nil || *a != "one" || b == nil || *b != "two\nlines" || gone != nil {
			t.Errorf("envdir: A %v, B %v, GONE %v; want \"one\", \"two\\nlines\", unset", a, b, gone)
		}
	})

	// Each --pythonpath goes before those given ahead of it, as in uWSGI
	// and Gunicorn: a module in two of them is the last one's.
	t.Run("pythonpath order", func(t *testing.T) {
		t.Parallel()
		first, second := filepath.Join(appDir("options"), "pylib"), t.TempDir()
		s := startApp(t, "options", "--pythonpath", first, "--pythonpath", second)
		var r report
		wsgiGetJSON(t, s, "/", &r)
		if len(r.Path) < 3 || r.Path[0] != second || r.Path[1] != first || r.Path[2] != appDir("options") {
			t.Errorf("sys.path starts %q, want %q, %q, then the app's directory", r.Path, second, first)
		}
	})

	t.Run("chdir elsewhere", func(t *testing.T) {
		t.Parallel()
		dir, err := filepath.EvalSymlinks(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		s := start(t, "--chdir", dir, "--pythonpath", appDir("options"), "--module", "wsgi")
		var r report
		wsgiGetJSON(t, s, "/", &r)
		if r.Cwd != dir {
			t.Errorf("cwd %q, want %q", r.Cwd, dir)
		}
		if r.Extra != nil || r.Env != nil || !slices.Equal(r.Argv, []string{"carafe"}) {
			t.Errorf("without the flags: extra %v, env %v, argv %q; want both unset and [carafe]", r.Extra, r.Env, r.Argv)
		}
	})
}

// --import: modules imported before the app, in the order given, by name
// (from the app directory) or as a file (a path, or a name ending in .py).
func TestWSGIImport(t *testing.T) {
	t.Parallel()
	for name, second := range map[string]string{
		"path":         filepath.Join(appDir("preimport"), "hooks", "second.py"),
		"relative .py": "hooks/second.py",
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "preimport", "--import", "first", "--py-import", second)
			code, body, err := masterGet(masterClient(false, 10*time.Second), s.URL("/"))
			if code != 200 || body != "first,second," {
				t.Errorf("GET /: %d %q %v, want \"first,second,\" (both imported before the app, in order)", code, body, err)
			}
		})
	}
}

// --paste builds the app with PasteDeploy from an ini file, Pyramid's way;
// --paste-logger also sets up logging from that file's sections, and
// --ini-paste(-logged) FILE reads FILE's [uwsgi] section too.
func TestWSGIPaste(t *testing.T) {
	t.Parallel()
	dir := appDir("paste_site")
	want := "hello from paste from " + dir
	for name, args := range map[string][]string{
		// [uwsgi] chdir = %d
		"ini-paste-logged, with logger": {"--ini-paste-logged", filepath.Join(dir, "production.ini")},
		"ini-paste, no logger":          {"--ini-paste", filepath.Join(dir, "production.ini")},
		"flags, with logger":            {"--chdir", dir, "--paste", "config:production.ini", "--paste-logger"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := start(t, append(args, "--virtualenv", venvDir(t))...) // PasteDeploy is there
			c := masterClient(false, 10*time.Second)
			if code, body, err := masterGet(c, s.URL("/")); code != 200 || body != want {
				t.Errorf("GET /: %d %q %v, want %q (the factory's settings from the ini)", code, body, err, want)
			}
			masterGet(c, s.URL("/log"))
			logged := s.waitLog("PASTE-LOGGER paste_site: paste_site logged this", 3*time.Second)
			if withLogger := strings.Contains(name, "with logger"); logged != withLogger {
				t.Errorf("the ini's log format applied: %v, want %v", logged, withLogger)
			}
		})
	}
	t.Run("logger, file without logging sections", func(t *testing.T) {
		t.Parallel()
		s := start(t, "--ini-paste-logged", filepath.Join(dir, "nolog.ini"), "--virtualenv", venvDir(t))
		code, body, err := masterGet(masterClient(false, 10*time.Second), s.URL("/"))
		if want := "hello without logging sections from " + dir; code != 200 || body != want {
			t.Errorf("GET /: %d %q %v, want %q", code, body, err, want)
		}
	})
}

// --log-format: the request line in uWSGI's syntax (here Apache's combined
// format), over HTTP and over a uwsgi socket whose gateway sent
// REMOTE_USER; a variable carafe does not fill stops it at start.
func TestWSGILogFormat(t *testing.T) {
	t.Parallel()
	sock := filepath.Join(t.TempDir(), "app.sock")
	s := startAppEnv(t, []string{"TZ=UTC"}, "master_pid", "--socket", sock, "--log-format",
		`%(addr) - %(user) [%(ltime)] "%(method) %(uri) %(proto)" %(status) %(rsize) "%(referer)" "%(uagent)" %(host)`)
	req, _ := http.NewRequest("GET", s.URL("/combined?x=1"), nil)
	req.Header.Set("Referer", "http://example.com/from")
	req.Header.Set("User-Agent", `agent "quoted"`)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	httpLine := regexp.MustCompile(`(?m)^127\.0\.0\.1 - - \[\d\d/[A-Z][a-z]{2}/\d{4}:\d\d:\d\d:\d\d \+0000\] ` +
		`"GET /combined\?x=1 HTTP/1\.1" 200 \d+ "http://example\.com/from" "agent \\x22quoted\\x22" 127\.0\.0\.1:\d+$`)
	c := uwsgiDial(t, sock)
	c.Write(uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/via-nginx"}, {"PATH_INFO", "/via-nginx"},
		{"SERVER_PROTOCOL", "HTTP/1.0"}, {"SERVER_NAME", "x"}, {"SERVER_PORT", "80"}, {"REMOTE_ADDR", "203.0.113.5"},
		{"REMOTE_USER", "alice"}, {"HTTP_HOST", "shop.example"}}, ""))
	io.ReadAll(c)
	uwsgiLine := regexp.MustCompile(`(?m)^203\.0\.113\.5 - alice \[[^]]+\] "GET /via-nginx HTTP/1\.0" 200 \d+ "-" "-" shop\.example$`)
	for _, re := range []*regexp.Regexp{httpLine, uwsgiLine} {
		if !waitFor(5*time.Second, func() bool { return re.MatchString(s.Log()) }) {
			t.Errorf("no request line matching %s in:\n%s", re, s.Log())
		}
	}
	code, out := run(t, 15*time.Second, "--http", freeAddr(t), "--chdir", appDir("master_pid"), "--module", "wsgi",
		"--log-format", "%(addr) %(rss)")
	if code == 0 || !strings.Contains(out, "%(rss) is not a variable carafe fills") {
		t.Errorf("--log-format with %%(rss): exit %d, output %q; want a refusal naming it", code, out)
	}
}

// waitFor polls cond until it holds or d passes.
func waitFor(d time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(d); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return true
		}
	}
	return cond()
}

// A relative --virtualenv (uWSGI's home = venv beside chdir = /srv/site)
// is found under --chdir, as uWSGI finds it, wherever carafe started: a
// systemd unit with no WorkingDirectory starts it in /.
func TestWSGIVirtualenvRelativeToChdir(t *testing.T) {
	t.Parallel()
	venv := venvDir(t)
	site := t.TempDir()
	if err := os.Symlink(venv, filepath.Join(site, "venv")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(appDir("venv_check"), "wsgi.py"), filepath.Join(site, "wsgi.py")); err != nil {
		t.Fatal(err)
	}
	for _, extra := range [][]string{nil, {"--master"}} {
		s := startApp(t, "venv_check", append([]string{"--chdir", site, "--virtualenv", "venv"}, extra...)...)
		var r struct {
			Prefix string `json:"prefix"`
		}
		wsgiGetJSON(t, s, "/", &r)
		if !strings.HasPrefix(r.Prefix, site) {
			t.Errorf("%v: sys.prefix %q, want the venv under %s", extra, r.Prefix, site)
		}
		s.stop()
	}
}

func TestWSGIVirtualenv(t *testing.T) {
	t.Parallel()
	venv := venvDir(t)
	s := startApp(t, "venv_check", "--virtualenv", venv)
	var r struct {
		Prefix       string `json:"prefix"`
		Executable   string `json:"executable"`
		FlaskFile    string `json:"flask_file"`
		FlaskVersion string `json:"flask_version"`
	}
	wsgiGetJSON(t, s, "/", &r)
	real := func(p string) string {
		if q, err := filepath.EvalSymlinks(p); err == nil {
			return q
		}
		return p
	}
	if real(r.Prefix) != real(venv) {
		t.Errorf("sys.prefix %q, want the venv %q", r.Prefix, venv)
	}
	if filepath.Dir(r.Executable) != filepath.Join(venv, "bin") {
		t.Errorf("sys.executable %q, want one in %s/bin", r.Executable, venv)
	}
	t.Logf("sys.prefix %s, sys.executable %s, flask %s from %s", r.Prefix, r.Executable, r.FlaskVersion, r.FlaskFile)
	if !strings.HasPrefix(r.FlaskFile, venv+"/") || r.FlaskVersion == "" {
		t.Errorf("flask %q from %q, want it imported from the venv %s", r.FlaskVersion, r.FlaskFile, venv)
	}
}

// PYTHONHOME in carafe's environment takes Python's standard library from
// there, whatever --virtualenv says (as it does for python): carafe says
// so. Here it names the embedded Python's own prefix, so the app runs.
func TestWSGIPythonHomeWarned(t *testing.T) {
	t.Parallel()
	out, err := exec.Command(filepath.Join(venvDir(t), "bin", "python"), "-c", "import sys; print(sys.base_prefix)").Output()
	if err != nil {
		t.Skip(err)
	}
	home := strings.TrimSpace(string(out))
	s := startAppEnv(t, []string{"PYTHONHOME=" + home}, "venv_check", "--virtualenv", venvDir(t))
	if !s.waitLog("carafe: PYTHONHOME="+home+" is set", 5*time.Second) {
		t.Errorf("no warning of PYTHONHOME:\n%s", s.Log())
	}
}

// A venv made by another installation of the embedded Python's version
// may work: the warning of it is given once, by the master, not by every
// worker at each start, recycle and respawn.
func TestWSGIVirtualenvOtherInstallWarnsOnce(t *testing.T) {
	t.Parallel()
	// The test venv is made by the embedded interpreter: /usr/bin/python3
	// must be another installation of the same version (a build of
	// another version is refused, which TestWSGIVirtualenv checks).
	version := func(python string) string {
		out, err := exec.Command(python, "-c", "import sys; print(sys.version_info[:2])").Output()
		if err != nil {
			t.Skipf("%s: %v", python, err)
		}
		return strings.TrimSpace(string(out))
	}
	if sys, embedded := version("/usr/bin/python3"), version(filepath.Join(venvDir(t), "bin", "python")); sys != embedded {
		t.Skipf("/usr/bin/python3 is %s, the embedded Python %s", sys, embedded)
	}
	venv := filepath.Join(t.TempDir(), "venv")
	if out, err := exec.Command("/usr/bin/python3", "-m", "venv", "--without-pip", venv).CombinedOutput(); err != nil {
		t.Skipf("no venv from /usr/bin/python3: %v %s", err, out)
	}
	addr := freeAddr(t)
	s := launch(t, addr, "--http", addr, "--chdir", appDir("master_pid"), "--module", "wsgi",
		"--virtualenv", venv, "--processes", "2", "--max-requests", "2")
	s.waitReady(20 * time.Second)
	if !s.waitLog("2 workers ready", 20*time.Second) {
		t.Fatalf("the workers did not start:\n%s", s.Log())
	}
	for range 6 { // three recycles
		wsgiGet(t, s, "/")
	}
	time.Sleep(time.Second)
	switch n := strings.Count(s.Log(), "was made by"); n {
	case 0:
		t.Skip("/usr/bin/python3 is the embedded interpreter: no other installation to warn of")
	case 1:
	default:
		t.Errorf("the venv warning given %d times:\n%s", n, s.Log())
	}
}

var wsgiDuration = regexp.MustCompile(`(?i)\d(\.\d+)?\s*(ns|us|µs|ms|msecs?|s|secs?)\b`)

func TestWSGIAccessLog(t *testing.T) {
	t.Parallel()

	t.Run("one line per request", func(t *testing.T) {
		t.Parallel()
		s := startApp(t, "access_log")
		for i := 0; i < 3; i++ {
			wsgiGet(t, s, "/log-path?x=1")
		}
		// The server's own 500 counts the bytes of its own body.
		resp, boom := wsgiGet(t, s, "/boom")
		if resp.StatusCode != 500 {
			t.Errorf("GET /boom: status %d, want 500", resp.StatusCode)
		}
		wsgiGet(t, s, "/missing-page")
		if !s.waitLog("/missing-page", 5*time.Second) {
			t.Fatalf("no access line for /missing-page")
		}
		time.Sleep(200 * time.Millisecond)
		var seen int
		for _, line := range strings.Split(s.Log(), "\n") {
			want := []string{"GET", "/log-path", "200", "1234"}
			switch {
			case strings.Contains(line, "/log-path"):
				seen++
			case strings.Contains(line, "/missing-page"):
				want = []string{"GET", "/missing-page", "404", "777"}
			case strings.Contains(line, "/boom") && wsgiDuration.MatchString(line):
				want = []string{"GET", "/boom", "500"}
				if n := regexp.MustCompile(fmt.Sprintf(`(\s|=)%d(\s|$)`, len(boom))); !n.MatchString(line) {
					t.Errorf("access line for the server's 500 does not count its %d body bytes: %q", len(boom), line)
				}
			default:
				continue
			}
			for _, w := range want {
				if !strings.Contains(line, w) {
					t.Errorf("access line lacks %q: %q", w, line)
				}
			}
			if !wsgiDuration.MatchString(line) {
				t.Errorf("access line has no duration: %q", line)
			}
		}
		if seen != 3 {
			t.Errorf("%d access lines for /log-path, want 3:\n%s", seen, s.Log())
		}
	})

	t.Run("disable-logging", func(t *testing.T) {
		t.Parallel()
		s := startApp(t, "access_log", "--disable-logging")
		wsgiGet(t, s, "/log-path")
		wsgiGet(t, s, "/errors")
		if !s.waitLog("errors-still-here", 5*time.Second) {
			t.Errorf("--disable-logging also silenced wsgi.errors")
		}
		time.Sleep(200 * time.Millisecond)
		if log := s.Log(); strings.Contains(log, "/log-path") || strings.Contains(log, "/errors") {
			t.Errorf("access lines printed with --disable-logging:\n%s", log)
		}
	})

	// Behind an HTTP proxy: the forwarded client, as one escaped field.
	t.Run("log-x-forwarded-for", func(t *testing.T) {
		t.Parallel()
		sock := filepath.Join(t.TempDir(), "app.sock")
		s := startApp(t, "access_log", "--log-x-forwarded-for", "--socket", sock)
		c := uwsgiDial(t, sock) // nginx passes the header as HTTP_X_FORWARDED_FOR
		c.Write(uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"REQUEST_URI", "/log-path?via=uwsgi"},
			{"PATH_INFO", "/log-path"}, {"REMOTE_ADDR", "10.0.0.2"}, {"HTTP_X_FORWARDED_FOR", "192.0.2.44"}}, ""))
		io.Copy(io.Discard, c)
		for _, xff := range []string{"203.0.113.7, 10.0.0.1", `198.51.100.9 "forged`, ""} {
			req, _ := http.NewRequest("GET", s.URL("/log-path?n="+strconv.Itoa(len(xff))), nil)
			if xff != "" {
				req.Header.Set("X-Forwarded-For", xff)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
		for _, want := range []string{` 192.0.2.44 "GET /log-path?via=uwsgi `, ` 203.0.113.7,10.0.0.1 "GET /log-path?n=21 `, ` 198.51.100.9\x22forged "GET /log-path?n=20 `} {
			if !s.waitLog(want, 5*time.Second) {
				t.Errorf("no access line with %q:\n%s", want, s.Log())
			}
		}
		if !s.waitLog(`"GET /log-path?n=0 `, 5*time.Second) ||
			!regexp.MustCompile(` 127\.0\.0\.1:\d+ "GET /log-path\?n=0 `).MatchString(s.Log()) {
			t.Errorf("without X-Forwarded-For the line should show the peer address:\n%s", s.Log())
		}
	})

	// uWSGI's log-4xx, log-5xx, log-slow, log-big, log-zero and
	// log-sendfile keep those lines when logging is disabled.
	for _, tt := range []struct {
		flag, logged, silent string
		more                 []string
	}{
		{"--log-4xx", "/missing-page", "/boom", nil},
		{"--log-5xx", "/boom", "/missing-page", nil},
		{"--log-slow=200", "/slow-page", "/big-page", nil},
		{"--log-big=50000", "/big-page", "/slow-page", nil},
		{"--log-zero", "/empty-page", "/big-page", nil},
		{"--log-sendfile", "/files/wsgi.py", "/big-page", []string{"--static-map", "/files=" + appDir("access_log")}},
	} {
		t.Run("disable-logging "+tt.flag, func(t *testing.T) {
			t.Parallel()
			s := startApp(t, "access_log", append([]string{"--disable-logging", tt.flag}, tt.more...)...)
			for _, path := range []string{"/log-path", tt.silent, tt.logged} {
				wsgiGet(t, s, path)
			}
			if !s.waitLog(`"GET `+tt.logged, 5*time.Second) {
				t.Fatalf("no access line for %s with %s:\n%s", tt.logged, tt.flag, s.Log())
			}
			time.Sleep(200 * time.Millisecond)
			if log := s.Log(); strings.Contains(log, `"GET /log-path`) || strings.Contains(log, `"GET `+tt.silent) {
				t.Errorf("%s logged more than its status class:\n%s", tt.flag, log)
			}
		})
	}
}

// A config that cannot start says what led there: the misspelt key of an
// ini file comes before "no app given".
func TestStartupErrorShowsWarnings(t *testing.T) {
	t.Parallel()
	ini := filepath.Join(t.TempDir(), "site.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodle = wsgi\nhttp = 127.0.0.1:0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, 20*time.Second, "--ini", ini)
	if code != 2 || !strings.Contains(out, `unknown option "modle" (did you mean "module"?)`) {
		t.Errorf("exit %d, want 2 with the misspelt key named:\n%s", code, out)
	}
}

// Started as root without --uid, carafe says that the app runs as root
// (as uWSGI does); with --uid it does not.
func TestRootWithoutUIDWarned(t *testing.T) {
	t.Parallel()
	if os.Geteuid() != 0 {
		t.Skip("needs root")
	}
	const warning = "running as root without --uid"
	s := startApp(t, "environ")
	if !s.waitLog(warning, 5*time.Second) {
		t.Errorf("no warning as root:\n%s", s.Log())
	}
	s = startApp(t, "environ", "--uid", "root", "--gid", "root")
	if strings.Contains(s.Log(), warning) {
		t.Errorf("warned with --uid:\n%s", s.Log())
	}
}

// What the app wrote to stdout before its import failed reaches the log:
// a piece of a line print() held, and a line from C's stdio, which was
// buffered (and lost at the worker's exit) while Python's layers were.
func TestWSGIStartupErrorKeepsOutput(t *testing.T) {
	t.Parallel()
	cmd := exec.Command(carafeBin(t), "--http", freeAddr(t), "--chdir", appDir("startup_output"), "--module", "wsgi")
	cmd.Env = append(os.Environ(), "PYTHONUNBUFFERED=") // (set, it would unbuffer any build)
	out, err := cmd.CombinedOutput()
	if err == nil {
		t.Errorf("exit code 0, want non-zero")
	}
	for _, want := range []string{"python-piece-before-error", "c-line-before-error", "startup_output fails on purpose"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// An application factory, module = app:create_app() (Flask's tutorial
// layout; uWSGI and Gunicorn call it): called once, in each worker, for
// the app; the callable = app such inis often say beside it is not used,
// with a warning. carafe looked for an attribute named "create_app()",
// and refused the pair as a conflict.
func TestWSGIFactory(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--module", "wsgi:create_app()"},
		{"--module", "wsgi:create_app()", "--callable", "app", "--master", "--processes", "2"},
		{"--module", "wsgi", "--callable", "create_app()"},
	} {
		addr := freeAddr(t)
		s := launch(t, addr, append([]string{"--http", addr, "--chdir", appDir("factory")}, args...)...)
		s.waitReady(20 * time.Second)
		for range 4 {
			if resp, body := wsgiGet(t, s, "/"); resp.StatusCode != 200 || string(body) != "factory app, built 1 time(s)" {
				t.Errorf("%v: %d %q", args, resp.StatusCode, body)
			}
		}
		if warned := strings.Contains(s.Log(), `--callable "app" is not used`); warned != slices.Contains(args, "app") {
			t.Errorf("%v: the unused --callable warned: %v\n%s", args, warned, s.Log())
		}
		s.stop()
	}
}

// optimize = N (uWSGI's -O) runs the app's Python as python -O or -OO,
// and that interpreter alone (no PYTHONOPTIMIZE for the programs it
// starts); carafe warned of it as an unknown option and ran asserts on.
func TestWSGIOptimize(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "optimize=0 assert=on child=None"},
		{[]string{"--optimize", "1"}, "optimize=1 assert=off child=None"},
		{[]string{"-O", "2", "--master", "--processes", "1"}, "optimize=2 assert=off child=None"},
	} {
		s := startApp(t, "optimize", tc.args...)
		if resp, body := wsgiGet(t, s, "/"); resp.StatusCode != 200 || string(body) != tc.want {
			t.Errorf("%v: %d %q, want %q", tc.args, resp.StatusCode, body, tc.want)
		}
		s.stop()
	}
}

// Every extension module of the standard library imports in carafe: a
// static libpython brings only the objects carafe calls into, and 3.13's
// interpconfig.o was left out (_interpreters and _testinternalcapi:
// "undefined symbol: _PyInterpreterConfig_UpdateFromDict"). make compat
// runs this on another Python.
func TestWSGIExtensionModulesLink(t *testing.T) {
	t.Parallel()
	s := startApp(t, "dynload")
	resp, body := wsgiGet(t, s, "/")
	if resp.StatusCode != 200 || !strings.Contains(string(body), "; 0 with undefined symbols") {
		t.Errorf("%d %s", resp.StatusCode, body)
	}
}

// The ASGI check refuses no WSGI app: one beside ASGI apps in the same
// module, and one whose class hides __call__ from a lookup (the check
// failing is no refusal).
func TestWSGIAsgiCheckServesWSGI(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"wsgi", "guarded"} {
		s := start(t, "--chdir", appDir("startup_asgi"), "--module", "asgi:"+name)
		if resp, body := wsgiGet(t, s, "/"); resp.StatusCode != 200 || string(body) != "wsgi" {
			t.Errorf("asgi:%s: %d %q, want 200 \"wsgi\"", name, resp.StatusCode, body)
		}
	}
}
