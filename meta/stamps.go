package meta

import (
	"maps"
	"slices"
	"strings"

	"github.com/tidwall/buntdb"
)

// pStamp keys what this device last saw of papers' PDFs (see
// SetFileStamps). Stamps are local: never synced, never part of a paper,
// never in a snapshot. They are kept in buckets, fs:<first two characters
// of the id> -> lines of "<id> <stamp>", not a key per paper: buntdb
// spends about a hundred bytes of memory on each key, for the life of a
// mount. (A key fs:<id> of one stamp, as the first version kept them, is
// still read, and goes when the stamp is next set.)
const pStamp = "fs:"

// stampBucket is the key of the bucket holding id's stamp.
func stampBucket(id string) string {
	if len(id) > 2 {
		id = id[:2]
	}
	return pStamp + id
}

// parseStamps adds the stamps of a bucket's value to out.
func parseStamps(v string, out map[string]string) {
	for line := range strings.Lines(v) {
		if id, stamp, ok := strings.Cut(strings.TrimSuffix(line, "\n"), " "); ok {
			out[id] = stamp
		}
	}
}

// FileStamps returns the file stamps by paper id.
func (s *Store) FileStamps() (map[string]string, error) {
	out := map[string]string{}
	err := s.db.View(func(tx *buntdb.Tx) error {
		return tx.AscendGreaterOrEqual("", pStamp, func(k, v string) bool {
			suffix, ok := strings.CutPrefix(k, pStamp)
			if !ok {
				return false
			}
			if len(suffix) > 2 {
				out[suffix] = v // a stamp of the first version's
			} else {
				parseStamps(v, out)
			}
			return true
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
	buckets := map[string][]string{}
	for id := range stamps {
		buckets[stampBucket(id)] = append(buckets[stampBucket(id)], id)
	}
	legacy := 0 // fs:<id> keys removed
	err := s.write(func(tx *buntdb.Tx, _ *writer) error {
		for key, ids := range buckets {
			cur := map[string]string{}
			v, err := tx.Get(key)
			if err != nil && err != buntdb.ErrNotFound {
				return err
			}
			parseStamps(v, cur)
			for _, id := range ids {
				if stamps[id] == "" {
					delete(cur, id)
				} else {
					cur[id] = stamps[id]
				}
				if len(id) > 2 {
					if _, err := tx.Delete(pStamp + id); err == nil {
						legacy++
					} else if err != buntdb.ErrNotFound {
						return err
					}
				}
			}
			if len(cur) == 0 {
				if _, err := tx.Delete(key); err != nil && err != buntdb.ErrNotFound {
					return err
				}
				continue
			}
			var b strings.Builder
			for _, id := range slices.Sorted(maps.Keys(cur)) {
				b.WriteString(id + " " + cur[id] + "\n")
			}
			if _, _, err := tx.Set(key, b.String(), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil || legacy < legacyStampsShrink {
		return err
	}
	// Moving a library's stamps into buckets leaves a set and a delete of
	// every old key in the file, which every open reads (15 MB and a
	// sixth of the start at 100k papers): rewrite it once, as after a
	// migration.
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.failed != nil {
		return nil
	}
	return s.shrink()
}

// legacyStampsShrink is how many fs:<id> keys one SetFileStamps must
// remove for the file to be rewritten after it.
const legacyStampsShrink = 1000

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
