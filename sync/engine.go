// Package sync moves a library's changes between its meta.Store and a
// MongoDB server (Atlas, any mongod, FerretDB), so that every device
// converges on the same library.
//
// The store records every local edit as an immutable op with a gapless
// per-device sequence number; the engine uploads them idempotently to the
// ops collection and pulls other devices' ops by version vector. It relies
// on nothing but single-document atomicity, a unique _id and sorted finds:
// no transactions, change streams (used only as a wake-up where available),
// pipeline updates or read-modify-write of shared documents. docs/sync.md
// explains the model and why it is correct.
//
// Import it under another name, since it shadows the standard library's:
//
//	import psync "github.com/paperfs/paperfs/sync"
package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	gosync "sync"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/event"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
)

// Config configures an Engine. URI and Database are required; the zero
// value of every other field means its default.
type Config struct {
	// CompactEvery makes Run (a mount's continuous sync) compact the
	// server's op log (Compact) when this much time has passed since this
	// device last did, at a quiet moment after a round. Zero: never; a
	// store's first Run only starts the clock.
	CompactEvery time.Duration
	// CompactAfterOps makes Run compact also when the server's op log,
	// past every advertised compaction floor, holds at least this many ops
	// and at least as many as the library has papers (a snapshot costs
	// about an op's worth per paper): a device added after a large import
	// then starts from a snapshot instead of replaying the import
	// (CompactDue). Zero: never by size.
	CompactAfterOps int

	// URI is a mongodb:// or mongodb+srv:// connection string. It may hold
	// credentials: they never appear in logs, errors or Status.
	URI string
	// Database holds the library's collections (ops, devices, papers).
	Database string
	// DeviceName is a human-readable name for this device in the devices
	// collection; default the host name.
	DeviceName string
	// PollInterval is how often Run asks the server for other devices'
	// changes while the library is in use (default 1s). After IdleAfter
	// without changes it polls every IdlePollInterval (default 5s); any
	// change makes it fast again. Where the server has change streams
	// (Atlas), new ops wake Run at once and polling is only a safety net.
	PollInterval     time.Duration
	IdlePollInterval time.Duration
	IdleAfter        time.Duration // default 2m
	// PapersInterval is how often Run refreshes the readable papers
	// documents (default 5s): a paper edited many times in a row is
	// written once. Once always refreshes them.
	PapersInterval time.Duration
	// Debounce groups local edits made in quick succession into one
	// upload (default 100ms).
	Debounce time.Duration
	// MaxBackoff bounds the wait between retries while the server is
	// unreachable (default 1m; waits are jittered).
	MaxBackoff time.Duration
	// OpTimeout bounds each request to the server, so that a server that
	// accepts connections and never answers cannot stall a round
	// (default 30s). Connecting and server selection time out after 10s.
	OpTimeout time.Duration
	// AccessRecheck is how often a device whose database user may only
	// read asks the server whether it may write now (default 5m).
	AccessRecheck time.Duration
	// BatchSize is the number of ops per insert and per find (default 1000).
	BatchSize int
	// StatusFile is where Run keeps a JSON copy of Status for `paperfs
	// status` in another process; default StatusPath(store.Path()). "-"
	// turns it off.
	StatusFile string
	// Now is the wall clock; nil means time.Now. Tests skew it.
	Now func() time.Time
	// InUse, if set, says when the library was last used (a mount's
	// filesystem requests). Run polls at PollInterval while it was used
	// within IdleAfter, not only while changes flow.
	InUse func() time.Time
	// Monitor, if set, sees every command sent to the server (benchmarks
	// count them).
	Monitor *event.CommandMonitor
	// Logger receives progress and errors; nil discards them.
	Logger *slog.Logger
	// SnapshotChunkBytes bounds the records in one snapshot chunk
	// document (default 2 MiB; MongoDB's limit is 16 MB).
	SnapshotChunkBytes int
	// Subscription, if not empty, makes this device hold only part of
	// the library: the papers with one of its tags or in one of its
	// folders (subset.go).
	Subscription Subscription
	// Progress, if set, is called while ops are downloaded with the number
	// applied so far and an estimate of the total (from the devices
	// collection), for a progress bar on a new device. A snapshot counts
	// as the ops it covers, reported chunk by chunk as they download.
	Progress func(done, total int)
}

