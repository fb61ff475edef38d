// Package match decides whether two bibliographic records describe the
// same work: a paper and a record an online service returned for it, or
// two papers of a library that may be duplicates. It is pure: no network,
// no store. The thresholds are measured in match_test.go
// (TestThresholdsMeasured) on the shared corpus' titles and authors.
package match

import (
	"github.com/paperfs/paperfs/extract"
	"slices"
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
	// NumbersDiffer: the titles hold different numbers ("Part II" and
	// "Part III", "... 2019" and "... 2020"): different works, however
	// alike the rest.
	NumbersDiffer bool
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
	pa, pb := Prepare(a), Prepare(b)
	return ComparePrepared(&pa, &pb)
}

// Prepared is a Work normalised once, for comparing it with many others.
type Prepared struct {
	title    []rune
	numbers  []string
	families []string
	year     int
}

// Prepare normalises w's title and authors.
func Prepare(w Work) Prepared {
	return Prepared{title: []rune(Normalize(w.Title)), numbers: numbers(w.Title), families: Families(w.Authors), year: w.Year}
}

// FirstFamily is the first author's family name, "" when unknown.
func (p *Prepared) FirstFamily() string {
	if len(p.families) == 0 {
		return ""
	}
	return p.families[0]
}

// ComparePrepared scores a against b.
func ComparePrepared(a, b *Prepared) Score {
	s := Score{Title: extract.SimilarityRunes(a.title, b.title), Authors: -1, YearDiff: -1,
		NumbersDiffer: !slices.Equal(a.numbers, b.numbers)}
	if len(a.families) > 0 && len(b.families) > 0 {
		s.FirstAuthor = a.families[0] == b.families[0]
		s.Authors = f1(a.families, b.families)
	}
	if a.year != 0 && b.year != 0 {
		s.YearDiff = max(a.year-b.year, b.year-a.year)
	}
	return s
}

// MayBeDuplicates is a cheap test ruling out most pairs before
// ComparePrepared: titles whose lengths alone make them less than
// Duplicate alike, or different numbers, or different first authors.
func MayBeDuplicates(a, b *Prepared) bool {
	la, lb := len(a.title), len(b.title)
	if la == 0 || lb == 0 || float64(max(la, lb)-min(la, lb)) > (1-Duplicate)*float64(max(la, lb)) {
		return false
	}
	if !slices.Equal(a.numbers, b.numbers) {
		return false
	}
	if fa, fb := a.FirstFamily(), b.FirstFamily(); fa != "" && fb != "" && fa != fb {
		return false
	}
	return withinDistance(a.title, b.title, int((1-Duplicate)*float64(max(la, lb))))
}

// withinDistance reports whether the edit distance of a and b is at most
// k, computing only the band of width 2k+1 around the diagonal.
func withinDistance(a, b []rune, k int) bool {
	if len(a) > len(b) {
		a, b = b, a
	}
	if len(b)-len(a) > k {
		return false
	}
	const inf = 1 << 30
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
		if j > k {
			prev[j] = inf
		}
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(len(b), i+k)
		for j := range cur {
			cur[j] = inf
		}
		if i <= k {
			cur[0] = i
		}
		best := cur[0]
		for j := lo; j <= hi; j++ {
			c := prev[j-1]
			if a[i-1] != b[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
			best = min(best, cur[j])
		}
		if best > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(b)] <= k
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
	return !s.NumbersDiffer && s.Title >= TitleSearch && s.authorsAgree() && s.yearAgrees()
}

// SameByIdentifier reports whether a record named by an identifier found
// in a PDF is the PDF's own work: its title agrees as for a search, or
// (a title read less well) it agrees less but the author list is nearly
// the same, first author included. A cited paper by the same group with
// a title a few words apart fails both.
func (s Score) SameByIdentifier() bool {
	switch {
	case s.NumbersDiffer:
		return false
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

// SameTitleAuthorYear reports whether two papers of a library are
// probably one work by their titles (at least Duplicate alike, the same
// numbers), first authors and years (yearSlack apart at most).
func (s Score) SameTitleAuthorYear(yearSlack int) bool {
	return !s.NumbersDiffer && s.Title >= Duplicate && (s.Authors < 0 || s.FirstAuthor) && s.YearDiff <= yearSlack
}

// romans are the numerals that tell parts apart; "i", "v" and "x" are left
// out, being words or letters too often.
var romans = map[string]bool{"ii": true, "iii": true, "iv": true, "vi": true, "vii": true, "viii": true, "ix": true, "xi": true, "xii": true}

// numbers are the number tokens of a title, in order.
func numbers(title string) []string {
	var out []string
	for _, w := range strings.Fields(Normalize(title)) {
		if romans[w] || strings.IndexFunc(w, func(r rune) bool { return !unicode.IsDigit(r) }) < 0 {
			out = append(out, w)
		}
	}
	return out
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
	return extract.Similarity(Normalize(a), Normalize(b))
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
