// Package proc starts the servers under test and watches them: each in its
// own process group, so that stopping one kills every process it made, with
// its output kept for the error that says why it did not start, and with
// the CPU time and memory of its whole process tree read from /proc.
package proc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Spec says how to start a server and how to know it is ready.
type Spec struct {
	Name string   // for messages: "carafe", "uwsgi", ...
	Argv []string // Argv[0] is looked up in PATH
	Dir  string   // working directory; "" is the harness's own
	Env  []string // added to the harness's environment

	// Network and Addr are where the server listens: "tcp" and
	// "127.0.0.1:PORT", or "unix" and a socket path. The server is ready
	// once a connection to it succeeds.
	Network, Addr string

	// StartTimeout bounds the wait for readiness; zero means 20 s.
	StartTimeout time.Duration
}

// Server is a started server.
type Server struct {
	Spec Spec
	cmd  *exec.Cmd
	out  *tailBuffer
	done chan struct{} // closed when the process has exited
	err  error         // the exit status, once done is closed
}

// Start starts s.Argv and waits until s.Addr accepts a connection. When the
// process exits first, or the address is not reachable within the timeout,
// the process group is killed and the error carries the server's output.
func Start(ctx context.Context, s Spec) (*Server, error) {
	if s.StartTimeout == 0 {
		s.StartTimeout = 20 * time.Second
	}
	cmd := exec.Command(s.Argv[0], s.Argv[1:]...)
	cmd.Dir = s.Dir
	cmd.Env = append(os.Environ(), s.Env...)
	out := &tailBuffer{max: 64 << 10}
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("proc: %s: %w", s.Name, err)
	}
	srv := &Server{Spec: s, cmd: cmd, out: out, done: make(chan struct{})}
	go func() { srv.err = cmd.Wait(); close(srv.done) }()

	if err := srv.waitReady(ctx); err != nil {
		srv.Stop()
		return nil, fmt.Errorf("%w; its command: %s\nits output:\n%s", err, strings.Join(s.Argv, " "), srv.Output())
	}
	return srv, nil
}

func (srv *Server) waitReady(ctx context.Context) error {
	s := srv.Spec
	deadline := time.Now().Add(s.StartTimeout)
	for {
		select {
		case <-srv.done:
			return fmt.Errorf("proc: %s exited before it listened on %s (%v)", s.Name, s.Addr, srv.err)
		case <-ctx.Done():
			return fmt.Errorf("proc: %s: %w", s.Name, ctx.Err())
		default:
		}
		c, err := net.DialTimeout(s.Network, s.Addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("proc: %s did not listen on %s within %v", s.Name, s.Addr, s.StartTimeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Pid is the process id of the server's leader process.
func (srv *Server) Pid() int { return srv.cmd.Process.Pid }

// Exited reports whether the leader process has exited, and how.
func (srv *Server) Exited() (bool, error) {
	select {
	case <-srv.done:
		return true, srv.err
	default:
		return false, nil
	}
}

// Output is the last 64 KB the server wrote to stdout and stderr.
func (srv *Server) Output() string { return srv.out.String() }

// Stop sends SIGINT to the whole process group (every server under test
// takes it as "stop now"), gives it 3 s, then SIGKILLs the group, and
// returns once no process of the group is left.
func (srv *Server) Stop() {
	pgid := srv.cmd.Process.Pid
	_ = syscall.Kill(-pgid, syscall.SIGINT)
	deadline := time.Now().Add(3 * time.Second)
	for groupAlive(pgid) {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
		}
		time.Sleep(20 * time.Millisecond)
	}
	<-srv.done
}

// groupAlive reports whether any process of group pgid still runs. Zombies
// count as gone: the leader's is reaped by Start's goroutine, and a
// worker's by init once its parent is dead.
func groupAlive(pgid int) bool {
	if err := syscall.Kill(-pgid, 0); errors.Is(err, syscall.ESRCH) {
		return false
	}
	procs, err := readAll()
	if err != nil {
		return true
	}
	for _, p := range procs {
		if p.pgrp == pgid && p.state != 'Z' {
			return true
		}
	}
	return false
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	buf []byte
	max int
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
