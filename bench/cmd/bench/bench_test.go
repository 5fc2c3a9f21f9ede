package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"carafe/bench/report"
)

func TestScenarios(t *testing.T) {
	seen := map[string]bool{}
	quick := 0
	for _, s := range scenarios() {
		if seen[s.id] {
			t.Errorf("scenario id %q twice", s.id)
		}
		seen[s.id] = true
		if s.quick {
			quick++
		}
		if _, err := os.Stat("../../apps/" + s.app + "/wsgi.py"); err != nil {
			t.Errorf("%s: %v", s.id, err)
		}
		if s.script != "" {
			if _, err := os.Stat("../../scripts/" + s.script); err != nil {
				t.Errorf("%s: %v", s.id, err)
			}
		}
	}
	if quick == 0 || quick == len(seen) {
		t.Errorf("quick mode runs %d of %d scenarios, want fewer but some", quick, len(seen))
	}
}

// The echo check expects the body the wrk script sends.
func TestEchoBodyMatchesScript(t *testing.T) {
	b, err := os.ReadFile("../../scripts/post1m.lua")
	if err != nil {
		t.Fatal(err)
	}
	want := `string.rep("` + string(echoUnit) + `", ` + itoa(echoSize/len(echoUnit)) + `)`
	if !strings.Contains(string(b), want) {
		t.Errorf("post1m.lua does not send %s", want)
	}
}

func TestTakesPart(t *testing.T) {
	byName := map[string]*server{}
	for _, s := range servers() {
		byName[s.name] = s
	}
	byID := map[string]*scenario{}
	for _, s := range scenarios() {
		byID[s.id] = s
	}
	tests := []struct {
		scenario, server string
		want             bool
		why              string
	}{
		{"hello-1x8", "ceiling", true, ""},
		{"flask-1x8", "ceiling", false, ""},
		{"nginx-uwsgi", "ceiling", false, ""},
		{"hello-2x8", "waitress", false, "single process only"},
		{"hello-1x8", "waitress", true, ""},
		{"nginx-uwsgi", "gunicorn", false, "no uwsgi protocol"},
		{"nginx-uwsgi", "carafe", true, ""},
		{"flask-2x8", "carafe-batch", true, ""},
		{"flask-1x8", "carafe-batch", false, ""},
		{"nginx-uwsgi", "carafe-batch", false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.scenario+"/"+tt.server, func(t *testing.T) {
			ok, why := takesPart(byID[tt.scenario], byName[tt.server])
			if ok != tt.want || why != tt.why {
				t.Errorf("takesPart = %v, %q; want %v, %q", ok, why, tt.want, tt.why)
			}
		})
	}
}

func TestTargets(t *testing.T) {
	m := func(rps, cpu, idle float64) *report.Measure {
		return &report.Measure{RequestsPerS: rps, CPUPer1k: cpu, RSSIdleMB: idle, P99Ms: 100}
	}
	res := &report.Results{Scenarios: []report.Scenario{
		{ID: "hello-1x8", Title: "hello", Entries: []report.Entry{
			{Server: "carafe", Median: m(90, 0.01, 20)}, {Server: "uwsgi", Median: m(50, 0.02, 10)},
			{Server: "granian", Median: m(80, 0.02, 30)}, {Server: "ceiling", Median: m(100, 0.005, 4)},
		}},
		{ID: "sleep-50ms", Title: "sleep", Processes: 1, Threads: 64, Connections: 256, Entries: []report.Entry{
			{Server: "carafe", Median: m(1250, 0, 0)},
		}},
		{ID: "static-100k", Title: "static", Entries: []report.Entry{{Server: "carafe", Unsupported: "404"}}},
	}}
	got := map[string]string{}
	for _, tg := range targets(res) {
		got[tg.Name+" | "+tg.Goal] = tg.Verdict
	}
	for key, want := range map[string]string{
		"hello: req/s | carafe ≥ 0.8× the raw ceiling":                                           "met",
		"hello: req/s | carafe ≥ 1.3× the best peer":                                             "missed", // 90/80
		"hello: CPU per request | carafe ≤ 0.7 × uWSGI's":                                        "met",
		"50 ms handler: req/s | ≥ 95% of 1×64 / 0.05 s = 1216":                                   "met",
		"50 ms handler: p99 | ≤ 1.2 × 50 ms + 150 ms queueing (256 conns / 64 threads) = 210 ms": "met",
		"idle worker RSS | carafe ≤ an idle uWSGI worker + 15 MiB":                               "met",
		"10,000 idle keep-alive connections, one worker | all held; added memory reported":       "n/a",
	} {
		if got[key] != want {
			t.Errorf("%s: verdict %q, want %q (all: %v)", key, got[key], want, got)
		}
	}
}

func TestStealFromProcStat(t *testing.T) {
	a, ok := parseCPUTimes("cpu  427919 0 365423 710001 2580 0 90717 42290 0 0")
	if !ok || a.steal != 42290 || a.total != 427919+365423+710001+2580+90717+42290 {
		t.Fatalf("parsed %+v, %v", a, ok)
	}
	b, _ := parseCPUTimes("cpu  428919 0 366423 710001 2580 0 90717 42790 0 0")
	if got := stealPct(a, b); got != 20 { // 500 of 2,500 ticks
		t.Errorf("steal %.2f%%, want 20%%", got)
	}
	if got := stealPct(b, a); got != 0 {
		t.Errorf("steal going backwards gives %.2f%%, want 0", got)
	}
	for _, bad := range []string{"", "cpu0 1 2 3 4 5 6 7 8", "cpu 1 2 3", "cpu 1 2 3 4 5 6 7 x"} {
		if _, ok := parseCPUTimes(bad); ok {
			t.Errorf("parsed %q", bad)
		}
	}
}

