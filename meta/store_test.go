package meta

import (
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tidwall/buntdb"
)

func openTest(t testing.TB, dev string) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "meta.db"), Options{Device: dev})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func mustCreate(t testing.TB, s *Store, p Paper) Paper {
	t.Helper()
	p, err := s.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestCreateGetUpdate(t *testing.T) {
	s := openTest(t, "")
	p := mustCreate(t, s, Paper{Title: " Time, Clocks ", Authors: []string{"Leslie Lamport"}, Year: 1978,
		Tags: []string{"dist", "clocks", "dist"}, File: File{Path: "papers/lamport.pdf", Size: 10}})
	if p.Title != "Time, Clocks" || !slices.Equal(p.Tags, []string{"clocks", "dist"}) || p.Type != Article {
		t.Fatalf("not normalised: %+v", p)
	}
	got, err := s.Get(p.ID)
	if err != nil || got.Title != p.Title || got.Year != 1978 || got.File.Path != "papers/lamport.pdf" {
		t.Fatalf("Get = %+v, %v", got, err)
	}
	u, err := s.Update(p.ID, func(p *Paper) error {
		p.Tags = []string{"clocks", "classic"}
		p.Note = "read"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(u.Tags, []string{"classic", "clocks"}) || u.Note != "read" {
		t.Fatalf("Update = %+v", u)
	}
	if _, err := s.Update(p.ID, func(p *Paper) error { p.Rating = 9; return nil }); !errors.Is(err, ErrInvalid) {
		t.Fatalf("rating 9 accepted: %v", err)
	}
	if _, err := s.Get("nosuchpaper"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
}

func TestViewsAndGroups(t *testing.T) {
	s := openTest(t, "")
	a := mustCreate(t, s, Paper{Title: "A", Authors: []string{"Ann Smith"}, Year: 2001, Tags: []string{"x"}})
	b := mustCreate(t, s, Paper{Title: "B", Authors: []string{"Bob Jones", "Ann Smith"}, Year: 2001, Tags: []string{"x", "y"}})
	c := mustCreate(t, s, Paper{Title: "C"})

	cases := []struct {
		v    View
		want []string
	}{
		{View{Kind: All}, []string{"Jones and Smith 2001 - B", "Smith 2001 - A", "C"}},
		{View{Tags, "x"}, []string{"Jones and Smith 2001 - B", "Smith 2001 - A"}},
		{View{Tags, "y"}, []string{"Jones and Smith 2001 - B"}},
		{View{Authors, "Ann Smith"}, []string{"Jones and Smith 2001 - B", "Smith 2001 - A"}},
		{View{Years, "2001"}, []string{"Jones and Smith 2001 - B", "Smith 2001 - A"}},
		{View{Kind: Untagged}, []string{"C"}},
		{View{Tags, "nope"}, nil},
	}
	for _, c := range cases {
		es, err := s.List(c.v)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range es {
			names = append(names, e.Name)
		}
		slices.Sort(names)
		want := slices.Clone(c.want)
		slices.Sort(want)
		if !slices.Equal(names, want) {
			t.Errorf("%v: got %q want %q", c.v, names, want)
		}
	}
	gs, _ := s.Groups(Tags)
	if fmt.Sprint(gs) != "[{x 2} {y 1}]" {
		t.Errorf("tag groups %v", gs)
	}
	// Retag: b leaves x, group counts follow.
	if _, err := s.Update(b.ID, func(p *Paper) error { p.Tags = []string{"y"}; return nil }); err != nil {
		t.Fatal(err)
	}
	gs, _ = s.Groups(Tags)
	if fmt.Sprint(gs) != "[{x 1} {y 1}]" {
		t.Errorf("after retag %v", gs)
	}
	s.Update(a.ID, func(p *Paper) error { p.Tags = nil; return nil })
	gs, _ = s.Groups(Tags)
	if fmt.Sprint(gs) != "[{y 1}]" {
		t.Errorf("after untag %v", gs)
	}
	if e, err := s.Lookup(View{Kind: Untagged}, "C"); err != nil || e.ID != c.ID || e.SidecarSize == 0 {
		t.Errorf("Lookup C = %+v %v", e, err)
	}
}

func TestNameCollisions(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, "")
	first := mustCreate(t, s, Paper{Title: "Same", Added: now})
	second := mustCreate(t, s, Paper{Title: "Same", Added: now.Add(time.Second)})
	es, _ := s.List(View{Kind: All})
	names := map[string]string{}
	for _, e := range es {
		names[e.Name] = e.ID
	}
	if names["Same"] != first.ID || names[WithSuffix("Same", second.ID)] != second.ID {
		t.Fatalf("names %v", names)
	}
	for name, id := range names {
		got, err := s.Lookup(View{Kind: All}, name)
		if err != nil || got.ID != id {
			t.Errorf("Lookup(%q) = %q, %v; want %q", name, got.ID, err, id)
		}
	}
	// The suffixed form of the plain holder does not resolve: one name per paper.
	if _, err := s.Lookup(View{Kind: All}, WithSuffix("Same", first.ID)); !errors.Is(err, ErrNotFound) {
		t.Errorf("suffixed holder resolved: %v", err)
	}
	// A third paper never renames the first two.
	mustCreate(t, s, Paper{Title: "Same", Added: now.Add(2 * time.Second)})
	es, _ = s.List(View{Kind: All})
	seen := map[string]bool{}
	for _, e := range es {
		if seen[e.Name] {
			t.Fatalf("duplicate name %q", e.Name)
		}
		seen[e.Name] = true
	}
	if !seen["Same"] || !seen[WithSuffix("Same", second.ID)] {
		t.Fatalf("existing names changed: %v", seen)
	}
}

func TestReopenDurableAndSchema(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustCreate(t, s, Paper{Title: "Kept", Tags: []string{"t"}})
	dev := s.Device()
	if _, err := Open(path, Options{}); !errors.Is(err, ErrLocked) {
		t.Fatalf("second open of a database in use: %v", err)
	}
	s.Close()
	s, err = Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Device() != dev {
		t.Errorf("device id changed across reopen")
	}
	if got, err := s.Get(p.ID); err != nil || got.Title != "Kept" {
		t.Fatalf("after reopen %+v %v", got, err)
	}
	// A database from a newer paperfs is refused, not misread.
	s.SetSyncState("x", "y")
	s.db.Update(func(tx *buntdb.Tx) error { _, _, err := tx.Set(keySchema, "99", nil); return err })
	s.Close()
	if _, err := Open(path, Options{}); err == nil || !strings.Contains(err.Error(), "newer paperfs") {
		t.Fatalf("newer schema: %v", err)
	}
}

func TestFeed(t *testing.T) {
	s := openTest(t, "")
	sub := s.Subscribe()
	defer sub.Close()
	p := mustCreate(t, s, Paper{Title: "One"})
	s.Update(p.ID, func(p *Paper) error { p.Title = "Two"; return nil })
	for _, want := range []string{"One", "Two"} {
		select {
		case ch := <-sub.C:
			if ch.ID != p.ID || ch.After.Title != want {
				t.Fatalf("change %+v, want title %q", ch, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatal("no change delivered")
		}
	}
	// A no-op update publishes nothing and writes no op.
	n0, _ := s.PendingCount()
	s.Update(p.ID, func(p *Paper) error { return nil })
	if n, _ := s.PendingCount(); n != n0 {
		t.Errorf("no-op update queued an op")
	}
	select {
	case ch := <-sub.C:
		t.Fatalf("unexpected change %+v", ch)
	case <-time.After(50 * time.Millisecond):
	}
}

func TestGroups(t *testing.T) {
	s := openTest(t, "")
	a := mustCreate(t, s, Paper{Title: "A", Tags: []string{"old", "keep"}})
	b := mustCreate(t, s, Paper{Title: "B", Tags: []string{"old"}})
	if err := s.CreateGroup(Tags, "empty"); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateGroup(Tags, "old"); !errors.Is(err, ErrExists) {
		t.Errorf("create existing: %v", err)
	}
	if err := s.CreateGroup(Authors, "x"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("create author: %v", err)
	}
	gs, _ := s.Groups(Tags)
	if fmt.Sprint(gs) != "[{empty 0} {keep 1} {old 2}]" {
		t.Fatalf("groups %v", gs)
	}
	if err := s.RemoveGroup(Tags, "old"); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("remove non-empty: %v", err)
	}
	n, err := s.RenameGroup(Tags, "old", "new")
	if err != nil || n != 2 {
		t.Fatalf("rename: %d %v", n, err)
	}
	for _, id := range []string{a.ID, b.ID} {
		p, _ := s.Get(id)
		if !slices.Contains(p.Tags, "new") || slices.Contains(p.Tags, "old") {
			t.Errorf("%s tags %v", p.Title, p.Tags)
		}
	}
	if err := s.RemoveGroup(Tags, "empty"); err != nil {
		t.Fatal(err)
	}
	gs, _ = s.Groups(Tags)
	if fmt.Sprint(gs) != "[{keep 1} {new 2}]" {
		t.Fatalf("groups after %v", gs)
	}
}