func (c *Config) defaults(store *meta.Store) {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PollInterval, time.Second)
	def(&c.IdlePollInterval, 5*time.Second)
	def(&c.IdleAfter, 2*time.Minute)
	def(&c.Debounce, 100*time.Millisecond)
	def(&c.PapersInterval, 5*time.Second)
	def(&c.MaxBackoff, time.Minute)
	def(&c.OpTimeout, 30*time.Second)
	def(&c.AccessRecheck, 5*time.Minute)
	if c.IdlePollInterval < c.PollInterval {
		c.IdlePollInterval = c.PollInterval
	}
	if c.BatchSize <= 0 {
		c.BatchSize = 1000
	}
	if c.SnapshotChunkBytes <= 0 {
		c.SnapshotChunkBytes = defaultChunkBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	c.Subscription = c.Subscription.Normalized()
	if c.DeviceName == "" {
		if v := storedName(store); v != "" {
			c.DeviceName = v
		} else {
			c.DeviceName, _ = os.Hostname()
		}
	}
	if c.StatusFile == "" {
		c.StatusFile = StatusPath(store.Path())
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
}

// storedName is the name `paperfs sync --device-name` gave this device.
func storedName(store *meta.Store) string {
	if store == nil {
		return ""
	}
	v, _ := store.SyncState(stDeviceName)
	return v
}

// StatusPath is the default status file for the database at dbPath.
func StatusPath(dbPath string) string {
	return filepath.Join(filepath.Dir(dbPath), "sync-status.json")
}

// Report says what one round did.
type Report struct {
	Sent      int             // local ops the server now has
	Received  int             // other devices' ops applied here
	Conflicts []meta.Conflict // concurrent edits resolved in this round
}

// ErrDiverged means the server holds an op with the same id as a local one
// but different content: two databases claim the same device id (a copied
// database file), or the server's data was altered. Sync of this device
// stops until a person sorts it out; nothing is overwritten.
var ErrDiverged = errors.New("server holds a different op under the same id")

// Engine syncs one store with one server. Once, Run and Status are safe to
// call concurrently; rounds never overlap.
type Engine struct {
	store   *meta.Store // read-only after New
	cfg     Config      // read-only after New
	log     *slog.Logger
	red     *redactor
	client  *mongo.Client
	ops     *mongo.Collection
	devs    *mongo.Collection
	papers  *mongo.Collection
	snaps   *mongo.Collection // snapshot markers (snapshot.go)
	chunks  *mongo.Collection // snapshot chunks
	entries *mongo.Collection // snapshot per-paper entries (subset.go)

	deleteBatch int // seqs per delete of compacted ops; 0: deleteBatch (tests set it)

	snapMu      gosync.Mutex // serialises Snapshot and Compact
	roundMu     gosync.Mutex // serialises rounds; protects the following
	ready       bool         // indexes created
	lastFull    time.Time    // last pull that queried the ops collection
	compactTry  time.Time    // last scheduled compaction attempt (Run's goroutine only)
	lastPapers  time.Time    // last write of the papers documents
	droppedOnce bool         // dropOutside has run (subset.go)

	mu  state  // has its own lock
	acc access // what the database user may do (access.go); has its own lock

	firstRound     chan struct{} // closed when the first round has ended
	firstRoundOnce gosync.Once

	rounds rounds        // counts rounds, for WaitRound
	kick   chan struct{} // asks Run for a round now (WaitRound)
	subMu  gosync.Mutex  // guards cfg.Subscription, which SetSubscription changes

	statusMu   gosync.Mutex // orders status file writes; protects statusLast
	statusLast string       // status file content last written, without its time
}

// state is the engine's status, for Status.
type state struct {
	gosync.Mutex
	connected bool
	running   bool
	lastSync  time.Time
	lastErr   string
	lastDev   time.Time // last devices-collection write
	conflicts []ConflictRecord
	stream    bool      // a change stream is open
	lastRound *Round    // the last round that ended
	roundFrom time.Time // when the running round started; zero between rounds
	// clockOffset is this device's clock minus the server's, measured at
	// clockAt (zero: never); peers are the other devices as the devices
	// collection last said.
	clockOffset time.Duration
	clockAt     time.Time
	clockTried  time.Time
	peers       map[string]peer
	peerNames   string // the names of peers last saved (stPeerNames), as JSON
	// floor is the pointwise maximum of the advertised compaction floors
	// (ops at or below it may be gone from the server); nil until a
	// round has read them.
	floor map[string]uint64
	// maxSeq is each device's maxSeq as the devices collection last
	// said; subscribers says some device there has a subscription.
	maxSeq      map[string]uint64
	subscribers bool
}

// SyncState keys in the store.
const (
	stLastCompact = "lastCompact"
	stLastSync    = "lastSync"
	stLastError   = "lastError"
	stConflicts   = "conflicts"
	stDirty       = "dirtyPapers"
	stDeviceName  = "deviceName"
	stLastRound   = "lastRound"
	stPeerNames   = "peerNames"
)

// fullPullInterval is how often Run queries the ops collection even when
// the devices collection reports nothing new: the safety net for a device
// that crashed between uploading ops and updating its devices document and
// never came back to repair it.
const fullPullInterval = 5 * time.Minute

// maxConflicts is how many recent conflicts Status keeps.
const maxConflicts = 50

// New makes an engine for store. It does not contact the server: the first
// round does, so New works offline and Status works without a server. It
// fails only on a malformed configuration.
func New(store *meta.Store, cfg Config) (*Engine, error) {
	cfg.defaults(store)
	red := newRedactor(cfg.URI)
	if cfg.URI == "" || cfg.Database == "" {
		return nil, errors.New("sync: a MongoDB URI and a database name are both required")
	}
	opts := options.Client().ApplyURI(cfg.URI).
		SetAppName("paperfs").
		SetConnectTimeout(10 * time.Second).
		SetServerSelectionTimeout(10 * time.Second).
		SetMaxPoolSize(8)
	if cfg.Monitor != nil {
		opts.SetMonitor(cfg.Monitor)
	}
	if err := opts.Validate(); err != nil {
		return nil, fmt.Errorf("sync: MongoDB URI %s: %w", Redact(cfg.URI), red.wrap(err))
	}
	client, err := mongo.Connect(opts)
	if err != nil {
		return nil, fmt.Errorf("sync: MongoDB URI %s: %w", Redact(cfg.URI), red.wrap(err))
	}
	db := client.Database(cfg.Database)
	e := &Engine{
		store: store, cfg: cfg, log: cfg.Logger, red: red, client: client,
		ops: db.Collection(opsColl), devs: db.Collection(devicesColl), papers: db.Collection(papersColl),
		snaps: db.Collection(snapsColl), chunks: db.Collection(chunksColl), entries: db.Collection(entriesColl),
		firstRound: make(chan struct{}),
		rounds:     rounds{ended: make(chan struct{})},
		kick:       make(chan struct{}, 1),
	}
	e.loadState()
	return e, nil
}

// Close disconnects from the server. Call it after Run has returned.
func (e *Engine) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return e.red.wrap(e.client.Disconnect(ctx))
}

