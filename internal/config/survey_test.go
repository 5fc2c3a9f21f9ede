package config

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The tests in this file come from a survey of uwsgi.ini files in public
// repositories (tutorials, Flask and Django projects, Docker images): each
// is a shape that uWSGI runs and carafe once refused or read otherwise.

// `ini = :base` reads the [base] section of the same file, as uWSGI does
// (a file of shared settings and variants, each variant a section).
func TestIniSameFileSection(t *testing.T) {
	dir := t.TempDir()
	text := "[uwsgi]\nini = :base\nsocket = %dapp.sock\nmaster = true\n\n" +
		"[local]\nini = :base\nhttp = :8000\n\n" +
		"[base]\nmodule = webapp.wsgi:application\nchmod-socket = 666\n"
	c, warnings, err := parseLogicIni(t, dir, text, []string{})
	if err != nil {
		t.Fatal(err)
	}
	ini := filepath.Join(dir, "site.ini")
	if c.Module != "webapp.wsgi:application" || c.ChmodSocket != "666" || !slices.Equal(c.Socket, []string{dir + "/app.sock"}) ||
		len(warnings) != 0 {
		t.Errorf("module %q, chmod-socket %q, socket %q, warnings %q", c.Module, c.ChmodSocket, c.Socket, warnings)
	}
	if want := []string{ini, ini + ":base"}; !slices.Equal(c.Ini, want) {
		t.Errorf("ini files read %q, want %q", c.Ini, want)
	}
	c, _, err = Parse([]string{"--ini", ini + ":local"}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Module != "webapp.wsgi:application" || !slices.Equal(c.HTTP, []string{"0.0.0.0:8000"}) || len(c.Socket) != 0 {
		t.Errorf("[local]: module %q, http %q, socket %q", c.Module, c.HTTP, c.Socket)
	}
	// A section that includes itself is a cycle, stopped as any other.
	_, _, err = parseLogicIni(t, dir, "[uwsgi]\nini = :uwsgi\nmodule = app\n", []string{})
	if err == nil || !strings.Contains(err.Error(), "nested more than") {
		t.Errorf("self-include: %v, want the nesting limit", err)
	}
}

// A listener address without a colon is a unix socket, as uWSGI reads it:
// DigitalOcean's tutorial writes `socket = myproject.sock`.
func TestBareSocketName(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nsocket = myproject.sock\n"+
		"http-socket = web.sock\nstats = stats.sock\nchmod-socket = 660\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Socket, []string{"./myproject.sock"}) || !slices.Equal(c.HTTP, []string{"./web.sock"}) ||
		c.Stats != "./stats.sock" || len(warnings) != 0 {
		t.Errorf("socket %q, http %q, stats %q, warnings %q", c.Socket, c.HTTP, c.Stats, warnings)
	}
}

// A comment after a TCP listener's address is dropped, as uWSGI binds the
// port before it; a unix socket path is kept whole, as uWSGI keeps it.
func TestListenerTrailingComment(t *testing.T) {
	c, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\n"+
		"socket = 0.0.0.0:8001 #use http without nginx\nhttp = 127.0.0.1:6666   ; local\n"+
		"http-socket = /tmp/a.sock # kept\nstats = :9191\t# stats\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Socket, []string{"0.0.0.0:8001"}) || !slices.Equal(c.HTTP, []string{"127.0.0.1:6666", "/tmp/a.sock # kept"}) ||
		c.Stats != "0.0.0.0:9191" {
		t.Errorf("socket %q, http %q, stats %q", c.Socket, c.HTTP, c.Stats)
	}
	// A port or a host alone is refused by name, with a comment after it
	// too: it bound a unix socket named "8001   # for nginx".
	for _, line := range []string{"socket = 8001   # for nginx", "http = 127.0.0.1 ; local only", "socket = localhost # x"} {
		_, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\n"+line+"\n", []string{})
		if first, _, _ := strings.Cut(strings.SplitN(line, "= ", 2)[1], " "); err == nil || !strings.Contains(err.Error(), strconv.Quote(first)+": want host:port") {
			t.Errorf("%s: %v, want %q refused as no host:port", line, err, first)
		}
	}
}

// A boolean word given to a number option in an ini file (`threads = true`
// from a tutorial, `log-slow = True`) is what uWSGI reads as 0: the option
// stays at its default, with a warning. On the command line it is an error.
func TestWordForNumber(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nhttp = :8000\nprocesses = 4\n"+
		"threads = true\nlog-slow = True\nhttp-keepalive = on ; keep\nlimit-post = 0\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Processes != 4 || c.Threads != 1 || c.LogSlow != 0 || c.HTTPKeepalive != 15 || c.LimitPost != 0 {
		t.Errorf("processes %d, threads %d, log-slow %d, http-keepalive %g, limit-post %d",
			c.Processes, c.Threads, c.LogSlow, c.HTTPKeepalive, c.LimitPost)
	}
	want := []string{
		"threads = true is not a number: uWSGI reads it as 0, and carafe leaves threads at its default, 1",
		"log-slow = True is not a number: uWSGI reads it as 0, and carafe leaves log-slow at its default, 0",
		"http-keepalive = on is not a number: uWSGI reads it as 0, and carafe leaves http-keepalive at its default, 15",
	}
	if len(warnings) != len(want) {
		t.Fatalf("warnings %q, want %d", warnings, len(want))
	}
	for i, w := range want {
		if !strings.HasSuffix(warnings[i], w) || !strings.HasPrefix(warnings[i], "carafe: ") {
			t.Errorf("warning %q, want it to end %q", warnings[i], w)
		}
	}
	_, _, err = Parse([]string{"app", "--threads", "true"}, []string{})
	if err == nil || err.Error() != `config: --threads: invalid integer "true"` {
		t.Errorf("--threads true: %v, want it refused", err)
	}
}

