package worker

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
	"time"

	"carafe/internal/pyembed"
)

// A worker gives the memory of a burst back to the OS once the burst is
// over. Left alone it would keep it:
//   - Go's heap: after a burst (held uploads, thousands of connections)
//     nothing allocates, so no collection runs until the one the runtime
//     forces every two minutes, and after that one the background
//     scavenger released nothing in a process gone quiet. Measured with
//     200 held chunked uploads: 180 MB resident three minutes later, 7 MB
//     of it live.
//   - malloc's arenas, where Python's larger objects live (see
//     pyembed.TrimMalloc): 1 MiB uploads on 8 threads left 16 MB there,
//     free, for good. Go's heap did not grow at all (the body is read
//     straight into Python's buffer, and not one collection ran).
//
// So the worker watches for a burst to end in two ways. After each
// collection it looks at the heap: when it holds much memory that is free,
// or has grown to twice what it held after the last return, or the worker
// is resident at rssGrowth over its size after the last return, it waits
// for quietFor without a collection. And once requests are served it
// looks every quietFor whether any more were: when none were and the
// worker has grown by rssGrowth, the burst is over too. Either way it then
// returns the free memory of both (giveBack): a full collection of a heap
// that is mostly free by then, a millisecond or so, and a walk of malloc's
// arenas. An idle worker is not woken at all; one under load looks once
// every quietFor.

const (
	// returnFree is how much free, still resident heap sets the worker
	// to return it; returnMin is the least a heap must hold to be
	// looked at for growth.
	returnFree = 32 << 20
	returnMin  = 32 << 20
	// quietFor is how long without a collection, or without a request
	// served, counts as quiet.
	quietFor = 5 * time.Second
	// rssGrowth is how far the resident set may grow past its size
	// after the last return before there is something worth returning.
	rssGrowth = 8 << 20
)

// memReturn gives a burst's memory back (see above).
type memReturn struct {
	watching atomic.Bool   // run is looking at the requests served
	wake     chan struct{} // requests are served: watch them
}

func newMemReturn() *memReturn { return &memReturn{wake: make(chan struct{}, 1)} }

// served notes that a request was served: an atomic load once run watches.
func (m *memReturn) served() {
	if !m.watching.Load() && m.watching.CompareAndSwap(false, true) {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
}

// run returns memory for the worker's life; requests counts the requests
// served.
func (m *memReturn) run(requests func() int64) {
	gcs := collections()
	quiet := time.NewTimer(quietFor) // quietFor without a collection
	quiet.Stop()
	armed := false
	look := time.NewTicker(quietFor) // whether requests are still served
	look.Stop()
	var last int64
	grown := uint64(returnMin) // the held size that counts as grown
	rssAfter := selfRSS()      // resident after the last return
	give := func() {
		giveBack()
		held, _ := heapHeld()
		grown = max(returnMin, 2*held)
		rssAfter = selfRSS()
		// The collections just run have a tick queued; with nothing
		// free now, it does not arm the timer again.
	}
	for {
		select {
		case <-gcs:
			if armed {
				quiet.Reset(quietFor) // not quiet yet
				continue
			}
			if held, free := heapHeld(); free >= returnFree || held >= grown || selfRSS() >= rssAfter+rssGrowth {
				armed = true
				quiet.Reset(quietFor)
			}
		case <-quiet.C:
			armed = false
			give()
		case <-m.wake:
			last = requests()
			look.Reset(quietFor)
		case <-look.C:
			if n := requests(); n != last {
				last = n
				continue
			}
			look.Stop()
			m.watching.Store(false) // the next request wakes run again
			if selfRSS() >= rssAfter+rssGrowth {
				give()
			}
		}
	}
}

// giveBack returns to the OS the free memory of Go's heap and of malloc's
// arenas. Twice for Go: the first collection moves what the sync.Pools
// hold (idle connections' buffers) to their victim caches, the second
// frees it (measured: 4 MB more returned).
func giveBack() {
	debug.FreeOSMemory()
	debug.FreeOSMemory()
	pyembed.TrimMalloc()
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
