package sync

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// TestConcurrentOffline: three devices share a paper, go offline, edit it
// concurrently, then sync in turn. All converge; the merge follows the
// documented rules; the conflicts are reported.
func TestConcurrentOffline(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva01", srv.URI, db)
	b := newDevice(t, "devb01", srv.URI, db)
	c := newDevice(t, "devc01", srv.URI, db)
	p := a.create(meta.Paper{Title: "Base", Year: 2000, Tags: []string{"keep", "drop"}})
	q := a.create(meta.Paper{Title: "To delete"})
	a.sync()
	b.sync()
	c.sync()
	assertConverged(t, a, b, c)

	// Offline: same field on a and b (b later, so b wins), different
	// fields on a and c, tag add on a vs remove on b, delete on c vs edit
	// on a.
	a.update(p.ID, func(p *meta.Paper) { p.Title = "Title from A"; p.Tags = append(p.Tags, "new") })
	time.Sleep(5 * time.Millisecond) // b's edit is the later one by the clock: what is tested
	b.update(p.ID, func(p *meta.Paper) {
		p.Title = "Title from B"
		p.Tags = slices.DeleteFunc(p.Tags, func(s string) bool { return s == "drop" || s == "new" })
	})
	c.update(p.ID, func(p *meta.Paper) { p.Venue = "Venue from C" })
	a.update(p.ID, func(p *meta.Paper) { p.Year = 2001 })
	now := time.Now().UTC().Truncate(time.Millisecond)
	c.update(q.ID, func(p *meta.Paper) { p.Trashed = &now })
	a.update(q.ID, func(p *meta.Paper) { p.Note = "edited while deleted elsewhere" })

	ra := a.sync()
	rb := b.sync()
	rc := c.sync()
	a.sync()
	b.sync()
	assertConverged(t, a, b, c)

	got := a.get(p.ID)
	if got.Title != "Title from B" || got.Venue != "Venue from C" || got.Year != 2001 {
		t.Fatalf("merged scalar fields wrong: %+v", got)
	}
	// "new" was added on a concurrently with b's remove of what b saw (not
	// "new"): it stays. "drop" was removed on b: gone.
	if !slices.Equal(got.Tags, []string{"keep", "new"}) {
		t.Fatalf("tags %v, want [keep new]", got.Tags)
	}
	gq := a.get(q.ID)
	if gq.Trashed == nil || gq.Note != "edited while deleted elsewhere" {
		t.Fatalf("delete vs edit: %+v (want trashed with the edit kept)", gq)
	}

	// b synced after a with its own title edit still queued: b reports
	// the title conflict (b's value won).
	var titleConflict bool
	for _, cf := range append(append(ra.Conflicts, rb.Conflicts...), rc.Conflicts...) {
		if cf.Paper == p.ID && cf.Field == "title" {
			titleConflict = true
		}
	}
	if !titleConflict {
		t.Fatalf("no title conflict reported: a %+v b %+v c %+v", ra.Conflicts, rb.Conflicts, rc.Conflicts)
	}
	if st := b.eng.Status(); len(st.Conflicts) == 0 {
		t.Fatalf("b's status has no conflicts")
	}
}

// TestLongOffline: a device queues thousands of ops offline, then drains
// them in batches; another device receives all of them.
func TestLongOffline(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	small := func(c *Config) { c.BatchSize = 300 }
	a := newDevice(t, "deva01", srv.URI, db, small)
	b := newDevice(t, "devb01", srv.URI, db, small)
	var ids []string
	for i := 0; i < 200; i++ {
		ids = append(ids, a.create(meta.Paper{Title: fmt.Sprint("paper ", i)}).ID)
	}
	for i := 0; i < 3000; i++ {
		a.update(ids[i%len(ids)], func(p *meta.Paper) { p.Rating = i % 6; p.Note = fmt.Sprint("edit ", i) })
	}
	n, _ := a.store.PendingCount()
	if n != 3200 {
		t.Fatalf("pending %d", n)
	}
	sent := 0
	for i := 0; i < 10 && sent < n; i++ {
		sent += a.sync().Sent
	}
	if sent != n {
		t.Fatalf("sent %d of %d", sent, n)
	}
	var done, total int
	b.eng.cfg.Progress = func(d, tot int) { done, total = d, tot }
	if rep := b.sync(); rep.Received != n {
		t.Fatalf("b received %d of %d", rep.Received, n)
	}
	if done != n || total != n {
		t.Fatalf("progress %d/%d, want %d/%d", done, total, n, n)
	}
	assertConverged(t, a, b)
}
