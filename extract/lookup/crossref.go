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

// crossref is the Crossref REST API (https://api.crossref.org/swagger-ui/
// and https://www.crossref.org/documentation/retrieve-metadata/rest-api/):
// /works/{doi} for a DOI, /works?query.bibliographic= for a title.
type crossref struct {
	f     *fetcher
	base  string
	email string
}

func (c *crossref) name() string { return meta.SourceCrossref }

type crossrefWork struct {
	DOI    string   `json:"DOI"`
	Title  []string `json:"title"`
	Author []struct {
		Given  string `json:"given"`
		Family string `json:"family"`
		Name   string `json:"name"` // an organisation
	} `json:"author"`
	Issued         crossrefDate `json:"issued"`
	PublishedPrint crossrefDate `json:"published-print"`
	ContainerTitle []string     `json:"container-title"`
	Type           string       `json:"type"`
	URL            string       `json:"URL"`
	Abstract       string       `json:"abstract"`
}

type crossrefDate struct {
	DateParts [][]*int `json:"date-parts"`
}

func (d crossrefDate) year() int {
	if len(d.DateParts) > 0 && len(d.DateParts[0]) > 0 && d.DateParts[0][0] != nil {
		return *d.DateParts[0][0]
	}
	return 0
}

func (c *crossref) query() string {
	if c.email == "" {
		return ""
	}
	return "mailto=" + url.QueryEscape(c.email)
}

// byDOI returns the work a DOI names.
func (c *crossref) byDOI(ctx context.Context, doi string) (Record, error) {
	u := c.base + "/works/" + url.PathEscape(doi)
	if q := c.query(); q != "" {
		u += "?" + q
	}
	body, err := c.f.get(ctx, u)
	if err != nil {
		return Record{}, fmt.Errorf("DOI %s: %w", doi, err)
	}
	var resp struct {
		Status  string       `json:"status"`
		Message crossrefWork `json:"message"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status != "ok" || len(resp.Message.Title) == 0 {
		return Record{}, fmt.Errorf("crossref: DOI %s: %w: %s", doi, ErrMalformed, why(err, snippet(body)))
	}
	return resp.Message.record(), nil
}

func (c *crossref) searchTitle(ctx context.Context, title, author string) ([]Record, error) {
	q := url.Values{"query.bibliographic": {title}, "rows": {"5"}}
	if author != "" {
		q.Set("query.author", author)
	}
	if c.email != "" {
		q.Set("mailto", c.email)
	}
	body, err := c.f.get(ctx, c.base+"/works?"+q.Encode())
	if err != nil {
		return nil, err
	}
	var resp struct {
		Status  string `json:"status"`
		Message struct {
			Items []crossrefWork `json:"items"`
		} `json:"message"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status != "ok" {
		return nil, fmt.Errorf("crossref: search: %w: %s", ErrMalformed, why(err, snippet(body)))
	}
	var out []Record
	for _, w := range resp.Message.Items {
		if len(w.Title) > 0 {
			out = append(out, w.record())
		}
	}
	return out, nil
}

func (w crossrefWork) record() Record {
	r := Record{Source: meta.SourceCrossref, DOI: extract.NormalizeDOI(w.DOI), URL: w.URL, Type: crossrefType(w.Type)}
	if len(w.Title) > 0 {
		r.Title = cleanTitle(w.Title[0])
	}
	for _, a := range w.Author {
		n := strings.TrimSpace(strings.TrimSpace(a.Given) + " " + strings.TrimSpace(a.Family))
		if n == "" {
			n = strings.TrimSpace(a.Name)
		}
		if n != "" {
			r.Authors = append(r.Authors, n)
		}
	}
	r.Year = w.PublishedPrint.year()
	if r.Year == 0 {
		r.Year = w.Issued.year()
	}
	if len(w.ContainerTitle) > 0 {
		r.Venue = strings.TrimSpace(w.ContainerTitle[0])
	}
	r.Abstract = strings.TrimSpace(cleanTitle(w.Abstract))
	return r
}

// crossrefType maps Crossref's work types (https://api.crossref.org/types).
func crossrefType(t string) meta.Type {
	switch t {
	case "journal-article":
		return meta.Article
	case "proceedings-article":
		return meta.Conference
	case "book", "monograph", "edited-book", "reference-book":
		return meta.Book
	case "dissertation":
		return meta.Thesis
	case "posted-content":
		return meta.Preprint
	case "":
		return ""
	}
	return meta.Other
}

func why(err error, body string) string {
	if err != nil {
		return err.Error()
	}
	return body
}
