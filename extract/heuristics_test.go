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
	res := extractGenerated(t, testPDF{Pages: []string{cover, paper}}, "x.pdf")
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
	res = extractGenerated(t, testPDF{Pages: []string{cover, other}}, "x.pdf")
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
	res = extractGenerated(t, testPDF{Pages: []string{fullCover, broken}}, "x.pdf")
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
		{"a numbered heading beside the names",
			text("F1", 12, 160, 670, "Armando Fox") + text("F1", 12, 347, 670, "Eric A. Brewer") +
				text("F1", 12, 146, 656, "Stanford University") +
				text("F1", 12, 309, 640, "2. Related Work and the Principle"),
			[]string{"Armando Fox", "Eric A. Brewer"}},
		{"body text beside and below bold names",
			text("F2", 10, 178, 685, "Chris Quirk, Chris Brockett and William Dolan") +
				text("F1", 10, 231, 673, "Natural Language Processing Group") +
				text("F2", 10, 167, 560, "Abstract") +
				text("F1", 10, 320, 470, "Grace Hopper and Alan Turing") +
				text("F1", 10, 96, 466, "World Wide Web. Alignment Error Rate"),
			[]string{"Chris Quirk", "Chris Brockett", "William Dolan"}},
		{"an italic affiliation past the e-mails",
			text("F1", 12, 185, 646, "Robbert van Renesse") + text("F1", 12, 335, 646, "Fred B. Schneider") +
				text("F1", 10, 199, 632, "rvr@cs.example.edu") +
				text("F3", 12, 228, 609, "FAST Search & Transfer ASA") +
				text("F3", 12, 263, 595, "Oslo, Norway"),
			[]string{"Robbert van Renesse", "Fred B. Schneider"}},
		{"the last line of names in italics",
			text("F1", 11, 75, 661, "Murali Kodialam, T. V. Lakshman, James B. Orlin, and") +
				text("F3", 11, 205, 650, "Sudipta Sengupta"),
			[]string{"Murali Kodialam", "T. V. Lakshman", "James B. Orlin", "Sudipta Sengupta"}},
		{"a grid of names, each row over its affiliations and e-mails",
			text("F1", 11, 80, 670, "Ann Lee") + text("F1", 11, 250, 670, "Bo Wang") + text("F1", 11, 420, 670, "Cy Young") +
				text("F1", 9, 80, 658, "Example University") + text("F1", 9, 250, 658, "Sample Labs") + text("F1", 9, 420, 658, "Test Institute") +
				text("F1", 9, 80, 648, "ann@example.edu") + text("F1", 9, 250, 648, "bo@sample.com") + text("F1", 9, 420, 648, "cy@test.org") +
				text("F1", 11, 80, 630, "Di Xu") + text("F1", 11, 250, 630, "Ed Stone") + text("F1", 11, 420, 630, "Flo Rida") +
				text("F1", 9, 80, 618, "Example University") + text("F1", 9, 250, 618, "Sample Labs") + text("F1", 9, 420, 618, "Test Institute"),
			[]string{"Ann Lee", "Bo Wang", "Cy Young", "Di Xu", "Ed Stone", "Flo Rida"}},
		{"a name broken across two lines",
			text("F1", 12, 67, 682, "Giuseppe DeCandia, Deniz Hastorun, Madan Jampani, Avinash") +
				text("F1", 12, 61, 668, "Lakshman, Alex Pilchin and Werner Vogels") +
				text("F1", 12, 271, 648, "Amazon.com"),
			[]string{"Giuseppe DeCandia", "Deniz Hastorun", "Madan Jampani", "Avinash Lakshman", "Alex Pilchin", "Werner Vogels"}},
		{"IEEE grades and initials",
			text("F1", 11, 75, 670, "Murali Kodialam, Associate Member, IEEE, T. V. Lakshman, Fellow, IEEE, James B. Orlin, and") +
				text("F1", 11, 205, 658, "Sudipta Sengupta, Senior Member, IEEE"),
			[]string{"Murali Kodialam", "T. V. Lakshman", "James B. Orlin", "Sudipta Sengupta"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := extractGenerated(t, testPDF{Pages: []string{authorPage(tt.block)}}, "x.pdf")
			if !slices.Equal(res.Authors, tt.want) {
				t.Errorf("Authors = %q, want %q", res.Authors, tt.want)
			}
		})
	}
}

// yearPage is a first page with a title, an author and body text, and the
// given lines added.
func yearPage(extra string) string {
	return text("F2", 18, 90, 700, "A Study of Dates in Papers") +
		text("F1", 12, 200, 670, "Ada Lovelace") +
		text("F1", 10, 72, 600, "Body text of the paper in the usual size, long enough to be the body of it.") +
		text("F1", 10, 72, 588, "More body text, as cited in Proceedings of Another Conference, 1987.") +
		text("F1", 10, 72, 400, "Body text continues in the lower half of the page, the usual size.") +
		text("F1", 10, 72, 388, "Body text continues in the lower half of the page, the usual size.") +
		extra
}

