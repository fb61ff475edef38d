package meta

import (
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/tidwall/buntdb"
)

// This file is the store's side of snapshots: exporting every record with
// the version vector it reflects, and merging such a state into a store
// that may hold state of its own (a new device, or one that was offline
// while the server dropped ops a snapshot covers).
//
// A snapshot is a state, not a list of ops, so it is merged as a join of
// two states, never replayed. Scalar fields take the value with the
// greater stamp, as ops do. Set elements need both sides' vectors: since
// an add and its remove cancel out and are both dropped from a record, a
// dot (add op id) absent from a state whose vector covers it has been
// removed there, and a plain union would bring it back.

// SnapshotFormat is the version of the SnapshotRecord encoding. A reader
// must not merge a snapshot of a format it does not know. Format 2 added
// the stamps of map entries ("confidence/title"); a format 1 record gives
// every entry the stamp of its whole map, which format 2 reads the same.
const SnapshotFormat = 2

// ReadsSnapshotFormat says this version can merge snapshots of format f.
func ReadsSnapshotFormat(f int) bool { return f >= 1 && f <= SnapshotFormat }

// SnapshotRecord is one paper's mergeable state: each scalar field's value
// (exact JSON bytes) and the stamp that wrote it, each set element's live
// add dots and its removes whose add has not been applied yet, and the
// newest op applied. Device-local state (missing) is not part of it.
type SnapshotRecord struct {
	ID     string                             `json:"id"`
	Values map[string]json.RawMessage         `json:"v,omitempty"`
	Clocks map[string]HLC                     `json:"c,omitempty"`
	Sets   map[string]map[string]SnapshotElem `json:"s,omitempty"`
	Latest HLC                                `json:"l"`
	// By is the member who made the op stamped Latest (absent in
	// snapshots from before members: readers ignore what they don't know).
	By string `json:"b,omitempty"`
	// First and FirstBy are the stamp (encoded) and member of the oldest
	// op (Store.History): absent when unknown, and First "=" when they
	// are Latest's and By's, as for most papers (never edited since
	// their import), which keeps the snapshot small.
	First   string `json:"f,omitempty"`
	FirstBy string `json:"fb,omitempty"`
}

// sameAsLatest is SnapshotRecord.First for a paper whose oldest op is
// its newest.
const sameAsLatest = "="

// first is the stamp and member of the record's oldest op, if known.
func (sr *SnapshotRecord) first() (HLC, string, error) {
	switch sr.First {
	case "":
		return HLC{}, "", nil
	case sameAsLatest:
		return sr.Latest, sr.By, nil
	}
	h, err := decodeHLC(sr.First)
	return h, sr.FirstBy, err
}

// SnapshotElem is a set element's state in a SnapshotRecord.
type SnapshotElem struct {
	Adds    []string `json:"a,omitempty"`
	Removed []string `json:"r,omitempty"`
}

// Live says the element is in the set: an add no remove has seen (the
// rule of the records' sets, setState.live).
func (el SnapshotElem) Live() bool { return (&setState{Adds: el.Adds, Removed: el.Removed}).live() }

// ErrPendingOps means a snapshot was asked for while local ops are still
// queued for upload: a snapshot may only reflect ops the server has.
var ErrPendingOps = errors.New("local changes not yet uploaded")

// ErrSnapshotAhead means a snapshot claims more of this device's own ops
// than this device has issued: it was made from another copy of this
// database, and merging it would skip ops this device never sent.
var ErrSnapshotAhead = errors.New("snapshot covers ops this device never issued")