// Once runs one round: upload this device's queued ops, download and
// apply everyone else's, refresh the readable papers documents. An error
// leaves everything consistent; the next round picks up where it stopped.
func (e *Engine) Once(ctx context.Context) (Report, error) {
	return e.round(ctx, false, true)
}

// round runs one round. full makes the pull query the ops collection
// even if the devices collection says nobody has uploaded anything new;
// flush writes the due papers documents whatever PapersInterval says.
func (e *Engine) round(ctx context.Context, full, flush bool) (Report, error) {
	e.roundMu.Lock()
	defer e.roundMu.Unlock()
	n := e.rounds.start()
	defer e.rounds.end(n)
	start := time.Now()
	e.mu.Lock()
	e.mu.roundFrom = start
	running := e.mu.running
	e.mu.Unlock()
	if running {
		stop := e.reportWaiting()
		defer stop()
	}
	rep, err := e.once(ctx, full, flush)
	err = e.noteAuth(err)
	if err == nil && full {
		e.lastFull = time.Now()
	}
	now := time.Now()
	e.annotate(rep.Conflicts)
	e.mu.Lock()
	e.mu.roundFrom = time.Time{}
	last := &Round{At: now.UTC(), Took: now.Sub(start).Round(time.Millisecond), Sent: rep.Sent, Received: rep.Received, Conflicts: len(rep.Conflicts)}
	if err != nil {
		err = e.red.wrap(err)
		e.mu.lastErr = err.Error()
		last.Error = e.mu.lastErr
		// The server answered, even if with an error.
		var se mongo.ServerError
		e.mu.connected = errors.As(err, &se) && !mongo.IsNetworkError(err) && !mongo.IsTimeout(err)
	} else {
		e.mu.lastErr = ""
		e.mu.connected = true
		e.mu.lastSync = now
	}
	e.mu.lastRound = last
	for _, c := range rep.Conflicts {
		e.mu.conflicts = append(e.mu.conflicts, ConflictRecord{Conflict: c, At: now})
	}
	if n := len(e.mu.conflicts); n > maxConflicts {
		e.mu.conflicts = slices.Clone(e.mu.conflicts[n-maxConflicts:])
	}
	e.mu.Unlock()
	e.saveState(len(rep.Conflicts) > 0)
	e.firstRoundOnce.Do(func() { close(e.firstRound) })
	return rep, err
}

// reportWaiting rewrites the status file every second while a round
// waits for the server past waitReported, so that `paperfs status` says
// so at once rather than when the driver gives up. stop ends it and waits.
func (e *Engine) reportWaiting() (stop func()) {
	done := make(chan struct{})
	var wg gosync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTimer(waitReported)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				e.writeStatusFile()
				t.Reset(time.Second)
			}
		}
	}()
	return func() { close(done); wg.Wait() }
}

// FirstRound is closed once this engine's first round has ended, whether
// it reached the server or not: a mount waits for it (briefly) before
// scanning the library folder, so that PDFs other devices already
// indexed are matched to their records rather than indexed again.
func (e *Engine) FirstRound() <-chan struct{} { return e.firstRound }

// rounds counts the rounds started and ended.
type rounds struct {
	gosync.Mutex
	started, done uint64
	ended         chan struct{} // closed and replaced when a round ends
}

func (r *rounds) start() uint64 {
	r.Lock()
	defer r.Unlock()
	r.started++
	return r.started
}

func (r *rounds) end(n uint64) {
	r.Lock()
	defer r.Unlock()
	r.done = n
	close(r.ended)
	r.ended = make(chan struct{})
}

