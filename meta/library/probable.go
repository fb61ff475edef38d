package library

import (
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/match"
)

// Probable duplicates: papers that are probably one work, listed for the
// user to merge (`paperfs merge`, the mount's duplicates/ view) and never
// merged automatically. Unlike the duplicates of duplicates.go (one PDF
// indexed twice, merged by every device on its own), these are different
// PDFs: two downloads of one paper, a preprint and its published version.

// Why two papers are in one group.
const (
	SameDOI       = "same DOI"
	SameArXiv     = "same arXiv id"
	SameTitle     = "same title, first author and year"
	PreprintOf    = "a preprint and its published version"
	sameTitleNote = "titles %.0f%% alike"
)

// DuplicateGroup is a set of papers that are probably the same work, the
// paper added first first.
type DuplicateGroup struct {
	Papers  []meta.Paper
	Reasons []string // why, one line per linked pair, e.g. "same DOI 10.1145/..."
}

// Papers is what ProbableDuplicates reads: meta.Store.
type Papers interface {
	ForEach(fn func(p meta.Paper) bool) error
}

// ProbableDuplicates lists the groups of papers (not in the trash, not
// merged) that are probably one work: the same DOI or arXiv id, a
// preprint whose published version's DOI is another paper's, or titles
// at least match.Duplicate alike with the same first author and the same
// year (a year apart for a preprint and a published paper). Groups are
// ordered by their first paper's id. It reads every paper once and
// compares titles only among papers sharing a first author's family name
// (or, without authors, a normalised title).
func ProbableDuplicates(ps Papers) ([]DuplicateGroup, error) {
	var all []meta.Paper
	if err := ps.ForEach(func(p meta.Paper) bool {
		if p.Trashed == nil && p.MergedInto == "" {
			all = append(all, p)
		}
		return true
	}); err != nil {
		return nil, err
	}
	u := newUnion(len(all))
	prep := make([]match.Prepared, len(all))
	for i := range all {
		prep[i] = match.Prepare(match.Work{Title: all[i].Title, Authors: all[i].Authors, Year: all[i].Year})
	}
	byID := map[string]map[string][]int{"doi": {}, "arxiv": {}}
	buckets := map[string][]int{}
	for i := range all {
		p := &all[i]
		if d := strings.ToLower(p.DOI); d != "" {
			byID["doi"][d] = append(byID["doi"][d], i)
		}
		if p.ArXiv != "" {
			byID["arxiv"][p.ArXiv] = append(byID["arxiv"][p.ArXiv], i)
		}
		if f := prep[i].FirstFamily(); f != "" {
			buckets["a:"+f] = append(buckets["a:"+f], i)
		} else if t := match.Normalize(p.Title); t != "" {
			buckets["t:"+t] = append(buckets["t:"+t], i)
		}
	}
	for kind, m := range byID {
		reason := SameDOI
		if kind == "arxiv" {
			reason = SameArXiv
		}
		for v, is := range m {
			for _, j := range is[1:] {
				u.join(is[0], j, fmt.Sprintf("%s %s", reason, v))
			}
		}
	}
	for i := range all {
		if pub := all[i].Published; pub != nil && pub.DOI != "" {
			for _, j := range byID["doi"][strings.ToLower(pub.DOI)] {
				if j != i {
					u.join(i, j, fmt.Sprintf("%s (DOI %s)", PreprintOf, pub.DOI))
				}
			}
		}
	}
	for _, is := range buckets {
		for x := 0; x < len(is); x++ {
			for y := x + 1; y < len(is); y++ {
				a, b := is[x], is[y]
				if !match.MayBeDuplicates(&prep[a], &prep[b]) {
					continue
				}
				if why := sameWork(&all[a], &all[b], match.ComparePrepared(&prep[a], &prep[b])); why != "" {
					u.join(is[x], is[y], why)
				}
			}
		}
	}
	return u.groups(all), nil
}

// sameWork says why two papers, scored s, are probably one work by their
// titles, first authors and years, or "".
func sameWork(a, b *meta.Paper, s match.Score) string {
	pre := isPreprint(a) != isPreprint(b)
	slack := 0
	if pre {
		slack = 1
	}
	if !s.SameTitleAuthorYear(slack) {
		return ""
	}
	switch {
	case s.YearDiff <= 0:
		if pre {
			return fmt.Sprintf("%s ("+sameTitleNote+")", PreprintOf, 100*s.Title)
		}
		return fmt.Sprintf("%s ("+sameTitleNote+")", SameTitle, 100*s.Title)
	case s.YearDiff == 1 && pre:
		return fmt.Sprintf("%s ("+sameTitleNote+", a year apart)", PreprintOf, 100*s.Title)
	}
	return ""
}

func isPreprint(p *meta.Paper) bool {
	return p.Type == meta.Preprint || p.ArXiv != "" && p.DOI == "" && p.Venue == ""
}

// union is a union-find over paper indexes that remembers why it joined.
type union struct {
	parent []int
	why    map[int][]string // root -> reasons
}

func newUnion(n int) *union {
	u := &union{parent: make([]int, n), why: map[int][]string{}}
	for i := range u.parent {
		u.parent[i] = i
	}
	return u
}

