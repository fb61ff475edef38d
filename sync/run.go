package sync

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	gosync "sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
)

// Run syncs continuously until ctx is cancelled: a round at start, after
// local edits (debounced), when a change stream reports another device's
// upload (where the server has change streams), and every poll interval.
// While the server is unreachable it retries with jittered exponential
// backoff up to Config.MaxBackoff; local edits keep committing meanwhile,
// since they never wait for sync. It returns nil once ctx is cancelled
// and every goroutine it started has stopped; in-flight requests are
// abandoned, which is safe (see docs/sync.md).
//
// After each round it rewrites the status file (Config.StatusFile).
func (e *Engine) Run(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	var wg gosync.WaitGroup
	defer wg.Wait()
	defer cancel()

	e.mu.Lock()
	e.mu.running = true
	e.mu.Unlock()
	defer func() {
		e.mu.Lock()
		e.mu.running = false
		e.mu.Unlock()
		e.writeStatusFile()
	}()

	wake := make(chan struct{}, 1)
	sub := e.store.Subscribe()
	wg.Add(2)
	go func() {
		defer wg.Done()
		e.watchLocal(ctx, sub, wake)
	}()
	go func() {
		defer wg.Done()
		e.watchRemote(ctx, wake)
	}()
	defer sub.Close()

	failures := 0
	lastActive := time.Now()
	for {
		rep, err := e.round(ctx, time.Since(e.lastFullPull()) >= fullPullInterval, false)
		if ctx.Err() != nil {
			return nil
		}
		e.writeStatusFile()
		var wait time.Duration
		if err != nil {
			failures++
			wait = backoff(failures, e.cfg.MaxBackoff)
			e.log.Warn("sync: round failed; will retry", "in", wait.Round(time.Millisecond), "err", err)
		} else {
			if failures > 0 {
				e.log.Info("sync: reconnected", "sent", rep.Sent, "received", rep.Received)
			}
			failures = 0
			if rep.Sent > 0 || rep.Received > 0 {
				lastActive = time.Now()
			} else {
				e.maybeCompact(ctx)
			}
			if e.cfg.InUse != nil {
				if u := e.cfg.InUse(); u.After(lastActive) {
					lastActive = u
				}
			}
			wait = e.pollInterval(time.Since(lastActive))
		}
		if err != nil {
			// Offline: edits must not turn backoff into a busy retry
			// loop, so only the timer ends the wait.
			if !sleep(ctx, wait) {
				return nil
			}
			continue
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		case <-wake:
			t.Stop()
			lastActive = time.Now()
		case <-e.kick:
			t.Stop()
		}
	}
}

func (e *Engine) lastFullPull() time.Time {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	return e.lastFull
}

// Start runs Run in a goroutine for a caller that has no use for its own
// (a mount). stop cancels it, waits until it has returned and closes the
// engine; calling it again returns the same result.
func (e *Engine) Start(ctx context.Context) (stop func() error) {
	ctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	return gosync.OnceValue(func() error {
		cancel()
		err := <-done
		return errors.Join(err, e.Close())
	})
}

// pollInterval is the wait between rounds when nothing wakes Run.
func (e *Engine) pollInterval(idle time.Duration) time.Duration {
	e.mu.Lock()
	stream := e.mu.stream
	e.mu.Unlock()
	if stream {
		// The change stream wakes us; polling is a safety net.
		return 30 * time.Second
	}
	if idle > e.cfg.IdleAfter {
		return e.cfg.IdlePollInterval
	}
	return e.cfg.PollInterval
}

// backoff is the wait before retry n (n >= 1): exponential from 1s,
// capped, with jitter so devices that lost the server together don't
// return together.
func backoff(n int, limit time.Duration) time.Duration {
	d := time.Second << min(n-1, 10)
	d = min(d, limit)
	return d/2 + rand.N(d/2+1)
}

// watchLocal wakes Run shortly after local edits, grouping bursts.
func (e *Engine) watchLocal(ctx context.Context, sub *meta.Subscription, wake chan<- struct{}) {
	var timer <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-sub.C:
			if !ok {
				return
			}
			if !ch.Remote && timer == nil {
				timer = time.After(e.cfg.Debounce)
				// The status file was written after the last round; say
				// now that there is something to send, once per burst.
				e.writeStatusFile()
			}
		case <-timer:
			timer = nil
			select {
			case wake <- struct{}{}:
			default:
			}
		}
	}
}

