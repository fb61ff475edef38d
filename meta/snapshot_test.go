package meta

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// snapshotWorld simulates devices, a server holding the ops they
// uploaded, and snapshots, using only the store's API.
type snapshotWorld struct {
	t      *testing.T
	rng    *rand.Rand
	stores []*Store
	log    [][]Op // every op each device issued, in seq order
	sent   []int  // how many of them the server has
	snaps  []snap
}

type snap struct {
	vv   map[string]uint64
	recs []SnapshotRecord
}

func openNoSync(t *testing.T, dev string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"), Options{Device: dev, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// collect appends device i's newly issued ops to its log.
func (w *snapshotWorld) collect(i int) {
	ops, err := w.stores[i].PendingOps(1 << 30)
	if err != nil {
		w.t.Fatal(err)
	}
	for _, op := range ops {
		if op.Seq > uint64(len(w.log[i])) {
			w.log[i] = append(w.log[i], op)
		}
	}
}

func (w *snapshotWorld) upload(i int) {
	if n := len(w.log[i]); n > 0 {
		if err := w.stores[i].MarkSent(uint64(n)); err != nil {
			w.t.Fatal(err)
		}
	}
	w.sent[i] = len(w.log[i])
}

// server is what the server holds, per device.
func (w *snapshotWorld) server() [][]Op {
	out := make([][]Op, len(w.log))
	for i := range w.log {
		out[i] = w.log[i][:w.sent[i]]
	}
	return out
}

func (w *snapshotWorld) edit(i, step int) {
	s := w.stores[i]
	words := []string{"alpha", "beta", "gamma", "delta"}
	var ids []string
	s.ForEach(func(p Paper) bool { ids = append(ids, p.ID); return true })
	if len(ids) == 0 || w.rng.IntN(6) == 0 {
		if _, err := s.Create(Paper{Title: fmt.Sprintf("p%d", step), Tags: []string{words[w.rng.IntN(4)]}}); err != nil {
			w.t.Fatal(err)
		}
	} else {
		id := ids[w.rng.IntN(len(ids))]
		_, err := s.Update(id, func(p *Paper) error {
			randomEdit(w.rng, p, step, words, time.Date(2025, 1, 1, 0, 0, step, 0, time.UTC))
			return nil
		})
		if err != nil {
			w.t.Fatal(err)
		}
	}
	w.collect(i)
}

// TestSnapshotMergeConverges mixes edits, uploads, partial pulls,
// snapshots and merges of stale and fresh snapshots into devices with
// queued local edits, then checks every device, and new devices that
// started from a snapshot, equal a store that applied every op.
func TestSnapshotMergeConverges(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			w := &snapshotWorld{t: t, rng: rand.New(rand.NewPCG(seed, 7))}
			n := 3
			for i := 0; i < n; i++ {
				w.stores = append(w.stores, openNoSync(t, fmt.Sprintf("dev%03d", i)))
			}
			w.log, w.sent = make([][]Op, n), make([]int, n)
			merges := 0
			for step := 0; step < 150; step++ {
				i := w.rng.IntN(n)
				switch r := w.rng.IntN(10); {
				case r < 5:
					w.edit(i, step)
				case r < 7:
					w.upload(i)
				case r < 8:
					deliver(t, w.rng, w.stores[i], w.server())
				case r < 9:
					vv, recs, err := w.stores[i].ExportSnapshot()
					if errors.Is(err, ErrPendingOps) {
						continue
					}
					if err != nil {
						t.Fatal(err)
					}
					w.snaps = append(w.snaps, snap{vv, recs})
				default:
					if len(w.snaps) == 0 {
						continue
					}
					sn := w.snaps[w.rng.IntN(len(w.snaps))]
					if _, err := w.stores[i].MergeSnapshot(sn.vv, sn.recs); err != nil {
						t.Fatal(err)
					}
					merges++
				}
			}
			// New devices: one from each of a few snapshots.
			var fresh []*Store
			for k := 0; k < 3 && len(w.snaps) > 0; k++ {
				s := openNoSync(t, fmt.Sprintf("new%03d", k))
				sn := w.snaps[w.rng.IntN(len(w.snaps))]
				if _, err := s.MergeSnapshot(sn.vv, sn.recs); err != nil {
					t.Fatal(err)
				}
				fresh = append(fresh, s)
			}
			for i := range w.stores {
				w.upload(i)
			}
			ref := openNoSync(t, "reference")
			deliver(t, w.rng, ref, w.log)
			want := state(t, ref)
			for _, s := range append(slices.Clone(w.stores), fresh...) {
				deliver(t, w.rng, s, w.log)
				if got := state(t, s); got != want {
					t.Fatalf("%s differs from the reference after %d snapshots, %d merges:\n%s\n%s",
						s.Device(), len(w.snaps), merges, got, want)
				}
			}
		})
	}
}