// uWSGI configs often give buffer-size = 65536; the protocol cannot send a
// larger block than 65535 anyway, so the value means no lower limit.
func TestBufferSizeOverProtocolLimit(t *testing.T) {
	c, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nsocket = :3031\nbuffer-size = 65536\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.BufferSize != 65536 {
		t.Errorf("buffer-size %d, want 65536", c.BufferSize)
	}
}

// Debian's and Fedora's uWSGI need the logfile plugin for logger = file:;
// carafe has it built in.
func TestLogfilePlugin(t *testing.T) {
	c, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nsocket = :3031\n"+
		"logger = file:/var/log/app.log\nplugins = logfile, python3\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.LogTo != "/var/log/app.log" {
		t.Errorf("logto %q, want the logger's file", c.LogTo)
	}
}

// uWSGI's stdio logger, named or not, and for the request log too, is
// where carafe logs anyway: accepted and left at the default.
func TestStdioLogger(t *testing.T) {
	for _, text := range []string{
		"logger = stdio\n",
		"logger = applogger stdio\nlogger = default stdio\n",
		"logger-req = stdio\n",
	} {
		c, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nhttp = :8000\n"+text, []string{})
		if err != nil {
			t.Errorf("%q: %v", text, err)
			continue
		}
		if c.Logger != "" || c.ReqLogger != "" || c.LogTo != "" {
			t.Errorf("%q: logger %q, req-logger %q, logto %q", text, c.Logger, c.ReqLogger, c.LogTo)
		}
	}
	_, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nhttp = :8000\nlogger = syslog stdio extra\n", []string{})
	if err == nil {
		t.Error("logger = syslog stdio extra accepted")
	}
}

// Given both a module and a file, uWSGI loads the module and skips the
// file; carafe does the same and says so.
func TestModuleAndWSGIFile(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = serve\ncallable = app\n"+
		"chdir = /app/server\nwsgi-file = wsgi.py\nsocket = /tmp/flask/uwsgi.sock\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	want := `carafe: --wsgi-file "wsgi.py" is not loaded: --module "serve" is the app, as in uWSGI, which loads the module and skips the file`
	if c.Module != "serve" || c.WSGIFile != "" || len(warnings) != 1 || warnings[0] != want {
		t.Errorf("module %q, wsgi-file %q, warnings %q", c.Module, c.WSGIFile, warnings)
	}
}

// A uWSGI feature carafe lacks is refused with what to do instead, not
// only a pointer to the docs.
func TestUnsupportedSaysInstead(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "uwsgi.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\nsocket = /tmp/uwsgi.sock\nmules = 2\nprocesses = 16\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Parse([]string{"--ini", ini}, []string{})
	want := `config: ` + ini + `:4: option "mules" is a uWSGI feature carafe does not implement: There are no mules; ` +
		`run background work as its own service.`
	if err == nil || err.Error() != want {
		t.Errorf("error %v,\nwant %s", err, want)
	}
}

// Every refused key of a config is named in one error, not one a run: a
// production config often has a block of them.
func TestUnsupportedAllNamed(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "uwsgi.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\ncheaper-algo = spare\nmules = 2\n"+
		"cheaper = 2\nprocesses = 16\nroute-host = ^x$ break:404\nspooler = /tmp/s\n"+
		"cheaper-overload = 5\ncheaper-algos-list = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, _, err := Parse([]string{"--ini", ini}, []string{})
	if err == nil {
		t.Fatal("accepted")
	}
	lines := strings.Split(err.Error(), "\n")
	want := []string{":4: option \"mules\"", ":7: option \"route-host\"", ":8: option \"spooler\"",
		":10: option \"cheaper-algos-list\""}
	if len(lines) != len(want) {
		t.Fatalf("error:\n%v\nwant %d lines", err, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], "config: "+ini+w) {
			t.Errorf("line %d: %q, want it to start with %q", i, lines[i], "config: "+ini+w)
		}
	}
}

