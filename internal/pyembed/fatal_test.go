package pyembed

import (
	"runtime"
	"strings"
	"testing"
)

var nilInt *int

// With the bridge's fatal-signal handler in front of Go's, a nil pointer
// in Go code is still Go's panic, which a recover takes: outside the
// app's code the handler passes the fault on to Go's handler, context and
// all. (Were it lost, this test's process would die.)
func TestFatalHandlerLeavesGoPanics(t *testing.T) {
	fatalInstall()
	for _, locked := range []bool{false, true} {
		done := make(chan any)
		go func() {
			if locked { // as a Python thread's goroutine is
				runtime.LockOSThread()
				defer runtime.UnlockOSThread()
			}
			defer func() { done <- recover() }()
			_ = *nilInt
		}()
		if r := <-done; r == nil || !strings.Contains(r.(error).Error(), "nil pointer dereference") {
			t.Errorf("locked %v: recovered %v, want the nil pointer's runtime error", locked, r)
		}
	}
}
