package sync

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/event"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// wireCost counts what the server sends one engine: reply bytes of every
// command, and the read commands with the documents they return.
type wireCost struct {
	bytes, reads, docs, units, cmds atomic.Int64
}

func (w *wireCost) monitor() *event.CommandMonitor {
	return &event.CommandMonitor{Succeeded: func(_ context.Context, ev *event.CommandSucceededEvent) {
		w.cmds.Add(1)
		w.bytes.Add(int64(len(ev.Reply)))
		switch ev.CommandName {
		case "find", "getMore", "aggregate", "count", "distinct":
			w.reads.Add(1)
			for _, batch := range []string{"firstBatch", "nextBatch"} {
				if v, err := ev.Reply.LookupErr("cursor", batch); err == nil {
					if vals, err := v.Array().Values(); err == nil {
						w.docs.Add(int64(len(vals)))
						for _, d := range vals {
							// As Atlas bills reads: a unit per 4 KB
							// of each document returned.
							w.units.Add(int64(len(d.Value)+4095) / 4096)
						}
					}
				}
			}
		}
	}}
}

// BenchmarkSubscription: a 10k-paper library (every paper created, a third
// retitled afterwards), one tag on 1% of it. A new device subscribed to
// that tag syncs once, against a new device syncing the whole library:
// reply bytes, documents read and the read units Atlas would bill for them
// (one per 4 KB of each document), and read commands, from the driver's
// command monitor. First with the whole op log on the server, then after a
// compaction (the snapshot read entry by entry). Target: the subscriber
// costs at most 5% of the full sync. Also reported: what the subscriber's
// first scan of the shared folder then downloads to learn which of the
// other PDFs are other papers' (Engine.Outside).
//
//	go test -run '^$' -bench Subscription -benchtime 1x ./sync   # PAPERFS_BENCH_PAPERS=10000
func BenchmarkSubscription(b *testing.B) {
	srv := synctest.Start(b)
	db := dbName(b)
	n := benchPapers()
	src := newDevice(b, "benchsrc", srv.URI, db, func(c *Config) { c.StatusFile, c.OpTimeout = "-", time.Minute })
	ps := make([]meta.Paper, n)
	for i := range ps {
		ps[i] = meta.Paper{Title: fmt.Sprintf("A study of things, part %d", i), Authors: []string{"Ada Lovelace", "Alan Turing"},
			Year: 1950 + i%70, Venue: "Journal of Examples", DOI: fmt.Sprintf("10.1000/%d", i),
			Tags: []string{"tag" + strconv.Itoa(i%20)}, Folders: []string{"inbox"},
			File:     meta.File{Path: fmt.Sprintf("papers/p%05d.pdf", i), Size: 100000 + int64(i)},
			Abstract: "We study things and find that they are, on the whole, as expected."}
		if i%100 == 7 {
			ps[i].Tags = append(ps[i].Tags, "reading-group")
		}
	}
	var created []meta.Paper
	for c := range slices.Chunk(ps, 1000) {
		got, err := src.store.CreateMany(c)
		if err != nil {
			b.Fatal(err)
		}
		created = append(created, got...)
	}
	for i := 0; i < len(created); i += 3 {
		src.update(created[i].ID, func(p *meta.Paper) { p.Title += " (revised)" })
	}
	src.sync()
	sub := Subscription{Tags: []string{"reading-group"}}
	measure := func(b *testing.B, name string, s Subscription) (*wireCost, *device, time.Duration) {
		w := &wireCost{}
		d := newDevice(b, name, srv.URI, db, func(c *Config) {
			c.StatusFile, c.Subscription, c.Monitor, c.OpTimeout = "-", s, w.monitor(), time.Minute
		})
		start := time.Now()
		d.sync()
		return w, d, time.Since(start)
	}
	for _, phase := range []string{"log", "compacted"} {
		b.Run(phase, func(b *testing.B) {
			if phase == "compacted" {
				// A subscriber exists (its devices document says so), so
				// the snapshot gets per-paper entries.
				src.sync()
				src.compact()
			}
			fw, fd, ft := measure(b, "benchfull"+phase[:1], Subscription{})
			sw, sd, st := measure(b, "benchsub"+phase[:1], sub)
			held, _ := sd.store.HeldIDs()
			all, _ := fd.store.HeldIDs()
			if len(held) != n/100 || len(all) != n {
				b.Fatalf("subscriber holds %d papers, full device %d", len(held), len(all))
			}
			if got, want := subsetOfStore(b, sd.store), subsetOf(b, fd.store, sub); got != want {
				b.Fatalf("subscriber's records differ from the full device's")
			}
			ratio := func(a, b *atomic.Int64) float64 { return float64(a.Load()) / float64(max(b.Load(), 1)) }
			b.ReportMetric(float64(fw.bytes.Load()), "full-bytes")
			b.ReportMetric(float64(sw.bytes.Load()), "sub-bytes")
			b.ReportMetric(ratio(&sw.bytes, &fw.bytes), "bytes-ratio")
			b.ReportMetric(float64(fw.docs.Load()), "full-docs-read")
			b.ReportMetric(float64(sw.docs.Load()), "sub-docs-read")
			b.ReportMetric(ratio(&sw.docs, &fw.docs), "docs-ratio")
			b.ReportMetric(float64(fw.units.Load()), "full-read-units")
			b.ReportMetric(float64(sw.units.Load()), "sub-read-units")
			b.ReportMetric(ratio(&sw.units, &fw.units), "read-units-ratio")
			b.ReportMetric(float64(fw.reads.Load()), "full-read-cmds")
			b.ReportMetric(float64(sw.reads.Load()), "sub-read-cmds")
			b.ReportMetric(ratio(&sw.reads, &fw.reads), "read-cmds-ratio")
			b.ReportMetric(ft.Seconds(), "full-s")
			b.ReportMetric(st.Seconds(), "sub-s")
			// The subscriber's first scan of the shared folder asks which
			// of the other PDFs are other papers' (once; remembered).
			var paths []string
			isHeld := sliceSet(held)
			for _, p := range created {
				if !isHeld[p.ID] {
					paths = append(paths, p.File.Path)
				}
			}
			before := sw.bytes.Load()
			if got := sd.eng.Outside(b.Context(), paths); len(got) != len(paths) {
				b.Fatalf("%d of %d other PDFs found outside", len(got), len(paths))
			}
			b.ReportMetric(float64(sw.bytes.Load()-before), "first-scan-bytes")
		})
	}
}

// subsetOfStore is a store's exported records as subsetOf prints them.
func subsetOfStore(t testing.TB, s *meta.Store) string {
	return subsetOf(t, s, Subscription{})
}
