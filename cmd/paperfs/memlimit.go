package main

import (
	"context"
	"math"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// A mount's heap is the store (its records and indexes, loaded at start)
// and the inodes the kernel holds, which --max-inodes bounds. Left to
// GOGC alone, the collector lets the heap grow by half of what is live
// before collecting, so a mount whose heap is nearly all live data stays
// half as large again as it needs to. The mount therefore sets a soft
// memory limit (debug.SetMemoryLimit) at what it means to hold, its
// budget: the store's live heap, measured by the collection that starts
// as the mount answers (the collector is off while the store loads), plus
// the bound's inodes at inodeBytes each; the limit is limitHeadroom above that. Near the limit
// the collector runs more often instead of the heap growing, also while
// the inodes pass the bound for a moment (a walk, before the kernel's
// FORGETs for the view it made room from arrive).
//
// When more than the budget stays live for followAfter with the inodes
// within their bound, something else grew (an import of thousands of
// papers into a running mount): the limit then follows at limitHeadroom
// over what is live, so the collector does not run without pause.
// $GOMEMLIMIT, or no inode bound, leaves the runtime's own policy.

// inodeBytes is the heap an inode held by the kernel costs, go-fuse's
// tables included, as measured by listing all/ of a large library (see
// docs/benchmarks.md); rerun that when go-fuse or the node types change.
const inodeBytes = 560

// limitHeadroom is the share above the budget (or above what is live,
// when the limit follows it) that the collector may use before it collects.
const limitHeadroom = 0.15

// followAfter is how long more than the budget must stay live, inodes
// within their bound, before the limit follows it.
const followAfter = 10 * time.Second

// heapLimiter sets the process's memory limit from the heap's use.
type heapLimiter struct {
	maxInodes int                          // the mount's bound; no limit if not positive
	inodes    func() int                   // inodes held now
	read      func() (cycles, live uint64) // completed collections, heap live at the last
	set       func(limit int64)            // debug.SetMemoryLimit
	start     uint64                       // collections before the one that measures the store
	budget    uint64                       // store heap + bound's inodes; 0 until measured
	over      time.Time                    // since when more than the budget is live, zero if not
	limit     int64                        // last set, 0 for none
}

// newHeapLimiter makes a limiter for a mount holding inodes() of at most
// maxInodes, whose store is what the next collection finds live: call it
// before turning the collector back on.
func newHeapLimiter(maxInodes int, inodes func() int) *heapLimiter {
	h := &heapLimiter{maxInodes: maxInodes, inodes: inodes, read: readHeap,
		set: func(l int64) { debug.SetMemoryLimit(l) }}
	h.start, _ = h.read()
	return h
}

// active reports whether run will set a limit: there is a bound to budget,
// and $GOMEMLIMIT does not set one.
func (h *heapLimiter) active() bool {
	return h.maxInodes > 0 && os.Getenv("GOMEMLIMIT") == ""
}

// run adjusts the limit every interval until ctx ends, then lifts it.
func (h *heapLimiter) run(ctx context.Context, interval time.Duration) {
	if !h.active() {
		return
	}
	// The collection that measures the store comes within a second of
	// mounting, and listings may start at once: watch closely for it.
	t := time.NewTicker(min(interval, measureEvery))
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			if h.limit != 0 {
				h.set(math.MaxInt64)
			}
			return
		case now := <-t.C:
			measured := h.budget != 0
			if h.adjust(now); !measured && h.budget != 0 {
				t.Reset(interval)
			}
		}
	}
}

// measureEvery is how often the limiter looks for the collection that
// measures the store.
const measureEvery = 20 * time.Millisecond

// adjust sets the limit from the heap's live size at the last collection,
// once a collection has completed after h.start.
func (h *heapLimiter) adjust(now time.Time) {
	cycles, live := h.read()
	if cycles <= h.start || live == 0 {
		return
	}
	if h.budget == 0 {
		// Inodes made since are counted once, in the bound.
		store := max(int64(live)-int64(h.inodes())*inodeBytes, int64(live)/2)
		h.budget = uint64(store) + uint64(h.maxInodes)*inodeBytes
	}
	base := h.budget
	switch {
	case live <= h.budget || h.inodes() > h.maxInodes:
		h.over = time.Time{}
	case h.over.IsZero():
		h.over = now
	case now.Sub(h.over) >= followAfter:
		base = live
	}
	limit := int64(float64(base) * (1 + limitHeadroom))
	// Small changes are not worth the runtime's recomputing its goal.
	if h.limit == 0 || math.Abs(float64(limit-h.limit)) > 0.02*float64(h.limit) {
		h.set(limit)
		h.limit = limit
	}
}

// readHeap reads the number of completed collections and the heap marked
// live by the last one.
func readHeap() (cycles, live uint64) {
	s := []metrics.Sample{{Name: "/gc/cycles/total:gc-cycles"}, {Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64(), s[1].Value.Uint64()
}

// heapLimit is the memory limit in force, 0 for none.
func heapLimit() int64 {
	if l := debug.SetMemoryLimit(-1); l != math.MaxInt64 {
		return l
	}
	return 0
}
