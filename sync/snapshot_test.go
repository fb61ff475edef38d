package sync

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

func withLog(l *synctest.LogBuffer) func(*Config) {
	return func(c *Config) { c.Logger = slog.New(slog.NewTextHandler(l, nil)) }
}

// opArchive keeps every op ever seen on the server, so that a reference
// can replay them after compaction deleted some.
type opArchive map[string]meta.Op

func (a opArchive) add(t testing.TB, srv *synctest.Server, db string) int {
	t.Helper()
	ctx := context.Background()
	cur, err := srv.Client(t).Database(db).Collection(opsColl).Find(ctx, bson.D{},
		options.Find().SetSort(bson.D{{Key: "device", Value: 1}, {Key: "seq", Value: 1}}))
	if err != nil {
		t.Fatal(err)
	}
	var docs []opDoc
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	for i := range docs {
		op, err := fromDoc(&docs[i])
		if err != nil {
			t.Fatal(err)
		}
		a[op.ID] = op
	}
	return len(docs)
}

// reference is a fresh store that applied every archived op.
func (a opArchive) reference(t testing.TB) *meta.Store {
	t.Helper()
	ops := make([]meta.Op, 0, len(a))
	for _, op := range a {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(x, y meta.Op) int {
		if x.Device != y.Device {
			if x.Device < y.Device {
				return -1
			}
			return 1
		}
		return int(x.Seq) - int(y.Seq)
	})
	ref, err := meta.Open(filepath.Join(t.TempDir(), "ref.db"), meta.Options{Device: "reference", NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ref.Close() })
	if _, _, err := ref.ApplyRemote(ops); err != nil {
		t.Fatal(err)
	}
	return ref
}

func (d *device) snapshot() SnapshotInfo {
	d.t.Helper()
	return within(d, "snapshot", d.eng.Snapshot)
}

func (d *device) compact() CompactReport {
	d.t.Helper()
	return within(d, "compact", d.eng.Compact)
}