// cheaper = 0 switches the whole family off, as in uWSGI, which then
// ignores its other keys: a config's block of them may stay.
func TestCheaperOffKeepsFamily(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "uwsgi.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\nhttp = :8000\ncheaper = 0\ncheaper-algo = busyness\n"+
		"cheaper-initial = 4\ncheaper-overload = 5\ncheaper-busyness-multiplier = 30\nprocesses = 4\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if c, _, err := Parse([]string{"--ini", ini, "--strict"}, []string{}); err != nil || c.Processes != 4 {
		t.Errorf("cheaper = 0 with its family: %v", err)
	}
	if _, _, err := Parse([]string{"app"}, []string{"UWSGI_CHEAPER=0", "UWSGI_CHEAPER_INITIAL=2"}); err != nil {
		t.Errorf("UWSGI_CHEAPER=0 with UWSGI_CHEAPER_INITIAL: %v", err)
	}
	if c, _, err := Parse([]string{"app"}, []string{"UWSGI_CHEAPER_INITIAL=2"}); err != nil || c.Cheaper != 0 {
		t.Errorf("UWSGI_CHEAPER_INITIAL alone: %v", err)
	}
	// Switched off, the family says nothing; never switched on, each of
	// its lines says it does nothing (uWSGI is silent), naming where.
	for _, tt := range []struct {
		ini  string
		want []string
	}{
		{"cheaper = 0\ncheaper-initial = 2\n", nil},
		{"cheaper = 2\ncheaper-initial = 2\n", nil},
		{"cheaper-initial = 2\ncheaper-algo = spare\n", []string{
			"uwsgi.ini:5: cheaper-initial is not applied: no cheaper option", "uwsgi.ini:6: cheaper-algo is not applied"}},
	} {
		if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\nhttp = :8000\nprocesses = 4\n"+tt.ini), 0o644); err != nil {
			t.Fatal(err)
		}
		_, warnings, err := Parse([]string{"--ini", ini}, []string{})
		if err != nil || len(warnings) != len(tt.want) {
			t.Errorf("%q: %v, warnings %q; want %q", tt.ini, err, warnings, tt.want)
			continue
		}
		for i, w := range tt.want {
			if !strings.Contains(warnings[i], w) {
				t.Errorf("%q: warning %q, want %q in it", tt.ini, warnings[i], w)
			}
		}
	}
	// A cheaper-* key carafe lacks goes with the family when it is off.
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\nhttp = :8000\ncheaper = 0\ncheaper-algos-list = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := Parse([]string{"--ini", ini}, []string{}); err != nil {
		t.Errorf("cheaper = 0 with cheaper-algos-list: %v", err)
	}
}