// WaitRound asks Run for a round now and returns once a round that started
// after the call has ended, with that round's outcome unknown to the
// caller (it may have failed: Status says), or when ctx is done. A running
// mount calls it (with a deadline) before indexing a PDF that appeared in
// the library folder, so a record another device made for the same PDF
// has had its chance to arrive first. Offline, Run retries on its backoff
// schedule only, so the caller's deadline is what bounds the wait. Without
// Run, only Once or another caller's rounds end the wait.
func (e *Engine) WaitRound(ctx context.Context) error {
	e.rounds.Lock()
	target := e.rounds.started + 1
	e.rounds.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
	for {
		e.rounds.Lock()
		done, ch := e.rounds.done, e.rounds.ended
		e.rounds.Unlock()
		if done >= target {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (e *Engine) once(ctx context.Context, full, flushPapers bool) (Report, error) {
	var rep Report
	if err := e.setup(ctx); err != nil {
		return rep, err
	}
	if e.clockDue() {
		if err := e.measureClock(ctx); err != nil {
			e.log.Warn("sync: clock offset unknown", "err", e.red.wrap(err))
		}
	}
	// Ops pushed this round stay queued until the pull is done, so that
	// Conflicts sees them as unseen by other devices; a crash in between
	// re-sends them, which the server takes as a no-op. A device whose
	// user may only read pushes nothing: its edits stay queued (access.go).
	var (
		sent    int
		lastSeq uint64
		pushed  map[string]bool
	)
	if !e.isReadOnly() {
		var err error
		sent, lastSeq, pushed, err = e.push(ctx)
		if e.refused("uploading changes", err) {
			sent, lastSeq, pushed, err = 0, 0, nil, nil
		}
		if err != nil {
			return rep, err
		}
	}
	rep.Sent = sent
	if sent > 0 {
		// Tell the others at once: their polls read this first.
		if err := e.writeDevice(ctx, lastSeq); err != nil && !e.refused("updating the devices collection", err) {
			return rep, err
		}
	}
	subset := e.subsetMode()
	var received int
	var conflicts []meta.Conflict
	var err error
	if subset {
		received, conflicts, err = e.pullSubset(ctx, full)
	} else {
		received, conflicts, err = e.pull(ctx, full)
	}
	rep.Received, rep.Conflicts = received, conflicts
	if err != nil {
		return rep, err
	}
	// The papers of the ops just sent join the set of papers whose
	// readable documents are due, durably, before the ops leave the queue.
	if len(pushed) > 0 {
		if err := e.markDirty(pushed); err != nil {
			return rep, err
		}
	}
	if lastSeq > 0 {
		if err := e.store.MarkSent(lastSeq); err != nil {
			return rep, err
		}
	}
	readOnly := e.isReadOnly()
	flushed := false
	// A device whose user may only read writes neither the papers
	// documents nor its own: left to the members who may write.
	if !readOnly && (flushPapers || time.Since(e.lastPapers) >= e.cfg.PapersInterval) {
		flushed = subset && len(e.dirty()) > 0
		if err := e.flushPapers(ctx); err != nil && !e.refused("writing papers", err) {
			return rep, err
		}
	}
	if subset && (sent > 0 || received > 0 || flushed || !e.droppedOnce) {
		// After MarkSent and the papers documents: a paper that left
		// the subscription goes once its local edits are on the server
		// and its readable document shows them (dropOutside keeps one
		// whose document is still due). Only a change can make one
		// leave: an edit sent or received, a document written, or a
		// new subscription (a new engine).
		if err := e.dropOutside(); err != nil {
			return rep, err
		}
		e.droppedOnce = true
	}
	if sent == 0 && !readOnly && e.deviceDocStale() {
		// Also repairs a maxSeq left behind by a crash after an upload.
		up, err := e.uploaded()
		if err != nil {
			return rep, err
		}
		if err := e.writeDevice(ctx, up); err != nil && !e.refused("updating the devices collection", err) {
			return rep, err
		}
	}
	return rep, nil
}

// uploaded is the highest local seq known to be on the server: all ops
// before the first queued one.
func (e *Engine) uploaded() (uint64, error) {
	q, err := e.store.PendingOps(1)
	if err != nil {
		return 0, err
	}
	if len(q) > 0 {
		return q[0].Seq - 1, nil
	}
	vv, err := e.store.Vector()
	return vv[e.store.Device()], err
}

// setup asks the server what this device's user may do and creates the
// indexes, once per engine (a read-only device asks again every
// Config.AccessRecheck). Creating an index that exists is a no-op on
// MongoDB and FerretDB alike; a user who may only read leaves it to the
// others.
func (e *Engine) setup(ctx context.Context) error {
	if e.ready {
		if e.accessRecheckDue() {
			return e.checkAccess(ctx)
		}
		return nil
	}
	if err := e.checkAccess(ctx); err != nil {
		return err
	}
	if !e.isReadOnly() {
		ctx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
		defer cancel()
		_, err := e.ops.Indexes().CreateOne(ctx, mongo.IndexModel{
			Keys:    bson.D{{Key: "device", Value: 1}, {Key: "seq", Value: 1}},
			Options: options.Index().SetUnique(true).SetName("device_seq"),
		})
		if err != nil && !e.refused("creating the ops index", err) {
			return fmt.Errorf("creating the ops index: %w", err)
		}
		if e.subsetMode() {
			// A subscriber asks for ops by paper.
			_, err := e.ops.Indexes().CreateOne(ctx, mongo.IndexModel{
				Keys:    bson.D{{Key: "paper", Value: 1}, {Key: "device", Value: 1}, {Key: "seq", Value: 1}},
				Options: options.Index().SetName("paper_device_seq"),
			})
			if err != nil && !e.refused("creating the ops paper index", err) {
				return fmt.Errorf("creating the ops paper index: %w", err)
			}
		}
	}
	e.ready = true
	return nil
}

// push uploads up to a round's worth of queued local ops. Duplicates are
// ops the server already has from an earlier attempt whose answer was
// lost: fine if identical, ErrDiverged if not.
func (e *Engine) push(ctx context.Context) (sent int, lastSeq uint64, papers map[string]bool, err error) {
	papers = map[string]bool{}
	ops, err := e.store.PendingOps(10 * e.cfg.BatchSize)
	if err != nil {
		return 0, 0, nil, err
	}
	err = pipeline(slices.Collect(slices.Chunk(ops, e.cfg.BatchSize)),
		func(chunk []meta.Op) ([]any, error) {
			docs := make([]any, len(chunk))
			for i := range chunk {
				d, err := toDoc(&chunk[i])
				if err != nil {
					return nil, err
				}
				docs[i] = d
			}
			return docs, nil
		},
		func(chunk []meta.Op, docs []any) error {
			if err := e.insertOps(ctx, chunk, docs); err != nil {
				return err
			}
			sent += len(chunk)
			lastSeq = chunk[len(chunk)-1].Seq
			for i := range chunk {
				papers[chunk[i].Paper] = true
			}
			return nil
		})
	if err != nil {
		return sent, 0, nil, err
	}
	if sent > 0 {
		e.log.Debug("sync: uploaded", "ops", sent, "last", lastSeq)
	}
	return sent, lastSeq, papers, nil
}

func (e *Engine) insertOps(ctx context.Context, ops []meta.Op, docs []any) error {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	_, err := e.ops.InsertMany(octx, docs, options.InsertMany().SetOrdered(false))
	if err == nil {
		return nil
	}
	var bwe mongo.BulkWriteException
	if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
		return fmt.Errorf("uploading changes: %w", err)
	}
	var dups []string
	byID := map[string]*meta.Op{}
	for _, we := range bwe.WriteErrors {
		if we.Code != 11000 || we.Index < 0 || we.Index >= len(ops) {
			return fmt.Errorf("uploading change %d: %w", we.Index, err)
		}
		op := &ops[we.Index]
		dups = append(dups, op.ID)
		byID[op.ID] = op
	}
	// Every error is a duplicate: compare what the server has.
	cur, err := e.ops.Find(octx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: dups}}}})
	if err != nil {
		return fmt.Errorf("checking uploaded changes: %w", err)
	}
	var got []opDoc
	if err := cur.All(octx, &got); err != nil {
		return fmt.Errorf("checking uploaded changes: %w", err)
	}
	seen := 0
	for i := range got {
		mine := byID[got[i].ID]
		if mine == nil {
			continue
		}
		theirs, err := fromDoc(&got[i])
		if err != nil || !sameOp(mine, &theirs) {
			e.log.Error("sync: the server has a different change under this device's id; "+
				"was this database copied from another device? Sync is stopped for this device.",
				"op", mine.ID)
			return fmt.Errorf("op %s: %w", mine.ID, ErrDiverged)
		}
		seen++
	}
	if seen != len(dups) {
		// A duplicate on {device, seq} without the same _id cannot come
		// from paperfs; refuse rather than guess.
		return fmt.Errorf("uploading changes: %d duplicates not found by id: %w", len(dups)-seen, ErrDiverged)
	}
	return nil
}

