package worker

import (
	"runtime"
	"runtime/debug"
	"testing"
	"time"
)

// Every collection ticks, again and again (each tick sets up the next).
func TestCollectionsTick(t *testing.T) {
	gcs := collections()
	for i := range 3 {
		runtime.GC()
		select {
		case <-gcs:
		case <-time.After(5 * time.Second):
			t.Fatalf("no tick after collection %d", i+1)
		}
	}
}

// heapHeld counts the heap's objects, and its free pages until they are
// returned.
func TestHeapHeld(t *testing.T) {
	b := make([]byte, 64<<20)
	for i := range b {
		b[i] = 1
	}
	if held, _ := heapHeld(); held < 64<<20 {
		t.Errorf("held %d bytes with a live 64 MiB slice", held)
	}
	runtime.KeepAlive(b)
	b = nil
	debug.FreeOSMemory()
	if _, free := heapHeld(); free > 16<<20 {
		t.Errorf("%d bytes free after FreeOSMemory, want them returned", free)
	}
}