// The cheaper family as uWSGI configs give it, and its mistakes refused
// as uWSGI refuses them.
func TestCheaperOptions(t *testing.T) {
	ini := filepath.Join(t.TempDir(), "uwsgi.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\nhttp = :8000\nprocesses = 128\ncheaper-algo = busyness\n"+
		"cheaper = 8\ncheaper-initial = 16\ncheaper-step = 16\ncheaper-overload = 1\ncheaper-busyness-multiplier = 30\n"+
		"cheaper-busyness-min = 20\ncheaper-busyness-max = 70\ncheaper-busyness-backlog-alert = 16\n"+
		"cheaper-busyness-backlog-step = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	c, warnings, err := Parse([]string{"--ini", ini}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Cheaper != 8 || c.CheaperInitial != 16 || c.CheaperStep != 16 || c.CheaperOverload != 1 || c.CheaperAlgo != "busyness" ||
		c.CheaperBusyMult != 30 || c.CheaperBusyMin != 20 || c.CheaperBusyMax != 70 || c.CheaperIdle != 10 {
		t.Errorf("read %+v", c)
	}
	if len(warnings) != 2 || !strings.Contains(warnings[0], "cheaper-busyness-backlog-alert") {
		t.Errorf("warnings %q, want the two backlog keys", warnings)
	}
	for _, tc := range []struct{ args, want string }{
		{"--cheaper 2", "--cheaper 2 must be below --processes 1"},
		{"--cheaper 4 --processes 4", "--cheaper 4 must be below --processes 4"},
		{"--cheaper 2 --processes 4 --cheaper-initial 1", "--cheaper-initial 1 must be between --cheaper 2 and --processes 4"},
		{"--cheaper 2 --processes 4 --cheaper-algo backlog", "--cheaper-algo backlog is not available"},
		{"--cheaper 2 --processes 4 --cheaper-algo fast", `--cheaper-algo "fast": want spare, spare2 or busyness`},
		{"--cheaper 2 --processes 4 --cheaper-step 0", "--cheaper-step must be at least 1"},
		{"--cheaper 2 --processes 4 --cheaper-busyness-min 60", "--cheaper-busyness-min 60 and --cheaper-busyness-max 50"},
	} {
		_, _, err := Parse(append([]string{"app"}, strings.Fields(tc.args)...), []string{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.args, err, tc.want)
		}
	}
	if c, _, err := Parse([]string{"app", "--cheaper", "1", "--processes", "3"}, []string{}); err != nil || c.Cheaper != 1 ||
		c.CheaperAlgo != "spare" || c.CheaperStep != 1 || c.CheaperOverload != 3 {
		t.Errorf("defaults: %v %+v", err, c)
	}
}

// A --pythonpath glob pattern adds every directory it matches, in order, as
// uWSGI expands it; one that matches nothing stays as written.
func TestPythonPathGlob(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"lib64/site-packages", "lib/site-packages"} {
		if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	c, _, err := parseLogicIni(t, dir, "[uwsgi]\nmodule = wsgi\nhttp = :8000\n"+
		"pythonpath = %dlib*/site-packages\npythonpath = /nowhere*/x\npythonpath = /srv/plain\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{dir + "/lib/site-packages", dir + "/lib64/site-packages", "/nowhere*/x", "/srv/plain"}
	if !slices.Equal(c.PythonPath, want) {
		t.Errorf("pythonpath %q,\nwant %q", c.PythonPath, want)
	}
}

// Whole families of uWSGI options carafe has no part of are refused, not
// warned about: a route-if access rule, a hook that runs the migrations, a
// daemon carafe would not start, a chroot. Each used to be an "unknown
// option" warning, and the site started without it.
func TestUnsupportedFamiliesRefused(t *testing.T) {
	for _, line := range []string{
		"route-if = equal:${PATH_INFO};/ break:403", "route-uri = ^/x break:403", "final-route = .* last:",
		"error-route-status = 404 goto:x", "hook-pre-app = exec:python manage.py migrate", "hook-as-user = exec:x",
		"exec-asap = touch /tmp/x", "exec-post-app = x", "call-asap = f", "attach-daemon2 = cmd=celery worker",
		"smart-attach-daemon2 = x", "unique-cron = -1 -1 -1 -1 -1 x", "cron2 = minute=1 x", "legion = a",
		"chroot = /srv/jail", "cap = setgid", "unshare = net", "ssl-socket = :443,a,b", "https-socket = :443",
		"shared-socket = :80", "enable-proxy-protocol = true", "unenv = DEBUG", "chdir2 = /srv",
		"set = processes=2",
	} {
		ini := filepath.Join(t.TempDir(), "uwsgi.ini")
		if err := os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\nhttp = :8000\n"+line+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		key, _, _ := strings.Cut(line, " =")
		if _, _, err := Parse([]string{"--ini", ini}, []string{}); err == nil ||
			!strings.Contains(err.Error(), fmt.Sprintf("option %q is a uWSGI feature carafe does not implement", key)) {
			t.Errorf("%s: %v, want it refused", line, err)
		}
	}
	// Keys of one's own that a %(name) uses are placeholders, whatever
	// they start with (review: ssl-dir, hook-url, route_prefix, and
	// backup_cron_time stopped carafe), and so is set-placeholder's; a
	// name with underscores is never an option of these families (uWSGI
	// reads no option so in a file); a UWSGI_* variable of such a name
	// (Kubernetes sets UWSGI_CRON_SERVICE_HOST for a service uwsgi-cron)
	// is only warned about; on the command line they are refused.
	ini := filepath.Join(t.TempDir(), "uwsgi.ini")
	os.WriteFile(ini, []byte("[uwsgi]\nsettings = /srv\nssl-dir = /etc/ssl\nhook-url = http://x\n"+
		"route_prefix = /api\nbackup_cron_time = 3\nset-placeholder = exec_user=www\nhttp = :8000\nmodule = main\n"+
		"chdir = %(settings)\nenv = A=%(ssl-dir)%(hook-url)%(route_prefix)%(exec_user)\nroute_if = inert\n"), 0o644)
	c, warnings, err := Parse([]string{"--ini", ini}, []string{"UWSGI_CRON_SERVICE_HOST=10.0.0.7"})
	if err != nil || c.Chdir != "/srv" || !slices.Equal(c.Env, []string{"A=/etc/sslhttp://x/apiwww"}) {
		t.Errorf("keys of one's own: %v, chdir %q, env %q", err, c.Chdir, c.Env)
	}
	if len(warnings) != 3 { // backup_cron_time and route_if unused, and the variable
		t.Errorf("warnings %q, want 3", warnings)
	}
	if _, _, err := Parse([]string{"main", "--route-if", "x"}, []string{}); err == nil ||
		!strings.Contains(err.Error(), "uWSGI feature") {
		t.Errorf("--route-if: %v, want it refused", err)
	}
}

// uWSGI's spellings of options carafe has: include and inherit load a file
// as ini does, chmod is chmod-socket, shared-import is import, and the
// one-letter flags of uWSGI's --help.
func TestUWSGISpellings(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "common.ini"), []byte("[uwsgi]\nprocesses = 2\nenv = FROM_INCLUDE=1\n"), 0o644)
	os.WriteFile(filepath.Join(dir, "base.ini"), []byte("[uwsgi]\nthreads = 4\n"), 0o644)
	main := filepath.Join(dir, "main.ini")
	os.WriteFile(main, []byte("[uwsgi]\ninclude = %dcommon.ini\ninherit = %dbase.ini\nhttp = :8000\nmodule = main\n"+
		"chmod = 660\nshared-import = warmup\n"), 0o644)
	c, warnings, err := Parse([]string{"--ini", main}, []string{})
	if err != nil || len(warnings) != 0 {
		t.Fatalf("%v %q", err, warnings)
	}
	if c.Processes != 2 || c.Threads != 4 || !slices.Equal(c.Env, []string{"FROM_INCLUDE=1"}) ||
		c.ChmodSocket != "660" || !slices.Equal(c.Import, []string{"warmup"}) {
		t.Errorf("processes %d threads %d env %q chmod %q import %q", c.Processes, c.Threads, c.Env, c.ChmodSocket, c.Import)
	}
	c, _, err = Parse([]string{"-w", "main", "-s", "/tmp/a.sock", "-t", "30", "-R", "500", "-b", "32768", "-L",
		"-d", "/tmp/x.log", "-C", "-i", "-z", "5", "-m", "-T"}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Harakiri != 30 || c.MaxRequests != 500 || c.BufferSize != 32768 || !c.DisableLogging ||
		c.Daemonize != "/tmp/x.log" || c.ChmodSocket != "666" || c.SocketTimeout != 5 {
		t.Errorf("short flags: harakiri %d max-requests %d buffer-size %d disable-logging %v daemonize %q "+
			"chmod %q socket-timeout %g", c.Harakiri, c.MaxRequests, c.BufferSize, c.DisableLogging, c.Daemonize,
			c.ChmodSocket, c.SocketTimeout)
	}
	if c, _, err := Parse([]string{"-w", "main", "-s", "/tmp/a.sock", "-C", "644"}, []string{}); err != nil || c.ChmodSocket != "644" {
		t.Errorf("-C 644: %v %q", err, c.ChmodSocket)
	}
}

// uWSGI's capital magic variables name the first ini file read, also in a
// file it includes: sites sharing one include (socket = /run/app/%N.sock)
// each get their own socket and log, not common.sock, common.log for all.
func TestIniCapitalsNameTheFirstFile(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "common.ini"), []byte("[uwsgi]\nsocket = /run/app/%N.sock\n"+
		"logto = /var/log/app/%N-%n.log\n"), 0o644)
	site := filepath.Join(dir, "site1.ini")
	os.WriteFile(site, []byte("[uwsgi]\nmodule = main\nini = %dcommon.ini\n"), 0o644)
	c, _, err := Parse([]string{"--ini", site}, []string{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(c.Socket, []string{"/run/app/site1.sock"}) || c.LogTo != "/var/log/app/site1-common.log" {
		t.Errorf("socket %q, logto %q: want the site's name for %%N, the include's for %%n", c.Socket, c.LogTo)
	}
}

// uWSGI's inherit reads its template after the file, so the template's
// values come last (uWSGI 2.0.21 ran 2 workers here), where include reads
// the file where the line stands (3).
func TestIniInheritComesLast(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "tmpl.ini"), []byte("[uwsgi]\nprocesses = 2\nthreads = 4\n"), 0o644)
	for _, tt := range []struct {
		key       string
		processes int
	}{{"inherit", 2}, {"include", 3}} {
		ini := filepath.Join(dir, tt.key+".ini")
		os.WriteFile(ini, []byte("[uwsgi]\nmodule = main\nhttp = :8000\n"+tt.key+" = %dtmpl.ini\nprocesses = 3\n"), 0o644)
		c, _, err := Parse([]string{"--ini", ini}, []string{})
		if err != nil || c.Processes != tt.processes || c.Threads != 4 {
			t.Errorf("%s: %v, processes %d threads %d, want %d and 4", tt.key, err, c.Processes, c.Threads, tt.processes)
		}
	}
}

