package main

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"carafe/bench/proc"
	"carafe/bench/report"
)

// appSpeedID is what -only takes to run the app speed probe alone (it runs
// in every run that -only leaves whole).
const appSpeedID = "pyspeed"

// appSpeedAsks is how many figures each server's interpreter gives; the
// page shows their median.
const appSpeedAsks = 5

// appSpeed measures how fast the interpreter each server runs in executes
// the same app code: bench/apps/pyspeed times calls of the Flask JSON app
// in-process, so the server's own code plays no part. python3 itself runs
// it too, from the command line, and so does bench/pyfloor, C that embeds
// libpython the way carafe does. The servers run the same interpreter
// version, built three ways (the python3 executable, libpython.so,
// libpython.a): this is what the build alone makes of a Python-bound
// scenario.
//
// The two reference rows are asked before the first server and again
// after each one, a figure at a time, and their medians taken over all of
// it: asked once at the start, one slow moment of the machine set the
// base every ratio on the page is read against (python3 once measured
// 142 µs there, while waitress, which runs in that same python3, gave 103).
func (h *harness) appSpeed(ctx context.Context) []report.AppSpeed {
	app := filepath.Join(h.cfg.root, "bench", "apps", "pyspeed")
	probe := filepath.Join(app, "wsgi.py")
	refs := []*reference{
		{name: "python3", argv: []string{h.venvBin("python"), probe}},
		{name: report.FloorName, argv: []string{floorBin(h.cfg.root), h.venvBin("python"), probe}},
	}
	var rows []report.AppSpeed
	for _, srv := range h.servers {
		if srv.appOnly || len(srv.only) > 0 {
			continue // the ceiling runs no Python; a variant of carafe runs carafe's
		}
		askReferences(ctx, refs, referenceAsks)
		s := report.AppSpeed{Server: srv.name}
		figures, err := h.serverSpeed(ctx, srv, app)
		if err != nil {
			s.Error = firstLine(err.Error())
		} else {
			s.MicrosPerCall = report.MedianOf(slices.Clone(figures))
		}
		h.log.Info("bench: app speed", "server", s.Server, "us_per_call", s.MicrosPerCall, "figures", figures, "err", s.Error)
		rows = append(rows, s)
	}
	askReferences(ctx, refs, referenceAsks)
	out := make([]report.AppSpeed, 0, len(refs)+len(rows))
	for _, r := range refs {
		s := r.result()
		h.log.Info("bench: app speed", "server", s.Server, "us_per_call", s.MicrosPerCall, "figures", r.figures, "err", s.Error, "note", s.Note)
		out = append(out, s)
	}
	return append(out, rows...)
}

// referenceAsks is how many figures each reference row gives at each of
// its turns between the servers.
const referenceAsks = 2

// reference is a row that runs the probe from a command (python3, or
// bench/pyfloor) at several moments of the probe; argv takes the number
// of figures to print as its last argument.
type reference struct {
	name    string
	argv    []string
	figures []float64
	err     error
}

// askReferences has each reference print n more figures on its stdout (a
// warning the interpreter prints on stderr is no figure). A reference
// that failed once is not run again: its row keeps the figures it gave
// before, or shows the failure where it gave none.
func askReferences(ctx context.Context, refs []*reference, n int) {
	for _, r := range refs {
		if r.err != nil {
			continue
		}
		argv := append(slices.Clone(r.argv), strconv.Itoa(n))
		text, err := stdout(ctx, argv[0], argv[1:]...)
		var figures []float64
		if err == nil {
			figures, err = parseFigures(text)
		}
		if err != nil {
			r.err = err
			continue
		}
		r.figures = append(r.figures, figures...)
	}
}

// result is the reference's row: the median of every figure it gave.
func (r *reference) result() report.AppSpeed {
	s := report.AppSpeed{Server: r.name}
	switch {
	case len(r.figures) > 0:
		s.MicrosPerCall = report.MedianOf(slices.Clone(r.figures))
		if r.err != nil {
			s.Note = fmt.Sprintf("of %d figures; a later turn failed: %s", len(r.figures), firstLine(r.err.Error()))
		}
	case r.err != nil:
		s.Error = firstLine(r.err.Error())
	default:
		s.Error = "the app speed probe was not run"
	}
	return s
}

// serverSpeed starts srv on the app, 1 process × 1 thread, and asks it for
// its figure appSpeedAsks times, one request at a time.
func (h *harness) serverSpeed(ctx context.Context, srv *server, app string) ([]float64, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	r := runSpec{app: app, procs: 1, threads: 1, listen: listen{http: fmt.Sprintf("127.0.0.1:%d", port)}}
	spec := proc.Spec{Name: srv.name, Dir: app, Network: "tcp", Addr: r.listen.http, Argv: srv.argv(h, r)}
	if srv.env != nil {
		spec.Env = srv.env(h, r)
	}
	s, err := proc.Start(ctx, spec)
	if err != nil {
		return nil, err
	}
	defer s.Stop()
	client := &http.Client{Timeout: 60 * time.Second}
	var text strings.Builder
	for range appSpeedAsks {
		b, err := fetch(ctx, client, "GET", "http://"+r.listen.http+"/", nil)
		if err != nil {
			return nil, fmt.Errorf("%w; its output: %s", err, s.Output())
		}
		text.Write(b)
	}
	return parseFigures(text.String())
}

// parseFigures reads one positive number a line: the app's microseconds
// per call.
func parseFigures(text string) ([]float64, error) {
	var out []float64
	for _, line := range strings.Fields(text) {
		v, err := strconv.ParseFloat(line, 64)
		if err != nil || !(v > 0) || math.IsInf(v, 1) {
			return nil, fmt.Errorf("the app speed probe answered %q, not microseconds per call", preview([]byte(text)))
		}
		out = append(out, v)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("the app speed probe answered nothing")
	}
	return out, nil
}
