// Package match decides whether two bibliographic records describe the
// same work: a paper and a record an online service returned for it, or
// two papers of a library that may be duplicates. It is pure: no network,
// no store. The thresholds are measured in match_test.go
// (TestThresholdsMeasured) on the shared corpus' titles and authors.
package match

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"

	"github.com/paperfs/paperfs/meta/bibtex"
)

// Work is what matching compares: title, authors in order, year (0 when
// unknown).
type Work struct {
	Title   string
	Authors []string
	Year    int
}

// Score is how well two works agree, field by field.
type Score struct {
	Title float64 // similarity of the normalised titles, 0..1
	// FirstAuthor: both first authors have the same family name. Only
	// meaningful when Authors is known.
	FirstAuthor bool
	Authors     float64 // F1 of the family names, 0..1; -1 when either side has none
	YearDiff    int     // |a.Year-b.Year|; -1 when either is unknown
}

// Thresholds. Measured by TestThresholdsMeasured on 94 corpus titles, each
// perturbed as extraction and services garble them, against near-miss
// negatives; see the README's "Online lookup" section for the figures.
const (
	// TitleSearch is the title similarity a record found by searching
	// for a title needs, with authors and year agreeing.
	TitleSearch = 0.90
	// TitleIdentifier is the similarity a record named by an identifier
	// found in the PDF needs, with the same first author, to be taken as
	// the PDF's own (a cited paper's DOI names a record with another
	// title); from TitleSearch on, authors agreeing as for a search do.
	TitleIdentifier = 0.75
	// Duplicate is the title similarity two papers of a library need to
	// be listed as probable duplicates (with first author and year).
	Duplicate = 0.93
)

// Compare scores a against b.
func Compare(a, b Work) Score {
	s := Score{Title: TitleSimilarity(a.Title, b.Title), Authors: -1, YearDiff: -1}
	fa, fb := Families(a.Authors), Families(b.Authors)
	if len(fa) > 0 && len(fb) > 0 {
		s.FirstAuthor = fa[0] == fb[0]
		s.Authors = f1(fa, fb)
	}
	if a.Year != 0 && b.Year != 0 {
		s.YearDiff = max(a.Year-b.Year, b.Year-a.Year)
	}
	return s
}

// authorsAgree: the first authors are the same person, or most names
// agree (one side lost or misread the first). Unknown authors do not
// disagree. Half the names is not enough: a group's other paper shares
// them.
func (s Score) authorsAgree() bool {
	return s.Authors < 0 || s.FirstAuthor || s.Authors >= 0.75
}

// yearAgrees allows one year apart: a preprint posted in December, an
// issue dated the year after it went online.
func (s Score) yearAgrees() bool { return s.YearDiff <= 1 }

// SameBySearch reports whether a record found by a title search is the
// work searched for.
func (s Score) SameBySearch() bool {
	return s.Title >= TitleSearch && s.authorsAgree() && s.yearAgrees()
}

// SameByIdentifier reports whether a record named by an identifier found
// in a PDF is the PDF's own work: its title agrees as for a search, or
// (a title read less well) it agrees less but the author list is nearly
// the same, first author included. A cited paper by the same group with
// a title a few words apart fails both.
func (s Score) SameByIdentifier() bool {
	switch {
	case s.Title >= TitleSearch && s.authorsAgree() && s.YearDiff <= 2:
		return true
	case s.Title >= TitleIdentifier && s.FirstAuthor && s.Authors >= 0.75 && s.yearAgrees():
		return true
	}
	return false
}

// Rank orders candidates: title first, authors and year to break ties.
func (s Score) Rank() float64 {
	r := 0.7 * s.Title
	if s.Authors >= 0 {
		r += 0.2 * s.Authors
	} else {
		r += 0.1
	}
	switch {
	case s.YearDiff == 0:
		r += 0.1
	case s.YearDiff == 1, s.YearDiff < 0:
		r += 0.05
	}
	return r
}

// Normalize folds case and accents, joins words a line break hyphenated
// ("compre- ssion") and keeps letters and digits separated by single
// spaces.
func Normalize(s string) string {
	var b strings.Builder
	space := false
	rs := []rune(norm.NFKD.String(strings.ToLower(s)))
	for i := 0; i < len(rs); i++ {
		r := rs[i]
		switch {
		case r == '-' && i > 0 && unicode.IsLetter(rs[i-1]) && i+2 < len(rs) && unicode.IsSpace(rs[i+1]) && unicode.IsLower(rs[i+2]):
			i++ // a line-break hyphen: the word goes on after the space
		case unicode.Is(unicode.Mn, r):
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}

// TitleSimilarity is 1 - the Levenshtein distance of the normalised titles
// over the longer one's length.
func TitleSimilarity(a, b string) float64 {
	return similarity([]rune(Normalize(a)), []rune(Normalize(b)))
}

func similarity(ra, rb []rune) float64 {
	if len(ra) == 0 && len(rb) == 0 {
		return 1
	}
	if len(ra) == 0 || len(rb) == 0 {
		return 0
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(rb)])/float64(max(len(ra), len(rb)))
}

// Family is an author's normalised family name without particles ("van
// Renesse" -> "renesse"), as services spell it in "First Last" or "Last,
// First" order.
func Family(author string) string {
	n := bibtex.ParseName(author)
	name := n.Last
	if n.Literal != "" {
		name = n.Literal
	}
	f := strings.Fields(Normalize(name))
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

// Families are the family names of authors, in order, unknown ones left out.
func Families(authors []string) []string {
	out := make([]string, 0, len(authors))
	for _, a := range authors {
		if f := Family(a); f != "" {
			out = append(out, f)
		}
	}
	return out
}

// f1 matches each family name of b at most once.
func f1(a, b []string) float64 {
	left := map[string]int{}
	for _, x := range b {
		left[x]++
	}
	hit := 0
	for _, x := range a {
		if left[x] > 0 {
			left[x]--
			hit++
		}
	}
	if hit == 0 {
		return 0
	}
	p, r := float64(hit)/float64(len(a)), float64(hit)/float64(len(b))
	return 2 * p * r / (p + r)
}
