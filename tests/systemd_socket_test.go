package tests

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// systemd socket activation: a .socket unit binds carafe's sockets and
// starts carafe with them (descriptors from 3, LISTEN_FDS and LISTEN_PID),
// so that connections wait in the socket's queue while carafe starts or
// restarts, and none is refused.

// activate starts carafe with args as systemd would with the listeners
// ls: a shell that sets LISTEN_PID to its own pid then becomes carafe.
// pid is LISTEN_PID's value instead where given ("" for the shell's).
func activate(t *testing.T, ls []net.Listener, pid string, addr string, args ...string) *server {
	t.Helper()
	var files []*os.File
	for _, l := range ls {
		f, err := l.(interface{ File() (*os.File, error) }).File()
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close() // the child has its copy once started
		files = append(files, f)
	}
	if pid == "" {
		pid = "$$"
	}
	cmd := exec.Command("/bin/sh", append([]string{"-c", `export LISTEN_PID=` + pid + `; exec "$0" "$@"`, carafeBin(t)}, args...)...)
	cmd.Env = append(os.Environ(), "LISTEN_FDS="+strconv.Itoa(len(ls)), "LISTEN_FDNAMES=carafe")
	cmd.ExtraFiles = files
	return launchCmd(t, cmd, addr)
}

// systemdListenTCP binds a loopback TCP socket as systemd would, on a
// free port (another test may take the one freeAddr found first).
func systemdListenTCP(t *testing.T) net.Listener {
	t.Helper()
	var err error
	for range 20 {
		var l net.Listener
		if l, err = net.Listen("tcp", freeAddr(t)); err == nil {
			return l
		}
	}
	t.Fatal(err)
	return nil
}

// systemdListenUnix binds a unix socket at path as systemd would, its
// file given mode; closing it (at the test's end, or before) leaves the
// file, as systemd's socket unit does.
func systemdListenUnix(t *testing.T, path string, mode os.FileMode) net.Listener {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	t.Cleanup(func() { l.Close() })
	if err := os.Chmod(path, mode); err != nil {
		t.Fatal(err)
	}
	return l
}

// systemdReport is what the systemd_socket fixture answers.
type systemdReport struct {
	Pid     int               `json:"pid"`
	Env     map[string]string `json:"env"`
	Sockets map[string]int    `json:"sockets"`
	Server  []string          `json:"server"`
}

func systemdDecode(t *testing.T, body []byte) systemdReport {
	t.Helper()
	var r systemdReport
	if err := json.Unmarshal(body, &r); err != nil {
		t.Fatalf("not the fixture's report: %v: %q", err, body)
	}
	if len(r.Env) > 0 {
		t.Errorf("the app sees the socket-activation variables %v: its subprocesses would take them for their own", r.Env)
	}
	for s, n := range r.Sockets {
		if n > 1 {
			t.Errorf("the worker holds %s %d times: a passed descriptor leaked", s, n)
		}
	}
	return r
}

