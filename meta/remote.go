package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tidwall/buntdb"
)

// This file is the store's side of sync: the local ops waiting to be sent,
// applying other devices' ops, and the version vector saying how far each
// device's ops have been applied here.

// PendingOps returns up to limit of this device's ops not yet confirmed sent,
// in seq order.
func (s *Store) PendingOps(limit int) ([]Op, error) {
	var ops []Op
	err := s.db.View(func(tx *buntdb.Tx) error {
		return eachQueuedOp(tx, s.device, func(op Op) bool {
			ops = append(ops, op)
			return len(ops) < limit
		})
	})
	return ops, err
}

// recheckMissing sets r's missing flag from the library folder when its
// PDF's path is new here or changed since before (nil: a paper new to
// this store): a remote op, a snapshot or an adopted paper that moves
// the PDF. A path that stays keeps the flag this device's scans set.
func (s *Store) recheckMissing(r *record, before *Paper) {
	if s.exists == nil {
		return
	}
	var f struct {
		Path string `json:"path"`
	}
	_ = json.Unmarshal(r.Values["file"], &f)
	if f.Path != "" && (before == nil || before.File.Path != f.Path) {
		r.Missing = !s.exists(f.Path)
	}
}

// PendingPapers counts this device's ops not yet confirmed sent, by paper:
// the papers with edits held here (status, export --held, and a subset
// device's check before it lets a paper go).
func (s *Store) PendingPapers() (map[string]int, error) {
	var out map[string]int
	err := s.db.View(func(tx *buntdb.Tx) (err error) {
		out, err = queuedPapers(tx, s.device)
		return err
	})
	return out, err
}

// queuedPapers counts the device's queued ops by paper.
func queuedPapers(tx *buntdb.Tx, device string) (map[string]int, error) {
	out := map[string]int{}
	err := eachQueuedOp(tx, device, func(op Op) bool {
		out[op.Paper]++
		return true
	})
	return out, err
}

// PendingCount is the number of local ops not yet confirmed sent.
func (s *Store) PendingCount() (int, error) {
	n := 0
	err := s.db.View(func(tx *buntdb.Tx) error {
		return eachQueued(tx, s.device, func(q queued) (bool, error) {
			n += q.count()
			return true, nil
		})
	})
	return n, err
}

// MarkSent drops this device's ops up to and including seq from the queue:
// the server has them. Durable like every commit.
func (s *Store) MarkSent(seq uint64) error {
	return s.write(func(tx *buntdb.Tx, _ *writer) error {
		return dropQueued(tx, s.device, seq)
	})
}

// Vector is the version vector: for each device, the highest seq of its
// ops applied here (for this device, the last seq issued).
func (s *Store) Vector() (map[string]uint64, error) {
	var vv map[string]uint64
	err := s.db.View(func(tx *buntdb.Tx) (err error) {
		vv, err = readVector(tx)
		return err
	})
	return vv, err
}

// readVector reads the version vector inside tx.
func readVector(tx *buntdb.Tx) (map[string]uint64, error) {
	vv := map[string]uint64{}
	err := ascendPrefix(tx, pVector, func(dev, v string) bool {
		n, _ := strconv.ParseUint(v, 10, 64)
		vv[dev] = n
		return true
	})
	return vv, err
}

