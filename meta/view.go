package meta

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/buntdb"
)

// Kind is a kind of view over the library.
type Kind string

// The views. Group kinds (tags, authors, years, folders) have one view per
// group; the others are single directories.
const (
	All      Kind = "all"
	Tags     Kind = "tags"
	Authors  Kind = "authors"
	Years    Kind = "years"
	Folders  Kind = "folders"
	Untagged Kind = "untagged"
	Trash    Kind = "trash"
	Missing  Kind = "missing"
)

// GroupKinds are the kinds with one view per group.
var GroupKinds = []Kind{Tags, Authors, Years, Folders}

// IsGroup reports whether k has one view per group.
func (k Kind) IsGroup() bool { return slices.Contains(GroupKinds, k) }

// View is one directory of papers: a kind and, for group kinds, the group's
// directory name.
type View struct {
	Kind  Kind
	Group string
}

func (v View) key() string {
	if v.Group == "" {
		return string(v.Kind)
	}
	return string(v.Kind) + "/" + v.Group
}

func (v View) String() string { return v.key() }

// ViewsOf lists the views a paper appears in. A trashed paper is only in the
// trash; a paper whose PDF is missing on this device only in missing/.
func ViewsOf(p *Paper) []View {
	if p.MergedInto != "" {
		return nil
	}
	if p.Trashed != nil {
		return []View{{Kind: Trash}}
	}
	if p.Missing {
		return []View{{Kind: Missing}}
	}
	vs := []View{{Kind: All}}
	for _, t := range p.Tags {
		vs = append(vs, View{Tags, GroupName(t)})
	}
	if len(p.Tags) == 0 {
		vs = append(vs, View{Kind: Untagged})
	}
	for _, a := range p.Authors {
		vs = append(vs, View{Authors, GroupName(a)})
	}
	if p.Year != 0 {
		vs = append(vs, View{Years, GroupName(strconv.Itoa(p.Year))})
	}
	for _, f := range p.Folders {
		vs = append(vs, View{Folders, GroupName(f)})
	}
	slices.SortFunc(vs, func(a, b View) int { return strings.Compare(a.key(), b.key()) })
	return slices.CompactFunc(vs, func(a, b View) bool { return a == b })
}

// ViewName is a name a paper may have in one view, without extension.
type ViewName struct {
	View View
	Name string
}

// NamesOf lists every name a paper may have in each view it is in: its
// base name and its suffixed one, since which of the two it holds depends
// on the other papers there (see List). What a change makes stale in a
// frontend's caches is the names of its paper before and after.
func NamesOf(p *Paper) []ViewName {
	if p == nil {
		return nil
	}
	base := BaseName(p)
	var out []ViewName
	for _, v := range ViewsOf(p) {
		out = append(out, ViewName{v, base}, ViewName{v, WithSuffix(base, p.ID)})
	}
	return out
}

// Entry is a paper's name in one view, with what a directory listing needs
// to know of it without loading the paper.
type Entry struct {
	ID          string
	Name        string // unique in the view, without extension
	SidecarSize int
	PDFSize     int64
	Modified    time.Time
	NoPDF       bool // the paper has no PDF on record
}

// prefixEnd is the least string greater than every string with prefix p.
// Keys are valid UTF-8, which never holds 0xff.
func prefixEnd(p string) string { return p + "\xff" }

func ascendPrefix(tx *buntdb.Tx, prefix string, fn func(key, val string) bool) error {
	return tx.AscendRange("", prefix, prefixEnd(prefix), func(k, v string) bool {
		return fn(k[len(prefix):], v)
	})
}