// Follow-up review: a family switched off asks for nothing carafe lacks,
// as an unsupported option switched off; unique-legion-cron and
// unique-cron-legion are refused as the other crons; an ini read from a
// [carafe] section leaves its override on, and an inherited template does
// not beat the [carafe] section; set-placeholder inside for sets %(_).
func TestConfigFollowUps(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	base := "[uwsgi]\nmodule = main\nhttp = :8000\n"
	off := write("off.ini", base+"enable-proxy-protocol = false\nhttps-socket = 0\ncron-harakiri = 0\n")
	if _, warnings, err := Parse([]string{"--ini", off, "--ssl-verbose=false"}, []string{}); err != nil || len(warnings) != 0 {
		t.Errorf("families switched off: %v, warnings %q", err, warnings)
	}
	for _, key := range []string{"unique-legion-cron", "unique-cron-legion"} {
		p := write("cron.ini", base+key+" = l -1 -1 -1 -1 -1 /bin/true\n")
		if _, _, err := Parse([]string{"--ini", p}, []string{}); err == nil || !strings.Contains(err.Error(), "uWSGI feature") {
			t.Errorf("%s: %v, want it refused", key, err)
		}
	}
	write("other.ini", "[uwsgi]\nthreads = 2\n")
	a := write("a.ini", base+"base = /u\n[carafe]\nini = %dother.ini\nbase = /c\nchdir = %(base)\n")
	if c, _, err := Parse([]string{"--ini", a}, []string{}); err != nil || c.Chdir != "/c" || c.Threads != 2 {
		t.Errorf("an ini read from [carafe]: %v, chdir %q threads %d, want /c and 2", err, c.Chdir, c.Threads)
	}
	write("tmpl.ini", "[uwsgi]\nprocesses = 2\n")
	inh := write("inh.ini", base+"inherit = %dtmpl.ini\n[carafe]\nprocesses = 5\n")
	if c, _, err := Parse([]string{"--ini", inh}, []string{}); err != nil || c.Processes != 5 {
		t.Errorf("inherit and [carafe]: %v, processes %d, want 5", err, c.Processes)
	}
	loop := write("for.ini", base+"for = a b\nset-ph = x_%(_)=%(_)\nendfor =\nenv = X=%(x_a)%(x_b)\n")
	if c, warnings, err := Parse([]string{"--ini", loop}, []string{}); err != nil || !slices.Equal(c.Env, []string{"X=ab"}) || len(warnings) != 0 {
		t.Errorf("set-ph in for: %v, env %q, warnings %q", err, c.Env, warnings)
	}
}