// pull downloads other devices' ops past this device's version vector
// and applies them, batch by batch, until none are left.
//
// Unless full, it first reads the devices collection (one small document
// per device) and queries the ops collection only if some device reports
// ops past this device's vector. That keeps idle polls cheap on servers
// that cannot use the {device, seq} index for the ops query (FerretDB
// scans the collection). The devices documents are only a hint, written
// after each upload: the ops to apply are always chosen by the vector,
// and Run still does a full pull every fullPullInterval.
func (e *Engine) pull(ctx context.Context, full bool) (received int, conflicts []meta.Conflict, err error) {
	self := e.store.Device()
	total := -1
	for {
		vv, err := e.store.Vector()
		if err != nil {
			return received, conflicts, err
		}
		if total < 0 {
			var floors []floorDoc
			total, floors, err = e.estimate(ctx, vv)
			if err != nil {
				return received, conflicts, err
			}
			// Snapshots first: a new device starts from one, and one
			// below a compaction floor needs one (snapshot.go).
			n, err := e.catchUp(ctx, vv, floors, total)
			received += n
			if err != nil {
				return received, conflicts, err
			}
			if n > 0 {
				full = true
				if vv, err = e.store.Vector(); err != nil {
					return received, conflicts, err
				}
			}
			if total == 0 && !full {
				return received, conflicts, nil
			}
		}
		ops, err := e.fetch(ctx, self, vv)
		if err != nil {
			return received, conflicts, err
		}
		if len(ops) == 0 {
			break
		}
		// Record which papers need their readable document rewritten
		// before applying, so a crash in between doesn't forget them.
		batch := map[string]bool{}
		for i := range ops {
			batch[ops[i].Paper] = true
		}
		if err := e.markDirty(batch); err != nil {
			return received, conflicts, err
		}
		n, cs, err := e.store.ApplyRemote(ops)
		if err != nil {
			return received, conflicts, err
		}
		received += n
		conflicts = append(conflicts, cs...)
		if e.cfg.Progress != nil {
			e.cfg.Progress(received, max(total, received))
		}
		if len(ops) < e.cfg.BatchSize || n == 0 {
			// A full batch that applied nothing is stuck behind a gap (an
			// op its device has not managed to upload yet): next round.
			break
		}
	}
	if received > 0 {
		e.log.Debug("sync: applied", "ops", received)
	}
	return received, conflicts, nil
}

