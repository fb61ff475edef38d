package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

func subscribe(sub Subscription) func(*Config) {
	return func(c *Config) { c.Subscription = sub }
}

// resubscribe gives d a new engine, on the same store, with subscription
// sub: what `paperfs subscribe` and the next mount or sync do.
func (d *device) resubscribe(sub Subscription, mod ...func(*Config)) {
	d.t.Helper()
	cfg := d.eng.cfg
	cfg.Subscription = sub
	cfg.StatusFile = "-"
	for _, m := range mod {
		m(&cfg)
	}
	d.eng.Close()
	e, err := New(d.store, cfg)
	if err != nil {
		d.t.Fatal(err)
	}
	d.t.Cleanup(func() { e.Close() })
	d.eng = e
}

// exported is a store's exported snapshot as comparable JSON: its vector
// without the device's own entry when it issued nothing (a fresh
// device's), and its records (canonical).
func exported(t testing.TB, s *meta.Store) (string, string) {
	t.Helper()
	vv, recs, err := s.ExportSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	if vv[s.Device()] == 0 {
		delete(vv, s.Device())
	}
	v, _ := json.Marshal(vv)
	return string(v), canonical(recs, vv, nil)
}

// canonical prints the records keep accepts (nil: all) without the
// removes of adds the vector covers. Those are dead: a remove whose add
// another remove already took out stays in the record that applied both
// (meta applies it as if its add were still to come), while a store that
// merged the same state from a snapshot drops it. Nothing shows it.
func canonical(recs []meta.SnapshotRecord, vv map[string]uint64, keep func(id string) bool) string {
	out := []meta.SnapshotRecord{}
	for _, r := range recs {
		if keep != nil && !keep(r.ID) {
			continue
		}
		for f, elems := range r.Sets {
			for e, el := range elems {
				el.Removed = slices.DeleteFunc(slices.Clone(el.Removed), func(d string) bool {
					i := strings.LastIndexByte(d, ':')
					n, err := strconv.ParseUint(d[i+1:], 10, 64)
					return i > 0 && err == nil && n <= vv[d[:i]]
				})
				if len(el.Adds) == 0 && len(el.Removed) == 0 {
					delete(elems, e)
				} else {
					elems[e] = el
				}
			}
			if len(elems) == 0 {
				delete(r.Sets, f)
			}
		}
		if len(r.Sets) == 0 {
			r.Sets = nil
		}
		out = append(out, r)
	}
	b, _ := json.MarshalIndent(out, "", " ")
	return string(b)
}

// subsetOf is a whole library's exported records filtered to sub.
func subsetOf(t testing.TB, full *meta.Store, sub Subscription) string {
	t.Helper()
	vv, recs, err := full.ExportSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	return canonical(recs, vv, func(id string) bool {
		p, err := full.Get(id)
		if err != nil {
			t.Fatal(err)
		}
		return sub.Matches(&p)
	})
}

// assertSame fails unless a and b hold the same exported state.
func assertSame(t testing.TB, a, b *device) {
	t.Helper()
	av, ar := exported(t, a.store)
	bv, br := exported(t, b.store)
	if av != bv {
		t.Fatalf("%s and %s have different vectors:\n%s\n%s", a.name, b.name, av, bv)
	}
	if ar != br {
		t.Fatalf("%s and %s hold different records:\n%s", a.name, b.name, stateDiff(ar, br))
	}
}