// TestYearSources: each place a paper prints its year, with the file's
// creation date (Info) at 1999 as the fallback that must not win.
func TestYearSources(t *testing.T) {
	tests := []struct {
		name  string
		pages []string
		want  int
	}{
		{"copyright with an unencoded sign", []string{yearPage(text("F1", 11, 230, 180, "Copyright cfl 1996 Ada Lovelace"))}, 1996},
		{"date line under the title", []string{yearPage(text("F1", 12, 260, 640, "September 2004"))}, 2004},
		{"latest of an original and a revised date", []string{yearPage(
			text("F1", 12, 260, 640, "31 October 1984") + text("F1", 12, 240, 626, "revised: 24 February 2012"))}, 2012},
		{"not a year after 'the published version'", []string{yearPage(
			text("F1", 9, 128, 300, "This version has a few errors corrected compared with the published version. Change summary:") +
				text("F1", 9, 128, 288, "Jan 2009: Clarify the semantics") +
				text("F1", 12, 260, 640, "April 7, 2010"))}, 2010},
		{"venue footnote continued on the next line", []string{yearPage(
			text("F1", 8, 55, 150, "Permission to copy without fee all or part of this material is granted.") +
				text("F1", 9, 55, 109, "Proceedings of the 20th VLDB Conference") +
				text("F1", 9, 55, 98, "Santiago, Chile, 1994") +
				text("F1", 10, 305, 101, "body text of the other column, in the usual size"))}, 1994},
		{"arXiv stamp date over the id's", []string{yearPage(sideways(20, 30, 300, "arXiv:1312.0001v3 [cs.DS] 12 Mar 2014"))}, 2014},
		{"a date in a footnote is not the paper's", []string{yearPage(
			text("F1", 8, 72, 150, "This work was begun during a visit to the Example") +
				text("F1", 8, 72, 140, "Institute in July, 2004.") +
				sideways(20, 30, 300, "arXiv:math/0501170v3 [math.CO] 25 Jan 2005"))}, 2005},
		{"venue running head over the arXiv stamp", []string{yearPage(
			text("F1", 8, 72, 760, "Proceedings of the Imaginary Conference on Testing, 2019") +
				sideways(20, 30, 300, "arXiv:1706.03762v5 [cs.CL] 6 Dec 2017"))}, 2019},
		{"'To appear in' footer", []string{yearPage(text("F2", 10, 75, 42, "To appear in OSDI 2004"))}, 2004},
		{"the paper's own Reference Format", []string{yearPage(
			text("F1", 8, 54, 322, "PVLDB Reference Format:") +
				text("F1", 8, 54, 312, "Ada Lovelace. A Study of Dates in Papers.") +
				text("F1", 8, 54, 302, "PVLDB, 14(3): 268 - 280, 2021.") +
				text("F1", 7, 54, 100, "Proceedings of the VLDB Endowment, Vol. 14, No. 3 ISSN 2150-8097."))}, 2021},
		{"report number and date above the abstract", []string{yearPage(
			text("F1", 9, 108, 650, "SMLI TR-94-29 November 1994") + text("F2", 11, 108, 620, "Abstract"))}, 1994},
		{"communicated at a meeting", []string{yearPage(text("F1", 8, 158, 650, "(Communicated at the meeting of May 29. 1948.)"))}, 1948},
		{"a year alone, centred on a title page", []string{yearPage(text("F1", 12, 294, 78, "2010"))}, 2010},
		{"a year alone in a corner is a page number or a figure", []string{yearPage(text("F1", 12, 500, 78, "2010"))}, 1999},
		{"a date ending a body line is not the paper's", []string{yearPage(
			text("F2", 11, 72, 620, "Abstract") + text("F1", 10, 72, 560, "as shown in November 1994"))}, 1999},
		{"upload date is not the paper's", []string{yearPage(text("F1", 10, 65, 48, "All content following this page was uploaded by Ada Lovelace on 04 June 2014."))}, 1999},
		{"copyright in page 2's footer", []string{yearPage(""),
			text("F1", 10, 72, 600, "Body text of page two, citing work from 1977 and 1980.") +
				text("F1", 8, 55, 80, "\xa9 2013 International Society for Examples.")}, 2013},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := testPDF{Pages: tt.pages, Info: map[string]string{"CreationDate": "D:19990101000000"}}
			res := extractGenerated(t, p, "x.pdf")
			if res.Year != tt.want {
				t.Errorf("Year = %d (confidence %v), want %d", res.Year, res.Confidence["year"], tt.want)
			}
		})
	}
}

// TestControlCharacterInToUnicode: a ToUnicode map that sends a letter to
// a control character (Ghostscript's "c" to CR) gives way to the encoding.
func TestControlCharacterInToUnicode(t *testing.T) {
	cmap := "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n" +
		"1 begincodespacerange <00> <FF> endcodespacerange\n" +
		"1 beginbfchar <63> <000D> endbfchar\n" +
		"endcmap CMapName currentdict /CMap defineresource pop end end"
	p := testPDF{CMap: cmap, Pages: []string{
		text("F1", 18, 90, 700, "Functional Reactive Programming in Scheme") +
			text("F1", 10, 72, 600, "Body text of the paper in a small size, long enough to be body text.")}}
	res := extractGenerated(t, p, "x.pdf")
	if res.Title != "Functional Reactive Programming in Scheme" {
		t.Errorf("Title = %q", res.Title)
	}
}

