package meta

import (
	"bytes"
	"errors"
	"os"
	"testing"
	"time"
)

// TestBackupRestore: a damaged store comes back from its backup, the
// damaged file is kept, and a damaged backup is refused.
func TestBackupRestore(t *testing.T) {
	path := damageLibrary(t, 10)
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	dev := s.Device()
	b, err := s.Backup()
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, Paper{Title: "after the backup"})
	s.Close()
	data, _ := os.ReadFile(path)
	os.WriteFile(path, data[:len(data)/2], 0o600)
	if _, err := Open(path, Options{}); !errors.Is(err, ErrDamaged) {
		t.Fatalf("damaged store opened: %v", err)
	}

	list, err := ListBackups(path, true)
	if err != nil || len(list) != 1 || list[0].Path != b.Path || list[0].Err != nil || list[0].Papers != 10 {
		t.Fatalf("ListBackups = %+v, %v", list, err)
	}
	kept, err := Restore(path, b.Path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(kept); len(got) != len(data)/2 {
		t.Fatalf("damaged file not kept: %d bytes at %s", len(got), kept)
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(View{Kind: All}); n != 10 || s.Device() != dev {
		t.Fatalf("restored: %d papers, device %s", n, s.Device())
	}
	mustCreate(t, s, Paper{Title: "after the restore"})
	s.Close()
	if n := countPapers(t, path); n != 11 {
		t.Fatalf("%d papers after reopening", n)
	}

	// A backup whose bytes changed is listed as such and not restored.
	bad, _ := os.ReadFile(b.Path)
	bad[len(bad)/2] ^= 1
	os.WriteFile(b.Path, bad, 0o600)
	if list, _ := ListBackups(path, true); len(list) != 1 || !errors.Is(list[0].Err, ErrDamaged) {
		t.Fatalf("damaged backup listed as %+v", list)
	}
	if _, err := Restore(path, b.Path); !errors.Is(err, ErrDamaged) {
		t.Fatalf("damaged backup restored: %v", err)
	}
	if n := countPapers(t, path); n != 11 {
		t.Fatalf("%d papers after a refused restore", n)
	}
}

// TestBackupIfDue: a backup is made when the newest is old enough, and
// only the newest few are kept.
func TestBackupIfDue(t *testing.T) {
	s := openTest(t, "")
	mustCreate(t, s, Paper{Title: "one"})
	for i := range 4 {
		made, err := s.BackupIfDue(0, 2)
		if err != nil || !made {
			t.Fatalf("backup %d: %v %v", i, made, err)
		}
		mustCreate(t, s, Paper{Title: "more"})
		time.Sleep(time.Millisecond) // backups are named by the millisecond: the next one needs a new name
	}
	list, _ := ListBackups(s.Path(), true)
	if len(list) != 2 || list[0].Papers != 4 || list[1].Papers != 3 {
		t.Fatalf("kept %+v", list)
	}
	if made, err := s.BackupIfDue(24*time.Hour, 2); made || err != nil {
		t.Fatalf("backup made within a day of the last: %v", err)
	}
	entries, _ := os.ReadDir(BackupDir(s.Path()))
	if len(entries) != 4 { // two backups and their check files
		t.Fatalf("backups folder holds %d files", len(entries))
	}
}

// TestMoveAside: a rebuild starts from an empty store; the old database
// and its check file are kept.
func TestMoveAside(t *testing.T) {
	path := damageLibrary(t, 3)
	data, _ := os.ReadFile(path)
	kept, err := MoveAside(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(kept); !bytes.Equal(got, data) {
		t.Fatalf("%s holds %d bytes, not the %d of the database", kept, len(got), len(data))
	}
	if _, err := os.Stat(checkPath(kept)); err != nil {
		t.Fatal(err)
	}
	if n := countPapers(t, path); n != 0 {
		t.Fatalf("%d papers", n)
	}
}
