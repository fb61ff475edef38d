package fs

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

// duplicates/ shows the groups of papers that are probably one work
// (library.ProbableDuplicates): one folder per group, named after its
// first paper, holding the group's papers' PDFs and sidecars, the same
// files as in all/ (a sidecar saved here is a save of the paper). It only
// shows: nothing done in it merges, trashes or retags a paper; merging is
// `paperfs merge KEEP OTHER`.
//
// Finding the groups reads every paper, so they are kept and found again
// only when a directory of duplicates/ is read after the store changed.

// Duplicates is the kind of duplicates/ and its folders; it is this
// package's, not meta's: the store has no index of it.
const Duplicates meta.Kind = "duplicates"

// HoldsGroups reports whether the directory of kind k holds one folder
// per group (tags/, authors/, years/, folders/, duplicates/).
func HoldsGroups(k meta.Kind) bool { return k.IsGroup() || k == Duplicates }

// dupGroup is one folder of duplicates/.
type dupGroup struct {
	name   string     // the folder's name: unique, portable
	papers []dupPaper // the paper added first first
	why    []string   // library.DuplicateGroup.Reasons
}

// dupPaper is a paper's name in its group's folder, without extension.
type dupPaper struct{ id, name string }

// nameDuplicates names the folders of groups and their papers, with the
// rule of every view (meta.List): a name is the paper's base name, and
// of several sharing one (ignoring case, meta.NameKey) the one added
// first keeps it and the others get their id as a suffix. A folder is
// named after its group's first paper, suffixed by that paper's id when
// an older group's folder has the name. Groups come out in name order.
func nameDuplicates(gs []library.DuplicateGroup) []dupGroup {
	out := make([]dupGroup, 0, len(gs))
	for _, g := range gs {
		d := dupGroup{why: g.Reasons}
		taken := map[string]bool{}
		for i := range g.Papers {
			p := &g.Papers[i]
			name := meta.BaseName(p)
			if taken[meta.NameKey(name)] {
				name = meta.WithSuffix(name, p.ID)
			}
			taken[meta.NameKey(name)] = true
			d.papers = append(d.papers, dupPaper{id: p.ID, name: name})
		}
		out = append(out, d)
	}
	order := make([]int, len(gs))
	for i := range order {
		order[i] = i
	}
	first := func(i int) *meta.Paper { return &gs[i].Papers[0] }
	slices.SortStableFunc(order, func(a, b int) int {
		if c := first(a).Added.Compare(first(b).Added); c != 0 {
			return c
		}
		return strings.Compare(first(a).ID, first(b).ID)
	})
	taken := map[string]bool{}
	for _, i := range order {
		name := meta.BaseName(first(i))
		if taken[meta.NameKey(name)] {
			name = meta.WithSuffix(name, first(i).ID)
		}
		taken[meta.NameKey(name)] = true
		out[i].name = name
	}
	slices.SortFunc(out, func(a, b dupGroup) int { return strings.Compare(a.name, b.name) })
	return out
}

// dupCache holds the groups last found, with the store version they were
// found at, and what frontends were shown of them, so a change can tell
// them to drop it.
type dupCache struct {
	build sync.Mutex // held while finding the groups: one search at a time

	mu     sync.Mutex // protects the following
	stamp  string     // store version (vectorStamp) groups were found at
	groups []dupGroup // nil: not found yet
	shown  []dupGroup // the groups frontends may hold names of
}

// dupGroups is the groups as they are now: those last found, or found
// again if the store changed since.
func (f *FS) dupGroups() ([]dupGroup, error) {
	stamp, err := storeStamp(f.store)
	if err != nil {
		return nil, err
	}
	c := &f.dups
	if gs, ok := c.cached(stamp); ok {
		return gs, nil
	}
	c.build.Lock()
	defer c.build.Unlock()
	if gs, ok := c.cached(stamp); ok { // found by the search this one waited for
		return gs, nil
	}
	ds, err := library.ProbableDuplicates(f.store)
	if err != nil {
		return nil, fmt.Errorf("finding probable duplicates: %w", err)
	}
	gs := nameDuplicates(ds)
	c.mu.Lock()
	shown := c.shown
	c.stamp, c.groups, c.shown = stamp, gs, gs
	c.mu.Unlock()
	// Names shown before that are gone: the store's change event may
	// not have reached duplicatesChanged yet.
	gone := map[dirName]bool{}
	eachDupName(shown, func(v meta.View, name string) { gone[dirName{v, name}] = true })
	if now, err := storeStamp(f.store); err != nil || now != stamp {
		// The store changed during the search, maybe after its change
		// event went: frontends must drop these names too.
		eachDupName(gs, func(v meta.View, name string) { gone[dirName{v, name}] = true })
	} else {
		eachDupName(gs, func(v meta.View, name string) { delete(gone, dirName{v, name}) })
	}
	for n := range gone {
		f.invalidate(n.view, n.name)
	}
	return gs, nil
}

