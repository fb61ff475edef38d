package meta

import (
	"fmt"
	"path/filepath"
	"testing"
)

// BenchmarkSave is one acknowledged edit: a commit made durable (and, since
// issue 16, recorded in the check file).
func BenchmarkSave(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "meta.db"), Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	p, err := s.Create(Paper{Title: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := s.Update(p.ID, func(p *Paper) error { p.Rating = i % 5; return nil }); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkOpen opens a store of 50k papers (the check verifies the whole
// file first).
func BenchmarkOpen(b *testing.B) {
	path := filepath.Join(b.TempDir(), "meta.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	for batch := range 50 {
		var ps []Paper
		for i := range 1000 {
			ps = append(ps, Paper{Title: fmt.Sprintf("paper %d-%d on something", batch, i),
				Authors: []string{"Ada Lovelace", "Alan Turing"}, Year: 2000 + i%20, Tags: []string{"t", fmt.Sprint(i % 50)}})
		}
		if _, err := s.CreateMany(ps); err != nil {
			b.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		s, err := Open(path, Options{})
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		s.Close()
		b.StartTimer()
	}
}
