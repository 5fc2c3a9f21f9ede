// Package report holds the benchmark's results, as written to
// docs/benchmarks.json, and renders them as the markdown page and the SVG
// chart under docs/.
package report

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"time"
)

// Results is one whole benchmark: everything the page shows comes from it.
type Results struct {
	Started       time.Time  `json:"started"`
	Elapsed       string     `json:"elapsed"`
	Quick         bool       `json:"quick"`
	Rounds        int        `json:"rounds"`
	RunSeconds    float64    `json:"run_seconds"`
	WarmupSeconds float64    `json:"warmup_seconds"`
	Machine       Machine    `json:"machine"`
	Versions      []Version  `json:"versions"`
	Commands      []Command  `json:"commands"`
	Scenarios     []Scenario `json:"scenarios"`
	Targets       []Target   `json:"targets"`
	IdleConns     *IdleConns `json:"idle_conns,omitempty"`
	AppSpeed      []AppSpeed `json:"app_speed,omitempty"`
	Notes         []string   `json:"notes"`
	Servers       []string   `json:"servers"` // in the order tables and the chart use
}

// Machine is where the benchmark ran.
type Machine struct {
	CPU      string  `json:"cpu"`
	Cores    int     `json:"cores"`
	MemoryGB float64 `json:"memory_gb"`
	Kernel   string  `json:"kernel"`
	// LoadStart and LoadEnd are /proc/loadavg's 1, 5 and 15 minute load at the start
	// and at the end: other work on the machine skews every figure.
	LoadStart string `json:"loadavg_start"`
	LoadEnd   string `json:"loadavg_end"`
}

// Version is one component's version, as the component itself reports it.
type Version struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Command is how one server is started, with placeholders for what
// changes per run.
type Command struct {
	Server  string `json:"server"`
	Command string `json:"command"`
}

// Scenario is one scenario at one processes × threads setting, with every
// server's figures.
type Scenario struct {
	ID          string  `json:"id"`
	Title       string  `json:"title"`
	Request     string  `json:"request"` // e.g. "GET /", "POST / (1 MiB body)"
	Processes   int     `json:"processes"`
	Threads     int     `json:"threads"`
	Connections int     `json:"connections"`
	Wrk         string  `json:"wrk"`
	Note        string  `json:"note,omitempty"`
	Entries     []Entry `json:"entries"`
}

// Entry returns the entry of server, or nil.
func (s *Scenario) Entry(server string) *Entry {
	i := slices.IndexFunc(s.Entries, func(e Entry) bool { return e.Server == server })
	if i < 0 {
		return nil
	}
	return &s.Entries[i]
}

// Entry is one server in one scenario: its runs and their medians, or why
// there are none.
type Entry struct {
	Server string `json:"server"`
	// Unsupported says why the server could not be measured here (it did
	// not answer the check request right, or could not serve the
	// scenario's listener); Skipped says why it does not take part.
	Unsupported string    `json:"unsupported,omitempty"`
	Skipped     string    `json:"skipped,omitempty"`
	Command     string    `json:"command,omitempty"` // the last run's exact command
	Runs        []Measure `json:"runs,omitempty"`
	Median      *Measure  `json:"median,omitempty"`
}

// Measure is one measured run, or the medians of several (each figure's
// median on its own).
type Measure struct {
	RequestsPerS float64 `json:"requests_per_s"`
	Requests     int64   `json:"requests"`
	P50Ms        float64 `json:"p50_ms"`
	P99Ms        float64 `json:"p99_ms"`
	SocketErrors int64   `json:"socket_errors"`
	Non2xx3xx    int64   `json:"non_2xx_3xx"`
	// CPUPer1k is the server's CPU seconds (user + system, whole process
	// tree) per 1,000 requests during the measured run.
	CPUPer1k float64 `json:"cpu_s_per_1k"`
	// SwitchesPerReq is the context switches of the server's threads
	// (voluntary and not, whole process tree) per request during the
	// measured run: each is a thread put to sleep or preempted.
	SwitchesPerReq float64 `json:"switches_per_req"`
	// RSS of the largest worker, in MiB: before the load (after one check
	// request), and the highest sample during the measured run.
	RSSIdleMB float64 `json:"rss_idle_mib"`
	RSSLoadMB float64 `json:"rss_load_mib"`
	Workers   int     `json:"workers"`
	// StealPct is the share of the machine's CPU time that its host gave
	// to other guests during the run (/proc/stat's steal): on a shared
	// virtual machine, runs with high steal are slower for every server.
	StealPct float64 `json:"steal_pct"`
	// Wrk is wrk's report of the measured run, as printed (runs only).
	Wrk string `json:"wrk_output,omitempty"`
}