func TestParseFigures(t *testing.T) {
	got, err := parseFigures("51.20\n49.75\n")
	if err != nil || len(got) != 2 || got[0] != 51.2 || got[1] != 49.75 {
		t.Errorf("parseFigures = %v, %v", got, err)
	}
	for _, bad := range []string{"", "\n", "Internal Server Error", "51.2\nnan\n", "0.00\n", "-3\n", "+Inf\n"} {
		if got, err := parseFigures(bad); err == nil {
			t.Errorf("parseFigures(%q) = %v, want an error", bad, got)
		}
	}
}

// The probe app gives its figures from the command line, in the project's
// venv (make test builds it, with Flask): one positive number an ask.
func TestPyspeedProbe(t *testing.T) {
	python := "../../../.venv/bin/python"
	if _, err := os.Stat(python); err != nil {
		t.Skip("no .venv (make venv builds it)")
	}
	out, err := exec.Command(python, "../../apps/pyspeed/wsgi.py", "2").Output()
	if err != nil {
		t.Fatalf("the probe failed: %v", err)
	}
	checkTwoFigures(t, "the probe", string(out))
}

// checkTwoFigures checks a probe's answer to an ask for two figures: two
// positive numbers, each the time of one Flask call.
func checkTwoFigures(t *testing.T, probe, text string) {
	t.Helper()
	figures, err := parseFigures(text)
	if err != nil || len(figures) != 2 {
		t.Fatalf("%s printed %q: %v, %v", probe, text, figures, err)
	}
	if figures[0] > 1e5 {
		t.Errorf("%g µs for one Flask call: %s is not timing one call", figures[0], probe)
	}
}

// bench/pyfloor builds with carafe's link flags and gives the probe's
// figures like python3 does; a probe it cannot run is an exit status, not
// figures.
func TestPyfloorProbe(t *testing.T) {
	python, err := filepath.Abs("../../../.venv/bin/python")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(python); err != nil {
		t.Skip("no .venv (make venv builds it)")
	}
	if _, err := exec.LookPath("cc"); err != nil {
		t.Skip("no C compiler")
	}
	ctx := context.Background()
	bin := filepath.Join(t.TempDir(), "bench-pyfloor")
	if err := buildFloor(ctx, "../../..", python, bin); err != nil {
		t.Fatalf("building bench/pyfloor: %v", err)
	}
	text, err := output(ctx, bin, python, "../../apps/pyspeed/wsgi.py", "2")
	if err != nil {
		t.Fatalf("the floor probe failed: %v", err)
	}
	checkTwoFigures(t, "the floor probe", text)
	if text, err := output(ctx, bin, python, filepath.Join(t.TempDir(), "missing.py"), "1"); err == nil {
		t.Errorf("the floor probe ran a missing script and printed %q", text)
	}
}

// A reference row gathers its figures over every turn it is asked, and
// one that fails keeps the failure and is not run again.
func TestReferencesGatherEveryTurn(t *testing.T) {
	calls := filepath.Join(t.TempDir(), "calls")
	good := &reference{name: "good", argv: []string{"sh", "-c", `echo x >> "$1"; i=0; while [ $i -lt "$2" ]; do echo $((10 + $(wc -l < "$1"))); i=$((i+1)); done`, "sh", calls}}
	bad := &reference{name: "bad", argv: []string{"sh", "-c", `echo x >> "$1.bad"; exit 3`, "sh", calls}}
	// A warning on stderr is no figure; a reference that fails on its
	// second turn keeps the figures of its first.
	warns := &reference{name: "warns", argv: []string{"sh", "-c", `echo "DeprecationWarning: x" >&2; echo 7; echo 9`, "sh"}}
	late := &reference{name: "late", argv: []string{"sh", "-c", `echo x >> "$1.late"; [ $(wc -l < "$1.late") -lt 2 ] || exit 3; echo 5; echo 6`, "sh", calls}}
	refs := []*reference{good, bad, warns, late}
	for range 3 {
		askReferences(context.Background(), refs, 2)
	}
	if want := []float64{11, 11, 12, 12, 13, 13}; !slices.Equal(good.figures, want) {
		t.Errorf("figures %v, want %v (two a turn, from each of three turns)", good.figures, want)
	}
	if s := good.result(); s.Error != "" || s.MicrosPerCall != 12 {
		t.Errorf("row %+v, want the median of all six figures, 12", s)
	}
	if s := bad.result(); s.Error == "" || s.MicrosPerCall != 0 {
		t.Errorf("a failing reference gave the row %+v", s)
	}
	if b, _ := os.ReadFile(calls + ".bad"); len(b) != 2 {
		t.Errorf("the failing reference ran %d times, want once", len(b)/2)
	}
	if s := warns.result(); s.Error != "" || s.MicrosPerCall != 8 {
		t.Errorf("a reference warning on stderr gave the row %+v, want the median of its figures, 8", s)
	}
	if s := late.result(); s.Error != "" || s.MicrosPerCall != 5.5 || !strings.HasPrefix(s.Note, "of 2 figures; a later turn failed: ") {
		t.Errorf("a reference failing on its second turn gave the row %+v, want the median of its first turn's figures, 5.5, and a note of the failure", s)
	}
	if b, _ := os.ReadFile(calls + ".late"); len(b) != 4 {
		t.Errorf("the reference failing late ran %d times, want twice", len(b)/2)
	}
}
