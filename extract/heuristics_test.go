package extract

import (
	"slices"
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
