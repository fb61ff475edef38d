package meta

import (
	"path/filepath"
	"testing"

	"github.com/tidwall/buntdb"
)

// TestOpenHooks: BeforeLoad runs once the database is locked, so an open
// the lock refuses (paperfs status beside a mount) tunes nothing, and
// Migrating brackets a schema migration only.
func TestOpenHooks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	loads, migrations, done := 0, 0, 0
	opts := Options{
		BeforeLoad: func() { loads++ },
		Migrating:  func() func() { migrations++; return func() { done++ } },
	}
	s, err := Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	if loads != 1 || migrations != 0 {
		t.Fatalf("new database: BeforeLoad ran %d times, Migrating %d; want 1, 0", loads, migrations)
	}
	if _, err := Open(path, opts); err == nil {
		t.Fatal("a second open of a locked database succeeded")
	}
	if loads != 1 {
		t.Errorf("BeforeLoad ran for an open the lock refused")
	}
	if err := s.db.Update(func(tx *buntdb.Tx) error {
		_, _, err := tx.Set(keySchema, "5", nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if loads != 2 || migrations != 1 || done != 1 {
		t.Errorf("old schema: BeforeLoad ran %d times, Migrating %d, its end %d; want 2, 1, 1", loads, migrations, done)
	}
}
