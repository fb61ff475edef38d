package fs

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

func TestNameDuplicates(t *testing.T) {
	at := func(min int) time.Time { return time.Date(2024, 1, 1, 0, min, 0, 0, time.UTC) }
	lamport := meta.Paper{ID: "aaaaaaaaaaaa", Title: "Time, Clocks", Authors: []string{"Leslie Lamport"}, Year: 1978, Added: at(1)}
	lamport2 := meta.Paper{ID: "bbbbbbbbbbbb", Title: "Time, clocks", Authors: []string{"Leslie Lamport"}, Year: 1978, Added: at(2)}
	lamport3 := meta.Paper{ID: "cccccccccccc", Title: "Time, Clocks", Authors: []string{"L. Lamport"}, Year: 1978, Added: at(3)}
	// Another group whose first paper has the same name as the first's,
	// but added later.
	other := meta.Paper{ID: "dddddddddddd", Title: "time, clocks", Authors: []string{"Leslie Lamport"}, Year: 1978, Added: at(4)}
	other2 := meta.Paper{ID: "eeeeeeeeeeee", Title: "Time/Clocks: a preprint?", Authors: []string{"Leslie Lamport"}, Year: 1978, Added: at(5)}
	gs := nameDuplicates([]library.DuplicateGroup{
		{Papers: []meta.Paper{other, other2}, Reasons: []string{"same DOI 10.1/x"}},
		{Papers: []meta.Paper{lamport, lamport2, lamport3}, Reasons: []string{"same arXiv id 1234.5678"}},
	})
	got := map[string][]string{}
	var order []string
	for _, g := range gs {
		order = append(order, g.name)
		for _, p := range g.papers {
			got[g.name] = append(got[g.name], p.id+" "+p.name)
		}
	}
	want := map[string][]string{
		// The older group keeps the name; names that differ only in
		// case are one name.
		"Lamport 1978 - Time, Clocks": {
			"aaaaaaaaaaaa Lamport 1978 - Time, Clocks",
			"bbbbbbbbbbbb Lamport 1978 - Time, clocks [bbbbbbbbbbbb]",
			"cccccccccccc Lamport 1978 - Time, Clocks [cccccccccccc]",
		},
		"Lamport 1978 - time, clocks [dddddddddddd]": {
			"dddddddddddd Lamport 1978 - time, clocks",
			"eeeeeeeeeeee Lamport 1978 - Time-Clocks - a preprint",
		},
	}
	if len(got) != len(want) {
		t.Fatalf("groups %v, want %v", got, want)
	}
	for name, ps := range want {
		if !slices.Equal(got[name], ps) {
			t.Errorf("group %q: %q, want %q", name, got[name], ps)
		}
		if err := meta.CheckPortable(name); err != nil {
			t.Errorf("group %q: %v", name, err)
		}
		for _, p := range got[name] {
			if err := meta.CheckPortable(strings.SplitN(p, " ", 2)[1] + ExtJSON); err != nil {
				t.Errorf("%q: %v", p, err)
			}
		}
	}
	if !slices.IsSorted(order) {
		t.Errorf("groups not in name order: %q", order)
	}
}

func dupDir(g string) meta.View { return meta.View{Kind: Duplicates, Group: g} }

