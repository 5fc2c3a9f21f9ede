package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"carafe/bench/report"
)

// finish adds what is not per run: machine, versions, the idle connections
// figure, the targets, and the method notes.
func (h *harness) finish(ctx context.Context, res *report.Results) error {
	res.Machine = machine()
	res.Machine.LoadStart, res.Machine.LoadEnd = h.loadStart, loadAvg()
	v, err := h.versions(ctx)
	if err != nil {
		return err
	}
	res.Versions = v
	if h.cfg.only == "" && h.cfg.servers == "" {
		h.log.Info("bench: 10,000 idle keep-alive connections to one carafe worker")
		res.IdleConns = h.idleConnections(ctx)
	}
	if strings.HasPrefix(appSpeedID, h.cfg.only) {
		h.log.Info("bench: the interpreter's own speed in each server")
		res.AppSpeed = h.appSpeed(ctx)
	}
	res.Targets = targets(res)
	res.Commands = append(res.Commands, report.Command{Server: "nginx (nginx → uwsgi socket scenario)",
		Command: strings.NewReplacer("{{user}}", "user root;  # only when run as root\n", "{{prefix}}", "PREFIX",
			"{{addr}}", "127.0.0.1:PORT", "{{socket}}", "/PATH.sock").Replace(nginxConf)})
	res.Notes = []string{
		"Client and servers on 127.0.0.1 of the same machine; one server runs at a time, and its whole process group is killed after its run; every run gets a fresh port.",
		fmt.Sprintf("Each run: start the server, wait until it listens (at most 20 s, or the benchmark fails and shows its output), send one check request and compare status and body (a server that answers wrong where a scenario needs a feature it may lack is \"not supported yet\", never a number), read its idle RSS, a %g s wrk warm-up, the check request again (it waits behind what the warm-up left queued) and a %g s pause, then the measured %g s wrk run.", h.cfg.warmup.Seconds(), settle.Seconds(), h.cfg.run.Seconds()),
		fmt.Sprintf("%d round(s); in each, every scenario, and in each scenario every server in turn, the order rotated from round to round; each figure is the median over rounds.", h.cfg.rounds),
		"wrk runs with 2 threads (the machine's cores) and a 10 s timeout, so that queueing shows as latency rather than errors.",
		"Every server gets the same processes × threads in a scenario: 1 × 8 and 2 × 8 for hello world, 1 × 8 elsewhere (2 × 8 also for Flask and Django in full mode), 1 × 64 for the 50 ms handler. Gunicorn runs its gthread worker, Granian its WSGI interface with --blocking-threads T (the threads that run the app), uWSGI --master with --threads T.",
		"carafe-batch is the same carafe binary and options started under `chrt --batch 0` (the SCHED_BATCH policy, which systemd's CPUSchedulingPolicy=batch also sets): a woken thread of its then waits for the running one's time slice instead of preempting it. It runs in the three 2-process app scenarios, where the workers fill both CPUs, to show what that choice changes there; it is not a peer, and every target is judged on carafe's default.",
		"waitress is one process by design: it sits out the 2-process variants (n/a). The ceiling answers fixed bytes whatever the request: it runs in hello world only.",
		"uWSGI gets --listen 1024 (its default backlog of 100 is below the 256 connections of the 50 ms scenario; Gunicorn's default is 2048, Granian's 1024).",
		"Every server runs on one interpreter: uWSGI is Debian's package, whose python3 plugin embeds Debian's /usr/bin/python3, so `make bench` builds carafe against that same interpreter (BENCH_PYTHON) and makes the bench venv, used by all the other peers, from it; uWSGI imports the same Flask and Django from the venv's site-packages via --pythonpath (checked at start, see versions). As carafe's default build does, carafe-bench links Debian's libpython3.X.a statically; Debian's uWSGI plugin uses libpython3.X.so; `python3` itself (which runs Gunicorn, Granian and waitress) is statically linked too, but from Debian's build with link-time optimisation, not from the libpython3.X.a it ships. These are three builds of one interpreter, which need not run Python equally fast: the section on the interpreter's own speed measures each on the same app code, and a plain C program that links the library as carafe does.",
		"CPU: utime + stime (+ those of reaped children) of every process in the server's tree, read from /proc/PID/stat just before and just after the measured run, over the requests wrk counted. nginx's own CPU is not included. On loopback, part of the kernel's work of delivering what a server sends (TCP's receive path, run on the sending CPU) is charged to whichever process pushes the bytes at that moment, the server or wrk: where responses are large (the 10 MiB download) this column depends on how a server's writes interleave with wrk's reads as well as on its own work, and wrk's CPU moves the other way.",
		"RSS: of the largest worker (a process of the tree with no children: uWSGI's, Gunicorn's and Granian's workers, carafe's worker; a single-process server is its own worker). Idle: after the check request, before the warm-up; load: the highest sample, every 100 ms, during the measured run.",
		"Static file: a 100 KiB file written by the harness; carafe and uWSGI serve it with --static-map, Granian with its --static-path-mount, Gunicorn and waitress through the app (bench/apps/static, wsgi.file_wrapper), since they have no static map.",
	}
	return nil
}

// writeDocs writes docs/benchmarks.{json,md,svg}.
func writeDocs(root string, res *report.Results) error {
	dir := filepath.Join(root, "docs")
	if err := res.WriteJSON(filepath.Join(dir, "benchmarks.json")); err != nil {
		return err
	}
	var svg, md bytes.Buffer
	if err := res.SVG(&svg); err != nil {
		return err
	}
	if err := res.Markdown(&md, "benchmarks.svg"); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.svg"), svg.Bytes(), 0o644); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, "benchmarks.md"), md.Bytes(), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "bench: wrote docs/benchmarks.md, docs/benchmarks.svg, docs/benchmarks.json\n")
	return nil
}