// fetch runs one find for the next ops of every device at once: the
// known devices past their high-water marks, and any device not yet
// known. Sorting by {device, seq} lets ApplyRemote apply each device's
// ops in order.
func (e *Engine) fetch(ctx context.Context, self string, vv map[string]uint64) ([]meta.Op, error) {
	known := []string{self}
	var or bson.A
	for _, d := range sortedKeys(vv) {
		if d == self {
			continue
		}
		known = append(known, d)
		or = append(or, bson.D{{Key: "device", Value: d}, {Key: "seq", Value: bson.D{{Key: "$gt", Value: int64(vv[d])}}}})
	}
	or = append(or, bson.D{{Key: "device", Value: bson.D{{Key: "$nin", Value: known}}}})
	var filter bson.D
	if len(or) == 1 {
		filter = or[0].(bson.D)
	} else {
		filter = bson.D{{Key: "$or", Value: or}}
	}
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	cur, err := e.ops.Find(octx, filter, options.Find().
		SetSort(bson.D{{Key: "device", Value: 1}, {Key: "seq", Value: 1}}).
		SetLimit(int64(e.cfg.BatchSize)).
		SetBatchSize(int32(e.cfg.BatchSize)))
	if err != nil {
		return nil, fmt.Errorf("downloading changes: %w", err)
	}
	var docs []opDoc
	if err := cur.All(octx, &docs); err != nil {
		return nil, fmt.Errorf("downloading changes: %w", err)
	}
	ops := make([]meta.Op, 0, len(docs))
	bad := map[string]bool{}
	for i := range docs {
		op, err := fromDoc(&docs[i])
		if bad[docs[i].Device] {
			continue
		}
		if err != nil {
			// Ops are gapless: skipping one would lose it for good, so
			// this device's later ops wait too. Loud, because only a
			// person can fix the server's data.
			e.log.Error("sync: ignoring a malformed change on the server and the rest of its device's changes",
				"op", docs[i].ID, "err", err)
			bad[docs[i].Device] = true
			continue
		}
		ops = append(ops, op)
	}
	return ops, nil
}

// estimate is the number of ops left to download according to the
// devices collection, and the compaction floors devices advertise there.
func (e *Engine) estimate(ctx context.Context, vv map[string]uint64) (int, []floorDoc, error) {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	cur, err := e.devs.Find(octx, bson.D{}, options.Find().SetProjection(bson.D{{Key: "maxSeq", Value: 1}, {Key: "floor", Value: 1},
		{Key: "name", Value: 1}, {Key: "clockOffsetMs", Value: 1}, {Key: "subscription", Value: 1}}))
	if err != nil {
		return 0, nil, fmt.Errorf("reading the devices collection: %w", err)
	}
	var devs []struct {
		ID     string    `bson:"_id"`
		MaxSeq int64     `bson:"maxSeq"`
		Floor  *floorDoc `bson:"floor"`
		Name   string    `bson:"name"`
		Offset *int64    `bson:"clockOffsetMs"`
		Sub    bson.Raw  `bson:"subscription"`
	}
	if err := cur.All(octx, &devs); err != nil {
		return 0, nil, fmt.Errorf("reading the devices collection: %w", err)
	}
	total := 0
	var floors []floorDoc
	floor := map[string]uint64{}
	peers := map[string]peer{}
	maxSeq := map[string]uint64{}
	subscribers := false
	for _, d := range devs {
		maxSeq[d.ID] = uint64(max(d.MaxSeq, 0))
		subscribers = subscribers || len(d.Sub) > 0
		peers[d.ID] = peer{Name: d.Name, OffsetMs: d.Offset}
		if d.ID != e.store.Device() && uint64(d.MaxSeq) > vv[d.ID] {
			total += int(uint64(d.MaxSeq) - vv[d.ID])
		}
		if d.Floor != nil && d.Floor.Snap != "" {
			floors = append(floors, *d.Floor)
			raiseFloor(floor, d.Floor.Vector)
		}
	}
	e.savePeerNames(peers)
	e.mu.Lock()
	e.mu.floor = floor
	e.mu.peers = peers
	e.mu.maxSeq = maxSeq
	e.mu.subscribers = subscribers
	e.mu.Unlock()
	return total, floors, nil
}

