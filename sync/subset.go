package sync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
)

// A device with a Subscription holds part of the library. See
// docs/sync.md, "Subscribing to part of a library".
//
// Its version vector means: every op up to it of every paper held here
// has been applied. A pull asks only for ops of held papers and ops that
// add a subscribed tag or folder (a paper entering the subset), each
// device's up to the maxSeq of its devices document (every op up to it is
// on the server, so the gaps in what comes back are other papers', never
// an upload still under way). A paper that enters is adopted with its
// history: its records from the snapshots covering the compacted ops and
// its ops up to the vector, in the same commit. A paper that no longer
// matches is dropped once no local op of it waits to be sent.

// SyncState keys of a subset device.
const (
	// stSubset is the subscription key the vector is kept for; "" for
	// the whole library. It differs from the configured one only while a
	// change is being taken in.
	stSubset = "subset"
	// stSubsetScanned is the subscription key whose papers up to the
	// vector have all been adopted ("all" for the whole library).
	stSubsetScanned = "subsetScanned"
	keyAll          = "all"
)

// ErrSubset means a device holding part of the library was asked for
// something only a device holding all of it may do (a snapshot).
var ErrSubset = errors.New("this device holds only part of the library (a subscription)")

// errFloorMoved means a compaction was advertised while a pull was
// reading ops it may delete: the pull stops and the next round merges its
// snapshot first.
var errFloorMoved = errors.New("a compaction started during the pull")

// subsetMode says the engine pulls as a subset device: a subscription is
// configured, or the store's vector is still a subset's (a subscription
// just removed: its papers are adopted before full pulls resume).
func (e *Engine) subsetMode() bool {
	if !e.subscription().All() {
		return true
	}
	v, _ := e.store.SyncState(stSubset)
	return v != ""
}

// pullSubset is pull for a subset device.
func (e *Engine) pullSubset(ctx context.Context, full bool) (received int, conflicts []meta.Conflict, err error) {
	sub := e.subscription()
	key := sub.key()
	scanKey := key
	if key == "" {
		scanKey = keyAll
	}
	if cur, err := e.store.SyncState(stSubset); err != nil {
		return 0, nil, err
	} else if key != "" && cur != key {
		// From here on the vector is the subset's; stSubsetScanned
		// still names the old one, so the new one's papers get adopted.
		if err := e.store.SetSyncState(stSubset, key); err != nil {
			return 0, nil, err
		}
	}
	vv, err := e.store.Vector()
	if err != nil {
		return 0, nil, err
	}
	total, floors, err := e.estimate(ctx, vv)
	if err != nil {
		return 0, nil, err
	}
	e.mu.Lock()
	maxSeq := maps.Clone(e.mu.maxSeq)
	e.mu.Unlock()
	floorVV := map[string]uint64{}
	for _, f := range floors {
		raiseFloor(floorVV, f.Vector)
	}
	// Compacted ops this device lacks: merge the snapshots for the papers
	// held here. Papers the snapshots bring into the subset are found by
	// the scan below, which a raised vector makes due.
	if !dominates(vv, floorVV, e.store.Device()) {
		n, err := e.catchUpHeld(ctx, vv, floors)
		received += n
		if err != nil {
			return received, nil, err
		}
		if err := e.store.SetSyncState(stSubsetScanned, ""); err != nil {
			return received, nil, err
		}
		if vv, err = e.store.Vector(); err != nil {
			return received, nil, err
		}
		full = true
	}
	scanned, err := e.store.SyncState(stSubsetScanned)
	if err != nil {
		return received, nil, err
	}
	if scanned != scanKey {
		n, err := e.scanSubset(ctx, sub, vv, floorVV)
		received += n
		if errors.Is(err, errFloorMoved) {
			return received, nil, nil
		}
		if err != nil {
			return received, nil, err
		}
		if err := e.store.SetSyncState(stSubsetScanned, scanKey); err != nil {
			return received, nil, err
		}
		if key == "" {
			// Every paper up to the vector is held: the vector is a
			// whole library's again, and full pulls take over.
			if err := e.store.SetSyncState(stSubset, ""); err != nil {
				return received, nil, err
			}
			if err := e.store.SetSyncState(stSubsetScanned, ""); err != nil {
				return received, nil, err
			}
			e.log.Info("sync: the whole library is held again")
			return received, nil, nil
		}
		full = true
	}
	if total == 0 && !full {
		return received, nil, nil
	}
	for {
		n, cs, more, err := e.fetchSubset(ctx, sub, maxSeq, floorVV)
		received += n
		conflicts = append(conflicts, cs...)
		if errors.Is(err, errFloorMoved) {
			break
		}
		if err != nil {
			return received, conflicts, err
		}
		if e.cfg.Progress != nil {
			e.cfg.Progress(received, max(total, received))
		}
		if !more {
			break
		}
	}
	return received, conflicts, nil
}

