package meta

import (
	"strings"

	"github.com/tidwall/buntdb"
)

// pStamp keys what this device last saw of a paper's PDF: fs:<id> -> an
// opaque stamp (see SetFileStamps). Stamps are local: never synced, never
// part of a paper, never in a snapshot.
const pStamp = "fs:"

// FileStamps returns the file stamps by paper id.
func (s *Store) FileStamps() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *buntdb.Tx) error {
		return tx.AscendGreaterOrEqual("", pStamp, func(k, v string) bool {
			id, ok := strings.CutPrefix(k, pStamp)
			if ok {
				out[id] = v
			}
			return ok
		})
	})
	return out, err
}

// SetFileStamps records, in one commit, what this device last saw of
// papers' PDFs when their content hash was known (the library scan's
// size and modification time, as rsync compares files). An empty stamp
// removes a paper's.
func (s *Store) SetFileStamps(stamps map[string]string) error {
	if len(stamps) == 0 {
		return nil
	}
	return s.write(func(tx *buntdb.Tx, _ *writer) error {
		for id, v := range stamps {
			var err error
			if v == "" {
				_, err = tx.Delete(pStamp + id)
				if err == buntdb.ErrNotFound {
					err = nil
				}
			} else {
				_, _, err = tx.Set(pStamp+id, v, nil)
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
}

// keyLibraryMount records that the library folder was a mount point of its
// own (a cloud drive, a network share) when last scanned.
const keyLibraryMount = "m:library-mount"

// LibraryMountPoint reports whether the library folder was a mount point
// at the last scan that found it.
func (s *Store) LibraryMountPoint() (bool, error) {
	var v string
	err := s.db.View(func(tx *buntdb.Tx) error {
		var err error
		v, err = tx.Get(keyLibraryMount)
		if err == buntdb.ErrNotFound {
			return nil
		}
		return err
	})
	return v == "1", err
}

// SetLibraryMountPoint records whether the library folder is a mount point.
func (s *Store) SetLibraryMountPoint(mounted bool) error {
	v := "0"
	if mounted {
		v = "1"
	}
	return s.write(func(tx *buntdb.Tx, _ *writer) error {
		_, _, err := tx.Set(keyLibraryMount, v, nil)
		return err
	})
}