// ExportSnapshot returns every record and the version vector they reflect,
// read in one consistent view. It fails with ErrPendingOps if any local op
// is still queued: the state would then include ops the server lacks.
func (s *Store) ExportSnapshot() (map[string]uint64, []SnapshotRecord, error) {
	var vv map[string]uint64
	var recs []SnapshotRecord
	err := s.db.View(func(tx *buntdb.Tx) error {
		pending := false
		if err := ascendPrefix(tx, pOp+s.device+"\x00", func(_, _ string) bool { pending = true; return false }); err != nil {
			return err
		}
		if pending {
			return ErrPendingOps
		}
		var err error
		if vv, err = readVector(tx); err != nil {
			return err
		}
		var derr error
		err = ascendPrefix(tx, pRecord, func(id, v string) bool {
			var r *record
			if r, derr = parseRecord(id, v); derr != nil {
				return false
			}
			if derr = r.decode(); derr != nil {
				derr = fmt.Errorf("paper %s: corrupt record: %w", id, derr)
				return false
			}
			recs = append(recs, toSnapshot(id, r))
			return true
		})
		if err == nil {
			err = derr
		}
		return err
	})
	if err != nil {
		return nil, nil, fmt.Errorf("exporting a snapshot: %w", err)
	}
	return vv, recs, nil
}

func toSnapshot(id string, r *record) SnapshotRecord {
	sr := SnapshotRecord{ID: id, Values: r.Values, Clocks: r.Clocks, Latest: r.Latest, By: r.By}
	switch {
	case r.First.IsZero():
	case r.First == r.Latest && r.FirstBy == r.By:
		sr.First = sameAsLatest
	default:
		sr.First, sr.FirstBy = r.First.encode(), r.FirstBy
	}
	for f, m := range r.Sets {
		for e, st := range m {
			if len(st.Adds) == 0 && len(st.Removed) == 0 {
				continue
			}
			if sr.Sets == nil {
				sr.Sets = map[string]map[string]SnapshotElem{}
			}
			if sr.Sets[f] == nil {
				sr.Sets[f] = map[string]SnapshotElem{}
			}
			sr.Sets[f][e] = SnapshotElem{Adds: slices.Clone(st.Adds), Removed: slices.Clone(st.Removed)}
		}
	}
	return sr
}

// check verifies a record received from elsewhere is well formed.
func (sr *SnapshotRecord) check() error {
	if !validID(sr.ID) {
		return fmt.Errorf("snapshot record: bad paper id %q", sr.ID)
	}
	if _, _, err := sr.first(); err != nil {
		return fmt.Errorf("snapshot record %s: oldest op: %w", sr.ID, err)
	}
	for f := range sr.Values {
		if !slices.Contains(scalarFields, f) {
			return fmt.Errorf("snapshot record %s: unknown field %q", sr.ID, f)
		}
		if _, ok := sr.Clocks[f]; !ok {
			return fmt.Errorf("snapshot record %s: field %q has no stamp", sr.ID, f)
		}
	}
	for f := range sr.Clocks {
		if !validField(f) {
			return fmt.Errorf("snapshot record %s: stamp for unknown field %q", sr.ID, f)
		}
		// A map field's stamps stay when its entries are removed.
		_, plain := sr.Values[f]
		if _, _, entry := splitKey(f); !plain && !entry && !slices.Contains(mapFields, f) {
			return fmt.Errorf("snapshot record %s: stamp for absent field %q", sr.ID, f)
		}
	}
	for f, m := range sr.Sets {
		if !slices.Contains(setFields, f) {
			return fmt.Errorf("snapshot record %s: unknown set %q", sr.ID, f)
		}
		for e, st := range m {
			for _, d := range slices.Concat(st.Adds, st.Removed) {
				if _, _, ok := parseDot(d); !ok {
					return fmt.Errorf("snapshot record %s: %s %q: bad dot %q", sr.ID, f, e, d)
				}
			}
		}
	}
	return nil
}

// parseDot splits an op id "<device>:<seq>".
func parseDot(d string) (string, uint64, bool) {
	i := strings.LastIndexByte(d, ':')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(d[i+1:], 10, 64)
	if err != nil || n == 0 || !validID(d[:i]) {
		return "", 0, false
	}
	return d[:i], n, true
}

// covers says the op d is at or below vv's high-water mark for its device.
func covers(vv map[string]uint64, d string) bool {
	dev, n, ok := parseDot(d)
	return ok && n <= vv[dev]
}