func heldIDs(t testing.TB, s *meta.Store) []string {
	t.Helper()
	ids, err := s.HeldIDs()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// TestSubscriberHoldsSubset: a subscriber downloads exactly the papers of
// its tags and folders, with their full state, and shows only them.
func TestSubscriberHoldsSubset(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "devaaa", srv.URI, db)
	for i := range 12 {
		p := meta.Paper{Title: fmt.Sprintf("paper %d", i)}
		switch i % 4 {
		case 0:
			p.Tags = []string{"ml"}
		case 1:
			p.Folders = []string{"reading"}
		case 2:
			p.Tags = []string{"other"}
		}
		p = a.create(p)
		a.update(p.ID, func(p *meta.Paper) { p.Year = 2000 + i })
	}
	a.sync()
	sub := Subscription{Tags: []string{"ml"}, Folders: []string{"reading"}}
	s := newDevice(t, "devsss", srv.URI, db, subscribe(sub))
	rep := s.sync()
	if n, _ := s.store.Count(meta.View{Kind: meta.All}); n != 6 {
		t.Fatalf("subscriber shows %d papers, want 6", n)
	}
	if _, got := exported(t, s.store); got != subsetOf(t, a.store, sub) {
		t.Fatalf("subscriber's records differ from the subset:\n%s", stateDiff(got, subsetOf(t, a.store, sub)))
	}
	av, _ := exported(t, a.store)
	if sv, _ := exported(t, s.store); sv != av {
		t.Fatalf("subscriber's vector %s, want %s", sv, av)
	}
	if rep.Received == 0 {
		t.Fatal("report says nothing received")
	}
	// A fresh subscriber with the same subscription holds the same.
	f := newDevice(t, "devfff", srv.URI, db, subscribe(sub))
	f.sync()
	assertSame(t, s, f)
	// A subscriber cannot take snapshots: it would miss the others.
	if _, err := s.eng.Snapshot(t.Context()); err == nil || !strings.Contains(err.Error(), "part of the library") {
		t.Fatalf("snapshot on a subscriber: %v", err)
	}
}

// TestSubscriptionRetag: a paper retagged into the subscription on
// another device arrives with its whole history; one retagged out of it
// leaves after this device's edit to it is sent; nothing is lost.
func TestSubscriptionRetag(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "devaaa", srv.URI, db)
	sub := Subscription{Tags: []string{"ml"}}
	s := newDevice(t, "devsss", srv.URI, db, subscribe(sub))
	p := a.create(meta.Paper{Title: "outside"})
	a.update(p.ID, func(p *meta.Paper) { p.Year = 1999; p.Note = "history" })
	a.update(p.ID, func(p *meta.Paper) { p.Tags = []string{"x"} })
	q := a.create(meta.Paper{Title: "inside", Tags: []string{"ml"}})
	a.sync()
	s.sync()
	if got := heldIDs(t, s.store); !slices.Equal(got, []string{q.ID}) {
		t.Fatalf("subscriber holds %v, want [%s]", got, q.ID)
	}

	// In: the paper comes with everything done to it before.
	a.update(p.ID, func(p *meta.Paper) { p.Tags = append(p.Tags, "ml") })
	a.sync()
	s.sync()
	got := s.get(p.ID)
	if got.Year != 1999 || got.Note != "history" || !slices.Equal(got.Tags, []string{"ml", "x"}) {
		t.Fatalf("paper entered without its history: %+v", got)
	}
	if _, rec := exported(t, s.store); rec != subsetOf(t, a.store, sub) {
		t.Fatalf("after retag in:\n%s", stateDiff(rec, subsetOf(t, a.store, sub)))
	}

	// Out: a local edit made while another device untags the paper is
	// sent first, then the paper goes.
	s.update(q.ID, func(p *meta.Paper) { p.Note = "edited on the subscriber" })
	a.update(q.ID, func(p *meta.Paper) { p.Tags = nil })
	a.sync()
	s.sync()
	if _, err := s.store.Get(q.ID); err == nil {
		t.Fatal("paper that left the subscription is still held")
	}
	if n, _ := s.store.PendingCount(); n != 0 {
		t.Fatalf("%d local changes not sent", n)
	}
	a.sync()
	if got := a.get(q.ID); got.Note != "edited on the subscriber" {
		t.Fatalf("subscriber's edit lost: %+v", got)
	}
	// A local untag: the paper stays until its op is sent.
	s.update(p.ID, func(p *meta.Paper) { p.Tags = []string{"x"} })
	if _, err := s.store.Get(p.ID); err != nil {
		t.Fatal("paper untagged locally went before its change was sent")
	}
	s.sync()
	if ids := heldIDs(t, s.store); len(ids) != 0 {
		t.Fatalf("subscriber still holds %v", ids)
	}
	a.sync()
	if got := a.get(p.ID); !slices.Equal(got.Tags, []string{"x"}) {
		t.Fatalf("subscriber's untag lost: %+v", got.Tags)
	}
	f := newDevice(t, "devfff", srv.URI, db, subscribe(sub))
	f.sync()
	assertSame(t, s, f)
}

