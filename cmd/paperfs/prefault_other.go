//go:build !linux

package main

// prefaultHeap is a Linux tuning (madvise MADV_POPULATE_WRITE); elsewhere
// the heap's pages are faulted in as they are used.
func prefaultHeap(n int64) error { return nil }

// storeHeapEstimate is how much heap opening the store builds; unused
// without the prefault.
func storeHeapEstimate(path string) int64 { return 0 }