// fetchSubset runs one batch of a subset pull: the next ops past the
// vector, up to each device's maxSeq, of held papers or adding a
// subscribed tag or folder; papers not held yet among them are adopted in
// the same commit. more says a full batch came back.
func (e *Engine) fetchSubset(ctx context.Context, sub Subscription, maxSeq, floorVV map[string]uint64) (int, []meta.Conflict, bool, error) {
	self := e.store.Device()
	vv, err := e.store.Vector()
	if err != nil {
		return 0, nil, false, err
	}
	var ranges bson.A
	var devs []string
	for _, d := range sortedKeys(maxSeq) {
		if d != self && maxSeq[d] > vv[d] {
			devs = append(devs, d)
			ranges = append(ranges, bson.D{{Key: "device", Value: d},
				{Key: "seq", Value: bson.D{{Key: "$gt", Value: int64(vv[d])}, {Key: "$lte", Value: int64(maxSeq[d])}}}})
		}
	}
	if len(ranges) == 0 {
		return 0, nil, false, nil
	}
	held, err := e.store.HeldIDs()
	if err != nil {
		return 0, nil, false, err
	}
	filter := bson.D{{Key: "$or", Value: ranges}}
	if !sub.All() {
		filter = bson.D{{Key: "$and", Value: bson.A{filter, bson.D{{Key: "$or", Value: wanted(sub, held)}}}}}
	}
	docs, err := e.findOps(ctx, filter, int64(e.cfg.BatchSize))
	if err != nil {
		return 0, nil, false, fmt.Errorf("downloading changes: %w", err)
	}
	more := len(docs) >= e.cfg.BatchSize
	// How far the batch reaches: all of each device's range, except that
	// a full batch ends inside the range of its last op's device.
	hw := map[string]uint64{}
	for _, d := range devs {
		hw[d] = maxSeq[d]
	}
	if more {
		last := docs[len(docs)-1]
		for _, d := range devs {
			switch {
			case d == last.Device:
				hw[d] = uint64(last.Seq)
			case d > last.Device:
				delete(hw, d)
			}
		}
	}
	ops, err := e.decodeOps(docs)
	if err != nil {
		return 0, nil, false, err
	}
	isHeld := sliceSet(held)
	touched := map[string]bool{}
	adopt := map[string]bool{}
	for i := range ops {
		touched[ops[i].Paper] = true
		if !isHeld[ops[i].Paper] {
			adopt[ops[i].Paper] = true
		}
	}
	target := maps.Clone(vv)
	for d, n := range hw {
		target[d] = max(target[d], n)
	}
	var snaps []meta.SubsetSnapshot
	if len(adopt) > 0 {
		var history []meta.Op
		snaps, history, err = e.history(ctx, sub, target, floorVV, adopt, nil)
		if err != nil {
			return 0, nil, false, err
		}
		ops = append(ops, history...)
	}
	// A compaction advertised since the devices were read may have
	// deleted ops of the ranges just read.
	if err := e.checkFloors(ctx, floorVV); err != nil {
		return 0, nil, false, err
	}
	if err := e.markDirty(touched); err != nil {
		return 0, nil, false, err
	}
	res, err := e.store.ApplySubset(meta.SubsetUpdate{Ops: ops, HW: hw, Snapshots: snaps, Keep: keep(sub)})
	if err != nil {
		return 0, nil, false, err
	}
	if len(res.Adopted) > 0 {
		e.log.Info("sync: papers entered the subscription", "papers", len(res.Adopted))
	}
	return res.Applied + len(res.Adopted), res.Conflicts, more, nil
}

// wanted is the filter of a subset's ops: of held papers, or adding a
// subscribed tag or folder.
func wanted(sub Subscription, held []string) bson.A {
	return append(bson.A{bson.D{{Key: "paper", Value: bson.D{{Key: "$in", Value: nonNil(held)}}}}}, inSubscription(sub, "add.")...)
}

