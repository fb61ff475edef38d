package meta

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/buntdb"
)

// memberStore opens a store whose ops are made by member, on a clock
// that reads start plus a minute per reading, so tests can order devices'
// edits.
func memberStore(t *testing.T, dev, member string, start time.Time) *Store {
	t.Helper()
	now := start
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"), Options{Device: dev, Member: member, NoSync: true,
		Now: func() time.Time { now = now.Add(time.Minute); return now }})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustUpdate(t *testing.T, s *Store, id string, fn func(p *Paper)) Paper {
	t.Helper()
	p, err := s.Update(id, func(p *Paper) error { fn(p); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func mustHistory(t *testing.T, s *Store, id string) []HistoryEntry {
	t.Helper()
	es, err := s.History(id)
	if err != nil {
		t.Fatal(err)
	}
	return es
}

func change(t *testing.T, e HistoryEntry, field string) FieldChange {
	t.Helper()
	for _, c := range e.Changes {
		if c.Field == field {
			return c
		}
	}
	t.Fatalf("op %s: no change of %s in %+v", e.Op, field, e.Changes)
	return FieldChange{}
}

// sync0 hands every op from's queue holds to to.
func sync0(t *testing.T, from, to *Store) {
	t.Helper()
	ops, err := from.PendingOps(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := to.ApplyRemote(ops); err != nil {
		t.Fatal(err)
	}
}

func TestHistoryLocalEdit(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := memberStore(t, "deva01", "Ada Lovelace", t0)
	p := mustCreate(t, s, Paper{Title: "Notes on the Engine", Year: 1843, Tags: []string{"math"}})
	mustUpdate(t, s, p.ID, func(p *Paper) {
		p.Title = "Notes on the Analytical Engine"
		p.Tags = []string{"computing"}
		p.Note = "" // unchanged: not in the history
	})
	ops, err := s.PendingOps(10)
	if err != nil {
		t.Fatal(err)
	}
	for _, op := range ops {
		if op.Member != "Ada Lovelace" {
			t.Fatalf("op %s made by %q, want the store's member", op.ID, op.Member)
		}
	}
	es := mustHistory(t, s, p.ID)
	if len(es) != 2 {
		t.Fatalf("%d entries, want the create and the edit: %+v", len(es), es)
	}
	edit, create := es[0], es[1]
	if edit.Op != OpID("deva01", 2) || edit.Member != "Ada Lovelace" || edit.Clock.Device != "deva01" || edit.Remote || edit.Created {
		t.Fatalf("edit entry %+v", edit)
	}
	if c := change(t, edit, "title"); c.Old != `"Notes on the Engine"` || c.New != `"Notes on the Analytical Engine"` || c.Lost {
		t.Fatalf("title change %+v", c)
	}
	if c := change(t, edit, "tags"); !slices.Equal(c.Added, []string{"computing"}) || !slices.Equal(c.Removed, []string{"math"}) {
		t.Fatalf("tags change %+v", c)
	}
	if len(edit.Changes) != 2 {
		t.Fatalf("edit names fields it did not change: %+v", edit.Changes)
	}
	if !create.Created || create.Member != "Ada Lovelace" || create.Clock.Device != "deva01" || !edit.Clock.Time().After(create.Clock.Time()) {
		t.Fatalf("create entry %+v", create)
	}
	if create.Changes != nil {
		t.Fatalf("a create is kept as who and when alone: %+v", create.Changes)
	}
	_, le, err := s.GetLastEdit(p.ID)
	if err != nil || le.Member != "Ada Lovelace" || le.Clock != edit.Clock {
		t.Fatalf("last edit %+v, %v; want the edit's member and stamp", le, err)
	}
}

func TestHistoryRemoteOp(t *testing.T) {
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a := memberStore(t, "deva01", "ada", t0)
	b := memberStore(t, "devb01", "bob", t0.Add(time.Hour)) // b's edits are later
	p := mustCreate(t, a, Paper{Title: "Draft", Authors: []string{"A. Author"}})
	sync0(t, a, b)
	if err := a.MarkSent(1); err != nil {
		t.Fatal(err)
	}
	mustUpdate(t, b, p.ID, func(p *Paper) { p.Title = "Bob's title"; p.Rating = 4 })
	mustUpdate(t, a, p.ID, func(p *Paper) { p.Title = "Ada's title"; p.Year = 2020 })
	sync0(t, a, b) // a's edit is older than b's: its title loses on b

	es := mustHistory(t, b, p.ID)
	if len(es) != 3 {
		t.Fatalf("b recorded %d entries, want 3: %+v", len(es), es)
	}
	// Newest first by stamp: b's own edit, then a's edit, then a's create.
	own, remote, created := es[0], es[1], es[2]
	if own.Member != "bob" || own.Remote {
		t.Fatalf("b's own edit %+v", own)
	}
	if remote.Member != "ada" || !remote.Remote || remote.Clock.Device != "deva01" || remote.Op != OpID("deva01", 2) {
		t.Fatalf("a's edit as b recorded it: %+v", remote)
	}
	if c := change(t, remote, "title"); !c.Lost || c.Old != `"Bob's title"` || c.New != `"Ada's title"` {
		t.Fatalf("a's losing title on b: %+v", c)
	}
	if c := change(t, remote, "year"); c.Lost || c.Old != "" || c.New != "2020" {
		t.Fatalf("a's year on b: %+v", c)
	}
	if !created.Created || created.Member != "ada" || created.Clock.Device != "deva01" {
		t.Fatalf("a's create on b: %+v", created)
	}
	if got := b.mustGet(t, p.ID); got.Title != "Bob's title" || got.Year != 2020 {
		t.Fatalf("merge: %+v", got)
	}
	// Who changed it last is the newest op's member on every device.
	sync0(t, b, a)
	for _, s := range []*Store{a, b} {
		if _, le, err := s.GetLastEdit(p.ID); err != nil || le.Member != "bob" || le.Clock != own.Clock {
			t.Fatalf("%s: last edit %+v, %v", s.Device(), le, err)
		}
	}
	// A fresh device from a snapshot knows it too, and who added each
	// paper; the snapshot names that once for a paper never edited.
	q := mustCreate(t, b, Paper{Title: "Bob's own"})
	if err := b.MarkSent(2); err != nil {
		t.Fatal(err)
	}
	vv, recs, err := b.ExportSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		if want := map[string]string{p.ID: "", q.ID: sameAsLatest}[r.ID]; (want == sameAsLatest) != (r.First == sameAsLatest) || r.First == "" {
			t.Fatalf("snapshot record %s: first %q", r.ID, r.First)
		}
	}
	c := memberStore(t, "devc01", "cy", t0)
	if _, err := c.MergeSnapshot(vv, recs); err != nil {
		t.Fatal(err)
	}
	if _, le, err := c.GetLastEdit(p.ID); err != nil || le.Member != "bob" {
		t.Fatalf("from a snapshot: last edit %+v, %v", le, err)
	}
	for id, who := range map[string]string{p.ID: "ada", q.ID: "bob"} {
		es := mustHistory(t, c, id)
		if len(es) != 1 || !es[0].Created || es[0].Member != who {
			t.Fatalf("from a snapshot: history of %s %+v, want its creation by %s", id, es, who)
		}
	}
}

func (s *Store) mustGet(t *testing.T, id string) Paper {
	t.Helper()
	p, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestHistoryBound(t *testing.T) {
	s := memberStore(t, "deva01", "ada", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	p := mustCreate(t, s, Paper{Title: "Bounded"})
	const edits = historyPerPaper + 8
	for i := 1; i <= edits; i++ {
		mustUpdate(t, s, p.ID, func(p *Paper) { p.Note = fmt.Sprint("note ", i) })
	}
	long := strings.Repeat("é", 3*historyValueBytes)
	mustUpdate(t, s, p.ID, func(p *Paper) { p.Abstract = long })
	es := mustHistory(t, s, p.ID)
	if len(es) != historyPerPaper+1 || !es[len(es)-1].Created || es[len(es)-1].Member != "ada" {
		t.Fatalf("%d entries kept, want %d edits and the creation, which the record keeps", len(es), historyPerPaper)
	}
	es = es[:len(es)-1]
	abs := change(t, es[0], "abstract")
	if !abs.Cut || len(abs.New) > historyValueBytes || !strings.HasPrefix(long, abs.New[1:]) || !json.Valid([]byte(`"`+abs.New[1:]+`"`)) {
		t.Fatalf("a long value: cut %v, %d bytes", abs.Cut, len(abs.New))
	}
	// The oldest edits went.
	oldest := change(t, es[len(es)-1], "note")
	if want := fmt.Sprintf(`"note %d"`, edits-historyPerPaper+2); oldest.New != want {
		t.Fatalf("oldest kept edit sets %s, want %s", oldest.New, want)
	}
}

func TestRecentHistory(t *testing.T) {
	s := memberStore(t, "deva01", "ada", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	p1 := mustCreate(t, s, Paper{Title: "One"})
	p2 := mustCreate(t, s, Paper{Title: "Two"})
	mustUpdate(t, s, p1.ID, func(p *Paper) { p.Year = 2001 })
	es, err := s.RecentHistory(2)
	if err != nil {
		t.Fatal(err)
	}
	if len(es) != 2 || es[0].Paper != p1.ID || es[0].Created || es[1].Paper != p2.ID || !es[1].Created {
		t.Fatalf("recent: %+v", es)
	}
	if _, err := s.History("nosuchpaper"); err == nil {
		t.Fatal("history of a paper that does not exist: no error")
	}
}

func TestMemberNames(t *testing.T) {
	for in, want := range map[string]string{
		"Ada Lovelace":                "Ada Lovelace",
		"  bob\n":                     "bob",
		"eve\x1b[31mred":              "eve [31mred",
		"bad\xffutf8":                 "bad\uFFFDutf8",
		strings.Repeat("ü", 40):       strings.Repeat("ü", 32),
		strings.Repeat("a", 63) + "ü": strings.Repeat("a", 63),
	} {
		if got := CleanMember(in); got != want {
			t.Errorf("CleanMember(%q) = %q, want %q", in, got, want)
		}
		if got := CleanMember(in); !validMember(got) {
			t.Errorf("CleanMember(%q) = %q is not valid", in, got)
		}
	}
	op := Op{ID: "deva01:1", Device: "deva01", Seq: 1, Paper: "paper01", Clock: HLC{Wall: 1, Device: "deva01"},
		Set: map[string]json.RawMessage{"title": json.RawMessage(`"x"`)}}
	for _, bad := range []string{strings.Repeat("x", MaxMemberBytes+1), "a\nb", " lead", "\xff"} {
		op.Member = bad
		if op.Check() == nil {
			t.Errorf("an op by member %q passes Check", bad)
		}
	}
}

// An op from before members (no "member" in its JSON) still loads and
// applies; its history names no member.
func TestOpWithoutMember(t *testing.T) {
	var op Op
	old := `{"id":"deva01:1","device":"deva01","seq":1,"clock":{"w":1700000000000,"l":0,"d":"deva01"},"paper":"paper01","set":{"title":"Old"}}`
	if err := json.Unmarshal([]byte(old), &op); err != nil {
		t.Fatal(err)
	}
	s := memberStore(t, "devb01", "bob", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	if _, _, err := s.ApplyRemote([]Op{op}); err != nil {
		t.Fatal(err)
	}
	es := mustHistory(t, s, "paper01")
	if len(es) != 1 || es[0].Member != "" || !es[0].Created || es[0].Clock.Device != "deva01" {
		t.Fatalf("history %+v", es)
	}
	op2 := op
	op2.ID, op2.Seq, op2.Clock.Wall = "deva01:2", 2, op.Clock.Wall+1
	op2.Set = map[string]json.RawMessage{"title": json.RawMessage(`"Older"`)}
	if _, _, err := s.ApplyRemote([]Op{op2}); err != nil {
		t.Fatal(err)
	}
	es = mustHistory(t, s, "paper01")
	if len(es) != 2 || es[0].Member != "" || es[0].Op != "deva01:2" || change(t, es[0], "title").Old != `"Old"` {
		t.Fatalf("history %+v", es)
	}
	if _, le, err := s.GetLastEdit("paper01"); err != nil || le.Member != "" || le.Clock != op2.Clock {
		t.Fatalf("last edit %+v, %v", le, err)
	}
}

// An import adds no history key: its papers' creations are in their
// records (buntdb holds every key in memory and reads it at open).
func TestImportAddsNoHistoryKeys(t *testing.T) {
	s := memberStore(t, "deva01", "ada", time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC))
	ps, err := s.CreateMany([]Paper{{Title: "One"}, {Title: "Two"}, {Title: "Three"}})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	if err := s.db.View(func(tx *buntdb.Tx) error {
		return ascendPrefix(tx, pHistory, func(string, string) bool { n++; return true })
	}); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Fatalf("%d history keys after an import", n)
	}
	for _, p := range ps {
		if es := mustHistory(t, s, p.ID); len(es) != 1 || !es[0].Created || es[0].Member != "ada" {
			t.Fatalf("%s: history %+v", p.Title, es)
		}
	}
}
