package meta

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"time"
)

// A store's check file (meta.db.check) says how far the database file
// reached at its last acknowledged commit: its size and the CRC-32C of
// those bytes. buntdb's file is append-only between rewrites, so every
// commit extends the checked prefix; at open, a file shorter than the
// check or whose checked bytes differ has lost or changed acknowledged
// records, and is refused before buntdb reads it (buntdb itself cuts a
// file at the first incomplete command, without a word).
//
// Crash consistency: a commit is fsynced first, then its check is
// written, so the check never runs ahead of the database; after a crash
// the file may have commits its check does not describe yet (the check
// file is fsynced at close, not at every commit), which open accepts. The check has two slots written in turn (by gen),
// each with its own CRC: a torn write spoils only the newer one, and the
// older one still describes a prefix of the file. A rewrite (shrink) is
// announced first by a check marked shrinking with the number of keys;
// if the file does not match after a crash, it must be the rewritten one
// and hold exactly that many keys.

// checkRecord is one slot of the check file.
type checkRecord struct {
	Gen       uint64 // commits checked since the file was created; picks the newer slot
	Size      int64  // bytes of the database file covered
	CRC       uint32 // CRC-32C of those bytes
	Shrinking bool   // a rewrite was under way: see above
	Keys      uint64 // keys in the database
	Papers    uint64 // papers in the database
	Seq       uint64 // last local op seq
	Time      time.Time
}

const (
	checkMagic = "PFSCHK1\n"
	slotSize   = 128
	recordSize = 8 + 8 + 8 + 4 + 4 + 8 + 8 + 8 + 8 // without its own CRC
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func (r *checkRecord) marshal() []byte {
	b := make([]byte, slotSize)
	copy(b, checkMagic)
	le := binary.LittleEndian
	le.PutUint64(b[8:], r.Gen)
	le.PutUint64(b[16:], uint64(r.Size))
	le.PutUint32(b[24:], r.CRC)
	if r.Shrinking {
		le.PutUint32(b[28:], 1)
	}
	le.PutUint64(b[32:], r.Keys)
	le.PutUint64(b[40:], r.Papers)
	le.PutUint64(b[48:], r.Seq)
	le.PutUint64(b[56:], uint64(r.Time.UnixNano()))
	le.PutUint32(b[recordSize:], crc32.Checksum(b[:recordSize], crcTable))
	return b
}

func unmarshalRecord(b []byte) (checkRecord, bool) {
	le := binary.LittleEndian
	if len(b) < recordSize+4 || string(b[:8]) != checkMagic ||
		le.Uint32(b[recordSize:]) != crc32.Checksum(b[:recordSize], crcTable) {
		return checkRecord{}, false
	}
	return checkRecord{
		Gen:       le.Uint64(b[8:]),
		Size:      int64(le.Uint64(b[16:])),
		CRC:       le.Uint32(b[24:]),
		Shrinking: le.Uint32(b[28:]) == 1,
		Keys:      le.Uint64(b[32:]),
		Papers:    le.Uint64(b[40:]),
		Seq:       le.Uint64(b[48:]),
		Time:      time.Unix(0, int64(le.Uint64(b[56:]))).UTC(),
	}, true
}

// checkPath is the check file of the database at dbPath.
func checkPath(dbPath string) string { return dbPath + ".check" }

// readCheck returns the newest valid record of a check file; found is false
// when there is no check file, or an empty one (created, then lost to a
// crash before its first sync). A check file with no valid slot is an
// error.
func readCheck(path string) (rec checkRecord, found bool, err error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) || err == nil && len(b) == 0 {
		return rec, false, nil
	}
	if err != nil {
		return rec, false, storageErr("reading the check file "+path, err)
	}
	ok := false
	for off := 0; off+slotSize <= len(b); off += slotSize {
		if r, valid := unmarshalRecord(b[off : off+slotSize]); valid && (!ok || r.Gen > rec.Gen) {
			rec, ok = r, true
		}
	}
	if !ok {
		return rec, true, &DamagedError{Path: path, Reason: "its check file " + filepath.Base(path) + " is unreadable"}
	}
	return rec, true, nil
}