// inSubscription is the $or clauses that match the subscription's tags
// and folders in fields prefix+"tags" and prefix+"folders" ("add." for an
// op adding them, "" for a snapshot entry holding them).
func inSubscription(sub Subscription, prefix string) bson.A {
	var or bson.A
	if len(sub.Tags) > 0 {
		or = append(or, bson.D{{Key: prefix + "tags", Value: bson.D{{Key: "$in", Value: sub.Tags}}}})
	}
	if len(sub.Folders) > 0 {
		or = append(or, bson.D{{Key: prefix + "folders", Value: bson.D{{Key: "$in", Value: sub.Folders}}}})
	}
	return or
}

func keep(sub Subscription) func(*meta.Paper) bool {
	if sub.All() {
		return nil
	}
	return sub.Matches
}

// scanSubset adopts every paper of the subscription that has ops up to
// vv (on the server, or compacted into snapshots) and is not held yet:
// after a subscription change, or a snapshot merge that raised the vector.
func (e *Engine) scanSubset(ctx context.Context, sub Subscription, vv, floorVV map[string]uint64) (int, error) {
	fresh := true
	for _, n := range vv {
		if n > 0 {
			fresh = false
		}
	}
	if fresh {
		return 0, nil // nothing up to the vector: the pull brings it all
	}
	held, err := e.store.HeldIDs()
	if err != nil {
		return 0, err
	}
	isHeld := sliceSet(held)
	// Papers with an op adding a subscribed tag or folder (or, for the
	// whole library, any op) still on the server.
	filter := bson.D{}
	if !sub.All() {
		or := inSubscription(sub, "add.")
		filter = bson.D{{Key: "$or", Value: or}}
	}
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	cur, err := e.ops.Find(octx, filter, options.Find().SetProjection(bson.D{{Key: "paper", Value: 1}, {Key: "_id", Value: 0}}).
		SetBatchSize(int32(10*e.cfg.BatchSize)))
	if err != nil {
		return 0, fmt.Errorf("finding the subscription's papers: %w", err)
	}
	var docs []struct {
		Paper string `bson:"paper"`
	}
	if err := cur.All(octx, &docs); err != nil {
		return 0, fmt.Errorf("finding the subscription's papers: %w", err)
	}
	ids := map[string]bool{}
	for _, d := range docs {
		if !isHeld[d.Paper] {
			ids[d.Paper] = true
		}
	}
	// The snapshots add the papers whose ops are compacted.
	snaps, history, err := e.history(ctx, sub, vv, floorVV, ids, isHeld)
	if err != nil {
		return 0, err
	}
	if len(ids) == 0 {
		return 0, nil
	}
	if err := e.checkFloors(ctx, floorVV); err != nil {
		return 0, err
	}
	res, err := e.store.ApplySubset(meta.SubsetUpdate{Ops: history, Snapshots: snaps, Keep: keep(sub)})
	if err != nil {
		return 0, err
	}
	// The adopted papers' readable documents are not rewritten: every
	// op adopted was applied, and its paper's document rewritten, by the
	// devices holding the paper, which flush before they drop a paper.
	e.log.Info("sync: adopted the subscription's papers", "subscription", sub.String(), "papers", len(res.Adopted))
	return len(res.Adopted), nil
}

func sliceSet(ids []string) map[string]bool {
	m := make(map[string]bool, len(ids))
	for _, id := range ids {
		m[id] = true
	}
	return m
}

// history is what adopting the papers ids at vector target takes: their
// records from snapshots that cover every compacted op (each at most
// target), and their ops past those snapshots up to target. With
// discover set, the subscription's papers the snapshots hold that are not
// in discover join ids first.
func (e *Engine) history(ctx context.Context, sub Subscription, target, floorVV map[string]uint64, ids, discover map[string]bool) ([]meta.SubsetSnapshot, []meta.Op, error) {
	chosen, covered, err := e.chooseSnapshots(ctx, target, floorVV)
	if err != nil {
		return nil, nil, err
	}
	read := func(discover map[string]bool) ([]meta.SubsetSnapshot, error) {
		var snaps []meta.SubsetSnapshot
		for _, sd := range chosen {
			recs, err := e.snapshotRecords(ctx, sd, sub, ids, discover)
			if err != nil {
				return nil, err
			}
			snaps = append(snaps, meta.SubsetSnapshot{Vector: fromVec(sd.Vector), Records: recs})
		}
		return snaps, nil
	}
	snaps, err := read(discover)
	if err != nil {
		return nil, nil, err
	}
	if discover != nil && len(chosen) > 1 {
		// A paper found in a later snapshot needs its records from the
		// earlier ones too.
		if snaps, err = read(nil); err != nil {
			return nil, nil, err
		}
	}
	if len(ids) == 0 {
		return snaps, nil, nil
	}
	var ranges bson.A
	for _, d := range sortedKeys(target) {
		if target[d] > covered[d] {
			ranges = append(ranges, bson.D{{Key: "device", Value: d},
				{Key: "seq", Value: bson.D{{Key: "$gt", Value: int64(covered[d])}, {Key: "$lte", Value: int64(target[d])}}}})
		}
	}
	if len(ranges) == 0 {
		return snaps, nil, nil
	}
	filter := bson.D{{Key: "paper", Value: bson.D{{Key: "$in", Value: sortedKeys(ids)}}}, {Key: "$or", Value: ranges}}
	docs, err := e.findOps(ctx, filter, 0)
	if err != nil {
		return nil, nil, fmt.Errorf("downloading the history of papers entering the subscription: %w", err)
	}
	ops, err := e.decodeOps(docs)
	return snaps, ops, err
}

