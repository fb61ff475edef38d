package libdir

import (
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkOpen opens a PDF two folders deep, each way: plain open(2)
// (what the mount did), and the ways this package resolves it.
func BenchmarkOpen(b *testing.B) {
	lib := b.TempDir()
	rel := "a/b/paper.pdf"
	os.MkdirAll(filepath.Join(lib, "a", "b"), 0o755)
	os.WriteFile(filepath.Join(lib, rel), []byte("%PDF-1.4"), 0o644)
	d := New(lib)
	b.Run("os.Open", func(b *testing.B) {
		for b.Loop() {
			f, err := os.Open(d.Abs(rel))
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
		}
	})
	for _, r := range resolverModes {
		b.Run(r.name, func(b *testing.B) {
			r.set()
			defer resetResolver()
			for b.Loop() {
				f, err := d.Open(rel)
				if err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}
