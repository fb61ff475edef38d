package sync

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
	"github.com/paperfs/paperfs/sync/synctest"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// running is a Run loop owned by a test.
type running struct {
	cancel context.CancelFunc
	done   chan error
}

func (d *device) run(t testing.TB) *running {
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- d.eng.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

// stop cancels Run and fails the test if it doesn't return promptly.
func (r *running) stop(t testing.TB) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.done:
		if err != nil {
			t.Errorf("Run returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("Run did not return within 5s of cancel")
	}
}

// waitFor polls cond, what another device, the server or the engine's
// own goroutine makes true, until it holds or the timeout passes.
func waitFor(t testing.TB, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 20*time.Millisecond, timeout, what, nil, cond)
}

func (d *device) has(id string, fn func(p meta.Paper) bool) func() bool {
	return func() bool {
		p, err := d.store.Get(id)
		return err == nil && fn(p)
	}
}

func pending(d *device) func() bool {
	return func() bool { n, _ := d.store.PendingCount(); return n == 0 }
}

// TestRun: edits flow both ways between running engines, and the status
// file tells another process about it.
func TestRun(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva01", srv.URI, db)
	b := newDevice(t, "devb01", srv.URI, db)
	ra := a.run(t)
	b.run(t)
	p := a.create(meta.Paper{Title: "hello"})
	waitFor(t, 10*time.Second, "b to see a's paper", b.has(p.ID, func(meta.Paper) bool { return true }))
	b.update(p.ID, func(p *meta.Paper) { p.Note = "from b" })
	waitFor(t, 10*time.Second, "a to see b's note", a.has(p.ID, func(p meta.Paper) bool { return p.Note == "from b" }))

	path := StatusPath(a.store.Path())
	waitFor(t, 5*time.Second, "a's status file", func() bool {
		st, err := ReadStatusFile(path)
		return err == nil && st.Running && st.Connected && !st.LastSync.IsZero()
	})
	ra.stop(t)
	st, err := ReadStatusFile(path)
	if err != nil || st.Running || st.Device != "deva01" {
		t.Fatalf("status after stop: %+v, %v", st, err)
	}
}

// TestStatusShowsLocalEdit: the status file says an edit is waiting to be
// sent as soon as it is made, not only after the next round: a round that
// ran before the edit left "pending 0" there, and another process (paperfs
// status, a script waiting for the upload) must not take that as sent.
func TestStatusShowsLocalEdit(t *testing.T) {
	srv := synctest.Start(t)
	a := newDevice(t, "deva10", srv.URI, dbName(t), func(c *Config) {
		// No round after the edit for the length of the test.
		c.PollInterval, c.IdlePollInterval, c.Debounce = time.Hour, time.Hour, time.Hour
	})
	a.run(t)
	<-a.eng.FirstRound()
	path := StatusPath(a.store.Path())
	waitFor(t, 5*time.Second, "the first round's status", func() bool {
		st, err := ReadStatusFile(path)
		return err == nil && st.Connected && st.Pending == 0
	})
	a.create(meta.Paper{Title: "not yet sent"})
	waitFor(t, 5*time.Second, "the status file to show the edit pending", func() bool {
		st, err := ReadStatusFile(path)
		return err == nil && st.Pending == 1
	})
}