// TestSubscriptionChange: changing the subscription, to another one and
// to the whole library, converges to what a fresh device with the new one
// holds, also over compacted history (snapshots read entry by entry, and
// an older snapshot without entries read whole).
func TestSubscriptionChange(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "devaaa", srv.URI, db)
	mk := func(n int) {
		for i := range n {
			p := a.create(meta.Paper{Title: fmt.Sprintf("p%d", i), Tags: []string{[]string{"ml", "db", "os"}[i%3]},
				Folders: []string{[]string{"f1", "f2"}[i%2]}})
			a.update(p.ID, func(p *meta.Paper) { p.Note = "n" })
		}
		a.sync()
	}
	mk(9)
	// Compacted before any subscriber existed: a snapshot without entries.
	a.compact()
	if n := countDocs(t, srv, db, entriesColl); n != 0 {
		t.Fatalf("%d snapshot entries written with no subscriber", n)
	}
	ml := Subscription{Tags: []string{"ml"}}
	s := newDevice(t, "devsss", srv.URI, db, subscribe(ml))
	s.sync()
	mk(6)
	a.sync() // reads s's subscription
	a.compact()
	if n := countDocs(t, srv, db, entriesColl); n == 0 {
		t.Fatal("no snapshot entries written with a subscriber")
	}
	s.update(heldIDs(t, s.store)[0], func(p *meta.Paper) { p.Rating = 3 })
	s.sync()
	a.sync()
	for _, sub := range []Subscription{{Folders: []string{"f2"}}, {Tags: []string{"db"}, Folders: []string{"f1"}}, {}, ml} {
		t.Run(sub.String(), func(t *testing.T) {
			s.resubscribe(sub)
			s.sync()
			s.sync()
			f := newDevice(t, fmt.Sprintf("fresh%d%d", len(sub.Tags), len(sub.Folders)), srv.URI, db, subscribe(sub))
			f.sync()
			assertSame(t, s, f)
			if _, rec := exported(t, s.store); rec != subsetOf(t, a.store, sub) {
				t.Fatalf("holds other than the subset:\n%s", stateDiff(rec, subsetOf(t, a.store, sub)))
			}
		})
	}
}

// TestSubscriptionRandomized: full devices edit, retag and compact at
// random while a subscriber edits what it holds and changes its
// subscription with edits in flight. At the end the subscriber holds
// exactly what a fresh device with its subscription holds, and the full
// devices agree with a fresh full device (nothing the subscriber sent is
// lost). Seeds 1 to 3, or to $PAPERFS_RANDOM_SEEDS.
func TestSubscriptionRandomized(t *testing.T) {
	srv := synctest.Start(t)
	seeds := uint64(3)
	if n, err := strconv.ParseUint(os.Getenv("PAPERFS_RANDOM_SEEDS"), 10, 64); err == nil && n > 0 {
		seeds = n
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			subsetRandomRun(t, srv, seed, 120)
		})
	}
}