// TestDuplicatesView: duplicates/ lists probable duplicates, found again
// after the store changes, shows the papers' own files, and changes
// nothing.
func TestDuplicatesView(t *testing.T) {
	tv := newTestView(t)
	r := recorder{make(chan string, 1000)}
	tv.Start(r)
	// Added first, so its name is the group's.
	a := tv.add(t, meta.Paper{Title: "Paxos Made Simple", Authors: []string{"Leslie Lamport"}, Year: 2001, Added: time.Now().Add(-time.Hour)})
	b := tv.add(t, meta.Paper{Title: "Paxos made simple.", Authors: []string{"L. Lamport"}, Year: 2001, Tags: []string{"x"}})
	tv.add(t, meta.Paper{Title: "The Part-Time Parliament", Authors: []string{"Leslie Lamport"}, Year: 1998})

	gs, err := tv.Groups(Duplicates)
	if err != nil {
		t.Fatal(err)
	}
	const group = "Lamport 2001 - Paxos Made Simple"
	if len(gs) != 1 || gs[0].Name != group || gs[0].Count != 2 {
		t.Fatalf("duplicates/ lists %+v, want one group %q of 2", gs, group)
	}
	if ok, err := tv.HasGroup(Duplicates, group); !ok || err != nil {
		t.Errorf("HasGroup(%q) = %v, %v", group, ok, err)
	}
	if ok, err := tv.HasGroup(Duplicates, "nothing"); ok || err != nil {
		t.Errorf("HasGroup(nothing) = %v, %v", ok, err)
	}
	if why, _ := tv.DuplicateReasons(group); len(why) != 1 || !strings.HasPrefix(why[0], library.SameTitle) {
		t.Errorf("reasons %q", why)
	}
	es, err := tv.Dir(dupDir(group)).List()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range es {
		names = append(names, e.ID+" "+e.Name)
	}
	// Portable: no name ends in a dot; and one name, ignoring case.
	bName := "Lamport 2001 - Paxos made simple [" + b.ID + "]"
	want := []string{a.ID + " Lamport 2001 - Paxos Made Simple", b.ID + " " + bName}
	if !slices.Equal(names, want) {
		t.Fatalf("duplicates/%s lists %q, want %q", group, names, want)
	}
	for _, e := range es {
		_, attr, err := tv.Dir(dupDir(group)).Lookup(e.Name + ExtJSON)
		if err != nil {
			t.Fatal(err)
		}
		if text := read(t, tv, dupDir(group), e.Name+ExtJSON); attr.Size != int64(len(text)) {
			t.Errorf("%s.json: size %d, its text has %d bytes", e.Name, attr.Size, len(text))
		}
	}
	n, _, err := tv.Dir(dupDir(group)).Lookup(bName + ExtPDF)
	if err != nil {
		t.Fatal(err)
	}
	if pdf, ok := n.(PDF); !ok || pdf.ID != b.ID {
		t.Fatalf("the PDF in duplicates/ is %#v, want paper %s's", n, b.ID)
	}

	// What is refused there, and changes nothing.
	for what, op := range map[string]func() error{
		"rm":            func() error { return tv.Dir(dupDir(group)).Unlink(bName + ExtPDF) },
		"mkdir":         func() error { return tv.Mkdir(Duplicates, "new") },
		"rmdir":         func() error { return tv.Rmdir(Duplicates, group) },
		"mv of a group": func() error { return tv.RenameGroup(Duplicates, group, "other") },
		"cp of a PDF":   func() error { _, err := tv.Dir(dupDir(group)).Create("new.pdf", 0o644); return err },
		"mv into it": func() error {
			return tv.Dir(tag("x")).Rename("Lamport 2001 - Paxos made simple.pdf", nil, tv.Dir(dupDir(group)), "x.pdf", RenameFlags{})
		},
	} {
		if err := op(); !errors.Is(err, ErrNotPermitted) {
			t.Errorf("%s in duplicates/: %v, want refused", what, err)
		}
	}
	if p := tv.get(t, b.ID); p.Trashed != nil || !slices.Equal(p.Tags, []string{"x"}) {
		t.Errorf("refusals changed the paper: trashed %v tags %v", p.Trashed, p.Tags)
	}

	// A save there is a save of the paper.
	file := bName + ExtJSON
	text := read(t, tv, dupDir(group), file)
	if err := save(tv, dupDir(group), file, strings.Replace(text, `"rating": 0`, `"rating": 5`, 1)); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, b.ID).Rating; got != 5 {
		t.Errorf("rating %d after a save in duplicates/, want 5", got)
	}

	// A change that makes them different works: the group goes, and
	// the frontend is told to drop the names it was shown.
	if _, err := tv.Dir(dupDir(group)).List(); err != nil {
		t.Fatal(err)
	}
	if _, err := tv.store.Update(b.ID, func(p *meta.Paper) error { p.Title = "Paxos Made Live"; return nil }); err != nil {
		t.Fatal(err)
	}
	r.waitFor(t, "duplicates/"+group+"/"+file)
	if gs, err := tv.Groups(Duplicates); err != nil || len(gs) != 0 {
		t.Errorf("duplicates/ lists %+v, %v after the titles differ", gs, err)
	}
	if _, err := tv.Dir(dupDir(group)).List(); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("the gone group lists: %v", err)
	}
}

// A paper with no PDF (one from a .bib) in a group of duplicates shows its
// sidecar only, as in every view: no .pdf that cannot be opened.
func TestDuplicatesWithoutPDF(t *testing.T) {
	tv := newTestView(t)
	a := tv.add(t, meta.Paper{Title: "Paxos Made Simple", Authors: []string{"Leslie Lamport"}, Year: 2001, Added: time.Now().Add(-time.Hour)})
	b, err := tv.store.Create(meta.Paper{Title: "Paxos made simple", Authors: []string{"Leslie Lamport"}, Year: 2001})
	if err != nil {
		t.Fatal(err)
	}
	gs, err := tv.Groups(Duplicates)
	if err != nil || len(gs) != 1 {
		t.Fatalf("duplicates/ lists %+v, %v; want one group", gs, err)
	}
	es, err := tv.Dir(dupDir(gs[0].Name)).List()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if got, want := Shows(e, ExtPDF), e.ID == a.ID; got != want {
			t.Errorf("%s (%s) shows a PDF: %v, want %v", e.Name, e.ID, got, want)
		}
	}
	if len(es) != 2 || !slices.ContainsFunc(es, func(e meta.Entry) bool { return e.ID == b.ID }) {
		t.Errorf("the group lists %+v, want both papers", es)
	}
}