// SnapshotOverlap returns those of a snapshot's record ids that this
// store already has a record for: the only papers whose state a merge can
// make differ from the snapshot's.
func (s *Store) SnapshotOverlap(ids []string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *buntdb.Tx) error {
		for _, id := range ids {
			_, err := tx.Get(pRecord + id)
			if err == nil {
				out = append(out, id)
			} else if !errors.Is(err, buntdb.ErrNotFound) {
				return err
			}
		}
		return nil
	})
	return out, err
}

// MergeSnapshot merges a snapshot (records reflecting exactly the ops its
// vector covers) into the store, in one durable commit: afterwards the
// store holds the state of every op it or the snapshot had, and its
// vector is the pointwise maximum of both. Local ops still queued for
// upload stay queued and keep their effect. It returns how many of the
// snapshot's ops were new here (the vector's growth) and publishes a
// Change for every paper whose visible state changed.
//
// The merge is the join of two states: commutative, associative and
// idempotent, so merging snapshots in any order, or one twice, or ops
// after a snapshot, converges like applying the ops themselves.
func (s *Store) MergeSnapshot(vector map[string]uint64, recs []SnapshotRecord) (int, error) {
	return s.MergeSnapshotFrom(vector, func(yield func(*SnapshotRecord, error) bool) {
		for i := range recs {
			if !yield(&recs[i], nil) {
				return
			}
		}
	})
}

// MergeSnapshotFrom is MergeSnapshot of the records recs yields, each
// taken (and, by a caller that decodes them as it yields, parsed) only
// as it is merged: parsed all at once, a large library's snapshot takes
// many times its papers' size in memory. A record that is invalid or an error from recs
// aborts the commit, leaving the store as it was.
func (s *Store) MergeSnapshotFrom(vector map[string]uint64, recs iter.Seq2[*SnapshotRecord, error]) (int, error) {
	return s.mergeSnapshot(vector, recs, false)
}

// mergeSnapshot merges recs; heldOnly skips the records of papers this
// store holds no record of (MergeSnapshotHeld).
func (s *Store) mergeSnapshot(vector map[string]uint64, recs iter.Seq2[*SnapshotRecord, error], heldOnly bool) (int, error) {
	for dev := range vector {
		if !validID(dev) {
			return 0, fmt.Errorf("merging a snapshot: bad device id %q in its vector", dev)
		}
	}
	var changes []Change
	gained := 0
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		local, err := readVector(tx)
		if err != nil {
			return err
		}
		if vector[s.device] > local[s.device] {
			return fmt.Errorf("%w: it has %s up to %d, this database only %d",
				ErrSnapshotAhead, s.device, vector[s.device], local[s.device])
		}
		var latest HLC
		for sr, err := range recs {
			if err != nil {
				return err
			}
			if err := sr.check(); err != nil {
				return err
			}
			cur, err := getRecordForWrite(tx, sr.ID)
			var before *Paper
			if errors.Is(err, ErrNotFound) {
				if heldOnly {
					continue
				}
				cur = nil
			} else if err != nil {
				return err
			} else {
				b, err := cur.paper(sr.ID)
				if err != nil {
					return err
				}
				before = &b
			}
			merged := mergeRecord(cur, local, sr, vector)
			if latest.Less(merged.Latest) {
				latest = merged.Latest
			}
			if cur != nil && sameRecord(cur, merged) {
				continue
			}
			if cur != nil {
				merged.Missing = cur.Missing
			}
			s.recheckMissing(merged, before)
			after, err := merged.paper(sr.ID)
			if err != nil {
				return err
			}
			if err := w.store(tx, sr.ID, merged, &after); err != nil {
				return err
			}
			changes = append(changes, Change{ID: sr.ID, Before: before, After: &after, Remote: true})
		}
		for dev, n := range vector {
			if dev == s.device || n <= local[dev] {
				continue
			}
			gained += int(n - local[dev])
			if err := setVector(tx, dev, n); err != nil {
				return err
			}
		}
		if !latest.IsZero() {
			s.clock.observeRemote(latest)
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("merging a snapshot: %w", err)
	}
	s.feed.publish(changes...)
	return gained, nil
}