func (u *union) find(i int) int {
	for u.parent[i] != i {
		u.parent[i] = u.parent[u.parent[i]]
		i = u.parent[i]
	}
	return i
}

func (u *union) join(a, b int, why string) {
	ra, rb := u.find(a), u.find(b)
	if ra != rb {
		u.parent[rb] = ra
		u.why[ra] = append(u.why[ra], u.why[rb]...)
		delete(u.why, rb)
	}
	if !slices.Contains(u.why[ra], why) {
		u.why[ra] = append(u.why[ra], why)
	}
}

func (u *union) groups(all []meta.Paper) []DuplicateGroup {
	members := map[int][]meta.Paper{}
	for i := range all {
		r := u.find(i)
		members[r] = append(members[r], all[i])
	}
	var out []DuplicateGroup
	for r, ps := range members {
		if len(ps) < 2 {
			continue
		}
		slices.SortFunc(ps, func(a, b meta.Paper) int {
			if c := a.Added.Compare(b.Added); c != 0 {
				return c
			}
			return strings.Compare(a.ID, b.ID)
		})
		why := slices.Clone(u.why[r])
		slices.Sort(why)
		out = append(out, DuplicateGroup{Papers: ps, Reasons: why})
	}
	slices.SortFunc(out, func(a, b DuplicateGroup) int { return strings.Compare(a.Papers[0].ID, b.Papers[0].ID) })
	return out
}

// ErrNotSame is returned by Merge for two papers that are not listed as
// probable duplicates, unless forced.
var ErrNotSame = errors.New("the papers do not look like the same work")

// MergeOptions tune Merge.
type MergeOptions struct {
	// Force merges papers that ProbableDuplicates does not group.
	Force bool
}

// Merge merges paper lose into keep, as the user asked: keep stays and
// gets lose's tags and folders, the fields the user edited on lose (unless
// edited on keep too), and the identifiers and published version keep
// lacks; lose's PDF goes to the trash folder and lose disappears from
// every view. Both changes are ops, synced like any edit. Papers that do
// not look like one work are refused unless opts.Force.
func (l *Library) Merge(keep, lose string, opts MergeOptions) (meta.Paper, error) {
	if keep == lose {
		return meta.Paper{}, fmt.Errorf("merging paper %s into itself", keep)
	}
	kp, err := l.store.Get(keep)
	if err != nil {
		return kp, fmt.Errorf("paper %s: %w", keep, err)
	}
	lp, err := l.store.Get(lose)
	if err != nil {
		return kp, fmt.Errorf("paper %s: %w", lose, err)
	}
	for _, p := range []meta.Paper{kp, lp} {
		if p.MergedInto != "" {
			return kp, fmt.Errorf("paper %s (%q) was merged into %s already", p.ID, p.Title, p.MergedInto)
		}
	}
	if kp.Trashed != nil {
		return kp, fmt.Errorf("paper %s (%q) is in the trash: restore it first ('paperfs trash restore %s')", keep, kp.Title, keep)
	}
	if !opts.Force {
		groups, err := ProbableDuplicates(pair{kp, lp})
		if err != nil {
			return kp, err
		}
		if len(groups) == 0 {
			return kp, fmt.Errorf("%q (%s) and %q (%s): %w (different title, first author or year); merge them anyway with --force",
				kp.Title, keep, lp.Title, lose, ErrNotSame)
		}
	}
	// The PDF goes first: a merged paper is in no index, so a PDF left at
	// its place would be indexed again as a new paper by the next scan.
	if lp.Trashed == nil {
		if _, err := l.Trash(lose); err != nil {
			return kp, fmt.Errorf("moving the PDF of %s to the trash: %w", lose, err)
		}
	}
	if err := l.store.Merge(keep, lose, carryAll); err != nil {
		return kp, fmt.Errorf("merging paper %s into %s: %w", lose, keep, err)
	}
	return l.store.Get(keep)
}

// pair lists two papers for ProbableDuplicates, trash state ignored.
type pair [2]meta.Paper

func (p pair) ForEach(fn func(meta.Paper) bool) error {
	for _, x := range p {
		x.Trashed = nil
		if !fn(x) {
			break
		}
	}
	return nil
}

// carryAll is carryOver plus what keep lacks of the other version's
// identity: its DOI or arXiv id, the published version.
func carryAll(keep *meta.Paper, lose meta.Paper) error {
	if err := carryOver(keep, lose); err != nil {
		return err
	}
	from := func(f string) {
		if src, ok := lose.Provenance[f]; ok {
			if keep.Provenance == nil {
				keep.Provenance = map[string]string{}
			}
			keep.Provenance[f] = src
		}
		if c, ok := lose.Confidence[f]; ok && keep.Confidence[f] != 1 {
			if keep.Confidence == nil {
				keep.Confidence = map[string]float64{}
			}
			keep.Confidence[f] = c
		}
	}
	if keep.DOI == "" && lose.DOI != "" {
		keep.DOI = lose.DOI
		from("doi")
	}
	if keep.ArXiv == "" && lose.ArXiv != "" {
		keep.ArXiv, keep.ArXivVersion = lose.ArXiv, lose.ArXivVersion
		from("arxiv")
	}
	if keep.Published == nil && lose.Published != nil {
		v := *lose.Published
		keep.Published = &v
		from("published")
	}
	return nil
}
