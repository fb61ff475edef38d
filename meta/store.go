package meta

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tidwall/buntdb"
)

// SchemaVersion is the version of the key layout and record format written by
// this code. Open migrates older databases step by step (see migrations) and
// refuses newer ones rather than guess.
const SchemaVersion = 6

// migrations[n] upgrades a database from schema n to n+1 inside one
// transaction; a change to the layout adds a function here and bumps
// SchemaVersion. Schemas 1 to 4 differ only in how they keep the index:
// the step from 4 (which runs last for all of them) rewrites every paper
// as its entry and record in one value and drops every older index key.
// Schema 6 names papers and groups by the portable rule (see names.go):
// the entries, which hold the names, are written anew.
var migrations = map[int]func(tx *buntdb.Tx) error{
	4: rebuildEntries,
	5: toPortableNames,
}

// Index keys of schemas 1 to 4: x:<view>\x00<base name or its hash>\x00<id>,
// g:<kind>\x00<group> (a count), fp:<path>, fh:<sha256>\x00<id>,
// fi:<identifier>\x00<id>, and e:<id> (schema 4's entries, now part of
// p:<id>).
var legacyIndexPrefixes = []string{"x:", "g:", "fp:", "fh:", "fi:", "e:"}

// rebuildEntries writes every paper's value anew, its entry from its
// record, and removes the index keys of older schemas.
func rebuildEntries(tx *buntdb.Tx) error {
	var keys []string
	for _, prefix := range legacyIndexPrefixes {
		if err := tx.AscendRange("", prefix, prefixEnd(prefix), func(k, _ string) bool {
			keys = append(keys, k)
			return true
		}); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if _, err := tx.Delete(k); err != nil {
			return err
		}
	}
	var ids []string
	if err := ascendPrefix(tx, pRecord, func(id, _ string) bool {
		ids = append(ids, id)
		return true
	}); err != nil {
		return err
	}
	for _, id := range ids {
		v, err := tx.Get(pRecord + id)
		if err != nil {
			return err
		}
		_, rec, _ := splitStored(v)
		p, err := getPaper(tx, id)
		if err != nil {
			return err
		}
		if _, _, err := tx.Set(pRecord+id, storedValue(entryOf(&p), rec), nil); err != nil {
			return err
		}
	}
	return nil
}

// A paper is stored as one value, p:<id> -> <n>:<entry><record>: its entry
// (n bytes, see entryOf), which the index is built from at open, then its
// record (JSON). One key per paper rather than two: buntdb spends ~100
// bytes of bookkeeping on each key and reads them all at open.

// storedValue joins a paper's entry and record.
func storedValue(entry, rec string) string {
	return strconv.Itoa(len(entry)) + ":" + entry + rec
}

// splitStored splits a stored paper into its entry and record, without
// copying. Before schema 5 a stored paper was its record alone.
func splitStored(v string) (entry, rec string, ok bool) {
	if strings.HasPrefix(v, "{") {
		return "", v, true
	}
	n, rest, found := strings.Cut(v, ":")
	l, err := strconv.Atoi(n)
	if !found || err != nil || l < 0 || l > len(rest) {
		return "", v, false
	}
	return rest[:l], rest[l:], true
}

// Key layout. Every key is prefixed by its kind; "\x00" separates a key's
// parts because it cannot occur in names, ids or view keys.
const (
	keySchema = "m:schema"
	keyDevice = "m:device"
	keySeq    = "m:seq" // last local op seq
	keyHLC    = "m:hlc" // last stamp issued, so the clock never runs back across restarts
	pRecord   = "p:"    // p:<id> -> <n>:<entry><record> (see storedValue)
	pOp       = "o:"    // o:<device>\x00<seq, 20 digits> -> Op (local ops not yet confirmed sent)
	pVector   = "v:"    // v:<device> -> highest seq of that device applied here
	pSync     = "s:"    // s:<name> -> sync engine state
)

