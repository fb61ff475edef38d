package meta

import (
	"errors"
	"slices"
	"testing"
)

// TestApplySubset: a store holding part of a library applies ops of held
// papers past its vector only, adopts a paper from a snapshot record plus
// its later ops in the same commit, keeps out what Keep rejects, and
// raises its vector over the gaps; DropUnless keeps papers with queued
// ops.
func TestApplySubset(t *testing.T) {
	src := openTest(t, "source1")
	a, _ := src.Create(Paper{Title: "a", Tags: []string{"in"}})
	b, _ := src.Create(Paper{Title: "b"})
	src.Update(b.ID, func(p *Paper) error { p.Year = 2001; return nil })
	early, svv, recs := sentSnapshot(t, src)
	src.Update(b.ID, func(p *Paper) error { p.Tags = []string{"in"}; return nil })
	src.Update(a.ID, func(p *Paper) error { p.Note = "later"; return nil })
	c, _ := src.Create(Paper{Title: "c"})
	later, _ := src.PendingOps(100)
	all := append(early, later...)

	sub := openTest(t, "subset1")
	keep := func(p *Paper) bool { return slices.Contains(p.Tags, "in") }
	// Held: a (its first op). The others are skipped: not held.
	res, err := sub.ApplySubset(SubsetUpdate{Ops: all[:1], HW: map[string]uint64{"source1": 1}, Keep: keep})
	if err != nil || len(res.Adopted) != 1 {
		t.Fatalf("adopting a: %+v %v", res, err)
	}
	// b enters: its snapshot record, then its ops up to the vector; c
	// does not match; a's later op applies once, though sent twice.
	var bRec []SnapshotRecord
	for _, r := range recs {
		if r.ID == b.ID {
			bRec = append(bRec, r)
		}
	}
	ops := append(slices.Clone(all[1:]), all[len(all)-2])
	res, err = sub.ApplySubset(SubsetUpdate{Ops: ops, HW: map[string]uint64{"source1": uint64(len(all))},
		Snapshots: []SubsetSnapshot{{Vector: svv, Records: bRec}}, Keep: keep})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(res.Adopted, []string{b.ID}) || res.Applied != 1 {
		t.Fatalf("second batch: %+v", res)
	}
	if got, _ := sub.Get(b.ID); got.Year != 2001 || !slices.Equal(got.Tags, []string{"in"}) {
		t.Fatalf("b adopted without its history: %+v", got)
	}
	if got, _ := sub.Get(a.ID); got.Note != "later" {
		t.Fatalf("a's later op not applied: %+v", got)
	}
	// ... and logged, as ApplyRemote logs: paperfs log shows it here too.
	if h, err := sub.History(a.ID); err != nil || !slices.ContainsFunc(h, func(e HistoryEntry) bool {
		return e.Remote && len(e.Changes) == 1 && e.Changes[0].Field == "note" && e.Changes[0].New == `"later"`
	}) {
		t.Fatalf("a's history on the subset device: %+v, %v", h, err)
	}
	if _, err := sub.Get(c.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("c held: %v", err)
	}
	if vv, _ := sub.Vector(); vv["source1"] != uint64(len(all)) {
		t.Fatalf("vector %v", vv)
	}
	// A snapshot past the vector cannot be adopted from.
	if _, err := sub.ApplySubset(SubsetUpdate{Snapshots: []SubsetSnapshot{{Vector: map[string]uint64{"source1": 99}}}}); err == nil {
		t.Fatal("a snapshot past the vector was taken")
	}

	// a leaves the subset locally: kept while its op is queued.
	sub.Update(a.ID, func(p *Paper) error { p.Tags = nil; return nil })
	if dropped, err := sub.DropUnless(keep); err != nil || len(dropped) != 0 {
		t.Fatalf("dropped %v with its op queued (%v)", dropped, err)
	}
	q, _ := sub.PendingOps(10)
	sub.MarkSent(q[len(q)-1].Seq)
	dropped, err := sub.DropUnless(keep)
	if err != nil || !slices.Equal(dropped, []string{a.ID}) {
		t.Fatalf("dropped %v, %v", dropped, err)
	}
	if n, _ := sub.Count(View{Kind: All}); n != 1 {
		t.Fatalf("%d papers shown after the drop", n)
	}
	if ids, _ := sub.HeldIDs(); !slices.Equal(ids, []string{b.ID}) {
		t.Fatalf("held %v", ids)
	}
}

// sentSnapshot marks s's queued ops sent and exports its snapshot; it
// returns the ops too.
func sentSnapshot(t *testing.T, s *Store) ([]Op, map[string]uint64, []SnapshotRecord) {
	t.Helper()
	q, err := s.PendingOps(1000)
	if err != nil || len(q) == 0 {
		t.Fatal(len(q), err)
	}
	if err := s.MarkSent(q[len(q)-1].Seq); err != nil {
		t.Fatal(err)
	}
	vv, recs, err := s.ExportSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	return q, vv, recs
}
