package library

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkRescan rescans a library of 10,000 indexed PDFs in 100 folders
// where nothing changed: the walk, a stat of each file and the comparison
// with the store (the work of every periodic or notified scan).
func BenchmarkRescan(b *testing.B) {
	l, _ := setup(b)
	for i := range 10000 {
		p := filepath.Join(l.Root, fmt.Sprintf("d%02d", i%100), fmt.Sprintf("p%05d.pdf", i))
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte(fmt.Sprintf("%%PDF-1.4\n%d", i)), 0o644)
	}
	if _, err := l.Scan(context.Background(), nil); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		rep, err := l.Scan(context.Background(), nil)
		if err != nil || rep.Files != 10000 || len(rep.New)+rep.Changed+rep.Moved != 0 {
			b.Fatalf("%+v %v", rep.Files, err)
		}
	}
}
