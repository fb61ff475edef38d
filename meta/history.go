package meta

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/tidwall/buntdb"
)

// The history: for each op this store applies, local or remote, what it
// changed here and the values it replaced, written in the transaction
// that applies it. The op queue cannot serve: sent ops leave it, and
// other devices' ops are merged into records, never kept. It is a local
// record of what happened on this device (in the order ops arrived, shown
// in the order of their stamps), not synced: every device writes its own.
// Papers that arrive in a snapshot have no history before it.
//
// A paper's first op (its creation: an import, a scan) has no entry: the
// record keeps who made it and when (record.First), for every paper, so
// an import of thousands of papers adds no key to the store, which buntdb
// would hold in memory and read at every open.
//
// Stored as h:<paper id>\x00<stamp> -> HistoryEntry (JSON), so a paper's
// entries sort by stamp.
// buntdb keeps every key in memory and reads the whole file at open, so
// the history is bounded. It is bounded per paper (historyPerPaper
// entries) rather than by age: a bound by age would keep all of a burst
// (a retag of the whole library, an evening of edits) however large, and
// drop the whole story of a paper nobody touched lately, which is the
// story `paperfs log` is asked for. Values are cut to historyValueBytes.
const (
	pHistory          = "h:"
	historyPerPaper   = 32
	historyValueBytes = 1024
)

// HistoryEntry is what one op did to one paper on this device.
type HistoryEntry struct {
	Paper  string `json:"-"`
	Op     string `json:"op"`
	Member string `json:"m,omitempty"`
	Clock  HLC    `json:"c"` // who made it is Clock.Device, when Clock.Time()
	// Created marks the paper's creation (its oldest op), which History
	// and RecentHistory add from the record; it has no Changes, and no
	// Op.
	Created bool          `json:"-"`
	Remote  bool          `json:"r,omitempty"` // made on another device
	Changes []FieldChange `json:"f,omitempty"`
}

// FieldChange is one field an op changed: a scalar field's (or map
// entry's, "confidence/title") old and new values as JSON ("" for none),
// or the elements it added to and removed from a set field.
type FieldChange struct {
	Field string `json:"f"`
	Old   string `json:"o,omitempty"`
	New   string `json:"n,omitempty"`
	// Cut says Old or New was longer than the history keeps and is cut
	// (no longer valid JSON).
	Cut bool `json:"cut,omitempty"`
	// Lost says the op's value did not take here: a value with a later
	// stamp already held the field (Old is that value, New the op's).
	Lost    bool     `json:"lost,omitempty"`
	Added   []string `json:"a,omitempty"`
	Removed []string `json:"d,omitempty"`
}

// applyLogged applies op to r (decoded) like apply, and says what it
// changed; ok is false for the op that is the paper's oldest (see
// record.First), which has no entry.
func (r *record) applyLogged(op *Op, remote bool) (_ HistoryEntry, ok bool) {
	e := HistoryEntry{Paper: op.Paper, Op: op.ID, Member: op.Member, Clock: op.Clock, Remote: remote}
	names := slices.Sorted(maps.Keys(op.Set))
	olds := make([]json.RawMessage, len(names))
	for i, f := range names {
		olds[i] = r.valueOf(f)
	}
	type elem struct{ field, name string }
	wasLive := map[elem]bool{}
	for _, f := range setFields {
		for _, x := range op.Add[f] {
			wasLive[elem{f, x}] = r.isLive(f, x)
		}
		for x := range op.Remove[f] {
			wasLive[elem{f, x}] = r.isLive(f, x)
		}
	}
	r.apply(op)
	if r.First == op.Clock {
		return e, false
	}
	for i, f := range names {
		c := FieldChange{Field: f, Lost: r.Clocks[f] != op.Clock}
		if !c.Lost && string(olds[i]) == string(op.Set[f]) {
			continue
		}
		var cut1, cut2 bool
		c.Old, cut1 = clipValue(olds[i])
		c.New, cut2 = clipValue(op.Set[f])
		c.Cut = cut1 || cut2
		e.Changes = append(e.Changes, c)
	}
	for _, f := range setFields {
		c := FieldChange{Field: f}
		for _, x := range slices.Sorted(slices.Values(op.Add[f])) {
			if !wasLive[elem{f, x}] && r.isLive(f, x) {
				c.Added = append(c.Added, x)
			}
		}
		for _, x := range slices.Sorted(maps.Keys(op.Remove[f])) {
			if wasLive[elem{f, x}] && !r.isLive(f, x) {
				c.Removed = append(c.Removed, x)
			}
		}
		if c.Added != nil || c.Removed != nil {
			e.Changes = append(e.Changes, c)
		}
	}
	return e, true
}

// valueOf is the value an op's Set entry name replaces in r: a field's,
// or one entry's of a map field.
func (r *record) valueOf(name string) json.RawMessage {
	if f, k, ok := splitKey(name); ok {
		return r.entries(f)[k]
	}
	return r.Values[name]
}

func (r *record) isLive(field, e string) bool {
	st := r.Sets[field][e]
	return st != nil && st.live()
}

