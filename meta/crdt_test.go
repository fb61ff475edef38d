package meta

import (
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/buntdb"
)

// exchange applies every op each device queued to every other device, in a
// random order per device (keeping each device's own ops in seq order, as
// the server delivers them).
func allOps(t *testing.T, ss []*Store) [][]Op {
	var out [][]Op
	for _, s := range ss {
		ops, err := s.PendingOps(1 << 30)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ops)
	}
	return out
}

func deliver(t *testing.T, rng *rand.Rand, to *Store, logs [][]Op) {
	// interleave the devices' logs randomly, each log in order, in random batches
	idx := make([]int, len(logs))
	for {
		var live []int
		for i := range logs {
			if idx[i] < len(logs[i]) {
				live = append(live, i)
			}
		}
		if len(live) == 0 {
			return
		}
		i := live[rng.IntN(len(live))]
		n := 1 + rng.IntN(3)
		end := min(idx[i]+n, len(logs[i]))
		batch := logs[i][idx[i]:end]
		// redeliver some ops to check idempotence
		if idx[i] > 0 && rng.IntN(4) == 0 {
			batch = append([]Op{logs[i][idx[i]-1]}, batch...)
		}
		if _, _, err := to.ApplyRemote(batch); err != nil {
			t.Fatal(err)
		}
		idx[i] = end
	}
}

func state(t *testing.T, s *Store) string {
	var ps []Paper
	s.ForEach(func(p Paper) bool { ps = append(ps, p); return true })
	for i := range ps {
		ps[i].Missing = false
	}
	b, _ := json.Marshal(ps)
	return string(b)
}

// TestConvergence makes random concurrent edits on three devices, then
// exchanges ops in random orders: every device must reach the same state.
func TestConvergence(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			base := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
			var ss []*Store
			for d := 0; d < 3; d++ {
				skew := time.Duration(rng.IntN(5000)-2500) * time.Millisecond
				s, err := Open(t.TempDir()+"/m.db", Options{Device: fmt.Sprintf("device%d", d),
					Now: func() time.Time { return base.Add(skew) }})
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				ss = append(ss, s)
			}
			// Shared starting point: device0 creates papers, everyone gets them.
			var ids []string
			for i := 0; i < 3; i++ {
				p := mustCreate(t, ss[0], Paper{Title: fmt.Sprint("P", i), Tags: []string{"a"}})
				ids = append(ids, p.ID)
			}
			first := allOps(t, ss[:1])
			for _, s := range ss[1:] {
				deliver(t, rng, s, first)
			}
			ss[0].MarkSent(1 << 20)
			tags := []string{"a", "b", "c"}
			for step := 0; step < 30; step++ {
				s := ss[rng.IntN(len(ss))]
				id := ids[rng.IntN(len(ids))]
				_, err := s.Update(id, func(p *Paper) error {
					randomEdit(rng, p, step, tags, base)
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			logs := allOps(t, ss)
			for _, s := range ss {
				deliver(t, rng, s, logs)
			}
			want := state(t, ss[0])
			for _, s := range ss[1:] {
				if got := state(t, s); got != want {
					t.Fatalf("devices diverged:\n%s\n%s", want, got)
				}
			}
		})
	}
}

// randomEdit makes one random edit of p, as a user of any device might:
// each field set or emptied, tags and folders joined and left, the trash
// entered and left, confidence entries changed. The convergence tests of
// ops and snapshots draw from it.
func randomEdit(rng *rand.Rand, p *Paper, step int, words []string, now time.Time) {
	switch rng.IntN(10) {
	case 0:
		p.Title = fmt.Sprintf("title %d", step)
	case 1:
		p.Year = 1990 + rng.IntN(30)
	case 2, 3:
		p.Tags = append(p.Tags, words[rng.IntN(len(words))])
	case 4:
		if len(p.Tags) > 0 {
			p.Tags = slices.Delete(p.Tags, 0, 1)
		}
	case 5:
		p.Folders = []string{words[rng.IntN(len(words))]}
	case 6:
		if p.Trashed == nil {
			p.Trashed = &now
		} else {
			p.Trashed = nil
		}
	case 7:
		editConfidence(rng, p)
	case 8:
		p.Rating = rng.IntN(3) // 0 empties it
	case 9:
		p.Note = []string{"", "n1", "n2"}[rng.IntN(3)] // "" empties it
	}
}

