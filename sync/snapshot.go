package sync

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"maps"
	"slices"
	"strconv"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
)

// Snapshots and compaction. See docs/sync.md, "Snapshots and compaction".
//
// A snapshot is one device's merged records with the version vector they
// reflect, written as immutable chunk documents and then a marker
// document: readers use only snapshots whose marker exists, and check
// they get every chunk it lists. A device compacts by taking a snapshot,
// advertising it as its floor in its own devices document, and only then
// deleting the ops the snapshot covers. A device whose vector is below
// some advertised floor merges that floor's snapshot before pulling ops;
// a new device starts from the newest snapshot.

const (
	// snapsColl holds one marker per complete snapshot.
	snapsColl = "snapshots"
	// chunksColl holds the snapshots' records, in chunks.
	chunksColl = "snapshotChunks"
	// entriesColl holds the same records one per document, with each
	// paper's tags and folders, for devices holding part of the library
	// (written only while one exists; subset.go).
	entriesColl = "snapshotEntries"
	// defaultChunkBytes bounds the records in one chunk document: far
	// below MongoDB's 16 MB document limit, and small enough that one
	// insert is a modest request on a free-tier cluster.
	defaultChunkBytes = 2 << 20
)

type vecEntry struct {
	Device string `bson:"d"`
	Seq    int64  `bson:"s"`
}

// snapDoc is a snapshot's marker. It is inserted after every chunk, so
// its existence means the snapshot is complete.
type snapDoc struct {
	ID      string     `bson:"_id"`
	Device  string     `bson:"device"`
	Format  int        `bson:"format"`
	Vector  []vecEntry `bson:"vector"`
	Chunks  int        `bson:"chunks"`
	Papers  int        `bson:"papers"`
	Bytes   int64      `bson:"bytes"`
	Created time.Time  `bson:"created"`
	// Entries is the number of per-paper entries written (0: none, the
	// snapshot is read from its chunks only).
	Entries int `bson:"entries,omitempty"`
}

// chunkDoc holds some of a snapshot's records, each the JSON of a
// meta.SnapshotRecord (kept as text: values must come back byte for byte).
type chunkDoc struct {
	ID     string   `bson:"_id"` // <snapshot>/<n>
	Snap   string   `bson:"snap"`
	Device string   `bson:"device"`
	N      int      `bson:"n"`
	Recs   []string `bson:"recs"`
}

// floorDoc is what a compacting device advertises in its devices
// document: ops at or below vector may be gone from the server, and
// snapshot snap covers them.
type floorDoc struct {
	Snap   string     `bson:"snap"`
	Vector []vecEntry `bson:"vector"`
}

func toVec(vv map[string]uint64) []vecEntry {
	out := make([]vecEntry, 0, len(vv))
	for _, d := range sortedKeys(vv) {
		out = append(out, vecEntry{d, int64(vv[d])})
	}
	return out
}

func fromVec(v []vecEntry) map[string]uint64 {
	out := make(map[string]uint64, len(v))
	for _, e := range v {
		if e.Seq > 0 {
			out[e.Device] = uint64(e.Seq)
		}
	}
	return out
}

// dominates says a covers every op b does, ignoring device skip (whose
// own ops a device never needs from anyone).
func dominates(a, b map[string]uint64, skip string) bool {
	for d, n := range b {
		if d != skip && a[d] < n {
			return false
		}
	}
	return true
}

// opsPast is how many ops a covers beyond b, leaving out device skip.
func opsPast(a, b map[string]uint64, skip string) int {
	n := 0
	for d, seq := range a {
		if d != skip && seq > b[d] {
			n += int(seq - b[d])
		}
	}
	return n
}

func vecSum(vv map[string]uint64) uint64 {
	var s uint64
	for _, n := range vv {
		s += n
	}
	return s
}

// SnapshotInfo describes a snapshot written by Snapshot or Compact.
type SnapshotInfo struct {
	ID     string
	Papers int
	Chunks int
	Bytes  int64
	Ops    uint64 // ops its vector covers
}

