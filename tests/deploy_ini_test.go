package tests

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The seed's uwsgi.ini binds fixed addresses: these tests are not parallel.
const (
	deploySeedHTTP   = "127.0.0.1:5000" // http = :5000 binds all interfaces
	deploySeedSocket = "/tmp/uwsgi.sock"
	deploySeedChdir  = "chdir = /path/to/project/"
)

// deploySeedApp is the tiny app the seed ini's `module = wsgi:app` loads:
// it answers its pid and the request's path.
const deploySeedApp = `import os


def app(environ, start_response):
    body = "pid=%d path=%s" % (os.getpid(), environ["PATH_INFO"])
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [body.encode()]
`

// deploySeedIni writes a copy of testdata/seed/uwsgi.ini (issue 5's,
// verbatim) into a temp dir with ONE change: the `chdir = /path/to/project/`
// line points at a temp app dir holding deploySeedApp. Every other line is
// the seed's, checked here. It returns the ini's path.
func deploySeedIni(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	appDir := filepath.Join(dir, "project")
	if err := os.Mkdir(appDir, 0o755); err != nil {
		t.Fatal(err)
	}
	deployWrite(t, appDir, "wsgi.py", deploySeedApp)
	seed, err := os.ReadFile(filepath.Join(root, "testdata", "seed", "uwsgi.ini"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(seed), "\n")
	if len(lines) < 4 || lines[1] != deploySeedChdir || lines[3] != "process = 2" {
		t.Fatalf("testdata/seed/uwsgi.ini is no longer the seed's (line 2 %q, line 4 %q)", lines[1], lines[3])
	}
	lines[1] = "chdir = " + appDir + "/"
	return deployWrite(t, dir, "uwsgi.ini", strings.Join(lines, "\n"))
}

// deploySeedAddrsFree fails the test when something else holds the seed's
// fixed addresses, and removes the socket file carafe leaves (the seed has
// no vacuum) when the test ends.
func deploySeedAddrsFree(t *testing.T) {
	t.Helper()
	l, err := net.Listen("tcp", ":5000")
	if err != nil {
		t.Fatalf("port 5000 is in use (%v): the seed ini binds http = :5000; stop whatever listens there", err)
	}
	l.Close()
	if fi, err := os.Lstat(deploySeedSocket); err == nil {
		if fi.Mode().Type() != os.ModeSocket {
			t.Fatalf("%s exists and is not a socket: the seed ini binds socket = %s; remove it", deploySeedSocket, deploySeedSocket)
		}
		if c, err := net.DialTimeout("unix", deploySeedSocket, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s is in use: the seed ini binds socket = %s; stop whatever listens there", deploySeedSocket, deploySeedSocket)
		}
	}
	t.Cleanup(func() {
		if fi, err := os.Lstat(deploySeedSocket); err == nil && fi.Mode().Type() == os.ModeSocket {
			os.Remove(deploySeedSocket)
		}
	})
}

// The seed's uwsgi.ini, unchanged but for chdir: both listeners answer, the
// unknown `process = 2` is a warning naming the file and line with the
// closest option, and, as under uWSGI, it has no effect: `master = true`
// runs ONE worker.
func TestDeploySeedIni(t *testing.T) {
	deploySeedAddrsFree(t)
	ini := deploySeedIni(t)
	s := deployStartCarafe(t, deploySeedHTTP, "--ini", ini)
	deployWaitUnix(t, s, deploySeedSocket)

	warn := fmt.Sprintf(`carafe: %s:4: unknown option "process" (did you mean "processes"?)`, ini)
	if !s.waitLog(warn, 5*time.Second) {
		t.Errorf("no warning %q:\n%s", warn, s.Log())
	}

	pids := map[string]bool{}
	for i := 0; i < 5; i++ {
		_, body := deployGet(t, "http://"+deploySeedHTTP+"/over-http", "", 200)
		pid, path, _ := strings.Cut(strings.TrimPrefix(string(body), "pid="), " ")
		if path != "path=/over-http" {
			t.Fatalf("over HTTP: %q", body)
		}
		pids[pid] = true

		resp, ubody := deployUwsgiGet(t, "unix", deploySeedSocket, "/over-uwsgi", "q=1")
		pid, path, _ = strings.Cut(strings.TrimPrefix(string(ubody), "pid="), " ")
		if resp.StatusCode != 200 || path != "path=/over-uwsgi" {
			t.Fatalf("over the uwsgi socket: %d %q", resp.StatusCode, ubody)
		}
		pids[pid] = true
	}
	if len(pids) != 1 {
		t.Fatalf("requests were served by %d processes %v, want 1 worker", len(pids), pids)
	}

	// master = true: the process we started is the master; its only child
	// is the worker that answered.
	master := s.cmd.Process.Pid
	kids := deployChildren(t, master)
	var worker string
	for p := range pids {
		worker = p
	}
	if len(kids) != 1 || strconv.Itoa(kids[0]) != worker {
		t.Fatalf("master %d has children %v, want exactly the worker %s", master, kids, worker)
	}
}

// --strict turns the seed's unknown key into an error naming it, before
// anything is bound.
func TestDeploySeedIniStrict(t *testing.T) {
	deploySeedAddrsFree(t)
	ini := deploySeedIni(t)
	code, out := run(t, 20*time.Second, "--strict", "--ini", ini)
	want := fmt.Sprintf(`%s:4: unknown option "process" (did you mean "processes"?)`, ini)
	if code == 0 || !strings.Contains(out, want) {
		t.Fatalf("exit %d, want non-zero with %q:\n%s", code, want, out)
	}
	if _, err := os.Lstat(deploySeedSocket); err == nil {
		t.Errorf("--strict failed after creating %s", deploySeedSocket)
	}
}

// deploy/systemd/carafe.service and carafe.socket pass `systemd-analyze
// verify` (with ExecStart pointing at the binary under test), where
// systemd-analyze is installed (Debian's systemd package, which `make
// integration` installs).
func TestDeploySystemdUnit(t *testing.T) {
	t.Parallel()
	bin := carafeBin(t)
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("no systemd-analyze on this machine")
	}
	dir := t.TempDir()
	unit := deployWrite(t, dir, "carafe.service", deployRender(t, "deploy/systemd/carafe.service",
		"ExecStart=/usr/local/bin/carafe ", "ExecStart="+bin+" "))
	socket := deployWrite(t, dir, "carafe.socket", deployRender(t, "deploy/systemd/carafe.socket"))
	cmd := exec.Command(analyze, "verify", unit, socket)
	cmd.Env = append(os.Environ(), "SYSTEMD_LOG_LEVEL=warning")
	out, err := cmd.CombinedOutput()
	// verify exits 0 on unknown keys but names them: any output is a finding.
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// docs/deployment.md quotes the files under deploy/ verbatim: the recipes
// people copy are the files the deployment tests run.
func TestDeployDocsQuoteFiles(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join(root, "docs", "deployment.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"deploy/site.ini", "deploy/systemd/carafe.service", "deploy/systemd/carafe.socket", "deploy/nginx/carafe.conf", "deploy/apache/carafe.conf"} {
		b, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(doc), "\n"+string(b)+"```\n") {
			t.Errorf("docs/deployment.md does not quote %s verbatim (in a fenced block): copy it again", f)
		}
	}
}

// deployChildren lists the pids whose parent is pid (from /proc).
func deployChildren(t *testing.T, pid int) []int {
	t.Helper()
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	var kids []int
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // it exited meanwhile
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		i := strings.LastIndexByte(string(b), ')')
		if i < 0 {
			continue
		}
		fields := strings.Fields(string(b[i+1:]))
		if len(fields) < 2 || fields[1] != strconv.Itoa(pid) {
			continue
		}
		if child, err := strconv.Atoi(filepath.Base(filepath.Dir(f))); err == nil {
			kids = append(kids, child)
		}
	}
	return kids
}
