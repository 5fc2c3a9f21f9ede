// Package tests holds carafe's integration tests: each one starts the real
// bin/carafe against a tiny app under testdata/apps and talks to it over
// real sockets.
package tests

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// root is the repository root (this file lives in tests/).
var root = func() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}()

// carafeBin returns the binary under test. make test sets CARAFE_BIN; a
// bare `go test` falls back to bin/carafe and skips when it is missing.
func carafeBin(t testing.TB) string {
	t.Helper()
	bin := os.Getenv("CARAFE_BIN")
	if bin == "" {
		bin = filepath.Join(root, "bin", "carafe")
	}
	if _, err := os.Stat(bin); err != nil {
		if os.Getenv("CARAFE_BIN") != "" {
			t.Fatalf("carafe binary %s: %v", bin, err)
		}
		t.Skipf("no %s: run `make build` (or `make test`)", bin)
	}
	return bin
}

// venvDir returns the test venv (Flask, Django), skipping when absent.
func venvDir(t testing.TB) string {
	t.Helper()
	v := os.Getenv("CARAFE_VENV")
	if v == "" {
		v = filepath.Join(root, ".venv")
	}
	if _, err := os.Stat(filepath.Join(v, "bin", "python")); err != nil {
		if os.Getenv("CARAFE_VENV") != "" {
			t.Fatalf("test venv %s: %v", v, err)
		}
		t.Skipf("no venv at %s: run `make venv`", v)
	}
	return v
}

// appDir is testdata/apps/<name>.
func appDir(name string) string { return filepath.Join(root, "testdata", "apps", name) }

// server is one running carafe process.
type server struct {
	t    testing.TB
	cmd  *exec.Cmd
	addr string
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
	err  error
}

// lockedWriter lets the process write its output while tests read it.
type lockedWriter struct{ s *server }

func (w lockedWriter) Write(p []byte) (int, error) {
	w.s.mu.Lock()
	defer w.s.mu.Unlock()
	return w.s.out.Write(p)
}

// crashMarkers never appear in a healthy carafe's output (the race
// detector and cgocheck2 builds print the last two).
var crashMarkers = []string{"panic: ", "fatal error: ", "goroutine 1 [", "WARNING: DATA RACE", "cgo argument has Go pointer"}

// freeAddr returns a 127.0.0.1 address nobody listens on right now.
func freeAddr(t testing.TB) string {
	t.Helper()
	// Ports are taken below the kernel's ephemeral range (32768 and up on
	// Linux), one after the other from a random start: a port the kernel
	// picks for bind(0) is as free for the next client's outgoing
	// connection (a test's own, nginx's), which could take it before
	// carafe binds it, and bind(0) may hand the same port out twice.
	portOnce.Do(func() { nextPort.Store(int32(portLow + rand.IntN(portHigh-portLow))) })
	for range 200 {
		p := nextPort.Add(1)
		if p >= portHigh {
			nextPort.CompareAndSwap(p, portLow)
			continue
		}
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", p))
		if err != nil {
			continue
		}
		l.Close()
		return l.Addr().String()
	}
	t.Fatal("no free port between 20000 and 32767")
	return ""
}

const portLow, portHigh = 20000, 32768

var (
	portOnce sync.Once
	nextPort atomic.Int32
)

// startApp serves testdata/apps/<name>/wsgi.py (callable "application")
// with the given extra flags and waits until it accepts connections.
func startApp(t testing.TB, name string, extra ...string) *server {
	t.Helper()
	return startAppEnv(t, nil, name, extra...)
}

// start runs carafe with --http on a free port plus args and waits for it.
func start(t testing.TB, args ...string) *server {
	t.Helper()
	s := startNoWait(t, args...)
	s.waitReady(20 * time.Second)
	return s
}

// startNoWait runs carafe with --http on a free port plus args.
func startNoWait(t testing.TB, args ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	return launch(t, addr, append([]string{"--http", addr}, args...)...)
}

// startAppEnv is startApp with env (KEY=value) added to carafe's
// environment, which its workers inherit.
func startAppEnv(t testing.TB, env []string, name string, extra ...string) *server {
	t.Helper()
	addr := freeAddr(t)
	args := append([]string{"--http", addr, "--chdir", appDir(name), "--module", "wsgi"}, extra...)
	ready := notifySocket(t)
	s := launchEnv(t, append(append([]string(nil), env...), "NOTIFY_SOCKET="+ready.LocalAddr().String()), addr, args...)
	s.waitReady(20 * time.Second)
	s.waitImported(ready, 20*time.Second)
	drainNotify(ready)
	return s
}

// notifySocket is a socket for carafe's sd_notify messages (Type=notify),
// closed when the test ends.
func notifySocket(t testing.TB) *net.UnixConn {
	t.Helper()
	dir, err := os.MkdirTemp("", "n") // short: a socket's path has at most 107 bytes
	if err != nil {
		t.Fatal(err)
	}
	c, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: filepath.Join(dir, "s"), Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); os.RemoveAll(dir) })
	return c
}

