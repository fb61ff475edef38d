package sync

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/sync/synctest"
)

// BenchmarkBootstrap measures a new device's first round on a library of
// PAPERFS_BENCH_PAPERS papers (default 10k) with an edit history (every
// paper retagged and half of them retitled: 2.5 ops per paper), once by
// replaying every op and once from a snapshot. It reports both and their
// ratio.
//
//	go test -run '^$' -bench Bootstrap -benchtime 1x ./sync
func BenchmarkBootstrap(b *testing.B) {
	srv := synctest.Start(b)
	n := benchPapers()
	ctx := context.Background()
	var replayT, snapT time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := benchLibrary(b, n)
		var ids []string
		s.ForEach(func(p meta.Paper) bool { ids = append(ids, p.ID); return true })
		for k := 0; k < len(ids); k += 1000 {
			chunk := ids[k:min(k+1000, len(ids))]
			if _, err := s.UpdateMany(chunk, func(p *meta.Paper) error {
				p.Tags = []string{"read"}
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			if _, err := s.UpdateMany(chunk[:len(chunk)/2], func(p *meta.Paper) error {
				p.Title += " (revised)"
				return nil
			}); err != nil {
				b.Fatal(err)
			}
		}
		db := fmt.Sprintf("boot%d_%d", time.Now().UnixNano()%1e6, i)
		e, err := New(s, Config{URI: srv.URI, Database: db, StatusFile: "-"})
		if err != nil {
			b.Fatal(err)
		}
		for {
			rep, err := e.Once(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if rep.Sent == 0 {
				break
			}
		}
		newDev := func(name string) (*meta.Store, *Engine) {
			st, err := meta.Open(b.TempDir()+"/meta.db", meta.Options{Device: name, NoSync: true})
			if err != nil {
				b.Fatal(err)
			}
			en, err := New(st, Config{URI: srv.URI, Database: db, StatusFile: "-"})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { en.Close(); st.Close() })
			return st, en
		}
		rs, re := newDev(fmt.Sprintf("replay%d", i))
		b.StartTimer()
		t0 := time.Now()
		if _, err := re.Once(ctx); err != nil {
			b.Fatal(err)
		}
		replayT += time.Since(t0)
		b.StopTimer()
		info, err := e.Snapshot(ctx)
		if err != nil {
			b.Fatal(err)
		}
		ss, se := newDev(fmt.Sprintf("snap%d", i))
		b.StartTimer()
		t0 = time.Now()
		if _, err := se.Once(ctx); err != nil {
			b.Fatal(err)
		}
		snapT += time.Since(t0)
		b.StopTimer()
		if a, c := stateOf(b, rs), stateOf(b, ss); a != c {
			b.Fatal("replayed and snapshot-bootstrapped devices differ")
		}
		b.Logf("snapshot: %d papers, %d chunks, %.1f MB of records, covering %d ops", info.Papers, info.Chunks, float64(info.Bytes)/1e6, info.Ops)
		e.Close()
	}
	b.ReportMetric(replayT.Seconds()/float64(b.N), "replay-s")
	b.ReportMetric(snapT.Seconds()/float64(b.N), "snapshot-s")
	b.ReportMetric(snapT.Seconds()/replayT.Seconds(), "ratio")
}

// BenchmarkImportThenNewDevice measures the common set-up: a library of
// PAPERFS_BENCH_PAPERS papers (default 10k) imported on one device and
// synced, then a second device added. With the default CompactAfterOps
// the first device's sync finds the log due (as many ops as papers) and
// compacts; the benchmark reports what that adds to the first sync and
// the new device's first round from the snapshot, against a new device
// replaying the import (as it did before the size trigger: the weekly
// schedule never compacts on a library's first day).
//
//	go test -run '^$' -bench ImportThenNewDevice -benchtime 1x ./sync
func BenchmarkImportThenNewDevice(b *testing.B) {
	srv := synctest.Start(b)
	n := benchPapers()
	ctx := context.Background()
	var uploadT, compactT, replayT, snapT time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := benchLibrary(b, n)
		db := fmt.Sprintf("imp%d_%d", time.Now().UnixNano()%1e6, i)
		newDev := func(name string, st *meta.Store) (*meta.Store, *Engine) {
			if st == nil {
				var err error
				if st, err = meta.Open(b.TempDir()+"/meta.db", meta.Options{Device: name, NoSync: true}); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { st.Close() })
			}
			// paperfs's default, lowered for a smaller library.
			en, err := New(st, Config{URI: srv.URI, Database: db, StatusFile: "-", CompactAfterOps: min(5000, n)})
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { en.Close() })
			return st, en
		}
		_, e := newDev("", s)
		b.StartTimer()
		t0 := time.Now()
		if rep, err := e.Once(ctx); err != nil || rep.Sent != n {
			b.Fatalf("upload: %+v, %v", rep, err)
		}
		uploadT += time.Since(t0)
		b.StopTimer()

		// A device added before any compaction replays the import.
		rs, re := newDev(fmt.Sprintf("replay%d", i), nil)
		t0 = time.Now()
		if _, err := re.Once(ctx); err != nil {
			b.Fatal(err)
		}
		replayT += time.Since(t0)

		due, ops, err := e.CompactDue()
		if err != nil || !due {
			b.Fatalf("after importing %d papers: CompactDue = %v, %d ops, %v; want due", n, due, ops, err)
		}
		t0 = time.Now()
		crep, err := e.Compact(ctx)
		if err != nil {
			b.Fatal(err)
		}
		compactT += time.Since(t0)
		ss, se := newDev(fmt.Sprintf("snap%d", i), nil)
		t0 = time.Now()
		if _, err := se.Once(ctx); err != nil {
			b.Fatal(err)
		}
		snapT += time.Since(t0)
		if a, c := stateOf(b, rs), stateOf(b, ss); a != c {
			b.Fatal("replayed and snapshot-bootstrapped devices differ")
		}
		b.Logf("compaction: snapshot of %d papers, %d chunks, %.1f MB, deleted %d ops", crep.Snapshot.Papers, crep.Snapshot.Chunks,
			float64(crep.Snapshot.Bytes)/1e6, crep.DeletedOps)
	}
	f := float64(b.N)
	b.ReportMetric(uploadT.Seconds()/f, "upload-s")
	b.ReportMetric(compactT.Seconds()/f, "compact-s")
	b.ReportMetric(replayT.Seconds()/f, "newdev-replay-s")
	b.ReportMetric(snapT.Seconds()/f, "newdev-snapshot-s")
	b.ReportMetric(0, "ns/op")
}