// Options tune a store; the zero value is right for production.
type Options struct {
	// Device overrides the device id (tests run several devices in one
	// process). Empty means the id stored in the database, created on first
	// open.
	Device string
	// Now is the wall clock; nil means time.Now.
	Now func() time.Time
	// FileExists tells whether a library-relative PDF path exists on this
	// device. Papers arriving from other devices are marked missing when it
	// says no. Nil means assume present.
	FileExists func(rel string) bool
	// Member is who this device's ops are made by (see member.go); it is
	// cleaned with CleanMember. Empty leaves ops without one.
	Member string
	// NoSync turns off the fsync after each commit. For benchmarks that
	// build throwaway libraries only.
	NoSync bool
	// Memory policy is the program's to decide (cmd/paperfs), not the
	// store's; these hooks tell it when the store's memory use changes.
	//
	// BeforeLoad, if set, is called once the database is locked and
	// checked, just before its contents are read into memory: a heap
	// about as large as the file is built then.
	BeforeLoad func()
	// Migrating, if set, is called before a schema migration, which
	// rewrites every paper in one transaction and makes garbage in
	// proportion to the library; the function it returns is called when
	// the migration is done.
	Migrating func() (done func())
}

// Store is a library's metadata database. It is safe for concurrent use.
type Store struct {
	db     *buntdb.DB
	path   string
	device string // read-only after Open
	clock  *clock
	feed   feed
	exists func(rel string) bool // read-only after Open
	lock   *os.File              // flock held while open: buntdb itself has none
	noSync bool                  // read-only after Open

	// mu guards idx and the fields below it. Writers hold it for their
	// whole transaction, which also serialises read-modify-write
	// transactions so ops get gapless seqs; readers of the index hold it
	// shared.
	mu     sync.RWMutex
	idx    *index
	file   *os.File   // the database file, opened again: see commit
	check  *checkFile // see check.go
	rec    checkRecord
	shrunk int64  // the file's size when opened or last rewritten
	failed error  // a commit that may not be on disk: no more writes
	member string // who local ops are made by (Options.Member, SetMember)
}

// Open opens or creates the database at path. A database that lost or
// changed acknowledged records (see check.go) is refused with a
// *DamagedError before anything reads or writes it.
//
// Every commit is fsynced before it is acknowledged, so an edit
// acknowledged to an editor or queued for sync survives a crash or power
// loss, and a failed fsync is an error (see commit). Edits are
// human-paced, so the cost (one fsync per save, about a millisecond) is
// invisible; bulk imports batch many papers into one commit.
func Open(path string, opts Options) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("metadata database %s: %w", path, storageErr("creating its folder", err))
	}
	lock, err := lockFile(path + ".lock")
	if err != nil {
		return nil, err
	}
	s, err := open(path, lock, opts)
	if err != nil {
		lock.Close()
		var de *DamagedError
		if errors.As(err, &de) {
			return nil, err
		}
		return nil, fmt.Errorf("metadata database %s: %w", path, err)
	}
	return s, nil
}

func open(path string, lock *os.File, opts Options) (_ *Store, err error) {
	rec, found, err := readCheck(checkPath(path))
	if err != nil {
		if de, ok := err.(*DamagedError); ok {
			de.Path = path
		}
		return nil, err
	}
	rewritten := false // the file is a rewrite the check announced, not yet checked
	if found {
		ok, size, err := verifyPrefix(path, rec)
		if err != nil {
			return nil, err
		}
		if !ok && !rec.Shrinking {
			reason := fmt.Sprintf("it is %d bytes long, its last commit ended at byte %d", size, rec.Size)
			if size < 0 {
				reason = "the file is missing (its check file " + filepath.Base(checkPath(path)) + " is not)"
			} else if size >= rec.Size {
				reason = "bytes it had written are changed"
			}
			return nil, &DamagedError{Path: path, Reason: reason, Check: &rec}
		}
		rewritten = !ok
	}
	if opts.BeforeLoad != nil {
		opts.BeforeLoad()
	}
	db, err := buntdb.Open(path)
	if err != nil {
		if errors.Is(err, buntdb.ErrInvalid) {
			return nil, &DamagedError{Path: path, Reason: "it does not parse (" + err.Error() + ")", Check: checkOrNil(rec, found)}
		}
		return nil, storageErr("opening "+path, err)
	}
	s := &Store{db: db, path: path, exists: opts.FileExists, lock: lock, noSync: opts.NoSync, member: CleanMember(opts.Member)}
	defer func() {
		if err != nil {
			s.closeFiles()
		}
	}()
	var cfg buntdb.Config
	if err := db.ReadConfig(&cfg); err != nil {
		return nil, err
	}
	// Commits are synced by commit, and the file rewritten only by
	// shrink, which keeps the check file in step.
	cfg.SyncPolicy = buntdb.Never
	cfg.AutoShrinkDisabled = true
	if err := db.SetConfig(cfg); err != nil {
		return nil, err
	}
	if rewritten {
		n, _, _ := s.stats()
		if uint64(n) != rec.Keys {
			return nil, &DamagedError{Path: path, Reason: fmt.Sprintf("it was being compacted and holds %d keys, not %d", n, rec.Keys), Check: &rec}
		}
		rec.Size, rec.CRC = 0, 0 // checked anew from the start
	}
	if s.file, err = os.Open(path); err != nil {
		return nil, storageErr("opening "+path, err)
	}
	if st, err := s.file.Stat(); err == nil {
		s.shrunk = st.Size()
	}
	if s.check, err = openCheck(checkPath(path), opts.NoSync); err != nil {
		return nil, err
	}
	s.rec = rec
	if err := s.init(opts); err != nil {
		return nil, err
	}
	if err := s.loadIndex(); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.commit(); err != nil {
		return nil, err
	}
	// Durable from the start: a check file created and lost to a crash
	// before its first sync would read as empty.
	if !opts.NoSync {
		if err := s.check.sync(); err != nil {
			return nil, err
		}
		if !found {
			if err := syncDir(filepath.Dir(path)); err != nil {
				return nil, err
			}
		}
	}
	return s, nil
}

