package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
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
// Stored as h:<paper id> -> JSON array of HistoryEntry, oldest first.
// buntdb keeps every key in memory and reads the whole file at open, so
// the history is bounded. It is bounded per paper (historyPerPaper
// entries) rather than by age: a bound by age would keep all of a burst
// (a retag of the whole library, an evening of edits) however large, and
// drop the whole story of a paper nobody touched lately, which is the
// story `paperfs log` is asked for. Values are cut to historyValueBytes,
// and a paper's first op is kept without its values (an import would
// otherwise hold every paper twice): its values are the paper's until
// later entries' old values say otherwise.
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
	// Created says the paper did not exist here before the op; its
	// Changes then name the fields it set, without values.
	Created bool          `json:"new,omitempty"`
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
// changed.
func (r *record) applyLogged(op *Op, remote bool) HistoryEntry {
	e := HistoryEntry{Paper: op.Paper, Op: op.ID, Member: op.Member, Clock: op.Clock, Created: r.Latest.IsZero(), Remote: remote}
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
	for i, f := range names {
		c := FieldChange{Field: f, Lost: r.Clocks[f] != op.Clock}
		if !e.Created {
			if !c.Lost && string(olds[i]) == string(op.Set[f]) {
				continue
			}
			var cut1, cut2 bool
			c.Old, cut1 = clipValue(olds[i])
			c.New, cut2 = clipValue(op.Set[f])
			c.Cut = cut1 || cut2
		}
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
	return e
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

// logHistory adds entries, all of one paper, to its history in tx,
// keeping the newest historyPerPaper by stamp.
func logHistory(tx *buntdb.Tx, id string, es []HistoryEntry) error {
	if len(es) == 0 {
		return nil
	}
	all, err := readHistory(tx, id)
	if err != nil {
		return err
	}
	all = append(all, es...)
	slices.SortStableFunc(all, func(a, b HistoryEntry) int {
		switch {
		case a.Clock.Less(b.Clock):
			return -1
		case b.Clock.Less(a.Clock):
			return 1
		}
		return 0
	})
	if len(all) > historyPerPaper {
		all = all[len(all)-historyPerPaper:]
	}
	b, err := json.Marshal(all)
	if err != nil {
		return err
	}
	_, _, err = tx.Set(pHistory+id, string(b), nil)
	return err
}

// readHistory reads paper id's history, oldest first. A history that
// does not parse (a damaged file) reads as empty: it is a record for
// people, and the edit being made must not fail for it.
func readHistory(tx *buntdb.Tx, id string) ([]HistoryEntry, error) {
	v, err := tx.Get(pHistory + id)
	if errors.Is(err, buntdb.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return parseHistory(id, v), nil
}

func parseHistory(id, v string) []HistoryEntry {
	var es []HistoryEntry
	if json.Unmarshal([]byte(v), &es) != nil {
		return nil
	}
	for i := range es {
		es[i].Paper = id
	}
	return es
}

// History is what this device recorded of paper id's changes, newest
// first (see the top of history.go for what it keeps).
func (s *Store) History(id string) ([]HistoryEntry, error) {
	var es []HistoryEntry
	err := s.db.View(func(tx *buntdb.Tx) error {
		if _, err := tx.Get(pRecord + id); errors.Is(err, buntdb.ErrNotFound) {
			return fmt.Errorf("paper %s: %w", id, ErrNotFound)
		}
		var err error
		es, err = readHistory(tx, id)
		return err
	})
	slices.Reverse(es)
	return es, err
}

// RecentHistory is the newest limit changes this device recorded across
// the library, newest first.
func (s *Store) RecentHistory(limit int) ([]HistoryEntry, error) {
	if limit <= 0 {
		return nil, nil
	}
	var all []HistoryEntry
	err := s.db.View(func(tx *buntdb.Tx) error {
		return ascendPrefix(tx, pHistory, func(id, v string) bool {
			all = append(all, parseHistory(id, v)...)
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
