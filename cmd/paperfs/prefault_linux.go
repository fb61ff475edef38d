package main

import (
	"os"
	"runtime"

	"golang.org/x/sys/unix"
)

// prefaultHeap makes the Go heap n bytes larger with its pages already
// backed by memory, in one madvise(MADV_POPULATE_WRITE) call, and frees it
// again for the allocations that follow. Opening the store builds a heap
// about as large as its file; taking those pages one fault at a time is
// a large share of a mount's start on virtual machines, and populating
// them in one call much less (`benchfs -only open` measures both; figures
// in docs/benchmarks.md). Best effort: kernels before 5.14 refuse the
// advice and nothing is lost but the time.
func prefaultHeap(n int64) error {
	if n <= 0 {
		return nil
	}
	b := make([]byte, n)
	err := unix.Madvise(b, unix.MADV_POPULATE_WRITE)
	runtime.KeepAlive(b)
	b = nil
	runtime.GC() // frees b's pages for reuse; the runtime keeps them for a while
	return err
}

// storeHeapEstimate is how much heap opening the store at path builds.
func storeHeapEstimate(path string) int64 {
	st, err := os.Stat(path)
	if err != nil {
		return 0
	}
	return st.Size() * 3 / 2
}
