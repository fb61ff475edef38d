package library

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// device is one device's library folder and store; two of them exchange
// ops the way the sync engine does (PendingOps, ApplyRemote, MarkSent), and
// files the way a cloud drive does (by hand, when the test says so).
type device struct {
	t     *testing.T
	name  string
	lib   *Library
	store *meta.Store
}

func newDevice(t *testing.T, name string) *device {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "lib")
	os.MkdirAll(root, 0o755)
	exists := func(rel string) bool {
		_, err := os.Stat(filepath.Join(root, filepath.FromSlash(rel)))
		return err == nil
	}
	s, err := meta.Open(filepath.Join(dir, "data", "meta.db"), meta.Options{Device: name, FileExists: exists})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := Open(root, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return &device{t: t, name: name, lib: l, store: s}
}

// sendTo gives other every op of d's not yet sent to it.
func (d *device) sendTo(other *device) {
	d.t.Helper()
	ops, err := d.store.PendingOps(1 << 20)
	if err != nil {
		d.t.Fatal(err)
	}
	if len(ops) == 0 {
		return
	}
	if _, _, err := other.store.ApplyRemote(ops); err != nil {
		d.t.Fatalf("%s -> %s: %v", d.name, other.name, err)
	}
	if err := d.store.MarkSent(ops[len(ops)-1].Seq); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) scan() ScanReport {
	d.t.Helper()
	rep, err := d.lib.Scan(context.Background(), nil)
	if err != nil {
		d.t.Fatalf("%s: scan: %v", d.name, err)
	}
	return rep
}

func (d *device) pending() int {
	d.t.Helper()
	n, err := d.store.PendingCount()
	if err != nil {
		d.t.Fatal(err)
	}
	return n
}

func (d *device) write(rel, body string) { testutil.WritePDF(d.t, d.lib.Abs(rel), body) }

// move moves a file in d's library folder, as the cloud drive does.
func (d *device) move(from, to string) {
	d.t.Helper()
	os.MkdirAll(filepath.Dir(d.lib.Abs(to)), 0o755)
	if err := os.Rename(d.lib.Abs(from), d.lib.Abs(to)); err != nil {
		d.t.Fatal(err)
	}
}

func (d *device) get(id string) meta.Paper {
	d.t.Helper()
	p, err := d.store.Get(id)
	if err != nil {
		d.t.Fatalf("%s: %v", d.name, err)
	}
	return p
}