// flushPapers writes the readable documents of every paper changed
// since the last flush, then forgets them.
func (e *Engine) flushPapers(ctx context.Context) error {
	due := e.dirty()
	if len(due) > 0 {
		if err := e.writePapers(ctx, due); err != nil {
			return err
		}
		if err := e.store.SetSyncState(stDirty, ""); err != nil {
			return err
		}
	}
	e.lastPapers = time.Now()
	return nil
}

// writePapers refreshes the readable documents of the given papers.
//
// Many devices write the same document, each from its own merged view, so
// a write must never replace a more complete state with a less complete
// one. The version is the sum of the writer's version vector, read before
// the paper: it grows with every op a device applies, a device that has
// every op has the largest sum, and every device rewrites a paper after
// each op it applies to it. So the document with the largest version,
// which the conditional upsert keeps, is eventually a state that includes
// every op. The filter {_id, _v: {$lt: v}} matches only an older document;
// if a newer one exists the upsert's insert fails with a duplicate key,
// which means someone already wrote a newer state.
func (e *Engine) writePapers(ctx context.Context, ids map[string]bool) error {
	if len(ids) == 0 {
		return nil
	}
	vv, err := e.store.Vector()
	if err != nil {
		return err
	}
	var version int64
	for _, n := range vv {
		version += int64(n)
	}
	self := e.store.Device()
	now := time.Now().UTC().Truncate(time.Millisecond)
	return pipeline(slices.Collect(slices.Chunk(sortedKeys(ids), e.cfg.BatchSize)),
		func(chunk []string) ([]bson.D, error) {
			docs := make([]bson.D, 0, len(chunk))
			for _, id := range chunk {
				p, le, err := e.store.GetLastEdit(id)
				if errors.Is(err, meta.ErrNotFound) {
					continue
				}
				if err != nil {
					return nil, err
				}
				docs = append(docs, paperDoc(&p, le, version, self, now))
			}
			return docs, nil
		},
		func(_ []string, docs []bson.D) error {
			if len(docs) == 0 {
				return nil
			}
			return e.writePaperChunk(ctx, docs, version)
		})
}

// pipeline prepares batch i+1 in a goroutine while consume sends batch i,
// so local work (reading the store, building documents) overlaps the
// server's. It returns the first error, after the goroutine has stopped.
func pipeline[In, Out any](chunks [][]In, produce func([]In) (Out, error), consume func([]In, Out) error) error {
	type item struct {
		in  []In
		out Out
		err error
	}
	ch := make(chan item, 1)
	stop := make(chan struct{})
	go func() {
		defer close(ch)
		for _, c := range chunks {
			out, err := produce(c)
			select {
			case ch <- item{c, out, err}:
			case <-stop:
				return
			}
			if err != nil {
				return
			}
		}
	}()
	defer func() {
		close(stop)
		for range ch {
		}
	}()
	for it := range ch {
		if it.err != nil {
			return it.err
		}
		if err := consume(it.in, it.out); err != nil {
			return err
		}
	}
	return nil
}

func (e *Engine) writePaperChunk(ctx context.Context, docs []bson.D, version int64) error {
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	// Insert first: papers with no document yet (an import, a first
	// upload, a new device's bootstrap) go in with one insertMany, far
	// cheaper than as many upserts, and each one that exists fails alone
	// with a duplicate key (cheap: the _id index) and takes the
	// conditional path. Asking first which exist would cost a query that
	// FerretDB answers by scanning the collection.
	var todo []bson.D
	fresh := docs
	if len(fresh) > 0 {
		_, err := e.papers.InsertMany(octx, toAny(fresh), options.InsertMany().SetOrdered(false))
		if err != nil {
			var bwe mongo.BulkWriteException
			if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
				return fmt.Errorf("writing papers: %w", err)
			}
			for _, we := range bwe.WriteErrors {
				if we.Code != 11000 || we.Index < 0 || we.Index >= len(fresh) {
					return fmt.Errorf("writing papers: %w", err)
				}
				todo = append(todo, fresh[we.Index])
			}
		}
	}
	todo, err := e.outdated(octx, todo, version)
	if err != nil {
		return fmt.Errorf("writing papers: %w", err)
	}
	if len(todo) == 0 {
		return nil
	}
	models := make([]mongo.WriteModel, len(todo))
	for i, d := range todo {
		models[i] = mongo.NewReplaceOneModel().
			SetFilter(bson.D{{Key: "_id", Value: d[0].Value}, {Key: "_v", Value: bson.D{{Key: "$lt", Value: version}}}}).
			SetReplacement(d).
			SetUpsert(true)
	}
	_, err = e.papers.BulkWrite(octx, models, options.BulkWrite().SetOrdered(false))
	if err != nil {
		var bwe mongo.BulkWriteException
		if !errors.As(err, &bwe) || bwe.WriteConcernError != nil {
			return fmt.Errorf("writing papers: %w", err)
		}
		for _, we := range bwe.WriteErrors {
			if we.Code != 11000 {
				return fmt.Errorf("writing papers: %w", err)
			}
		}
	}
	return nil
}