// Snapshot runs a full round (so that every local op is uploaded and
// every readable papers document is written), then writes this device's
// state as a snapshot that new devices start from. Local edits made while
// it runs make it fail with meta.ErrPendingOps; try again.
func (e *Engine) Snapshot(ctx context.Context) (SnapshotInfo, error) {
	e.snapMu.Lock()
	defer e.snapMu.Unlock()
	info, err := e.snapshot(ctx)
	return info, e.red.wrap(err)
}

func (e *Engine) snapshot(ctx context.Context) (SnapshotInfo, error) {
	if e.subsetMode() {
		return SnapshotInfo{}, ErrSubset
	}
	if _, err := e.round(ctx, true, true); err != nil {
		return SnapshotInfo{}, err
	}
	if e.isReadOnly() {
		return SnapshotInfo{}, e.readOnlyError(nil)
	}
	e.roundMu.Lock()
	// The readable papers documents must show every op the snapshot
	// holds, so that a device starting from it needs to rewrite only the
	// papers its own state changes (see catchUp).
	err := e.flushPapers(ctx)
	var vv map[string]uint64
	var recs []meta.SnapshotRecord
	if err == nil {
		vv, recs, err = e.store.ExportSnapshot()
	}
	e.roundMu.Unlock()
	if err != nil {
		return SnapshotInfo{}, err
	}
	return e.writeSnapshot(ctx, vv, recs)
}

func (e *Engine) writeSnapshot(ctx context.Context, vv map[string]uint64, recs []meta.SnapshotRecord) (SnapshotInfo, error) {
	self := e.store.Device()
	id := self + "-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	info := SnapshotInfo{ID: id, Papers: len(recs), Ops: vecSum(vv)}
	limit := e.cfg.SnapshotChunkBytes
	var cur []string
	size := 0
	flush := func() error {
		if len(cur) == 0 {
			return nil
		}
		doc := chunkDoc{ID: id + "/" + strconv.Itoa(info.Chunks), Snap: id, Device: self, N: info.Chunks, Recs: cur}
		octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
		defer cancel()
		if _, err := e.chunks.InsertOne(octx, doc); err != nil {
			return fmt.Errorf("writing snapshot %s chunk %d: %w", id, info.Chunks, err)
		}
		info.Chunks++
		cur, size = nil, 0
		return nil
	}
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			return info, fmt.Errorf("snapshot %s: paper %s: %w", id, recs[i].ID, err)
		}
		if size > 0 && size+len(b) > limit {
			if err := flush(); err != nil {
				return info, err
			}
		}
		cur = append(cur, string(b))
		size += len(b) + 16
		info.Bytes += int64(len(b))
	}
	if err := flush(); err != nil {
		return info, err
	}
	entries := 0
	if e.subscribersSeen() {
		n, err := e.writeEntries(ctx, id, recs)
		if err != nil {
			return info, err
		}
		entries = n
	}
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	_, err := e.snaps.InsertOne(octx, snapDoc{ID: id, Device: self, Format: meta.SnapshotFormat, Vector: toVec(vv),
		Chunks: info.Chunks, Papers: len(recs), Bytes: info.Bytes, Created: time.Now().UTC().Truncate(time.Millisecond),
		Entries: entries})
	if err != nil {
		return info, fmt.Errorf("writing snapshot %s: %w", id, err)
	}
	e.log.Info("sync: wrote a snapshot", "id", id, "papers", len(recs), "chunks", info.Chunks, "bytes", info.Bytes)
	return info, nil
}

// snapshotText is a snapshot's records as stored, JSON text (about a
// kilobyte a paper), with their ids: parsed, a record takes several times
// that, so each is parsed only as it is merged (records).
type snapshotText struct {
	id   string
	recs []string
	ids  []string
}