// cached is the groups found at store version stamp, if they are kept.
func (c *dupCache) cached(stamp string) ([]dupGroup, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.groups == nil || c.stamp != stamp {
		return nil, false
	}
	c.shown = c.groups
	return c.groups, true
}

func storeStamp(src BibSource) (string, error) {
	v, err := src.Vector()
	if err != nil {
		return "", fmt.Errorf("reading the store's version: %w", err)
	}
	return vectorStamp(v), nil
}

// duplicatesChanged tells n to drop the names of duplicates/ it was
// shown, on a change of the store: the groups are found again when next
// read (see dupGroups).
func (f *FS) duplicatesChanged(n Notifier) {
	c := &f.dups
	c.mu.Lock()
	shown := c.shown
	c.shown = nil
	c.mu.Unlock()
	eachDupName(shown, n.Entry)
}

// eachDupName calls fn with every name in duplicates/: each folder, and
// each file in each folder.
func eachDupName(gs []dupGroup, fn func(v meta.View, name string)) {
	for _, g := range gs {
		fn(meta.View{Kind: Duplicates}, g.name)
		v := meta.View{Kind: Duplicates, Group: g.name}
		for _, p := range g.papers {
			fn(v, p.name+ExtPDF)
			fn(v, p.name+ExtJSON)
		}
	}
}

// dupGroup finds the folder named name.
func (f *FS) dupGroup(name string) (dupGroup, error) {
	gs, err := f.dupGroups()
	if err != nil {
		return dupGroup{}, err
	}
	i, ok := slices.BinarySearchFunc(gs, name, func(g dupGroup, name string) int { return strings.Compare(g.name, name) })
	if !ok {
		return dupGroup{}, errNotFound(string(Duplicates) + "/" + name)
	}
	return gs[i], nil
}

// duplicateGroups lists the folders of duplicates/, with the number of
// papers in each.
func (f *FS) duplicateGroups() ([]meta.Group, error) {
	gs, err := f.dupGroups()
	if err != nil {
		return nil, err
	}
	out := make([]meta.Group, len(gs))
	for i, g := range gs {
		out[i] = meta.Group{Name: g.name, Count: len(g.papers)}
	}
	return out, nil
}

// DuplicateReasons says why the papers of the folder duplicates/name are
// taken for one work, one line per linked pair.
func (f *FS) DuplicateReasons(name string) ([]string, error) {
	g, err := f.dupGroup(name)
	if err != nil {
		return nil, err
	}
	return slices.Clone(g.why), nil
}

// dupEntry is the entry of a paper named name in a folder of duplicates/,
// with its files' sizes as they are now (the store's own entry: a paper
// with no PDF shows only its sidecar, as in every view).
func (f *FS) dupEntry(id, name string) (meta.Entry, error) {
	return f.store.EntryOf(id, name)
}

// listDuplicates lists the folder of duplicates/ v stands for, in name
// order.
func (f *FS) listDuplicates(v meta.View) ([]meta.Entry, error) {
	g, err := f.dupGroup(v.Group)
	if err != nil {
		return nil, err
	}
	out := make([]meta.Entry, 0, len(g.papers))
	for _, p := range g.papers {
		e, err := f.dupEntry(p.id, p.name)
		if isNotFound(err) {
			continue // gone since the groups were found
		}
		if err != nil {
			return nil, fmt.Errorf("%s/%s: %w", v, p.name, err)
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b meta.Entry) int { return strings.Compare(a.Name, b.Name) })
	return out, nil
}

// lookupDuplicate finds the paper named name in the folder of
// duplicates/ v stands for.
func (f *FS) lookupDuplicate(v meta.View, name string) (meta.Entry, error) {
	g, err := f.dupGroup(v.Group)
	if err != nil {
		return meta.Entry{}, err
	}
	for _, p := range g.papers {
		if p.name == name {
			e, err := f.dupEntry(p.id, p.name)
			if err != nil {
				return e, fmt.Errorf("%s/%s: %w", v, name, err)
			}
			return e, nil
		}
	}
	return meta.Entry{}, fmt.Errorf("%s/%s: %w", v, name, meta.ErrNotFound)
}

// duplicatesRefusal is the refusal of a change in duplicates/, which only
// shows.
func (f *FS) duplicatesRefusal(file string) error {
	return f.refuse(file, "duplicates/ only shows papers that are probably the same work: merge two with 'paperfs merge KEEP OTHER', or trash one from all/", ErrNotPermitted)
}