// TestSnapshotMergeKeepsRemoves checks the cases a plain union of sets
// gets wrong: a tag removed where the snapshot still has it, a tag the
// snapshot removed that this device still has, and a remove whose add
// neither side has applied.
func TestSnapshotMergeKeepsRemoves(t *testing.T) {
	a, b, c := openNoSync(t, "deva00"), openNoSync(t, "devb00"), openNoSync(t, "devc00")
	p, err := a.Create(Paper{Title: "x", Tags: []string{"one", "two"}})
	if err != nil {
		t.Fatal(err)
	}
	opsA, _ := a.PendingOps(100)
	if _, _, err := b.ApplyRemote(opsA); err != nil {
		t.Fatal(err)
	}
	// b removes "one" (not uploaded); a removes "two" and takes a snapshot
	// that still has "one".
	if _, err := b.Update(p.ID, func(p *Paper) error { p.Tags = []string{"two"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Update(p.ID, func(p *Paper) error { p.Tags = []string{"one"}; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := a.MarkSent(2); err != nil {
		t.Fatal(err)
	}
	vv, recs, err := a.ExportSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.MergeSnapshot(vv, recs); err != nil {
		t.Fatal(err)
	}
	got, _ := b.Get(p.ID)
	if len(got.Tags) != 0 {
		t.Fatalf("after merge, tags %v, want none: both removes kept", got.Tags)
	}
	// b's remove, still queued, reaches c before a's ops: c holds a
	// remove whose add it has not seen; merging a snapshot that has the
	// add live must cancel it.
	opsB, _ := b.PendingOps(100)
	if len(opsB) != 1 {
		t.Fatalf("b has %d queued ops after the merge, want its 1 remove", len(opsB))
	}
	if _, _, err := c.ApplyRemote(opsB); err != nil {
		t.Fatal(err)
	}
	if _, err := c.MergeSnapshot(vv, recs); err != nil {
		t.Fatal(err)
	}
	got, _ = c.Get(p.ID)
	if len(got.Tags) != 0 {
		t.Fatalf("c: tags %v, want none", got.Tags)
	}
	// A snapshot claiming ops of the merging device it never issued.
	if _, err := a.MergeSnapshot(map[string]uint64{"deva00": 99}, nil); !errors.Is(err, ErrSnapshotAhead) {
		t.Fatalf("merging a snapshot ahead of this device: %v, want ErrSnapshotAhead", err)
	}
	if _, _, err := b.ExportSnapshot(); !errors.Is(err, ErrPendingOps) {
		t.Fatalf("export with queued ops: %v, want ErrPendingOps", err)
	}
}

// TestMergeSnapshotFromAborts: records are parsed as they are merged, so
// a bad one can come after good ones; the merge is still one commit and
// leaves the store as it was.
func TestMergeSnapshotFromAborts(t *testing.T) {
	a, b := openNoSync(t, "deva16"), openNoSync(t, "devb16")
	for i := range 3 {
		if _, err := a.Create(Paper{Title: fmt.Sprintf("paper %d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := a.MarkSent(3); err != nil {
		t.Fatal(err)
	}
	vv, recs, err := a.ExportSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	bad := errors.New("snapshot x record 2: unexpected end of JSON input")
	_, err = b.MergeSnapshotFrom(vv, func(yield func(*SnapshotRecord, error) bool) {
		for i := range recs[:2] {
			if !yield(&recs[i], nil) {
				return
			}
		}
		yield(nil, bad)
	})
	if !errors.Is(err, bad) {
		t.Fatalf("merge with a bad third record: %v, want %v", err, bad)
	}
	if n, _ := b.Count(View{Kind: All}); n != 0 {
		t.Fatalf("b holds %d papers after the aborted merge, want 0", n)
	}
	if got, _ := b.Vector(); got["deva16"] != 0 {
		t.Fatalf("b's vector after the aborted merge: %v", got)
	}
	if _, err := b.MergeSnapshot(vv, recs); err != nil {
		t.Fatal(err)
	}
	if n, _ := b.Count(View{Kind: All}); n != 3 {
		t.Fatalf("b holds %d papers after the merge, want 3", n)
	}
}