// records yields the records parsed one by one, dropping each one's text
// once it is taken: for meta.Store.MergeSnapshotFrom.
func (st *snapshotText) records() iter.Seq2[*meta.SnapshotRecord, error] {
	return func(yield func(*meta.SnapshotRecord, error) bool) {
		for i := range st.recs {
			var r meta.SnapshotRecord
			if err := json.Unmarshal([]byte(st.recs[i]), &r); err != nil {
				yield(nil, fmt.Errorf("snapshot %s record %d: %w", st.id, i, err))
				return
			}
			st.recs[i] = ""
			if !yield(&r, nil) {
				return
			}
		}
	}
}

// loadSnapshot reads a complete snapshot: its marker, then each chunk by
// _id (the one filter every server answers from an index). The records
// stay text, checked for syntax and their ids read.
func (e *Engine) loadSnapshot(ctx context.Context, id string, onChunk func(svv map[string]uint64, done, chunks int)) (map[string]uint64, *snapshotText, error) {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	var sd snapDoc
	err := e.snaps.FindOne(octx, bson.D{{Key: "_id", Value: id}}).Decode(&sd)
	cancel()
	if err != nil {
		return nil, nil, fmt.Errorf("reading snapshot %s: %w", id, err)
	}
	if !meta.ReadsSnapshotFormat(sd.Format) {
		return nil, nil, fmt.Errorf("snapshot %s has format %d, this paperfs reads up to %d: upgrade paperfs", id, sd.Format, meta.SnapshotFormat)
	}
	svv := fromVec(sd.Vector)
	onChunk(svv, 0, sd.Chunks)
	st := &snapshotText{id: id, recs: make([]string, 0, sd.Papers), ids: make([]string, 0, sd.Papers)}
	for n := 0; n < sd.Chunks; n++ {
		octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
		var cd chunkDoc
		err := e.chunks.FindOne(octx, bson.D{{Key: "_id", Value: id + "/" + strconv.Itoa(n)}}).Decode(&cd)
		cancel()
		if err != nil {
			// A snapshot being garbage-collected under us: the caller
			// fails this round and the next one reads the new floor.
			return nil, nil, fmt.Errorf("reading snapshot %s chunk %d of %d: %w", id, n, sd.Chunks, err)
		}
		for _, s := range cd.Recs {
			var r struct {
				ID string `json:"id"`
			}
			if err := json.Unmarshal([]byte(s), &r); err != nil {
				return nil, nil, fmt.Errorf("snapshot %s chunk %d: %w", id, n, err)
			}
			st.recs, st.ids = append(st.recs, s), append(st.ids, r.ID)
		}
		onChunk(svv, n+1, sd.Chunks)
	}
	if len(st.recs) != sd.Papers {
		return nil, nil, fmt.Errorf("snapshot %s: %d records, its marker says %d", id, len(st.recs), sd.Papers)
	}
	return svv, st, nil
}

// newestSnapshot is the complete snapshot covering the most ops, or "".
func (e *Engine) newestSnapshot(ctx context.Context) (string, map[string]uint64, error) {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	cur, err := e.snaps.Find(octx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "format", Value: 1}, {Key: "vector", Value: 1}}))
	if err != nil {
		return "", nil, fmt.Errorf("listing snapshots: %w", err)
	}
	var docs []snapDoc
	if err := cur.All(octx, &docs); err != nil {
		return "", nil, fmt.Errorf("listing snapshots: %w", err)
	}
	best, bestVV, bestSum := "", map[string]uint64(nil), uint64(0)
	for _, d := range docs {
		vv := fromVec(d.Vector)
		if !meta.ReadsSnapshotFormat(d.Format) {
			continue
		}
		if s := vecSum(vv); s > bestSum || (s == bestSum && d.ID > best) {
			best, bestVV, bestSum = d.ID, vv, s
		}
	}
	return best, bestVV, nil
}

