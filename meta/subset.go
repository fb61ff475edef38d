package meta

import (
	"cmp"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/tidwall/buntdb"
)

// This file is the store's side of a device that holds only part of a
// library (a sync subscription, see docs/sync.md "Subscribing to part of
// a library"). Such a store's version vector means: every op up to it of
// every paper the store holds has been applied here. Ops of other papers
// are not applied, so a device's ops arrive with gaps in their seqs, and
// a paper that joins the subset is adopted with its whole history (its
// snapshot records and its ops up to the vector) in one commit.

// SubsetSnapshot is a snapshot's records for papers being adopted, with
// the vector the snapshot reflects.
type SubsetSnapshot struct {
	Vector  map[string]uint64
	Records []SnapshotRecord
}

// SubsetUpdate is one commit of a store that holds part of a library.
type SubsetUpdate struct {
	// Ops are other devices' ops (and, for papers being adopted, this
	// device's own) in any order. An op of a paper held here is applied
	// if it is past the vector and at most HW; an op of a paper not held
	// here (being adopted) is applied if the snapshots do not cover it
	// and the new vector does.
	Ops []Op
	// HW raises the vector: the caller has every op up to it of every
	// paper held here or adopted (devices other than this one).
	HW map[string]uint64
	// Snapshots hold the adopted papers' state up to their vectors,
	// whose join must be at most the new vector.
	Snapshots []SubsetSnapshot
	// Keep says whether an adopted paper, built from its history, is
	// held; nil holds them all.
	Keep func(*Paper) bool
}

// SubsetResult says what ApplySubset did.
type SubsetResult struct {
	Applied   int      // ops applied to papers held before
	Adopted   []string // papers now held that were not
	Conflicts []Conflict
}

// ApplySubset applies u in one durable commit: the ops of papers held
// here, the adoption of papers not held yet, and the new vector.
func (s *Store) ApplySubset(u SubsetUpdate) (SubsetResult, error) {
	var res SubsetResult
	var changes []Change
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		vv, err := readVector(tx)
		if err != nil {
			return err
		}
		next := map[string]uint64{}
		for d, n := range vv {
			next[d] = n
		}
		for d, n := range u.HW {
			if d != s.device && n > next[d] {
				next[d] = n
			}
		}
		covered := map[string]uint64{}
		for _, sn := range u.Snapshots {
			for d, n := range sn.Vector {
				if n > next[d] {
					return fmt.Errorf("adopting papers: a snapshot covers %s up to %d, past this store's %d", d, n, next[d])
				}
				covered[d] = max(covered[d], n)
			}
		}
		local, err := readLocalEdits(tx, s.device)
		if err != nil {
			return err
		}
		recs := map[string]*record{}
		held := map[string]bool{}
		befores := map[string]*Paper{}
		hist := map[string][]HistoryEntry{}
		var order []string
		load := func(id string) (*record, error) {
			if r, ok := recs[id]; ok {
				return r, nil
			}
			r, err := getRecordForWrite(tx, id)
			if errors.Is(err, ErrNotFound) {
				r = nil
			} else if err != nil {
				return nil, err
			}
			if r != nil {
				b, err := r.paper(id)
				if err != nil {
					return nil, err
				}
				befores[id], held[id] = &b, true
			}
			recs[id] = r
			order = append(order, id)
			return r, nil
		}
		// Adopted papers start from the snapshots, joined in turn: a
		// paper absent from a snapshot had no op it covers.
		seen := map[string]uint64{}
		for _, sn := range u.Snapshots {
			for i := range sn.Records {
				sr := &sn.Records[i]
				if err := sr.check(); err != nil {
					return err
				}
				r, err := load(sr.ID)
				if err != nil {
					return err
				}
				if held[sr.ID] {
					continue
				}
				recs[sr.ID] = mergeRecord(r, seen, sr, sn.Vector)
			}
			for d, n := range sn.Vector {
				seen[d] = max(seen[d], n)
			}
		}
		ops := slices.Clone(u.Ops)
		slices.SortFunc(ops, func(a, b Op) int {
			return cmp.Or(cmp.Compare(a.Device, b.Device), cmp.Compare(a.Seq, b.Seq))
		})
		for i := range ops {
			op := &ops[i]
			if i > 0 && ops[i-1].ID == op.ID {
				continue // in a batch and in an adopted paper's history
			}
			if err := op.Check(); err != nil {
				return err
			}
			r, err := load(op.Paper)
			if err != nil {
				return err
			}
			if held[op.Paper] {
				if op.Device == s.device || op.Seq <= vv[op.Device] || op.Seq > next[op.Device] {
					continue
				}
				res.Conflicts = local.conflicts(res.Conflicts, s.device, r, op)
				res.Applied++
			} else if op.Seq <= covered[op.Device] || op.Seq > next[op.Device] {
				continue
			}
			if r == nil {
				r = newRecord()
				recs[op.Paper] = r
			}
			// Logged as ApplyRemote logs: a subset device's paperfs log
			// shows the other devices' edits too.
			if h, ok := r.applyLogged(op, true); ok {
				hist[op.Paper] = append(hist[op.Paper], h)
			}
			s.clock.observeRemote(op.Clock)
		}
		for d, n := range next {
			if d != s.device && n > vv[d] {
				if err := setVector(tx, d, n); err != nil {
					return err
				}
			}
		}
		for _, id := range order {
			r := recs[id]
			if r == nil {
				continue
			}
			if !held[id] && !r.Latest.IsZero() {
				s.clock.observeRemote(r.Latest)
			}
			s.recheckMissing(r, befores[id])
			after, err := r.paper(id)
			if err != nil {
				return err
			}
			if !held[id] {
				if u.Keep != nil && !u.Keep(&after) {
					continue
				}
				res.Adopted = append(res.Adopted, id)
			}
			if err := w.store(tx, id, r, &after); err != nil {
				return err
			}
			if err := logHistory(tx, id, hist[id]); err != nil {
				return err
			}
			changes = append(changes, Change{ID: id, Before: befores[id], After: &after, Remote: true})
		}
		return nil
	})
	if err != nil {
		return SubsetResult{}, fmt.Errorf("applying remote changes to a subset: %w", err)
	}
	s.feed.publish(changes...)
	return res, nil
}

