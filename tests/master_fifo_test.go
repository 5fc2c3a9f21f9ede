package tests

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// fifoSend writes cmd to the FIFO at path as `echo` would, failing the
// test if nobody reads it (a write would then block: it is refused here).
func fifoSend(t *testing.T, path, cmd string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		t.Fatalf("open the master FIFO %s: %v", path, err)
	}
	defer f.Close()
	if _, err := f.WriteString(cmd + "\n"); err != nil {
		t.Fatal(err)
	}
}

// uWSGI's master FIFO: `echo r > FILE` and the like drive the master
// without signals or pidfiles. Its commands reload, add and remove
// workers, say what is not a command, switch to another file, and stop;
// --vacuum removes the file read at exit, not the one handed over by the
// switch.
func TestMasterFifo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	one, two := filepath.Join(dir, "fifo0"), filepath.Join(dir, "fifo1")
	s, stats := masterStartStats(t, "master_pid", "--master", "--master-fifo", one, "--master-fifo", two, "--vacuum")
	pids := masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	fi, err := os.Stat(one)
	if err != nil || fi.Mode().Type() != os.ModeNamedPipe || fi.Mode().Perm() != 0o600 {
		t.Fatalf("the master FIFO: %v, %v; want a named pipe of mode 0600", fi, err)
	}
	if _, err := os.Stat(two); err == nil {
		t.Errorf("%s was made before it was switched to", two)
	}

	fifoSend(t, one, "r")
	masterWaitWorkers(t, stats, 1, 20*time.Second, func(p []int) bool { return p[0] != pids[0] })
	if !s.waitLog("master FIFO 'r', reloading workers gracefully", 5*time.Second) {
		t.Errorf("no line says the FIFO's r reloaded")
	}
	fifoSend(t, one, "+")
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	fifoSend(t, one, "-"+strings.Repeat("x", 100000))
	masterWaitWorkers(t, stats, 1, 20*time.Second, nil)
	if !s.waitLog("character(s) that are not commands carafe has ('x' 'x'", 5*time.Second) {
		t.Errorf("unknown commands are not reported")
	}
	if n := strings.Count(s.Log(), "not commands carafe has"); n > 30 {
		t.Errorf("unknown commands said %d times, want once a read (of 4 KiB)", n)
	}

	// The rest of a write goes on after a switch: "1" then "+" here.
	fifoSend(t, one, "1+")
	if !s.waitLog("commands come from "+two+" now", 5*time.Second) {
		t.Fatalf("no switch to slot 1:\n%s", s.Log())
	}
	masterWaitWorkers(t, stats, 2, 20*time.Second, nil)
	if f, err := os.OpenFile(one, os.O_WRONLY|syscall.O_NONBLOCK, 0); !errors.Is(err, syscall.ENXIO) {
		if err == nil {
			f.Close()
		}
		t.Errorf("%s is still read after the switch (open: %v)", one, err)
	}
	fifoSend(t, two, "q")
	if code, ok := s.wait(20 * time.Second); !ok || code != 0 {
		t.Fatalf("q did not stop carafe gracefully (exit %d, done %v):\n%s", code, ok, s.Log())
	}
	if !strings.Contains(s.Log(), "master FIFO 'q', stopping workers gracefully") {
		t.Errorf("no line says the FIFO's q stopped carafe")
	}
	if _, err := os.Lstat(two); err == nil {
		t.Errorf("--vacuum left %s", two)
	}
	if _, err := os.Lstat(one); err != nil {
		t.Errorf("--vacuum removed %s, handed over by the switch (the next instance makes it anew): %v", one, err)
	}
}

// A FIFO left by an earlier run is replaced; a file of another kind at the
// path is not carafe's to remove, and the start fails saying so.
func TestMasterFifoPath(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	stale := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(stale, 0o644); err != nil {
		t.Fatal(err)
	}
	s := startApp(t, "master_pid", "--master", "--master-fifo", stale)
	fifoSend(t, stale, "Q")
	if code, ok := s.wait(20 * time.Second); !ok || code != 0 {
		t.Fatalf("Q did not stop carafe (exit %d, done %v):\n%s", code, ok, s.Log())
	}

	// What `echo r > FILE` leaves while no carafe reads FILE is replaced;
	// a bigger file is not carafe's to remove.
	stray := filepath.Join(dir, "stray")
	if err := os.WriteFile(stray, []byte("r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s = startApp(t, "master_pid", "--master", "--master-fifo", stray)
	fifoSend(t, stray, "Q")
	if code, ok := s.wait(20 * time.Second); !ok || code != 0 {
		t.Fatalf("Q did not stop carafe (exit %d, done %v):\n%s", code, ok, s.Log())
	}
	if !strings.Contains(s.Log(), "replacing the regular file "+stray+" (2 bytes)") {
		t.Errorf("no line says the stray file was replaced:\n%s", s.Log())
	}
	file := filepath.Join(dir, "notes.txt")
	keep := strings.Repeat("keep me\n", 20)
	if err := os.WriteFile(file, []byte(keep), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, 20*time.Second, "--http", freeAddr(t), "--chdir", appDir("master_pid"), "--module", "wsgi",
		"--master", "--master-fifo", file)
	if code == 0 || !strings.Contains(out, "carafe: --master-fifo "+file+": the file exists and is not a FIFO") {
		t.Errorf("exit %d, want a refusal naming the file:\n%s", code, out)
	}
	if b, err := os.ReadFile(file); err != nil || string(b) != keep {
		t.Errorf("the file at the FIFO's path: %q, %v", b, err)
	}

	// A relative path is taken from --chdir, where uWSGI makes it.
	app := t.TempDir()
	for _, f := range []string{"wsgi.py"} {
		b, err := os.ReadFile(filepath.Join(appDir("master_pid"), f))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(app, f), b, 0o644)
	}
	s = startApp(t, "master_pid", "--master", "--chdir", app, "--master-fifo", "app.fifo")
	fifoSend(t, filepath.Join(app, "app.fifo"), "Q")
	if code, ok := s.wait(20 * time.Second); !ok || code != 0 {
		t.Fatalf("Q to --chdir's app.fifo did not stop carafe (exit %d, done %v):\n%s", code, ok, s.Log())
	}
}
