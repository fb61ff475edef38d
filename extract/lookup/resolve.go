package lookup

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/match"
)

// Query is what is known of a paper before the lookup.
type Query struct {
	Title   string
	Authors []string
	Year    int
	DOI     string
	ArXiv   string
	// TitleRead says the title was read from the PDF rather than guessed
	// from its file name, so a record an identifier names can be checked
	// against it.
	TitleRead bool
}

// QueryOf is the query for a paper: its current fields, the title counted
// as read when its confidence is above a file-name guess.
func QueryOf(p *meta.Paper) Query {
	c, ok := p.Confidence["title"]
	return Query{Title: p.Title, Authors: p.Authors, Year: p.Year, DOI: p.DOI, ArXiv: p.ArXiv,
		TitleRead: p.Title != "" && (!ok || c > 0.2)}
}

func (q Query) work() match.Work { return match.Work{Title: q.Title, Authors: q.Authors, Year: q.Year} }

func (r *Record) work() match.Work {
	return match.Work{Title: r.Title, Authors: r.Authors, Year: r.Year}
}

// Match is an accepted record.
type Match struct {
	Record     Record
	By         string // "doi", "arxiv" or "title"
	Score      match.Score
	Confidence float64 // given to the fields it sets; below 1, which is the user's
}

// Result is what a lookup found.
type Result struct {
	// Main is the record of the PDF's own version; nil if none was
	// accepted.
	Main *Match
	// Published is the published version of a preprint (Main from arXiv).
	Published *Match
	// Refuted lists the paper's identifiers ("doi", "arxiv") found to
	// name another work (a cited paper's), with the service that said so.
	Refuted map[string]string
	// Rejected says which candidates were turned down and why, for the
	// log.
	Rejected []string
}

func (r *Result) refute(field, source string) {
	if r.Refuted == nil {
		r.Refuted = map[string]string{}
	}
	r.Refuted[field] = source
}

// Confidence of a match: a record named by an identifier and checked
// against the PDF's title; one found by a title search scales with how
// well it agrees; one named by an identifier that could not be checked
// (the PDF's title is unreadable) only replaces guesses.
const (
	confIdentifier = 0.95
	confUnchecked  = 0.6
)

// Resolve looks a paper up: by arXiv id, by DOI, then by title. It returns
// an error only when a service could not be asked (ErrUnavailable, ctx):
// the lookup should be tried again later. Records that do not match are
// listed in Result.Rejected, never returned as matches.
func (l *Lookup) Resolve(ctx context.Context, q Query) (Result, error) {
	var res Result
	if l.off {
		return res, ErrOff
	}
	if q.ArXiv != "" {
		rec, err := l.arxiv.byID(ctx, q.ArXiv)
		switch {
		case err == nil:
			if m, why := identified(q, rec, "arxiv"); m != nil {
				res.Main = m
			} else {
				res.Rejected = append(res.Rejected, why)
				res.refute("arxiv", rec.Source)
			}
		case skippable(err):
			res.Rejected = append(res.Rejected, err.Error())
		default:
			return res, err
		}
		if res.Main != nil {
			pub, err := l.published(ctx, &res.Main.Record, &res)
			if err != nil {
				return res, err
			}
			res.Published = pub
			return res, nil
		}
	}
	if q.DOI != "" {
		rec, err := l.crossref.byDOI(ctx, q.DOI)
		switch {
		case err == nil:
			if m, why := identified(q, rec, "doi"); m != nil {
				res.Main = m
				return res, nil
			} else {
				res.Rejected = append(res.Rejected, why)
				res.refute("doi", rec.Source)
			}
		case skippable(err):
			res.Rejected = append(res.Rejected, err.Error())
		default:
			return res, err
		}
	}
	if !q.TitleRead {
		return res, nil
	}
	m, err := l.searchAll(ctx, q.work(), &res, q.ArXiv != "")
	if err != nil {
		return res, err
	}
	res.Main = m
	return res, nil
}

// skippable errors end one way of looking a paper up, not the lookup.
func skippable(err error) bool {
	return errors.Is(err, ErrNotFound) || errors.Is(err, ErrMalformed) || errors.Is(err, ErrRefused)
}

// identified checks a record an identifier named against the paper.
func identified(q Query, rec Record, by string) (*Match, string) {
	if !q.TitleRead {
		return &Match{Record: rec, By: by, Confidence: confUnchecked}, ""
	}
	s := match.Compare(q.work(), rec.work())
	if !s.SameByIdentifier() {
		return nil, fmt.Sprintf("%s %s names %q (%s), not this paper (title similarity %.2f, first author same: %v): probably a cited work",
			by, idOf(rec, by), rec.Title, rec.Source, s.Title, s.FirstAuthor)
	}
	return &Match{Record: rec, By: by, Score: s, Confidence: confIdentifier}, ""
}

func idOf(r Record, by string) string {
	if by == "arxiv" {
		return r.ArXiv
	}
	return r.DOI
}

