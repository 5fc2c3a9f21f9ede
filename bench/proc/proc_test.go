package proc

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// With PROC_TEST_LISTEN set, the test binary is a server that listens
// there (accepting and closing connections), starts a child of its own,
// and waits to be killed.
func TestMain(m *testing.M) {
	if addr := os.Getenv("PROC_TEST_LISTEN"); addr != "" {
		ln, err := net.Listen("unix", addr)
		if err != nil {
			os.Exit(3)
		}
		defer ln.Close()
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				c.Close()
			}
		}()
		child, err := os.StartProcess("/bin/sleep", []string{"sleep", "60"}, &os.ProcAttr{})
		if err != nil {
			os.Exit(4)
		}
		_, _ = child.Wait()
		return
	}
	os.Exit(m.Run())
}

func TestStartFailsLoudly(t *testing.T) {
	tests := []struct {
		name    string
		argv    []string
		wantErr []string
	}{
		{"exits at once", []string{"sh", "-c", "echo 'boom: no such module' >&2; exit 3"},
			[]string{"exited before it listened", "exit status 3", "boom: no such module", "sh -c"}},
		{"never listens", []string{"sh", "-c", "echo 'still importing'; exec sleep 60"},
			[]string{"did not listen on", "within 1s", "still importing"}},
		{"no such command", []string{"/nonexistent/server"}, []string{"no such file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			srv, err := Start(context.Background(), Spec{
				Name: "test", Argv: tt.argv, Network: "tcp", Addr: freeAddr(t), StartTimeout: time.Second,
			})
			if err == nil {
				srv.Stop()
				t.Fatal("Start succeeded, want an error")
			}
			for _, w := range tt.wantErr {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("Start took %v to fail", d)
			}
		})
	}
}

// A server that listens is ready; Tree sees it and its child; Stop kills
// both, the child included, though only the leader was started.
func TestStartTreeStop(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "s.sock")
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := Start(context.Background(), Spec{
		Name: "helper", Argv: []string{exe}, Env: []string{"PROC_TEST_LISTEN=" + sock},
		Network: "unix", Addr: sock,
	})
	if err != nil {
		t.Fatal(err)
	}
	var u Usage
	for range 100 { // the child may not be forked yet
		if u, err = Tree(srv.Pid()); err != nil {
			t.Fatal(err)
		}
		if u.Procs == 2 {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if u.Procs != 2 || u.Workers != 1 || u.TotalRSS <= 0 || u.MaxWorkerRSS() <= 0 || u.Switches <= 0 {
		t.Errorf("Tree = %+v, want the helper and its child, with RSS and context switches", u)
	}
	// Both wait for connections: a connection's wake-up and its own sleep
	// add switches that Tree sees.
	for range 20 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		c.Close()
	}
	if u2, err := Tree(srv.Pid()); err != nil || u2.Switches <= u.Switches {
		t.Errorf("Tree's switches after 20 connections = %d (%v), before %d: want more", u2.Switches, err, u.Switches)
	}
	if len(u.WorkerPids) != 1 || u.WorkerPids[0] == srv.Pid() {
		t.Errorf("Tree's worker pids = %v, want the child's, not the helper's %d", u.WorkerPids, srv.Pid())
	} else if rss, err := RSS(u.WorkerPids[0]); err != nil || rss <= 0 || rss > 4*u.WorkerRSS[0] {
		t.Errorf("RSS(child) = %d, %v; Tree said %d", rss, err, u.WorkerRSS[0])
	}
	pgid := srv.Pid()
	srv.Stop()
	if err := syscall.Kill(-pgid, 0); err != syscall.ESRCH && groupAlive(pgid) {
		t.Errorf("process group %d still alive after Stop", pgid)
	}
	if exited, _ := srv.Exited(); !exited {
		t.Error("Exited = false after Stop")
	}
}

func TestParseStat(t *testing.T) {
	line := "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 250 50 7 3 20 0 9 0 123 456789 300 18446744073709551615\n"
	p, err := parseStat([]byte(line), 4096)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 4242, ppid: 1, pgrp: 4242, state: 'S', utime: 250, stime: 50, cutime: 7, cstime: 3, rss: 300 * 4096}
	if p != want {
		t.Errorf("parseStat = %+v, want %+v", p, want)
	}
}

func TestParseSwitches(t *testing.T) {
	status := "Name:\tcarafe\nState:\tS (sleeping)\nvoluntary_ctxt_switches:\t1500\nnonvoluntary_ctxt_switches:\t42\n"
	if n := parseSwitches([]byte(status)); n != 1542 {
		t.Errorf("parseSwitches = %d, want 1542", n)
	}
	if n := parseSwitches([]byte("Name:\tx\n")); n != 0 {
		t.Errorf("parseSwitches without the fields = %d, want 0", n)
	}
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}