// drainNotify reads and drops what carafe sends on ready until it is
// closed: unread, its queue filled after about five reloads, and a send
// would block (sdnotify gives up after a second, each time).
func drainNotify(ready *net.UnixConn) {
	ready.SetReadDeadline(time.Time{})
	go func() {
		buf := make([]byte, 4096)
		for {
			if _, err := ready.Read(buf); err != nil && !errors.Is(err, os.ErrDeadlineExceeded) {
				return
			}
		}
	}()
}

// waitImported waits for carafe's READY=1 on ready: the app is imported
// (under a master, every worker's). The socket listens from its bind,
// before the import, and a test that sent a request and acted after a
// fixed pause (a close while the view runs) raced the import on a loaded
// machine. It returns without failing when carafe exits or the time runs
// out (an app whose import fails, under a master): the test itself then
// says what it misses.
func (s *server) waitImported(ready *net.UnixConn, d time.Duration) {
	buf := make([]byte, 4096)
	for deadline := time.Now().Add(d); time.Now().Before(deadline); {
		select {
		case <-s.done:
			return
		default:
		}
		ready.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		if n, err := ready.Read(buf); err == nil && strings.Contains("\n"+string(buf[:n])+"\n", "\nREADY=1\n") {
			return
		}
	}
}

// launch runs carafe with exactly args; addr is where tests will reach it.
// The process (and its workers) is stopped when the test ends, and the test
// fails if carafe printed a crash, a data race or a cgo pointer violation.
func launch(t testing.TB, addr string, args ...string) *server {
	t.Helper()
	return launchEnv(t, nil, addr, args...)
}

// launchEnv is launch with env added to carafe's environment.
func launchEnv(t testing.TB, env []string, addr string, args ...string) *server {
	t.Helper()
	return launchIn(t, "", env, addr, args...)
}

// launchIn is launchEnv started in directory dir ("" for the test's own).
func launchIn(t testing.TB, dir string, env []string, addr string, args ...string) *server {
	t.Helper()
	cmd := exec.Command(carafeBin(t), args...)
	cmd.Dir = dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	return launchCmd(t, cmd, addr)
}

// launchCmd is launch for a command made ready to start (carafe, or a
// program that runs it); its output is captured here.
func launchCmd(t testing.TB, cmd *exec.Cmd, addr string) *server {
	t.Helper()
	s := &server{t: t, addr: addr, cmd: cmd, done: make(chan struct{})}
	s.cmd.Stdout = lockedWriter{s}
	s.cmd.Stderr = lockedWriter{s}
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	t.Cleanup(func() {
		s.stop()
		for _, bad := range crashMarkers {
			if strings.Contains(s.Log(), bad) {
				t.Errorf("carafe printed %q: it crashed, raced or broke a cgo rule", bad)
			}
		}
		if t.Failed() {
			t.Logf("carafe output:\n%s", s.Log())
		}
	})
	return s
}

func (s *server) waitReady(d time.Duration) {
	s.t.Helper()
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		select {
		case <-s.done:
			s.t.Fatalf("carafe exited before serving (%v):\n%s", s.err, s.Log())
		default:
		}
		if c, err := net.DialTimeout("tcp", s.addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	s.t.Fatalf("carafe did not listen on %s within %v:\n%s", s.addr, d, s.Log())
}

// stop sends SIGTERM, then SIGKILL to the whole process group.
func (s *server) stop() {
	if s.cmd.Process == nil {
		return
	}
	select {
	case <-s.done:
		return
	default:
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

// wait blocks until the process exits (or d passes) and returns its exit code.
func (s *server) wait(d time.Duration) (int, bool) {
	select {
	case <-s.done:
		if s.cmd.ProcessState == nil {
			return -1, true
		}
		return s.cmd.ProcessState.ExitCode(), true
	case <-time.After(d):
		return 0, false
	}
}

// Log returns everything carafe printed so far.
func (s *server) Log() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.out.String()
}

// waitLog waits until carafe's output contains want.
func (s *server) waitLog(want string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if strings.Contains(s.Log(), want) {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// URL builds http://addr/path.
func (s *server) URL(path string) string { return fmt.Sprintf("http://%s%s", s.addr, path) }

// dial opens a raw TCP connection to the server.
func (s *server) dial() net.Conn {
	s.t.Helper()
	c, err := net.DialTimeout("tcp", s.addr, 2*time.Second)
	if err != nil {
		s.t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(30 * time.Second))
	s.t.Cleanup(func() { c.Close() })
	return c
}

// run executes carafe to completion (for start-up failures) and returns
// its exit code and output.
func run(t testing.TB, d time.Duration, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(carafeBin(t), args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(d):
		cmd.Process.Kill()
		<-done
		t.Fatalf("carafe %v still running after %v:\n%s", args, d, out.String())
	}
	return cmd.ProcessState.ExitCode(), out.String()
}
