package bibtex

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/paperfs/paperfs/meta"
)

var (
	arxivNew  = regexp.MustCompile(`(?i)^(?:arxiv:)?(\d{4}\.\d{4,5})(?:v\d+)?$`)
	arxivOld  = regexp.MustCompile(`(?i)^(?:arxiv:)?([a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?$`)
	arxivURL  = regexp.MustCompile(`(?i)arxiv\.org/(?:abs|pdf)/([a-z.-]*/?\d{4,7}(?:\.\d{4,5})?)(?:v\d+)?`)
	arxivText = regexp.MustCompile(`(?i)arxiv:\s*(\d{4}\.\d{4,5}|[a-z-]+(?:\.[a-z]{2})?/\d{7})(?:v\d+)?`)
	yearRe    = regexp.MustCompile(`\b(\d{4})\b`)
	doiPrefix = regexp.MustCompile(`(?i)^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)`)
)

// ArXivID normalises an arXiv identifier ("arXiv:1706.03762v5" ->
// "1706.03762"), or returns "" if s is not one.
func ArXivID(s string) string {
	s = strings.TrimSpace(s)
	if m := arxivNew.FindStringSubmatch(s); m != nil {
		return m[1]
	}
	if m := arxivOld.FindStringSubmatch(s); m != nil {
		return strings.ToLower(m[1])
	}
	return ""
}

// mapped are the fields ToPaper uses; every other field is reported.
var mapped = []string{"author", "title", "year", "date", "journal", "journaltitle", "booktitle", "publisher",
	"school", "institution", "organization", "howpublished", "doi", "eprint", "archiveprefix", "eprinttype",
	"primaryclass", "eprintclass", "url", "abstract", "note", "urldate", "key"}

// ToPaper maps an entry to a paper. It returns the names of the fields
// paperfs has no place for (pages, volume, keywords, ...), so an import can
// report them.
func ToPaper(e *Entry) (meta.Paper, []string) {
	p := meta.Paper{CiteKey: e.Key, Title: Unescape(e.Get("title"))}
	for _, a := range splitAuthors(e.Get("author")) {
		if strings.EqualFold(strings.TrimSpace(a), "others") {
			continue
		}
		if s := parseBibName(a).String(); s != "" {
			p.Authors = append(p.Authors, s)
		}
	}
	if p.Authors == nil && e.Get("editor") != "" && (e.Type == "book" || e.Type == "proceedings") {
		for _, a := range splitAuthors(e.Get("editor")) {
			p.Authors = append(p.Authors, parseBibName(a).String())
		}
	}
	for _, f := range []string{"year", "date"} {
		if m := yearRe.FindStringSubmatch(e.Get(f)); m != nil {
			if y, _ := strconv.Atoi(m[1]); y >= meta.MinYear && y <= meta.MaxYear {
				p.Year = y
				break
			}
		}
	}
	p.DOI = strings.TrimSpace(doiPrefix.ReplaceAllString(Unescape(e.Get("doi")), ""))
	if ep := Unescape(e.Get("eprint")); ep != "" {
		kind := strings.ToLower(Unescape(e.Get("archiveprefix") + e.Get("eprinttype")))
		if kind == "arxiv" || kind == "" {
			p.ArXiv = ArXivID(ep)
		}
	}
	p.URL = strings.TrimSpace(strings.ReplaceAll(e.Get("url"), `\%`, "%"))
	if p.ArXiv == "" {
		if m := arxivURL.FindStringSubmatch(p.URL); m != nil {
			p.ArXiv = ArXivID(m[1])
		}
	}
	venueOf := func(fields ...string) string {
		for _, f := range fields {
			if v := Unescape(e.Get(f)); v != "" {
				return v
			}
		}
		return ""
	}
	switch e.Type {
	case "article":
		p.Type, p.Venue = meta.Article, venueOf("journal", "journaltitle")
	case "inproceedings", "conference", "incollection", "proceedings":
		p.Type, p.Venue = meta.Conference, venueOf("booktitle", "organization", "publisher")
	case "book", "inbook", "booklet", "mvbook", "collection":
		p.Type, p.Venue = meta.Book, venueOf("publisher", "organization")
	case "phdthesis", "mastersthesis", "thesis":
		p.Type, p.Venue = meta.Thesis, venueOf("school", "institution")
	case "techreport", "report":
		p.Type, p.Venue = meta.Other, venueOf("institution", "organization")
	default: // misc, online, unpublished, manual, ...
		p.Type, p.Venue = meta.Other, venueOf("howpublished", "organization", "publisher")
	}
	// Google Scholar and Paperlib cite preprints as journal = {arXiv
	// preprint arXiv:1706.03762}: that is an identifier, not a venue.
	if m := arxivText.FindStringSubmatch(p.Venue); m != nil {
		if p.ArXiv == "" {
			p.ArXiv = ArXivID(m[1])
		}
		p.Venue = ""
	}
	if strings.EqualFold(p.Venue, "arxiv") || strings.HasPrefix(strings.ToLower(p.Venue), "arxiv preprint") {
		p.Venue = ""
	}
	if p.ArXiv != "" && p.Venue == "" && (p.Type == meta.Other || p.Type == meta.Article) {
		p.Type = meta.Preprint
	}
	p.Abstract = Unescape(e.Get("abstract"))
	p.Note = Unescape(e.Get("note"))
	if p.ArXiv != "" && arxivText.MatchString(p.Note) && len(p.Note) < 40 {
		p.Note = "" // "arXiv:1706.03762": the identifier again
	}
	var unmapped []string
	for _, f := range e.Fields {
		if !slices.Contains(mapped, f.Name) && !(f.Name == "editor" && len(p.Authors) > 0 && e.Get("author") == "") {
			unmapped = append(unmapped, f.Name)
		}
	}
	if meta.Validate(&meta.Paper{CiteKey: p.CiteKey, Type: meta.Article}) != nil {
		unmapped = append(unmapped, "key")
		p.CiteKey = ""
	}
	return p, unmapped
}