// Lines of production configs that uWSGI reads and carafe refused or
// ignored: a continuation line like a section header in another
// section, a feature switched off with a comment after it, and uWSGI's
// other names of options carafe has.
func TestIniSurveyLeftovers(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[app:main]\nmyapp.allowed =\n    [a, b,\n     c]\n\n"+
		"[uwsgi]\nmodule = app\nhttp = :8000\ncheaper = 0        ; no adaptive spawning\n"+
		"enable-proxy-protocol = false ; off\nstatic-check = /srv/www\nshared-pyimport = warmup\n"+
		"offload-thread = 2\nneed-plugins = python3\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings: %q", warnings)
	}
	if !slices.Equal(c.CheckStatic, []string{"/srv/www"}) || !slices.Equal(c.Import, []string{"warmup"}) {
		t.Errorf("check-static %q, import %q", c.CheckStatic, c.Import)
	}
	// An indented header is read as a header.
	c, _, err = parseLogicIni(t, t.TempDir(), "[app:main]\nx = 1\n  [uwsgi]\n  module = app\n  http = :8000\n", []string{})
	if err != nil || c.Module != "app" {
		t.Errorf("indented [uwsgi]: module %q, %v", c.Module, err)
	}
	// An unindented broken header still is an error, in any section.
	if _, _, err := parseLogicIni(t, t.TempDir(), "[app:main]\n[a, b,\n[uwsgi]\nmodule = app\n", []string{}); err == nil ||
		!strings.Contains(err.Error(), "unparseable section header") {
		t.Errorf("err %v, want the broken header named", err)
	}
}