// editConfidence sets, changes or removes one confidence entry, or all.
func editConfidence(rng *rand.Rand, p *Paper) {
	k := []string{"title", "year", "doi"}[rng.IntN(3)]
	switch rng.IntN(4) {
	case 0:
		delete(p.Confidence, k)
	case 1:
		p.Confidence = nil
	default:
		if p.Confidence == nil {
			p.Confidence = map[string]float64{}
		}
		p.Confidence[k] = float64(rng.IntN(5)) / 4
	}
}

// TestConfidencePerField: two devices mark different fields while apart;
// both markers survive and no conflict names confidence.
func TestConfidencePerField(t *testing.T) {
	a, b := openTest(t, "deva01"), openTest(t, "devb01")
	p := mustCreate(t, a, Paper{Title: "X", Year: 1999, Confidence: map[string]float64{"title": 0.5, "year": 0.5, "doi": 0.25}})
	ops, _ := a.PendingOps(100)
	b.ApplyRemote(ops)
	a.MarkSent(ops[len(ops)-1].Seq)
	a.Update(p.ID, func(p *Paper) error { p.Title = "Y"; p.Confidence["title"] = 1; return nil })
	b.Update(p.ID, func(p *Paper) error { p.Year = 2001; p.Confidence["year"] = 1; delete(p.Confidence, "doi"); return nil })
	oa, _ := a.PendingOps(100)
	ob, _ := b.PendingOps(100)
	for _, c := range []struct {
		s   *Store
		ops []Op
	}{{a, ob}, {b, oa}} {
		_, conflicts, err := c.s.ApplyRemote(c.ops)
		if err != nil {
			t.Fatal(err)
		}
		if len(conflicts) != 0 {
			t.Errorf("%s: conflicts %+v", c.s.Device(), conflicts)
		}
	}
	for _, s := range []*Store{a, b} {
		got, _ := s.Get(p.ID)
		if fmt.Sprint(got.Confidence) != "map[title:1 year:1]" || got.Title != "Y" || got.Year != 2001 {
			t.Errorf("%s: %q %d confidence %v", s.Device(), got.Title, got.Year, got.Confidence)
		}
	}
	// The stored record keeps the entries' stamps across a reopen.
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	a2, err := Open(a.Path(), Options{Device: "deva01"})
	if err != nil {
		t.Fatal(err)
	}
	defer a2.Close()
	late := Op{ID: OpID("devc01", 1), Device: "devc01", Seq: 1, Paper: p.ID,
		Clock: HLC{Wall: 1, Device: "devc01"}, Set: map[string]json.RawMessage{"confidence/doi": json.RawMessage("0.75")}}
	if _, _, err := a2.ApplyRemote([]Op{late}); err != nil {
		t.Fatal(err)
	}
	if got, _ := a2.Get(p.ID); fmt.Sprint(got.Confidence) != "map[title:1 year:1]" {
		t.Errorf("an old write revived a removed entry: %v", got.Confidence)
	}
}