// catchUp merges the snapshots this device needs before it pulls ops:
// those advertised as floors that its vector is below (the ops they cover
// may be gone), and, on a device that has applied no other device's ops
// yet while others have (behind > 0), the newest snapshot. It returns how many ops the merges covered
// that were new here.
func (e *Engine) catchUp(ctx context.Context, vv map[string]uint64, floors []floorDoc, behind int) (int, error) {
	self := e.store.Device()
	var need []string
	covered := map[string]uint64{}
	for k, v := range vv {
		covered[k] = v
	}
	fresh := behind > 0
	for d, n := range vv {
		if d != self && n > 0 {
			fresh = false
		}
	}
	if fresh {
		id, svv, err := e.newestSnapshot(ctx)
		if err != nil {
			return 0, err
		}
		if id != "" {
			need = append(need, id)
			for d, n := range svv {
				covered[d] = max(covered[d], n)
			}
		}
	}
	// The floors covering the most ops first: a later compaction's floor
	// usually covers an earlier one, whose snapshot is then not needed.
	slices.SortStableFunc(floors, func(x, y floorDoc) int {
		return cmp.Compare(vecSum(fromVec(y.Vector)), vecSum(fromVec(x.Vector)))
	})
	for _, f := range floors {
		if fv := fromVec(f.Vector); !dominates(covered, fv, self) && !slices.Contains(need, f.Snap) {
			need = append(need, f.Snap)
			for d, n := range fv {
				covered[d] = max(covered[d], n)
			}
		}
	}
	total := 0
	for _, id := range need {
		// Progress counts changes: a snapshot's chunks stand for the ops
		// it covers past this device's vector, in equal parts.
		onChunk := func(svv map[string]uint64, done, chunks int) {
			if e.cfg.Progress != nil {
				covers := opsPast(svv, vv, self)
				e.cfg.Progress(total+covers*done/max(chunks, 1), max(behind, total+covers))
			}
		}
		svv, recs, err := e.loadSnapshot(ctx, id, onChunk)
		if err != nil {
			return total, err
		}
		if dominates(vv, svv, self) {
			continue // an earlier merge covered it
		}
		// The readable documents already show the snapshot's state
		// (its device wrote them before taking it); only papers this
		// device has state of its own for may differ.
		overlap, err := e.store.SnapshotOverlap(recs.ids)
		if err != nil {
			return total, err
		}
		if len(overlap) > 0 {
			dirty := map[string]bool{}
			for _, id := range overlap {
				dirty[id] = true
			}
			if err := e.markDirty(dirty); err != nil {
				return total, err
			}
		}
		n, err := e.store.MergeSnapshotFrom(svv, recs.records())
		if err != nil {
			return total, err
		}
		total += n
		e.log.Info("sync: merged a snapshot", "id", id, "papers", len(recs.ids), "ops", n)
		if vv, err = e.store.Vector(); err != nil {
			return total, err
		}
	}
	return total, nil
}

// raiseFloor raises floor to vec where vec is higher.
func raiseFloor(floor map[string]uint64, vec []vecEntry) {
	for _, v := range vec {
		if v.Seq > 0 && uint64(v.Seq) > floor[v.Device] {
			floor[v.Device] = uint64(v.Seq)
		}
	}
}

// CompactDue says whether the server's op log has grown enough to be
// worth a compaction (Config.CompactAfterOps), and how many ops it holds
// past every compaction floor as far as this device knows: its version
// vector minus the floors read in the last round (a compaction deletes
// the ops its floor covers). Before a round has read the floors it is
// not due. It reads only local state.
func (e *Engine) CompactDue() (due bool, logOps int, err error) {
	e.mu.Lock()
	floor := maps.Clone(e.mu.floor)
	e.mu.Unlock()
	if e.cfg.CompactAfterOps <= 0 || floor == nil || e.subsetMode() {
		return false, 0, nil
	}
	vv, err := e.store.Vector()
	if err != nil {
		return false, 0, err
	}
	logOps = opsPast(vv, floor, "")
	papers := 0
	for _, k := range []meta.Kind{meta.All, meta.Trash} {
		n, err := e.store.Count(meta.View{Kind: k})
		if err != nil {
			return false, logOps, err
		}
		papers += n
	}
	return logOps >= max(e.cfg.CompactAfterOps, papers), logOps, nil
}

