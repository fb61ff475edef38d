package lookup

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/paperfs/paperfs/extract"
	"github.com/paperfs/paperfs/meta"
)

// arxiv is the arXiv API (https://info.arxiv.org/help/api/user-manual.html):
// /api/query?id_list= answers an Atom feed with one entry per id, with
// arxiv:doi and arxiv:journal_ref when the authors gave the published
// version.
type arxiv struct {
	f    *fetcher
	base string
}

type atomFeed struct {
	Total   int `xml:"http://a9.com/-/spec/opensearch/1.1/ totalResults"`
	Entries []struct {
		ID        string `xml:"http://www.w3.org/2005/Atom id"`
		Title     string `xml:"http://www.w3.org/2005/Atom title"`
		Summary   string `xml:"http://www.w3.org/2005/Atom summary"`
		Published string `xml:"http://www.w3.org/2005/Atom published"`
		Authors   []struct {
			Name string `xml:"http://www.w3.org/2005/Atom name"`
		} `xml:"http://www.w3.org/2005/Atom author"`
		DOI        string `xml:"http://arxiv.org/schemas/atom doi"`
		JournalRef string `xml:"http://arxiv.org/schemas/atom journal_ref"`
	} `xml:"http://www.w3.org/2005/Atom entry"`
}

var absIDRe = regexp.MustCompile(`arxiv\.org/abs/(.+?)(?:v(\d+))?$`)

// byID returns the record of an arXiv id (without version).
func (a *arxiv) byID(ctx context.Context, id string) (Record, error) {
	body, err := a.f.get(ctx, a.base+"/api/query?"+url.Values{"id_list": {id}, "max_results": {"1"}}.Encode())
	if err != nil {
		return Record{}, fmt.Errorf("arXiv %s: %w", id, err)
	}
	var feed atomFeed
	if err := xml.Unmarshal(body, &feed); err != nil {
		return Record{}, fmt.Errorf("arXiv %s: %w: %v", id, ErrMalformed, err)
	}
	if len(feed.Entries) == 0 {
		return Record{}, fmt.Errorf("arXiv %s: %w", id, ErrNotFound)
	}
	e := feed.Entries[0]
	if strings.Contains(e.ID, "/api/errors") {
		// The API reports a bad id as an entry titled "Error".
		return Record{}, fmt.Errorf("arXiv %s: %w: %s", id, ErrNotFound, strings.TrimSpace(e.Summary))
	}
	m := absIDRe.FindStringSubmatch(strings.TrimSpace(e.ID))
	if m == nil || strings.TrimSpace(e.Title) == "" {
		// Old API versions answered an unknown id with an empty entry.
		return Record{}, fmt.Errorf("arXiv %s: %w", id, ErrNotFound)
	}
	r := Record{Source: meta.SourceArXiv, Title: cleanTitle(e.Title), ArXiv: m[1], Type: meta.Preprint,
		DOI: extract.NormalizeDOI(e.DOI), JournalRef: strings.Join(strings.Fields(e.JournalRef), " "),
		URL: "https://arxiv.org/abs/" + m[1], Abstract: strings.Join(strings.Fields(e.Summary), " ")}
	r.ArXivVersion, _ = strconv.Atoi(m[2])
	if len(e.Published) >= 4 {
		r.Year, _ = strconv.Atoi(e.Published[:4])
	}
	for _, au := range e.Authors {
		if n := strings.Join(strings.Fields(au.Name), " "); n != "" {
			r.Authors = append(r.Authors, n)
		}
	}
	if r.ArXiv != id {
		return Record{}, fmt.Errorf("arXiv %s: %w: the answer is about %s", id, ErrMalformed, r.ArXiv)
	}
	return r, nil
}

var refYearRe = regexp.MustCompile(`\b(19[5-9]\d|20\d\d)\b`)

// journalRefYear is the last plausible year in a journal reference
// ("Advances in NeurIPS 30 (2017) 5998-6008" -> 2017).
func journalRefYear(ref string) int {
	m := refYearRe.FindAllString(ref, -1)
	if len(m) == 0 {
		return 0
	}
	y, _ := strconv.Atoi(m[len(m)-1])
	return y
}
