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
		vs = append(vs, View{Years, strconv.Itoa(p.Year)})
	}
	for _, f := range p.Folders {
		vs = append(vs, View{Folders, GroupName(f)})
	}
	slices.SortFunc(vs, func(a, b View) int { return strings.Compare(a.key(), b.key()) })
	return slices.CompactFunc(vs, func(a, b View) bool { return a == b })
}

// indexEntries is every index key of a paper with its value.
func indexEntries(p *Paper) map[string]string {
	if p == nil {
		return nil
	}
	base := BaseName(p)
	m := map[string]string{pEntry + p.ID: entryValue(p, base)}
	if p.MergedInto != "" {
		return mergedEntries(p, m)
	}
	nh := nameHash(base)
	for _, v := range ViewsOf(p) {
		m[pIndex+v.key()+"\x00"+nh+"\x00"+p.ID] = ""
	}
	if p.File.Path != "" {
		missing := "0"
		if p.Missing {
			missing = "1"
		}
		m[pPath+p.File.Path] = p.ID + "\x00" + strconv.FormatInt(p.File.Size, 10) + "\x00" + missing
	}
	if p.File.SHA256 != "" {
		m[pHash+p.File.SHA256+"\x00"+p.ID] = ""
	}
	if p.DOI != "" {
		m[pIdent+"doi:"+strings.ToLower(p.DOI)+"\x00"+p.ID] = ""
	}
	if p.ArXiv != "" {
		m[pIdent+"arxiv:"+strings.ToLower(p.ArXiv)+"\x00"+p.ID] = ""
	}
	if p.CiteKey != "" {
		m[pIdent+"citekey:"+strings.ToLower(p.CiteKey)+"\x00"+p.ID] = ""
	}
	return m
}

// nameHash stands for a base name in index keys. The name itself is in the
// paper's entry; an index key holding it in full (once per view the paper
// is in) made the index the largest part of a store, which buntdb keeps
// in memory and reads in full at open. Papers whose names share a hash are
// told apart by their entries.
func nameHash(base string) string {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	for i := 0; i < len(base); i++ {
		h ^= uint64(base[i])
		h *= prime
	}
	return strconv.FormatUint(h, 36)
}

// entryValue is what listings need of a paper, so they never decode its
// record: when it was added (it orders name collisions), its base name, and
// its files' sizes and time.
func entryValue(p *Paper, base string) string {
	return strings.Join([]string{strconv.FormatInt(p.Added.UnixMilli(), 16), base,
		strconv.Itoa(len(EncodeSidecar(p))), strconv.FormatInt(p.File.Size, 10),
		strconv.FormatInt(p.Modified.UnixMilli(), 10)}, "\x00")
}

// reindex moves a paper's index entries from before to after and keeps
// group counts current.
func reindex(tx *buntdb.Tx, id string, before, after *Paper) error {
	old, cur := indexEntries(before), indexEntries(after)
	for k := range old {
		if _, ok := cur[k]; ok {
			continue
		}
		if strings.HasPrefix(k, pPath) {
			if err := releasePath(tx, k, old[k], before); err != nil {
				return err
			}
			continue
		}
		if _, err := tx.Delete(k); err != nil && !errors.Is(err, buntdb.ErrNotFound) {
			return err
		}
	}
	for k, v := range cur {
		if ov, ok := old[k]; ok && ov == v {
			continue
		}
		if _, _, err := tx.Set(k, v, nil); err != nil {
			return err
		}
	}
	return nil
}

// Entry is a paper's name in one view, with what a directory listing needs
// to know of it without loading the paper.
type Entry struct {
	ID          string
	Name        string // unique in the view, without extension
	SidecarSize int
	PDFSize     int64
	Modified    time.Time
}

type member struct {
	id, base string
	added    int64
	val      string
}

// parseEntry decodes an entry value.
func parseEntry(id, val string) (member, Entry) {
	f := strings.SplitN(val, "\x00", 5)
	for len(f) < 5 {
		f = append(f, "")
	}
	added, _ := strconv.ParseInt(f[0], 16, 64)
	sc, _ := strconv.Atoi(f[2])
	size, _ := strconv.ParseInt(f[3], 10, 64)
	mod, _ := strconv.ParseInt(f[4], 10, 64)
	return member{id: id, base: f[1], added: added, val: val},
		Entry{ID: id, Name: f[1], SidecarSize: sc, PDFSize: size, Modified: time.UnixMilli(mod)}
}

