package lookup

import (
	"reflect"
	"strings"

	"github.com/paperfs/paperfs/meta"
)

// Apply writes what a lookup found into p and returns the fields it
// changed. It never overwrites a field the user set (confidence 1), nor a
// field whose origin is unknown (a value without a confidence: typed in
// another program, migrated from Paperlib, imported from BibTeX); it
// replaces a value only when the match is surer than what set it. Each
// field it sets or confirms records its confidence and its source in
// p.Provenance.
//
// For an arXiv preprint, the paper's own fields stay the preprint's and
// the published version goes to p.Published; which one is cited is
// p.Cite, which only the user sets.
func Apply(p *meta.Paper, res Result) []string {
	var changed []string
	for field, src := range res.Refuted {
		// An identifier read from the PDF that names another work goes,
		// unless the user typed it (or its origin is unknown).
		c, known := p.Confidence[field]
		if !known || c == 1 {
			continue
		}
		switch field {
		case "doi":
			p.DOI = ""
		case "arxiv":
			p.ArXiv, p.ArXivVersion = "", 0
		default:
			continue
		}
		delete(p.Confidence, field)
		if p.Provenance == nil {
			p.Provenance = map[string]string{}
		}
		p.Provenance[field] = src
		changed = append(changed, field)
	}
	if m := res.Main; m != nil {
		r := m.Record
		doi := r.DOI
		if r.Source == meta.SourceArXiv || strings.HasPrefix(doi, "10.48550/") {
			doi = "" // a preprint's DOI field is its published version's, or arXiv's own
		}
		a := applier{p: p, conf: m.Confidence, src: r.Source, changed: &changed}
		set(a, "title", &p.Title, r.Title)
		if len(r.Authors) > 0 {
			set(a, "authors", &p.Authors, r.Authors)
		}
		set(a, "year", &p.Year, r.Year)
		if r.Source != meta.SourceArXiv {
			set(a, "venue", &p.Venue, r.Venue)
		}
		set(a, "type", &p.Type, r.Type)
		set(a, "doi", &p.DOI, doi)
		set(a, "arxiv", &p.ArXiv, r.ArXiv)
		set(a, "url", &p.URL, r.URL)
		set(a, "abstract", &p.Abstract, r.Abstract)
	}
	if m := res.Published; m != nil {
		r := m.Record
		v := &meta.Published{Venue: r.Venue, Year: r.Year, DOI: r.DOI, Type: r.Type}
		if v.Type == meta.Preprint {
			v.Type = ""
		}
		a := applier{p: p, conf: m.Confidence, src: r.Source, changed: &changed}
		set(a, "published", &p.Published, v)
	}
	return changed
}

type applier struct {
	p       *meta.Paper
	conf    float64
	src     string
	changed *[]string
}

// set gives field the value v unless v is empty, the user set the field,
// or what is there is at least as sure.
func set[T any](a applier, field string, cur *T, v T) {
	if isZero(v) {
		return
	}
	c, known := a.p.Confidence[field]
	if !isZero(*cur) {
		fillable := known || field == "type" && any(*cur) == any(meta.Article) && a.p.Provenance[field] == ""
		if !fillable || c >= a.conf || c == 1 {
			return
		}
	}
	if c == 1 {
		return
	}
	same := reflect.DeepEqual(*cur, v)
	if same && known && c >= a.conf {
		return
	}
	*cur = v
	if a.p.Confidence == nil {
		a.p.Confidence = map[string]float64{}
	}
	if a.p.Provenance == nil {
		a.p.Provenance = map[string]string{}
	}
	// A value the service confirms is as sure as the match, and the
	// service is now where it comes from; only a new value is reported.
	a.p.Confidence[field] = a.conf
	a.p.Provenance[field] = a.src
	if !same {
		*a.changed = append(*a.changed, field)
	}
}

func isZero[T any](v T) bool {
	rv := reflect.ValueOf(&v).Elem()
	if rv.Kind() == reflect.Slice {
		return rv.Len() == 0
	}
	return rv.IsZero()
}