// CompactReport says what Compact did.
type CompactReport struct {
	Snapshot   SnapshotInfo
	DeletedOps int64
}

// Compact takes a snapshot, advertises it as this device's floor, then
// deletes from the server every op the snapshot covers and this device's
// older snapshots. A device that has not applied some deleted op will
// merge the snapshot instead (catchUp); its own unsent ops are not on the
// server and so never deleted.
func (e *Engine) Compact(ctx context.Context) (CompactReport, error) {
	e.snapMu.Lock()
	defer e.snapMu.Unlock()
	rep, err := e.compact(ctx)
	return rep, e.red.wrap(err)
}

func (e *Engine) compact(ctx context.Context) (CompactReport, error) {
	var rep CompactReport
	info, err := e.snapshot(ctx)
	if err != nil {
		return rep, err
	}
	rep.Snapshot = info
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	var sd snapDoc
	err = e.snaps.FindOne(octx, bson.D{{Key: "_id", Value: info.ID}}).Decode(&sd)
	cancel()
	if err != nil {
		return rep, fmt.Errorf("reading back snapshot %s: %w", info.ID, err)
	}
	// Advertise first: from here on every device that needs a deleted op
	// finds the snapshot that replaces it.
	self := e.store.Device()
	octx, cancel = context.WithTimeout(ctx, e.cfg.OpTimeout)
	_, err = e.devs.UpdateOne(octx, bson.D{{Key: "_id", Value: self}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "floor", Value: floorDoc{Snap: info.ID, Vector: sd.Vector}}}}},
		options.UpdateOne().SetUpsert(true))
	cancel()
	if err != nil {
		return rep, fmt.Errorf("advertising snapshot %s: %w", info.ID, err)
	}
	e.mu.Lock()
	if e.mu.floor != nil {
		raiseFloor(e.mu.floor, sd.Vector)
	}
	e.mu.Unlock()
	for _, v := range sd.Vector {
		n, err := e.deleteOpsUpTo(ctx, v.Device, v.Seq)
		rep.DeletedOps += n
		if err != nil {
			return rep, fmt.Errorf("deleting ops of %s up to %d: %w", v.Device, v.Seq, err)
		}
	}
	if err := e.dropOldSnapshots(ctx, info.ID); err != nil {
		return rep, err
	}
	if err := e.dropCoveredSnapshots(ctx, info.ID, fromVec(sd.Vector)); err != nil {
		return rep, err
	}
	e.log.Info("sync: compacted", "snapshot", info.ID, "deletedOps", rep.DeletedOps)
	return rep, nil
}

// deleteBatch is how many seqs one delete of compacted ops spans.
// FerretDB's SQLite backend fails a delete of more than ~32k documents
// ("too many SQL variables"): a 100k-op log could not be compacted.
const deleteBatch = 10000

// deleteOpsUpTo deletes device's ops with seq <= upTo from the server, in
// ranges of deleteBatch seqs from the lowest one still there.
func (e *Engine) deleteOpsUpTo(ctx context.Context, device string, upTo int64) (int64, error) {
	batch := int64(deleteBatch)
	if e.deleteBatch > 0 {
		batch = int64(e.deleteBatch)
	}
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	var first struct {
		Seq int64 `bson:"seq"`
	}
	err := e.ops.FindOne(octx, bson.D{{Key: "device", Value: device}, {Key: "seq", Value: bson.D{{Key: "$lte", Value: upTo}}}},
		options.FindOne().SetSort(bson.D{{Key: "seq", Value: 1}}).SetProjection(bson.D{{Key: "seq", Value: 1}})).Decode(&first)
	cancel()
	if errors.Is(err, mongo.ErrNoDocuments) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("finding the oldest op: %w", err)
	}
	var deleted int64
	for lo := first.Seq - 1; lo < upTo; lo += batch {
		hi := min(lo+batch, upTo)
		octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
		res, err := e.ops.DeleteMany(octx, bson.D{{Key: "device", Value: device},
			{Key: "seq", Value: bson.D{{Key: "$gt", Value: lo}, {Key: "$lte", Value: hi}}}})
		cancel()
		if err != nil {
			return deleted, fmt.Errorf("seqs %d to %d: %w", lo+1, hi, err)
		}
		deleted += res.DeletedCount
	}
	return deleted, nil
}