func subsetRandomRun(t *testing.T, srv *synctest.Server, seed uint64, steps int) {
	rng := rand.New(rand.NewPCG(seed, 18))
	db := dbName(t)
	small := func(c *Config) { c.BatchSize = 5 }
	words := []string{"alpha", "beta", "gamma", "delta"}
	subs := []Subscription{{Tags: []string{"alpha"}}, {Tags: []string{"beta", "gamma"}}, {Folders: []string{"delta"}},
		{Tags: []string{"delta"}, Folders: []string{"alpha"}}, {}}
	sub := subs[0]
	full := []*device{newDevice(t, "devfull1", srv.URI, db, small), newDevice(t, "devfull2", srv.URI, db, small)}
	s := newDevice(t, "devsubsc", srv.URI, db, small, subscribe(sub))
	all := append(slices.Clone(full), s)
	changes, compactions := 0, 0
	arch := opArchive{}
	for step := range steps {
		d := all[rng.IntN(len(all))]
		var ids []string
		d.store.ForEach(func(p meta.Paper) bool { ids = append(ids, p.ID); return true })
		if len(ids) == 0 || rng.IntN(5) == 0 {
			d.create(meta.Paper{Title: fmt.Sprintf("%s %d", d.name, step), Tags: []string{words[rng.IntN(4)]}})
		} else {
			id := ids[rng.IntN(len(ids))]
			d.update(id, func(p *meta.Paper) {
				switch rng.IntN(6) {
				case 0:
					p.Title = fmt.Sprintf("title %d by %s", step, d.name)
				case 1:
					p.Tags = append(p.Tags, words[rng.IntN(4)])
				case 2:
					if len(p.Tags) > 0 {
						p.Tags = slices.Delete(p.Tags, 0, 1)
					}
				case 3:
					p.Folders = []string{words[rng.IntN(4)]}
				case 4:
					p.Folders = nil
				case 5:
					p.Note = fmt.Sprintf("note %d", step)
				}
			})
		}
		switch r := rng.IntN(30); {
		case r == 0:
			// The subscription changes with the subscriber's edits
			// still queued.
			sub = subs[rng.IntN(len(subs))]
			s.resubscribe(sub, small)
			changes++
		case r == 1:
			f := full[rng.IntN(len(full))]
			f.sync()
			arch.add(t, srv, db) // what the compaction deletes
			f.compact()
			compactions++
		case r < 12:
			all[rng.IntN(len(all))].sync()
		}
	}
	for range 3 {
		for _, i := range rng.Perm(len(all)) {
			all[i].sync()
		}
	}
	s.sync()
	fresh := newDevice(t, "freshs", srv.URI, db, small, subscribe(sub))
	fresh.sync()
	assertSame(t, s, fresh)
	freshFull := newDevice(t, "freshf", srv.URI, db, small)
	freshFull.sync()
	assertConverged(t, full[0], full[1], freshFull)
	// Nothing lost: every op ever uploaded, the subscriber's included,
	// makes the library the full devices hold.
	arch.add(t, srv, db)
	vv, _ := s.store.Vector()
	for seq := uint64(1); seq <= vv[s.name]; seq++ {
		if _, ok := arch[meta.OpID(s.name, seq)]; !ok {
			t.Fatalf("the subscriber's change %d never reached the server", seq)
		}
	}
	ref := arch.reference(t)
	if got, want := stateOf(t, full[0].store), stateOf(t, ref); got != want {
		t.Fatalf("the library differs from every op uploaded:\n%s", stateDiff(got, want))
	}
	if _, rec := exported(t, s.store); rec != subsetOf(t, full[0].store, sub) {
		t.Fatalf("subscriber holds other than the subset of the library:\n%s", stateDiff(rec, subsetOf(t, full[0].store, sub)))
	}
	n, _ := full[0].store.Count(meta.View{Kind: meta.All})
	t.Logf("%d papers, subscriber holds %d (%s), %d subscription changes, %d compactions: converged",
		n, len(heldIDs(t, s.store)), sub, changes, compactions)
}

// TestSubscriberRunning: with both engines running (two mounts), a paper
// retagged into the subscription appears on the subscriber, and one
// retagged out of it while the subscriber edits it disappears there (the
// views are told, as for a deleted paper) once the edit has reached the
// other device.
func TestSubscriberRunning(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "devrun1", srv.URI, db)
	s := newDevice(t, "devrun2", srv.URI, db, subscribe(Subscription{Folders: []string{"lab"}}))
	feed := s.store.Subscribe()
	defer feed.Close()
	a.run(t)
	s.run(t)
	p := a.create(meta.Paper{Title: "elsewhere"})
	a.update(p.ID, func(p *meta.Paper) { p.Note = "before it was shared" })
	waitFor(t, 10*time.Second, "a's paper uploaded", pending(a))
	a.update(p.ID, func(p *meta.Paper) { p.Folders = []string{"lab"} })
	waitFor(t, 10*time.Second, "the paper to enter the subscription with its history",
		s.has(p.ID, func(p meta.Paper) bool { return p.Note == "before it was shared" }))
	s.update(p.ID, func(p *meta.Paper) { p.Rating = 4 })
	a.update(p.ID, func(p *meta.Paper) { p.Folders = nil })
	waitFor(t, 10*time.Second, "the subscriber's edit to reach a", a.has(p.ID, func(p meta.Paper) bool { return p.Rating == 4 }))
	waitFor(t, 10*time.Second, "the paper to leave the subscriber", func() bool { _, err := s.store.Get(p.ID); return err != nil })
	for {
		select {
		case ch := <-feed.C:
			if ch.ID == p.ID && ch.After == nil {
				return
			}
		case <-time.After(5 * time.Second):
			t.Fatal("the views were not told the paper left")
		}
	}
}

