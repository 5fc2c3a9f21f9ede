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
func (h *harness) appSpeed(ctx context.Context) []report.AppSpeed {
	app := filepath.Join(h.cfg.root, "bench", "apps", "pyspeed")
	out := []report.AppSpeed{h.python3Speed(ctx, app), h.floorSpeed(ctx, app)}
	for _, srv := range h.servers {
		if srv.appOnly || len(srv.only) > 0 {
			continue // the ceiling runs no Python; a variant of carafe runs carafe's
		}
		s := report.AppSpeed{Server: srv.name}
		figures, err := h.serverSpeed(ctx, srv, app)
		if err != nil {
			s.Error = firstLine(err.Error())
		} else {
			s.MicrosPerCall = report.MedianOf(slices.Clone(figures))
		}
		h.log.Info("bench: app speed", "server", s.Server, "us_per_call", s.MicrosPerCall, "figures", figures, "err", s.Error)
		out = append(out, s)
	}
	return out
}

// python3Speed runs the app's figure from the command line, in the bench
// venv's python (the interpreter every server shares).
func (h *harness) python3Speed(ctx context.Context, app string) report.AppSpeed {
	return h.commandSpeed(ctx, "python3", h.venvBin("python"), filepath.Join(app, "wsgi.py"), strconv.Itoa(appSpeedAsks))
}

// floorName is the row of bench/pyfloor, a C program that links libpython
// as carafe does and runs the app's figure on a thread of its own: what
// the library build alone makes of the app, with no server code at all.
const floorName = "C embedding"

// floorSpeed runs bench/pyfloor (built by setup) on the app.
func (h *harness) floorSpeed(ctx context.Context, app string) report.AppSpeed {
	return h.commandSpeed(ctx, floorName, floorBin(h.cfg.root), h.venvBin("python"),
		filepath.Join(app, "wsgi.py"), strconv.Itoa(appSpeedAsks))
}

// commandSpeed runs a command that prints the app's figures, one a line.
func (h *harness) commandSpeed(ctx context.Context, name string, argv ...string) report.AppSpeed {
	s := report.AppSpeed{Server: name}
	text, err := output(ctx, argv[0], argv[1:]...)
	var figures []float64
	if err == nil {
		figures, err = parseFigures(text)
	}
	if err != nil {
		s.Error = firstLine(err.Error())
	} else {
		s.MicrosPerCall = report.MedianOf(slices.Clone(figures))
	}
	h.log.Info("bench: app speed", "server", s.Server, "us_per_call", s.MicrosPerCall, "figures", figures, "err", s.Error)
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
