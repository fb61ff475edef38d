package fs

import (
	"bytes"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
)

// The generated BibTeX files: the whole library at the root, one tag's
// papers in each tag directory.
const (
	BibLibraryName = "library.bib"
	BibTagName     = "tag.bib"
)

// BibSource is what the BibTeX files need of the store: every paper, a
// version to cache by, and whether every stored citation key is unique.
// *meta.Store has all three; the view's Store includes it.
type BibSource interface {
	List(v meta.View) ([]meta.Entry, error)
	Get(id string) (meta.Paper, error)
	ForEach(fn func(p meta.Paper) bool) error
	Vector() (map[string]uint64, error)
	CiteKeysUnique() (bool, error)
}

// Cited is the one rule for which papers a .bib file cites, for the
// mount's library.bib and tag.bib and for paperfs export: every paper not
// in the trash (a PDF missing on this device is no reason not to cite
// it), or those of them with tag (a tag's value, not its directory's
// name: see meta.Store.GroupValue), with
// their keys resolved among the whole library's, ordered by name.
func Cited(src BibSource, tag string) ([]meta.Paper, error) {
	unique, err := src.CiteKeysUnique()
	if err != nil {
		return nil, err
	}
	return cited(src, tag, unique)
}

// cited is Cited with the keys' uniqueness known. A tag's file reads only
// the tag's papers when every paper's stored key is unique, which is the
// rule: keys are given when papers are created. Reading the whole library
// for each tag.bib would make listing the tags of a large library read
// it once per tag, since a listing sizes each file.
func cited(src BibSource, tag string, unique bool) ([]meta.Paper, error) {
	if tag != "" && unique {
		return tagMembers(src, meta.GroupName(tag))
	}
	var all []meta.Paper
	if err := src.ForEach(func(p meta.Paper) bool { all = append(all, p); return true }); err != nil {
		return nil, err
	}
	var out []meta.Paper
	for _, p := range bibtex.ResolveKeys(all) {
		if p.Trashed == nil && p.MergedInto == "" && (tag == "" || hasTag(&p, meta.GroupName(tag))) {
			out = append(out, p)
		}
	}
	return out, nil
}

func hasTag(p *meta.Paper, group string) bool {
	return slices.ContainsFunc(p.Tags, func(t string) bool { return meta.GroupName(t) == group })
}

// tagMembers reads the papers of tags/group and those with the tag whose
// PDF is missing on this device (listed in missing/ only).
func tagMembers(src BibSource, group string) ([]meta.Paper, error) {
	var out []meta.Paper
	for _, v := range []meta.View{{Kind: meta.Tags, Group: group}, {Kind: meta.Missing}} {
		es, err := src.List(v)
		if err != nil {
			return nil, err
		}
		for _, e := range es {
			p, err := src.Get(e.ID)
			if err != nil {
				return nil, fmt.Errorf("paper %s: %w", e.ID, err)
			}
			if v.Kind == meta.Tags || hasTag(&p, group) {
				out = append(out, p)
			}
		}
	}
	return out, nil
}

// Bib is a read-only BibTeX file generated from the current metadata: its
// size is right on every stat, and every open reads a fresh copy.
type Bib struct {
	fs   *FS
	View meta.View // {All} is the whole library; {Tags, t} one tag

	mu    sync.Mutex // protects the following
	stamp string     // store version the cached content was made from
	data  []byte
	mtime time.Time
}

// Bib is the BibTeX file of view v: library.bib for all/, tag.bib for a
// tag. It caches its content until the store changes.
func (f *FS) Bib(v meta.View) *Bib { return &Bib{fs: f, View: v} }

// HasBib reports whether a view directory shows a tag.bib.
func HasBib(v meta.View) bool { return v.Kind == meta.Tags && v.Group != "" }

// Name is the file's path in the view.
func (n *Bib) Name() string {
	if n.View.Kind == meta.All {
		return BibLibraryName
	}
	return n.View.String() + "/" + BibTagName
}

// Attr is the file's attributes now.
func (n *Bib) Attr() (Attr, error) {
	data, mtime, err := n.Content()
	if err != nil {
		return Attr{}, err
	}
	return Attr{Mode: modeGenerated, Size: int64(len(data)), Mtime: mtime, Links: 1}, nil
}

// Content returns the file's text, regenerated when the store changed
// since the last time. It never writes: papers are given their citation
// keys when they are created, so a read shows the stored keys, and the
// one a keyless paper will get (see bibtex.ResolveKeys).
func (n *Bib) Content() ([]byte, time.Time, error) {
	src := n.fs.store
	v, err := src.Vector()
	if err != nil {
		return nil, time.Time{}, err
	}
	stamp := vectorStamp(v)
	n.mu.Lock()
	defer n.mu.Unlock()
	if stamp == n.stamp && !n.mtime.IsZero() {
		return n.data, n.mtime, nil
	}
	tag := ""
	if n.View.Kind == meta.Tags {
		if tag, err = n.fs.store.GroupValue(n.View); err != nil {
			return nil, time.Time{}, err
		}
	}
	papers, err := cited(src, tag, tag != "" && n.fs.keysUnique(src, stamp))
	if err != nil {
		return nil, time.Time{}, err
	}
	var b bytes.Buffer
	if err := bibtex.Write(&b, papers); err != nil {
		return nil, time.Time{}, err
	}
	mtime := startTime
	for _, p := range papers {
		if p.Modified.After(mtime) {
			mtime = p.Modified
		}
	}
	n.stamp, n.data, n.mtime = stamp, b.Bytes(), mtime
	return n.data, n.mtime, nil
}

// keysUnique reports whether every paper has a citation key of its own,
// cached for the store version stamp names.
func (f *FS) keysUnique(src BibSource, stamp string) bool {
	f.mu.Lock()
	if f.uniqueAt == stamp {
		f.mu.Unlock()
		return true
	}
	f.mu.Unlock()
	unique, err := src.CiteKeysUnique()
	if err != nil || !unique {
		return false
	}
	f.mu.Lock()
	f.uniqueAt = stamp
	f.mu.Unlock()
	return true
}

func vectorStamp(v map[string]uint64) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strconv.FormatUint(v[k], 10) + ";")
	}
	return b.String()
}
