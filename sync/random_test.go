package sync

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// TestRandomized applies random edits on several devices with random
// sync orders (devices staying offline for a while), snapshots and
// compactions at random moments, then syncs everyone and checks that
// every device, a new device started from the server, and the readable
// papers documents equal a reference store that applied every op ever
// uploaded (kept aside before each compaction deleted some). Seeds 1 to
// 4, or to $PAPERFS_RANDOM_SEEDS for a longer search.
func TestRandomized(t *testing.T) {
	srv := synctest.Start(t)
	seeds := uint64(4)
	if n, err := strconv.ParseUint(os.Getenv("PAPERFS_RANDOM_SEEDS"), 10, 64); err == nil && n > 0 {
		seeds = n
	}
	for seed := uint64(1); seed <= seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			randomRun(t, srv, seed, 3+int(seed%2), 120)
		})
	}
}

// checkOpFields checks that the op an edit made names only the fields
// that edit changed (an emptied field must not ride along later edits).
func checkOpFields(t *testing.T, d *device, prev string, before, after meta.Paper) {
	t.Helper()
	ops, err := d.store.PendingOps(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 || ops[len(ops)-1].ID == prev {
		return // no op: nothing changed
	}
	op := ops[len(ops)-1]
	bj, _ := json.Marshal(before)
	aj, _ := json.Marshal(after)
	var bm, am map[string]json.RawMessage
	json.Unmarshal(bj, &bm)
	json.Unmarshal(aj, &am)
	named := map[string]bool{}
	for f := range op.Set {
		f, _, _ = strings.Cut(f, "/")
		named[f] = true
	}
	for f := range op.Add {
		named[f] = true
	}
	for f := range op.Remove {
		named[f] = true
	}
	for f := range named {
		if string(bm[f]) == string(am[f]) {
			t.Fatalf("%s: an edit of paper %s names %s, which it did not change: %+v", d.name, after.ID, f, op)
		}
	}
}

// lastOp is the id of the newest op d has queued, "" if none.
func lastOp(t *testing.T, d *device) string {
	ops, err := d.store.PendingOps(1 << 20)
	if err != nil {
		t.Fatal(err)
	}
	if len(ops) == 0 {
		return ""
	}
	return ops[len(ops)-1].ID
}

func randomRun(t *testing.T, srv *synctest.Server, seed uint64, n, steps int) {
	rng := rand.New(rand.NewPCG(seed, 99))
	db := dbName(t)
	var ds []*device
	// Device 0's clock runs two hours ahead (odd seeds) or behind.
	skew := 2 * time.Hour
	if seed%2 == 0 {
		skew = -skew
	}
	ds = append(ds, skewedDevice(t, "dev000", srv.URI, db, skew, func(c *Config) { c.BatchSize = 7 }))
	for i := 1; i < n; i++ {
		ds = append(ds, newDevice(t, fmt.Sprintf("dev%03d", i), srv.URI, db, func(c *Config) { c.BatchSize = 7 }))
	}
	words := []string{"alpha", "beta", "gamma", "delta"}
	arch := opArchive{}
	snaps, compactions := 0, 0
	for step := 0; step < steps; step++ {
		if rng.IntN(20) == 0 {
			d := ds[rng.IntN(n)]
			if rng.IntN(2) == 0 {
				d.snapshot()
				snaps++
			} else {
				// Compact uploads the device's queued ops first:
				// archive them before it deletes them.
				d.sync()
				arch.add(t, srv, db)
				d.compact()
				compactions++
			}
		}
		d := ds[rng.IntN(n)]
		var ids []string
		d.store.ForEach(func(p meta.Paper) bool { ids = append(ids, p.ID); return true })
		if len(ids) == 0 || rng.IntN(6) == 0 {
			d.create(meta.Paper{Title: fmt.Sprintf("%s %d", d.name, step), Tags: []string{words[rng.IntN(4)]}})
		} else {
			id := ids[rng.IntN(len(ids))]
			before, prev := d.get(id), lastOp(t, d)
			after := d.update(id, func(p *meta.Paper) {
				switch rng.IntN(11) {
				case 7:
					p.Rating = rng.IntN(3) // 0 empties it
				case 8:
					p.Note = "" // emptied
				case 9:
					p.Flag = !p.Flag
				case 10:
					k := []string{"title", "year"}[rng.IntN(2)]
					if p.Confidence == nil {
						p.Confidence = map[string]float64{}
					}
					if _, ok := p.Confidence[k]; ok && rng.IntN(2) == 0 {
						delete(p.Confidence, k)
					} else {
						p.Confidence[k] = float64(rng.IntN(4)) / 4
					}
				case 0:
					p.Title = fmt.Sprintf("title %d by %s", step, d.name)
				case 1:
					p.Year = 1990 + rng.IntN(30)
				case 2:
					p.Tags = append(p.Tags, words[rng.IntN(4)])
				case 3:
					if len(p.Tags) > 0 {
						p.Tags = slices.Delete(p.Tags, 0, 1)
					}
				case 4:
					p.Folders = []string{words[rng.IntN(4)]}
				case 5:
					now := time.Date(2025, 1, 1, 0, 0, step, 0, time.UTC)
					if p.Trashed == nil {
						p.Trashed = &now
					} else {
						p.Trashed = nil
					}
				case 6:
					p.Note = fmt.Sprintf("note %d", step)
				}
			})
			checkOpFields(t, d, prev, before, after)
		}
		// Devices sync at random moments; with n devices each one is
		// offline for several steps at a time.
		if rng.IntN(3) == 0 {
			ds[rng.IntN(n)].sync()
		}
	}
	for pass := 0; pass < 3; pass++ {
		for _, i := range rng.Perm(n) {
			ds[i].sync()
		}
	}

	// The reference: every op ever uploaded, applied to one fresh store.
	arch.add(t, srv, db)
	ref, err := meta.Open(filepath.Join(t.TempDir(), "ref.db"), meta.Options{Device: "reference"})
	if err != nil {
		t.Fatal(err)
	}
	defer ref.Close()
	ctx := context.Background()
	var ops []meta.Op
	for _, op := range arch {
		ops = append(ops, op)
	}
	slices.SortFunc(ops, func(x, y meta.Op) int {
		if c := strings.Compare(x.Device, y.Device); c != 0 {
			return c
		}
		return cmp.Compare(x.Seq, y.Seq)
	})
	// Shuffle across devices, keeping each device's order, to make the
	// reference independent of any sync order.
	if _, _, err := ref.ApplyRemote(interleave(rng, ops)); err != nil {
		t.Fatal(err)
	}
	want := stateOf(t, ref)
	// A new device: from the newest snapshot, or from every op.
	ds = append(ds, newDevice(t, "devnew", srv.URI, db, func(c *Config) { c.BatchSize = 7 }))
	ds[n].sync()
	for _, d := range ds {
		if got := stateOf(t, d.store); got != want {
			t.Fatalf("%s differs from the reference (%d snapshots, %d compactions):\n%s", d.name, snaps, compactions, stateDiff(got, want))
		}
	}

	// The readable documents show the merged state.
	pc, err := srv.Client(t).Database(db).Collection(papersColl).Find(ctx, bson.D{})
	if err != nil {
		t.Fatal(err)
	}
	var pdocs []struct {
		ID      string     `bson:"_id"`
		Title   string     `bson:"title"`
		Year    int        `bson:"year"`
		Note    string     `bson:"note"`
		Tags    []string   `bson:"tags"`
		Folders []string   `bson:"folders"`
		Trashed *time.Time `bson:"trashed"`
	}
	if err := pc.All(ctx, &pdocs); err != nil {
		t.Fatal(err)
	}
	count, _ := ref.Count(meta.View{Kind: meta.All})
	if len(pdocs) < count {
		t.Fatalf("%d papers documents for %d papers", len(pdocs), count)
	}
	for _, pd := range pdocs {
		p, err := ref.Get(pd.ID)
		if err != nil {
			t.Fatalf("papers document for unknown paper %s", pd.ID)
		}
		if pd.Title != p.Title || pd.Year != p.Year || pd.Note != p.Note || !slices.Equal(pd.Tags, p.Tags) ||
			!slices.Equal(pd.Folders, p.Folders) || (pd.Trashed == nil) != (p.Trashed == nil) {
			t.Fatalf("papers document %s is stale:\n%+v\nwant %+v", pd.ID, pd, p)
		}
	}
	t.Logf("%d devices, %d ops, %d papers, %d snapshots, %d compactions: converged", n, len(ops), count, snaps, compactions)
}

// interleave merges per-device runs of ops (sorted by device, seq) in a
// random order that keeps each device's ops in sequence.
func interleave(rng *rand.Rand, ops []meta.Op) []meta.Op {
	byDev := map[string][]meta.Op{}
	var devs []string
	for _, op := range ops {
		if byDev[op.Device] == nil {
			devs = append(devs, op.Device)
		}
		byDev[op.Device] = append(byDev[op.Device], op)
	}
	var out []meta.Op
	for len(out) < len(ops) {
		d := devs[rng.IntN(len(devs))]
		if q := byDev[d]; len(q) > 0 {
			out = append(out, q[0])
			byDev[d] = q[1:]
		}
	}
	return out
}