// TestOutside: a subscriber tells the scan of the shared PDF folder which
// PDFs are other papers' (by their readable documents), remembers them,
// and offline takes every unknown PDF for someone else's.
func TestOutside(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "devout1", srv.URI, db)
	a.create(meta.Paper{Title: "in", Tags: []string{"ml"}, File: meta.File{Path: "x/a.pdf", Size: 1}})
	a.create(meta.Paper{Title: "out", File: meta.File{Path: "x/b.pdf", Size: 2}})
	a.sync()
	if got := a.eng.Outside(t.Context(), []string{"x/b.pdf"}); got != nil {
		t.Fatalf("a whole-library device has outside PDFs: %v", got)
	}
	s := newDevice(t, "devout2", srv.URI, db, subscribe(Subscription{Tags: []string{"ml"}}))
	s.sync()
	got := s.eng.Outside(t.Context(), []string{"x/b.pdf", "x/new.pdf"})
	if !maps.Equal(got, map[string]bool{"x/b.pdf": true}) {
		t.Fatalf("outside: %v", got)
	}
	offline, cancel := context.WithCancel(t.Context())
	cancel()
	got = s.eng.Outside(offline, []string{"x/b.pdf", "x/new.pdf"})
	if !maps.Equal(got, map[string]bool{"x/b.pdf": true, "x/new.pdf": true}) {
		t.Fatalf("offline: %v", got)
	}
	// Remembered: known without the server.
	if v, _ := s.store.SyncState(stOutside); v != `["x/b.pdf"]` {
		t.Fatalf("remembered %s", v)
	}
	// Compacted: the readable documents still say whose a PDF is.
	a.create(meta.Paper{Title: "compacted", File: meta.File{Path: "x/c.pdf", Size: 3}})
	a.sync()
	a.compact()
	if n := countDocs(t, srv, db, opsColl); n != 0 {
		t.Fatalf("%d ops left after the compaction", n)
	}
	s.sync()
	if got := s.eng.Outside(t.Context(), []string{"x/c.pdf", "x/b.pdf"}); !maps.Equal(got, map[string]bool{"x/b.pdf": true, "x/c.pdf": true}) {
		t.Fatalf("after the compaction: %v", got)
	}
}

// TestReadOnlySubscriber: a member who may only read subscribes to a tag:
// it holds only those papers, lets go of one untagged elsewhere (it never
// writes the readable documents, so none is due from it), and keeps one
// it edited (its edit can never be sent) rather than lose the edit.
func TestReadOnlySubscriber(t *testing.T) {
	l := newLab(t, "writer", "reader")
	wall := synctest.RoleWall(t, l.srv, "writer=readWrite@"+l.db, "reader=read@"+l.db)
	w := newDevice(t, "devw02", wall.UserURI("writer", "writer-pw", "admin"), l.db)
	r := newDevice(t, "devr02", wall.UserURI("reader", "reader-pw", "admin"), l.db, subscribe(Subscription{Tags: []string{"ml"}}))
	p := w.create(meta.Paper{Title: "p", Tags: []string{"ml"}})
	q := w.create(meta.Paper{Title: "q", Tags: []string{"ml"}})
	w.create(meta.Paper{Title: "other"})
	w.sync()
	r.sync()
	if got := heldIDs(t, r.store); len(got) != 2 {
		t.Fatalf("reader holds %v", got)
	}
	r.update(q.ID, func(p *meta.Paper) { p.Note = "the reader's note" })
	for _, id := range []string{p.ID, q.ID} {
		w.update(id, func(p *meta.Paper) { p.Tags = nil })
	}
	w.sync()
	r.sync()
	if _, err := r.store.Get(p.ID); err == nil {
		t.Fatal("the paper untagged elsewhere is still held")
	}
	if got := r.get(q.ID); got.Note != "the reader's note" {
		t.Fatalf("the reader's unsent edit was lost: %+v", got)
	}
	if refused, _ := wall.Stats(t); refused != 0 {
		t.Fatalf("the reader tried %d writes", refused)
	}
}