// The short form on a TCP socket systemd passed serves HTTP on it, not on
// its default 127.0.0.1:8000, and answers the request that was already
// waiting in the socket's queue when carafe started: the request that
// woke the service. Without a master, the app runs in the process that
// took the socket: no descriptor of it leaks there, and the variables are
// gone from its environment.
func TestSystemdSocketShortForm(t *testing.T) {
	t.Parallel()
	l := systemdListenTCP(t)
	defer l.Close()
	addr := l.Addr().String()
	early, err := net.Dial("tcp", addr) // queued: nobody accepts yet
	if err != nil {
		t.Fatal(err)
	}
	defer early.Close()
	if _, err := io.WriteString(early, "GET /early HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	s := activate(t, []net.Listener{l}, "", addr, "--chdir", appDir("systemd_socket"), "wsgi:application")
	early.SetDeadline(time.Now().Add(20 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(early), nil)
	if err != nil {
		t.Fatalf("the request queued before carafe started got no answer: %v\n%s", err, s.Log())
	}
	body, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("status %d: %s", resp.StatusCode, body)
	}
	r := systemdDecode(t, body)
	if _, port, _ := net.SplitHostPort(addr); r.Server[1] != port {
		t.Errorf("SERVER_PORT %s, want the passed socket's %s", r.Server[1], port)
	}
	if strings.Contains(s.Log(), "8000") {
		t.Errorf("carafe bound its default address beside the passed socket:\n%s", s.Log())
	}
	// Standalone, the line follows the start of serving: the early request can be answered first.
	if !s.waitLog("serving HTTP on http://"+addr, 5*time.Second) {
		t.Errorf("no line says carafe serves on %s:\n%s", addr, s.Log())
	}
}

// With a master, an ini's uwsgi socket that systemd passed is served in
// the uwsgi protocol by the workers, while an address it did not pass
// (the HTTP one here) is bound as usual. The socket file is systemd's:
// chmod-socket does not touch it, and vacuum leaves it at exit, for the
// socket unit to take the next start's connections on.
func TestSystemdSocketMasterKeepsUnitsFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	ul := systemdListenUnix(t, sock, 0o666) // systemd's copy, open throughout
	httpAddr := freeAddr(t)
	ini := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nchdir = "+appDir("systemd_socket")+"\nmodule = wsgi\n"+
		"master = true\nprocesses = 2\nsocket = "+sock+"\nhttp-socket = "+httpAddr+"\n"+
		"chmod-socket = 600\nvacuum = true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := activate(t, []net.Listener{ul}, "", httpAddr, "--ini", ini)
	s.waitReady(20 * time.Second)
	_, body := httpGet(t, s.URL("/"))
	systemdDecode(t, body)

	pids := map[int]bool{}
	for range 20 {
		pids[systemdUWSGIGet(t, s, sock).Pid] = true
	}
	if fi, err := os.Stat(sock); err != nil || fi.Mode().Perm() != 0o666 {
		t.Errorf("the unit's socket file: %v, mode %v; want 0666 as the unit left it", err, fi.Mode().Perm())
	}
	if !strings.Contains(s.Log(), "serving on the socket systemd passed for "+sock) {
		t.Errorf("the master does not say it serves on systemd's socket:\n%s", s.Log())
	}
	if !strings.Contains(s.Log(), "chmod-socket and chown-socket are not applied to the socket systemd passed for "+sock) {
		t.Errorf("no warning that chmod-socket is not applied:\n%s", s.Log())
	}
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGTERM)
	if _, ok := s.wait(20 * time.Second); !ok {
		t.Fatalf("carafe did not stop:\n%s", s.Log())
	}
	// Still systemd's listening socket: a connection made now waits in its
	// queue for the next start.
	if _, err := os.Stat(sock); err != nil {
		t.Errorf("vacuum removed the socket file systemd made: %v", err)
	} else if c, err := net.DialTimeout("unix", sock, 2*time.Second); err != nil {
		t.Errorf("systemd's socket no longer takes connections once carafe stopped: %v", err)
	} else {
		c.Close()
	}
	t.Logf("uwsgi requests on the passed socket were served by %d worker(s)", len(pids))
}

// A configuration that names no listener (the short form here) serves on
// systemd's socket through a reload too: the master reads the
// configuration again, and its new workers theirs, without the variables
// systemd set, which the master took at its start.
func TestSystemdSocketReload(t *testing.T) {
	t.Parallel()
	l := systemdListenTCP(t)
	defer l.Close()
	s := activate(t, []net.Listener{l}, "", l.Addr().String(),
		"--processes", "2", "--chdir", appDir("systemd_socket"), "wsgi:application")
	s.waitReady(20 * time.Second)
	_, body := httpGet(t, s.URL("/"))
	before := systemdDecode(t, body).Pid
	syscall.Kill(s.cmd.Process.Pid, syscall.SIGHUP)
	if !s.waitLog("reload complete", 30*time.Second) {
		t.Fatalf("no reload:\n%s", s.Log())
	}
	c := masterClient(false, 10*time.Second) // new connections: a kept-alive one may end on its old worker
	for range 10 {
		code, body, err := masterGet(c, s.URL("/"))
		if err != nil || code != 200 {
			t.Fatalf("after the reload: %d %v\n%s", code, err, s.Log())
		}
		if pid := systemdDecode(t, []byte(body)).Pid; pid == before {
			t.Errorf("worker %d, from before the reload, still answers", pid)
		}
	}
	for _, bad := range []string{"changed in the config", "no listener", "8000"} {
		if strings.Contains(s.Log(), bad) {
			t.Errorf("the log has %q:\n%s", bad, s.Log())
		}
	}
}

