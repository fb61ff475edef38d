package meta

import (
	"fmt"
	"hash/maphash"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The secondary indexes (the papers of each view, the paper holding a PDF
// path, a content hash, a DOI, an arXiv id or a citation key) live in
// memory. A paper's part of them is derived from the paper and persisted
// as its entry (see entryOf), stored with its record under p:<id> (see
// storedValue); Open reads the entries and builds the index, and a write
// of a paper replaces its entry and its part of the index in the same
// transaction (see writer.store), undone if the transaction fails.
//
// Schema 3 stored the index as buntdb keys, about seven per paper, and
// schema 4 the entries as keys of their own. buntdb keeps every key in
// memory with its own bookkeeping and reads them all at open, so the
// index keys were most of the mount's memory and of its start.

// indexed is one paper in the index: what a listing shows of it, decoded
// from its entry value. Its strings are substrings of val, which buntdb
// holds too.
type indexed struct {
	val             string // the entry value
	id, base        string
	key             uint64 // nameKeyHash(base): what names are unique by
	added, modified int64  // Unix milliseconds
	size            int64  // the PDF's
	sidecar         int32  // the sidecar's size
	missing         bool
	nopdf           bool // no PDF on record (a paper from a .bib, say)
}

func (e *indexed) entry(name string) Entry {
	return Entry{ID: e.id, Name: name, SidecarSize: int(e.sidecar), PDFSize: e.size,
		Modified: time.UnixMilli(e.modified), NoPDF: e.nopdf}
}

// nameSeed seeds nameKeyHash; the index lives in memory only.
var nameSeed = maphash.MakeSeed()

// nameKeyHash stands for a base name's NameKey in the index: 8 bytes a
// paper rather than a copy of the name. Two keys sharing a hash are
// taken for one name, which only ever adds a suffix. It is never 0,
// which multi takes for no key.
func nameKeyHash(base string) uint64 { return max(maphash.String(nameSeed, NameKey(base)), 1) }

// olderFirst orders papers sharing a name (or a path): the first added
// keeps it.
func olderFirst(a, b *indexed) int {
	if a.added != b.added {
		if a.added < b.added {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// entryFields are the fields of an entry value, in stored order, separated
// by NUL, which no name, path or identifier can hold (Validate,
// SanitizeName): added time (hex ms), base name, sidecar size, PDF size,
// modified time (ms), flags ("m": PDF missing here), PDF path, SHA-256,
// DOI, arXiv id and citation key (all three lower case), then the views
// the paper is in, each a field of its own.
type entryFields struct {
	added, base, sidecar, size, modified, flags string
	path, sha, doi, arxiv, citekey              string
	views                                       string // NUL-separated view keys
}

// entryOf is a paper's entry value. A merged paper is in no view and holds
// no path, hash or identifier except its citation key, so that every
// paper has one (see CiteKeysUnique).
func entryOf(p *Paper) string {
	f := entryFields{
		added:    strconv.FormatInt(p.Added.UnixMilli(), 16),
		base:     BaseName(p),
		sidecar:  strconv.Itoa(len(EncodeSidecar(p))),
		size:     strconv.FormatInt(p.File.Size, 10),
		modified: strconv.FormatInt(p.Modified.UnixMilli(), 10),
		citekey:  strings.ToLower(p.CiteKey),
	}
	if p.Missing {
		f.flags = "m"
	}
	var views []string
	if p.MergedInto == "" {
		f.path, f.sha = p.File.Path, p.File.SHA256
		f.doi, f.arxiv = strings.ToLower(p.DOI), strings.ToLower(p.ArXiv)
		for _, v := range ViewsOf(p) {
			views = append(views, v.key())
		}
	}
	parts := []string{f.added, f.base, f.sidecar, f.size, f.modified, f.flags,
		f.path, f.sha, f.doi, f.arxiv, f.citekey}
	return strings.Join(append(parts, views...), "\x00")
}

// splitEntry splits an entry value into its fields without copying them.
func splitEntry(val string) (entryFields, bool) {
	var f entryFields
	rest := val
	ok := true
	for _, p := range []*string{&f.added, &f.base, &f.sidecar, &f.size, &f.modified, &f.flags,
		&f.path, &f.sha, &f.doi, &f.arxiv} {
		*p, rest, ok = strings.Cut(rest, "\x00")
		if !ok {
			return f, false
		}
	}
	f.citekey, f.views, _ = strings.Cut(rest, "\x00")
	return f, true
}

// eachView calls fn with each view key of an entry.
func (f entryFields) eachView(fn func(kind Kind, group string)) {
	if f.views == "" {
		return
	}
	for v := range strings.SplitSeq(f.views, "\x00") {
		k, g, _ := strings.Cut(v, "/")
		fn(Kind(k), g)
	}
}

// vset is the papers of one view: a slice while small (most authors have
// one paper), a set once large.
type vset struct {
	small []*indexed
	big   map[*indexed]struct{}
}

const vsetSmall = 16

func (s *vset) add(e *indexed) {
	if s.big != nil {
		s.big[e] = struct{}{}
		return
	}
	s.small = append(s.small, e)
	if len(s.small) > vsetSmall {
		s.grow()
	}
}

// grow turns a large slice into a set.
func (s *vset) grow() {
	s.big = make(map[*indexed]struct{}, len(s.small))
	for _, m := range s.small {
		s.big[m] = struct{}{}
	}
	s.small = nil
}

func (s *vset) del(e *indexed) {
	if s.big != nil {
		delete(s.big, e)
		return
	}
	if i := slices.Index(s.small, e); i >= 0 {
		s.small = slices.Delete(s.small, i, i+1)
	}
}

func (s *vset) has(e *indexed) bool {
	if s.big != nil {
		_, ok := s.big[e]
		return ok
	}
	return slices.Contains(s.small, e)
}

func (s *vset) len() int {
	if s.big != nil {
		return len(s.big)
	}
	return len(s.small)
}

func (s *vset) members() []*indexed {
	if s.big == nil {
		return slices.Clone(s.small)
	}
	out := make([]*indexed, 0, len(s.big))
	for e := range s.big {
		out = append(out, e)
	}
	return out
}

// multi maps a key to the papers holding it. Almost every key has one
// paper (duplicates share a hash and a path until merged), so the others
// are kept apart.
type multi[K comparable] struct {
	one  map[K]*indexed
	more map[K][]*indexed
}

func (m *multi[K]) add(k K, e *indexed) {
	var zero K
	if k == zero {
		return
	}
	if m.one == nil {
		m.one = map[K]*indexed{}
	}
	if _, ok := m.one[k]; !ok {
		m.one[k] = e
		return
	}
	if m.more == nil {
		m.more = map[K][]*indexed{}
	}
	m.more[k] = append(m.more[k], e)
}

func (m *multi[K]) del(k K, e *indexed) {
	var zero K
	if k == zero {
		return
	}
	rest := m.more[k]
	if m.one[k] == e {
		if len(rest) == 0 {
			delete(m.one, k)
			return
		}
		m.one[k], rest = rest[0], rest[1:]
	} else if i := slices.Index(rest, e); i >= 0 {
		rest = slices.Delete(rest, i, i+1)
	}
	if len(rest) == 0 {
		delete(m.more, k)
	} else {
		m.more[k] = rest
	}
}

// get lists the papers holding k.
func (m *multi[K]) get(k K) []*indexed {
	e, ok := m.one[k]
	if !ok {
		return nil
	}
	return append([]*indexed{e}, m.more[k]...)
}

// first is the paper that holds k by the naming rule: the oldest.
func (m *multi[K]) first(k K) *indexed {
	e, ok := m.one[k]
	if !ok {
		return nil
	}
	for _, o := range m.more[k] {
		if olderFirst(o, e) < 0 {
			e = o
		}
	}
	return e
}

// index is the store's secondary indexes. It is guarded by Store.mu:
// writers hold it for their whole transaction.
type index struct {
	papers  map[string]*indexed       // every paper with a record, merged ones too
	views   map[Kind]map[string]*vset // kind -> group ("" for all, untagged...) -> papers
	names   multi[uint64]             // nameKeyHash of the base name -> papers in some view
	paths   multi[string]             // PDF path -> papers
	hashes  multi[string]             // SHA-256 -> papers
	idents  map[string]*multi[string] // "doi", "arxiv", "citekey" -> value -> papers
	loading bool                      // in load: view sets stay slices, made sets at the end
	// pathGen counts the changes of papers' PDF paths (put): what Files
	// lists is the same paths while it does not move.
	pathGen uint64
}

// newIndex makes an empty index sized for about n papers.
func newIndex(n int) *index {
	sized := func() multi[string] { return multi[string]{one: make(map[string]*indexed, n)} }
	doi, arxiv, citekey := multi[string]{}, multi[string]{}, sized() // most papers have a citation key only
	return &index{
		papers: make(map[string]*indexed, n),
		views:  map[Kind]map[string]*vset{},
		names:  multi[uint64]{one: make(map[uint64]*indexed, n)},
		paths:  sized(),
		hashes: sized(),
		idents: map[string]*multi[string]{"doi": &doi, "arxiv": &arxiv, "citekey": &citekey},
	}
}

// load builds the index from every entry, calling bad with the id of each
// one that does not parse. View sets are filled as slices, then the large
// ones become sets at their final size: growing a map of every paper one
// by one rehashes it again and again, at open.
//
// The view sets and the key maps are disjoint, so they are built by two
// goroutines, each splitting the entries again (splitting copies nothing).
func (x *index) load(each func(fn func(id, val string) bool) error, bad func(id string)) error {
	var es []*indexed
	err := each(func(id, val string) bool {
		e, _, err := parseIndexed(id, val)
		if err != nil {
			bad(id)
			return true
		}
		x.papers[id] = e
		es = append(es, e)
		return true
	})
	if err != nil {
		return err
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for _, e := range es {
			f, _ := splitEntry(e.val)
			x.linkKeys(e, f, true)
		}
	}()
	x.loading = true
	for _, e := range es {
		f, _ := splitEntry(e.val)
		x.linkViews(e, f, true)
	}
	x.loading = false
	<-done
	for _, groups := range x.views {
		for _, s := range groups {
			if len(s.small) > vsetSmall {
				s.grow()
			}
		}
	}
	return err
}

// put replaces paper id's part of the index by the one val describes ("":
// none) and returns the value it replaced.
func (x *index) put(id, val string) (string, error) {
	prev, oldPath := "", ""
	if old := x.papers[id]; old != nil {
		// Relinked even when val is the same text: val is part of the
		// stored value, and the old one must not stay referenced.
		prev = old.val
		f, _ := splitEntry(old.val) // it parsed when it went in
		oldPath = f.path
		x.link(old, f, false)
		delete(x.papers, id)
	}
	if val == "" {
		if oldPath != "" {
			x.pathGen++
		}
		return prev, nil
	}
	e, f, err := parseIndexed(id, val)
	if err != nil {
		if oldPath != "" {
			x.pathGen++
		}
		return prev, err
	}
	if f.path != oldPath {
		x.pathGen++
	}
	x.papers[id] = e
	x.link(e, f, true)
	return prev, nil
}

// parseIndexed decodes paper id's entry value.
func parseIndexed(id, val string) (*indexed, entryFields, error) {
	f, ok := splitEntry(val)
	if !ok {
		return nil, f, fmt.Errorf("paper %s: corrupt index entry %q", id, val)
	}
	e := &indexed{val: val, id: id, base: f.base, key: nameKeyHash(f.base), missing: strings.Contains(f.flags, "m"), nopdf: f.path == ""}
	var err error
	for _, n := range []struct {
		s    string
		base int
		dst  *int64
	}{{f.added, 16, &e.added}, {f.modified, 10, &e.modified}, {f.size, 10, &e.size}} {
		if *n.dst, err = strconv.ParseInt(n.s, n.base, 64); err != nil {
			return nil, f, fmt.Errorf("paper %s: corrupt index entry %q", id, val)
		}
	}
	sc, err := strconv.ParseInt(f.sidecar, 10, 32)
	if err != nil {
		return nil, f, fmt.Errorf("paper %s: corrupt index entry %q", id, val)
	}
	e.sidecar = int32(sc)
	return e, f, nil
}

// link adds (or removes) e under every key f names.
func (x *index) link(e *indexed, f entryFields, add bool) {
	x.linkViews(e, f, add)
	x.linkKeys(e, f, add)
}

func multiOp[K comparable](add bool) func(*multi[K], K, *indexed) {
	if add {
		return (*multi[K]).add
	}
	return (*multi[K]).del
}

// linkViews adds e to (or removes it from) its views and the name map.
func (x *index) linkViews(e *indexed, f entryFields, add bool) {
	inView := false
	f.eachView(func(k Kind, g string) {
		inView = true
		groups := x.views[k]
		if groups == nil {
			groups = map[string]*vset{}
			x.views[k] = groups
		}
		s := groups[g]
		if add {
			if s == nil {
				// Its own copy: g is part of a stored value that a
				// write replaces while the group lives on.
				s = &vset{}
				groups[strings.Clone(g)] = s
			}
			if x.loading {
				s.small = append(s.small, e)
			} else {
				s.add(e)
			}
		} else if s != nil {
			if s.del(e); s.len() == 0 {
				delete(groups, g)
			}
		}
	})
	if inView {
		multiOp[uint64](add)(&x.names, e.key, e)
	}
}

// linkKeys adds e to (or removes it from) the path, hash and identifier
// maps.
func (x *index) linkKeys(e *indexed, f entryFields, add bool) {
	op := multiOp[string](add)
	op(&x.paths, f.path, e)
	op(&x.hashes, f.sha, e)
	op(x.idents["doi"], f.doi, e)
	op(x.idents["arxiv"], f.arxiv, e)
	op(x.idents["citekey"], f.citekey, e)
}

// set is a view's papers, nil if it has none.
func (x *index) set(v View) *vset { return x.views[v.Kind][v.Group] }

// hasMembers reports whether a group has papers.
func (x *index) hasMembers(k Kind, group string) bool { return x.views[k][group] != nil }
