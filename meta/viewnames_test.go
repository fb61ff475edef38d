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

// checkViewNames checks every view of s: names unique (ignoring case),
// portable with either extension, and Lookup finds exactly the paper List
// names, and nothing under another case. Group directories are unique,
// portable, and stand for one group each.
func checkViewNames(t *testing.T, s *Store) {
	t.Helper()
	views := []View{{Kind: All}, {Kind: Untagged}, {Kind: Trash}, {Kind: Missing}}
	for _, k := range GroupKinds {
		gs, err := s.Groups(k)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, g := range gs {
			if seen[g.Name] {
				t.Errorf("%s: directory %q listed twice", k, g.Name)
			}
			seen[g.Name] = true
			if err := CheckPortable(g.Name); err != nil || strings.HasPrefix(g.Name, "-") || strings.HasPrefix(g.Name, ".") {
				t.Errorf("%s: directory %q: %v", k, g.Name, err)
			}
			views = append(views, View{k, g.Name})
		}
	}
	// Directory name -> the group it stands for, over every paper.
	groupOf := map[View]string{}
	err := s.ForEach(func(p Paper) bool {
		for k, set := range map[Kind][]string{Tags: p.Tags, Authors: p.Authors, Folders: p.Folders} {
			for _, g := range set {
				v := View{k, GroupName(g)}
				if other, ok := groupOf[v]; ok && other != g {
					t.Errorf("%q and %q share the directory %s", other, g, v)
				}
				groupOf[v] = g
			}
		}
		return true
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range views {
		es, err := s.List(v)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]string{}
		for _, e := range es {
			if other, ok := seen[NameKey(e.Name)]; ok {
				t.Errorf("%s: %q and %q are one name on macOS and Windows", v, other, e.Name)
			}
			seen[NameKey(e.Name)] = e.Name
			for _, ext := range []string{".pdf", ".json"} {
				if err := CheckPortable(e.Name + ext); err != nil || len(e.Name+ext) > MaxNameBytes {
					t.Errorf("%s: %v", v, err)
				}
			}
			if strings.HasPrefix(e.Name, "-") || strings.HasPrefix(e.Name, ".") {
				t.Errorf("%s: name %q starts with '-' or '.'", v, e.Name)
			}
			got, err := s.Lookup(v, e.Name)
			if err != nil || got.ID != e.ID {
				t.Errorf("%s: Lookup(%q) = %s, %v; List says %s", v, e.Name, got.ID, err, e.ID)
			}
			for _, other := range []string{strings.ToUpper(e.Name), strings.ToLower(e.Name)} {
				if other == e.Name || seen[NameKey(other)] != e.Name {
					continue
				}
				if got, err := s.Lookup(v, other); err == nil {
					t.Errorf("%s: Lookup(%q) found %s; only %q is listed", v, other, got.ID, e.Name)
				}
			}
		}
	}
}

// Issue 16 #8: titling a paper after another's suffixed name lists no name
// twice and leaves every paper reachable.
func TestViewNamesUniqueWhateverTheTitles(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	s := openTest(t, "")
	a := mustCreate(t, s, Paper{Title: "Foo", Tags: []string{"t"}, Added: now})
	b := mustCreate(t, s, Paper{Title: "Foo", Tags: []string{"t"}, Added: now.Add(time.Second)})
	c := mustCreate(t, s, Paper{Title: WithSuffix("Foo", b.ID), Tags: []string{"t"}, Added: now.Add(2 * time.Second)})
	d := mustCreate(t, s, Paper{Title: strings.ToUpper(WithSuffix("Foo", b.ID)), Tags: []string{"t"}, Added: now.Add(3 * time.Second)})
	e := mustCreate(t, s, Paper{Title: "FOO", Tags: []string{"t"}, Added: now.Add(4 * time.Second)})
	es, err := s.List(View{Tags, "t"})
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, x := range es {
		got[x.ID] = x.Name
	}
	want := map[string]string{
		a.ID: "Foo",
		b.ID: WithSuffix("Foo", b.ID),
		c.ID: "Foo (" + b.ID + ")",
		d.ID: WithSuffix("FOO ("+strings.ToUpper(b.ID)+")", d.ID),
		e.ID: WithSuffix("FOO", e.ID),
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("names\n%v\nwant\n%v", got, want)
	}
	if _, err := s.Lookup(View{Tags, "t"}, "foo"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of another case: %v", err)
	}
	checkViewNames(t, s)
	// NamesOf covers the name each paper has in each of its views.
	for _, p := range []Paper{a, b, c, d, e} {
		names := NamesOf(&p)
		for _, x := range es {
			if x.ID == p.ID && !slices.Contains(names, ViewName{View{Tags, "t"}, x.Name}) {
				t.Errorf("NamesOf(%s) = %v lacks %q", p.ID, names, x.Name)
			}
		}
	}
}

// Issue 16 #9: groups that sanitise alike keep their own directories, and
// renaming one renames only it.
func TestGroupsKeepTheirOwnDirectories(t *testing.T) {
	s := openTest(t, "")
	bs := mustCreate(t, s, Paper{Title: "Backslash", Tags: []string{`x\y`}, Authors: []string{"A/B"}})
	dash := mustCreate(t, s, Paper{Title: "Dash", Tags: []string{"x-y"}, Authors: []string{"A-B"}})
	hid := mustCreate(t, s, Paper{Title: "Hidden", Tags: []string{".hidden"}, Authors: []string{"."}})
	mustCreate(t, s, Paper{Title: "Plain", Tags: []string{"hidden"}, Authors: []string{".."}})
	checkViewNames(t, s)
	gs, _ := s.Groups(Tags)
	if len(gs) != 4 {
		t.Fatalf("tag directories %v, want 4", gs)
	}
	gs, _ = s.Groups(Authors)
	if len(gs) != 4 {
		t.Fatalf("author directories %v, want 4", gs)
	}

	n, err := s.RenameGroup(Tags, "x-y", "renamed")
	if err != nil || n != 1 {
		t.Fatalf("RenameGroup = %d, %v", n, err)
	}
	if p, _ := s.Get(bs.ID); !slices.Equal(p.Tags, []string{`x\y`}) {
		t.Errorf(`x\y became %v`, p.Tags)
	}
	if p, _ := s.Get(dash.ID); !slices.Equal(p.Tags, []string{"renamed"}) {
		t.Errorf("x-y became %v", p.Tags)
	}
	// The escaped directory renames its own group.
	if _, err := s.RenameGroup(Tags, GroupName(".hidden"), "shown"); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Get(hid.ID); !slices.Equal(p.Tags, []string{"shown"}) {
		t.Errorf(".hidden became %v", p.Tags)
	}
	// A new name must be its own directory name.
	for _, bad := range []string{"a:b", ".x", "-x", "x [cc8mgk3jaa2n]", "CON"} {
		if _, err := s.RenameGroup(Tags, "renamed", bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("rename to %q: %v", bad, err)
		}
		if err := s.CreateGroup(Tags, bad); !errors.Is(err, ErrInvalid) {
			t.Errorf("mkdir %q: %v", bad, err)
		}
	}
	checkViewNames(t, s)
}

// Join adds the group a directory stands for, not its directory name, and
// keeps an emptied group's directory, escaped ones included.
func TestJoinEscapedGroup(t *testing.T) {
	s := openTest(t, "")
	mustCreate(t, s, Paper{Title: "Has it", Tags: []string{`x\y`}})
	p := mustCreate(t, s, Paper{Title: "Joins"})
	v := View{Tags, GroupName(`x\y`)}
	if err := s.Join(p.ID, v, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(p.ID); !slices.Equal(got.Tags, []string{`x\y`}) {
		t.Fatalf("joined %v", got.Tags)
	}
	if err := s.Join(p.ID, v, false); err != nil {
		t.Fatal(err)
	}
	es, _ := s.List(v)
	if len(es) != 1 {
		t.Fatalf("%d papers left in %s", len(es), v)
	}
	if err := s.Join(es[0].ID, v, false); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.HasGroup(Tags, v.Group); !ok || err != nil {
		t.Fatalf("emptied %s gone: %v", v, err)
	}
	// Joining the emptied group still adds its value.
	if err := s.Join(p.ID, v, true); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Get(p.ID); !slices.Equal(got.Tags, []string{`x\y`}) {
		t.Fatalf("joined the emptied group as %v", got.Tags)
	}
	for v, want := range map[View]string{v: `x\y`, {Tags, "never"}: "never", {Authors, GroupName("A/B")}: "A/B", {Years, "2001"}: "2001"} {
		if v.Kind == Authors {
			mustCreate(t, s, Paper{Title: "By A/B", Authors: []string{"A/B"}})
		}
		if got, err := s.GroupValue(v); err != nil || got != want {
			t.Errorf("GroupValue(%s) = %q, %v; want %q", v, got, err, want)
		}
	}
	if err := s.Join(p.ID, View{Tags, GroupName("never")}, true); err != nil {
		t.Fatal(err) // a plain name is its own group, existing or not
	}
	if err := s.Join(p.ID, View{Tags, GroupName("never:seen")}, true); !errors.Is(err, ErrNotFound) {
		t.Errorf("joining an escaped name no group has: %v", err)
	}
	checkViewNames(t, s)
}

// A store of schema 5 named papers by the old rule; opened now, its
// entries are rewritten and the views show portable names.
func TestMigrateToPortableNames(t *testing.T) {
	path := filepath.Join(t.TempDir(), "meta.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	p := mustCreate(t, s, Paper{Title: "Did You Notice? Time: A Study", Tags: []string{"a:b"}})
	err = s.db.Update(func(tx *buntdb.Tx) error {
		v, err := tx.Get(pRecord + p.ID)
		if err != nil {
			return err
		}
		entry, rec, _ := splitStored(v)
		old := strings.Replace(entry, BaseName(&p), p.Title, 1)
		old = strings.Replace(old, "tags/"+GroupName("a:b"), "tags/a:b", 1)
		if !strings.Contains(old, "Notice? Time:") || !strings.Contains(old, "tags/a:b") {
			t.Fatalf("entry %q has not the names expected", entry)
		}
		if _, _, err := tx.Set(pRecord+p.ID, storedValue(old, rec), nil); err != nil {
			return err
		}
		// mkdir tags/x:y made an empty tag of that name.
		if _, _, err := tx.Set(pExplicit+"tags\x00x:y", "", nil); err != nil {
			return err
		}
		_, _, err = tx.Set(keySchema, "5", nil)
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
	es, _ := s.List(View{Tags, GroupName("a:b")})
	if len(es) != 1 || es[0].Name != "Did You Notice Time - A Study" {
		t.Fatalf("after migration %v", es)
	}
	gs, _ := s.Groups(Tags)
	if fmt.Sprint(gs) != fmt.Sprint([]Group{{GroupName("a:b"), 1}, {GroupName("x:y"), 0}}) {
		t.Errorf("tag directories after migration %v", gs)
	}
	if v, err := s.GroupValue(View{Tags, GroupName("x:y")}); v != "x:y" || err != nil {
		t.Errorf("the empty tag x:y became %q, %v", v, err)
	}
	checkViewNames(t, s)
}

// FuzzViewNames makes papers of fuzzed titles, tags and authors, then
// papers titled after every name listed, and checks every view: names
// unique and portable, Lookup the inverse of List, one directory per group.
func FuzzViewNames(f *testing.F) {
	f.Add("Foo", "Foo", "x\\y", "x-y", "Ann Author", "A/B")
	f.Add("Did You Notice?", "did you notice", ".hidden", "hidden", "CON", "con")
	f.Add("Foo [cc8mgk3jaa2n]", "FOO", "Foo [CC8MGK3JAA2N]", "a:b", "É", "e\u0301")
	f.Fuzz(func(t *testing.T, t1, t2, tag1, tag2, au1, au2 string) {
		s := openTest(t, "")
		now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
		n := 0
		create := func(p Paper) {
			n++
			p.Added = now.Add(time.Duration(n) * time.Second)
			if _, err := s.Create(p); err != nil && !errors.Is(err, ErrInvalid) {
				t.Fatal(err)
			}
		}
		create(Paper{Title: t1, Tags: []string{tag1}})
		create(Paper{Title: t2, Tags: []string{tag2}, Authors: []string{au1}})
		create(Paper{Title: t1, Tags: []string{tag1, tag2}, Authors: []string{au1, au2}})
		create(Paper{Title: t2, Folders: []string{tag1}, Authors: []string{au2}})
		es, err := s.List(View{Kind: All})
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range es {
			create(Paper{Title: e.Name, Tags: []string{tag1}})
			create(Paper{Title: strings.ToUpper(e.Name), Tags: []string{e.Name}, Authors: []string{e.Name}})
		}
		checkViewNames(t, s)
	})
}
