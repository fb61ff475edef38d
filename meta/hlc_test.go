package meta

import (
	"path/filepath"
	"testing"
	"time"
)

// skewedStore opens a store whose wall clock runs skew ahead of now().
func skewedStore(t *testing.T, dev string, skew time.Duration) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"), Options{Device: dev,
		Now: func() time.Time { return time.Now().Add(skew) }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func exchange(t *testing.T, from, to *Store) []Conflict {
	t.Helper()
	ops, err := from.PendingOps(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	_, cs, err := to.ApplyRemote(ops)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// TestClockAheadDoesNotDrag: ops from a device two hours ahead are
// applied, but the clock of the device receiving them stays on its own
// wall clock, and an edit made after seeing them still wins.
func TestClockAheadDoesNotDrag(t *testing.T) {
	fast := skewedStore(t, "devfast1", 2*time.Hour)
	norm := skewedStore(t, "devnorm1", 0)
	p := mustCreate(t, fast, Paper{Title: "From the future"})
	q := mustCreate(t, norm, Paper{Title: "Here and now"})
	exchange(t, fast, norm)
	if got, err := norm.Get(p.ID); err != nil || got.Title != "From the future" {
		t.Fatalf("the fast device's paper was not applied: %v %v", got, err)
	}
	before := time.Now()
	got, err := norm.Update(q.ID, func(p *Paper) error { p.Note = "edited"; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if got.Modified.After(before.Add(MaxClockAhead)) {
		t.Errorf("an unrelated paper's modified time %s was dragged ahead of %s", got.Modified, before)
	}
	// Editing the fast device's paper after seeing it: the edit wins
	// although its wall clock is behind the value it replaces.
	if got, err = norm.Update(p.ID, func(p *Paper) error { p.Title = "Corrected"; return nil }); err != nil || got.Title != "Corrected" {
		t.Fatalf("editing a value stamped ahead: %q %v", got.Title, err)
	}
	fast.MarkSent(1 << 20)
	if cs := exchange(t, norm, fast); len(cs) != 0 {
		t.Errorf("a later edit was reported as a conflict: %+v", cs)
	}
	if got, _ := fast.Get(p.ID); got.Title != "Corrected" {
		t.Errorf("the fast device kept %q", got.Title)
	}
}

// TestConflictOnEveryLoser: two devices edit one field while apart. Each
// device reports the conflict when it receives the other's op, whichever
// syncs first, and both agree who won.
func TestConflictOnEveryLoser(t *testing.T) {
	for _, skew := range []time.Duration{0, 2 * time.Hour, -2 * time.Hour} {
		a := skewedStore(t, "deva01", skew)
		b := skewedStore(t, "devb01", 0)
		p := mustCreate(t, a, Paper{Title: "Base"})
		exchange(t, a, b)
		a.MarkSent(1 << 20)
		a.Update(p.ID, func(p *Paper) error { p.Title = "A's"; return nil })
		b.Update(p.ID, func(p *Paper) error { p.Title = "B's"; return nil })
		// A syncs first: its op is on the server before it hears of B's.
		aOps, _ := a.PendingOps(100)
		a.MarkSent(1 << 20)
		csB := exchange(t, b, a)
		b.MarkSent(1 << 20)
		_, csA, err := b.ApplyRemote(aOps)
		if err != nil {
			t.Fatal(err)
		}
		if len(csA) != 1 || len(csB) != 1 || csA[0].Field != "title" || csB[0].Field != "title" {
			t.Fatalf("skew %s: conflicts on B %+v, on A %+v; want one title conflict on each", skew, csA, csB)
		}
		if csA[0].RemoteWins == csB[0].RemoteWins {
			t.Errorf("skew %s: both devices say the same side won: %+v %+v", skew, csA[0], csB[0])
		}
		ga, _ := a.Get(p.ID)
		gb, _ := b.Get(p.ID)
		if ga.Title != gb.Title {
			t.Errorf("skew %s: diverged: %q vs %q", skew, ga.Title, gb.Title)
		}
	}
}

// TestClockBehindIsCorrected: a device whose clock is two hours behind,
// once told its offset, takes the other devices' stamps into its clock.
func TestClockBehindIsCorrected(t *testing.T) {
	slow := skewedStore(t, "devslow1", -2*time.Hour)
	norm := skewedStore(t, "devnorm1", 0)
	mustCreate(t, norm, Paper{Title: "Now"})
	slow.SetClockOffset(-2 * time.Hour)
	exchange(t, norm, slow)
	before := time.Now().Add(-time.Minute)
	p := mustCreate(t, slow, Paper{Title: "Made on the slow device"})
	if p.Modified.Before(before) {
		t.Errorf("the slow device's stamp %s stayed behind though it knows its offset", p.Modified)
	}
}