// Errors is socket errors plus non-2xx/3xx responses.
func (m Measure) Errors() int64 { return m.SocketErrors + m.Non2xx3xx }

// Target is one of issue 4's targets, judged on these results.
type Target struct {
	Name     string `json:"name"`
	Goal     string `json:"goal"`
	Measured string `json:"measured"`
	// Verdict is "met", "missed", or "n/a" when the figures needed are
	// missing (a scenario not supported yet).
	Verdict string `json:"verdict"`
}

// IdleConns is the memory one carafe worker adds for holding many idle
// keep-alive connections.
type IdleConns struct {
	Server      string  `json:"server"`
	Connections int     `json:"connections"`
	Held        int     `json:"held"` // connections that answered and were still open at the end
	RSSBeforeMB float64 `json:"rss_before_mib"`
	RSSAfterMB  float64 `json:"rss_after_mib"`
	Error       string  `json:"error,omitempty"`
}

// AppSpeed is how fast the interpreter one server runs in executes the
// same app code, timed inside it (bench/apps/pyspeed); Server "python3" is
// the python3 executable itself.
type AppSpeed struct {
	Server        string  `json:"server"`
	MicrosPerCall float64 `json:"us_per_call"` // CPU µs per call of the Flask JSON app: the median of the figures asked for
	Error         string  `json:"error,omitempty"`
	// Note qualifies the figure: a reference that failed at a later turn
	// keeps the figures it gave before.
	Note string `json:"note,omitempty"`
}

// WriteJSON writes r to path, indented.
func (r *Results) WriteJSON(path string) error {
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(b, '\n'), 0o644)
}

// ReadJSON reads results written by WriteJSON.
func ReadJSON(path string) (*Results, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r Results
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &r, nil
}

// MedianOf is the median of v (0 for none); v is sorted in place.
func MedianOf(v []float64) float64 {
	slices.Sort(v)
	if len(v) == 0 {
		return 0
	}
	if len(v)%2 == 1 {
		return v[len(v)/2]
	}
	return (v[len(v)/2-1] + v[len(v)/2]) / 2
}

// Median is the median of each figure of runs, taken on its own.
func Median(runs []Measure) Measure {
	pick := func(f func(Measure) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return MedianOf(v)
	}
	return Measure{
		RequestsPerS:   pick(func(m Measure) float64 { return m.RequestsPerS }),
		Requests:       int64(pick(func(m Measure) float64 { return float64(m.Requests) })),
		P50Ms:          pick(func(m Measure) float64 { return m.P50Ms }),
		P99Ms:          pick(func(m Measure) float64 { return m.P99Ms }),
		SocketErrors:   int64(pick(func(m Measure) float64 { return float64(m.SocketErrors) })),
		Non2xx3xx:      int64(pick(func(m Measure) float64 { return float64(m.Non2xx3xx) })),
		CPUPer1k:       pick(func(m Measure) float64 { return m.CPUPer1k }),
		SwitchesPerReq: pick(func(m Measure) float64 { return m.SwitchesPerReq }),
		RSSIdleMB:      pick(func(m Measure) float64 { return m.RSSIdleMB }),
		RSSLoadMB:      pick(func(m Measure) float64 { return m.RSSLoadMB }),
		Workers:        int(pick(func(m Measure) float64 { return float64(m.Workers) })),
		StealPct:       pick(func(m Measure) float64 { return m.StealPct }),
	}
}
