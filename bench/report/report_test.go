package report

import (
	"bytes"
	"encoding/xml"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func sample() *Results {
	m := func(rps float64) *Measure {
		return &Measure{RequestsPerS: rps, Requests: 1, P50Ms: 1, P99Ms: 2, Non2xx3xx: 1, SocketErrors: 2, StealPct: 4.25}
	}
	return &Results{
		Rounds: 1, Quick: true, Servers: []string{"carafe", "uwsgi", "waitress", "ceiling"},
		Scenarios: []Scenario{
			{ID: "hello-2x8", Title: "hello world", Processes: 2, Threads: 8, Connections: 64, Entries: []Entry{
				{Server: "carafe", Median: m(81234.7), Runs: []Measure{*m(79000), *m(81234.7), {RequestsPerS: 90000.4}}},
				{Server: "uwsgi", Median: m(52000)},
				{Server: "waitress", Skipped: "single process only"}, {Server: "ceiling", Median: m(118000)},
			}},
			{ID: "nginx", Title: "nginx → uwsgi <socket>", Entries: []Entry{
				{Server: "carafe", Unsupported: "nginx answered 502"}, {Server: "uwsgi", Median: m(9.5)},
				{Server: "ceiling", Median: &Measure{}},
			}},
		},
		AppSpeed: []AppSpeed{{Server: "python3", MicrosPerCall: 48}, {Server: "carafe", MicrosPerCall: 52.08},
			{Server: "uwsgi", Error: "status 500"}},
	}
}

func TestMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := sample().Markdown(&b, "benchmarks.svg"); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"| hello world | 81235 | 52000 | n/a | 118000 |",
		"| nginx → uwsgi <socket> | not supported yet | 9.50 |  | 0 (stalled) |",
		"| carafe | not supported yet |",
		"carafe, not supported yet: nginx answered 502",
		"| waitress | n/a: single process only |",
		"| carafe | 81235 | 79000 · 81235 · 0 (stalled) | 1.00 | 2.00 | 3 |",
		"| uwsgi | 52000 |  | 1.00 |",
		"| RSS load MiB | steal % |",
		"| 0.0 | 0.0 | 4.2 |",
		"Quick mode",
		"| python3 | 48.0 | 1.00 |",
		"| carafe | 52.1 | 1.08 |",
		"| uwsgi | failed: status 500 | |",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("markdown lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "%!") {
		t.Errorf("markdown has a formatting error:\n%s", out)
	}
}

// Without python3's own figure the app speed table shows no ratios.
func TestMarkdownAppSpeedWithoutBase(t *testing.T) {
	r := sample()
	r.AppSpeed = []AppSpeed{{Server: "python3", Error: "exit status 1"}, {Server: "carafe", MicrosPerCall: 52}}
	var b bytes.Buffer
	if err := r.Markdown(&b, "benchmarks.svg"); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"| python3 | failed: exit status 1 | |", "| carafe | 52.0 | |"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("markdown lacks %q", want)
		}
	}
}

// The chart is well-formed XML, labels unmeasured servers instead of
// drawing a bar, and escapes titles.
func TestSVG(t *testing.T) {
	var b bytes.Buffer
	if err := sample().SVG(&b); err != nil {
		t.Fatal(err)
	}
	d := xml.NewDecoder(bytes.NewReader(b.Bytes()))
	for {
		_, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("SVG is not well-formed: %v\n%s", err, b.String())
		}
	}
	for _, want := range []string{">n/s<", ">n/a<", ">81.2k<", ">9.50<", ">stalled<", "&lt;socket&gt;"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("SVG lacks %q", want)
		}
	}
}

func TestMedian(t *testing.T) {
	got := Median([]Measure{{RequestsPerS: 3, P99Ms: 9}, {RequestsPerS: 1, P99Ms: 1}, {RequestsPerS: 2, P99Ms: 5}})
	if got.RequestsPerS != 2 || got.P99Ms != 5 {
		t.Errorf("Median = %+v, want 2 req/s and 5 ms", got)
	}
	for _, tt := range []struct {
		in   []float64
		want float64
	}{{nil, 0}, {[]float64{7}, 7}, {[]float64{4, 1, 3, 2}, 2.5}, {[]float64{9, 1, 5}, 5}} {
		if got := MedianOf(tt.in); got != tt.want {
			t.Errorf("MedianOf(%v) = %g, want %g", tt.in, got, tt.want)
		}
	}
}

// -render reads back what a run wrote: every figure survives the trip.
func TestJSONRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "benchmarks.json")
	want := sample()
	if err := want.WriteJSON(path); err != nil {
		t.Fatal(err)
	}
	got, err := ReadJSON(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("read back %+v\nwant %+v", got, want)
	}
	if _, err := ReadJSON(filepath.Join(t.TempDir(), "missing.json")); err == nil {
		t.Error("a missing file read without error")
	}
}

// The page says which build ran the app faster from the figures it shows,
// never from what the builds were expected to do.
func TestMarkdownAppSpeedVerdict(t *testing.T) {
	for _, c := range []struct {
		floor float64
		want  string
	}{
		{141.8 * 0.73, "the library build was nonetheless the faster: the C embedding took 0.73× python3's time"},
		{141.8 * 1.12, "the library build was the slower: the C embedding took 1.12× python3's time"},
		{141.8 * 1.02, "within the noise of each other: the C embedding took 1.02× python3's time"},
		{141.8 * 1.0504, "within the noise of each other: the C embedding took 1.05× python3's time"}, // words as the figure shown
	} {
		r := sample()
		r.AppSpeed = []AppSpeed{{Server: "python3", MicrosPerCall: 141.8}, {Server: FloorName, MicrosPerCall: c.floor}}
		var b bytes.Buffer
		if err := r.Markdown(&b, "benchmarks.svg"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(b.String(), c.want) {
			t.Errorf("floor %.1f: the page lacks %q", c.floor, c.want)
		}
	}
	r := sample() // no floor row: no verdict
	var b bytes.Buffer
	if err := r.Markdown(&b, "benchmarks.svg"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(b.String(), "In this run the") {
		t.Errorf("a verdict without a C embedding figure")
	}
	// A figure with a note shows it beside the figure.
	r.AppSpeed = []AppSpeed{{Server: "python3", MicrosPerCall: 65.2, Note: "of 2 figures; a later turn failed: exit status 3"}}
	b.Reset()
	if err := r.Markdown(&b, "benchmarks.svg"); err != nil {
		t.Fatal(err)
	}
	if want := "| python3 | 65.2 (of 2 figures; a later turn failed: exit status 3) | 1.00 |"; !strings.Contains(b.String(), want) {
		t.Errorf("the page lacks the noted row %q", want)
	}
}
