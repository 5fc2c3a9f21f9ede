package wrk

import (
	"os"
	"reflect"
	"testing"
	"time"
)

// The testdata files are real wrk 4.1.0 reports: a clean run against the
// ceiling server, a run against a server that answers 404 and drops every
// seventh connection, and a run whose requests outlive --timeout.
func TestParse(t *testing.T) {
	tests := []struct {
		file string
		want Result
	}{
		{"ceiling.txt", Result{
			Requests: 131011, Duration: 1100 * time.Millisecond, RequestsPerS: 119119.54,
			P50: 105 * time.Microsecond, P75: 172 * time.Microsecond, P90: 599 * time.Microsecond,
			P99: 15310 * time.Microsecond, TransferPerS: "8.75MB",
		}},
		{"errors.txt", Result{
			Requests: 23907, Duration: 1100 * time.Millisecond, RequestsPerS: 21742.57,
			P50: 215 * time.Microsecond, P75: 609 * time.Microsecond, P90: 1080 * time.Microsecond,
			P99: 2180 * time.Microsecond, Read: 3984, Non2xx3xx: 23907, TransferPerS: "0.97MB",
		}},
		{"timeouts.txt", Result{
			Requests: 9, Duration: 3010 * time.Millisecond, RequestsPerS: 2.99,
			P50: 900350 * time.Microsecond, P75: 900980 * time.Microsecond, P90: 900980 * time.Microsecond,
			P99: 900980 * time.Microsecond, Timeout: 6, TransferPerS: "119.78B",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			out, err := os.ReadFile("testdata/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Parse(string(out))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

func TestParseErrorsTotal(t *testing.T) {
	out, err := os.ReadFile("testdata/errors.txt")
	if err != nil {
		t.Fatal(err)
	}
	r, err := Parse(string(out))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := r.Errors(), int64(3984+23907); got != want {
		t.Errorf("Errors() = %d, want %d", got, want)
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ name, out string }{
		{"empty", ""},
		{"connection refused", "unable to connect to 127.0.0.1:1 Connection refused\n"},
		{"no rate", "  10 requests in 1.00s, 1.00KB read\n"},
		{"bad percentile", "  10 requests in 1.00s, 1KB read\n     50%  12.00xs\nRequests/sec: 10.00\n"},
		{"bad socket errors", "  10 requests in 1.00s, 1KB read\n  Socket errors: connect x\nRequests/sec: 10.00\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if r, err := Parse(tt.out); err == nil {
				t.Errorf("Parse = %+v, want an error", r)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	o := Options{URL: "http://127.0.0.1:1/", Threads: 2, Connections: 64, Duration: 3 * time.Second,
		Timeout: 10 * time.Second, Script: "post.lua"}
	want := []string{"wrk", "-t2", "-c64", "-d3s", "--timeout", "10s", "--latency", "-s", "post.lua", "http://127.0.0.1:1/"}
	if got := o.Args(); !reflect.DeepEqual(got, want) {
		t.Errorf("Args = %q, want %q", got, want)
	}
}