// Store is what an import needs of the store (*meta.Store).
type Store interface {
	KeyCreator
	Get(id string) (meta.Paper, error)
	Update(id string, fn func(p *meta.Paper) error) (meta.Paper, error)
	ByIdentifier(kind, value string) ([]string, error)
	ByPath(rel string) (string, error)
}

// ImportOptions tune Import.
type ImportOptions struct {
	Tags []string // tags to give every imported paper
	// Link, if set, finds the PDF of an entry in the library folder (from
	// its file field, say). Empty means none.
	Link func(e *Entry, p *meta.Paper) meta.File
}

// Report says what an import did.
type Report struct {
	Imported []string          // ids of new papers
	Updated  []string          // ids of papers that were already there
	Unmapped map[string]int    // field name -> entries that had it
	Errors   []error           // per entry, naming its key and line
	Keys     map[string]string // citation key in the file -> paper id
	// Renamed lists keys already held by a different paper in the
	// library: the imported paper got the new key instead.
	Renamed map[string]string
}

// Import adds a .bib file's entries to the store, keeping their citation
// keys. An entry whose key, DOI or arXiv id matches a paper already there
// updates that paper (so importing the same file twice changes nothing the
// second time); the others become new papers.
func Import(s Store, src []byte, opts ImportOptions) (Report, error) {
	rep := Report{Unmapped: map[string]int{}, Keys: map[string]string{}, Renamed: map[string]string{}}
	entries, errs := Parse(src)
	rep.Errors = append(rep.Errors, errs...)
	for i := range entries {
		pe := &entries[i]
		p, unmapped := ToPaper(&pe.Entry)
		for _, f := range unmapped {
			rep.Unmapped[f]++
		}
		p.Tags = append(p.Tags, opts.Tags...)
		if opts.Link != nil {
			p.File = opts.Link(&pe.Entry, &p)
		}
		id, err := match(s, &p, &rep)
		if err != nil {
			return rep, err
		}
		if id == "" {
			np, err := CreateWithKey(s, p)
			if err != nil {
				rep.Errors = append(rep.Errors, fmt.Errorf("line %d, entry %s: %w", pe.Line, pe.Key, err))
				continue
			}
			rep.Imported = append(rep.Imported, np.ID)
			rep.Keys[pe.Key] = np.ID
			continue
		}
		_, err = s.Update(id, func(q *meta.Paper) error {
			merge(q, &p)
			return nil
		})
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("line %d, entry %s (paper %s): %w", pe.Line, pe.Key, id, err))
			continue
		}
		rep.Updated = append(rep.Updated, id)
		rep.Keys[pe.Key] = id
	}
	return rep, nil
}

