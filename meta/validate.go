package meta

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits on what a paper may hold; generous, but they keep one bad save from
// making the database or a listing unusable.
const (
	maxText     = 1 << 20 // note, abstract
	maxLine     = 4096    // title, venue, names, tags
	maxListLen  = 10000   // authors, tags, folders
	MinYear     = 1000
	MaxYear     = 9999
	MaxRating   = 5
	trashFolder = ".paperfs-trash"
)

// Validate checks a paper's fields. It returns a *FieldError wrapping
// ErrInvalid naming the first bad field.
func Validate(p *Paper) error {
	lines := map[string]string{"title": p.Title, "venue": p.Venue, "doi": p.DOI, "arxiv": p.ArXiv,
		"citekey": p.CiteKey, "url": p.URL}
	for _, f := range []string{"title", "venue", "doi", "arxiv", "citekey", "url"} {
		if err := checkLine(f, lines[f]); err != nil {
			return err
		}
	}
	if strings.ContainsAny(p.CiteKey, " \t{}(),\\#%~\"'") {
		return invalid("citekey", "%s contains a character BibTeX does not allow in keys", quote(p.CiteKey))
	}
	for f, v := range map[string]string{"note": p.Note, "abstract": p.Abstract} {
		if len(v) > maxText {
			return invalid(f, "longer than %d bytes", maxText)
		}
		if !utf8.ValidString(v) {
			return invalid(f, "not valid UTF-8")
		}
		if i := strings.IndexByte(v, 0); i >= 0 {
			return invalid(f, "contains NUL (U+0000) at byte %d", i)
		}
	}
	for f, l := range map[string][]string{"authors": p.Authors, "tags": p.Tags, "folders": p.Folders, "supplementary": p.Supplementary} {
		if len(l) > maxListLen {
			return invalid(f, "more than %d entries", maxListLen)
		}
		for _, s := range l {
			if err := checkLine(f, s); err != nil {
				return err
			}
			if strings.TrimSpace(s) == "" {
				return invalid(f, "empty entry")
			}
		}
	}
	for _, group := range [][]string{p.Tags, p.Folders} {
		for _, s := range group {
			if strings.Contains(s, "/") || s == "." || s == ".." {
				return invalid("tags", "%s: a tag or folder name cannot contain '/' or be '.' or '..'", quote(s))
			}
		}
	}
	if p.Year != 0 && (p.Year < MinYear || p.Year > MaxYear) {
		return invalid("year", "%d is not a year (use %d-%d, or omit it)", p.Year, MinYear, MaxYear)
	}
	if p.Rating < 0 || p.Rating > MaxRating {
		return invalid("rating", "%d is out of range 0-%d", p.Rating, MaxRating)
	}
	if !slices.Contains(Types, p.Type) {
		return invalid("type", "%s is not one of %v", quote(string(p.Type)), Types)
	}
	if p.File.Path != "" {
		if err := CheckRelPath(p.File.Path); err != nil {
			return &FieldError{Field: "file.path", Reason: err.Error(), Err: ErrInvalid}
		}
	}
	for _, s := range p.Supplementary {
		if err := CheckRelPath(s); err != nil {
			return &FieldError{Field: "supplementary", Reason: err.Error(), Err: ErrInvalid}
		}
	}
	if p.Cite != "" && p.Cite != CitePreprint && p.Cite != CitePublished {
		return invalid("cite", "%q is not %q, %q or empty", p.Cite, CitePreprint, CitePublished)
	}
	if p.ArXivVersion < 0 {
		return invalid("arxiv_version", "%d is negative", p.ArXivVersion)
	}
	if v := p.Published; v != nil {
		if err := checkLine("published", v.Venue+v.DOI); err != nil {
			return err
		}
		if v.Year != 0 && (v.Year < MinYear || v.Year > MaxYear) {
			return invalid("published", "year %d is not a year", v.Year)
		}
		if v.Type != "" && !slices.Contains(Types, v.Type) {
			return invalid("published", "type %q is not one of %v", v.Type, Types)
		}
	}
	for k, v := range p.Confidence {
		if v < 0 || v > 1 {
			return invalid("confidence", "%s: %v is outside 0..1", quote(k), v)
		}
	}
	return checkSize(p)
}

// checkSize keeps a paper's sidecar within MaxSidecarBytes, so what a user
// reads can be saved back. Only a paper whose text could come near it is
// encoded to measure: JSON escapes a byte in at most 6.
func checkSize(p *Paper) error {
	n := len(p.Title) + len(p.Venue) + len(p.DOI) + len(p.ArXiv) + len(p.CiteKey) + len(p.URL) +
		len(p.Note) + len(p.Abstract) + len(p.File.Path) + len(p.File.SHA256) + len(p.ID) + len(p.Type) + len(p.MergedInto)
	items := 0
	for _, l := range [][]string{p.Authors, p.Tags, p.Folders, p.Supplementary} {
		items += len(l)
		for _, s := range l {
			n += len(s)
		}
	}
	for k := range p.Confidence {
		n += len(k)
	}
	if 6*n+16*(items+len(p.Confidence))+4096 < MaxSidecarBytes {
		return nil
	}
	if size := len(EncodeSidecar(p)); size > MaxSidecarBytes {
		return &FieldError{Field: "sidecar", Reason: fmt.Sprintf("the metadata takes %d bytes, more than the %d a paper may hold; shorten the note or abstract", size, MaxSidecarBytes), Err: ErrTooLarge}
	}
	return nil
}

func checkLine(field, s string) error {
	if len(s) > maxLine {
		return invalid(field, "longer than %d bytes", maxLine)
	}
	if !utf8.ValidString(s) {
		return invalid(field, "not valid UTF-8")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return invalid(field, "contains a control character (%U)", r)
		}
	}
	return nil
}

// CheckRelPath verifies that p is a clean slash-separated path inside the
// library folder: relative, with no "..", so metadata can never point the
// mount at a file outside the library.
func CheckRelPath(p string) error {
	if p == "" {
		return invalid("path", "empty path")
	}
	if strings.HasPrefix(p, "/") {
		return invalid("path", "%s is absolute; paths are relative to the library folder", quote(p))
	}
	if strings.ContainsRune(p, 0) {
		return invalid("path", "%s contains NUL", quote(p))
	}
	if path.Clean(p) != p {
		return invalid("path", "%s is not a clean path", quote(p))
	}
	for _, part := range strings.Split(p, "/") {
		if part == ".." {
			return invalid("path", "%s leaves the library folder", quote(p))
		}
	}
	return nil
}
