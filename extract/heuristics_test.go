package extract

import (
	"slices"
	"strings"
	"testing"
)

// The tests here check the layout heuristics for authors, titles and years
// on generated pages, one heuristic each.

// TestCoverSheet: a repository's cover page before the paper gives way to
// the paper's own first page for title and authors, and its publication
// date still counts.
func TestCoverSheet(t *testing.T) {
	cover := text("F1", 8, 57, 780, "Downloaded from repository.example.org on: Aug 15, 2016") +
		text("F2", 12, 57, 612, "XY-trees - Quick Lock-free Search Trees") +
		text("F2", 10, 57, 568, "Doe, Jane; Roe, Richard") +
		text("F1", 10, 57, 548, "Publication date:") +
		text("F1", 10, 57, 538, "2014") +
		text("F1", 10, 57, 500, "Citation (APA):") +
		text("F1", 8, 57, 120, "General rights")
	paper := text("F2", 24, 90, 695, "Quick Lock-free Search Trees") +
		text("F1", 14, 90, 659, "Jane Doe, Richard Roe") +
		text("F2", 11, 72, 575, "Abstract") +
		text("F1", 10, 72, 560, "Search trees without locks are studied in this paper at some length.")
	res := extractGenerated(t, testPDF{pages: []string{cover, paper}}, "x.pdf")
	if res.Title != "Quick Lock-free Search Trees" {
		t.Errorf("Title = %q, want the paper's own", res.Title)
	}
	if want := []string{"Jane Doe", "Richard Roe"}; !slices.Equal(res.Authors, want) {
		t.Errorf("Authors = %q, want %q", res.Authors, want)
	}
	if res.Year != 2014 {
		t.Errorf("Year = %d, want the cover's publication date 2014", res.Year)
	}

	// A page 2 about something else is not the paper: the cover is read.
	other := text("F2", 24, 90, 695, "Appendix of Tables") + text("F1", 10, 72, 560, "Body text.")
	res = extractGenerated(t, testPDF{pages: []string{cover, other}}, "x.pdf")
	if res.Title != "XY-trees - Quick Lock-free Search Trees" {
		t.Errorf("Title = %q, want the cover's", res.Title)
	}

	// The paper's page broke the title where the cover did not.
	broken := text("F2", 14, 90, 700, "Quick Lock-free Search Trees for") +
		text("F2", 14, 200, 662, "Everyone") +
		text("F1", 10, 90, 640, "Jane Doe") +
		text("F1", 10, 72, 560, "Body text of the paper in a small size, long enough to be body text.")
	fullCover := text("F1", 9, 57, 700, "See discussions, stats, and author profiles for this publication at: https://example.org/1") +
		text("F1", 20, 57, 640, "Quick Lock-free Search Trees for Everyone")
	res = extractGenerated(t, testPDF{pages: []string{fullCover, broken}}, "x.pdf")
	if res.Title != "Quick Lock-free Search Trees for Everyone" {
		t.Errorf("Title = %q, want the cover's unbroken one", res.Title)
	}
}

// spaced shows each word of s on its own, gap × size apart, as letter-spaced
// capitals are set.
func spaced(size, x, y, gap float64, s string) string {
	var b strings.Builder
	for _, w := range strings.Fields(s) {
		b.WriteString(text("F1", size, x, y, w))
		x += float64(len(w))*size*0.7 + gap*size
	}
	return b.String()
}

// authorPage is a first page with a title, the given author block and an
// abstract below it.
func authorPage(block string) string {
	return text("F2", 18, 90, 700, "A Study of Author Blocks in Papers") + block +
		text("F2", 11, 72, 520, "Abstract") +
		text("F1", 10, 72, 505, "We study how the names of authors are set on the first page of a paper.") +
		text("F1", 10, 72, 493, "M Broy, and R Steinbrueggen, Example Press, 2001, cited in the abstract.")
}

// TestAuthorBlockForms: names followed by affiliations, separated by
// semicolons, letter-spaced, with IEEE grades or with initials.
func TestAuthorBlockForms(t *testing.T) {
	tests := []struct {
		name  string
		block string
		want  []string
	}{
		{"name, company", text("F1", 12, 240, 670, "Mike Burrows, Google Inc."), []string{"Mike Burrows"}},
		{"one name and affiliation per line",
			text("F1", 8, 215, 670, "Marc Shapiro, INRIA & LIP6, Paris, France") +
				text("F1", 8, 186, 660, "Nuno Pregui\xe7a, CITI, Universidade Nova de Lisboa, Portugal") +
				text("F1", 8, 204, 650, "Carlos Baquero, Universidade do Minho, Portugal"),
			[]string{"Marc Shapiro", "Nuno Preguiça", "Carlos Baquero"}},
		{"groups separated by semicolons",
			text("F2", 14, 60, 670, "Ann Lee, New York University; Qi Chen, Peking University; Bo Wang") +
				text("F2", 14, 60, 652, "and Ray Power, New York University; Jo Ortiz, IBM Research;"),
			[]string{"Ann Lee", "Qi Chen", "Bo Wang", "Ray Power", "Jo Ortiz"}},
		{"letter-spaced capitals",
			spaced(9, 63, 670, 1.4, "CYNTHIA DWORK AND NANCY LYNCH") +
				text("F1", 9, 62, 658, "Massachusetts Institute of Technology, Cambridge, Massachusetts") +
				spaced(9, 62, 646, 1.4, "AND") +
				spaced(9, 62, 634, 1.4, "LARRY STOCKMEYER") +
				text("F1", 9, 62, 622, "IBM Almaden Research Center, San Jose, California"),
			[]string{"Cynthia Dwork", "Nancy Lynch", "Larry Stockmeyer"}},
		{"IEEE grades and initials",
			text("F1", 11, 75, 670, "Murali Kodialam, Associate Member, IEEE, T. V. Lakshman, Fellow, IEEE, James B. Orlin, and") +
				text("F1", 11, 205, 658, "Sudipta Sengupta, Senior Member, IEEE"),
			[]string{"Murali Kodialam", "T. V. Lakshman", "James B. Orlin", "Sudipta Sengupta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := extractGenerated(t, testPDF{pages: []string{authorPage(tt.block)}}, "x.pdf")
			if !slices.Equal(res.Authors, tt.want) {
				t.Errorf("Authors = %q, want %q", res.Authors, tt.want)
			}
		})
	}
}
