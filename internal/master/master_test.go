package master

import (
	"testing"
	"time"
)

func TestBackoff(t *testing.T) {
	want := []time.Duration{0, 0, 100 * time.Millisecond, 200 * time.Millisecond, 400 * time.Millisecond}
	for fails, w := range want {
		if got := backoff(fails); got != w {
			t.Errorf("backoff(%d) = %v, want %v", fails, got, w)
		}
	}
	if got := backoff(40); got != 10*time.Second {
		t.Errorf("backoff(40) = %v, want the 10s cap", got)
	}
}
