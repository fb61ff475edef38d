// Package meta is the paper library's metadata store: papers, their tags,
// authors, years and folders, the views over them, and the log of changes
// that the sync engine exchanges with other devices. It knows nothing of FUSE
// or MongoDB.
package meta

import (
	"encoding/json"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Type is a paper's bibliographic type.
type Type string

// The paper types. Unknown strings are rejected by Validate.
const (
	Article    Type = "article"
	Conference Type = "conference"
	Book       Type = "book"
	Thesis     Type = "thesis"
	Preprint   Type = "preprint"
	Other      Type = "other"
)

// Types lists the valid paper types.
var Types = []Type{Article, Conference, Book, Thesis, Preprint, Other}

// File locates a paper's PDF inside the library folder. Path is relative to
// the library folder, slash-separated, so the same record works on every
// device whatever the folder's absolute path there.
type File struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
}

// fileJSON is File's JSON form.
type fileJSON struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256,omitempty"`
	// PathBytes is the exact path when it is not valid UTF-8 (a name
	// written in another encoding): JSON strings can't hold such bytes, so
	// Path then shows them escaped, for people, and PathBytes keeps them.
	PathBytes []byte `json:"path_bytes,omitempty"`
}

// MarshalJSON keeps a path that is not valid UTF-8 byte for byte.
func (f File) MarshalJSON() ([]byte, error) {
	j := fileJSON{Path: f.Path, Size: f.Size, SHA256: f.SHA256}
	if !utf8.ValidString(f.Path) {
		j.Path, j.PathBytes = ShowPath(f.Path), []byte(f.Path)
	}
	return json.Marshal(j)
}

// UnmarshalJSON reads what MarshalJSON writes.
func (f *File) UnmarshalJSON(b []byte) error {
	var j fileJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	*f = File{Path: j.Path, Size: j.Size, SHA256: j.SHA256}
	if j.PathBytes != nil {
		f.Path = string(j.PathBytes)
	}
	return nil
}

// ShowPath is a file name or path as it is safe to print: bytes that are
// not UTF-8 and characters that are not graphic (control characters,
// escape sequences that would drive a terminal) are written as Go escapes
// (\x1b, \u200e). Other names are returned as they are.
func ShowPath(p string) string {
	if utf8.ValidString(p) && !strings.ContainsFunc(p, notGraphic) {
		return p
	}
	q := strconv.QuoteToGraphic(p)
	return q[1 : len(q)-1]
}

func notGraphic(r rune) bool { return !strconv.IsGraphic(r) }

// Paper is one paper's metadata. Its JSON form is the stable schema shown in
// the mount's sidecar files and stored in the database; see docs/schema.md.
type Paper struct {
	ID           string   `json:"id"`
	Title        string   `json:"title"`
	Authors      []string `json:"authors"`
	Year         int      `json:"year,omitempty"`
	Venue        string   `json:"venue,omitempty"`
	Type         Type     `json:"type"`
	DOI          string   `json:"doi,omitempty"`
	ArXiv        string   `json:"arxiv,omitempty"`
	ArXivVersion int      `json:"arxiv_version,omitempty"`
	// Published is the published version of a preprint, as a lookup
	// found it; the paper's own fields keep describing its PDF.
	Published *Published `json:"published,omitempty"`
	// Cite says which version a citation names: CitePreprint,
	// CitePublished, or "" (not chosen: the PDF's own fields). Only the
	// user sets it.
	Cite          string             `json:"cite,omitempty"`
	CiteKey       string             `json:"citekey,omitempty"`
	Tags          []string           `json:"tags"`
	Folders       []string           `json:"folders"`
	Rating        int                `json:"rating"`
	Flag          bool               `json:"flag"`
	Note          string             `json:"note,omitempty"`
	URL           string             `json:"url,omitempty"`
	Abstract      string             `json:"abstract,omitempty"`
	File          File               `json:"file"`
	Supplementary []string           `json:"supplementary,omitempty"`
	Confidence    map[string]float64 `json:"confidence,omitempty"`
	// Provenance says per field where its value came from: a Source.
	Provenance map[string]string `json:"provenance,omitempty"`
	Added      time.Time         `json:"added"`
	Modified   time.Time         `json:"modified"`
	// Trashed is set when the paper was deleted; its PDF then sits in the
	// library's trash folder and File.Path points there.
	Trashed *time.Time `json:"trashed,omitempty"`
	// MergedInto is set on a paper found to be the same PDF as another
	// (same content and path, indexed on two devices before they synced):
	// the id of the paper it was merged into. A merged paper is in no
	// view and no index but its citation key's; see merge.go.
	MergedInto string `json:"merged_into,omitempty"`
	// Missing is local to this device: the PDF is not (yet) in this
	// device's library folder. It is never synced.
	Missing bool `json:"missing,omitempty"`
}

// Published is where and when a preprint was published.
type Published struct {
	Venue string `json:"venue,omitempty"`
	Year  int    `json:"year,omitempty"`
	DOI   string `json:"doi,omitempty"`
	Type  Type   `json:"type,omitempty"`
}

// The values of Paper.Cite.
const (
	CitePreprint  = "preprint"
	CitePublished = "published"
)

// Sources of a field's value, as Paper.Provenance names them.
const (
	SourcePDF             = "pdf"
	SourceCrossref        = "crossref"
	SourceArXiv           = "arxiv"
	SourceDBLP            = "dblp"
	SourceSemanticScholar = "semanticscholar"
	SourceUser            = "user"
)

// Clone returns a deep copy.
func (p Paper) Clone() Paper {
	p.Authors = slices.Clone(p.Authors)
	p.Tags = slices.Clone(p.Tags)
	p.Folders = slices.Clone(p.Folders)
	p.Supplementary = slices.Clone(p.Supplementary)
	if p.Confidence != nil {
		c := make(map[string]float64, len(p.Confidence))
		for k, v := range p.Confidence {
			c[k] = v
		}
		p.Confidence = c
	}
	if p.Provenance != nil {
		p.Provenance = maps.Clone(p.Provenance)
	}
	if p.Published != nil {
		v := *p.Published
		p.Published = &v
	}
	if p.Trashed != nil {
		t := *p.Trashed
		p.Trashed = &t
	}
	return p
}

// normalize puts a paper in canonical form: sets sorted and deduplicated,
// nil slices empty, no surrounding space in strings.
func (p *Paper) normalize() {
	p.Title = strings.TrimSpace(p.Title)
	p.Authors = cleanList(p.Authors, false)
	p.Tags = cleanList(p.Tags, true)
	p.Folders = cleanList(p.Folders, true)
	if p.Supplementary == nil {
		p.Supplementary = nil
	}
	if p.Type == "" {
		p.Type = Article
	}
	p.DOI = strings.TrimSpace(p.DOI)
	p.ArXiv = strings.TrimSpace(p.ArXiv)
	if p.Added.IsZero() {
		p.Added = time.Now().UTC().Truncate(time.Millisecond)
	}
}

func cleanList(in []string, set bool) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.TrimSpace(s)
		if s != "" {
			out = append(out, s)
		}
	}
	if set {
		slices.Sort(out)
		out = slices.Compact(out)
	}
	return out
}