// mergeRecord joins a local record (nil if none) reflecting the ops lv
// covers with a snapshot record reflecting the ops sv covers.
func mergeRecord(cur *record, lv map[string]uint64, sr *SnapshotRecord, sv map[string]uint64) *record {
	out := newRecord()
	if cur == nil {
		cur = newRecord()
	}
	maps.Copy(out.Values, cur.Values)
	maps.Copy(out.Clocks, cur.Clocks)
	out.join(sr.Values, sr.Clocks)
	out.Latest, out.By = cur.Latest, cur.By
	if out.Latest.Less(sr.Latest) {
		out.Latest, out.By = sr.Latest, CleanMember(sr.By)
	}
	out.First, out.FirstBy = cur.First, cur.FirstBy
	if first, by, _ := sr.first(); !first.IsZero() && (out.First.IsZero() || first.Less(out.First)) {
		out.First, out.FirstBy = first, CleanMember(by)
	}
	for _, f := range setFields {
		elems := map[string]bool{}
		for e := range cur.Sets[f] {
			elems[e] = true
		}
		for e := range sr.Sets[f] {
			elems[e] = true
		}
		for e := range elems {
			var la, lr []string
			if st := cur.Sets[f][e]; st != nil {
				la, lr = st.Adds, st.Removed
			}
			ss := sr.Sets[f][e]
			st := mergeElem(la, lr, lv, ss.Adds, ss.Removed, sv)
			if len(st.Adds) > 0 || len(st.Removed) > 0 {
				if out.Sets[f] == nil {
					out.Sets[f] = map[string]*setState{}
				}
				out.Sets[f][e] = st
			}
		}
	}
	return out
}

// mergeElem joins one set element's two states. An add dot is live if a
// side has it and the other side either has it too or has not applied
// its op (a side that applied the add and lacks it has removed it). A
// remove whose add neither side has applied stays, to cancel the add when
// it comes; one whose add a side has applied cancels that add if it is
// still live and is otherwise done with.
func mergeElem(la, lr []string, lv map[string]uint64, sa, sr []string, sv map[string]uint64) *setState {
	adds := map[string]bool{}
	for _, d := range la {
		if slices.Contains(sa, d) || !covers(sv, d) {
			adds[d] = true
		}
	}
	for _, d := range sa {
		if !covers(lv, d) {
			adds[d] = true
		}
	}
	removed := map[string]bool{}
	for _, d := range slices.Concat(lr, sr) {
		switch {
		case adds[d]:
			delete(adds, d)
		case covers(lv, d) || covers(sv, d):
			// The add was applied on a side and is not live: removed.
		default:
			removed[d] = true
		}
	}
	st := &setState{}
	for d := range adds {
		st.Adds = append(st.Adds, d)
	}
	for d := range removed {
		st.Removed = append(st.Removed, d)
	}
	slices.Sort(st.Adds)
	slices.Sort(st.Removed)
	return st
}

// sameRecord says two decoded records hold the same synced state.
func sameRecord(a, b *record) bool {
	if a.Latest != b.Latest || a.By != b.By || a.First != b.First || a.FirstBy != b.FirstBy || len(a.Values) != len(b.Values) || !maps.Equal(a.Clocks, b.Clocks) {
		return false
	}
	for f, v := range a.Values {
		if w, ok := b.Values[f]; !ok || string(v) != string(w) || a.Clocks[f] != b.Clocks[f] {
			return false
		}
	}
	for _, f := range setFields {
		am, bm := a.Sets[f], b.Sets[f]
		n := 0
		for e, st := range am {
			if len(st.Adds) == 0 && len(st.Removed) == 0 {
				continue
			}
			n++
			o := bm[e]
			if o == nil || !slices.Equal(st.Adds, o.Adds) || !slices.Equal(st.Removed, o.Removed) {
				return false
			}
		}
		m := 0
		for _, st := range bm {
			if len(st.Adds) > 0 || len(st.Removed) > 0 {
				m++
			}
		}
		if n != m {
			return false
		}
	}
	return true
}