// A socket systemd passed that the configuration does not name stops the
// start with an error that says which: nothing says which protocol it
// serves. carafe binds nothing meanwhile.
func TestSystemdSocketNotNamed(t *testing.T) {
	t.Parallel()
	l := systemdListenTCP(t)
	defer l.Close()
	named := freeAddr(t)
	s := activate(t, []net.Listener{l}, "", named, "--http-socket", named, "--master",
		"--chdir", appDir("systemd_socket"), "--module", "wsgi")
	code, ok := s.wait(20 * time.Second)
	if !ok || code == 0 {
		t.Fatalf("carafe ran (exit %d, done %v) with a passed socket nobody named:\n%s", code, ok, s.Log())
	}
	want := "systemd passed a socket on " + l.Addr().String() + " that no --http-socket or --socket names"
	if !strings.Contains(s.Log(), want) {
		t.Errorf("the error does not say %q:\n%s", want, s.Log())
	}
	if c, err := net.DialTimeout("tcp", named, time.Second); err == nil {
		c.Close()
		t.Errorf("%s was bound", named)
	}
}

// Variables meant for another process (a parent started by systemd that
// then ran carafe) are not taken: carafe binds what its options say, and
// the app's environment does not have them either.
func TestSystemdSocketForAnotherProcess(t *testing.T) {
	t.Parallel()
	l := systemdListenTCP(t)
	defer l.Close()
	addr := freeAddr(t)
	s := activate(t, []net.Listener{l}, "1", addr, "--http", addr,
		"--chdir", appDir("systemd_socket"), "--module", "wsgi")
	s.waitReady(20 * time.Second)
	_, body := httpGet(t, s.URL("/"))
	systemdDecode(t, body)
}

// What a .socket unit should not pass is refused with the setting to
// change: a datagram socket, and with Accept=yes a connection rather than
// a listening socket.
func TestSystemdSocketRefused(t *testing.T) {
	t.Parallel()
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	tl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer tl.Close()
	conn, err := net.Dial("tcp", tl.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, tc := range []struct {
		name string
		sock any
		want string
	}{
		{"datagram", udp, "carafe takes ListenStream= sockets only"},
		{"connection", conn, "give the .socket unit Accept=no"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := tc.sock.(interface{ File() (*os.File, error) }).File()
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			cmd := exec.Command("/bin/sh", "-c", `export LISTEN_PID=$$; exec "$0" "$@"`, carafeBin(t),
				"--chdir", appDir("systemd_socket"), "wsgi:application")
			cmd.Env = append(os.Environ(), "LISTEN_FDS=1")
			cmd.ExtraFiles = []*os.File{f}
			out, err := cmd.CombinedOutput()
			if err == nil || !strings.Contains(string(out), tc.want) {
				t.Errorf("carafe: %v, want an error that says %q:\n%s", err, tc.want, out)
			}
		})
	}
}

// systemd's own tool for socket activation, where installed: it binds the
// socket, waits for the first connection, then starts carafe on it, as a
// .socket unit does. That first request is answered.
func TestSystemdSocketActivateTool(t *testing.T) {
	t.Parallel()
	tool, err := exec.LookPath("systemd-socket-activate")
	if err != nil {
		t.Skip("no systemd-socket-activate on this machine (Debian's systemd package)")
	}
	addr := freeAddr(t)
	cmd := exec.Command(tool, "-l", addr, carafeBin(t), "--processes", "2",
		"--chdir", appDir("systemd_socket"), "wsgi:application")
	s := launchCmd(t, cmd, addr)
	var c net.Conn
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err = net.Dial("tcp", addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("systemd-socket-activate does not listen on %s: %v\n%s", addr, err, s.Log())
		}
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	io.WriteString(c, "GET / HTTP/1.1\r\nHost: "+addr+"\r\nConnection: close\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("the connection that started carafe got no answer: %v\n%s", err, s.Log())
	}
	body, _ := io.ReadAll(resp.Body)
	systemdDecode(t, body)
	if resp.StatusCode != 200 {
		t.Errorf("status %d", resp.StatusCode)
	}
}

