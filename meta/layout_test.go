package meta

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

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

// buntdb shrinks a file that doubled by itself, in the background; Close
// compacting at the same time waits for it rather than fail.
func TestCloseWhileBuntdbShrinks(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	var ps []Paper
	for i := 0; i < 3000; i++ {
		ps = append(ps, Paper{Title: fmt.Sprintf("paper %d %s", i, strings.Repeat("x", 200))})
	}
	if _, err := s.CreateMany(ps); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- s.db.Shrink() }() // buntdb's own: it waits 250 ms before it starts
	// Close inside the 250 ms buntdb's shrink waits before it starts: a
	// window of time is what is tested, and buntdb signals nothing.
	time.Sleep(50 * time.Millisecond)
	if err := s.Close(); err != nil {
		t.Fatalf("Close during buntdb's shrink: %v", err)
	}
	<-done
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.Count(View{Kind: All}); n != len(ps) {
		t.Fatalf("%d papers after reopening, want %d", n, len(ps))
	}
}

// Stores of schemas 1 to 4 kept their index as keys of their own and the
// record alone under p:<id>. Opened now, they are migrated to one value
// per paper, the old keys are gone, and every index answers as it did.
func TestMigrateIndexKeys(t *testing.T) {
	for _, schema := range []int{1, 2, 3, 4} {
		t.Run(fmt.Sprint("schema", schema), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "meta.db")
			s, err := Open(path, Options{})
			if err != nil {
				t.Fatal(err)
			}
			file := File{Path: "same.pdf", Size: 3, SHA256: strings.Repeat("ab", 32)}
			mustCreate(t, s, Paper{Title: "Same", Authors: []string{"Ann Author"}, Year: 2001, Tags: []string{"t"}, File: file, DOI: "10.1/X"})
			mustCreate(t, s, Paper{Title: "Same", Authors: []string{"Ann Author"}, Year: 2001, Tags: []string{"t"}, File: file})
			mustCreate(t, s, Paper{Title: "Other", Year: 1999, CiteKey: "other1999"})
			if err := s.CreateGroup(Tags, "empty"); err != nil {
				t.Fatal(err)
			}
			answers := func() string {
				var b strings.Builder
				for _, v := range []View{{Kind: All}, {Tags, "t"}, {Authors, "Ann Author"}, {Years, "1999"}, {Kind: Untagged}} {
					es, err := s.List(v)
					fmt.Fprintln(&b, v, es, err)
					for _, e := range es {
						le, err := s.Lookup(v, e.Name)
						fmt.Fprintln(&b, " ", e.Name, le.ID == e.ID, err)
					}
				}
				for _, k := range GroupKinds {
					gs, err := s.Groups(k)
					fmt.Fprintln(&b, k, gs, err)
				}
				fmt.Fprintln(&b, must(s.ByPath("same.pdf")))
				fmt.Fprintln(&b, must(s.ByHash(file.SHA256)))
				fmt.Fprintln(&b, must(s.ByIdentifier("doi", "10.1/x")))
				fmt.Fprintln(&b, must(s.ByIdentifier("citekey", "OTHER1999")))
				fmt.Fprintln(&b, must(s.Files()))
				fmt.Fprintln(&b, must(s.CiteKeysUnique()))
				return b.String()
			}
			want := answers()
			// Rewrite the store as the older schema had it: records
			// alone, index keys, entries of five fields.
			err = s.db.Update(func(tx *buntdb.Tx) error {
				stored := map[string]string{}
				ascendPrefix(tx, pRecord, func(id, v string) bool { stored[id] = v; return true })
				for id, v := range stored {
					_, rec, _ := splitStored(v)
					old := map[string]string{
						pRecord + id:                      rec,
						"e:" + id:                         "1\x00name\x0010\x003\x000",
						"x:all\x00" + id + "\x00" + id:    "",
						"x:tags/t\x00" + id + "\x00" + id: "",
						"fp:p" + id + ".pdf":              id + "\x003\x000",
						"fh:" + file.SHA256 + "\x00" + id: "",
						"fi:citekey:k" + id + "\x00" + id: "",
						"g:tags\x00t":                     "2",
					}
					for k, v := range old {
						if _, _, err := tx.Set(k, v, nil); err != nil {
							return err
						}
					}
				}
				_, _, err := tx.Set(keySchema, fmt.Sprint(schema), nil)
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
			if got := answers(); got != want {
				t.Errorf("after migration the indexes answer\n%s\nnot\n%s", got, want)
			}
			s.db.View(func(tx *buntdb.Tx) error {
				if v, _ := tx.Get(keySchema); v != fmt.Sprint(SchemaVersion) {
					t.Errorf("schema %s after migration", v)
				}
				for _, prefix := range legacyIndexPrefixes {
					ascendPrefix(tx, prefix, func(rest, _ string) bool {
						t.Errorf("index key %q kept after migration", prefix+rest)
						return true
					})
				}
				return nil
			})
		})
	}
}

