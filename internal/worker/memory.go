package worker

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A worker gives the memory of a burst back to the OS once the burst is
// over. Go alone would keep it: after a burst (held uploads, thousands of
// connections) nothing allocates, so no collection runs until the one the
// runtime forces every two minutes, and after that one the background
// scavenger released nothing in a process gone quiet. Measured with 200
// held chunked uploads: 180 MB resident three minutes later, 7 MB of it
// live.
//
// So after each collection the worker looks at the heap, and when it holds
// much memory that is free, or has grown to twice what it held after the
// last return, it waits for quietFor without a collection (the burst is
// over, or it allocates little) and returns the free memory with
// debug.FreeOSMemory: a full collection of a heap that is mostly free by
// then, a millisecond or so. A worker under steady load collects often and
// is never quiet that long; an idle one is not woken at all.

const (
	// returnFree is how much free, still resident heap sets the worker
	// to return it; returnMin is the least a heap must hold to be
	// looked at for growth.
	returnFree = 32 << 20
	returnMin  = 32 << 20
	// quietFor is how long without a collection counts as quiet.
	quietFor = 5 * time.Second
)

// returnMemory runs for the worker's life (see above).
func returnMemory() {
	gcs := collections()
	quiet := time.NewTimer(quietFor)
	quiet.Stop()
	armed := false
	grown := uint64(returnMin) // the held size that counts as grown
	for {
		select {
		case <-gcs:
			if armed {
				quiet.Reset(quietFor) // not quiet yet
				continue
			}
			if held, free := heapHeld(); free >= returnFree || held >= grown {
				armed = true
				quiet.Reset(quietFor)
			}
		case <-quiet.C:
			armed = false
			// Twice: the first collection moves what the sync.Pools
			// hold (idle connections' buffers) to their victim caches,
			// the second frees it (measured: 4 MB more returned).
			debug.FreeOSMemory()
			debug.FreeOSMemory()
			held, _ := heapHeld()
			grown = max(returnMin, 2*held)
			// The collections just run have a tick queued; with nothing
			// free now, it does not arm the timer again.
		}
	}
}

// heapHeld returns the heap memory the worker holds resident (objects,
// the unused room in their spans, and free pages not yet returned) and
// the free part of it, in bytes.
func heapHeld() (held, free uint64) {
	s := []metrics.Sample{
		{Name: "/memory/classes/heap/objects:bytes"},
		{Name: "/memory/classes/heap/unused:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
	}
	metrics.Read(s)
	for _, v := range s {
		if v.Value.Kind() == metrics.KindUint64 {
			held += v.Value.Uint64()
		}
	}
	if s[2].Value.Kind() == metrics.KindUint64 {
		free = s[2].Value.Uint64()
	}
	return held, free
}

// collections ticks after each garbage collection (at most one tick
// waits). A sentinel no one references is reclaimed by the next
// collection; its cleanup ticks and sets up the next sentinel.
func collections() <-chan struct{} {
	ch := make(chan struct{}, 1)
	var arm func()
	arm = func() {
		runtime.AddCleanup(new(gcSentinel), func(struct{}) {
			arm() // first: the next collection may follow the tick at once
			select {
			case ch <- struct{}{}:
			default:
			}
		}, struct{}{})
	}
	arm()
	return ch
}

// gcSentinel holds a pointer so that it is never one of the tiny
// allocations, which share a block and can outlive a collection.
type gcSentinel struct {
	_ *byte
	_ [2]uintptr
}
