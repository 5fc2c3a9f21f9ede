package main

import (
	"fmt"
	"strings"

	"carafe/bench/report"
)

var peers = []string{"uwsgi", "gunicorn", "granian", "waitress"}

// targets judges issue 4's targets on the results. A target whose figures
// are missing (scenario not run, or not supported yet) is "n/a".
func targets(res *report.Results) []report.Target {
	var ts []report.Target
	for _, id := range []string{"hello-1x8", "hello-2x8"} {
		sc := scenarioByID(res, id)
		ts = append(ts,
			ratioTarget(sc, "ceiling", 0.8, "× the raw ceiling"),
			ratioTarget(sc, "", 1.3, "× the best peer"),
			cpuTarget(sc))
	}
	for _, id := range []string{"flask-1x8", "flask-2x8", "django-1x8", "django-2x8", "echo-1m", "download-10m"} {
		if sc := scenarioByID(res, id); sc != nil {
			want := 1.1
			if strings.HasPrefix(id, "echo") || strings.HasPrefix(id, "download") {
				want = 1.0
			}
			ts = append(ts, ratioTarget(sc, "", want, "× the best peer"))
		}
	}
	for _, id := range []string{"echo-1m", "download-10m"} {
		if sc := scenarioByID(res, id); sc != nil {
			ts = append(ts, growth(sc))
		}
	}
	ts = append(ts, sleepTargets(scenarioByID(res, "sleep-50ms"))...)
	ts = append(ts, idleRSSTarget(scenarioByID(res, "hello-1x8")), idleConnsTarget(res.IdleConns))
	return ts
}

func scenarioByID(res *report.Results, id string) *report.Scenario {
	for i := range res.Scenarios {
		if res.Scenarios[i].ID == id {
			return &res.Scenarios[i]
		}
	}
	return nil
}

func median(sc *report.Scenario, server string) *report.Measure {
	if sc == nil {
		return nil
	}
	if e := sc.Entry(server); e != nil {
		return e.Median
	}
	return nil
}

// bestPeer is the peer with the most requests per second in sc.
func bestPeer(sc *report.Scenario) (string, *report.Measure) {
	var name string
	var best *report.Measure
	for _, p := range peers {
		if m := median(sc, p); m != nil && (best == nil || m.RequestsPerS > best.RequestsPerS) {
			name, best = p, m
		}
	}
	return name, best
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "missed"
}

// ratioTarget: carafe's req/s ≥ want × other's (the best peer's when other
// is "").
func ratioTarget(sc *report.Scenario, other string, want float64, what string) report.Target {
	t := report.Target{Goal: fmt.Sprintf("carafe ≥ %.1f%s", want, what), Verdict: "n/a"}
	if sc == nil {
		t.Name = "(scenario not run)"
		return t
	}
	t.Name = sc.Title + ": req/s"
	c := median(sc, "carafe")
	o := median(sc, other)
	if other == "" {
		other, o = bestPeer(sc)
	}
	if c == nil || o == nil || o.RequestsPerS == 0 {
		t.Measured = "figures missing"
		return t
	}
	r := c.RequestsPerS / o.RequestsPerS
	t.Measured = fmt.Sprintf("%.2f× (carafe %.0f, %s %.0f)", r, c.RequestsPerS, other, o.RequestsPerS)
	t.Verdict = verdict(r >= want)
	return t
}

func cpuTarget(sc *report.Scenario) report.Target {
	t := report.Target{Goal: "carafe ≤ 0.7 × uWSGI's", Verdict: "n/a", Measured: "figures missing"}
	if sc == nil {
		return t
	}
	t.Name = sc.Title + ": CPU per request"
	c, u := median(sc, "carafe"), median(sc, "uwsgi")
	if c == nil || u == nil || u.CPUPer1k == 0 {
		return t
	}
	r := c.CPUPer1k / u.CPUPer1k
	t.Measured = fmt.Sprintf("%.2f× (carafe %.3f, uWSGI %.3f CPU s / 1k req)", r, c.CPUPer1k, u.CPUPer1k)
	t.Verdict = verdict(r <= 0.7)
	return t
}

// growth reports how much worker RSS grows under load, carafe beside the
// peers. It is not judged automatically: the app's own copies of the
// bodies (one per busy thread) count too, and only the comparison says
// whether the server adds to them.
func growth(sc *report.Scenario) report.Target {
	t := report.Target{Name: sc.Title + ": worker RSS growth under load", Goal: "does not grow with body size",
		Verdict: "judge by the figures"}
	var parts []string
	for _, s := range append([]string{"carafe"}, peers...) {
		if m := median(sc, s); m != nil {
			parts = append(parts, fmt.Sprintf("%s %+.1f MiB", s, m.RSSLoadMB-m.RSSIdleMB))
		}
	}
	t.Measured = strings.Join(parts, ", ")
	return t
}

func sleepTargets(sc *report.Scenario) []report.Target {
	tput := report.Target{Name: "50 ms handler: req/s", Verdict: "n/a", Measured: "figures missing"}
	lat := report.Target{Name: "50 ms handler: p99", Verdict: "n/a", Measured: "figures missing"}
	if sc == nil {
		return []report.Target{tput, lat}
	}
	slots := float64(sc.Processes * sc.Threads)
	ideal := slots / 0.05
	queue := max(float64(sc.Connections)/slots, 1) // handler times a request waits in all
	bound := 1.2*50 + (queue-1)*50
	tput.Goal = fmt.Sprintf("≥ 95%% of %d×%d / 0.05 s = %.0f", sc.Processes, sc.Threads, 0.95*ideal)
	lat.Goal = fmt.Sprintf("≤ 1.2 × 50 ms + %.0f ms queueing (%d conns / %.0f threads) = %.0f ms", (queue-1)*50, sc.Connections, slots, bound)
	c := median(sc, "carafe")
	if c == nil {
		return []report.Target{tput, lat}
	}
	tput.Measured = fmt.Sprintf("%.0f (%.1f%% of ideal)", c.RequestsPerS, 100*c.RequestsPerS/ideal)
	tput.Verdict = verdict(c.RequestsPerS >= 0.95*ideal)
	lat.Measured = fmt.Sprintf("%.1f ms", c.P99Ms)
	lat.Verdict = verdict(c.P99Ms <= bound)
	return []report.Target{tput, lat}
}

func idleRSSTarget(sc *report.Scenario) report.Target {
	t := report.Target{Name: "idle worker RSS", Goal: "carafe ≤ an idle uWSGI worker + 15 MiB", Verdict: "n/a", Measured: "figures missing"}
	c, u := median(sc, "carafe"), median(sc, "uwsgi")
	if c == nil || u == nil {
		return t
	}
	t.Measured = fmt.Sprintf("carafe %.1f MiB, uWSGI %.1f MiB (hello world, after one request)", c.RSSIdleMB, u.RSSIdleMB)
	t.Verdict = verdict(c.RSSIdleMB <= u.RSSIdleMB+15)
	return t
}

func idleConnsTarget(ic *report.IdleConns) report.Target {
	t := report.Target{Name: "10,000 idle keep-alive connections, one worker", Goal: "all held; added memory reported",
		Verdict: "n/a", Measured: "not run"}
	if ic == nil {
		return t
	}
	if ic.Error != "" {
		t.Measured, t.Verdict = ic.Error, "missed"
		return t
	}
	t.Measured = fmt.Sprintf("%d of %d held; +%.1f MiB", ic.Held, ic.Connections, ic.RSSAfterMB-ic.RSSBeforeMB)
	t.Verdict = verdict(ic.Held == ic.Connections)
	return t
}
