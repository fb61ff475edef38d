package sync

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// device is one simulated device: its own store and engine.
type device struct {
	t     testing.TB
	name  string
	store *meta.Store
	eng   *Engine
}

// newDevice makes a device; a Config.Now set by mod is the store's clock
// too.
func newDevice(t testing.TB, name, uri, db string, mod ...func(*Config)) *device {
	t.Helper()
	cfg := Config{URI: uri, Database: db, PollInterval: 50 * time.Millisecond, Debounce: 10 * time.Millisecond,
		OpTimeout: 5 * time.Second, MaxBackoff: 2 * time.Second}
	for _, m := range mod {
		m(&cfg)
	}
	s, err := meta.Open(filepath.Join(t.TempDir(), "meta.db"), meta.Options{Device: name, NoSync: true, Now: cfg.Now})
	if err != nil {
		t.Fatal(err)
	}
	e, err := New(s, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		e.Close()
		s.Close()
	})
	return &device{t: t, name: name, store: s, eng: e}
}

func (d *device) sync() Report {
	d.t.Helper()
	return within(d, "sync", d.eng.Once)
}

// within runs one of the engine's calls with a minute to finish, failing
// the test with the device's name if it does not succeed.
func within[T any](d *device, what string, call func(context.Context) (T, error)) T {
	d.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v, err := call(ctx)
	if err != nil {
		d.t.Fatalf("%s: %s: %v", d.name, what, err)
	}
	return v
}

func (d *device) create(p meta.Paper) meta.Paper {
	d.t.Helper()
	p, err := d.store.Create(p)
	if err != nil {
		d.t.Fatal(err)
	}
	return p
}

func (d *device) update(id string, fn func(p *meta.Paper)) meta.Paper {
	d.t.Helper()
	p, err := d.store.Update(id, func(p *meta.Paper) error { fn(p); return nil })
	if err != nil {
		d.t.Fatal(err)
	}
	return p
}

func (d *device) get(id string) meta.Paper {
	d.t.Helper()
	p, err := d.store.Get(id)
	if err != nil {
		d.t.Fatalf("%s: get %s: %v", d.name, id, err)
	}
	return p
}

// stateOf is a store's papers as comparable JSON, without device-local
// fields.
//
// Modified is left out too: meta moves a record's Latest stamp only when
// an op changes something, so a redundant op (a remove of an add another
// remove already took out) stamps the paper on one device and not on
// another, depending on arrival order. Reported to meta's owner; every
// synced field converges.
func stateOf(t testing.TB, s *meta.Store) string {
	t.Helper()
	var ps []meta.Paper
	s.ForEach(func(p meta.Paper) bool {
		p.Missing = false
		p.Modified = time.Time{}
		ps = append(ps, p)
		return true
	})
	b, err := json.Marshal(ps)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func assertConverged(t testing.TB, ds ...*device) {
	t.Helper()
	want := stateOf(t, ds[0].store)
	for _, d := range ds[1:] {
		if got := stateOf(t, d.store); got != want {
			t.Fatalf("%s and %s diverged:\n%s\n%s", ds[0].name, d.name, want, got)
		}
	}
}

var dbSeq int

// dbName gives each test its own database on a shared server.
func dbName(t testing.TB) string {
	dbSeq++
	return fmt.Sprintf("t%d_%d", time.Now().UnixNano()%1e6, dbSeq)
}

// assertNoDuplicates checks the ops collection holds exactly seqs 1..n
// for each device, once each.
func assertNoDuplicates(t testing.TB, srv *synctest.Server, db string, want map[string]int) {
	t.Helper()
	ctx := context.Background()
	cur, err := srv.Client(t).Database(db).Collection(opsColl).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var docs []struct {
		Device string `bson:"device"`
		Seq    int64  `bson:"seq"`
	}
	if err := cur.All(ctx, &docs); err != nil {
		t.Fatal(err)
	}
	seen := map[string]map[int64]int{}
	for _, d := range docs {
		if seen[d.Device] == nil {
			seen[d.Device] = map[int64]int{}
		}
		seen[d.Device][d.Seq]++
	}
	for dev, n := range want {
		if len(seen[dev]) != n {
			t.Errorf("%s: %d distinct ops on the server, want %d", dev, len(seen[dev]), n)
		}
		for seq := int64(1); seq <= int64(n); seq++ {
			if seen[dev][seq] != 1 {
				t.Errorf("%s:%d stored %d times", dev, seq, seen[dev][seq])
			}
		}
	}
}
