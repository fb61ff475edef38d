package sync

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// benchPapers is the library size of the upload benchmark; PAPERFS_BENCH_PAPERS overrides it.
func benchPapers() int {
	if n, err := strconv.Atoi(os.Getenv("PAPERFS_BENCH_PAPERS")); err == nil && n > 0 {
		return n
	}
	return 10000
}

func benchLibrary(b testing.TB, n int) *meta.Store {
	s, err := meta.Open(filepath.Join(b.TempDir(), "meta.db"), meta.Options{Device: "benchdev01", NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	ps := make([]meta.Paper, n)
	for i := range ps {
		ps[i] = meta.Paper{Title: fmt.Sprintf("A study of things, part %d", i), Authors: []string{"Ada Lovelace", "Alan Turing"},
			Year: 1950 + i%70, Venue: "Journal of Examples", DOI: fmt.Sprintf("10.1000/%d", i),
			Tags: []string{"tag" + strconv.Itoa(i%20)}, Folders: []string{"inbox"},
			File:     meta.File{Path: fmt.Sprintf("papers/p%05d.pdf", i), Size: 100000 + int64(i)},
			Abstract: "We study things and find that they are, on the whole, as expected."}
	}
	for c := range slices.Chunk(ps, 1000) {
		if _, err := s.CreateMany(c); err != nil {
			b.Fatal(err)
		}
	}
	return s
}

// BenchmarkInitialUpload uploads a 10k-paper library with one Once and,
// on the same server, inserts the same documents (the op documents and
// the papers documents the engine writes) with plain insertMany calls.
// It reports both times and their ratio (target <= 1.5).
//
//	go test -run '^$' -bench InitialUpload -benchtime 1x ./sync
func BenchmarkInitialUpload(b *testing.B) {
	srv := synctest.Start(b)
	client := srv.Client(b)
	n := benchPapers()
	ctx := context.Background()
	var syncT, plainT, opsOnlyT time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := benchLibrary(b, n)
		db := fmt.Sprintf("bench%d_%d", time.Now().UnixNano()%1e6, i)
		e, err := New(s, Config{URI: srv.URI, Database: db, StatusFile: "-"})
		if err != nil {
			b.Fatal(err)
		}
		// The documents the engine will write, built before timing.
		ops, _ := s.PendingOps(n + 1)
		var opDocs, paperDocs []any
		for i := range ops {
			d, _ := toDoc(&ops[i])
			opDocs = append(opDocs, d)
		}
		s.ForEach(func(p meta.Paper) bool {
			paperDocs = append(paperDocs, paperDoc(&p, meta.LastEdit{}, int64(n), "benchdev01", time.Now()))
			return true
		})
		b.StartTimer()

		start := time.Now()
		rep, err := e.Once(ctx)
		if err != nil || rep.Sent != n {
			b.Fatalf("Once: %+v, %v", rep, err)
		}
		syncT += time.Since(start)
		e.Close()

		plain := client.Database(db + "_plain")
		if _, err := plain.Collection(opsColl).Indexes().CreateOne(ctx, mongoIndexDeviceSeq()); err != nil {
			b.Fatal(err)
		}
		start = time.Now()
		for c := range slices.Chunk(opDocs, 1000) {
			if _, err := plain.Collection(opsColl).InsertMany(ctx, c, options.InsertMany().SetOrdered(false)); err != nil {
				b.Fatal(err)
			}
		}
		opsOnlyT += time.Since(start)
		for c := range slices.Chunk(paperDocs, 1000) {
			if _, err := plain.Collection(papersColl).InsertMany(ctx, c, options.InsertMany().SetOrdered(false)); err != nil {
				b.Fatal(err)
			}
		}
		plainT += time.Since(start)
	}
	b.ReportMetric(syncT.Seconds()/float64(b.N), "sync-s")
	b.ReportMetric(plainT.Seconds()/float64(b.N), "insertMany-s")
	b.ReportMetric(float64(syncT)/float64(plainT), "ratio")
	b.ReportMetric(float64(syncT)/float64(opsOnlyT), "ratio-vs-ops-only")
	b.ReportMetric(0, "ns/op")
}

func mongoIndexDeviceSeq() mongo.IndexModel {
	return mongo.IndexModel{Keys: bson.D{{Key: "device", Value: 1}, {Key: "seq", Value: 1}},
		Options: options.Index().SetUnique(true)}
}

// BenchmarkEditLatency measures how long an edit on device A takes to be
// committed in device B's store, both running Run with default settings
// (1s poll, 100ms debounce) against the local test server, on a library
// of PAPERFS_BENCH_LIB papers (default 1000). It reports the median and
// 95th percentile over PAPERFS_BENCH_EDITS edits (default 30), made at
// random moments.
//
//	go test -run '^$' -bench EditLatency -benchtime 1x ./sync
func BenchmarkEditLatency(b *testing.B) {
	srv := synctest.Start(b)
	lib, edits := 1000, 30
	if n, err := strconv.Atoi(os.Getenv("PAPERFS_BENCH_LIB")); err == nil && n > 0 {
		lib = n
	}
	if n, err := strconv.Atoi(os.Getenv("PAPERFS_BENCH_EDITS")); err == nil && n > 0 {
		edits = n
	}
	ctx := context.Background()
	db := fmt.Sprintf("lat%d", time.Now().UnixNano()%1e6)
	sa := benchLibrary(b, lib)
	ea, err := New(sa, Config{URI: srv.URI, Database: db, StatusFile: "-"})
	if err != nil {
		b.Fatal(err)
	}
	defer ea.Close()
	if _, err := ea.Once(ctx); err != nil {
		b.Fatal(err)
	}
	sb, err := meta.Open(filepath.Join(b.TempDir(), "b.db"), meta.Options{Device: "benchdevb1"})
	if err != nil {
		b.Fatal(err)
	}
	defer sb.Close()
	eb, err := New(sb, Config{URI: srv.URI, Database: db, StatusFile: "-"})
	if err != nil {
		b.Fatal(err)
	}
	defer eb.Close()
	if _, err := eb.Once(ctx); err != nil {
		b.Fatal(err)
	}
	var ids []string
	sa.ForEach(func(p meta.Paper) bool { ids = append(ids, p.ID); return len(ids) < 100 })

	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for _, e := range []*Engine{ea, eb} {
		go e.Run(rctx)
	}
	sub := sb.Subscribe()
	defer sub.Close()
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < edits; i++ {
		time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond) // a user's pause between edits: the benchmark's load
		note := fmt.Sprint("edit ", i)
		id := ids[rng.IntN(len(ids))]
		start := time.Now()
		if _, err := sa.Update(id, func(p *meta.Paper) error { p.Note = note; return nil }); err != nil {
			b.Fatal(err)
		}
		timeout := time.After(30 * time.Second)
	wait:
		for {
			select {
			case ch := <-sub.C:
				if ch.ID == id && ch.After != nil && ch.After.Note == note {
					break wait
				}
			case <-timeout:
				b.Fatalf("edit %d not seen on b after 30s", i)
			}
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	synctest.ReportLatency(b, lat)
}