func countDocs(t testing.TB, srv *synctest.Server, db, coll string) int64 {
	t.Helper()
	n, err := srv.Client(t).Database(db).Collection(coll).CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSnapshotBootstrap: a new device starts from a snapshot (in several
// chunks) plus the ops made after it, and reaches the state of a device
// that replayed every op.
func TestSnapshotBootstrap(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	small := func(c *Config) { c.SnapshotChunkBytes = 4 << 10 }
	a := newDevice(t, "deva02", srv.URI, db, small)
	b := newDevice(t, "devb02", srv.URI, db, small)
	var ids []string
	for i := 0; i < 60; i++ {
		ids = append(ids, a.create(meta.Paper{Title: fmt.Sprintf("paper %d", i), Tags: []string{"t1", "t2"}}).ID)
	}
	a.sync()
	b.sync()
	for i, id := range ids {
		switch i % 4 {
		case 0:
			a.update(id, func(p *meta.Paper) { p.Tags = []string{"t2"}; p.Year = 2000 + i })
		case 1:
			b.update(id, func(p *meta.Paper) { p.Tags = append(p.Tags, "b"); p.Title += " (b)" })
		case 2:
			b.update(id, func(p *meta.Paper) { p.Tags = nil })
			a.update(id, func(p *meta.Paper) { p.Tags = append(p.Tags, "concurrent") })
		}
	}
	a.sync()
	b.sync()
	info := a.snapshot()
	if info.Chunks < 2 || info.Papers != len(ids) {
		t.Fatalf("snapshot %+v: want %d papers in several chunks", info, len(ids))
	}
	// After the snapshot: more edits on both, synced.
	a.update(ids[0], func(p *meta.Paper) { p.Note = "after snapshot" })
	b.update(ids[1], func(p *meta.Paper) { p.Tags = nil })
	b.create(meta.Paper{Title: "after snapshot"})
	a.sync()
	b.sync()
	a.sync()

	var lb synctest.LogBuffer
	type step struct{ done, total int }
	var steps []step
	c := newDevice(t, "devc02", srv.URI, db, withLog(&lb), func(c *Config) {
		c.Progress = func(done, total int) { steps = append(steps, step{done, total}) }
	})
	rep := c.sync()
	if rep.Received == 0 {
		t.Fatal("new device received nothing")
	}
	// Progress moves while the snapshot's chunks download (a call per
	// chunk, before any op is applied), never back, and ends complete.
	if len(steps) < info.Chunks+1 || steps[1].done <= 0 || steps[1].done >= steps[info.Chunks].done {
		t.Fatalf("progress during a %d-chunk snapshot: %v", info.Chunks, steps)
	}
	for i, st := range steps {
		if st.done > st.total || i > 0 && st.done < steps[i-1].done {
			t.Fatalf("progress step %d of %v", i, steps)
		}
	}
	if last := steps[len(steps)-1]; last.done != rep.Received || last.total != rep.Received {
		t.Fatalf("progress ends at %v, received %d", last, rep.Received)
	}
	if !bytes.Contains([]byte(lb.String()), []byte("merged a snapshot")) {
		t.Fatalf("new device did not start from the snapshot; log:\n%s", lb.String())
	}
	arch := opArchive{}
	arch.add(t, srv, db)
	ref := arch.reference(t)
	want := stateOf(t, ref)
	for _, d := range []*device{a, b, c} {
		if got := stateOf(t, d.store); got != want {
			t.Fatalf("%s differs from a full replay:\n%s\n%s", d.name, got, want)
		}
	}
	// It syncs on as usual.
	c.update(ids[2], func(p *meta.Paper) { p.Title = "from c" })
	c.sync()
	a.sync()
	if a.get(ids[2]).Title != "from c" {
		t.Fatal("an edit made on the bootstrapped device did not reach a")
	}
}

// TestCompactionOfflineDevice: a device offline across a compaction, with
// unsent edits of the same papers (tag removes of dots the snapshot has
// live, has removed itself, and never saw), catches up from the snapshot,
// uploads its edits, and nobody loses one.
func TestCompactionOfflineDevice(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	arch := opArchive{}
	a := newDevice(t, "deva03", srv.URI, db)
	b := newDevice(t, "devb03", srv.URI, db)
	var xl synctest.LogBuffer
	x := newDevice(t, "devx03", srv.URI, db, withLog(&xl))
	p := a.create(meta.Paper{Title: "P", Year: 1990, Tags: []string{"a1", "a2", "a3"}})
	q := b.create(meta.Paper{Title: "Q", Tags: []string{"b1"}})
	a.sync()
	b.sync()
	x.sync()
	x.update(q.ID, func(p *meta.Paper) { p.Tags = append(p.Tags, "x1") })
	x.sync()
	a.sync()
	b.sync()
	assertConverged(t, a, b, x)

	// x goes offline and edits: removes a1 (the snapshot will still have
	// it), a2 (a removes it too before the snapshot), x1 (its own dot,
	// which a removes and re-adds before the snapshot), adds and removes
	// a tag of its own the snapshot never sees, adds x2, edits fields.
	x.update(p.ID, func(p *meta.Paper) {
		p.Tags = slices.DeleteFunc(p.Tags, func(s string) bool { return s == "a1" || s == "a2" })
		p.Note = "x's note"
	})
	x.update(q.ID, func(p *meta.Paper) { p.Tags = append(p.Tags, "tmp", "x2") })
	x.update(q.ID, func(p *meta.Paper) {
		p.Tags = slices.DeleteFunc(p.Tags, func(s string) bool { return s == "tmp" || s == "x1" })
	})
	time.Sleep(5 * time.Millisecond) // the others' edits are later by the clock: what is tested
	// Meanwhile the others edit and compact.
	a.update(p.ID, func(p *meta.Paper) {
		p.Tags = slices.DeleteFunc(p.Tags, func(s string) bool { return s == "a2" })
		p.Year = 1991
	})
	b.update(q.ID, func(p *meta.Paper) { p.Tags = slices.DeleteFunc(p.Tags, func(s string) bool { return s == "x1" }) })
	b.sync()
	a.sync()
	a.update(q.ID, func(p *meta.Paper) { p.Tags = append(p.Tags, "x1") }) // a new add of x1: survives x's remove
	a.sync()
	arch.add(t, srv, db)
	before := countDocs(t, srv, db, opsColl)
	rep := a.compact()
	after := countDocs(t, srv, db, opsColl)
	if rep.DeletedOps == 0 || after != before-rep.DeletedOps || after != 0 {
		t.Fatalf("compaction deleted %d of %d ops, %d left; want all", rep.DeletedOps, before, after)
	}
	// More edits after the compaction, before x returns.
	b.update(p.ID, func(p *meta.Paper) { p.Title = "P by b" })
	b.sync()

	x.sync()
	if !bytes.Contains([]byte(xl.String()), []byte("merged a snapshot")) {
		t.Fatalf("x did not merge the compaction's snapshot; log:\n%s", xl.String())
	}
	a.sync()
	b.sync()
	x.sync()
	assertConverged(t, a, b, x)
	arch.add(t, srv, db)
	want := stateOf(t, arch.reference(t))
	if got := stateOf(t, x.store); got != want {
		t.Fatalf("x differs from a replay of every op ever made:\n%s\n%s", got, want)
	}
	gp, gq := x.get(p.ID), x.get(q.ID)
	if !slices.Equal(gp.Tags, []string{"a3"}) || gp.Note != "x's note" || gp.Year != 1991 || gp.Title != "P by b" {
		t.Fatalf("P after the merge: %+v", gp)
	}
	if !slices.Equal(gq.Tags, []string{"b1", "x1", "x2"}) {
		t.Fatalf("Q tags %v, want [b1 x1 x2]", gq.Tags)
	}
	// A new device after the compaction gets everything.
	n := newDevice(t, "devn03", srv.URI, db)
	n.sync()
	assertConverged(t, a, n)
	// Compacting again replaces a's snapshot; the old one is gone.
	a.compact()
	if got := countDocs(t, srv, db, snapsColl); got != 1 {
		t.Fatalf("%d snapshot markers after a second compaction, want 1", got)
	}
}

// stateDiff lists the papers two stateOf values disagree on.
func stateDiff(a, b string) string {
	var pa, pb []map[string]any
	json.Unmarshal([]byte(a), &pa)
	json.Unmarshal([]byte(b), &pb)
	byID := func(ps []map[string]any) map[string]string {
		m := map[string]string{}
		for _, p := range ps {
			j, _ := json.Marshal(p)
			m[fmt.Sprint(p["id"])] = string(j)
		}
		return m
	}
	ma, mb := byID(pa), byID(pb)
	var out []string
	for id, x := range ma {
		if y := mb[id]; x != y {
			out = append(out, fmt.Sprintf("%s:\n  %s\n  %s", id, x, y))
		}
	}
	for id, y := range mb {
		if _, ok := ma[id]; !ok {
			out = append(out, fmt.Sprintf("%s: only in the second:\n  %s", id, y))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// TestCatchUpSkipsCoveredSnapshots: a device offline across two
// compactions, the later one covering the earlier, merges only the later
// snapshot (the devices collection lists the earlier floor first).
func TestCatchUpSkipsCoveredSnapshots(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva13", srv.URI, db)
	b := newDevice(t, "devb13", srv.URI, db)
	var lb synctest.LogBuffer
	x := newDevice(t, "devx13", srv.URI, db, withLog(&lb))
	var ids []string
	for i := range 10 {
		ids = append(ids, a.create(meta.Paper{Title: fmt.Sprintf("paper %d", i)}).ID)
	}
	a.sync()
	x.sync()
	a.update(ids[0], func(p *meta.Paper) { p.Note = "from a" })
	a.sync()
	a.compact()
	b.sync()
	b.update(ids[1], func(p *meta.Paper) { p.Note = "from b" })
	b.sync()
	b.compact()
	before := strings.Count(lb.String(), "merged a snapshot")
	x.sync()
	if n := strings.Count(lb.String(), "merged a snapshot") - before; n != 1 {
		t.Fatalf("x merged %d snapshots, want 1 (the later covers the earlier); log:\n%s", n, lb.String())
	}
	if x.get(ids[0]).Note != "from a" || x.get(ids[1]).Note != "from b" {
		t.Fatalf("x after catching up: %q, %q", x.get(ids[0]).Note, x.get(ids[1]).Note)
	}
}

// TestCompactionDropsCoveredSnapshots: a compaction deletes other devices'
// snapshots that its own covers (a retired device's would stay for good
// otherwise), and nobody is left needing one: a device offline across
// both compactions, whose floors include the deleted snapshot's, catches
// up, and a new device matches.
func TestCompactionDropsCoveredSnapshots(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	small := func(c *Config) { c.SnapshotChunkBytes = 1 << 10 }
	a := newDevice(t, "deva14", srv.URI, db, small)
	b := newDevice(t, "devb14", srv.URI, db, small)
	x := newDevice(t, "devx14", srv.URI, db)
	var ids []string
	for i := range 10 {
		ids = append(ids, a.create(meta.Paper{Title: fmt.Sprintf("paper %d", i), Tags: []string{"t"}}).ID)
	}
	a.sync()
	x.sync()
	b.sync()
	snapshots := func() map[string]string { // snapshot -> device, with a check of their chunks
		t.Helper()
		ctx := context.Background()
		var docs []snapDoc
		cur, err := srv.Client(t).Database(db).Collection(snapsColl).Find(ctx, bson.D{})
		if err != nil || cur.All(ctx, &docs) != nil {
			t.Fatalf("listing snapshots: %v", err)
		}
		out := map[string]string{}
		chunks := 0
		for _, d := range docs {
			out[d.ID] = d.Device
			chunks += d.Chunks
		}
		if n := countDocs(t, srv, db, chunksColl); n != int64(chunks) {
			t.Fatalf("%d chunks on the server, the snapshots %v have %d", n, out, chunks)
		}
		return out
	}

	a.update(ids[0], func(p *meta.Paper) { p.Note = "from a" })
	a.sync()
	ra := a.compact()
	b.sync()
	b.update(ids[1], func(p *meta.Paper) { p.Note = "from b"; p.Tags = nil })
	b.sync()
	rb := b.compact()
	if got := snapshots(); len(got) != 1 || got[rb.Snapshot.ID] != "devb14" {
		t.Fatalf("after b's compaction, which covers a's (%s): snapshots %v, want only b's %s", ra.Snapshot.ID, got, rb.Snapshot.ID)
	}

	// x was offline across both: a's floor still names the deleted
	// snapshot; b's covers it.
	x.sync()
	if x.get(ids[0]).Note != "from a" || x.get(ids[1]).Note != "from b" || len(x.get(ids[1]).Tags) != 0 {
		t.Fatalf("x after catching up: %+v, %+v", x.get(ids[0]), x.get(ids[1]))
	}
	c := newDevice(t, "devc14", srv.URI, db)
	c.sync()
	a.sync()
	for _, d := range []*device{x, c} {
		if got, want := stateOf(t, d.store), stateOf(t, a.store); got != want {
			t.Fatalf("%s differs from a:\n%s\n%s", d.name, got, want)
		}
	}
	// A snapshot of the same ops as b's leaves b's (neither floor would
	// sort before the other in catchUp)...
	ra = a.compact()
	if got := snapshots(); len(got) != 2 || got[ra.Snapshot.ID] != "deva14" || got[rb.Snapshot.ID] != "devb14" {
		t.Fatalf("after a's compaction of the same ops: snapshots %v, want a's %s and b's %s", got, ra.Snapshot.ID, rb.Snapshot.ID)
	}
	// ...and one of more ops deletes it.
	a.update(ids[2], func(p *meta.Paper) { p.Note = "later" })
	a.sync()
	ra = a.compact()
	if got := snapshots(); len(got) != 1 || got[ra.Snapshot.ID] != "deva14" {
		t.Fatalf("after a's third compaction: snapshots %v, want only a's %s", got, ra.Snapshot.ID)
	}
	x.sync()
	if got, want := stateOf(t, x.store), stateOf(t, a.store); got != want {
		t.Fatalf("x differs from a after the last compaction:\n%s\n%s", got, want)
	}
}

// TestCompactDeletesInRanges: a compaction deletes the ops it covers in
// bounded ranges of seqs (FerretDB fails one delete of 100k documents),
// starting from the oldest op still there, and deletes every one.
func TestCompactDeletesInRanges(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva15", srv.URI, db)
	a.eng.deleteBatch = 7
	for i := range 25 {
		a.create(meta.Paper{Title: fmt.Sprintf("paper %d", i)})
	}
	a.sync()
	// A compaction that stopped after deleting the oldest ten.
	ctx := context.Background()
	if _, err := srv.Client(t).Database(db).Collection(opsColl).DeleteMany(ctx,
		bson.D{{Key: "seq", Value: bson.D{{Key: "$lte", Value: 10}}}}); err != nil {
		t.Fatal(err)
	}
	if rep := a.compact(); rep.DeletedOps != 15 {
		t.Fatalf("compaction deleted %d ops, want 15", rep.DeletedOps)
	}
	if n := countDocs(t, srv, db, opsColl); n != 0 {
		t.Fatalf("%d ops left on the server", n)
	}
	c := newDevice(t, "devc15", srv.URI, db)
	c.sync()
	if got, want := stateOf(t, c.store), stateOf(t, a.store); got != want {
		t.Fatalf("a new device differs:\n%s\n%s", got, want)
	}
}
