package meta

import (
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"

	"github.com/tidwall/buntdb"
)

// TestFileStamps: stamps set, changed and removed come back as set, from
// their buckets and from a key of the first version's.
func TestFileStamps(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// A stamp as the first version kept it, one key per paper.
	if err := s.write(func(tx *buntdb.Tx, _ *writer) error {
		_, _, err := tx.Set(pStamp+"aaold0000000", "1 2", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"aaold0000000": "1 2"}
	check := func(what string) {
		t.Helper()
		got, err := s.FileStamps()
		if err != nil || !maps.Equal(got, want) {
			t.Fatalf("%s: %v, %v; want %v", what, got, err, want)
		}
	}
	check("the first version's key")
	set := func(m map[string]string) {
		t.Helper()
		if err := s.SetFileStamps(m); err != nil {
			t.Fatal(err)
		}
		for id, v := range m {
			if v == "" {
				delete(want, id)
			} else {
				want[id] = v
			}
		}
	}
	set(map[string]string{"aa0000000001": "10 100", "aa0000000002": "20 200", "zz0000000003": "30 300"})
	check("set")
	set(map[string]string{"aa0000000001": "11 110", "aa0000000002": "", "aaold0000000": "5 6"})
	check("changed and removed")
	set(map[string]string{"zz0000000003": ""})
	check("a bucket emptied")
	n := 0
	s.db.View(func(tx *buntdb.Tx) error {
		return tx.AscendGreaterOrEqual("", pStamp, func(k, v string) bool {
			if len(k) > len(pStamp) && k[:len(pStamp)] == pStamp {
				n++
				return true
			}
			return false
		})
	})
	if n != 1 {
		t.Errorf("%d stamp keys, want 1 bucket (the old key replaced, the emptied bucket gone)", n)
	}
}

// TestLegacyStampsShrink: moving many first-version stamp keys into
// buckets rewrites the file, so opens no longer read a set and a delete
// of each old key.
func TestLegacyStampsShrink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stamps := map[string]string{}
	if err := s.write(func(tx *buntdb.Tx, _ *writer) error {
		for i := range 2 * legacyStampsShrink {
			id := fmt.Sprintf("id%010d", i)
			stamps[id] = "1700000000 4096"
			if _, _, err := tx.Set(pStamp+id, "1 2", nil); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	if err := s.SetFileStamps(stamps); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if after.Size() >= before.Size() {
		t.Errorf("file %d bytes after moving %d stamps into buckets, %d before: not rewritten", after.Size(), len(stamps), before.Size())
	}
	if got, err := s.FileStamps(); err != nil || !maps.Equal(got, stamps) {
		t.Errorf("stamps after the rewrite: %d, %v", len(got), err)
	}
}
