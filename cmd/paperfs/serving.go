package main

import (
	"context"
	"sync"
	"time"

	"github.com/paperfs/paperfs/meta/library"
	psync "github.com/paperfs/paperfs/sync"
)

// runLibrary starts what keeps the library current while it is served:
// sync in the background when a server is configured (the view serves from
// the store and never waits for it; inUse says when it was last used, so
// sync polls often while it is), the watch of the library folder, the
// daily backup of the store, and online lookups (imports and scans never
// wait for them; they retry by themselves while offline). All stop when bg
// is cancelled; wg waits for them, stopSync for sync, which must stop
// before the store closes.
func (a *app) runLibrary(bg context.Context, wg *sync.WaitGroup, g *globalOptions, inUse func() time.Time) (stopSync func() error, err error) {
	eng, err := a.newEngine(nil, inUse)
	if err != nil {
		return nil, err
	}
	a.syncing.Store(eng) // a sync command run in this process uses it
	stopSync = func() error { return nil }
	if eng != nil {
		stopSync = eng.Start(bg)
		a.log.Info("syncing", "server", psync.Redact(a.cfg.MongoDB.URI), "database", a.cfg.MongoDB.Database)
	}
	wopts := library.WatchOptions{OnScan: func(library.ScanReport, error) { a.scans.Add(1) }}
	if eng != nil {
		wopts.BeforeNew = func(ctx context.Context) { waitBeforeIndexing(ctx, a, eng) }
		// A subscriber's scans leave the other members' PDFs alone.
		a.lib.SetOutside(eng.Outside)
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		keepBackups(bg, a)
	}()
	go func() {
		defer wg.Done()
		if eng != nil {
			// Let the first round bring in the records of PDFs that other
			// devices added before scanning the folder for new ones, so a
			// PDF that is already a paper elsewhere is not indexed twice.
			// Bounded: offline, the scan goes ahead after the timeout.
			waitFirstRound(bg, eng, 15*time.Second)
		}
		if err := a.lib.Watch(bg, wopts); err != nil {
			a.log.Error("watching the library folder", "folder", a.lib.Root, "err", err)
		}
	}()
	if r := a.lookupRunner(g); r != nil {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r.Run(bg)
		}()
	}
	return stopSync, nil
}

// waitBeforeIndexing holds back indexing a PDF that appeared in the library
// folder of a running mount until a sync round started after it appeared
// has ended, so that when the cloud drive delivers a PDF before sync
// delivers the record another device made for it, the record wins and no
// second paper is made. Bounded: 15 s while the server answers, 3 s when
// the last round failed (offline, Run retries only on its backoff timer).
func waitBeforeIndexing(ctx context.Context, a *app, eng *psync.Engine) {
	limit := 15 * time.Second
	if !eng.Status().Connected {
		limit = 3 * time.Second
	}
	wctx, cancel := context.WithTimeout(ctx, limit)
	defer cancel()
	start := time.Now()
	if err := eng.WaitRound(wctx); err != nil && ctx.Err() == nil {
		a.log.Info("indexing new PDFs without waiting further for sync", "waited", time.Since(start).Round(time.Millisecond))
		return
	}
	a.log.Debug("sync round done before indexing new PDFs", "waited", time.Since(start).Round(time.Millisecond))
}
