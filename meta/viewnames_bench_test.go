package meta

import (
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// benchStore is a store of n papers with names like real ones, a tenth of
// them sharing a title with another.
func benchStore(b *testing.B, n int) (*Store, string) {
	b.Helper()
	path := filepath.Join(b.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		b.Fatal(err)
	}
	ps := make([]Paper, n)
	for i := range ps {
		ps[i] = Paper{Title: fmt.Sprintf("On the Theory of Things, Part %d: A Study", i%(n*9/10)),
			Authors: []string{fmt.Sprintf("Author%d Family%d", i%500, i%700), "Second Author"},
			Year:    1990 + i%30, Tags: []string{fmt.Sprintf("tag%d", i%20)},
			Added: time.Unix(int64(i), 0)}
	}
	for i := 0; i < n; i += 1000 {
		if _, err := s.CreateMany(ps[i:min(i+1000, n)]); err != nil {
			b.Fatal(err)
		}
	}
	return s, path
}

// BenchmarkListAll lists all/ of 20k papers: the names a directory
// listing of the mount's largest view makes.
func BenchmarkListAll(b *testing.B) {
	s, _ := benchStore(b, 20000)
	defer s.Close()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := s.List(View{Kind: All}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen20k opens a store of 20k papers, building the index with
// its name keys.
func BenchmarkOpen20k(b *testing.B) {
	s, path := benchStore(b, 20000)
	s.Close()
	b.ReportAllocs()
	for b.Loop() {
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		s.Close()
	}
}

// BenchmarkOpenHeap20k reports the heap a store of 20k papers keeps open.
func BenchmarkOpenHeap20k(b *testing.B) {
	s, path := benchStore(b, 20000)
	s.Close()
	var held float64
	for b.Loop() {
		runtime.GC()
		var m0, m1 runtime.MemStats
		runtime.ReadMemStats(&m0)
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		runtime.ReadMemStats(&m1)
		held = float64(m1.HeapAlloc) - float64(m0.HeapAlloc)
		s.Close()
	}
	b.ReportMetric(held/20000, "heap-bytes/paper")
}

// BenchmarkCheckPortablePath checks a library path like an imported
// PDF's: what status does for every paper.
func BenchmarkCheckPortablePath(b *testing.B) {
	rel := "Vaswani et al. 2017 - Attention Is All You Need (2).pdf"
	for b.Loop() {
		if err := CheckPortablePath(rel); err != nil {
			b.Fatal(err)
		}
	}
}
