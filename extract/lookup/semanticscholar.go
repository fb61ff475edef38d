package lookup

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/paperfs/paperfs/extract"
	"github.com/paperfs/paperfs/meta"
)

// semanticScholar is the Semantic Scholar Academic Graph API
// (https://api.semanticscholar.org/api-docs/graph):
// /graph/v1/paper/search?query=...&fields=...
type semanticScholar struct {
	f    *fetcher
	base string
}

func (s *semanticScholar) name() string { return meta.SourceSemanticScholar }

const s2Fields = "title,authors,year,venue,externalIds,publicationTypes"

type s2Paper struct {
	Title       string                  `json:"title"`
	Year        *int                    `json:"year"`
	Venue       string                  `json:"venue"`
	ExternalIDs map[string]any          `json:"externalIds"`
	Types       []string                `json:"publicationTypes"`
	Authors     []struct{ Name string } `json:"authors"`
}

func (s *semanticScholar) searchTitle(ctx context.Context, title, _ string) ([]Record, error) {
	body, err := s.f.get(ctx, s.base+"/graph/v1/paper/search?"+url.Values{"query": {title}, "limit": {"5"}, "fields": {s2Fields}}.Encode())
	if err != nil {
		return nil, err
	}
	var resp struct {
		Total *int      `json:"total"`
		Data  []s2Paper `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Total == nil {
		return nil, fmt.Errorf("semanticscholar: search: %w: %s", ErrMalformed, why(err, snippet(body)))
	}
	var out []Record
	for _, p := range resp.Data {
		if r := p.record(); r.Title != "" {
			out = append(out, r)
		}
	}
	return out, nil
}

func (p s2Paper) record() Record {
	r := Record{Source: meta.SourceSemanticScholar, Title: cleanTitle(p.Title), Venue: strings.TrimSpace(p.Venue)}
	if p.Year != nil {
		r.Year = *p.Year
	}
	if d, ok := p.ExternalIDs["DOI"].(string); ok {
		r.DOI = extract.NormalizeDOI(d)
	}
	if a, ok := p.ExternalIDs["ArXiv"].(string); ok {
		r.ArXiv = a
	}
	for _, a := range p.Authors {
		if n := strings.TrimSpace(a.Name); n != "" {
			r.Authors = append(r.Authors, n)
		}
	}
	for _, t := range p.Types {
		switch t {
		case "JournalArticle":
			r.Type = meta.Article
		case "Conference":
			r.Type = meta.Conference
		case "Book":
			r.Type = meta.Book
		}
	}
	if r.Type == "" && r.Venue == "" && r.ArXiv != "" && (r.DOI == "" || strings.HasPrefix(r.DOI, "10.48550/")) {
		r.Type = meta.Preprint
	}
	return r
}
