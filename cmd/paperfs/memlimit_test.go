package main

import (
	"context"
	"testing"
	"time"
)

// TestHeapLimiter drives the limiter with a fake heap and clock: no limit
// before the first collection, then the store's live heap plus the bound's
// inodes with headroom; the limit holds while more is live for a moment,
// follows a live heap that stays larger, and comes back when it shrinks.
func TestHeapLimiter(t *testing.T) {
	const mb = 1 << 20
	var cycles, live uint64
	var set []int64
	t0 := time.Now()
	at := func(d time.Duration) time.Time { return t0.Add(d) }
	held := 0
	h := &heapLimiter{maxInodes: 200000, start: 3, inodes: func() int { return held },
		read: func() (uint64, uint64) { return cycles, live },
		set:  func(l int64) { set = append(set, l) }}
	cycles, live = 3, 50*mb
	h.adjust(at(0))
	if len(set) != 0 {
		t.Fatalf("limit set before a collection: %v", set)
	}
	cycles, live = 4, 100*mb // the first collection: the store
	h.adjust(at(time.Second))
	base := float64(100*mb + 200000*inodeBytes)
	if want := int64(base * (1 + limitHeadroom)); len(set) != 1 || set[0] != want {
		t.Fatalf("limit after the first collection: %v, want %d", set, want)
	}
	cycles, live, held = 5, 180*mb, 200000 // inodes come and go: the budget holds
	h.adjust(at(2 * time.Second))
	if len(set) != 1 {
		t.Fatalf("limit changed within the budget: %v", set)
	}
	cycles, live, held = 6, 300*mb, 250000 // a walk, over the bound
	h.adjust(at(3 * time.Second))
	h.adjust(at(3*time.Second + 2*followAfter))
	if len(set) != 1 {
		t.Fatalf("limit changed while the inodes were over their bound: %v", set)
	}
	held = 150000 // an import
	h.adjust(at(4*time.Second + 2*followAfter))
	h.adjust(at(4*time.Second + 3*followAfter - time.Second))
	if len(set) != 1 {
		t.Fatalf("limit changed as soon as more than the budget was live: %v", set)
	}
	h.adjust(at(4*time.Second + 3*followAfter)) // it stayed
	if want := int64(300 * mb * (1 + limitHeadroom)); len(set) != 2 || set[1] != want {
		t.Fatalf("limit with 300 MB live: %v, want %d", set, want)
	}
	cycles, live = 7, 150*mb
	h.adjust(at(5*time.Second + 3*followAfter))
	if want := int64(base * (1 + limitHeadroom)); len(set) != 3 || set[2] != want {
		t.Fatalf("limit once live fell back: %v, want %d", set, want)
	}
}

// TestHeapLimiterInodesAtMeasure: inodes made before the measuring
// collection (a listing started with the mount) are not counted as store.
func TestHeapLimiterInodesAtMeasure(t *testing.T) {
	const mb = 1 << 20
	var set []int64
	h := &heapLimiter{maxInodes: 200000, start: 1, inodes: func() int { return 50000 },
		read: func() (uint64, uint64) { return 2, 150 * mb },
		set:  func(l int64) { set = append(set, l) }}
	h.adjust(time.Now())
	store := 150*mb - 50000*inodeBytes
	if want := int64(float64(store+200000*inodeBytes) * (1 + limitHeadroom)); len(set) != 1 || set[0] != want {
		t.Fatalf("limit %v, want %d", set, want)
	}
}

// TestHeapLimitLeftAlone: with no inode bound there is nothing to budget,
// and $GOMEMLIMIT is the user's choice: the runtime's own policy stays.
func TestHeapLimitLeftAlone(t *testing.T) {
	for _, c := range []struct {
		bound int
		env   string
	}{{-1, ""}, {200000, "1GiB"}} {
		t.Setenv("GOMEMLIMIT", c.env)
		h := newHeapLimiter(c.bound, func() int { return 0 })
		var cycles uint64
		h.read = func() (uint64, uint64) { cycles++; return cycles, 100 << 20 }
		h.start = 0
		h.set = func(l int64) { t.Errorf("bound %d, GOMEMLIMIT=%q: limit set to %d", c.bound, c.env, l) }
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		h.run(ctx, time.Millisecond)
		cancel()
	}
}