// checkFile is an open check file.
type checkFile struct {
	f      *os.File
	noSync bool
}

func openCheck(path string, noSync bool) (*checkFile, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, storageErr("opening the check file "+path, err)
	}
	return &checkFile{f: f, noSync: noSync}, nil
}

// write stores r in its slot, durably if asked. A commit's record need
// not be: it is written after the commit is on disk, so whatever a crash
// leaves of it describes a durable prefix of the database; a check that
// lost its latest records only checks a shorter prefix. The announcement
// of a rewrite must be durable before the rewrite is.
func (c *checkFile) write(r checkRecord, durable bool) error {
	if _, err := c.f.WriteAt(r.marshal(), int64(r.Gen%2)*slotSize); err != nil {
		return storageErr("writing the check file "+c.f.Name(), err)
	}
	if c.noSync || !durable {
		return nil
	}
	return c.sync()
}

func (c *checkFile) sync() error {
	if err := c.f.Sync(); err != nil {
		return storageErr("syncing the check file "+c.f.Name(), err)
	}
	return nil
}

func (c *checkFile) close() error { return c.f.Close() }

// writeCheckFile creates a check file holding r alone, durably.
func writeCheckFile(path string, r checkRecord) error {
	tmp := path + ".tmp"
	if err := writeFileSync(tmp, r.marshal()); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return storageErr("renaming "+tmp, err)
	}
	return syncDir(filepath.Dir(path))
}

// crcOf returns the CRC-32C of f's first n bytes; ok is false when f is
// shorter.
func crcOf(f *os.File, n int64) (crc uint32, ok bool, err error) {
	h := crc32.New(crcTable)
	got, err := io.Copy(h, io.NewSectionReader(f, 0, n))
	if err != nil {
		return 0, false, storageErr("reading "+f.Name(), err)
	}
	return h.Sum32(), got == n, nil
}

// verifyPrefix reports whether the file at path begins with the bytes r
// describes, and the file's size (-1: there is no file).
func verifyPrefix(path string, r checkRecord) (bool, int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return false, -1, nil
	}
	if err != nil {
		return false, 0, storageErr("opening "+path, err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return false, 0, storageErr("reading "+path, err)
	}
	if st.Size() < r.Size {
		return false, st.Size(), nil
	}
	crc, ok, err := crcOf(f, r.Size)
	return ok && crc == r.CRC, st.Size(), err
}

// ErrDamaged means a database lost or changed records it had acknowledged.
// Nothing writes to it: see `paperfs restore`.
var ErrDamaged = errors.New("damaged")

// DamagedError says which database is damaged and how it was found out.
type DamagedError struct {
	Path   string
	Reason string
	Check  *checkRecord // what the check file says it held, if known
}

func (e *DamagedError) Error() string {
	msg := fmt.Sprintf("metadata database %s is damaged: %s", e.Path, e.Reason)
	if c := e.Check; c != nil {
		msg += fmt.Sprintf("; at its last commit (%s) it held %d papers and %d bytes, up to local op %d",
			c.Time.Local().Format(time.DateTime), c.Papers, c.Size, c.Seq)
	}
	return msg + "; nothing was written to it"
}

func (e *DamagedError) Unwrap() error { return ErrDamaged }

// ErrStorage means the disk failed a read or write of the database: not the
// user's input. errors.Is also finds the system's error (syscall.ENOSPC,
// syscall.EIO) when there is one.
var ErrStorage = errors.New("storage error")

// StorageError is a failed read, write or sync of a store's files.
type StorageError struct {
	Op  string // what was being done, naming the file
	Err error
}

func (e *StorageError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *StorageError) Unwrap() []error {
	return []error{ErrStorage, e.Err}
}

func storageErr(op string, err error) error {
	var se *StorageError
	if errors.As(err, &se) {
		return err
	}
	return &StorageError{Op: op, Err: err}
}

func writeFileSync(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return storageErr("creating "+path, err)
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return storageErr("writing "+path, err)
	}
	return nil
}

// syncDir makes renames in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return storageErr("opening "+dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return storageErr("syncing "+dir, err)
	}
	return nil
}