// uWSGI's http-keepalive is a switch: written bare, in an ini or before
// another flag, it keeps carafe's default idle time, where it was an
// invalid number (or took the next flag as its value).
func TestHTTPKeepaliveBare(t *testing.T) {
	c, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp = :8000\nhttp-keepalive\n", []string{})
	if err != nil {
		t.Fatalf("ini: %v", err)
	}
	if c.HTTPKeepalive != 15 {
		t.Errorf("ini: keepalive %v, want 15", c.HTTPKeepalive)
	}
	for _, tt := range []struct {
		args   []string
		want   float64
		master bool
	}{
		{[]string{"app:app", "--http-keepalive", "--master"}, 15, true},
		{[]string{"app:app", "--http-keepalive", "30"}, 30, false},
	} {
		c, _, err := Parse(tt.args, []string{})
		if err != nil {
			t.Errorf("%q: %v", tt.args, err)
			continue
		}
		if c.HTTPKeepalive != tt.want || c.Master != tt.master {
			t.Errorf("%q: keepalive %v, master %v; want %v, %v", tt.args, c.HTTPKeepalive, c.Master, tt.want, tt.master)
		}
	}
}

// http-keepalive = 1 in an ini file is uWSGI's "on" (Nautobot's uwsgi.ini
// writes it so): carafe keeps its default idle time, and says so. 1.0,
// and 1 on the command line, are one second.
func TestHTTPKeepaliveOne(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp = :8000\nhttp-keepalive = 30\nhttp-keepalive = 1 ; on\n", []string{})
	if err != nil {
		t.Fatalf("ini: %v", err)
	}
	if c.HTTPKeepalive != 15 {
		t.Errorf("ini, 1: keepalive %v, want the default 15", c.HTTPKeepalive)
	}
	want := "http-keepalive = 1 is uWSGI's switch for keep-alive, on: carafe keeps idle connections for its default, 15 s (write 1.0 for one second)"
	if len(warnings) != 1 || !strings.HasSuffix(warnings[0], want) || !strings.Contains(warnings[0], ".ini:5: ") {
		t.Errorf("warnings %q, want one naming the line: %q", warnings, want)
	}
	c, warnings, err = parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp = :8000\nhttp-keepalive = 1.0\n", []string{})
	if err != nil || c.HTTPKeepalive != 1 || len(warnings) != 0 {
		t.Errorf("ini, 1.0: keepalive %v, warnings %q, err %v; want 1 s, quietly", c.HTTPKeepalive, warnings, err)
	}
	c, warnings, err = Parse([]string{"app:app", "--http-keepalive", "1"}, []string{})
	if err != nil || c.HTTPKeepalive != 1 || len(warnings) != 0 {
		t.Errorf("flag 1: keepalive %v, warnings %q, err %v; want 1 s, quietly", c.HTTPKeepalive, warnings, err)
	}
}

// A number option with no value in an ini file (`harakiri =`, from a
// template whose variable was empty) is what uWSGI reads as 0: the option
// takes its default, with a warning, rather than stopping the start.
func TestEmptyNumber(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nhttp = :8000\n"+
		"harakiri =\nmax-requests = \nprocesses = 2\nprocesses =\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.Harakiri != 0 || c.MaxRequests != 0 || c.Processes != 1 {
		t.Errorf("harakiri %d, max-requests %d, processes %d; want 0, 0, 1", c.Harakiri, c.MaxRequests, c.Processes)
	}
	if len(warnings) != 3 || !strings.HasSuffix(warnings[0], "harakiri has no value: uWSGI reads it as 0, and carafe sets harakiri's default, 0") {
		t.Errorf("warnings %q", warnings)
	}
}

// uWSGI options that would change what runs, and which carafe lacks, are
// refused by name with what to do instead, every such line at once, not
// warned about as unknown keys and ignored; a value that turns one off is
// accepted.
func TestBehaviourOptionsRefused(t *testing.T) {
	_, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = wsgi\nhttp = :8000\n"+
		"fs-reload = /srv/app\nwait-for-mountpoint = /mnt/data\nerror-page-404 = /srv/404.html\n"+
		"static-gzip-ext = css\nreload-on-exception = false\n"+
		// The Logstash recipe's encoder: ignored, the JSON request log
		// silently was no JSON.
		"log-req-encoder = format {\"event\": \"uwsgi_request\", ${msg}}\nlog-drain = ^health\n", []string{})
	if err == nil {
		t.Fatal("accepted")
	}
	for _, want := range []string{`"fs-reload" is a uWSGI feature`, "--touch-reload", "wait-for-mountpoint",
		"RequiresMountsFor=", "error-page-404", "static-gzip-ext", "--static-gzip-all",
		"log-req-encoder", "is a JSON object", "log-drain", "--log-4xx"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
	if strings.Contains(err.Error(), "reload-on-exception") {
		t.Errorf("reload-on-exception = false refused: %v", err)
	}
}

