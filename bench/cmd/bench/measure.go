package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"carafe/bench/proc"
	"carafe/bench/report"
	"carafe/bench/wrk"
)

// unsupportedError is a server that would not start or answered the check
// request wrong: in an optional scenario, "not supported yet".
type unsupportedError struct {
	reason string // one line, for the table
	err    error  // the whole story, server output included
}

func (e *unsupportedError) Error() string { return e.err.Error() }
func (e *unsupportedError) Unwrap() error { return e.err }

func asUnsupported(err error, target **unsupportedError) bool { return errors.As(err, target) }

const mib = 1 << 20

// settle is the pause between the warm-up's last answer and the measured run.
const settle = 500 * time.Millisecond

// measure runs srv in sc once: start, check one response, idle RSS,
// warm-up, then the measured wrk run with CPU read before and after and
// RSS sampled during it; the server's process group is killed at the end.
func (h *harness) measure(ctx context.Context, sc *scenario, srv *server) (report.Measure, string, error) {
	var m report.Measure
	port, err := freePort()
	if err != nil {
		return m, "", err
	}
	r := runSpec{app: filepath.Join(h.cfg.root, "bench", "apps", sc.app), procs: sc.procs, threads: sc.threads}
	spec := proc.Spec{Name: srv.name, Dir: r.app, Network: "tcp", Addr: fmt.Sprintf("127.0.0.1:%d", port)}
	if sc.nginx {
		r.listen.socket = filepath.Join(h.tmp, fmt.Sprintf("%s-%d.sock", srv.name, port))
		spec.Network, spec.Addr = "unix", r.listen.socket
	} else {
		r.listen.http = spec.Addr
	}
	if sc.static {
		r.staticDir = h.staticDir
		spec.Env = append(spec.Env, "BENCH_STATIC_DIR="+h.staticDir)
	}
	spec.Argv = srv.argv(h, r)
	if srv.env != nil {
		spec.Env = append(spec.Env, srv.env(h, r)...)
	}
	cmdline := strings.Join(append(envPrefix(spec.Env), spec.Argv...), " ")

	s, err := proc.Start(ctx, spec)
	if err != nil {
		return m, cmdline, &unsupportedError{reason: firstLine(err.Error()), err: err}
	}
	defer s.Stop()
	url := "http://" + spec.Addr + sc.path
	if sc.nginx {
		front, addr, err := h.startNginx(ctx, r.listen.socket)
		if err != nil {
			return m, cmdline, err
		}
		defer front.Stop()
		url = "http://" + addr + sc.path
	}
	if err := check(ctx, sc, url); err != nil {
		return m, cmdline, &unsupportedError{reason: firstLine(err.Error()),
			err: fmt.Errorf("%w\nits command: %s\nits output:\n%s", err, cmdline, s.Output())}
	}
	idle, err := proc.Tree(s.Pid())
	if err != nil {
		return m, cmdline, err
	}
	if _, _, err := wrk.Run(ctx, h.wrkOptions(sc, url, h.cfg.warmup)); err != nil {
		return m, cmdline, fmt.Errorf("warm-up: %w\nserver output:\n%s", err, s.Output())
	}
	// The requests the warm-up left in flight are still queued when it
	// ends (a server cannot tell a closed client until it answers): the
	// check request waits behind them, and a pause lets any stragglers
	// finish, so the measured run does not begin with their backlog (it
	// put 2% of the 50 ms handler's requests 100-150 ms over the rest).
	if err := check(ctx, sc, url); err != nil {
		return m, cmdline, fmt.Errorf("after the warm-up: %w\nserver output:\n%s", err, s.Output())
	}
	time.Sleep(settle)
	before, err := proc.Tree(s.Pid())
	if err != nil {
		return m, cmdline, err
	}
	peak := sampleRSS(s.Pid())
	cpu0 := readCPUTimes()
	res, out, err := wrk.Run(ctx, h.wrkOptions(sc, url, h.cfg.run))
	cpu1 := readCPUTimes()
	load := peak()
	if err != nil {
		return m, cmdline, fmt.Errorf("%w\nserver output:\n%s", err, s.Output())
	}
	after, err := proc.Tree(s.Pid())
	if err != nil {
		return m, cmdline, err
	}
	if exited, werr := s.Exited(); exited {
		return m, cmdline, fmt.Errorf("the server exited during the run (%v); its output:\n%s", werr, s.Output())
	}
	m = report.Measure{
		RequestsPerS: res.RequestsPerS, Requests: res.Requests,
		P50Ms: ms(res.P50), P99Ms: ms(res.P99),
		SocketErrors: res.SocketErrors(), Non2xx3xx: res.Non2xx3xx,
		RSSIdleMB: float64(idle.MaxWorkerRSS()) / mib, RSSLoadMB: float64(load) / mib,
		Workers: after.Workers, Wrk: out, StealPct: stealPct(cpu0, cpu1),
	}
	if res.Requests > 0 {
		m.CPUPer1k = (after.CPU - before.CPU).Seconds() / float64(res.Requests) * 1000
		m.SwitchesPerReq = float64(after.Switches-before.Switches) / float64(res.Requests)
	}
	return m, cmdline, nil
}

func (h *harness) wrkOptions(sc *scenario, url string, d time.Duration) wrk.Options {
	o := wrk.Options{URL: url, Threads: 2, Connections: sc.conns, Duration: d, Timeout: wrkTimeout}
	if sc.script != "" {
		o.Script = filepath.Join(h.cfg.root, "bench", "scripts", sc.script)
	}
	return o
}

// check sends the scenario's request once and compares the answer.
func check(ctx context.Context, sc *scenario, url string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
	body, err := fetch(ctx, client, sc.method, url, sc.body)
	if err != nil {
		return fmt.Errorf("check request: %w", err)
	}
	return sc.want(body)
}

// fetch sends one request and returns the body of its 200 answer.
func fetch(ctx context.Context, client *http.Client, method, url string, body []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("reading the body: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("status %d, want 200 (body %s)", resp.StatusCode, preview(b))
	}
	return b, nil
}

// sampleRSS samples the largest worker's RSS every 100 ms until the
// returned function is called; that returns the highest sample. It finds
// the workers with a scan of every process once a second and reads only
// theirs in between: a full scan every 100 ms cost the harness 6 % of a
// CPU, taken from the server it measures.
func sampleRSS(pid int) func() int64 {
	var mu sync.Mutex
	var peak int64
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		var workers []int
		for i := 0; ; i++ {
			var m int64
			if i%10 == 0 {
				if u, err := proc.Tree(pid); err == nil {
					m, workers = u.MaxWorkerRSS(), u.WorkerPids
				}
			} else {
				for _, w := range workers {
					if rss, err := proc.RSS(w); err == nil {
						m = max(m, rss)
					}
				}
			}
			mu.Lock()
			peak = max(peak, m)
			mu.Unlock()
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(stop)
		<-done
		mu.Lock()
		defer mu.Unlock()
		return peak
	}
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func envPrefix(env []string) []string { return append([]string(nil), env...) }

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	s, _, _ = strings.Cut(s, "; its command")
	return strings.ReplaceAll(s, "|", "/")
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