// What socket activation is for: carafe restarted (stopped, then started
// again, as `systemctl restart` does, or a new binary) fails no request.
// systemd's copy of the socket keeps it listening while no carafe runs;
// the connections made meanwhile wait in its queue for the next one.
func TestSystemdSocketRestartFailsNone(t *testing.T) {
	t.Parallel()
	l := systemdListenTCP(t)
	defer l.Close() // systemd's copy, open throughout
	addr := l.Addr().String()
	args := []string{"--processes", "2", "--chdir", appDir("systemd_socket"), "wsgi:application"}
	first := activate(t, []net.Listener{l}, "", addr, args...)
	first.waitReady(20 * time.Second)
	load := masterStartLoad("http://"+addr+"/", 4, 0, 30*time.Second)
	time.Sleep(time.Second)
	syscall.Kill(first.cmd.Process.Pid, syscall.SIGTERM)
	if _, ok := first.wait(20 * time.Second); !ok {
		t.Fatalf("carafe did not stop:\n%s", first.Log())
	}
	stopped, _ := load.counts()
	time.Sleep(500 * time.Millisecond) // down: the clients' connections queue
	second := activate(t, []net.Listener{l}, "", addr, args...)
	if !second.waitLog("workers ready", 20*time.Second) {
		t.Fatalf("the second carafe does not serve:\n%s", second.Log())
	}
	time.Sleep(time.Second)
	load.Stop().report(t, "a restart on systemd's socket", 0)
	if ok, _ := load.counts(); ok <= stopped {
		t.Errorf("no request answered after the restart (%d before, %d in all)", stopped, ok)
	}
}

// systemdUWSGIGet sends a uwsgi request for / on the unix socket sock and
// returns the fixture's report.
func systemdUWSGIGet(t *testing.T, s *server, sock string) systemdReport {
	t.Helper()
	c := uwsgiDial(t, sock)
	c.Write(uwsgiPacket(0, [][2]string{{"REQUEST_METHOD", "GET"}, {"PATH_INFO", "/"},
		{"SERVER_NAME", "x"}, {"SERVER_PORT", "80"}, {"SERVER_PROTOCOL", "HTTP/1.1"}}, ""))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("uwsgi request on the passed socket: %v\n%s", err, s.Log())
	}
	b, _ := io.ReadAll(resp.Body)
	c.Close()
	return systemdDecode(t, b)
}

// An ini written for uWSGI that names no listener serves systemd's socket
// in the uwsgi protocol, as uWSGI does (nginx's uwsgi_pass talks to it).
func TestSystemdSocketIniNamesNone(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	ul := systemdListenUnix(t, sock, 0o660)
	ini := filepath.Join(dir, "site.ini")
	if err := os.WriteFile(ini, []byte("[uwsgi]\nchdir = "+appDir("systemd_socket")+"\nmodule = wsgi\n"+
		"master = true\nprocesses = 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := activate(t, []net.Listener{ul}, "", "", "--ini", ini)
	if !s.waitLog("workers ready", 20*time.Second) {
		t.Fatalf("no workers:\n%s", s.Log())
	}
	systemdUWSGIGet(t, s, sock)
	if !strings.Contains(s.Log(), "uwsgi protocol on "+sock) {
		t.Errorf("the log does not say the uwsgi protocol is served on %s:\n%s", sock, s.Log())
	}
}

// The master that drops privileges (--uid, --gid) gives the sockets it
// bound to that user, but not systemd's: its unit's SocketUser= and
// SocketGroup= say whose it is (nginx's group, often), and stay so.
func TestSystemdSocketKeepsOwner(t *testing.T) {
	t.Parallel()
	nobody(t) // (its workers need not serve: the master hands the sockets over before it starts them)
	dir := t.TempDir()
	sock := filepath.Join(dir, "app.sock")
	ul := systemdListenUnix(t, sock, 0o660)
	own := filepath.Join(dir, "own.sock")
	s := activate(t, []net.Listener{ul}, "", "", "--chdir", appDir("systemd_socket"), "--module", "wsgi",
		"--master", "--socket", sock, "--socket", own, "--uid", "nobody", "--gid", "nogroup")
	if !s.waitLog("starting 1 worker", 20*time.Second) {
		t.Fatalf("the master did not start its workers:\n%s", s.Log())
	}
	var st syscall.Stat_t
	if err := syscall.Stat(sock, &st); err != nil || st.Uid != 0 || st.Gid != 0 {
		t.Errorf("systemd's socket is owned by %d:%d (%v), want 0:0 as the unit made it", st.Uid, st.Gid, err)
	}
	if err := syscall.Stat(own, &st); err != nil || st.Uid == 0 {
		t.Errorf("the socket carafe bound is owned by %d:%d (%v), want nobody's", st.Uid, st.Gid, err)
	}
}