// HeldIDs is the id of every paper this store holds a record of,
// merged duplicates and trashed papers included: the index's papers,
// read from memory (a subset pull asks once per batch).
func (s *Store) HeldIDs() ([]string, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return slices.Collect(maps.Keys(s.idx.papers)), nil
}

// HeldCount is len(HeldIDs()), without the list.
func (s *Store) HeldCount() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.idx.papers)
}

// DropUnless forgets, in one commit, every paper keep rejects that has no
// local op waiting to be sent: a subset device lets go of a paper that
// left its subset. Its PDF is not touched. It returns the papers dropped.
func (s *Store) DropUnless(keep func(*Paper) bool) ([]string, error) {
	var dropped []string
	var changes []Change
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		queued, err := queuedPapers(tx, s.device)
		if err != nil {
			return err
		}
		var ids []string
		var perr error
		err = ascendPrefix(tx, pRecord, func(id, v string) bool {
			if queued[id] > 0 {
				return true
			}
			r, err := parseRecord(id, v)
			if err != nil {
				perr = err
				return false
			}
			p, err := r.paper(id)
			if err != nil {
				perr = err
				return false
			}
			if !keep(&p) {
				ids = append(ids, id)
				changes = append(changes, Change{ID: id, Before: &p, Remote: true})
			}
			return true
		})
		if err == nil {
			err = perr
		}
		if err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Delete(pRecord + id); err != nil {
				return err
			}
			prev, err := s.idx.put(id, "")
			if err != nil {
				return err
			}
			if w.undo == nil {
				w.undo = map[string]string{}
			}
			if _, ok := w.undo[id]; !ok {
				w.undo[id] = prev
			}
		}
		dropped = ids
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("dropping papers outside the subset: %w", err)
	}
	s.feed.publish(changes...)
	return dropped, nil
}

// MergeSnapshotHeld is MergeSnapshot for a store holding part of a
// library: records of papers it does not hold are skipped (their papers
// are adopted with ApplySubset, if wanted), and the vector is raised all
// the same.
func (s *Store) MergeSnapshotHeld(vector map[string]uint64, recs []SnapshotRecord) (int, error) {
	return s.mergeSnapshot(vector, func(yield func(*SnapshotRecord, error) bool) {
		for i := range recs {
			if !yield(&recs[i], nil) {
				return
			}
		}
	}, true)
}
