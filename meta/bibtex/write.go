// Package bibtex turns papers into BibTeX and CSL-JSON and back: the
// library.bib a mount shows, `paperfs export`, and imports of .bib files
// (Paperlib's BibTeX export among them). Citation keys are assigned once,
// stored in the paper's citekey field, and never changed by paperfs after
// that. The package is pure apart from the small store interface that key
// assignment and imports use.
package bibtex

import (
	"cmp"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/paperfs/paperfs/meta"
)

// Field is one field of an entry, value as BibTeX source (already escaped).
type Field struct {
	Name, Value string
}

// Entry is one BibTeX entry.
type Entry struct {
	Type   string // lower case: article, inproceedings, ...
	Key    string
	Fields []Field
}

// Get returns a field's value, "" if absent. Names are case-insensitive.
func (e *Entry) Get(name string) string {
	for _, f := range e.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value
		}
	}
	return ""
}

func (e *Entry) add(name, value string) {
	if value != "" {
		e.Fields = append(e.Fields, Field{name, value})
	}
}

// isArXivOnly reports whether a paper is best cited as an arXiv preprint:
// typed so, or an article with no journal but an arXiv id.
func isArXivOnly(p *meta.Paper) bool {
	return p.ArXiv != "" && (p.Type == meta.Preprint || (p.Type == meta.Article && p.Venue == ""))
}

// proceedingsRe recognises the venue of a meeting, so a paper typed article
// (the extractor's default) is cited as @inproceedings there. "Proceedings"
// alone is not enough: PNAS and Proc. IEEE are journals.
var proceedingsRe = regexp.MustCompile(`(?i)\b(?:conference|conf\.|symposium|symp\.|workshop)`)

// entryType chooses a paper's entry type and the field its venue goes in.
// A type is used only when the paper has every field the standard styles
// require of it (author, title, year and the venue field): otherwise
// bibtex warns "empty journal" and the like for each such entry, so the
// paper is cited as @misc, which requires nothing, its venue (if any) in
// howpublished.
func entryType(p *meta.Paper) (typ, venueField string) {
	switch {
	case isArXivOnly(p):
		if p.Venue != "" {
			return "misc", "howpublished"
		}
		return "misc", ""
	case p.Type == meta.Article && proceedingsRe.MatchString(p.Venue):
		typ, venueField = "inproceedings", "booktitle"
	case p.Type == meta.Article:
		typ, venueField = "article", "journal"
	case p.Type == meta.Conference:
		typ, venueField = "inproceedings", "booktitle"
	case p.Type == meta.Book:
		typ, venueField = "book", "publisher"
	case p.Type == meta.Thesis:
		typ, venueField = "phdthesis", "school"
	default:
		return "misc", "howpublished"
	}
	if p.Venue == "" || len(p.Authors) == 0 || strings.TrimSpace(p.Title) == "" || p.Year == 0 {
		return "misc", "howpublished"
	}
	return typ, venueField
}

// FromPaper builds a paper's entry. The paper must have a citation key
// (see EnsureKeys); its personal note and rating are not exported.
func FromPaper(p *meta.Paper) Entry {
	p = citedVersion(p)
	e := Entry{Key: p.CiteKey}
	if e.Key == "" {
		e.Key = p.ID
	}
	venue := Escape(p.Venue)
	var venueField string
	e.Type, venueField = entryType(p)
	if len(p.Authors) > 0 {
		names := make([]string, len(p.Authors))
		for i, a := range p.Authors {
			names[i] = ParseName(a).bibtex()
		}
		e.add("author", strings.Join(names, " and "))
	} else {
		// Styles sort and label by author; without one they want a key.
		e.add("key", Escape(cmp.Or(p.Title, e.Key)))
	}
	e.add("title", protectTitle(p.Title))
	if venueField != "" {
		e.add(venueField, venue)
	}
	if p.Year != 0 {
		e.add("year", strconv.Itoa(p.Year))
	}
	e.add("doi", Escape(p.DOI))
	if p.ArXiv != "" {
		e.add("eprint", Escape(p.ArXiv))
		e.add("archiveprefix", "arXiv")
		if isArXivOnly(p) && p.Venue == "" {
			// Styles that know no eprint field (plain, alpha) still say
			// where to find the paper.
			e.add("howpublished", "arXiv preprint arXiv:"+Escape(p.ArXiv))
		}
	}
	if p.URL != "" {
		e.add("url", urlValue(p.URL))
	}
	return e
}

// citedVersion is the paper as its entry cites it: with "cite":
// "published", the published version's venue, year, DOI and type (the
// arXiv id stays, as an eprint).
func citedVersion(p *meta.Paper) *meta.Paper {
	v := p.Published
	if p.Cite != meta.CitePublished || v == nil {
		return p
	}
	q := *p
	q.Venue, q.Year, q.DOI = cmp.Or(v.Venue, q.Venue), cmp.Or(v.Year, q.Year), cmp.Or(v.DOI, q.DOI)
	q.Type = cmp.Or(v.Type, meta.Article)
	if q.Type == meta.Preprint {
		q.Type = meta.Article
	}
	return &q
}

// urlValue keeps a URL verbatim (the url package prints it as is) except for
// what would break the field: unbalanced braces and the percent sign, which
// ends a line for TeX.
func urlValue(u string) string {
	if !balanced(u) {
		u = strings.NewReplacer("{", "%7B", "}", "%7D").Replace(u)
	}
	return strings.ReplaceAll(u, "%", `\%`)
}

// Format renders an entry as BibTeX source.
func (e *Entry) Format() string {
	var b strings.Builder
	fmt.Fprintf(&b, "@%s{%s,\n", e.Type, e.Key)
	for _, f := range e.Fields {
		fmt.Fprintf(&b, "  %s = {%s},\n", f.Name, f.Value)
	}
	b.WriteString("}\n")
	return b.String()
}

// Write writes the papers' entries, ordered by citation key so the file
// diffs well. Trashed papers are left out.
func Write(w io.Writer, papers []meta.Paper) error {
	ps := slices.Clone(papers)
	slices.SortFunc(ps, func(a, b meta.Paper) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.CiteKey), strings.ToLower(b.CiteKey)), strings.Compare(a.ID, b.ID))
	})
	first := true
	for i := range ps {
		if ps[i].Trashed != nil {
			continue
		}
		e := FromPaper(&ps[i])
		s := e.Format()
		if !first {
			s = "\n" + s
		}
		first = false
		if _, err := io.WriteString(w, s); err != nil {
			return err
		}
	}
	return nil
}