func checkOrNil(rec checkRecord, found bool) *checkRecord {
	if !found {
		return nil
	}
	return &rec
}

// stats returns the number of keys in the database and the last local op
// seq.
func (s *Store) stats() (keys int, seq uint64, err error) {
	err = s.db.View(func(tx *buntdb.Tx) (err error) {
		if v, err := tx.Get(keySeq); err == nil {
			seq, _ = strconv.ParseUint(v, 10, 64)
		}
		keys, err = tx.Len()
		return err
	})
	return keys, seq, err
}

// commit makes what buntdb wrote durable and records it in the check
// file; s.mu is held. buntdb v1.3.0 ignores the error of its own fsync
// (SyncPolicy Always), so it runs with SyncPolicy Never and this fsyncs a
// second descriptor of the same file: Linux reports a failed writeback to
// every descriptor opened before it, and fsync of any descriptor writes
// the whole file. After a failed fsync the page cache may hold a commit
// the disk does not, so the store takes no more writes (the next open
// sees what is on disk).
func (s *Store) commit() error {
	if s.failed != nil {
		return s.failed
	}
	fail := func(err error) error {
		s.failed = fmt.Errorf("%w (metadata database %s takes no more changes until paperfs restarts)", err, s.path)
		return s.failed
	}
	st, err := s.file.Stat()
	if err != nil {
		return fail(storageErr("reading "+s.path, err))
	}
	rec := s.rec
	if st.Size() < rec.Size {
		return fail(&DamagedError{Path: s.path, Reason: fmt.Sprintf("it shrank to %d bytes while open", st.Size()), Check: &rec})
	}
	crc := rec.CRC
	if _, err := io.Copy(crcWriter{&crc}, io.NewSectionReader(s.file, rec.Size, st.Size()-rec.Size)); err != nil {
		return fail(storageErr("reading "+s.path, err))
	}
	if !s.noSync {
		if err := s.file.Sync(); err != nil {
			return fail(storageErr("syncing "+s.path, err))
		}
	}
	keys, seq, err := s.stats()
	if err != nil {
		return fail(err)
	}
	rec.Gen++
	rec.Size, rec.CRC, rec.Keys, rec.Seq, rec.Time = st.Size(), crc, uint64(keys), seq, time.Now()
	if s.idx != nil {
		rec.Papers = uint64(len(s.idx.papers))
	}
	rec.Shrinking = false
	if err := s.check.write(rec, false); err != nil {
		return fail(err)
	}
	s.rec = rec
	return nil
}

// crcWriter extends a CRC-32C with what is written to it.
type crcWriter struct{ crc *uint32 }

func (w crcWriter) Write(p []byte) (int, error) {
	*w.crc = crc32.Update(*w.crc, crcTable, p)
	return len(p), nil
}

func (s *Store) closeFiles() {
	s.db.Close()
	if s.file != nil {
		s.file.Close()
	}
	if s.check != nil {
		s.check.close()
	}
}

