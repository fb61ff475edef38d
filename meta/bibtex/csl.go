package bibtex

import (
	"cmp"
	"encoding/json"
	"io"
	"slices"
	"strings"

	"github.com/paperfs/paperfs/meta"
)

// CSLName is a CSL-JSON name.
type CSLName struct {
	Family              string `json:"family,omitempty"`
	Given               string `json:"given,omitempty"`
	NonDroppingParticle string `json:"non-dropping-particle,omitempty"`
	Suffix              string `json:"suffix,omitempty"`
	Literal             string `json:"literal,omitempty"`
}

// CSLDate is a CSL-JSON date.
type CSLDate struct {
	DateParts [][]int `json:"date-parts"`
}

// CSLItem is one CSL-JSON item, as Zotero, pandoc and citeproc read it.
type CSLItem struct {
	ID             string    `json:"id"`
	Type           string    `json:"type"`
	Title          string    `json:"title,omitempty"`
	Author         []CSLName `json:"author,omitempty"`
	Issued         *CSLDate  `json:"issued,omitempty"`
	ContainerTitle string    `json:"container-title,omitempty"`
	Publisher      string    `json:"publisher,omitempty"`
	Number         string    `json:"number,omitempty"`
	DOI            string    `json:"DOI,omitempty"`
	URL            string    `json:"URL,omitempty"`
	Abstract       string    `json:"abstract,omitempty"`
}

// CSL maps a paper to a CSL-JSON item; its id is the citation key.
func CSL(p *meta.Paper) CSLItem {
	it := CSLItem{ID: cmp.Or(p.CiteKey, p.ID), Title: p.Title, DOI: p.DOI, URL: p.URL, Abstract: p.Abstract}
	for _, a := range p.Authors {
		n := ParseName(a)
		if n.Literal != "" {
			it.Author = append(it.Author, CSLName{Literal: n.Literal})
			continue
		}
		it.Author = append(it.Author, CSLName{Family: n.Last, Given: n.First, NonDroppingParticle: n.Von, Suffix: n.Jr})
	}
	if p.Year != 0 {
		it.Issued = &CSLDate{DateParts: [][]int{{p.Year}}}
	}
	switch {
	case isArXivOnly(p):
		it.Type, it.Publisher, it.Number = "article", "arXiv", "arXiv:"+p.ArXiv
		it.ContainerTitle = p.Venue
	case p.Type == meta.Article:
		it.Type, it.ContainerTitle = "article-journal", p.Venue
	case p.Type == meta.Conference:
		it.Type, it.ContainerTitle = "paper-conference", p.Venue
	case p.Type == meta.Book:
		it.Type, it.Publisher = "book", p.Venue
	case p.Type == meta.Thesis:
		it.Type, it.Publisher = "thesis", p.Venue
	default:
		it.Type, it.ContainerTitle = "document", p.Venue
	}
	if it.URL == "" && p.ArXiv != "" {
		it.URL = "https://arxiv.org/abs/" + p.ArXiv
	}
	return it
}

// WriteCSL writes the papers as a CSL-JSON array, ordered by citation key.
// Trashed papers are left out.
func WriteCSL(w io.Writer, papers []meta.Paper) error {
	items := []CSLItem{}
	for i := range papers {
		if papers[i].Trashed == nil {
			items = append(items, CSL(&papers[i]))
		}
	}
	slices.SortFunc(items, func(a, b CSLItem) int { return strings.Compare(strings.ToLower(a.ID), strings.ToLower(b.ID)) })
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(items)
}