// clipValue is v as the history keeps it, and whether it was cut.
func clipValue(v json.RawMessage) (string, bool) {
	if len(v) <= historyValueBytes {
		return string(v), false
	}
	n := historyValueBytes
	for n > 0 && !utf8.RuneStart(v[n]) {
		n--
	}
	return string(v[:n]), true
}

// historyKey is the key of paper id's entry for the op stamped c: a
// paper's entries sort by stamp.
func historyKey(id string, c HLC) string {
	return fmt.Sprintf("%s%s\x00%016x%08x%s", pHistory, id, uint64(c.Wall), c.Logical, c.Device)
}

// logHistory adds entries, all of paper id's, to its history in tx and
// drops its oldest past historyPerPaper. Each entry is a key of its own,
// so an edit writes its entry alone, not the paper's whole history.
func logHistory(tx *buntdb.Tx, id string, es []HistoryEntry) error {
	if len(es) == 0 {
		return nil
	}
	for i := range es {
		b, err := json.Marshal(&es[i])
		if err != nil {
			return err
		}
		if _, _, err := tx.Set(historyKey(id, es[i].Clock), string(b), nil); err != nil {
			return err
		}
	}
	var keys []string
	prefix := pHistory + id + "\x00"
	if err := tx.AscendRange("", prefix, prefixEnd(prefix), func(k, _ string) bool {
		keys = append(keys, k)
		return true
	}); err != nil {
		return err
	}
	for _, k := range keys[:max(0, len(keys)-historyPerPaper)] {
		if _, err := tx.Delete(k); err != nil {
			return err
		}
	}
	return nil
}

// eachHistory calls fn with the entries under prefix, in key order, until
// it returns false. An entry that does not parse (a damaged file) is
// skipped: the history is a record for people, and an edit or a log must
// not fail for it.
func eachHistory(tx *buntdb.Tx, prefix string, fn func(e HistoryEntry) bool) error {
	return tx.AscendRange("", prefix, prefixEnd(prefix), func(k, v string) bool {
		var e HistoryEntry
		if json.Unmarshal([]byte(v), &e) != nil {
			return true
		}
		id, _, _ := strings.Cut(k[len(pHistory):], "\x00")
		e.Paper = id
		return fn(e)
	})
}

// History is what this device recorded of paper id's changes, newest
// first (see the top of history.go for what it keeps).
func (s *Store) History(id string) ([]HistoryEntry, error) {
	var es []HistoryEntry
	err := s.db.View(func(tx *buntdb.Tx) error {
		r, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		if !r.First.IsZero() {
			es = append(es, created(id, r))
		}
		return eachHistory(tx, pHistory+id+"\x00", func(e HistoryEntry) bool {
			es = append(es, e)
			return true
		})
	})
	slices.Reverse(es)
	return es, err
}

// created is the entry of a paper's creation.
func created(id string, r *record) HistoryEntry {
	return HistoryEntry{Paper: id, Member: r.FirstBy, Clock: r.First, Created: true}
}

// RecentHistory is the newest limit changes this device recorded across
// the library, newest first.
func (s *Store) RecentHistory(limit int) ([]HistoryEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	// The papers created last are among those added last: their
	// creations are looked up for these only, not for every paper.
	s.mu.RLock()
	recent := make([]*indexed, 0, len(s.idx.papers))
	for _, e := range s.idx.papers {
		recent = append(recent, e)
	}
	s.mu.RUnlock()
	slices.SortFunc(recent, func(a, b *indexed) int { return cmp.Compare(b.added, a.added) })
	recent = recent[:min(limit, len(recent))]
	var all []HistoryEntry
	err := s.db.View(func(tx *buntdb.Tx) error {
		for _, e := range recent {
			r, err := getRecord(tx, e.id)
			if errors.Is(err, ErrNotFound) {
				continue // gone since the index was read
			}
			if err != nil {
				return err
			}
			if !r.First.IsZero() {
				all = append(all, created(e.id, r))
			}
		}
		return eachHistory(tx, pHistory, func(e HistoryEntry) bool {
			all = append(all, e)
			return true
		})
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b HistoryEntry) int {
		switch {
		case b.Clock.Less(a.Clock):
			return -1
		case a.Clock.Less(b.Clock):
			return 1
		}
		return 0
	})
	if len(all) > limit {
		all = all[:limit]
	}
	return all, nil
}

// LastEdit is who made a paper's newest op, and its stamp (the paper's
// modified time is Clock.Time()). Member is empty for an op from before
// members were recorded.
type LastEdit struct {
	Member string
	Clock  HLC
}

// GetLastEdit returns a paper with who changed it last.
func (s *Store) GetLastEdit(id string) (Paper, LastEdit, error) {
	var p Paper
	var le LastEdit
	err := s.db.View(func(tx *buntdb.Tx) error {
		r, err := getRecord(tx, id)
		if err != nil {
			return err
		}
		le = LastEdit{Member: r.By, Clock: r.Latest}
		p, err = r.paper(id)
		return err
	})
	return p, le, err
}