// match finds the paper an imported one is: by DOI or arXiv id, else by
// citation key if nothing says the paper holding the key is another one.
// When a different paper holds the key, the imported one is known by the
// first of key+"a", key+"b", ... that is free or held by a matching paper
// (an earlier import of the same file), reported in Renamed.
func match(s Store, p *meta.Paper, rep *Report) (string, error) {
	if p.File.Path != "" {
		// The entry's PDF is a paper already (a scan found it).
		if id, err := s.ByPath(p.File.Path); err == nil {
			if q, err := live(s, id); err != nil {
				return "", err
			} else if q != nil {
				return id, nil
			}
		} else if !errors.Is(err, meta.ErrNotFound) {
			return "", err
		}
	}
	for _, k := range []struct{ kind, v string }{{"doi", p.DOI}, {"arxiv", p.ArXiv}} {
		if k.v == "" {
			continue
		}
		ids, err := s.ByIdentifier(k.kind, k.v)
		if err != nil {
			return "", err
		}
		for _, id := range ids {
			if q, err := live(s, id); err != nil {
				return "", err
			} else if q != nil {
				return id, nil
			}
		}
	}
	if p.CiteKey == "" {
		return "", nil
	}
	for n := 0; ; n++ {
		key := p.CiteKey + meta.KeySuffix(n)
		ids, err := s.ByIdentifier("citekey", key)
		if err != nil {
			return "", err
		}
		held := false
		for _, id := range ids {
			q, err := live(s, id)
			if err != nil {
				return "", err
			}
			if q == nil {
				continue
			}
			held = true
			if !conflicts(q, p) {
				if n > 0 {
					rep.Renamed[p.CiteKey] = q.CiteKey
				}
				p.CiteKey = q.CiteKey
				return id, nil
			}
		}
		if !held && len(ids) == 0 {
			if n > 0 {
				rep.Renamed[p.CiteKey] = key
				p.CiteKey = key
			}
			return "", nil
		}
	}
}

// live returns a paper unless it is trashed or gone.
func live(s Store, id string) (*meta.Paper, error) {
	q, err := s.Get(id)
	if errors.Is(err, meta.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if q.Trashed != nil {
		return nil, nil
	}
	return &q, nil
}

// conflicts reports whether two papers sharing a citation key are plainly
// different papers.
func conflicts(a, b *meta.Paper) bool {
	differ := func(x, y string) bool { return x != "" && y != "" && !strings.EqualFold(x, y) }
	return differ(a.DOI, b.DOI) || differ(a.ArXiv, b.ArXiv) || differ(strings.Join(strings.Fields(a.Title), " "), strings.Join(strings.Fields(b.Title), " "))
}

// merge puts what an imported entry says into an existing paper. Fields the
// entry has overwrite; fields it lacks are kept, as are the paper's PDF,
// tags (the import's are added), rating, flag and note.
func merge(q, p *meta.Paper) {
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&q.Title, p.Title)
	set(&q.Venue, p.Venue)
	set(&q.DOI, p.DOI)
	set(&q.ArXiv, p.ArXiv)
	set(&q.URL, p.URL)
	set(&q.Abstract, p.Abstract)
	set(&q.CiteKey, p.CiteKey)
	if q.Note == "" {
		q.Note = p.Note
	}
	if len(p.Authors) > 0 {
		q.Authors = p.Authors
	}
	if p.Year != 0 {
		q.Year = p.Year
	}
	// @misc says nothing about the kind of work (an export writes papers
	// it lacks the fields of their type for as @misc), so it keeps the
	// paper's type.
	if p.Type != "" && p.Type != meta.Other {
		q.Type = p.Type
	}
	if q.File.Path == "" && p.File.Path != "" {
		q.File = p.File
	}
	q.Tags = append(q.Tags, p.Tags...)
}