// synced is a paper's synced state: everything but the device-local flag.
func synced(t *testing.T, p meta.Paper) string {
	p.Missing = false
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// converged fails unless a and b hold the same synced state of every paper.
func converged(t *testing.T, a, b *device) {
	t.Helper()
	all := func(d *device) map[string]string {
		m := map[string]string{}
		d.store.ForEach(func(p meta.Paper) bool { m[p.ID] = synced(t, p); return true })
		return m
	}
	ma, mb := all(a), all(b)
	if len(ma) != len(mb) {
		t.Fatalf("%s has %d papers, %s has %d", a.name, len(ma), b.name, len(mb))
	}
	for id, v := range ma {
		if mb[id] != v {
			t.Fatalf("paper %s differs:\n%s: %s\n%s: %s", id, a.name, v, b.name, mb[id])
		}
	}
}

// A trash made on one device reaches the other before its cloud drive has
// moved the PDF (and a restore, before it has moved it back): the other
// device's scans must leave the record alone, neither taking its local copy
// for a move of the trashed paper (which would send the path back out of
// the trash everywhere) nor indexing it as a new paper.
func TestTrashAndRestoreAcrossDevicesBeforeTheFileMoves(t *testing.T) {
	a, b := newDevice(t, "deva00000001"), newDevice(t, "devb00000001")
	a.write("x.pdf", "x")
	if rep := a.scan(); len(rep.New) != 1 {
		t.Fatalf("a: first scan: %+v", rep)
	}
	id := must(a.store.ByPath("x.pdf"))
	b.write("x.pdf", "x") // the cloud drive brings the file...
	a.sendTo(b)           // ...and sync the record
	if rep := b.scan(); len(rep.New)+rep.Moved+len(rep.Duplicates)+len(rep.InTrash) != 0 {
		t.Fatalf("b: scan of a synced paper: %+v", rep)
	}

	// A trashes the paper; B gets the op while its copy is still x.pdf.
	if _, err := a.lib.Trash(id); err != nil {
		t.Fatal(err)
	}
	a.sendTo(b)
	for i := 0; i < 2; i++ { // a remount, then the periodic rescan
		rep := b.scan()
		if len(rep.New) != 0 || rep.Moved != 0 || !slices.Equal(rep.InTrash, []string{"x.pdf"}) {
			t.Fatalf("b: scan before its cloud drive moved the file: %+v", rep)
		}
	}
	if n := b.pending(); n != 0 {
		t.Fatalf("b: scans queued %d ops for a paper another device trashed", n)
	}
	if p := b.get(id); p.Trashed == nil || p.File.Path != TrashDir+"/x.pdf" || !p.Missing {
		t.Fatalf("b: record before the file moved: %+v", p)
	}
	if count(t, b.store, meta.All) != 0 || count(t, b.store, meta.Trash) != 1 {
		t.Fatalf("b: views: all=%d trash=%d", count(t, b.store, meta.All), count(t, b.store, meta.Trash))
	}
	b.move("x.pdf", TrashDir+"/x.pdf") // the cloud drive catches up
	b.scan()
	if p := b.get(id); p.Missing || b.pending() != 0 {
		t.Fatalf("b: after the file moved into the trash: %+v, %d ops queued", p, b.pending())
	}
	converged(t, a, b)

	// A restores it; B gets the op while its copy is still in the trash.
	if _, err := a.lib.Restore(id); err != nil {
		t.Fatal(err)
	}
	a.sendTo(b)
	if rep := b.scan(); len(rep.New) != 0 || rep.Moved != 0 || b.pending() != 0 {
		t.Fatalf("b: scan before its cloud drive restored the file: %+v, %d ops queued", rep, b.pending())
	}
	if p := b.get(id); p.Trashed != nil || p.File.Path != "x.pdf" || !p.Missing {
		t.Fatalf("b: restored record before the file moved: %+v", p)
	}
	b.move(TrashDir+"/x.pdf", "x.pdf")
	if rep := b.scan(); rep.Returned != 1 || count(t, b.store, meta.All) != 1 {
		t.Fatalf("b: after the file came back: %+v", rep)
	}
	converged(t, a, b)

	// Trash again, and this time B's cloud drive is faster than sync: the
	// file is in B's trash folder before the record says so, then comes
	// back out before the restore arrives.
	if _, err := a.lib.Trash(id); err != nil {
		t.Fatal(err)
	}
	b.move("x.pdf", TrashDir+"/x.pdf")
	if rep := b.scan(); rep.Missing != 1 { // not trashed here yet: its PDF is gone
		t.Fatalf("b: file trashed by the cloud drive first: %+v", rep)
	}
	a.sendTo(b)
	b.scan()
	if p := b.get(id); p.Trashed == nil || p.Missing {
		t.Fatalf("b: trashed record with its file in the trash: %+v", p)
	}
	if _, err := a.lib.Restore(id); err != nil {
		t.Fatal(err)
	}
	b.move(TrashDir+"/x.pdf", "x.pdf")
	if rep := b.scan(); len(rep.New) != 0 || rep.Moved != 0 || len(rep.InTrash) != 1 {
		t.Fatalf("b: file restored by the cloud drive first: %+v", rep)
	}
	a.sendTo(b)
	b.scan()
	if p := b.get(id); p.Trashed != nil || p.Missing || p.File.Path != "x.pdf" {
		t.Fatalf("b: restored record with its file back: %+v", p)
	}
	if b.pending() != 0 {
		t.Fatalf("b: %d ops queued", b.pending())
	}
	converged(t, a, b)
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// A PDF that arrives through the cloud drive before its record: a scan
// with a beforeNew hook (a mount waiting for a sync round) matches it to
// the record that arrived meanwhile instead of indexing it again; a PDF
// nobody has indexed is still indexed, after the hook.
func TestScanWaitsBeforeIndexing(t *testing.T) {
	a, b := newDevice(t, "deva00000002"), newDevice(t, "devb00000002")
	a.write("x.pdf", "x")
	a.write("sub/y.pdf", "y")
	a.scan()
	b.write("x.pdf", "x")            // the cloud drive is faster than sync
	b.write("mine.pdf", "only on b") // and one only B has
	calls := 0
	rep, err := b.lib.scan(context.Background(), nil, func(context.Context) {
		calls++
		a.sendTo(b) // the sync round
	})
	if err != nil {
		t.Fatal(err)
	}
	if calls != 1 || len(rep.New) != 1 || rep.Moved+len(rep.Duplicates) != 0 {
		t.Fatalf("scan: %d hook calls, %+v", calls, rep)
	}
	if p := b.get(rep.New[0]); p.File.Path != "mine.pdf" {
		t.Fatalf("new paper: %+v", p)
	}
	if count(t, b.store, meta.All) != 2 || count(t, b.store, meta.Missing) != 1 {
		t.Fatalf("b: all=%d missing=%d", count(t, b.store, meta.All), count(t, b.store, meta.Missing))
	}
	// Nothing new: the hook is not called.
	if _, err := b.lib.scan(context.Background(), nil, func(context.Context) { calls++ }); err != nil || calls != 1 {
		t.Fatalf("second scan: %v, %d hook calls", err, calls)
	}
}

// Two devices index one PDF before they sync (both offline): after they
// exchange ops each merges the pair the same way, concurrently, and both
// end with one paper carrying what the user set on either.
func TestDuplicatesFromTwoDevicesMerge(t *testing.T) {
	a, b := newDevice(t, "deva00000003"), newDevice(t, "devb00000003")
	a.write("sub/x.pdf", "x")
	b.write("sub/x.pdf", "x")
	a.scan()
	time.Sleep(5 * time.Millisecond) // A's paper is added first by the clock, and stays: what is tested
	b.scan()
	keep, lose := must(a.store.ByPath("sub/x.pdf")), must(b.store.ByPath("sub/x.pdf"))
	userSet := func(d *device, id string, fn func(p *meta.Paper)) {
		if _, err := d.store.Update(id, func(p *meta.Paper) error {
			fn(p)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
	}
	userSet(a, keep, func(p *meta.Paper) {
		p.Tags, p.Title, p.Note = []string{"from-a"}, "Title set on A", "note set on A"
		p.Confidence = map[string]float64{"tags": 1, "title": 1, "note": 1}
	})
	userSet(b, lose, func(p *meta.Paper) {
		p.Tags, p.Title, p.Rating, p.Note = []string{"from-b"}, "Title set on B", 4, "note set on B"
		p.Confidence = map[string]float64{"tags": 1, "title": 1, "rating": 1, "note": 1}
	})
	a.sendTo(b)
	b.sendTo(a)
	for _, d := range []*device{a, b} {
		if n := count(t, d.store, meta.All); n != 2 {
			t.Fatalf("%s before merging: %d papers in all/", d.name, n)
		}
	}
	// Both merge before hearing of the other's merge: a scan on A, the
	// watcher's (or paperfs sync's) MergeDuplicates on B.
	if rep := a.scan(); rep.Merged != 1 || len(rep.New)+rep.Moved+len(rep.Duplicates) != 0 {
		t.Fatalf("a: scan: %+v", rep)
	}
	if n, err := b.lib.MergeDuplicates(); n != 1 || err != nil {
		t.Fatalf("b: merged %d: %v", n, err)
	}
	a.sendTo(b)
	b.sendTo(a)
	converged(t, a, b)
	for _, d := range []*device{a, b} {
		if n := count(t, d.store, meta.All); n != 1 {
			t.Fatalf("%s after merging: %d papers in all/", d.name, n)
		}
		if id := must(d.store.ByPath("sub/x.pdf")); id != keep {
			t.Fatalf("%s: sub/x.pdf is paper %s, want the kept %s", d.name, id, keep)
		}
		k, l := d.get(keep), d.get(lose)
		if !slices.Equal(k.Tags, []string{"from-a", "from-b"}) || k.Title != "Title set on A" || k.Note != "note set on A" || k.Rating != 4 {
			t.Fatalf("%s: kept paper: %+v", d.name, k)
		}
		if l.MergedInto != keep || l.File.Path != "sub/x.pdf" {
			t.Fatalf("%s: merged paper: %+v", d.name, l)
		}
		if ids := must(d.store.ByHash(k.File.SHA256)); !slices.Equal(ids, []string{keep}) {
			t.Fatalf("%s: content index: %v", d.name, ids)
		}
		if rep := d.scan(); rep.Merged+len(rep.New)+rep.Moved+len(rep.Duplicates)+rep.Missing != 0 {
			t.Fatalf("%s: scan after merging: %+v", d.name, rep)
		}
		if n := d.pending(); n != 0 {
			t.Fatalf("%s: %d ops queued after merging twice", d.name, n)
		}
		var seen []string
		d.store.ForEach(func(p meta.Paper) bool { seen = append(seen, p.ID); return true })
		if slices.Contains(seen, lose) {
			t.Fatalf("%s: ForEach shows the merged paper", d.name)
		}
	}
	// The kept paper's PDF moves: the path index follows it, and the
	// merged paper does not reclaim the old path.
	a.move("sub/x.pdf", "x.pdf")
	if rep := a.scan(); rep.Moved != 1 {
		t.Fatalf("a: move after merge: %+v", rep)
	}
	if _, err := a.store.ByPath("sub/x.pdf"); err == nil {
		t.Fatal("a: the old path is still indexed")
	}
}
