package main

import (
	"runtime"
	"testing"
)

// The prefaulted pages are resident, and stay with the heap, free, for the
// store's allocations to reuse.
func TestPrefaultHeap(t *testing.T) {
	const n = 64 << 20
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	rss0 := selfRSS()
	if err := prefaultHeap(n); err != nil {
		t.Fatalf("prefaultHeap: %v (MADV_POPULATE_WRITE needs Linux 5.14)", err)
	}
	runtime.ReadMemStats(&after)
	if grown := selfRSS() - rss0; grown < n*9/10 {
		t.Errorf("RSS grew by %d MB, not the %d MB prefaulted", grown>>20, n>>20)
	}
	if kept := (after.HeapIdle - after.HeapReleased) - (before.HeapIdle - before.HeapReleased); kept < n*9/10 {
		t.Errorf("the heap kept %d MB of the %d MB prefaulted", kept>>20, n>>20)
	}
	if after.HeapAlloc > before.HeapAlloc+n/10 {
		t.Errorf("prefaulted memory still allocated: heap %d MB, was %d MB", after.HeapAlloc>>20, before.HeapAlloc>>20)
	}
}
