package master

import (
	"slices"
	"strings"
	"testing"
)

// run feeds decide one second's loads at a time and returns what it
// decided each second, the number of workers following its decisions.
func (c *Cheaper) run(t *testing.T, want, most int, seconds [][]float64) []int {
	t.Helper()
	var st cheaperState
	var out []int
	for _, loads := range seconds {
		n, why := c.decide(&st, loads[:min(len(loads), want)], want, most)
		if n != 0 && why == "" {
			t.Errorf("decided %d without a reason", n)
		}
		out = append(out, n)
		if n > 0 {
			want += n
		} else if n < 0 {
			want--
		}
	}
	return out
}

func repeat(n int, loads ...float64) [][]float64 {
	var out [][]float64
	for range n {
		out = append(out, loads)
	}
	return out
}

func TestCheaperSpare(t *testing.T) {
	c := &Cheaper{Min: 1, Step: 2, Overload: 3, Algo: "spare"}
	// Every worker busy for 3 s: Step more, then 3 s again before more.
	got := c.run(t, 1, 4, repeat(7, 1, 1, 1, 1))
	if want := []int{0, 0, 2, 0, 0, 1, 0}; !slices.Equal(got, want) {
		t.Errorf("busy: %v, want %v (capped at 4 workers)", got, want)
	}
	// One worker idle resets the count: no worker added.
	got = c.run(t, 2, 4, [][]float64{{1, 1}, {1, 0.95}, {1, 0.5}, {1, 1}, {1, 1}})
	if want := []int{0, 0, 0, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("busy with a pause: %v, want %v", got, want)
	}
	// Three workers whose load fits in two at 75%: one fewer after 3 s,
	// and then another only if it fits in one.
	got = c.run(t, 3, 4, repeat(8, 0.4, 0.4, 0.4))
	if want := []int{0, 0, -1, 0, 0, 0, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("light load: %v, want %v (1.2 workers' worth fits in 2, not in 1)", got, want)
	}
	// Idle: down to Min, never below.
	got = c.run(t, 3, 4, repeat(10, 0, 0, 0))
	if want := []int{0, 0, -1, 0, 0, -1, 0, 0, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("idle: %v, want %v", got, want)
	}
}

func TestCheaperSpare2(t *testing.T) {
	c := &Cheaper{Min: 2, Step: 3, Idle: 4, Algo: "spare2"}
	// 2 workers at 90% leave 0.2 idle: 1.8 short of 2, so 2 more at once.
	got := c.run(t, 2, 8, [][]float64{{0.9, 0.9}, {0.9, 0.9, 0, 0}})
	if want := []int{2, 0}; !slices.Equal(got, want) {
		t.Errorf("short of idle: %v, want %v", got, want)
	}
	// Step caps it.
	one := *c
	one.Step = 1
	got = one.run(t, 4, 8, [][]float64{{1, 1, 1, 1}})
	if want := []int{1}; !slices.Equal(got, want) {
		t.Errorf("all busy, step 1: %v, want %v", got, want)
	}
	// 3.5 idle, one more than 2 and some: one fewer after Idle seconds.
	got = c.run(t, 4, 8, repeat(5, 0.5, 0, 0, 0))
	if want := []int{0, 0, 0, -1, 0}; !slices.Equal(got, want) {
		t.Errorf("idle: %v, want %v", got, want)
	}
}

func TestCheaperBusyness(t *testing.T) {
	c := &Cheaper{Min: 1, Step: 1, Overload: 2, Algo: "busyness", BusyMin: 0.25, BusyMax: 0.5, BusyMult: 3}
	// Averaged over 2 s: 0.8 and 0.4 is 60%, above 50%.
	got := c.run(t, 2, 4, [][]float64{{0.8, 0.8}, {0.4, 0.4}})
	if want := []int{0, 1}; !slices.Equal(got, want) {
		t.Errorf("busy: %v, want %v", got, want)
	}
	// 10% for 3 periods of 2 s: one fewer.
	got = c.run(t, 2, 4, repeat(8, 0.1, 0.1))
	if want := []int{0, 0, 0, 0, 0, -1, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("idle: %v, want %v", got, want)
	}
	// Between the bounds: nothing.
	got = c.run(t, 2, 4, repeat(8, 0.4, 0.3))
	if want := []int{0, 0, 0, 0, 0, 0, 0, 0}; !slices.Equal(got, want) {
		t.Errorf("steady: %v, want %v", got, want)
	}
}

func TestCheaperReasons(t *testing.T) {
	c := &Cheaper{Min: 1, Step: 1, Overload: 1, Algo: "spare"}
	var st cheaperState
	if n, why := c.decide(&st, []float64{1}, 1, 2); n != 1 || !strings.Contains(why, "every worker busy for 1 s") {
		t.Errorf("%d %q", n, why)
	}
}

// spare2's reason keeps the idle share's second decimal: 0.96 idle,
// rounded to one, read "1.0 workers' worth idle, under 1".
func TestCheaperSpare2ReasonRounding(t *testing.T) {
	c := &Cheaper{Min: 1, Step: 1, Idle: 4, Algo: "spare2"}
	var st cheaperState
	if n, why := c.decide(&st, []float64{0.52, 0.52}, 2, 4); n != 1 || why != "0.96 workers' worth idle, under 1" {
		t.Errorf("%d %q", n, why)
	}
}

// A reload's change of cheaper's settings is said by the options' names
// and values, as the config writes them.
func TestCheaperChanges(t *testing.T) {
	was := Cheaper{Min: 1, Step: 1, Overload: 3, Algo: "spare", Idle: 10, BusyMin: 0.25, BusyMax: 0.5, BusyMult: 10}
	now := was
	now.Min, now.Algo, now.BusyMax = 2, "busyness", 0.75
	want := "cheaper 2 (was 1), cheaper-algo busyness (was spare), cheaper-busyness-max 75 (was 50)"
	if got := now.changes(was); got != want {
		t.Errorf("changes: %q, want %q", got, want)
	}
	if got := was.changes(was); got != "" {
		t.Errorf("no change said as %q", got)
	}
}
