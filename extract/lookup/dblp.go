package lookup

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/paperfs/paperfs/extract"
	"github.com/paperfs/paperfs/meta"
)

// dblp is DBLP's publication search
// (https://dblp.org/faq/How+to+use+the+dblp+search+API.html):
// /search/publ/api?q=...&format=json.
type dblp struct {
	f    *fetcher
	base string
}

func (d *dblp) name() string { return meta.SourceDBLP }

// dblpAuthors is one author (an object) or several (an array).
type dblpAuthors []struct {
	Text string `json:"text"`
}

func (a *dblpAuthors) UnmarshalJSON(b []byte) error {
	var one struct {
		Author json.RawMessage `json:"author"`
	}
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	raw := strings.TrimSpace(string(one.Author))
	if strings.HasPrefix(raw, "{") {
		raw = "[" + raw + "]"
	}
	if raw == "" {
		return nil
	}
	return json.Unmarshal([]byte(raw), (*[]struct {
		Text string `json:"text"`
	})(a))
}

// homonymRe is DBLP's number telling apart people of one name ("Wei Li 0001").
var homonymRe = regexp.MustCompile(`\s+\d{4}$`)

func (d *dblp) searchTitle(ctx context.Context, title, author string) ([]Record, error) {
	q := title
	if author != "" {
		q += " " + author
	}
	body, err := d.f.get(ctx, d.base+"/search/publ/api?"+url.Values{"q": {q}, "format": {"json"}, "h": {"5"}}.Encode())
	if err != nil {
		return nil, err
	}
	var resp struct {
		Result *struct {
			Hits struct {
				Hit []struct {
					Info struct {
						Authors dblpAuthors `json:"authors"`
						Title   string      `json:"title"`
						Venue   any         `json:"venue"` // a string, or an array for joint venues
						Year    string      `json:"year"`
						Type    string      `json:"type"`
						DOI     string      `json:"doi"`
						EE      any         `json:"ee"`
						Volume  string      `json:"volume"`
						URL     string      `json:"url"`
					} `json:"info"`
				} `json:"hit"`
			} `json:"hits"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Result == nil {
		return nil, fmt.Errorf("dblp: search: %w: %s", ErrMalformed, why(err, snippet(body)))
	}
	var out []Record
	for _, h := range resp.Result.Hits.Hit {
		in := h.Info
		r := Record{Source: meta.SourceDBLP, Title: cleanTitle(in.Title), DOI: extract.NormalizeDOI(in.DOI), URL: in.URL}
		r.Year, _ = strconv.Atoi(in.Year)
		switch v := in.Venue.(type) {
		case string:
			r.Venue = v
		case []any:
			if len(v) > 0 {
				r.Venue, _ = v[0].(string)
			}
		}
		for _, a := range in.Authors {
			r.Authors = append(r.Authors, homonymRe.ReplaceAllString(strings.TrimSpace(a.Text), ""))
		}
		switch in.Type {
		case "Journal Articles":
			r.Type = meta.Article
		case "Conference and Workshop Papers":
			r.Type = meta.Conference
		case "Books and Theses":
			r.Type = meta.Book
		case "Informal and Other Publications", "Informal Publications":
			r.Type = meta.Other
		}
		if r.Venue == "CoRR" {
			r.Type = meta.Preprint
			r.ArXiv = strings.TrimPrefix(in.Volume, "abs/")
		}
		if r.Title != "" {
			out = append(out, r)
		}
	}
	return out, nil
}
