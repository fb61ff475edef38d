package meta

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/buntdb"
)

// TestQueuePacks checks the op queue across its two forms: a bulk write
// packs its ops under one key, an edit queues its op alone, and reading,
// counting and dropping give the ops one by one in seq order whatever the
// form, including a drop that ends inside a pack, and after a reopen.
func TestQueuePacks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{Device: "dev000000001"})
	if err != nil {
		t.Fatal(err)
	}
	var batch []Paper
	for i := 0; i < 10; i++ {
		batch = append(batch, Paper{Title: fmt.Sprintf("Paper %d", i), Tags: []string{"t"}})
	}
	ps, err := s.CreateMany(batch) // seqs 1-10, one pack
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Update(ps[3].ID, func(p *Paper) error { p.Year = 2001; return nil }); err != nil { // seq 11, alone
		t.Fatal(err)
	}
	keys := func() (packs, single int) {
		s.db.View(func(tx *buntdb.Tx) error {
			return ascendPrefix(tx, pOp, func(_, v string) bool {
				if strings.HasPrefix(v, "z") {
					packs++
				} else {
					single++
				}
				return true
			})
		})
		return
	}
	if p, o := keys(); p != 1 || o != 1 {
		t.Fatalf("queue holds %d packs and %d single ops, want 1 and 1", p, o)
	}
	check := func(wantFirst uint64, wantN int) {
		t.Helper()
		if n, err := s.PendingCount(); err != nil || n != wantN {
			t.Fatalf("PendingCount = %d, %v; want %d", n, err, wantN)
		}
		ops, err := s.PendingOps(1 << 20)
		if err != nil || len(ops) != wantN {
			t.Fatalf("PendingOps: %d ops, %v; want %d", len(ops), err, wantN)
		}
		for i, op := range ops {
			if op.Seq != wantFirst+uint64(i) || op.Check() != nil {
				t.Fatalf("op %d is %s (check: %v), want seq %d", i, op.ID, op.Check(), wantFirst+uint64(i))
			}
		}
		if wantN > 0 && wantFirst <= 10 && ops[0].Paper != ps[wantFirst-1].ID {
			t.Fatalf("op %s is for paper %s, want %s", ops[0].ID, ops[0].Paper, ps[wantFirst-1].ID)
		}
	}
	check(1, 11)
	if ops, _ := s.PendingOps(4); len(ops) != 4 || ops[3].Seq != 4 {
		t.Fatalf("PendingOps(4) = %d ops", len(ops))
	}
	// The engine confirms a first batch that ends inside the pack.
	if err := s.MarkSent(6); err != nil {
		t.Fatal(err)
	}
	check(7, 5)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = Open(path, Options{Device: "dev000000001"}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	check(7, 5)
	if err := s.MarkSent(10); err != nil {
		t.Fatal(err)
	}
	check(11, 1)
	if err := s.MarkSent(11); err != nil {
		t.Fatal(err)
	}
	check(12, 0)
	if p, o := keys(); p+o != 0 {
		t.Fatalf("queue keeps %d keys after everything was sent", p+o)
	}
}