// Close compacts the file when it grew by shrinkGrowth of its size at
// open and at least shrinkMinSize; a commit does when it doubled and
// reached autoShrinkSize (buntdb's own rule, which it is kept from
// applying by itself).
const (
	shrinkGrowth   = 0.25
	shrinkMinSize  = 1 << 20
	autoShrinkSize = 32 << 20
)

// shrink rewrites the database file as one SET per live key, in key order
// (buntdb's Shrink); s.mu is held. buntdb loads the whole file at Open; a
// compact, sorted file is both smaller to read and faster to load, because
// its keys go into the in-memory B-tree in order. The check file
// announces the rewrite first, then describes the new file once it is
// durable.
func (s *Store) shrink() error {
	keys, seq, err := s.stats()
	if err != nil {
		return err
	}
	rec := s.rec
	rec.Gen++
	rec.Shrinking, rec.Keys, rec.Seq, rec.Time = true, uint64(keys), seq, time.Now()
	if err := s.check.write(rec, true); err != nil {
		return err
	}
	s.rec = rec
	// A test may have started buntdb's own; let it finish.
	err = s.db.Shrink()
	for deadline := time.Now().Add(time.Minute); errors.Is(err, buntdb.ErrShrinkInProcess) && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		err = s.db.Shrink()
	}
	if err != nil {
		return storageErr("compacting "+s.path, err)
	}
	// buntdb renamed the rewritten file into place and writes to it now.
	f, err := os.Open(s.path)
	if err != nil {
		return storageErr("opening "+s.path, err)
	}
	s.file.Close()
	s.file = f
	if !s.noSync {
		if err := f.Sync(); err != nil {
			s.failed = storageErr("syncing "+s.path, err)
			return s.failed
		}
		if err := syncDir(filepath.Dir(s.path)); err != nil {
			s.failed = err
			return err
		}
	}
	s.rec.Size, s.rec.CRC = 0, 0
	if err := s.commit(); err != nil {
		return err
	}
	s.shrunk = s.rec.Size
	return nil
}

