// Package wrk runs the wrk load generator and reads its report: requests
// per second, the latency distribution (wrk --latency), and the two kinds
// of error wrk counts (socket errors, and responses that are not 2xx/3xx).
package wrk

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// Result is what one wrk run reports. Latencies are the percentiles of
// "Latency Distribution"; they are zero when wrk ran without --latency.
type Result struct {
	Requests     int64         `json:"requests"`
	Duration     time.Duration `json:"duration_ns"` // as wrk measured it ("in 10.10s")
	RequestsPerS float64       `json:"requests_per_s"`
	P50          time.Duration `json:"p50_ns"`
	P75          time.Duration `json:"p75_ns"`
	P90          time.Duration `json:"p90_ns"`
	P99          time.Duration `json:"p99_ns"`
	Connect      int64         `json:"socket_connect"`
	Read         int64         `json:"socket_read"`
	Write        int64         `json:"socket_write"`
	Timeout      int64         `json:"socket_timeout"`
	Non2xx3xx    int64         `json:"non_2xx_3xx"`
	TransferPerS string        `json:"transfer_per_s"` // as printed, e.g. "8.75MB"
}

// SocketErrors is the sum of wrk's socket error counters.
func (r Result) SocketErrors() int64 { return r.Connect + r.Read + r.Write + r.Timeout }

// Errors counts socket errors and responses that were not 2xx or 3xx.
func (r Result) Errors() int64 { return r.SocketErrors() + r.Non2xx3xx }

// Options is one wrk invocation. The zero Threads and Timeout mean wrk's
// defaults (2 threads, 2 s).
type Options struct {
	URL         string
	Threads     int
	Connections int
	Duration    time.Duration
	Timeout     time.Duration
	Script      string // a Lua file given with -s, or ""
}

// Args is the wrk command line for o, --latency included.
func (o Options) Args() []string {
	args := []string{"wrk"}
	if o.Threads > 0 {
		args = append(args, "-t"+strconv.Itoa(o.Threads))
	}
	args = append(args, "-c"+strconv.Itoa(o.Connections), "-d"+seconds(o.Duration))
	if o.Timeout > 0 {
		args = append(args, "--timeout", seconds(o.Timeout))
	}
	args = append(args, "--latency")
	if o.Script != "" {
		args = append(args, "-s", o.Script)
	}
	return append(args, o.URL)
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', -1, 64) + "s"
}

// Run runs wrk with o and parses its report. The error carries wrk's
// output when wrk fails or prints something Parse cannot read.
func Run(ctx context.Context, o Options) (Result, string, error) {
	args := o.Args()
	out, err := exec.CommandContext(ctx, args[0], args[1:]...).CombinedOutput()
	if err != nil {
		return Result{}, string(out), fmt.Errorf("wrk: %w; its output:\n%s", err, out)
	}
	r, err := Parse(string(out))
	if err != nil {
		return Result{}, string(out), fmt.Errorf("%w; wrk's output:\n%s", err, out)
	}
	return r, string(out), nil
}

// Parse reads the report wrk prints. It needs at least the "N requests in"
// and "Requests/sec:" lines; every other line is optional.
func Parse(out string) (Result, error) {
	var r Result
	var sawTotal, sawRate bool
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		f := strings.Fields(line)
		var err error
		switch {
		case len(f) == 2 && isPercent(f[0]):
			err = r.setPercentile(f[0], f[1])
		case len(f) >= 4 && f[1] == "requests" && f[2] == "in":
			sawTotal = true
			if r.Requests, err = strconv.ParseInt(f[0], 10, 64); err == nil {
				r.Duration, err = parseDuration(strings.TrimSuffix(f[3], ","))
			}
		case strings.HasPrefix(line, "Requests/sec:") && len(f) == 2:
			sawRate = true
			r.RequestsPerS, err = strconv.ParseFloat(f[1], 64)
		case strings.HasPrefix(line, "Transfer/sec:") && len(f) == 2:
			r.TransferPerS = f[1]
		case strings.HasPrefix(line, "Socket errors:"):
			err = r.setSocketErrors(strings.TrimPrefix(line, "Socket errors:"))
		case strings.HasPrefix(line, "Non-2xx or 3xx responses:") && len(f) == 5:
			r.Non2xx3xx, err = strconv.ParseInt(f[4], 10, 64)
		}
		if err != nil {
			return Result{}, fmt.Errorf("wrk: cannot read %q: %w", line, err)
		}
	}
	if !sawTotal || !sawRate {
		return Result{}, errors.New("wrk: no \"requests in\" and \"Requests/sec\" lines in the output")
	}
	return r, nil
}

func isPercent(s string) bool {
	switch s {
	case "50%", "75%", "90%", "99%":
		return true
	}
	return false
}

func (r *Result) setPercentile(p, v string) error {
	d, err := parseDuration(v)
	if err != nil {
		return err
	}
	switch p {
	case "50%":
		r.P50 = d
	case "75%":
		r.P75 = d
	case "90%":
		r.P90 = d
	case "99%":
		r.P99 = d
	}
	return nil
}

// setSocketErrors reads "connect 0, read 3984, write 0, timeout 0".
func (r *Result) setSocketErrors(s string) error {
	for _, part := range strings.Split(s, ",") {
		f := strings.Fields(part)
		if len(f) != 2 {
			return fmt.Errorf("bad socket error field %q", part)
		}
		n, err := strconv.ParseInt(f[1], 10, 64)
		if err != nil {
			return err
		}
		switch f[0] {
		case "connect":
			r.Connect = n
		case "read":
			r.Read = n
		case "write":
			r.Write = n
		case "timeout":
			r.Timeout = n
		default:
			return fmt.Errorf("unknown socket error kind %q", f[0])
		}
	}
	return nil
}

// parseDuration reads wrk's times: "105.00us", "15.31ms", "1.10s", "2.00m",
// "1.00h".
func parseDuration(s string) (time.Duration, error) {
	units := []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}, {"h", time.Hour}}
	for _, u := range units {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			v, err := strconv.ParseFloat(num, 64)
			if err != nil {
				return 0, err
			}
			return time.Duration(v * float64(u.unit)), nil
		}
	}
	return 0, fmt.Errorf("unknown time unit in %q", s)
}