// ApplyRemote merges other devices' ops. Ops of one device must come in seq
// order; an op at or below the device's high-water mark is skipped (already
// applied), and a gap stops that device's ops from being applied, so the
// vector always means "everything up to here". An invalid op aborts the
// whole batch. Papers, indexes and the vector change in one durable commit.
// It returns how many ops were new and the conflicts the merge resolved
// (see Conflict).
func (s *Store) ApplyRemote(ops []Op) (int, []Conflict, error) {
	var changes []Change
	var conflicts []Conflict
	applied := 0
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		local, err := readLocalEdits(tx, s.device)
		if err != nil {
			return err
		}
		recs := map[string]*record{}
		befores := map[string]*Paper{}
		hist := map[string][]HistoryEntry{}
		var order []string
		hw, err := walkNewOps(tx, s.device, ops, func(op *Op) error {
			r, ok := recs[op.Paper]
			if !ok {
				var err error
				r, err = getRecordForWrite(tx, op.Paper)
				if errors.Is(err, ErrNotFound) {
					r = nil
				} else if err != nil {
					return err
				}
				if r != nil {
					b, err := r.paper(op.Paper)
					if err != nil {
						return err
					}
					befores[op.Paper] = &b
				} else {
					r = newRecord()
				}
				recs[op.Paper] = r
				order = append(order, op.Paper)
			}
			conflicts = local.conflicts(conflicts, s.device, r, op)
			if h, ok := r.applyLogged(op, true); ok {
				hist[op.Paper] = append(hist[op.Paper], h)
			}
			s.clock.observeRemote(op.Clock)
			applied++
			return nil
		})
		if err != nil {
			return err
		}
		for dev, seq := range hw {
			if err := setVector(tx, dev, seq); err != nil {
				return err
			}
		}
		for _, id := range order {
			s.recheckMissing(recs[id], befores[id])
			after, err := recs[id].paper(id)
			if err != nil {
				return err
			}
			if err := w.store(tx, id, recs[id], &after); err != nil {
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
		return 0, nil, fmt.Errorf("applying remote changes: %w", err)
	}
	s.feed.publish(changes...)
	return applied, conflicts, nil
}

// walkNewOps calls fn, in order, for each op of ops that is new here: not
// one of this device's own (they come back from the server; we have
// them), above its device's high-water mark, and before any gap in that
// device's seqs. It returns the devices' new high-water marks. An invalid
// op stops the walk with an error.
func walkNewOps(tx *buntdb.Tx, self string, ops []Op, fn func(op *Op) error) (map[string]uint64, error) {
	hw := map[string]uint64{}
	stopped := map[string]bool{}
	for i := range ops {
		op := &ops[i]
		if err := op.Check(); err != nil {
			return nil, err
		}
		if op.Device == self || stopped[op.Device] {
			continue
		}
		cur, ok := hw[op.Device]
		if !ok {
			v, err := tx.Get(pVector + op.Device)
			if err != nil && !errors.Is(err, buntdb.ErrNotFound) {
				return nil, err
			}
			cur, _ = strconv.ParseUint(v, 10, 64)
		}
		if op.Seq <= cur {
			hw[op.Device] = cur
			continue
		}
		if op.Seq != cur+1 {
			stopped[op.Device] = true
			hw[op.Device] = cur
			continue
		}
		hw[op.Device] = op.Seq
		if err := fn(op); err != nil {
			return nil, err
		}
	}
	return hw, nil
}

// SetClockOffset tells the store how far this device's wall clock is off
// the true time (the sync engine measures it against the server's): the
// bound on remote stamps taken into the clock (MaxClockAhead) is counted
// from the corrected time.
func (s *Store) SetClockOffset(d time.Duration) { s.clock.setOffset(d) }

// SyncState reads a value the sync engine keeps in the local database.
func (s *Store) SyncState(name string) (string, error) {
	var v string
	err := s.db.View(func(tx *buntdb.Tx) error {
		var err error
		v, err = tx.Get(pSync + name)
		if errors.Is(err, buntdb.ErrNotFound) {
			return nil
		}
		return err
	})
	return v, err
}

// SetSyncState durably stores a sync engine value.
func (s *Store) SetSyncState(name, value string) error {
	if strings.ContainsRune(name, 0) {
		return fmt.Errorf("sync state name %q: %w", name, ErrInvalid)
	}
	return s.write(func(tx *buntdb.Tx, _ *writer) error {
		_, _, err := tx.Set(pSync+name, value, nil)
		return err
	})
}

// Conflict is one field that a remote op and a concurrent edit made on this
// device set to different values. The merge has already resolved it (last
// writer by HLC wins); a Conflict only tells the user what was overwritten.
type Conflict struct {
	Paper       string          `json:"paper"`
	Field       string          `json:"field"`
	Local       json.RawMessage `json:"local,omitempty"`
	LocalClock  HLC             `json:"localClock"`
	Remote      json.RawMessage `json:"remote,omitempty"`
	RemoteClock HLC             `json:"remoteClock"`
	RemoteOp    string          `json:"remoteOp"`
	// RemoteWins says the remote value replaced the local one; otherwise
	// the local value stays and the remote one was discarded.
	RemoteWins bool `json:"remoteWins"`
	// RemoteName is the remote device's name, and SkewDecided says the
	// winner won by its clock running ahead: corrected by the devices'
	// measured offsets from the server's clock, the losing edit was the
	// later one. The sync engine fills both in.
	RemoteName  string `json:"remoteName,omitempty"`
	SkewDecided bool   `json:"skewDecided,omitempty"`
}

// localEdits are this device's ops still queued for upload: their clocks,
// and the clock of the last edit of each paper.
type localEdits struct {
	unsent map[HLC]bool
	edited map[string]HLC
}

func readLocalEdits(tx *buntdb.Tx, device string) (localEdits, error) {
	l := localEdits{unsent: map[HLC]bool{}, edited: map[string]HLC{}}
	err := eachQueuedOp(tx, device, func(op Op) bool {
		l.unsent[op.Clock] = true
		if len(op.Set) > 0 || len(op.Add) > 0 || len(op.Remove) > 0 {
			l.edited[op.Paper] = op.Clock
		}
		return true
	})
	return l, err
}

// conflicts appends to out the conflicts applying the remote op to r, the
// paper's record before it, resolves.
//
// A remote op conflicts with a local edit of the same field to a different
// value when it did not replace that edit's value: its Base names the
// value it replaced. Then the device whose value lost reports it whichever
// device syncs first. An op from before Base is judged from what this
// device knows for certain: the edit is still queued for upload (no one
// can have seen it), or the remote op's clock is older than the edit's
// (had its device seen the edit, its HLC would be later). A remote op
// trashing a paper that has queued local edits is reported as a conflict
// on "trashed": the edits are kept inside the trashed paper. Set fields are
// add-wins and never reported.
func (l localEdits) conflicts(out []Conflict, device string, r *record, op *Op) []Conflict {
	for f, v := range op.Set {
		if slices.Contains(mapFields, f) || !slices.Contains(scalarFields, f) {
			continue // map entries describe another field, whose own conflict is reported
		}
		lc, ok := r.Clocks[f]
		if !ok || lc.Device != device || string(r.Values[f]) == string(v) {
			continue
		}
		concurrent := l.unsent[lc] || op.Clock.Less(lc)
		if op.Base != nil {
			// The op says which value it replaced: it is concurrent
			// with our edit unless it replaced it or a later value.
			b := op.Base[f]
			concurrent = b != lc && b.Less(lc)
		}
		if concurrent {
			out = append(out, Conflict{Paper: op.Paper, Field: f,
				Local: r.Values[f], LocalClock: lc, Remote: v, RemoteClock: op.Clock,
				RemoteOp: op.ID, RemoteWins: lc.Less(op.Clock)})
		}
	}
	if v, ok := op.Set["trashed"]; ok && !isEmptyJSON(v) {
		if lc, ok := l.edited[op.Paper]; ok && r.Clocks["trashed"] != lc {
			out = append(out, Conflict{Paper: op.Paper, Field: "trashed",
				LocalClock: lc, Remote: v, RemoteClock: op.Clock, RemoteOp: op.ID, RemoteWins: true})
		}
	}
	return out
}