// TestServerRestart: the server goes away in the middle of a large
// upload and comes back; the queue drains, nothing lost or duplicated.
func TestServerRestart(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	small := func(c *Config) { c.BatchSize = 200; c.MaxBackoff = time.Second }
	a := newDevice(t, "deva01", srv.URI, db, small)
	b := newDevice(t, "devb01", srv.URI, db, small)
	var ps []meta.Paper
	for i := 0; i < 3000; i++ {
		ps = append(ps, meta.Paper{Title: fmt.Sprint("p", i)})
	}
	if _, err := a.store.CreateMany(ps); err != nil {
		t.Fatal(err)
	}
	a.run(t)
	waitFor(t, 30*time.Second, "upload to start", func() bool { n, _ := a.store.PendingCount(); return n < 3000 })
	srv.Stop(t)
	// The outage itself: the server stays away a while, as a real one
	// does, for rounds to fail against it. The time is what is tested.
	time.Sleep(1500 * time.Millisecond)
	b.create(meta.Paper{Title: "made while the server was down"})
	if st := a.eng.Status(); st.Connected && st.Pending > 0 {
		// may have finished before the stop on a fast machine
		t.Logf("status while down: %+v", st)
	}
	srv.Restart(t)
	b.run(t)
	waitFor(t, 60*time.Second, "a's queue to drain", pending(a))
	waitFor(t, 60*time.Second, "b to have everything", func() bool { n, _ := b.store.Count(meta.View{Kind: meta.All}); return n == 3001 })
	waitFor(t, 30*time.Second, "a to have b's paper", func() bool { n, _ := a.store.Count(meta.View{Kind: meta.All}); return n == 3001 })
	assertNoDuplicates(t, srv, db, map[string]int{"deva01": 3000, "devb01": 1})
	assertConverged(t, a, b)
}

// TestFaults puts a fault proxy between one device and the server.
func TestFaults(t *testing.T) {
	srv := synctest.Start(t)
	proxy := synctest.Proxy(t, srv.URI)
	db := dbName(t)
	fast := func(c *Config) { c.OpTimeout = 2 * time.Second; c.MaxBackoff = time.Second }
	a := newDevice(t, "deva01", proxy.URI(), db, fast)
	b := newDevice(t, "devb01", srv.URI, db, fast)
	b.run(t)
	edit := func(title string) meta.Paper { return a.create(meta.Paper{Title: title}) }
	seen := func(t *testing.T, p meta.Paper) {
		t.Helper()
		waitFor(t, 30*time.Second, "b to see "+p.Title, b.has(p.ID, func(meta.Paper) bool { return true }))
	}

	t.Run("latency", func(t *testing.T) {
		proxy.Latency(t, 300*time.Millisecond)
		r := a.run(t)
		seen(t, edit("slow"))
		r.stop(t)
		proxy.Latency(t, 0)
	})
	t.Run("reset", func(t *testing.T) {
		proxy.Reset(t)
		r := a.run(t)
		p := edit("after reset")
		waitFor(t, 30*time.Second, "the status to show the resets", func() bool {
			st := a.eng.Status()
			return st.Pending > 0 && st.LastError != ""
		})
		proxy.Clear(t)
		seen(t, p)
		r.stop(t)
	})
	t.Run("reset replies", func(t *testing.T) {
		// The server applies the insert, the answer is lost: the retry
		// must count the duplicate as success.
		p := edit("answer lost")
		proxy.ResetReplies(t)
		r := a.run(t)
		// The server has applied the insert and a's round has failed on
		// the lost answer.
		waitFor(t, 30*time.Second, "the insert to reach the server with its answer lost", func() bool {
			n, err := srv.Client(t).Database(db).Collection(opsColl).CountDocuments(context.Background(), bson.D{{Key: "device", Value: "deva01"}})
			return err == nil && n > 0 && a.eng.Status().LastError != ""
		})
		proxy.Clear(t)
		seen(t, p)
		waitFor(t, 30*time.Second, "a's queue to drain", pending(a))
		r.stop(t)
	})
	t.Run("hang", func(t *testing.T) {
		r := a.run(t)
		waitFor(t, 10*time.Second, "a connected", func() bool { return a.eng.Status().Connected })
		proxy.Hang(t)
		p := edit("while hung")
		// Let the round that carries p run into the hung server and stay
		// there past OpTimeout: nothing reports a request in flight, and
		// time spent hung is what is tested.
		time.Sleep(3 * time.Second)
		// Shutdown must not wait for the hung server.
		start := time.Now()
		r.stop(t)
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("Run took %s to stop", d)
		}
		r = a.run(t)
		// The new run meets the hang too before it clears (time again).
		time.Sleep(time.Second)
		proxy.Clear(t)
		seen(t, p)
		r.stop(t)
	})
	t.Run("outage", func(t *testing.T) {
		r := a.run(t)
		proxy.Disable(t)
		p := edit("while down")
		// The round that notices takes up to OpTimeout (2s) to fail when
		// a request was in flight as the network went: a fixed 2s sleep
		// raced it.
		waitFor(t, 10*time.Second, "a to report the outage", func() bool {
			st := a.eng.Status()
			return !st.Connected && st.LastError != "" && st.Pending > 0
		})
		proxy.Enable(t)
		seen(t, p)
		r.stop(t)
	})
	waitFor(t, 10*time.Second, "b to converge", func() bool { return stateOf(t, a.store) == stateOf(t, b.store) })
	n, _ := a.store.Count(meta.View{Kind: meta.All})
	assertNoDuplicates(t, srv, db, map[string]int{"deva01": n})
}