// prefixEnd is the least string greater than every string with prefix p.
// Keys are valid UTF-8, which never holds 0xff.
func prefixEnd(p string) string { return p + "\xff" }

func ascendPrefix(tx *buntdb.Tx, prefix string, fn func(key, val string) bool) error {
	return tx.AscendRange("", prefix, prefixEnd(prefix), func(k, v string) bool {
		return fn(k[len(prefix):], v)
	})
}

// members lists the papers under an index prefix ("x:<view>\x00" or
// "x:<view>\x00<name hash>\x00"), in no particular order, with their
// entries.
func members(tx *buntdb.Tx, prefix string) ([]member, error) {
	var ids []string
	err := ascendPrefix(tx, prefix, func(rest, _ string) bool {
		ids = append(ids, rest[strings.LastIndexByte(rest, 0)+1:])
		return true
	})
	if err != nil {
		return nil, err
	}
	ms := make([]member, 0, len(ids))
	for _, id := range ids {
		val, err := tx.Get(pEntry + id)
		if err != nil {
			return nil, fmt.Errorf("paper %s: index without entry: %w", id, err)
		}
		m, _ := parseEntry(id, val)
		ms = append(ms, m)
	}
	return ms, nil
}

// olderFirst orders papers sharing a name: the first added keeps it.
func olderFirst(a, b member) int {
	if a.added != b.added {
		if a.added < b.added {
			return -1
		}
		return 1
	}
	return strings.Compare(a.id, b.id)
}

// List returns the papers in a view with their names there. When several
// papers share a base name, the one added first keeps it and the others get
// their id as a suffix, so adding a paper never renames an existing one.
// The cost is proportional to the view's size, not the library's.
func (s *Store) List(v View) ([]Entry, error) {
	var ms []member
	err := s.db.View(func(tx *buntdb.Tx) (err error) {
		ms, err = members(tx, pIndex+v.key()+"\x00")
		return err
	})
	if err != nil {
		return nil, err
	}
	// By name, and papers sharing a name by age.
	slices.SortFunc(ms, func(a, b member) int {
		if c := strings.Compare(a.base, b.base); c != 0 {
			return c
		}
		return olderFirst(a, b)
	})
	out := make([]Entry, len(ms))
	for i, m := range ms {
		_, e := parseEntry(m.id, m.val)
		if i > 0 && ms[i-1].base == m.base {
			e.Name = WithSuffix(m.base, m.id)
		}
		out[i] = e
	}
	return out, nil
}

// Lookup finds the paper named name (without extension) in a view, with the
// same naming rule as List, at a cost proportional to the number of papers
// sharing the name.
func (s *Store) Lookup(v View, name string) (Entry, error) {
	var found member
	named := func(tx *buntdb.Tx, base string) ([]member, error) {
		ms, err := members(tx, pIndex+v.key()+"\x00"+nameHash(base)+"\x00")
		return slices.DeleteFunc(ms, func(m member) bool { return m.base != base }), err
	}
	err := s.db.View(func(tx *buntdb.Tx) error {
		ms, err := named(tx, name)
		if err != nil {
			return err
		}
		if len(ms) > 0 {
			found = slices.MinFunc(ms, olderFirst)
			return nil
		}
		base, id, ok := SplitSuffix(name)
		if !ok {
			return ErrNotFound
		}
		ms, err = named(tx, base)
		if err != nil {
			return err
		}
		if len(ms) < 2 || slices.MinFunc(ms, olderFirst).id == id {
			return ErrNotFound
		}
		i := slices.IndexFunc(ms, func(m member) bool { return m.id == id })
		if i < 0 {
			return ErrNotFound
		}
		found = ms[i]
		return nil
	})
	if errors.Is(err, ErrNotFound) {
		return Entry{}, fmt.Errorf("%s/%s: %w", v, name, ErrNotFound)
	}
	if err != nil {
		return Entry{}, err
	}
	_, e := parseEntry(found.id, found.val)
	e.Name = name
	return e, nil
}

// Group is one tag, author, year or folder.
type Group struct {
	Name  string // directory name
	Count int
}

