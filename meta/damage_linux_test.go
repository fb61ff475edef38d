package meta

import (
	"errors"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfs/paperfs/meta/fulldisk"
)

// TestFullDisk: a save on a full disk is a storage error that says
// ENOSPC, not invalid input, and stores nothing; with room again, saves
// work and the database checks out at the next open.
func TestFullDisk(t *testing.T) {
	dir := fulldisk.Mount(t, 1<<20)
	path := filepath.Join(dir, "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { s.Close() }()
	p := mustCreate(t, s, Paper{Title: "kept", Note: "before"})
	free := fulldisk.Fill(t, dir)
	_, err = s.Update(p.ID, func(p *Paper) error { p.Note = strings.Repeat("after ", 10000); return nil })
	if !errors.Is(err, syscall.ENOSPC) || !errors.Is(err, ErrStorage) || errors.Is(err, ErrInvalid) {
		t.Fatalf("save on a full disk: %v", err)
	}
	t.Log(err)
	if got, _ := s.Get(p.ID); got.Note != "before" {
		t.Fatalf("half stored: note %q", got.Note)
	}
	free()
	if _, err := s.Update(p.ID, func(p *Paper) error { p.Note = "after"; return nil }); err != nil {
		t.Fatalf("save with room again: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(p.ID); got.Note != "after" {
		t.Fatalf("after reopening: note %q", got.Note)
	}
}

// TestFailedFsync: a commit whose fsync fails is not acknowledged (buntdb
// ignores that error), and the store takes no more changes, since the
// page cache may now hold what the disk does not.
func TestFailedFsync(t *testing.T) {
	dir, fail := fulldisk.Failing(t)
	s, err := Open(filepath.Join(dir, "meta.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	p := mustCreate(t, s, Paper{Title: "kept", Note: "before"})
	fail()
	_, err = s.Update(p.ID, func(p *Paper) error { p.Note = strings.Repeat("after ", 100000); return nil })
	if !errors.Is(err, ErrStorage) || errors.Is(err, ErrInvalid) {
		t.Fatalf("save with a failed fsync: %v", err)
	}
	t.Log(err)
	if _, err := s.Update(p.ID, func(p *Paper) error { p.Rating = 1; return nil }); !errors.Is(err, ErrStorage) {
		t.Fatalf("save after a failed fsync: %v", err)
	}
}
