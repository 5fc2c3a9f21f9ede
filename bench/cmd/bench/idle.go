package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"carafe/bench/proc"
	"carafe/bench/report"
)

const idleConns = 10000

// idleConnections opens 10,000 keep-alive connections to one carafe worker
// (hello world, 1 × 8), sends one request on each, and reports the
// worker's RSS before and with them; a second request on each at the end
// counts the connections still held.
func (h *harness) idleConnections(ctx context.Context) *report.IdleConns {
	ic := &report.IdleConns{Server: "carafe", Connections: idleConns}
	if err := raiseFileLimit(idleConns + 200); err != nil {
		ic.Error = err.Error()
		return ic
	}
	port, err := freePort()
	if err != nil {
		ic.Error = err.Error()
		return ic
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	r := runSpec{app: filepath.Join(h.cfg.root, "bench", "apps", "hello"), procs: 1, threads: 8, listen: listen{http: addr}}
	var carafe *server
	for _, s := range servers() {
		if s.name == "carafe" {
			carafe = s
		}
	}
	s, err := proc.Start(ctx, proc.Spec{Name: "carafe", Argv: carafe.argv(h, r), Dir: r.app, Network: "tcp", Addr: addr})
	if err != nil {
		ic.Error = firstLine(err.Error())
		return ic
	}
	defer s.Stop()
	before, err := proc.Tree(s.Pid())
	if err != nil {
		ic.Error = err.Error()
		return ic
	}
	conns, err := openIdle(ctx, addr, idleConns)
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	if err != nil {
		ic.Error = fmt.Sprintf("%d connections opened, then: %v", len(conns), err)
		return ic
	}
	time.Sleep(time.Second)
	after, err := proc.Tree(s.Pid())
	if err != nil {
		ic.Error = err.Error()
		return ic
	}
	ic.RSSBeforeMB = float64(before.MaxWorkerRSS()) / mib
	ic.RSSAfterMB = float64(after.MaxWorkerRSS()) / mib
	ic.Held = countAnswering(conns)
	return ic
}

type idleConn struct {
	net.Conn
	r *bufio.Reader
}

// openIdle opens n connections, 100 at a time, each answering one request.
func openIdle(ctx context.Context, addr string, n int) ([]*idleConn, error) {
	conns := make([]*idleConn, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			c, err := net.DialTimeout("tcp", addr, 10*time.Second)
			if err != nil {
				errs <- err
				return
			}
			ic := &idleConn{Conn: c, r: bufio.NewReader(c)}
			conns[i] = ic
			if err := ic.roundTrip(); err != nil {
				errs <- err
			}
		}()
		if ctx.Err() != nil {
			break
		}
	}
	wg.Wait()
	close(errs)
	var open []*idleConn
	for _, c := range conns {
		if c != nil {
			open = append(open, c)
		}
	}
	return open, <-errs
}

func (c *idleConn) roundTrip() error {
	_ = c.SetDeadline(time.Now().Add(30 * time.Second))
	if _, err := io.WriteString(c, "GET / HTTP/1.1\r\nHost: bench\r\n\r\n"); err != nil {
		return err
	}
	resp, err := http.ReadResponse(c.r, nil)
	if err != nil {
		return err
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = fmt.Errorf("status %d", resp.StatusCode)
	}
	return err
}

// countAnswering sends one more request on every connection.
func countAnswering(conns []*idleConn) int {
	var mu sync.Mutex
	n := 0
	sem := make(chan struct{}, 100)
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			if c.roundTrip() == nil {
				mu.Lock()
				n++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return n
}

// raiseFileLimit raises this process's soft limit on open files to at
// least n, as far as the hard limit allows.
func raiseFileLimit(n uint64) error {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return err
	}
	if l.Cur >= n {
		return nil
	}
	if l.Max < n {
		return fmt.Errorf("the open-files hard limit is %d, below the %d needed", l.Max, n)
	}
	l.Cur = n
	return syscall.Setrlimit(syscall.RLIMIT_NOFILE, &l)
}