// TestCredentialsNeverShown: a failing login reports the error without
// the password, in the error, the status and the status file.
func TestCredentialsNeverShown(t *testing.T) {
	srv := synctest.Start(t)
	uri := strings.Replace(srv.URI, "mongodb://", "mongodb://alice:Sup3rSecretPw@", 1) + "?authSource=admin&connectTimeoutMS=2000"
	a := newDevice(t, "deva01", uri, dbName(t), func(c *Config) { c.StatusFile = filepath.Join(t.TempDir(), "status.json") })
	a.create(meta.Paper{Title: "x"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := a.eng.Once(ctx)
	if err == nil {
		t.Skip("server accepted any credentials; nothing to check")
	}
	a.eng.writeStatusFile()
	b, _ := os.ReadFile(a.eng.cfg.StatusFile)
	st := a.eng.Status()
	for what, s := range map[string]string{"error": err.Error(), "status": fmt.Sprintf("%+v", st), "status file": string(b)} {
		if strings.Contains(s, "Sup3rSecretPw") || strings.Contains(s, "alice") {
			t.Errorf("credentials in the %s: %s", what, s)
		}
	}
	if st.LastError == "" || !strings.Contains(st.Server, "***@") {
		t.Errorf("status %+v", st)
	}
}

// TestWaitRound: WaitRound makes a running engine sync now (its poll is an
// hour away) and returns only after a round that started after the call,
// so it has the ops uploaded before the call.
func TestWaitRound(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva09", srv.URI, db)
	b := newDevice(t, "devb09", srv.URI, db, func(c *Config) { c.PollInterval, c.IdlePollInterval = time.Hour, time.Hour })
	b.run(t)
	<-b.eng.FirstRound()
	p := a.create(meta.Paper{Title: "uploaded before the wait"})
	a.sync()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := b.eng.WaitRound(ctx); err != nil {
		t.Fatalf("WaitRound: %v", err)
	}
	if _, err := b.store.Get(p.ID); err != nil {
		t.Fatalf("after WaitRound: %v", err)
	}
}

// TestScheduledCompaction: with CompactEvery set, Run compacts the
// server's op log by itself once the interval has passed since the last
// compaction (the first Run only starts the clock), and a new device then
// starts from the snapshot.
func TestScheduledCompaction(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	every := func(c *Config) { c.CompactEvery = 300 * time.Millisecond }
	a := newDevice(t, "deva01", srv.URI, db, every)
	for i := 0; i < 5; i++ {
		a.create(meta.Paper{Title: fmt.Sprintf("paper %d", i)})
	}
	ra := a.run(t)
	waitFor(t, 10*time.Second, "a's first round to start the clock", func() bool {
		v, _ := a.store.SyncState(stLastCompact)
		return v != ""
	})
	if n := countDocs(t, srv, db, "ops"); n != 5 {
		t.Fatalf("ops on the server before the interval passed: %d, want 5", n)
	}
	waitFor(t, 20*time.Second, "a scheduled compaction", func() bool {
		return countDocs(t, srv, db, "ops") == 0
	})
	ra.stop(t)
	b := newDevice(t, "devb01", srv.URI, db)
	b.sync()
	if n, _ := b.store.Count(meta.View{Kind: meta.All}); n != 5 {
		t.Fatalf("a new device after compaction has %d papers, want 5", n)
	}
}

// TestCompactDue: the server's log is due for compaction once it holds at
// least CompactAfterOps ops past every advertised floor and at least as
// many as the library has papers; a compaction by any device makes it not
// due on every device that has read the new floor.
func TestCompactDue(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	after := func(c *Config) { c.CompactAfterOps = 8 }
	a := newDevice(t, "deva11", srv.URI, db, after)
	b := newDevice(t, "devb11", srv.URI, db, after)
	check := func(d *device, wantDue bool, wantOps int, when string) {
		t.Helper()
		due, n, err := d.eng.CompactDue()
		if err != nil || due != wantDue || n != wantOps {
			t.Fatalf("%s, %s: CompactDue = %v, %d ops, %v; want %v, %d", d.name, when, due, n, err, wantDue, wantOps)
		}
	}
	var ids []string
	// grow adds papers to a's library, then edits the first of them, and
	// syncs a: one op each.
	grow := func(papers, edits int) {
		for range papers {
			ids = append(ids, a.create(meta.Paper{Title: fmt.Sprintf("paper %d", len(ids))}).ID)
		}
		for _, id := range ids[:edits] {
			a.update(id, func(p *meta.Paper) { p.Note += "read " })
		}
		a.sync()
	}
	check(a, false, 0, "before a round read the floors")
	grow(6, 0)
	check(a, false, 6, "6 ops, 6 papers, at least 8 wanted")
	grow(0, 2)
	check(a, true, 8, "8 ops")
	b.sync()
	check(b, true, 8, "8 ops replayed")
	a.compact()
	b.sync()
	check(b, false, 0, "after a's compaction")
	a.sync()
	check(a, false, 0, "after its compaction")

	// The bar rises with the library: 20 papers want 20 ops.
	grow(14, 0)
	check(a, false, 14, "14 ops, 20 papers")
	grow(0, 6)
	check(a, true, 20, "20 ops, 20 papers")
}

// TestCompactionBySize: a running engine compacts by itself once the log
// outgrows the library, on the store's first day (the weekly schedule
// waits a week), then not again until it has grown again; a new device
// starts from the snapshot.
func TestCompactionBySize(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	a := newDevice(t, "deva12", srv.URI, db, func(c *Config) {
		c.CompactAfterOps, c.CompactEvery = 5, 7*24*time.Hour
	})
	for i := range 5 {
		a.create(meta.Paper{Title: fmt.Sprintf("paper %d", i)})
	}
	a.run(t)
	waitFor(t, 20*time.Second, "a compaction by size", func() bool {
		return countDocs(t, srv, db, "snapshots") == 1 && countDocs(t, srv, db, "ops") == 0
	})
	a.create(meta.Paper{Title: "after the compaction"})
	waitFor(t, 10*time.Second, "the new paper's upload", func() bool { return countDocs(t, srv, db, "ops") == 1 })
	for range 3 {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		err := a.eng.WaitRound(ctx)
		cancel()
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := countDocs(t, srv, db, "ops"); n != 1 {
		t.Fatalf("ops on the server after quiet rounds with a log of 1: %d, want 1 (no second compaction)", n)
	}
	c := newDevice(t, "devc12", srv.URI, db)
	c.sync()
	if n, _ := c.store.Count(meta.View{Kind: meta.All}); n != 6 {
		t.Fatalf("a new device has %d papers, want 6", n)
	}
}
