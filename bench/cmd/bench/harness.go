package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"carafe/bench/report"
)

// harness runs the scenarios; one harness, one benchmark.
type harness struct {
	cfg          *config
	log          *slog.Logger
	tmp          string // sockets, the static file, nginx's prefix
	sitePackages string // the bench venv's, for uWSGI's --pythonpath
	staticDir    string
	loadStart    string // /proc/loadavg when the harness started
	servers      []*server
	scenarios    []*scenario
}

func newHarness(ctx context.Context, c *config, log *slog.Logger) (*harness, error) {
	tmp, err := os.MkdirTemp("", "carafe-bench-")
	if err != nil {
		return nil, err
	}
	h := &harness{cfg: c, log: log, tmp: tmp, servers: servers(), scenarios: scenarios(), loadStart: loadAvg()}
	// Run a copy of carafe: a rebuild of bin/carafe during the benchmark
	// must not change the binary under test half-way.
	pinned := filepath.Join(tmp, "carafe")
	if err := copyFile(c.carafe, pinned); err != nil {
		return nil, err
	}
	c.carafe = pinned
	h.sitePackages, err = output(ctx, h.venvBin("python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])")
	if err != nil {
		return nil, fmt.Errorf("the bench venv %s: %w", c.venv, err)
	}
	h.staticDir = filepath.Join(tmp, "static")
	if err := os.MkdirAll(h.staticDir, 0o755); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(h.staticDir, staticName), repeat(staticSize, upTo(251)), 0o644); err != nil {
		return nil, err
	}
	h.filter()
	return h, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o755)
}

func (h *harness) close() { os.RemoveAll(h.tmp) }

func (h *harness) venvBin(name string) string { return filepath.Join(h.cfg.venv, "bin", name) }

// filter keeps the scenarios and servers this run asks for.
func (h *harness) filter() {
	h.scenarios = slices.DeleteFunc(h.scenarios, func(s *scenario) bool {
		return (h.cfg.quick && !s.quick) || !strings.HasPrefix(s.id, h.cfg.only)
	})
	if h.cfg.servers != "" {
		want := strings.Split(h.cfg.servers, ",")
		h.servers = slices.DeleteFunc(h.servers, func(s *server) bool { return !slices.Contains(want, s.name) })
	}
}

// takesPart says whether srv runs in sc, and if not, why not ("" when it
// is left out without a word, as the ceiling outside hello world is).
func takesPart(sc *scenario, srv *server) (bool, string) {
	switch {
	case srv.appOnly && (sc.app != "hello" || sc.nginx),
		len(srv.only) > 0 && !slices.Contains(srv.only, sc.id):
		return false, ""
	case srv.single && sc.procs > 1:
		return false, "single process only"
	case sc.nginx && !srv.uwsgiProto:
		return false, "no uwsgi protocol"
	}
	return true, ""
}

// runAll runs every round: in each, every scenario, and in each scenario
// every server in turn, the order rotated from round to round.
func (h *harness) runAll(ctx context.Context) (*report.Results, error) {
	start := time.Now()
	res := &report.Results{
		Started: start, Quick: h.cfg.quick, Rounds: h.cfg.rounds,
		RunSeconds: h.cfg.run.Seconds(), WarmupSeconds: h.cfg.warmup.Seconds(),
	}
	for _, srv := range h.servers {
		res.Servers = append(res.Servers, srv.name)
		res.Commands = append(res.Commands, report.Command{Server: srv.name, Command: srv.command})
	}
	entries := map[string]map[string]*report.Entry{}
	for _, sc := range h.scenarios {
		entries[sc.id] = map[string]*report.Entry{}
		for _, srv := range h.servers {
			e := &report.Entry{Server: srv.name}
			if ok, why := takesPart(sc, srv); !ok {
				if why == "" {
					continue
				}
				e.Skipped = why
			}
			entries[sc.id][srv.name] = e
		}
	}
	for round := range h.cfg.rounds {
		for _, sc := range h.scenarios {
			for i := range h.servers {
				srv := h.servers[(i+round)%len(h.servers)]
				e := entries[sc.id][srv.name]
				if e == nil || e.Skipped != "" || e.Unsupported != "" {
					continue
				}
				if err := h.measureInto(ctx, e, sc, srv, round); err != nil {
					return nil, err
				}
			}
		}
	}
	for _, sc := range h.scenarios {
		rs := report.Scenario{
			ID: sc.id, Title: sc.title, Request: sc.request(), Processes: sc.procs, Threads: sc.threads,
			Connections: sc.conns, Wrk: strings.Join(h.wrkOptions(sc, "URL", h.cfg.run).Args(), " "), Note: sc.note,
		}
		for _, srv := range h.servers {
			if e := entries[sc.id][srv.name]; e != nil {
				if len(e.Runs) > 0 && e.Unsupported == "" {
					m := report.Median(e.Runs)
					e.Median = &m
				}
				rs.Entries = append(rs.Entries, *e)
			}
		}
		res.Scenarios = append(res.Scenarios, rs)
	}
	if err := h.finish(ctx, res); err != nil {
		return nil, err
	}
	res.Elapsed = time.Since(start).Round(time.Second).String()
	return res, nil
}

// measureInto measures one run and adds it to e, or marks e unsupported.
func (h *harness) measureInto(ctx context.Context, e *report.Entry, sc *scenario, srv *server, round int) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	m, cmd, err := h.measure(ctx, sc, srv)
	e.Command = cmd
	var unsup *unsupportedError
	switch {
	case err == nil:
		e.Runs = append(e.Runs, m)
		h.log.Info("bench: measured", "round", round+1, "scenario", sc.id, "server", srv.name,
			"req/s", fmt.Sprintf("%.0f", m.RequestsPerS), "p99_ms", m.P99Ms, "errors", m.Errors(),
			"cpu_s_per_1k", fmt.Sprintf("%.3f", m.CPUPer1k), "switches_per_req", fmt.Sprintf("%.2f", m.SwitchesPerReq), "rss_mib", fmt.Sprintf("%.1f/%.1f", m.RSSIdleMB, m.RSSLoadMB))
		return nil
	case sc.optional && asUnsupported(err, &unsup):
		e.Unsupported = unsup.reason
		e.Runs = nil
		fmt.Fprintf(os.Stderr, "bench: %s: %s: NOT SUPPORTED YET: %v\n", sc.id, srv.name, err)
		return nil
	default:
		return fmt.Errorf("%s: %s: %w", sc.id, srv.name, err)
	}
}