// chooseSnapshots picks complete snapshots, each at most target, that
// together cover every advertised floor: the one covering the most ops
// first (it spares the most op downloads), then others as the floors
// need. covered is their join.
func (e *Engine) chooseSnapshots(ctx context.Context, target, floorVV map[string]uint64) ([]snapDoc, map[string]uint64, error) {
	covered := map[string]uint64{}
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	cur, err := e.snaps.Find(octx, bson.D{}, options.Find().SetProjection(bson.D{
		{Key: "format", Value: 1}, {Key: "vector", Value: 1}, {Key: "entries", Value: 1}, {Key: "chunks", Value: 1}, {Key: "papers", Value: 1}}))
	if err != nil {
		return nil, nil, fmt.Errorf("listing snapshots: %w", err)
	}
	var docs []snapDoc
	if err := cur.All(octx, &docs); err != nil {
		return nil, nil, fmt.Errorf("listing snapshots: %w", err)
	}
	docs = slices.DeleteFunc(docs, func(d snapDoc) bool {
		return !meta.ReadsSnapshotFormat(d.Format) || !dominates(target, fromVec(d.Vector), "")
	})
	slices.SortFunc(docs, func(a, b snapDoc) int {
		if c := cmp.Compare(vecSum(fromVec(b.Vector)), vecSum(fromVec(a.Vector))); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	var chosen []snapDoc
	for i, d := range docs {
		sv := fromVec(d.Vector)
		if i > 0 && (dominates(covered, floorVV, "") || dominates(covered, sv, "")) {
			continue
		}
		chosen = append(chosen, d)
		for k, n := range sv {
			covered[k] = max(covered[k], n)
		}
	}
	if !dominates(covered, floorVV, "") {
		// A snapshot deleted under us (the next round reads the floor
		// that replaced it), or one this paperfs cannot read: say so.
		return nil, nil, errors.New("no snapshot on the server that this device can read covers the compacted changes")
	}
	return chosen, covered, nil
}

// checkFloors fails with errFloorMoved if a compaction floor past the
// floors the pull started from is advertised now: ops it read may be
// going (the vector and the snapshots chosen cover the old floors only).
func (e *Engine) checkFloors(ctx context.Context, floorVV map[string]uint64) error {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	cur, err := e.devs.Find(octx, bson.D{{Key: "floor", Value: bson.D{{Key: "$exists", Value: true}}}},
		options.Find().SetProjection(bson.D{{Key: "floor", Value: 1}}))
	if err != nil {
		return fmt.Errorf("reading the devices collection: %w", err)
	}
	var devs []struct {
		Floor *floorDoc `bson:"floor"`
	}
	if err := cur.All(octx, &devs); err != nil {
		return fmt.Errorf("reading the devices collection: %w", err)
	}
	now := map[string]uint64{}
	for _, d := range devs {
		if d.Floor != nil {
			raiseFloor(now, d.Floor.Vector)
		}
	}
	if !dominates(floorVV, now, "") {
		return errFloorMoved
	}
	return nil
}

// findOps runs a find on the ops collection sorted by {device, seq}
// (limit 0: all of them).
func (e *Engine) findOps(ctx context.Context, filter bson.D, limit int64) ([]opDoc, error) {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	opts := options.Find().SetSort(bson.D{{Key: "device", Value: 1}, {Key: "seq", Value: 1}}).SetBatchSize(int32(e.cfg.BatchSize))
	if limit > 0 {
		opts.SetLimit(limit)
	}
	cur, err := e.ops.Find(octx, filter, opts)
	if err != nil {
		return nil, err
	}
	var docs []opDoc
	err = cur.All(octx, &docs)
	return docs, err
}

// decodeOps converts downloaded ops. A subset device cannot skip a
// malformed op and stop its device there (its vector jumps over other
// papers' ops): the pull fails, loudly, until a person repairs it.
func (e *Engine) decodeOps(docs []opDoc) ([]meta.Op, error) {
	ops := make([]meta.Op, 0, len(docs))
	for i := range docs {
		op, err := fromDoc(&docs[i])
		if err != nil {
			e.log.Error("sync: a malformed change on the server stops this subscription's sync", "op", docs[i].ID, "err", err)
			return nil, fmt.Errorf("downloading changes: %w", err)
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// snapshotRecords reads the records of snapshot sd for the papers ids
// (and, if discover is set, adds to ids and returns the subscription's
// papers not in discover). A snapshot written with per-paper entries is
// read entry by entry; an older one is read whole and filtered here.
func (e *Engine) snapshotRecords(ctx context.Context, sd snapDoc, sub Subscription, ids, discover map[string]bool) ([]meta.SnapshotRecord, error) {
	if sd.Entries > 0 {
		return e.entryRecords(ctx, sd.ID, sub, ids, discover)
	}
	_, st, err := e.loadSnapshot(ctx, sd.ID, func(map[string]uint64, int, int) {})
	if err != nil {
		return nil, err
	}
	var out []meta.SnapshotRecord
	for r, err := range st.records() {
		if err != nil {
			return nil, err
		}
		if discover != nil && !discover[r.ID] && sub.matchesRecord(r) {
			ids[r.ID] = true
		}
		if ids[r.ID] {
			out = append(out, *r)
		}
	}
	return out, nil
}

// entryRecords reads a snapshot's per-paper entries: those of the
// subscription (when discovering), then those of ids not read yet.
func (e *Engine) entryRecords(ctx context.Context, snap string, sub Subscription, ids, discover map[string]bool) ([]meta.SnapshotRecord, error) {
	var out []meta.SnapshotRecord
	got := map[string]bool{}
	read := func(filter bson.D) error {
		octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
		defer cancel()
		cur, err := e.entries.Find(octx, filter, options.Find().SetBatchSize(int32(e.cfg.BatchSize)))
		if err != nil {
			return fmt.Errorf("reading snapshot %s: %w", snap, err)
		}
		var docs []entryDoc
		if err := cur.All(octx, &docs); err != nil {
			return fmt.Errorf("reading snapshot %s: %w", snap, err)
		}
		for _, d := range docs {
			if got[d.Paper] {
				continue
			}
			var r meta.SnapshotRecord
			if err := json.Unmarshal([]byte(d.Rec), &r); err != nil {
				return fmt.Errorf("snapshot %s entry %s: %w", snap, d.ID, err)
			}
			if r.ID != d.Paper {
				return fmt.Errorf("snapshot %s entry %s holds paper %s", snap, d.ID, r.ID)
			}
			got[d.Paper] = true
			if discover != nil && !discover[d.Paper] {
				ids[d.Paper] = true
			}
			if ids[d.Paper] {
				out = append(out, r)
			}
		}
		return nil
	}
	if discover != nil {
		filter := bson.D{{Key: "snap", Value: snap}}
		if !sub.All() {
			filter = append(filter, bson.E{Key: "$or", Value: inSubscription(sub, "")})
		}
		if err := read(filter); err != nil {
			return nil, err
		}
	}
	var want []string
	for _, id := range sortedKeys(ids) {
		if !got[id] {
			want = append(want, entryID(snap, id))
		}
	}
	for chunk := range slices.Chunk(want, e.cfg.BatchSize) {
		if err := read(bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: chunk}}}}); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// catchUpHeld merges, for the papers held here, the snapshots of the
// floors vv is below, as catchUp does for a whole library.
func (e *Engine) catchUpHeld(ctx context.Context, vv map[string]uint64, floors []floorDoc) (int, error) {
	self := e.store.Device()
	slices.SortStableFunc(floors, func(x, y floorDoc) int {
		return cmp.Compare(vecSum(fromVec(y.Vector)), vecSum(fromVec(x.Vector)))
	})
	covered := maps.Clone(vv)
	total := 0
	for _, f := range floors {
		fv := fromVec(f.Vector)
		if dominates(covered, fv, self) {
			continue
		}
		for d, n := range fv {
			covered[d] = max(covered[d], n)
		}
		held, err := e.store.HeldIDs()
		if err != nil {
			return total, err
		}
		octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
		var sd snapDoc
		err = e.snaps.FindOne(octx, bson.D{{Key: "_id", Value: f.Snap}}).Decode(&sd)
		cancel()
		if err != nil {
			return total, fmt.Errorf("reading snapshot %s: %w", f.Snap, err)
		}
		if !meta.ReadsSnapshotFormat(sd.Format) {
			return total, fmt.Errorf("snapshot %s has format %d, this paperfs reads up to %d: upgrade paperfs", sd.ID, sd.Format, meta.SnapshotFormat)
		}
		var recs []meta.SnapshotRecord
		if len(held) > 0 { // else only the vector moves (a new subscriber)
			if recs, err = e.snapshotRecords(ctx, sd, e.subscription(), sliceSet(held), nil); err != nil {
				return total, err
			}
		}
		overlap := map[string]bool{}
		for i := range recs {
			overlap[recs[i].ID] = true
		}
		if err := e.markDirty(overlap); err != nil {
			return total, err
		}
		n, err := e.store.MergeSnapshotHeld(fromVec(sd.Vector), recs)
		if err != nil {
			return total, err
		}
		total += n
		e.log.Info("sync: merged a snapshot into the subscription", "id", sd.ID, "papers", len(recs), "ops", n)
	}
	return total, nil
}

// dropOutside lets go of the held papers that left the subscription and
// have no local op waiting to be sent.
func (e *Engine) dropOutside() error {
	sub := e.subscription()
	if sub.All() {
		return nil
	}
	// A paper whose readable document is due stays until it is written:
	// this device may be the only one with its last ops.
	// (A device that may only read has none due: markDirty.)
	due := e.dirty()
	dropped, err := e.store.DropUnless(func(p *meta.Paper) bool { return due[p.ID] || sub.Matches(p) })
	if err != nil {
		return err
	}
	if len(dropped) > 0 {
		e.log.Info("sync: papers left the subscription", "papers", len(dropped))
	}
	return nil
}

// entryDoc is one paper's record in a snapshot written with per-paper
// entries (snapDoc.Entries), for devices holding part of the library:
// its live tags and folders say which subscriptions it belongs to.
type entryDoc struct {
	ID      string   `bson:"_id"` // <snapshot>/<paper>
	Snap    string   `bson:"snap"`
	Device  string   `bson:"device"`
	Paper   string   `bson:"paper"`
	Tags    []string `bson:"tags"`
	Folders []string `bson:"folders"`
	Rec     string   `bson:"rec"`
}

func entryID(snap, paper string) string { return snap + "/" + paper }

// liveNames is a snapshot record's live elements of a set field.
func liveNames(r *meta.SnapshotRecord, field string) []string {
	out := []string{}
	for _, n := range sortedKeys(r.Sets[field]) {
		el := r.Sets[field][n]
		if el.Live() {
			out = append(out, n)
		}
	}
	return out
}

// subscribersSeen says some device's document, as the last round read
// the devices collection, has a subscription: snapshots then get
// per-paper entries.
func (e *Engine) subscribersSeen() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.mu.subscribers
}

// writeEntries writes snapshot id's records as per-paper entries.
func (e *Engine) writeEntries(ctx context.Context, id string, recs []meta.SnapshotRecord) (int, error) {
	self := e.store.Device()
	n := 0
	for chunk := range slices.Chunk(recs, e.cfg.BatchSize) {
		docs := make([]any, 0, len(chunk))
		for i := range chunk {
			b, err := json.Marshal(&chunk[i])
			if err != nil {
				return n, fmt.Errorf("snapshot %s: paper %s: %w", id, chunk[i].ID, err)
			}
			docs = append(docs, entryDoc{ID: entryID(id, chunk[i].ID), Snap: id, Device: self, Paper: chunk[i].ID,
				Tags: liveNames(&chunk[i], "tags"), Folders: liveNames(&chunk[i], "folders"), Rec: string(b)})
		}
		octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
		_, err := e.entries.InsertMany(octx, docs, options.InsertMany().SetOrdered(false))
		cancel()
		if err != nil && !allDuplicates(err) {
			return n, fmt.Errorf("writing snapshot %s entries: %w", id, err)
		}
		n += len(docs)
	}
	return n, nil
}

// allDuplicates says every write error of err is a duplicate key (an
// earlier attempt's write that got through).
func allDuplicates(err error) bool {
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return false
	}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 {
			return false
		}
	}
	return true
}