// outdated keeps the documents whose stored copy is older than version
// and says something else: the others would be left as they are by the
// conditional replace anyway (versions only grow), or would be rewritten
// with the same content. A device that applied another's ops writes the
// same papers that device wrote, mostly with the same content; asking
// once per chunk costs FerretDB one scan of the collection where a
// conditional replace costs one scan per document, so a new device
// catching up on n papers cost O(n²) (Atlas answers both from the _id
// index).
func (e *Engine) outdated(ctx context.Context, docs []bson.D, version int64) ([]bson.D, error) {
	if len(docs) == 0 {
		return nil, nil
	}
	ids := make([]any, len(docs))
	for i, d := range docs {
		ids[i] = d[0].Value
	}
	cur, err := e.papers.Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$in", Value: ids}}}},
		options.Find().SetProjection(bson.D{{Key: "_id", Value: 1}, {Key: "_v", Value: 1}, {Key: "_h", Value: 1}}))
	if err != nil {
		return nil, err
	}
	var stored []struct {
		ID      string `bson:"_id"`
		Version int64  `bson:"_v"`
		Hash    string `bson:"_h"`
	}
	if err := cur.All(ctx, &stored); err != nil {
		return nil, err
	}
	type state struct {
		version int64
		hash    string
	}
	have := make(map[string]state, len(stored))
	for _, s := range stored {
		have[s.ID] = state{s.Version, s.Hash}
	}
	return slices.DeleteFunc(docs, func(d bson.D) bool {
		id, _ := d[0].Value.(string)
		s, ok := have[id]
		return ok && (s.version >= version || (s.hash != "" && s.hash == docHash(d)))
	}), nil
}

func toAny(docs []bson.D) []any {
	out := make([]any, len(docs))
	for i, d := range docs {
		out[i] = d
	}
	return out
}

// deviceDocStale says the devices document should be refreshed: it is
// written after uploads and otherwise at most every few minutes, so idle
// polling never writes.
func (e *Engine) deviceDocStale() bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	return time.Since(e.mu.lastDev) > 5*time.Minute
}

// writeDevice upserts this device's document. Only this device writes it;
// $max keeps maxSeq from going back if an older process races a newer one.
func (e *Engine) writeDevice(ctx context.Context, maxSeq uint64) error {
	self := e.store.Device()
	octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
	defer cancel()
	now := time.Now().UTC()
	set := bson.D{{Key: "name", Value: e.cfg.DeviceName}, {Key: "lastSeen", Value: now}}
	e.mu.Lock()
	if !e.mu.clockAt.IsZero() {
		set = append(set, bson.E{Key: "clockOffsetMs", Value: e.mu.clockOffset.Milliseconds()})
	}
	e.mu.Unlock()
	update := bson.D{
		{Key: "$set", Value: set},
		{Key: "$max", Value: bson.D{{Key: "maxSeq", Value: int64(maxSeq)}}},
	}
	// Compacting devices write per-paper snapshot entries while some
	// device says it has a subscription.
	if sub := e.subscription(); !sub.All() {
		set = append(set, bson.E{Key: "subscription", Value: bson.D{{Key: "tags", Value: nonNil(sub.Tags)}, {Key: "folders", Value: nonNil(sub.Folders)}}})
		update[0].Value = set
	} else {
		update = append(update, bson.E{Key: "$unset", Value: bson.D{{Key: "subscription", Value: ""}}})
	}
	_, err := e.devs.UpdateOne(octx, bson.D{{Key: "_id", Value: self}}, update, options.UpdateOne().SetUpsert(true))
	if err != nil {
		return fmt.Errorf("updating the devices collection: %w", err)
	}
	e.mu.Lock()
	e.mu.lastDev = time.Now()
	e.mu.Unlock()
	return nil
}

// dirty is the set of papers whose readable documents a crashed round
// may not have written.
func (e *Engine) dirty() map[string]bool {
	out := map[string]bool{}
	v, err := e.store.SyncState(stDirty)
	if err != nil || v == "" {
		return out
	}
	var ids []string
	if json.Unmarshal([]byte(v), &ids) == nil {
		for _, id := range ids {
			out[id] = true
		}
	}
	return out
}

func (e *Engine) markDirty(batch map[string]bool) error {
	if e.isReadOnly() {
		// It writes no papers documents; the members who may write do.
		return nil
	}
	all := e.dirty()
	for id := range batch {
		all[id] = true
	}
	b, err := json.Marshal(sortedKeys(all))
	if err != nil {
		return err
	}
	return e.store.SetSyncState(stDirty, string(b))
}