// published finds the published version of an arXiv preprint: the DOI its
// authors gave arXiv (checked at Crossref), else their journal reference,
// else a title search that skips preprints.
func (l *Lookup) published(ctx context.Context, pre *Record, res *Result) (*Match, error) {
	if pre.DOI != "" {
		rec, err := l.crossref.byDOI(ctx, pre.DOI)
		switch {
		case err == nil:
			s := match.Compare(pre.work(), rec.work())
			if s.SameByIdentifier() {
				if rec.Venue == "" {
					rec.Venue = pre.JournalRef
				}
				return &Match{Record: rec, By: "doi", Score: s, Confidence: confIdentifier}, nil
			}
			res.Rejected = append(res.Rejected, fmt.Sprintf("the DOI %s arXiv gives names %q, not the preprint's title", pre.DOI, rec.Title))
		case skippable(err):
			res.Rejected = append(res.Rejected, err.Error())
		default:
			return nil, err
		}
	}
	if pre.JournalRef != "" || pre.DOI != "" {
		rec := Record{Source: meta.SourceArXiv, Venue: pre.JournalRef, Year: journalRefYear(pre.JournalRef), DOI: pre.DOI}
		if rec.Year < pre.Year {
			rec.Year = 0
		}
		return &Match{Record: rec, By: "arxiv", Confidence: confIdentifier}, nil
	}
	m, err := l.searchAll(ctx, pre.work(), res, true)
	if err != nil || m == nil || m.Record.preprint() {
		return nil, err
	}
	return m, nil
}

// searchAll asks each title-search service in turn and returns the first
// unambiguous accepted record. With published set, preprint records are
// left out (a published version is wanted).
func (l *Lookup) searchAll(ctx context.Context, w match.Work, res *Result, published bool) (*Match, error) {
	author := ""
	if fs := match.Families(w.Authors); len(fs) > 0 {
		author = fs[0]
	}
	unavailable := 0
	for _, s := range l.search {
		recs, err := s.searchTitle(ctx, w.Title, author)
		switch {
		case err == nil:
		case skippable(err):
			res.Rejected = append(res.Rejected, err.Error())
			continue
		case errors.Is(err, ErrUnavailable):
			// Another service may answer; if none does, try later.
			res.Rejected = append(res.Rejected, err.Error())
			unavailable++
			continue
		default:
			return nil, err
		}
		m, why := best(w, recs, published)
		if why != "" {
			res.Rejected = append(res.Rejected, s.name()+": "+why)
		}
		if m != nil {
			return m, nil
		}
	}
	if unavailable > 0 && unavailable == len(l.search) {
		return nil, fmt.Errorf("title search: %w: no service answered", ErrUnavailable)
	}
	return nil, nil
}

// ambiguity is how close in rank two accepted records of different works
// may be before neither is taken.
const ambiguity = 0.03

// best picks the accepted record among a search's answers. A preprint and
// its published version both matching is not ambiguous: the published one
// is taken. Two published records of different DOIs ranked alike are.
func best(w match.Work, recs []Record, publishedOnly bool) (*Match, string) {
	type cand struct {
		r Record
		s match.Score
	}
	var ok []cand
	var rejected []string
	for _, r := range recs {
		s := match.Compare(w, r.work())
		if !s.SameBySearch() {
			rejected = append(rejected, fmt.Sprintf("%q (title %.2f)", r.Title, s.Title))
			continue
		}
		if publishedOnly && r.preprint() {
			continue
		}
		ok = append(ok, cand{r, s})
	}
	if len(ok) == 0 {
		if len(rejected) == 0 {
			return nil, "no candidate"
		}
		return nil, fmt.Sprintf("no candidate agrees: %v", rejected)
	}
	if !publishedOnly && slices.ContainsFunc(ok, func(c cand) bool { return !c.r.preprint() }) {
		ok = slices.DeleteFunc(ok, func(c cand) bool { return c.r.preprint() })
	}
	slices.SortStableFunc(ok, func(a, b cand) int {
		switch ra, rb := a.s.Rank(), b.s.Rank(); {
		case ra > rb:
			return -1
		case ra < rb:
			return 1
		}
		return 0
	})
	top := ok[0]
	for _, c := range ok[1:] {
		if top.s.Rank()-c.s.Rank() < ambiguity && !sameWork(&top.r, &c.r) {
			return nil, fmt.Sprintf("ambiguous: %q (%s, DOI %s) and %q (%s, DOI %s) match alike",
				top.r.Title, top.r.Venue, top.r.DOI, c.r.Title, c.r.Venue, c.r.DOI)
		}
	}
	return &Match{Record: top.r, By: "title", Score: top.s, Confidence: min(0.95, max(0.8, 0.8+top.s.Rank()-0.85))}, ""
}

// sameWork: two records of one search answer are one work (a service
// listing it twice) when their DOIs, or without DOIs their titles and
// years, are the same.
func sameWork(a, b *Record) bool {
	if a.DOI != "" && b.DOI != "" {
		return a.DOI == b.DOI
	}
	return match.Normalize(a.Title) == match.Normalize(b.Title) && a.Year == b.Year
}