func (s *Store) init(opts Options) error {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	migrated := false
	err := s.db.Update(func(tx *buntdb.Tx) error {
		ver := 0
		if v, err := tx.Get(keySchema); err == nil {
			ver, _ = strconv.Atoi(v)
		} else if !errors.Is(err, buntdb.ErrNotFound) {
			return err
		} else if n, _ := tx.Len(); n == 0 {
			ver = SchemaVersion // a new database starts current
		}
		if ver > SchemaVersion {
			return fmt.Errorf("written by a newer paperfs (schema %d, this one reads up to %d); upgrade paperfs", ver, SchemaVersion)
		}
		if ver < SchemaVersion && opts.Migrating != nil {
			defer opts.Migrating()()
		}
		for ; ver < SchemaVersion; ver++ {
			migrated = true
			if m := migrations[ver]; m != nil {
				if err := m(tx); err != nil {
					return fmt.Errorf("migrating schema %d to %d: %w", ver, ver+1, err)
				}
			}
		}
		if _, _, err := tx.Set(keySchema, strconv.Itoa(SchemaVersion), nil); err != nil {
			return err
		}
		dev, err := tx.Get(keyDevice)
		if errors.Is(err, buntdb.ErrNotFound) {
			dev = opts.Device
			if dev == "" {
				dev = NewID()
			}
			if _, _, err := tx.Set(keyDevice, dev, nil); err != nil {
				return err
			}
		} else if err != nil {
			return err
		}
		if opts.Device != "" && opts.Device != dev {
			return fmt.Errorf("database belongs to device %s, not %s", dev, opts.Device)
		}
		s.device = dev
		s.clock = &clock{device: dev, now: now}
		if v, err := tx.Get(keyHLC); err == nil {
			var h HLC
			if json.Unmarshal([]byte(v), &h) == nil {
				s.clock.observe(h)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.commit(); err != nil {
		return err
	}
	if migrated {
		// A migration rewrites many keys; the file would keep the old
		// ones, read at every open, until the next rewrite.
		return s.shrink()
	}
	return nil
}

// loadIndex builds the index from the entries. An entry that does not
// parse (a damaged file) is rebuilt from its paper's record.
func (s *Store) loadIndex() error {
	var bad []string
	err := s.db.View(func(tx *buntdb.Tx) error {
		// The index's maps are sized for the papers: counting their
		// keys costs a walk, and sizing for every key (file stamps, the
		// op queue) would double the maps.
		n := 0
		if err := ascendPrefix(tx, pRecord, func(string, string) bool { n++; return true }); err != nil {
			return err
		}
		s.idx = newIndex(n)
		return s.idx.load(func(fn func(id, entry string) bool) error {
			return ascendPrefix(tx, pRecord, func(id, v string) bool {
				entry, _, _ := splitStored(v)
				return fn(id, entry)
			})
		}, func(id string) { bad = append(bad, id) })
	})
	if err != nil || len(bad) == 0 {
		return err
	}
	return s.write(func(tx *buntdb.Tx, w *writer) error {
		for _, id := range bad {
			r, p, err := loadForWrite(tx, id)
			if err == nil {
				err = w.store(tx, id, r, &p)
			}
			if err != nil {
				return fmt.Errorf("rebuilding the index entry of paper %s: %w", id, err)
			}
		}
		return nil
	})
}

// Close flushes and closes the database and ends every subscription.
func (s *Store) Close() error {
	s.feed.close()
	s.mu.Lock()
	defer s.mu.Unlock()
	var serr error
	if st, err := s.file.Stat(); err == nil && s.failed == nil {
		grown := st.Size() - s.shrunk
		if st.Size() >= shrinkMinSize && grown > 0 && float64(grown) >= shrinkGrowth*float64(s.shrunk) {
			serr = s.shrink()
		}
	}
	err := s.db.Close()
	if cerr := s.check.sync(); err == nil && !s.noSync {
		err = cerr
	}
	s.file.Close()
	s.check.close()
	s.lock.Close()
	if err == nil {
		err = serr
	}
	return err
}

// SetMember changes who this device's later ops are made by, for an
// opener that learns it only once the store is open (a device name kept
// in the store).
func (s *Store) SetMember(m string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.member = CleanMember(m)
}

// Member is who this device's ops are made by.
func (s *Store) Member() string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.member
}

// Device is this database's device id.
func (s *Store) Device() string { return s.device }

// Path is the database file.
func (s *Store) Path() string { return s.path }

// idLen is the length of generated ids: 12 base32 characters, 60 random bits.
const idLen = 12

// maxIDLen bounds ids imported from other tools.
const maxIDLen = 32

const idAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// NewID makes a paper id: idLen random characters of idAlphabet. Callers
// that need an id before the paper exists (to name its file) use it too,
// so every id looks alike.
func NewID() string {
	var b [idLen]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on Linux
	}
	for i := range b {
		b[i] = idAlphabet[b[i]&31]
	}
	return string(b[:])
}

// validID accepts generated ids and ids imported from other tools (Paperlib
// uses 24-digit hex ObjectIds): 6 to 32 characters of [0-9a-z].
func validID(id string) bool {
	if len(id) < 6 || len(id) > maxIDLen {
		return false
	}
	for _, r := range id {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'z') {
			return false
		}
	}
	return true
}

func getRecord(tx *buntdb.Tx, id string) (*record, error) {
	v, err := tx.Get(pRecord + id)
	if errors.Is(err, buntdb.ErrNotFound) {
		return nil, fmt.Errorf("paper %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, err
	}
	return parseRecord(id, v)
}

// parseRecord reads a stored paper's record; its per-field maps are built
// only when needed (record.decode).
func parseRecord(id, v string) (*record, error) {
	_, rec, ok := splitStored(v)
	if !ok {
		return nil, fmt.Errorf("paper %s: corrupt record: no entry length", id)
	}
	r := newRecord()
	if err := json.Unmarshal([]byte(rec), r); err != nil {
		return nil, fmt.Errorf("paper %s: corrupt record: %w", id, err)
	}
	return r, nil
}

// getRecordForWrite loads a record that ops will be applied to.
func getRecordForWrite(tx *buntdb.Tx, id string) (*record, error) {
	r, err := getRecord(tx, id)
	if err != nil {
		return nil, err
	}
	if err := r.decode(); err != nil {
		return nil, fmt.Errorf("paper %s: corrupt record: %w", id, err)
	}
	return r, nil
}

// Get returns a paper by id.
func (s *Store) Get(id string) (Paper, error) {
	var p Paper
	err := s.db.View(func(tx *buntdb.Tx) error {
		var err error
		p, err = getPaper(tx, id)
		return err
	})
	return p, err
}

// getPaper reads paper id in tx.
func getPaper(tx *buntdb.Tx, id string) (Paper, error) {
	r, err := getRecord(tx, id)
	if err != nil {
		return Paper{}, err
	}
	return r.paper(id)
}

// Create adds a new paper, assigning an id if p.ID is empty.
func (s *Store) Create(p Paper) (Paper, error) {
	out, err := s.CreateMany([]Paper{p})
	if err != nil {
		return Paper{}, err
	}
	return out[0], nil
}

// CreateMany adds papers in one durable commit (bulk import).
func (s *Store) CreateMany(ps []Paper) ([]Paper, error) { return s.createMany(ps, nil) }

// createMany is CreateMany; key, if set, gives each paper its citation
// key inside the transaction, once its id is known.
func (s *Store) createMany(ps []Paper, key func(p *Paper)) ([]Paper, error) {
	out := make([]Paper, len(ps))
	var changes []Change
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		for i, p := range ps {
			p = p.Clone()
			if p.ID == "" {
				p.ID = NewID()
			} else if !validID(p.ID) {
				return fmt.Errorf("paper id %q: %w", p.ID, ErrInvalid)
			}
			if _, err := tx.Get(pRecord + p.ID); err == nil {
				return fmt.Errorf("paper %s: %w", p.ID, ErrExists)
			}
			if key != nil {
				key(&p)
			}
			p.normalize()
			if err := Validate(&p); err != nil {
				return fmt.Errorf("paper %q: %w", p.Title, err)
			}
			np, ch, err := w.change(tx, p.ID, nil, nil, &p)
			if err != nil {
				return err
			}
			out[i] = np
			changes = append(changes, ch)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.feed.publish(changes...)
	return out, nil
}

// Update loads a paper, lets fn change it, validates the result and commits
// it durably as one op. fn must not keep p.
func (s *Store) Update(id string, fn func(p *Paper) error) (Paper, error) {
	out, err := s.UpdateMany([]string{id}, func(p *Paper) error { return fn(p) })
	if err != nil {
		return Paper{}, err
	}
	return out[0], nil
}

// UpdateMany applies fn to several papers in one durable commit: all
// change or none do.
func (s *Store) UpdateMany(ids []string, fn func(p *Paper) error) ([]Paper, error) {
	out := make([]Paper, len(ids))
	var changes []Change
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		for i, id := range ids {
			r, old, err := loadForWrite(tx, id)
			if err != nil {
				return err
			}
			p := old.Clone()
			if err := fn(&p); err != nil {
				return err
			}
			np, ch, err := w.update(tx, id, r, old, &p)
			if err != nil {
				return err
			}
			out[i] = np
			if ch.Before != nil || ch.After != nil {
				changes = append(changes, ch)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.feed.publish(changes...)
	return out, nil
}

// SetMissing records whether this device's library folder lacks the paper's
// PDF. It is device-local state: no op, nothing synced, the rest of the
// record untouched.
func (s *Store) SetMissing(id string, missing bool) error {
	var ch Change
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		r, err := getRecordForWrite(tx, id)
		if err != nil {
			return err
		}
		if r.Missing == missing {
			return nil
		}
		before, err := r.paper(id)
		if err != nil {
			return err
		}
		r.Missing = missing
		after, err := r.paper(id)
		if err != nil {
			return err
		}
		if err := w.store(tx, id, r, &after); err != nil {
			return err
		}
		ch = Change{ID: id, Before: &before, After: &after}
		return nil
	})
	if err == nil && ch.ID != "" {
		s.feed.publish(ch)
	}
	return err
}

// writer carries the state of one write transaction.
type writer struct {
	s       *Store
	seq     uint64
	lastHLC HLC
	ops     []*Op             // made by this write, queued when it ends (see putOps)
	undo    map[string]string // paper id -> its entry before this write
}

// write runs fn in a write transaction and persists the op counter and
// clock with it.
func (s *Store) write(fn func(tx *buntdb.Tx, w *writer) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return s.failed
	}
	w := &writer{s: s}
	fnFailed := false
	err := s.db.Update(func(tx *buntdb.Tx) error {
		if v, err := tx.Get(keySeq); err == nil {
			w.seq, _ = strconv.ParseUint(v, 10, 64)
		}
		start := w.seq
		if err := fn(tx, w); err != nil {
			fnFailed = true
			return err
		}
		if err := putOps(tx, w.ops); err != nil {
			return err
		}
		if w.seq != start {
			if _, _, err := tx.Set(keySeq, strconv.FormatUint(w.seq, 10), nil); err != nil {
				return err
			}
			if err := setVector(tx, s.device, w.seq); err != nil {
				return err
			}
		}
		if !w.lastHLC.IsZero() {
			b, _ := json.Marshal(w.lastHLC)
			if _, _, err := tx.Set(keyHLC, string(b), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		// buntdb rolled the transaction back; so does the index.
		for id, val := range w.undo {
			s.idx.put(id, val)
		}
		if !fnFailed {
			// The commit's write failed (a full disk): buntdb cut
			// the file back to where it was.
			err = storageErr("writing "+s.path, err)
		}
		return err
	}
	if err := s.commit(); err != nil {
		return err
	}
	if s.rec.Size >= autoShrinkSize && s.rec.Size >= 2*s.shrunk {
		// A failed rewrite leaves the file as it was; wait for it to
		// double again before the next try.
		if s.shrink() != nil && s.failed == nil {
			s.shrunk = s.rec.Size
		}
	}
	return nil
}

// change records the local edit old->p as an op, applies it and updates the
// indexes. r is nil for a new paper.
func (w *writer) change(tx *buntdb.Tx, id string, r *record, before, p *Paper) (Paper, Change, error) {
	op, err := diff(r, before, p)
	if err != nil {
		return Paper{}, Change{}, err
	}
	if op == nil {
		return *before, Change{}, nil
	}
	w.seq++
	op.Device, op.Seq, op.ID, op.Member = w.s.device, w.seq, OpID(w.s.device, w.seq), w.s.member
	w.lastHLC = w.s.clock.tick()
	op.Clock = w.lastHLC
	if r != nil {
		op.Base = r.replaced(op)
		op.Clock = w.s.clock.after(w.lastHLC, r.newestOf(op))
	}
	w.ops = append(w.ops, op)
	if r == nil {
		r = newRecord()
	}
	h, logged := r.applyLogged(op, false)
	after, err := r.paper(id)
	if err != nil {
		return Paper{}, Change{}, err
	}
	if err := w.store(tx, id, r, &after); err != nil {
		return Paper{}, Change{}, err
	}
	if logged {
		if err := logHistory(tx, id, []HistoryEntry{h}); err != nil {
			return Paper{}, Change{}, err
		}
	}
	return after, Change{ID: id, Before: before, After: &after}, nil
}

// loadForWrite reads paper id's record for changing it in tx, with the
// paper it holds.
func loadForWrite(tx *buntdb.Tx, id string) (*record, Paper, error) {
	r, err := getRecordForWrite(tx, id)
	if err != nil {
		return nil, Paper{}, err
	}
	old, err := r.paper(id)
	return r, old, err
}

// update commits p, an edited copy of old (the paper record r holds), as
// one op. What an edit may not change (id, modified time, missing flag)
// is taken from old; the result is normalized and validated first.
func (w *writer) update(tx *buntdb.Tx, id string, r *record, old Paper, p *Paper) (Paper, Change, error) {
	p.ID, p.Modified, p.Missing = id, old.Modified, old.Missing
	p.normalize()
	if err := Validate(p); err != nil {
		return Paper{}, Change{}, err
	}
	return w.change(tx, id, r, &old, p)
}

// store writes paper id, its record r and its entry from after, and
// replaces its part of the index, remembering the old one in case the
// transaction fails.
func (w *writer) store(tx *buntdb.Tx, id string, r *record, after *Paper) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	v := storedValue(entryOf(after), string(b))
	if _, _, err := tx.Set(pRecord+id, v, nil); err != nil {
		return err
	}
	// The index holds the entry as part of the stored value, which
	// buntdb holds too: no copy.
	entry, _, _ := splitStored(v)
	prev, err := w.s.idx.put(id, entry)
	if err != nil {
		return err
	}
	if w.undo == nil {
		w.undo = map[string]string{}
	}
	if _, ok := w.undo[id]; !ok {
		w.undo[id] = prev
	}
	return nil
}

func opKey(device string, seq uint64) string {
	return fmt.Sprintf("%s%s\x00%020d", pOp, device, seq)
}

func setVector(tx *buntdb.Tx, device string, seq uint64) error {
	_, _, err := tx.Set(pVector+device, strconv.FormatUint(seq, 10), nil)
	return err
}

// ErrLocked means another process has the database open.
var ErrLocked = errors.New("in use by another paperfs process")