// dropOldSnapshots deletes this device's snapshots other than keep:
// markers first, so no reader starts on one whose chunks are going.
// Its floor names keep, which covers them (a device's vector only grows).
func (e *Engine) dropOldSnapshots(ctx context.Context, keep string) error {
	self := e.store.Device()
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	filter := bson.D{{Key: "device", Value: self}, {Key: "_id", Value: bson.D{{Key: "$ne", Value: keep}}}}
	if _, err := e.snaps.DeleteMany(octx, filter); err != nil {
		return fmt.Errorf("deleting old snapshots: %w", err)
	}
	chunkFilter := bson.D{{Key: "device", Value: self}, {Key: "snap", Value: bson.D{{Key: "$ne", Value: keep}}}}
	if _, err := e.chunks.DeleteMany(octx, chunkFilter); err != nil {
		return fmt.Errorf("deleting old snapshot chunks: %w", err)
	}
	if _, err := e.entries.DeleteMany(octx, chunkFilter); err != nil {
		return fmt.Errorf("deleting old snapshot entries: %w", err)
	}
	return nil
}

// dropCoveredSnapshots deletes other devices' complete snapshots that
// keep, this device's newly advertised snapshot with vector keepVV,
// covers in every device's entry: those of a device retired long ago
// would otherwise stay on the server for good. Safe because every
// advertised floor stays covered by a floor whose snapshot exists: keep
// covers the deleted ones' floors, and is deleted in turn only by a
// device that has advertised a snapshot covering it. A device below a
// deleted snapshot's floor is below keep's too and merges keep instead
// (catchUp takes the largest floors first and skips covered ones); one
// that chose the deleted snapshot before this finds a chunk missing and
// retries next round. Snapshots still being written have no marker yet
// and are not listed.
func (e *Engine) dropCoveredSnapshots(ctx context.Context, keep string, keepVV map[string]uint64) error {
	self := e.store.Device()
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	cur, err := e.snaps.Find(octx, bson.D{{Key: "device", Value: bson.D{{Key: "$ne", Value: self}}}},
		options.Find().SetProjection(bson.D{{Key: "device", Value: 1}, {Key: "vector", Value: 1}}))
	if err != nil {
		return fmt.Errorf("listing other devices' snapshots: %w", err)
	}
	var docs []snapDoc
	if err := cur.All(octx, &docs); err != nil {
		return fmt.Errorf("listing other devices' snapshots: %w", err)
	}
	for _, d := range docs {
		// Strictly: keep's floor then covers more ops, so catchUp (largest
		// floors first) meets it before the deleted snapshot's floor. Equal
		// snapshots both stay until the next compaction.
		if vv := fromVec(d.Vector); !dominates(keepVV, vv, "") || vecSum(keepVV) <= vecSum(vv) {
			continue
		}
		if _, err := e.snaps.DeleteOne(octx, bson.D{{Key: "_id", Value: d.ID}}); err != nil {
			return fmt.Errorf("deleting snapshot %s: %w", d.ID, err)
		}
		if _, err := e.chunks.DeleteMany(octx, bson.D{{Key: "snap", Value: d.ID}}); err != nil {
			return fmt.Errorf("deleting the chunks of snapshot %s: %w", d.ID, err)
		}
		if _, err := e.entries.DeleteMany(octx, bson.D{{Key: "snap", Value: d.ID}}); err != nil {
			return fmt.Errorf("deleting the entries of snapshot %s: %w", d.ID, err)
		}
		e.log.Info("sync: deleted another device's snapshot that this one covers", "snapshot", d.ID, "device", d.Device, "covered_by", keep)
	}
	return nil
}