// Groups lists the groups of a kind, in name order. The groups with papers
// are read off the view index, whose keys for a group kind start with
// x:<kind>/<group>\x00, so the cost is the number of memberships of that
// kind; empty groups made with mkdir are stored apart.
func (s *Store) Groups(k Kind) ([]Group, error) {
	var gs []Group
	err := s.db.View(func(tx *buntdb.Tx) error {
		err := ascendPrefix(tx, pIndex+string(k)+"/", func(rest, _ string) bool {
			name := rest[:strings.IndexByte(rest, 0)]
			if n := len(gs); n > 0 && gs[n-1].Name == name {
				gs[n-1].Count++
			} else {
				gs = append(gs, Group{Name: name, Count: 1})
			}
			return true
		})
		if err != nil {
			return err
		}
		return ascendPrefix(tx, pExplicit+string(k)+"\x00", func(name, _ string) bool {
			if !hasMembers(tx, k, name) {
				gs = append(gs, Group{Name: name})
			}
			return true
		})
	})
	slices.SortFunc(gs, func(a, b Group) int { return strings.Compare(a.Name, b.Name) })
	return gs, err
}

// hasMembers reports whether a group has papers.
func hasMembers(tx *buntdb.Tx, k Kind, name string) bool {
	found := false
	ascendPrefix(tx, pIndex+string(k)+"/"+name+"\x00", func(_, _ string) bool {
		found = true
		return false
	})
	return found
}

// HasGroup reports whether a group exists (has papers or was created empty).
func (s *Store) HasGroup(k Kind, name string) (bool, error) {
	ok := false
	err := s.db.View(func(tx *buntdb.Tx) error {
		if hasMembers(tx, k, name) {
			ok = true
			return nil
		}
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
	n := 0
	err := s.db.View(func(tx *buntdb.Tx) error {
		return ascendPrefix(tx, pIndex+v.key()+"\x00", func(_, _ string) bool { n++; return true })
	})
	return n, err
}

// ByPath finds the paper whose PDF is at a library-relative path.
func (s *Store) ByPath(rel string) (string, error) {
	var id string
	err := s.db.View(func(tx *buntdb.Tx) error {
		v, err := tx.Get(pPath + rel)
		if errors.Is(err, buntdb.ErrNotFound) {
			return fmt.Errorf("%s: %w", rel, ErrNotFound)
		}
		id, _, _ = strings.Cut(v, "\x00")
		return err
	})
	return id, err
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
	var out []FileRecord
	err := s.db.View(func(tx *buntdb.Tx) error {
		return ascendPrefix(tx, pPath, func(path, v string) bool {
			f := strings.SplitN(v, "\x00", 3)
			for len(f) < 3 {
				f = append(f, "")
			}
			size, _ := strconv.ParseInt(f[1], 10, 64)
			out = append(out, FileRecord{Path: path, ID: f[0], Size: size, Missing: f[2] == "1"})
			return true
		})
	})
	return out, err
}

// ByHash lists the papers whose PDF has the given SHA-256.
func (s *Store) ByHash(sum string) ([]string, error) {
	return s.idsWithPrefix(pHash + sum + "\x00")
}

// ByIdentifier lists the papers with a DOI, arXiv id or citation key (kind
// "doi", "arxiv" or "citekey"), case-insensitively.
func (s *Store) ByIdentifier(kind, value string) ([]string, error) {
	return s.idsWithPrefix(pIdent + kind + ":" + strings.ToLower(value) + "\x00")
}

// CiteKeysUnique reports whether every paper, trashed ones included, has a
// citation key that no other paper shares (case-insensitively). It reads
// only the citation key index, so opening a library can skip the full pass
// that assigns and repairs keys when there is nothing to do.
func (s *Store) CiteKeysUnique() (bool, error) {
	ok := true
	err := s.db.View(func(tx *buntdb.Tx) error {
		papers, keyed, prev := 0, 0, ""
		err := ascendPrefix(tx, pIdent+"citekey:", func(rest, _ string) bool {
			key := rest[:strings.LastIndexByte(rest, 0)]
			if keyed > 0 && key == prev {
				ok = false
				return false
			}
			prev = key
			keyed++
			return true
		})
		if err != nil || !ok {
			return err
		}
		if err := ascendPrefix(tx, pRecord, func(_, _ string) bool { papers++; return true }); err != nil {
			return err
		}
		ok = papers == keyed
		return nil
	})
	return ok, err
}

func (s *Store) idsWithPrefix(prefix string) ([]string, error) {
	var ids []string
	err := s.db.View(func(tx *buntdb.Tx) error {
		return ascendPrefix(tx, prefix, func(id, _ string) bool { ids = append(ids, id); return true })
	})
	return ids, err
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
