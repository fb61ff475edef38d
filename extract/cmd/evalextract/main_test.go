package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/extract"
)

func TestSplitHalves(t *testing.T) {
	var entries []entry
	for _, name := range []string{"a.pdf", "b.pdf", "c.pdf", "d.pdf", "e.pdf", "f.pdf", "g.pdf"} {
		entries = append(entries, entry{File: "pdfs/" + name})
	}
	h := splitHalves(entries)
	count := map[string]int{}
	for _, half := range h {
		count[half]++
	}
	if count["A"] != 4 || count["B"] != 3 {
		t.Errorf("halves of 7 = %v, want 4 in A and 3 in B", count)
	}
	// The order of the truth file does not move a paper to the other half.
	reversed := slices.Clone(entries)
	slices.Reverse(reversed)
	for f, half := range splitHalves(reversed) {
		if h[f] != half {
			t.Errorf("%s is in half %s, and in %s when the truth file is reversed", f, h[f], half)
		}
	}
}

func TestMisses(t *testing.T) {
	year := 2004
	tests := []struct {
		name string
		res  extract.Result
		e    entry
		want []string
	}{
		{"title missing words",
			extract.Result{Title: "A Protocol for Anonymity", Confidence: map[string]float64{"title": 0.7}},
			entry{Title: "P5: A Protocol for Anonymity"},
			[]string{"title: words missing (p5 …)"}},
		{"unreadable font",
			extract.Result{Title: "x", Confidence: map[string]float64{"title": 0.1}, Problems: []string{"page 1: the title's font has no usable text encoding"}},
			entry{Title: "Making a Fast Curry"},
			[]string{"title: unreadable font (no text encoding), file name used"}},
		{"authors missed and wrong",
			extract.Result{Title: "T", Authors: []string{"Ann Lee", "Related Work"}, Confidence: map[string]float64{"authors": 0.7}},
			entry{Title: "T", Authors: []string{"Ann Lee", "Bo Wang"}},
			[]string{`authors: 1 missed ["wang"], 1 wrong ["work"]`}},
		{"year from the file date",
			extract.Result{Title: "T", Year: 2009, Confidence: map[string]float64{"year": 0.1}},
			entry{Title: "T", Year: &year},
			[]string{"year: later than printed, from the file's creation date (nothing printed found)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := row{e: tt.e, res: tt.res}
			score(&r)
			got := misses(r)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("misses = %q, want %q", got, tt.want)
			}
		})
	}
}
