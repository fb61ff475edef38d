package meta

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Backups of a store are copies of its database file in the backups
// folder beside it, meta-<time>.db, each with a check file of its own
// (meta-<time>.db.check) that says what it must hold.

// BackupDir is the folder of the backups of the database at dbPath.
func BackupDir(dbPath string) string { return filepath.Join(filepath.Dir(dbPath), "backups") }

// Backup describes one backup.
type Backup struct {
	Path   string
	Made   time.Time // when the backup was made
	Time   time.Time // of the last commit it holds
	Size   int64
	Papers uint64
	Seq    uint64 // last local op it holds
	Err    error  // why it cannot be restored; nil when its check verifies
	crc    uint32
}

const backupTimeFormat = "20060102T150405.000Z"

// Backup copies the database, as of its last commit, to a new file in
// BackupDir. Writers are held only while it notes where the last commit
// ended: the file is append-only until a rewrite, which puts a new file
// in its place, so the descriptor it copies from keeps those bytes.
func (s *Store) Backup() (Backup, error) {
	s.mu.Lock()
	rec, failed := s.rec, s.failed
	f, err := os.Open(s.path)
	s.mu.Unlock()
	if failed != nil {
		return Backup{}, failed
	}
	if err != nil {
		return Backup{}, storageErr("opening "+s.path, err)
	}
	defer f.Close()
	dir := BackupDir(s.path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return Backup{}, storageErr("creating "+dir, err)
	}
	now := time.Now().UTC()
	path := filepath.Join(dir, "meta-"+now.Format(backupTimeFormat)+".db")
	if err := copyChecked(f, path, rec); err != nil {
		return Backup{}, err
	}
	return Backup{Path: path, Made: now, Time: rec.Time, Size: rec.Size, Papers: rec.Papers, Seq: rec.Seq, crc: rec.CRC}, nil
}

// copyChecked copies the first rec.Size bytes of src to a new file at
// path, verifying them against rec, and writes path's check file; both
// durably. The check file comes first: a copy without one is not listed.
func copyChecked(src *os.File, path string, rec checkRecord) error {
	tmp := path + ".tmp"
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
	if err != nil {
		return storageErr("creating "+tmp, err)
	}
	crc := uint32(0)
	n, err := io.Copy(io.MultiWriter(out, crcWriter{&crc}), io.NewSectionReader(src, 0, rec.Size))
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp)
		return storageErr("copying "+src.Name()+" to "+tmp, err)
	}
	if n != rec.Size || crc != rec.CRC {
		os.Remove(tmp)
		return &DamagedError{Path: src.Name(), Reason: "its bytes changed since they were written", Check: &rec}
	}
	rec.Gen, rec.Shrinking = 1, false
	if err := writeCheckFile(checkPath(path), rec); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return storageErr("renaming "+tmp, err)
	}
	return syncDir(filepath.Dir(path))
}

// BackupIfDue makes a backup when the newest one was made more than every
// ago (or there is none) and the database changed since, then removes all
// but the newest keep. It reports whether it made one.
func (s *Store) BackupIfDue(every time.Duration, keep int) (bool, error) {
	list, err := ListBackups(s.path, false)
	if err != nil {
		return false, err
	}
	s.mu.RLock()
	cur := s.rec
	s.mu.RUnlock()
	for _, b := range list {
		if b.Err != nil {
			continue
		}
		if time.Since(b.Made) < every || b.Size == cur.Size && b.crc == cur.CRC {
			return false, nil
		}
		break
	}
	if _, err := s.Backup(); err != nil {
		return false, err
	}
	return true, PruneBackups(s.path, keep)
}

// PruneBackups removes all but the newest keep backups that verify, and
// any that do not verify once keep good ones are newer.
func PruneBackups(dbPath string, keep int) error {
	list, err := ListBackups(dbPath, false)
	if err != nil {
		return err
	}
	good := 0
	for _, b := range list {
		if good < keep {
			if b.Err == nil {
				good++
			}
			continue
		}
		for _, p := range []string{b.Path, checkPath(b.Path)} {
			if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
				return storageErr("removing an old backup", err)
			}
		}
	}
	return nil
}