// Flask factory inis name the factory in module and say callable = app
// beside it (7 of 9 found): uWSGI takes the module's callable and never
// reads the other; carafe did not start ("conflicts"). It takes the
// module's too, and says the other is not used.
func TestSurveyFactoryModuleWithCallable(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app:create_app()\ncallable = app\n"+
		"http-socket = :8000\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	want := `carafe: --callable "app" is not used: --module "app:create_app()" names the callable, as uWSGI takes it`
	if c.Module != "app:create_app()" || c.Callable != "" || len(warnings) != 1 || warnings[0] != want {
		t.Errorf("module %q, callable %q, warnings %q", c.Module, c.Callable, warnings)
	}
}

// Lines of real inis that carafe refused or dropped though uWSGI runs
// them (a differential run of 37 real uwsgi.ini files): immediate-uid
// and immediate-gid were only an unknown option, so the app ran as root
// and nginx got 502 on a root-owned socket; logto2 was refused; a word
// on a switch carafe ignores anyway (logfile-chown = www-data, 3 of 10
// real lines; lazy-apps = enabled) stopped the start. uWSGI reads any
// word but 0, false, no and off as on.
func TestSurveyUWSGIAliasesAndWords(t *testing.T) {
	c, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp-socket = :8000\n"+
		"immediate-uid = www-data\nimmediate-gid = www-data\nlogto2 = /var/log/app.log\n"+
		"logfile-chown = %(immediate-uid):%(immediate-gid)\nlazy-apps = enabled\nenable-threads = 2\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	if c.UID != "www-data" || c.GID != "www-data" || c.LogTo != "/var/log/app.log" {
		t.Errorf("uid %q gid %q logto %q", c.UID, c.GID, c.LogTo)
	}
	if len(warnings) != 0 {
		t.Errorf("warnings %q, want none (the switches are carafe's behaviour anyway)", warnings)
	}
	// On the command line a switch's value must still be a word for on or off.
	if _, _, err := Parse([]string{"app", "--lazy-apps=enabled"}, nil); err == nil {
		t.Errorf("--lazy-apps=enabled on the command line was taken")
	}
}

// A config with several bad lines names them all in one run: a plugin
// carafe lacks, a bad value and the refused features (physionet-build's
// ini took two runs: the plugin's error alone, then seven refused lines).
func TestSurveyEveryBadLineAtOnce(t *testing.T) {
	_, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp-socket = :8000\n"+
		"plugin = /x/escape_json_plugin.so\nlog-route = a b\nthreads = many\nlog-encoder = json x\n", []string{})
	if err == nil {
		t.Fatal("the config was taken")
	}
	for _, want := range []string{`plugin "/x/escape_json_plugin.so"`, `threads: invalid integer "many"`,
		`"log-route" is a uWSGI feature`, `"log-encoder" is a uWSGI feature`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error lacks %q:\n%v", want, err)
		}
	}
}

// uWSGI options seen in real inis that were only an unknown option: those
// whose effect carafe does not give now say so (and what to use), and the
// spooler's and pymodule-alias are refused as their families are.
func TestSurveyUnappliedSaid(t *testing.T) {
	_, warnings, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp-socket = :8000\n"+
		"honour-stdin = true\nfreebind = true\nso-send-timeout = 30\ncatch-exceptions = true\n", []string{})
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"honour-stdin", "freebind", "so-send-timeout", "catch-exceptions"} {
		if !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, name+" is not applied") }) {
			t.Errorf("no warning says %s is not applied: %q", name, warnings)
		}
	}
	for _, line := range []string{"spooler-import = tasks", "pymodule-alias = foo=bar"} {
		if _, _, err := parseLogicIni(t, t.TempDir(), "[uwsgi]\nmodule = app\nhttp-socket = :8000\n"+line+"\n", []string{}); err == nil ||
			!strings.Contains(err.Error(), "carafe does not implement") {
			t.Errorf("%s: %v, want it refused", line, err)
		}
	}
}

// A warned switch takes no value on the command line: it took the next
// argument as its value (--catch-exceptions --http ADDR wsgi: "more than
// one app given"; wsgi --freebind: "needs a value").
func TestWarnedSwitchesTakeNoValue(t *testing.T) {
	for _, args := range [][]string{
		{"--catch-exceptions", "--http", ":8000", "wsgi"},
		{"--honour-stdin", "wsgi"},
		{"wsgi", "--freebind"},
		{"wsgi", "--cheaper-busyness-verbose"},
	} {
		c, warnings, err := Parse(args, nil)
		if err != nil || c.Module != "wsgi" || !slices.ContainsFunc(warnings, func(w string) bool { return strings.Contains(w, "is not applied") }) {
			t.Errorf("%q: %v, config %+v, warnings %q", args, err, c, warnings)
		}
	}
}