// TestConfidenceKeysAreFields: an entry that names no field is not kept,
// so no op can carry one that other devices would refuse.
func TestConfidenceKeysAreFields(t *testing.T) {
	s := openTest(t, "deva01")
	p := mustCreate(t, s, Paper{Title: "X", Confidence: map[string]float64{"title": 0.5, "bogus": 1}})
	p, err := s.Update(p.ID, func(p *Paper) error { p.Confidence["other.thing"] = 1; p.Confidence["year"] = 1; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(p.Confidence) != "map[title:0.5 year:1]" {
		t.Errorf("confidence %v", p.Confidence)
	}
	ops, _ := s.PendingOps(10)
	for _, op := range ops {
		if err := op.Check(); err != nil {
			t.Errorf("op %s fails its own check: %v", op.ID, err)
		}
	}
}

// TestConfidenceWholeMapOps: ops from before entries were merged one by
// one set the whole map; with entry writes they give one state in any
// order.
func TestConfidenceWholeMapOps(t *testing.T) {
	id := "paper0000001"
	mk := func(dev string, seq uint64, wall int64, set map[string]string) Op {
		op := Op{ID: OpID(dev, seq), Device: dev, Seq: seq, Paper: id, Clock: HLC{Wall: wall, Device: dev}, Set: map[string]json.RawMessage{}}
		for k, v := range set {
			op.Set[k] = json.RawMessage(v)
		}
		return op
	}
	ops := []Op{
		mk("devx01", 1, 10, map[string]string{"title": `"T"`, "confidence": `{"title":0.5,"year":0.5}`}),
		mk("devy01", 1, 20, map[string]string{"confidence/doi": `0.5`}),
		mk("devx01", 2, 30, map[string]string{"confidence": `{"title":1}`}),
		mk("devz01", 1, 40, map[string]string{"confidence/year": `0.25`}),
		mk("devy01", 2, 25, map[string]string{"confidence/title": `0.75`}),
	}
	want := ""
	for perm := 0; perm < 30; perm++ {
		rng := rand.New(rand.NewPCG(uint64(perm), 1))
		s := openTest(t, "devw01")
		// A random interleaving keeping each device's ops in seq order, as
		// the server delivers them.
		queues := map[string][]Op{}
		for _, op := range ops {
			queues[op.Device] = append(queues[op.Device], op)
		}
		var order []Op
		for len(order) < len(ops) {
			devs := slices.Sorted(maps.Keys(queues))
			d := devs[rng.IntN(len(devs))]
			order = append(order, queues[d][0])
			if queues[d] = queues[d][1:]; len(queues[d]) == 0 {
				delete(queues, d)
			}
		}
		for _, op := range order {
			if _, _, err := s.ApplyRemote([]Op{op}); err != nil {
				t.Fatal(err)
			}
		}
		got, err := s.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		if fmt.Sprint(got.Confidence) != "map[title:1 year:0.25]" {
			t.Fatalf("order %d: confidence %v", perm, got.Confidence)
		}
		if st := state(t, s); want == "" {
			want = st
		} else if st != want {
			t.Fatalf("order %d: state differs:\n%s\n%s", perm, want, st)
		}
	}
}

// TestAddWins: a tag added on one device while another removes the same tag
// (without having seen that add) survives.
func TestAddWins(t *testing.T) {
	a, b := openTest(t, "deva01"), openTest(t, "devb01")
	p := mustCreate(t, a, Paper{Title: "X", Tags: []string{"t"}})
	ops, _ := a.PendingOps(100)
	b.ApplyRemote(ops)
	a.MarkSent(ops[len(ops)-1].Seq)
	// a removes t; b, concurrently, removes and re-adds t (a new add tag).
	a.Update(p.ID, func(p *Paper) error { p.Tags = nil; return nil })
	b.Update(p.ID, func(p *Paper) error { p.Tags = nil; return nil })
	b.Update(p.ID, func(p *Paper) error { p.Tags = []string{"t"}; return nil })
	oa, _ := a.PendingOps(100)
	ob, _ := b.PendingOps(100)
	a.ApplyRemote(ob)
	b.ApplyRemote(oa)
	for _, s := range []*Store{a, b} {
		got, _ := s.Get(p.ID)
		if !slices.Equal(got.Tags, []string{"t"}) {
			t.Errorf("%s: tags %v, want [t]", s.Device(), got.Tags)
		}
	}
}

// TestApplyRemoteGap: ops after a gap wait; the vector never skips.
func TestApplyRemoteGap(t *testing.T) {
	a, b := openTest(t, "deva01"), openTest(t, "devb01")
	for i := 0; i < 3; i++ {
		mustCreate(t, a, Paper{Title: fmt.Sprint(i)})
	}
	ops, _ := a.PendingOps(100)
	n, _, err := b.ApplyRemote([]Op{ops[0], ops[2]})
	if err != nil || n != 1 {
		t.Fatalf("applied %d, %v", n, err)
	}
	vv, _ := b.Vector()
	if vv["deva01"] != 1 {
		t.Fatalf("vector %v", vv)
	}
	n, _, _ = b.ApplyRemote(ops)
	if n != 2 {
		t.Fatalf("second apply %d", n)
	}
	if c, _ := b.Count(View{Kind: All}); c != 3 {
		t.Fatalf("count %d", c)
	}
	// b's own queue holds nothing from a.
	if n, _ := b.PendingCount(); n != 0 {
		t.Fatalf("remote ops queued for upload: %d", n)
	}
}

// TestRetagKeepsRecordSmall: moving a paper between two tags many times
// must not grow its record (adds and removes cancel out), or every later
// read of it slows down.
func TestRetagKeepsRecordSmall(t *testing.T) {
	s, err := Open(t.TempDir()+"/m.db", Options{Device: "d"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p, err := s.Create(Paper{Title: "T", Tags: []string{"a"}})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 500; i++ {
		to := []string{"b"}
		if i%2 == 1 {
			to = []string{"a"}
		}
		if _, err := s.Update(p.ID, func(p *Paper) error { p.Tags = to; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	s.db.View(func(tx *buntdb.Tx) error {
		r, err := getRecordForWrite(tx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		dots := 0
		for _, st := range r.Sets["tags"] {
			dots += len(st.Adds) + len(st.Removed)
		}
		if dots > 2 || len(r.Sets["tags"]) > 1 {
			t.Errorf("after 500 retags the record holds %d dots in %d tag states", dots, len(r.Sets["tags"]))
		}
		return nil
	})
	if got, _ := s.Get(p.ID); !slices.Equal(got.Tags, []string{"a"}) {
		t.Errorf("tags %v", got.Tags)
	}
}

// TestRecordStamps round-trips a record whose fields carry different
// stamps: fields stamped with the latest op are stored without a stamp of
// their own and must come back with it, the others with theirs.
func TestRecordStamps(t *testing.T) {
	h1 := HLC{Wall: 1000, Device: "aaaaaaaaaaaa"}
	h2 := HLC{Wall: 2000, Device: "bbbbbbbbbbbb"}
	r := newRecord()
	r.apply(&Op{ID: "aaaaaaaaaaaa:1", Clock: h1, Set: map[string]json.RawMessage{"title": []byte(`"One"`), "year": []byte(`1978`)}})
	r.apply(&Op{ID: "bbbbbbbbbbbb:1", Clock: h2, Set: map[string]json.RawMessage{"title": []byte(`"Two"`)}})
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), `"title":0`) || !strings.Contains(string(b), `"year":0`) {
		t.Errorf("stored stamps %s: want year listed, title left to latest", b)
	}
	var back record
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if err := back.decode(); err != nil {
		t.Fatal(err)
	}
	if back.Clocks["title"] != h2 || back.Clocks["year"] != h1 || back.Latest != h2 || len(back.Clocks) != 2 {
		t.Fatalf("stamps after a round trip %+v latest %v, want title %v year %v", back.Clocks, back.Latest, h2, h1)
	}
	// A record whose fields all carry the latest stamp stores no table.
	fresh := newRecord()
	fresh.apply(&Op{ID: "aaaaaaaaaaaa:2", Clock: h1, Set: map[string]json.RawMessage{"title": []byte(`"New"`)}})
	if b, _ := json.Marshal(fresh); strings.Contains(string(b), `"c":`) {
		t.Errorf("fresh record stores a stamp table: %s", b)
	}
}