// TestTitleLineThatReadsAsAName: a title's third line in the title's font
// is part of it even when a piece of it reads as a name.
func TestTitleLineThatReadsAsAName(t *testing.T) {
	p := testPDF{Pages: []string{
		text("F2", 12, 295, 496, "EPITAXIS") +
			text("F2", 12, 126, 480, "A System for Syntactic and Semantic Software Queries using Deductive") +
			text("F2", 12, 231, 463, "Retrieval and Symbolic Execution") +
			text("F1", 12, 201, 372, "A dissertation submitted in partial satisfaction") +
			text("F1", 12, 317, 264, "by") +
			text("F2", 12, 276, 199, "James Benvenuto") +
			text("F1", 12, 312, 78, "2010")}}
	res := extractGenerated(t, p, "x.pdf")
	if want := "EPITAXIS A System for Syntactic and Semantic Software Queries using Deductive Retrieval and Symbolic Execution"; normalize(res.Title) != normalize(want) {
		t.Errorf("Title = %q, want %q", res.Title, want)
	}
	if want := []string{"James Benvenuto"}; !slices.Equal(res.Authors, want) {
		t.Errorf("Authors = %q, want %q", res.Authors, want)
	}
}

// TestNamesAboveTheTitle: some papers set the author over the title; the
// other column's lines beside them are not read.
func TestNamesAboveTheTitle(t *testing.T) {
	p := testPDF{Pages: []string{
		text("F1", 10, 423, 575, "other hand, the things that the logical laws, by which") +
			text("F1", 10, 164, 546, "Per Martin-L\xf6f") +
			text("F1", 10, 423, 537, "Grace Hopper and Alan Turing") +
			text("F1", 10, 97, 520, "ON THE MEANINGS OF THE LOGICAL") +
			text("F1", 10, 91, 508, "CONSTANTS AND THE JUSTIFICATIONS") +
			text("F1", 10, 138, 495, "OF THE LOGICAL LAWS") +
			text("F1", 10, 72, 470, "Body text of the lecture follows in the same size, a long line of it.")}}
	res := extractGenerated(t, p, "x.pdf")
	if want := []string{"Per Martin-Löf"}; !slices.Equal(res.Authors, want) {
		t.Errorf("Authors = %q, want %q (title %q)", res.Authors, want, res.Title)
	}
}

// TestNamesRightAboveTheAbstract: single-spaced typewritten pages put the
// last name less than a line above the Abstract heading.
func TestNamesRightAboveTheAbstract(t *testing.T) {
	p := testPDF{Pages: []string{
		text("F1", 10, 202, 730, "A Universal Modular ACTOR Formalism") +
			text("F1", 10, 211, 721, "for Artificial Intelligence") +
			text("F1", 10, 248, 712, "Carl Hewitt") +
			text("F1", 10, 243, 703, "Peter Bishop") +
			text("F1", 10, 239, 694, "Richard Steiger") +
			text("F1", 10, 252, 685, "Abstract") +
			text("F1", 10, 53, 676, "This paper proposes a modular ACTOR architecture and definitional method for")}}
	res := extractGenerated(t, p, "x.pdf")
	if want := []string{"Carl Hewitt", "Peter Bishop", "Richard Steiger"}; !slices.Equal(res.Authors, want) {
		t.Errorf("Authors = %q, want %q (title %q)", res.Authors, want, res.Title)
	}
}

// TestRaisedGreekInTitle: TeX's math italic codes are Greek below '(', and
// a raised Greek letter inside a word ("Bε-trees") is part of it, not a
// footnote marker.
func TestRaisedGreekInTitle(t *testing.T) {
	p := testPDF{Pages: []string{
		// Times-Roman's B is 0.667 em wide: 11.34 at 17 points.
		"BT /F1 17 Tf 1 0 0 1 125 678 Tm (An Introduction to) Tj ET\n" +
			"BT /F1 17 Tf 1 0 0 1 261.5 678 Tm (B) Tj ET\n" +
			"BT /F4 12 Tf 1 0 0 1 272.84 684 Tm (\\042) Tj ET\n" +
			"BT /F1 17 Tf 1 0 0 1 278.8 678 Tm (-trees and Write-Optimization) Tj ET\n" +
			text("F1", 12, 116, 649, "Michael A. Bender, Martin Farach-Colton") +
			text("F1", 10, 72, 560, "Body text of the paper in a small size, long enough to be body text.")}}
	res := extractGenerated(t, p, "x.pdf")
	if res.Title != "An Introduction to Bε-trees and Write-Optimization" {
		t.Errorf("Title = %q", res.Title)
	}
}
