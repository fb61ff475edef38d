package sync

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"runtime/metrics"
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
		rs, re := benchDevice(b, srv.URI, db, fmt.Sprintf("replay%d", i), nil, nil)
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
		ss, se := benchDevice(b, srv.URI, db, fmt.Sprintf("snap%d", i), nil, nil)
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
// compacts; the benchmark reports what that adds to the first sync, the
// new device's first round from the snapshot and the heap it peaks at
// meanwhile (sampled every 10 ms), against a new device replaying the
// import (as it did before the size trigger: the weekly schedule never
// compacts on a library's first day). PAPERFS_BENCH_REPLAY=0 skips the
// replay (at 100k papers it takes far too long on FerretDB); the
// snapshot's device is then checked against the importing one.
//
//	go test -run '^$' -bench ImportThenNewDevice -benchtime 1x ./sync
func BenchmarkImportThenNewDevice(b *testing.B) {
	srv := synctest.Start(b)
	n := benchPapers()
	replay := os.Getenv("PAPERFS_BENCH_REPLAY") != "0"
	ctx := context.Background()
	// paperfs's default, lowered for a smaller library.
	threshold := func(c *Config) { c.CompactAfterOps = min(5000, n) }
	var uploadT, compactT, replayT, snapT time.Duration
	var peakHeap uint64
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := benchLibrary(b, n)
		db := fmt.Sprintf("imp%d_%d", time.Now().UnixNano()%1e6, i)
		_, e := benchDevice(b, srv.URI, db, "", s, threshold)
		b.StartTimer()
		t0 := time.Now()
		sent := 0
		for { // a round sends at most 10 batches
			rep, err := e.Once(ctx)
			if err != nil {
				b.Fatalf("upload: %v", err)
			}
			if rep.Sent == 0 {
				break
			}
			sent += rep.Sent
		}
		if sent != n {
			b.Fatalf("uploaded %d ops, want %d", sent, n)
		}
		uploadT += time.Since(t0)
		b.StopTimer()

		ref := s
		if replay {
			// A device added before any compaction replays the import.
			rs, re := benchDevice(b, srv.URI, db, fmt.Sprintf("replay%d", i), nil, threshold)
			t0 = time.Now()
			if _, err := re.Once(ctx); err != nil {
				b.Fatal(err)
			}
			replayT += time.Since(t0)
			ref = rs
		}

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
		ss, se := benchDevice(b, srv.URI, db, fmt.Sprintf("snap%d", i), nil, nil)
		runtime.GC()
		stop := sampleHeap(&peakHeap)
		t0 = time.Now()
		_, err = se.Once(ctx)
		snapT += time.Since(t0)
		stop()
		if err != nil {
			b.Fatal(err)
		}
		if a, c := stateOf(b, ref), stateOf(b, ss); a != c {
			b.Fatal("the snapshot-bootstrapped device differs from the reference")
		}
		b.Logf("compaction: snapshot of %d papers, %d chunks, %.1f MB, deleted %d ops", crep.Snapshot.Papers, crep.Snapshot.Chunks,
			float64(crep.Snapshot.Bytes)/1e6, crep.DeletedOps)
	}
	f := float64(b.N)
	b.ReportMetric(uploadT.Seconds()/f, "upload-s")
	b.ReportMetric(compactT.Seconds()/f, "compact-s")
	if replay {
		b.ReportMetric(replayT.Seconds()/f, "newdev-replay-s")
	}
	b.ReportMetric(snapT.Seconds()/f, "newdev-snapshot-s")
	b.ReportMetric(float64(peakHeap)/(1<<20), "newdev-snapshot-peak-heap-MiB")
	b.ReportMetric(0, "ns/op")
}

// benchDevice is an engine on st, or on a new empty store of device name
// when st is nil, closed when the benchmark ends.
func benchDevice(b *testing.B, uri, db, name string, st *meta.Store, mod func(*Config)) (*meta.Store, *Engine) {
	if st == nil {
		var err error
		if st, err = meta.Open(b.TempDir()+"/meta.db", meta.Options{Device: name, NoSync: true}); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
	}
	cfg := Config{URI: uri, Database: db, StatusFile: "-"}
	if mod != nil {
		mod(&cfg)
	}
	en, err := New(st, cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { en.Close() })
	return st, en
}

// sampleHeap raises *peak to the heap's size (live and not yet collected
// objects) every 10 ms until stop is called.
func sampleHeap(peak *uint64) (stop func()) {
	done, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		m := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(m)
			*peak = max(*peak, m[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() { close(done); <-stopped }
}
