package sync

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// skewedDevice is a device whose wall clock (store and engine) runs skew
// off the real one, as a machine with a wrong clock would.
func skewedDevice(t *testing.T, name, uri, db string, skew time.Duration, mod ...func(*Config)) *device {
	return skewedDeviceFn(t, name, uri, db, func() time.Time { return time.Now().Add(skew) }, mod...)
}

func skewedDeviceFn(t *testing.T, name, uri, db string, now func() time.Time, mod ...func(*Config)) *device {
	t.Helper()
	return newDevice(t, name, uri, db, append([]func(*Config){func(c *Config) {
		c.Now, c.DeviceName, c.StatusFile = now, "name-"+name, "-"
	}}, mod...)...)
}

// TestClockSkew: a device two hours ahead is measured against the
// server's clock and warned about; its concurrent edit wins, and both
// devices report the conflict, naming each other and saying clock skew
// decided it; the normal device's clock is not dragged ahead.
func TestClockSkew(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	fast := skewedDevice(t, "devfast", srv.URI, db, 2*time.Hour)
	// later moves the normal device's clock on without a sleep, as if it
	// edited that much later than the fast device.
	var later atomic.Int64
	norm := skewedDeviceFn(t, "devnorm", srv.URI, db, func() time.Time { return time.Now().Add(time.Duration(later.Load())) })
	p := norm.create(meta.Paper{Title: "Base"})
	norm.sync()
	fast.sync()

	st := fast.eng.Status()
	if d := st.ClockOffset - 2*time.Hour; st.ClockMeasured.IsZero() || d < -time.Second || d > time.Second {
		t.Fatalf("fast device's measured offset %s (measured %v), want about 2h", st.ClockOffset, st.ClockMeasured)
	}
	if !strings.Contains(st.ClockWarning, "clock") {
		t.Errorf("no clock warning for a device 2h ahead: %+v", st)
	}
	if st := norm.eng.Status(); st.ClockMeasured.IsZero() || st.ClockOffset > time.Second || st.ClockOffset < -time.Second || st.ClockWarning != "" {
		t.Errorf("normal device's clock: offset %s, warning %q", st.ClockOffset, st.ClockWarning)
	}

	// The fast device edits first in real time; its stamp wins anyway.
	fast.update(p.ID, func(p *meta.Paper) { p.Title = "Earlier, from the fast device" })
	later.Store(int64(3 * time.Second)) // after the clock was measured
	norm.update(p.ID, func(p *meta.Paper) { p.Title = "Later, from the normal device" })
	fast.sync()
	rn := norm.sync()
	rf := fast.sync()
	assertConverged(t, fast, norm)
	for _, c := range []struct {
		d    *device
		rep  Report
		wins bool
		peer string
	}{{norm, rn, true, "name-devfast"}, {fast, rf, false, "name-devnorm"}} {
		if len(c.rep.Conflicts) != 1 {
			t.Fatalf("%s: conflicts %+v, want one", c.d.name, c.rep.Conflicts)
		}
		cf := c.rep.Conflicts[0]
		if cf.Field != "title" || cf.RemoteWins != c.wins || cf.RemoteName != c.peer || !cf.SkewDecided {
			t.Errorf("%s: conflict %+v, want title, remote wins %v, from %s, decided by skew", c.d.name, cf, c.wins, c.peer)
		}
	}

	// Having applied the fast device's ops, the normal device's clock
	// stays on its own time.
	before := time.Now().Add(3 * time.Second)
	q := norm.create(meta.Paper{Title: "Made after"})
	if q.Modified.After(before.Add(meta.MaxClockAhead)) {
		t.Errorf("normal device's clock dragged ahead: modified %s at %s", q.Modified, before)
	}
}

// TestStatusLastRound: Status reports what the last round did, and a
// round waiting on a server that stopped answering makes the device
// disconnected before the driver gives up.
func TestStatusLastRound(t *testing.T) {
	srv := synctest.Start(t)
	px := synctest.Proxy(t, srv.URI)
	d := newDevice(t, "devstat", px.URI(), dbName(t), func(c *Config) { c.StatusFile = "-"; c.OpTimeout = 30 * time.Second })
	d.create(meta.Paper{Title: "One"})
	d.sync()
	st := d.eng.Status()
	if st.LastRound == nil || st.LastRound.Sent != 1 || st.LastRound.Error != "" || !st.Connected {
		t.Fatalf("after a round that sent one change: %+v %+v", st, st.LastRound)
	}
	d.eng.mu.Lock()
	d.eng.mu.running = true // as under Run
	d.eng.mu.Unlock()
	px.Hang(t)
	d.create(meta.Paper{Title: "Two"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := d.eng.Once(ctx); done <- err }()
	for {
		st = d.eng.Status()
		if st.Waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("the round ended (%v) though the server does not answer", err)
		case <-time.After(100 * time.Millisecond):
		}
	}
	if st.Connected {
		t.Errorf("status says connected while the round has waited %s", st.Waiting)
	}
	cancel()
	if err := <-done; err == nil {
		t.Fatal("a cancelled round succeeded")
	}
	if st = d.eng.Status(); st.LastRound == nil || st.LastRound.Error == "" || st.Connected {
		t.Errorf("after the failed round: %+v %+v", st, st.LastRound)
	}
}

// TestMergedDuplicateOnServer: the readable document of a paper merged
// into another says so.
func TestMergedDuplicateOnServer(t *testing.T) {
	srv := synctest.Start(t)
	db := dbName(t)
	d := newDevice(t, "devdup", srv.URI, db)
	k := d.create(meta.Paper{Title: "Keeper"})
	l := d.create(meta.Paper{Title: "Loser"})
	d.sync()
	if err := d.store.Merge(k.ID, l.ID, nil); err != nil {
		t.Fatal(err)
	}
	d.sync()
	var doc bson.M
	if err := srv.Client(t).Database(db).Collection(papersColl).FindOne(context.Background(), bson.D{{Key: "_id", Value: l.ID}}).Decode(&doc); err != nil {
		t.Fatal(err)
	}
	if doc["merged_into"] != k.ID {
		t.Errorf("the merged paper's document: %v", doc)
	}
}