// ListBackups lists the backups of the database at dbPath, newest first,
// each checked against its check file: its bytes with verify, else only
// its size.
func ListBackups(dbPath string, verify bool) ([]Backup, error) {
	dir := BackupDir(dbPath)
	names, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, storageErr("reading "+dir, err)
	}
	var out []Backup
	for _, e := range names {
		name := e.Name()
		if !strings.HasPrefix(name, "meta-") || !strings.HasSuffix(name, ".db") {
			continue
		}
		out = append(out, readBackup(filepath.Join(dir, name), verify))
	}
	slices.SortFunc(out, func(a, b Backup) int { return strings.Compare(b.Path, a.Path) })
	return out, nil
}

func readBackup(path string, verify bool) Backup {
	b := Backup{Path: path}
	if t, err := time.Parse(backupTimeFormat, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(path), "meta-"), ".db")); err == nil {
		b.Made = t
	}
	rec, found, err := readCheck(checkPath(path))
	switch {
	case err != nil:
		b.Err = err
		return b
	case !found:
		b.Err = fmt.Errorf("backup %s has no check file", path)
		return b
	}
	b.Time, b.Size, b.Papers, b.Seq, b.crc = rec.Time, rec.Size, rec.Papers, rec.Seq, rec.CRC
	ok, size, err := true, int64(-1), error(nil)
	if verify {
		ok, size, err = verifyPrefix(path, rec)
	} else if st, serr := os.Stat(path); serr == nil {
		size = st.Size()
	}
	if err == nil && (!ok || size != rec.Size) {
		err = &DamagedError{Path: path, Reason: "it does not match its check file", Check: &rec}
	}
	b.Err = err
	return b
}

// Restore replaces the database at dbPath with a backup, after checking
// the backup. The database it replaces is kept beside it, renamed
// meta.db.replaced-<time> (and its check file), and its path returned.
// The database must not be open (a mount holds it).
//
// Each step leaves something Open refuses or accepts whole: until the new
// check file is in place, the restored file does not match the old one.
func Restore(dbPath, backupPath string) (kept string, err error) {
	lock, err := lockFile(dbPath + ".lock")
	if err != nil {
		return "", err
	}
	defer lock.Close()
	b := readBackup(backupPath, true)
	if b.Err != nil {
		return "", fmt.Errorf("not restoring %s: %w", backupPath, b.Err)
	}
	rec, _, err := readCheck(checkPath(backupPath))
	if err != nil {
		return "", err
	}
	src, err := os.Open(backupPath)
	if err != nil {
		return "", storageErr("opening "+backupPath, err)
	}
	defer src.Close()
	tmp := dbPath + ".restoring"
	if err := copyChecked(src, tmp, rec); err != nil {
		return "", err
	}
	kept, err = keepAside(dbPath)
	if err != nil {
		return "", err
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		return "", storageErr("renaming "+tmp, err)
	}
	if err := os.Rename(checkPath(tmp), checkPath(dbPath)); err != nil {
		return "", storageErr("renaming "+checkPath(tmp), err)
	}
	return kept, syncDir(filepath.Dir(dbPath))
}

// MoveAside renames the database at dbPath and its check file out of the
// way (meta.db.replaced-<time>), so the next Open starts an empty one, as
// a rebuild from the sync server needs. It returns the new name, "" when
// there was nothing to move.
func MoveAside(dbPath string) (string, error) {
	lock, err := lockFile(dbPath + ".lock")
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if !exists(dbPath) && !exists(checkPath(dbPath)) {
		return "", nil
	}
	kept, err := keepAside(dbPath)
	if err != nil {
		return "", err
	}
	for _, p := range []string{dbPath, checkPath(dbPath)} {
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", storageErr("removing "+p, err)
		}
	}
	return kept, syncDir(filepath.Dir(dbPath))
}

// keepAside links the database and copies its check file to a new name,
// leaving both in place.
func keepAside(dbPath string) (string, error) {
	kept := dbPath + ".replaced-" + time.Now().UTC().Format(backupTimeFormat)
	if err := os.Link(dbPath, kept); err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", storageErr("keeping "+dbPath, err)
	}
	if b, err := os.ReadFile(checkPath(dbPath)); err == nil {
		if err := writeFileSync(checkPath(kept), b); err != nil {
			return "", err
		}
	}
	return kept, nil
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}
