// Command bench is carafe's side-by-side benchmark (make bench): it sets up
// the peers, runs every scenario against carafe, uWSGI, Gunicorn, Granian,
// waitress and the raw ceiling under the same wrk load, and writes
// docs/benchmarks.md, docs/benchmarks.svg and docs/benchmarks.json.
//
// BENCH_QUICK=1 runs one round of short runs over fewer variants.
package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"carafe/bench/report"
)

// config is the harness's command line.
type config struct {
	root    string        // the repository root, absolute
	python  string        // the interpreter carafe links against
	carafe  string        // bin/carafe, absolute
	venv    string        // the bench venv, absolute
	quick   bool          // BENCH_QUICK=1
	rounds  int           // rounds of every scenario
	run     time.Duration // one measured wrk run
	warmup  time.Duration // the uncounted wrk run before it
	only    string        // run only scenarios whose id has this prefix
	servers string        // comma-separated servers to run, "" for all
	setup   bool          // install and build what is missing first
	render  bool          // only re-render the docs from docs/benchmarks.json
}

func main() {
	var c config
	flag.StringVar(&c.root, "root", ".", "the repository `dir`")
	flag.StringVar(&c.python, "python", "python3", "the `python` carafe links against; the bench venv is made from it")
	flag.StringVar(&c.carafe, "carafe", "bin/carafe", "the carafe `binary`")
	flag.StringVar(&c.venv, "venv", ".bench-venv", "the bench `venv` (peers, Flask, Django)")
	flag.BoolVar(&c.quick, "quick", os.Getenv("BENCH_QUICK") == "1", "quick mode (also BENCH_QUICK=1)")
	flag.IntVar(&c.rounds, "rounds", 0, "rounds (default 3, or 1 in quick mode)")
	flag.DurationVar(&c.run, "duration", 0, "one measured run (default 10s, or 3s in quick mode)")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "the uncounted warm-up before each run")
	flag.StringVar(&c.only, "only", "", "run only the scenarios whose id starts with `prefix` (\"pyspeed\": the interpreter speed probe alone; docs are not written)")
	flag.StringVar(&c.servers, "servers", "", "run only these comma-separated `servers` (docs are not written)")
	flag.BoolVar(&c.setup, "setup", true, "install missing Debian packages (as root), make the venv, build the ceiling")
	flag.BoolVar(&c.render, "render", false, "measure nothing: re-render docs/benchmarks.md and .svg from docs/benchmarks.json (after a change to the page's layout)")
	flag.Parse()
	if c.rounds == 0 {
		c.rounds = map[bool]int{false: 3, true: 1}[c.quick]
	}
	if c.run == 0 {
		c.run = map[bool]time.Duration{false: 10 * time.Second, true: 3 * time.Second}[c.quick]
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &c, log); err != nil {
		fmt.Fprintf(os.Stderr, "bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, c *config, log *slog.Logger) error {
	if c.render {
		res, err := report.ReadJSON(filepath.Join(c.root, "docs", "benchmarks.json"))
		if err != nil {
			return err
		}
		return writeDocs(c.root, res)
	}
	var err error
	for _, p := range []*string{&c.root, &c.carafe, &c.venv} {
		if !filepath.IsAbs(*p) && p != &c.root {
			*p = filepath.Join(c.root, *p)
		}
		if *p, err = filepath.Abs(*p); err != nil {
			return err
		}
	}
	if c.setup {
		if err := setup(ctx, c, log); err != nil {
			return err
		}
	}
	h, err := newHarness(ctx, c, log)
	if err != nil {
		return err
	}
	defer h.close()
	res, err := h.runAll(ctx)
	if err != nil {
		return err
	}
	if c.only != "" || c.servers != "" {
		log.Info("bench: partial run (-only/-servers); docs left as they are")
		return nil
	}
	return writeDocs(c.root, res)
}