func must[T any](v T, err error) string {
	if err != nil {
		return "error: " + err.Error()
	}
	return fmt.Sprint(v)
}

// A write that fails leaves the index as it was, like the records.
func TestIndexRollback(t *testing.T) {
	s := openTest(t, "")
	a := mustCreate(t, s, Paper{Title: "A", Tags: []string{"old"}})
	b := mustCreate(t, s, Paper{Title: "B", Tags: []string{"old"}})
	boom := errors.New("boom")
	_, err := s.UpdateMany([]string{a.ID, b.ID}, func(p *Paper) error {
		if p.ID == b.ID {
			return boom
		}
		p.Tags, p.Title = []string{"new"}, "A2"
		return nil
	})
	if !errors.Is(err, boom) {
		t.Fatalf("UpdateMany: %v", err)
	}
	if n, _ := s.Count(View{Tags, "new"}); n != 0 {
		t.Errorf("tags/new has %d papers after a failed write", n)
	}
	if e, err := s.Lookup(View{Tags, "old"}, BaseName(&a)); err != nil || e.ID != a.ID {
		t.Errorf("tags/old lookup of A after a failed write: %v %v", e, err)
	}
	if gs, _ := s.Groups(Tags); fmt.Sprint(gs) != "[{old 2}]" {
		t.Errorf("tags after a failed write: %v", gs)
	}
}

// An entry damaged on disk is rebuilt from the paper's record at open.
func TestIndexRebuildsDamagedEntry(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	a := mustCreate(t, s, Paper{Title: "A", Tags: []string{"t"}})
	want, _ := s.List(View{Tags, "t"})
	if err := s.db.Update(func(tx *buntdb.Tx) error {
		v, err := tx.Get(pRecord + a.ID)
		if err != nil {
			return err
		}
		_, rec, _ := splitStored(v)
		_, _, err = tx.Set(pRecord+a.ID, storedValue("garbage", rec), nil)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got, err := s.List(View{Tags, "t"}); err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("tags/t after reopening with a damaged entry: %v %v, want %v", got, err, want)
	}
}

// Keys several papers hold (duplicates share a path and a hash until
// merged; many papers share an author) stay right as holders come and go,
// through the index's small and large view sets.
func TestIndexSharedKeys(t *testing.T) {
	s := openTest(t, "")
	file := File{Path: "dup.pdf", Size: 5, SHA256: strings.Repeat("cd", 32)}
	older := mustCreate(t, s, Paper{Title: "Dup", File: file, Added: time.Unix(1000, 0)})
	younger := mustCreate(t, s, Paper{Title: "Dup", File: file, Added: time.Unix(2000, 0)})
	if id, err := s.ByPath("dup.pdf"); err != nil || id != older.ID {
		t.Fatalf("ByPath = %s %v, want the older paper %s", id, err, older.ID)
	}
	// The older one moves its PDF: the path is the younger's now.
	if _, err := s.Update(older.ID, func(p *Paper) error { p.File.Path = "moved.pdf"; return nil }); err != nil {
		t.Fatal(err)
	}
	if id, err := s.ByPath("dup.pdf"); err != nil || id != younger.ID {
		t.Errorf("ByPath after the move = %s %v, want %s", id, err, younger.ID)
	}
	if ids, _ := s.ByHash(file.SHA256); len(ids) != 2 {
		t.Errorf("ByHash = %v, want both papers", ids)
	}
	// One author for more papers than a small view set holds, then fewer.
	var ids []string
	for i := range vsetSmall + 5 {
		p := mustCreate(t, s, Paper{Title: fmt.Sprint("By Ann ", i), Authors: []string{"Ann Author"}})
		ids = append(ids, p.ID)
	}
	ann := View{Authors, "Ann Author"}
	for _, want := range []int{vsetSmall + 5, 3, 0} {
		for len(ids) > want {
			if _, err := s.Update(ids[0], func(p *Paper) error { p.Authors = []string{"Bob Other"}; return nil }); err != nil {
				t.Fatal(err)
			}
			ids = ids[1:]
		}
		es, err := s.List(ann)
		if n, _ := s.Count(ann); err != nil || len(es) != want || n != want {
			t.Fatalf("authors/Ann Author lists %d (count %d, %v), want %d", len(es), n, err, want)
		}
		for _, e := range es {
			if got, err := s.Lookup(ann, e.Name); err != nil || got.ID != e.ID {
				t.Errorf("lookup %q: %v %v", e.Name, got, err)
			}
		}
	}
	if ok, _ := s.HasGroup(Authors, "Ann Author"); ok {
		t.Error("an author with no papers left is still a group")
	}
	if n, _ := s.Count(View{Authors, "Bob Other"}); n != vsetSmall+5 {
		t.Errorf("authors/Bob Other has %d papers, want %d", n, vsetSmall+5)
	}
}
