package meta

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
)

// damageLibrary makes a closed store of n papers, each edited once, and
// returns its path.
func damageLibrary(t *testing.T, n int) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		p, err := s.Create(Paper{Title: fmt.Sprintf("paper %04d", i), Tags: []string{"t"}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Update(p.ID, func(p *Paper) error { p.Note = "read"; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return path
}

func countPapers(t *testing.T, path string) int {
	t.Helper()
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	n, _ := s.Count(View{Kind: All})
	return n
}

// TestDamagedStoreRefused: a database file cut short, emptied, removed or
// with changed bytes is refused as damaged, and left exactly as it was:
// before, it opened with the papers it still had, and the next scan
// re-created the rest as new papers.
func TestDamagedStoreRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		damage func(b []byte) []byte
	}{
		{"truncated to half", func(b []byte) []byte { return b[:len(b)/2] }},
		{"cut by one byte", func(b []byte) []byte { return b[:len(b)-1] }},
		{"emptied", func(b []byte) []byte { return nil }},
		{"a title changed", func(b []byte) []byte {
			return bytes.Replace(b, []byte("paper 0007"), []byte("paper 7777"), -1)
		}},
		{"garbage in the middle", func(b []byte) []byte {
			copy(b[len(b)/2:], bytes.Repeat([]byte{0xff}, 64))
			return b
		}},
		{"one bit flipped", func(b []byte) []byte { b[len(b)/3] ^= 1; return b }},
		{"removed", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			path := damageLibrary(t, 40)
			if c.damage == nil {
				os.Remove(path)
			} else {
				b, err := os.ReadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(path, c.damage(b), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			before, _ := os.ReadFile(path)
			_, err := Open(path, Options{})
			var de *DamagedError
			if !errors.Is(err, ErrDamaged) || !errors.As(err, &de) || de.Check == nil || de.Check.Papers != 40 {
				t.Fatalf("opened: %v", err)
			}
			t.Log(err)
			after, _ := os.ReadFile(path)
			if !bytes.Equal(before, after) {
				t.Fatal("opening changed the damaged file")
			}
			if _, err := Open(path, Options{}); !errors.Is(err, ErrDamaged) {
				t.Fatalf("second open: %v", err)
			}
		})
	}
}

// TestCheckCrashConsistency: what a crash can leave is accepted: a commit
// the check file does not describe yet, a torn newest slot, a store from
// before check files, a rewrite the check announced.
func TestCheckCrashConsistency(t *testing.T) {
	t.Run("check one commit behind", func(t *testing.T) {
		path := damageLibrary(t, 5)
		old, _ := os.ReadFile(checkPath(path))
		s, err := Open(path, Options{})
		if err != nil {
			t.Fatal(err)
		}
		mustCreate(t, s, Paper{Title: "last"})
		s.Close()
		os.WriteFile(checkPath(path), old, 0o600)
		if n := countPapers(t, path); n != 6 {
			t.Fatalf("%d papers", n)
		}
	})
	t.Run("torn newest slot", func(t *testing.T) {
		path := damageLibrary(t, 5)
		rec, _, _ := readCheck(checkPath(path))
		b, _ := os.ReadFile(checkPath(path))
		b[int(rec.Gen%2)*slotSize+20] ^= 0xff
		os.WriteFile(checkPath(path), b, 0o600)
		if n := countPapers(t, path); n != 5 {
			t.Fatalf("%d papers", n)
		}
	})
	t.Run("both slots torn", func(t *testing.T) {
		path := damageLibrary(t, 5)
		os.WriteFile(checkPath(path), bytes.Repeat([]byte{1}, 2*slotSize), 0o600)
		if _, err := Open(path, Options{}); !errors.Is(err, ErrDamaged) {
			t.Fatalf("opened: %v", err)
		}
	})
	t.Run("check file created, never synced", func(t *testing.T) {
		path := damageLibrary(t, 5)
		os.WriteFile(checkPath(path), nil, 0o600)
		if n := countPapers(t, path); n != 5 {
			t.Fatalf("%d papers", n)
		}
	})
	t.Run("no check file yet", func(t *testing.T) {
		path := damageLibrary(t, 5)
		os.Remove(checkPath(path))
		if n := countPapers(t, path); n != 5 {
			t.Fatalf("%d papers", n)
		}
		if _, found, err := readCheck(checkPath(path)); !found || err != nil {
			t.Fatalf("no check file written: %v", err)
		}
	})
	for _, lose := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash after a rewrite, key lost %v", lose), func(t *testing.T) {
			path := damageLibrary(t, 5)
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			announced := s.rec
			keys, _, _ := s.stats()
			announced.Gen++
			announced.Shrinking, announced.Keys = true, uint64(keys)
			s.mu.Lock()
			if err := s.shrink(); err != nil {
				t.Fatal(err)
			}
			s.mu.Unlock()
			s.Close()
			b, _ := os.ReadFile(path)
			if lose { // the rewrite is sorted: its last SET is the last key
				i := bytes.LastIndex(b, []byte("*3\r\n"))
				b = b[:i]
			}
			os.WriteFile(path, b, 0o600)
			// The check as it was between the announcement and the rename.
			if err := writeCheckFile(checkPath(path), announced); err != nil {
				t.Fatal(err)
			}
			_, err = Open(path, Options{})
			if lose != errors.Is(err, ErrDamaged) {
				t.Fatalf("open: %v", err)
			}
		})
	}
}