// List returns the papers in a view with their names there, in name
// order. When several papers share a base name (ignoring case, see
// NameKey), the one added first keeps it and the others get their id as a
// suffix, so adding a paper never renames an existing one. Names are
// unique by construction: no base name looks suffixed (see BaseName), a
// suffix holds the paper's id, and a paper is once in a view. The cost is
// proportional to the view's size, not the library's.
func (s *Store) List(v View) ([]Entry, error) {
	s.mu.RLock()
	var ms []*indexed
	if set := s.idx.set(v); set != nil {
		ms = set.members()
	}
	s.mu.RUnlock()
	// Papers sharing a name together, by age. ms holds pointers to
	// immutable values: a write replaces a paper's *indexed.
	slices.SortFunc(ms, func(a, b *indexed) int {
		if a.key != b.key {
			if a.key < b.key {
				return -1
			}
			return 1
		}
		return olderFirst(a, b)
	})
	out := make([]Entry, len(ms))
	for i, m := range ms {
		name := m.base
		if i > 0 && ms[i-1].key == m.key {
			name = WithSuffix(m.base, m.id)
		}
		out[i] = m.entry(name)
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// Lookup finds the paper named name (without extension) in a view, with the
// same naming rule as List: it finds exactly the names List gives, at a
// cost proportional to the number of papers sharing the name.
func (s *Store) Lookup(v View, name string) (Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	set := s.idx.set(v)
	named := func(base string) []*indexed {
		if set == nil {
			return nil
		}
		return slices.DeleteFunc(s.idx.names.get(nameKeyHash(base)), func(e *indexed) bool { return !set.has(e) })
	}
	if ms := named(name); len(ms) > 0 {
		if first := slices.MinFunc(ms, olderFirst); first.base == name {
			return first.entry(name), nil
		}
	}
	if base, id, ok := SplitSuffix(name); ok {
		ms := named(base)
		if len(ms) > 1 && slices.MinFunc(ms, olderFirst).id != id {
			if i := slices.IndexFunc(ms, func(e *indexed) bool { return e.id == id && e.base == base }); i >= 0 {
				return ms[i].entry(name), nil
			}
		}
	}
	return Entry{}, fmt.Errorf("%s/%s: %w", v, name, ErrNotFound)
}

// Group is one tag, author, year or folder.
type Group struct {
	Name  string // directory name
	Count int
}

// Groups lists the groups of a kind, in name order: those with papers,
// from the index, and the empty ones made with mkdir, stored apart.
func (s *Store) Groups(k Kind) ([]Group, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	gs := make([]Group, 0, len(s.idx.views[k]))
	for name, set := range s.idx.views[k] {
		gs = append(gs, Group{Name: name, Count: set.len()})
	}
	err := s.db.View(func(tx *buntdb.Tx) error {
		return ascendPrefix(tx, pExplicit+string(k)+"\x00", func(name, _ string) bool {
			if !s.idx.hasMembers(k, name) {
				gs = append(gs, Group{Name: name})
			}
			return true
		})
	})
	slices.SortFunc(gs, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
	return gs, err
}

// HasGroup reports whether a group exists (has papers or was created empty).
func (s *Store) HasGroup(k Kind, name string) (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.idx.hasMembers(k, name) {
		return true, nil
	}
	ok := false
	err := s.db.View(func(tx *buntdb.Tx) error {
		_, err := tx.Get(pExplicit + string(k) + "\x00" + name)
		if err == nil {
			ok = true
			return nil
		}
		if errors.Is(err, buntdb.ErrNotFound) {
			return nil
		}
		return err
	})
	return ok, err
}

// Count is the number of papers in a view.
func (s *Store) Count(v View) (int, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if set := s.idx.set(v); set != nil {
		return set.len(), nil
	}
	return 0, nil
}

// ByPath finds the paper whose PDF is at a library-relative path. Until
// they are merged, duplicates share a path; it belongs to the one added
// first.
func (s *Store) ByPath(rel string) (string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if e := s.idx.paths.first(rel); e != nil {
		return e.id, nil
	}
	return "", fmt.Errorf("%s: %w", rel, ErrNotFound)
}

// EntryOf is paper id's entry under name, as a view lists it, from the
// index in memory: for views whose names the store does not keep (the
// duplicates/ folders).
func (s *Store) EntryOf(id, name string) (Entry, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	e := s.idx.papers[id]
	if e == nil {
		return Entry{}, fmt.Errorf("paper %s: %w", id, ErrNotFound)
	}
	return e.entry(name), nil
}

// FilesGeneration moves whenever a paper's PDF path is added or removed:
// while it does not, Files lists the same paths, so a caller that derives
// something from all of them (Library.Unportable, every few seconds for a
// mount's status) can keep its result instead of listing 100k paths again.
func (s *Store) FilesGeneration() uint64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.idx.pathGen
}

// FileRecord is what the store knows of one PDF path.
type FileRecord struct {
	Path    string
	ID      string
	Size    int64
	Missing bool
}

// Files lists every PDF path the store knows, in path order, without
// loading papers: what a library scan compares the folder against.
func (s *Store) Files() ([]FileRecord, error) {
	s.mu.RLock()
	out := make([]FileRecord, 0, len(s.idx.paths.one))
	for path := range s.idx.paths.one {
		e := s.idx.paths.first(path)
		out = append(out, FileRecord{Path: path, ID: e.id, Size: e.size, Missing: e.missing})
	}
	s.mu.RUnlock()
	slices.SortFunc(out, func(a, b FileRecord) int { return strings.Compare(a.Path, b.Path) })
	return out, nil
}

// ByHash lists the papers whose PDF has the given SHA-256, in id order.
func (s *Store) ByHash(sum string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return ids(s.idx.hashes.get(sum)), nil
}

// ByIdentifier lists the papers with a DOI, arXiv id or citation key (kind
// "doi", "arxiv" or "citekey"), case-insensitively, in id order.
func (s *Store) ByIdentifier(kind, value string) ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	m := s.idx.idents[kind]
	if m == nil {
		return nil, fmt.Errorf("identifier kind %q: %w", kind, ErrInvalid)
	}
	return ids(m.get(strings.ToLower(value))), nil
}

func ids(es []*indexed) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.id
	}
	slices.Sort(out)
	return out
}

// CiteKeysUnique reports whether every paper, trashed and merged ones
// included, has a citation key that no other paper shares
// (case-insensitively), so opening a library can skip the full pass that
// assigns and repairs keys when there is nothing to do.
func (s *Store) CiteKeysUnique() (bool, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	keys := s.idx.idents["citekey"]
	return len(keys.more) == 0 && len(keys.one) == len(s.idx.papers), nil
}

// ForEach calls fn for every paper, in id order, until fn returns false.
// Papers merged into another are left out.
func (s *Store) ForEach(fn func(p Paper) bool) error {
	return s.db.View(func(tx *buntdb.Tx) error {
		var derr error
		err := ascendPrefix(tx, pRecord, func(id, v string) bool {
			r, err := parseRecord(id, v)
			if err != nil {
				derr = err
				return false
			}
			p, err := r.paper(id)
			if err != nil {
				derr = err
				return false
			}
			if p.MergedInto != "" {
				return true
			}
			return fn(p)
		})
		if err == nil {
			err = derr
		}
		return err
	})
}
