package meta

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tidwall/buntdb"
)

func TestCiteKeysUnique(t *testing.T) {
	s := openTest(t, "")
	check := func(want bool) {
		t.Helper()
		got, err := s.CiteKeysUnique()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("CiteKeysUnique = %v, want %v", got, want)
		}
	}
	check(true) // an empty library has nothing to assign
	a := mustCreate(t, s, Paper{Title: "A", CiteKey: "lamport1978time"})
	check(true)
	b := mustCreate(t, s, Paper{Title: "B"})
	check(false) // b has no key
	if _, err := s.Update(b.ID, func(p *Paper) error { p.CiteKey = "Lamport1978Time"; return nil }); err != nil {
		t.Fatal(err)
	}
	check(false) // shared with a, whatever the case
	if _, err := s.Update(b.ID, func(p *Paper) error { p.CiteKey = "lamport1978timeb"; return nil }); err != nil {
		t.Fatal(err)
	}
	check(true)
	if _, err := s.Update(a.ID, func(p *Paper) error { p.CiteKey = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	check(false)
}

func TestCloseCompactsGrownFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var ps []Paper
	for i := 0; i < 3000; i++ {
		ps = append(ps, Paper{Title: fmt.Sprintf("paper %d %s", i, strings.Repeat("x", 200)), Tags: []string{"a"}})
	}
	ps, err = s.CreateMany(ps)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	// Retagging leaves the old index keys dead in the append-only file.
	if _, err := s.UpdateMany(ids, func(p *Paper) error { p.Tags = []string{"b"}; return nil }); err != nil {
		t.Fatal(err)
	}
	before, _ := os.Stat(path)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	after, _ := os.Stat(path)
	if after.Size() >= before.Size() {
		t.Fatalf("file not compacted: %d bytes before Close, %d after", before.Size(), after.Size())
	}
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	es, err := s.List(View{Kind: Tags, Group: "b"})
	if err != nil || len(es) != len(ps) {
		t.Fatalf("after compaction tags/b lists %d papers (%v), want %d", len(es), err, len(ps))
	}
	if n, _ := s.Count(View{Kind: Tags, Group: "a"}); n != 0 {
		t.Fatalf("tags/a still has %d papers", n)
	}
	if _, err := s.Get(ids[0]); err != nil {
		t.Fatal(err)
	}
}

// A schema 1 store (index keys holding the whole base name) is migrated
// to name-hash keys on open, and lists and looks up as before.
func TestMigrateHashedIndex(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := mustCreate(t, s, Paper{Title: "Same", Authors: []string{"Ann Author"}, Year: 2001, Tags: []string{"t"}})
	b := mustCreate(t, s, Paper{Title: "Same", Authors: []string{"Ann Author"}, Year: 2001, Tags: []string{"t"}})
	c := mustCreate(t, s, Paper{Title: "Other", Year: 1999})
	want, err := s.List(View{Kind: All})
	if err != nil || len(want) != 3 {
		t.Fatalf("before: %v %v", want, err)
	}
	// Rewrite the store as schema 1 wrote it.
	err = s.db.Update(func(tx *buntdb.Tx) error {
		var keys []string
		tx.AscendRange("", pIndex, prefixEnd(pIndex), func(k, _ string) bool { keys = append(keys, k); return true })
		for _, k := range keys {
			tx.Delete(k)
		}
		for _, p := range []Paper{a, b, c} {
			for _, v := range ViewsOf(&p) {
				if _, _, err := tx.Set(pIndex+v.key()+"\x00"+BaseName(&p)+"\x00"+p.ID, "", nil); err != nil {
					return err
				}
			}
		}
		_, _, err := tx.Set(keySchema, "1", nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got, err := s.List(View{Kind: All})
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after migration all/ is\n%v (%v), want\n%v", got, err, want)
	}
	for _, e := range want {
		if le, err := s.Lookup(View{Kind: Tags, Group: "t"}, e.Name); e.ID != c.ID && (err != nil || le.ID != e.ID) {
			t.Errorf("tags/t lookup %q: %v %v", e.Name, le, err)
		}
	}
	s.db.View(func(tx *buntdb.Tx) error {
		v, _ := tx.Get(keySchema)
		if v != fmt.Sprint(SchemaVersion) {
			t.Errorf("schema %s after migration", v)
		}
		return ascendPrefix(tx, pIndex, func(rest, _ string) bool {
			if strings.Contains(rest, "Same") || strings.Contains(rest, "Other") {
				t.Errorf("index key %q still holds the name", rest)
			}
			return true
		})
	})
}

// TestMigrateGroupCounts opens a schema 2 store, which kept a paper count
// per group, and finds the counts gone and the groups read off the index.
func TestMigrateGroupCounts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	mustCreate(t, s, Paper{Title: "One", Authors: []string{"Ann Author"}, Tags: []string{"a", "b"}})
	mustCreate(t, s, Paper{Title: "Two", Authors: []string{"Ann Author"}, Tags: []string{"b"}})
	if err := s.CreateGroup(Tags, "empty"); err != nil {
		t.Fatal(err)
	}
	err = s.db.Update(func(tx *buntdb.Tx) error {
		for k, v := range map[string]string{"g:tags\x00a": "1", "g:tags\x00b": "2", "g:authors\x00Ann Author": "2"} {
			if _, _, err := tx.Set(k, v, nil); err != nil {
				return err
			}
		}
		_, _, err := tx.Set(keySchema, "2", nil)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.db.View(func(tx *buntdb.Tx) error {
		return ascendPrefix(tx, "g:", func(rest, _ string) bool {
			t.Errorf("group count g:%q kept after migration", rest)
			return true
		})
	})
	gs, err := s.Groups(Tags)
	if err != nil || fmt.Sprint(gs) != "[{a 1} {b 2} {empty 0}]" {
		t.Errorf("tags after migration: %v %v", gs, err)
	}
	for name, want := range map[string]bool{"a": true, "empty": true, "c": false} {
		if ok, err := s.HasGroup(Tags, name); ok != want || err != nil {
			t.Errorf("HasGroup(tags, %q) = %v, %v", name, ok, err)
		}
	}
	if gs, _ := s.Groups(Authors); fmt.Sprint(gs) != "[{Ann Author 2}]" {
		t.Errorf("authors: %v", gs)
	}
}