// watchRemote keeps a change stream on the ops collection open where the
// server supports one and wakes Run when another device uploads. A server
// that answers the request with an error (a standalone mongod, FerretDB)
// has none: the watcher stops and Run polls. Network errors retry later.
func (e *Engine) watchRemote(ctx context.Context, wake chan<- struct{}) {
	self := e.store.Device()
	pipeline := mongo.Pipeline{{{Key: "$match", Value: bson.D{
		{Key: "operationType", Value: "insert"},
		{Key: "fullDocument.device", Value: bson.D{{Key: "$ne", Value: self}}},
	}}}}
	failures := 0
	for ctx.Err() == nil {
		cs, err := e.ops.Watch(ctx, pipeline, options.ChangeStream().SetMaxAwaitTime(10*time.Second))
		if err != nil {
			var se mongo.ServerError
			if errors.As(err, &se) {
				e.log.Debug("sync: no change streams on this server; polling", "err", e.red.wrap(err))
				return
			}
			failures++
			if !sleep(ctx, backoff(failures, e.cfg.MaxBackoff)) {
				return
			}
			continue
		}
		failures = 0
		e.setStream(true)
		for cs.Next(ctx) {
			select {
			case wake <- struct{}{}:
			default:
			}
		}
		e.setStream(false)
		cs.Close(context.Background())
		if ctx.Err() == nil && !sleep(ctx, time.Second) {
			return
		}
	}
}

func (e *Engine) setStream(on bool) {
	e.mu.Lock()
	e.mu.stream = on
	e.mu.Unlock()
}

// sleep waits for d or until ctx is done, reporting whether it waited.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// compactRetry spaces scheduled compaction attempts that fail (an edit
// made while the snapshot was taken, the server going away).
const compactRetry = time.Hour

// maybeCompact runs a compaction after a quiet round when one is due: by
// time (Config.CompactEvery since this device last compacted) or by the
// size of the server's log (Config.CompactAfterOps, CompactDue). It runs
// in Run's goroutine, so never beside a round.
func (e *Engine) maybeCompact(ctx context.Context) {
	every := e.cfg.CompactEvery
	if every <= 0 && e.cfg.CompactAfterOps <= 0 || e.isReadOnly() || e.subsetMode() {
		return // a device holding part of the library cannot take a snapshot
	}
	retry := compactRetry
	if every > 0 {
		retry = min(retry, every)
	}
	if time.Since(e.compactTry) < retry {
		return
	}
	why := ""
	if e.compactScheduled(every) {
		why = "scheduled"
	} else if due, n, err := e.CompactDue(); err == nil && due {
		why = fmt.Sprintf("%d changes since the last snapshot", n)
	}
	if why == "" {
		return
	}
	e.compactTry = time.Now()
	rep, err := e.Compact(ctx)
	if err != nil {
		e.log.Info("sync: compaction did not run; will try again later", "why", why, "err", err)
		return
	}
	_ = e.store.SetSyncState(stLastCompact, time.Now().UTC().Format(time.RFC3339Nano))
	e.log.Info("sync: compacted the server's change log", "why", why, "snapshot", rep.Snapshot.ID,
		"papers", rep.Snapshot.Papers, "deleted_changes", rep.DeletedOps)
}

// compactScheduled says whether every has passed since this device last
// compacted. A store's first run only starts the clock: a library is not
// compacted by time on its first day (by size it may be).
func (e *Engine) compactScheduled(every time.Duration) bool {
	if every <= 0 {
		return false
	}
	v, err := e.store.SyncState(stLastCompact)
	if err != nil {
		return false
	}
	last, perr := time.Parse(time.RFC3339Nano, v)
	if v == "" || perr != nil {
		_ = e.store.SetSyncState(stLastCompact, time.Now().UTC().Format(time.RFC3339Nano))
		return false
	}
	return time.Since(last) >= every
}
