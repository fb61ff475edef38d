package library

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// tree lists the library folder's files as "path=content".
func tree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(p)
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel+"="+strings.TrimPrefix(string(b), "%PDF-1.4\n"))
		}
		return err
	})
	return out
}

// portableLibrary is a library folder made before names were portable.
func portableLibrary(t *testing.T) (*Library, *meta.Store) {
	t.Helper()
	l, s := setup(t)
	for rel, body := range map[string]string{
		"Antons et al. 2013 - Did You Notice? x.pdf": "antons",
		"a:b/c.pdf":      "c",
		"CON.pdf":        "con",
		"fine.pdf":       "fine",
		"same: x.pdf":    "same1",
		"same - x.pdf":   "same2",
		"Why?.pdf":       "why1",
		"WHY.pdf":        "why2",
		"Cafe\u0301.pdf": "cafe",
	} {
		testutil.WritePDF(t, filepath.Join(l.Root, filepath.FromSlash(rel)), body)
	}
	os.WriteFile(filepath.Join(l.Root, "a:b", "notes.txt"), []byte("mine"), 0o644)
	if rep, err := l.Scan(context.Background(), nil); err != nil || len(rep.New) != 9 {
		t.Fatalf("scan: %+v, %v", rep, err)
	}
	return l, s
}

// Issue 17: a library imported before names were portable is renamed;
// the dry run says what the run does and changes nothing; the records
// follow; a second run has nothing to do.
func TestRenamePortable(t *testing.T) {
	l, s := portableLibrary(t)
	ctx := context.Background()
	refusedPaths := func() []string {
		t.Helper()
		rs, err := l.RefusedNames(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.Path)
		}
		slices.Sort(out)
		return out
	}
	wantRefused := []string{"Antons et al. 2013 - Did You Notice? x.pdf", "CON.pdf", "Cafe\u0301.pdf", "Why?.pdf", "a:b", "same: x.pdf"}
	if got := refusedPaths(); !slices.Equal(got, wantRefused) {
		t.Errorf("refused %q, want %q", got, wantRefused)
	}
	before := tree(t, l.Root)
	plan, err := l.PortableRenames()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, r := range plan {
		got[r.From] = r.To
	}
	want := map[string]string{
		"Antons et al. 2013 - Did You Notice? x.pdf": "Antons et al. 2013 - Did You Notice x.pdf",
		"a:b/c.pdf":      "a-b/c.pdf",
		"CON.pdf":        "CON_.pdf",
		"same: x.pdf":    "same - x (2).pdf",
		"Why?.pdf":       "Why (2).pdf",
		"Cafe\u0301.pdf": "Café.pdf",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("plan\n%v\nwant\n%v", got, want)
	}
	if after := tree(t, l.Root); !slices.Equal(before, after) {
		t.Fatalf("the dry run changed the folder:\n%q\n%q", before, after)
	}

	done, err := l.RenamePortable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(done, plan) {
		t.Errorf("done %v, planned %v", done, plan)
	}
	for _, r := range done {
		p, err := s.Get(r.ID)
		if err != nil || p.File.Path != r.To {
			t.Errorf("paper of %s is at %q: %v", r.From, p.File.Path, err)
		}
		if _, err := os.Stat(l.Abs(r.To)); err != nil {
			t.Error(err)
		}
	}
	files := tree(t, l.Root)
	wantFiles := []string{"Antons et al. 2013 - Did You Notice x.pdf=antons", "CON_.pdf=con", "Café.pdf=cafe", "WHY.pdf=why2",
		"Why (2).pdf=why1", "a-b/c.pdf=c", "a:b/notes.txt=mine", "fine.pdf=fine", "same - x (2).pdf=same1", "same - x.pdf=same2"}
	if !slices.Equal(files, wantFiles) {
		t.Errorf("folder\n%q\nwant\n%q", files, wantFiles)
	}
	rep, err := l.Scan(ctx, nil)
	if err != nil || rep.Moved+rep.Missing+len(rep.New)+len(rep.Duplicates) != 0 {
		t.Errorf("scan after the renames: %+v, %v", rep, err)
	}
	if got := refusedPaths(); !slices.Equal(got, []string{"a:b"}) {
		t.Errorf("still refused: %q (only the folder holding notes.txt should be)", got)
	}
	if again, err := l.RenamePortable(ctx); err != nil || len(again) != 0 {
		t.Errorf("second run: %v, %v", again, err)
	}
	if n := count(t, s, meta.All); n != 9 {
		t.Errorf("%d papers", n)
	}
}

// Killed between renaming a PDF and recording it: the rerun (a scan, then
// the renames) finds it by content and finishes, losing and doubling
// nothing.
func TestRenamePortableInterrupted(t *testing.T) {
	l, s := portableLibrary(t)
	ctx := context.Background()
	plan, err := l.PortableRenames()
	if err != nil {
		t.Fatal(err)
	}
	// The first file moved, its record not yet.
	if err := os.Rename(l.Abs(plan[0].From), l.Abs(plan[0].To)); err != nil {
		t.Fatal(err)
	}
	if rep, err := l.Scan(ctx, nil); err != nil || rep.Moved != 1 || len(rep.New) != 0 {
		t.Fatalf("rerun's scan: %+v, %v", rep, err)
	}
	if _, err := l.RenamePortable(ctx); err != nil {
		t.Fatal(err)
	}
	bad, err := l.Unportable()
	if err != nil || len(bad) != 0 {
		t.Errorf("left unportable: %v, %v", bad, err)
	}
	if n := count(t, s, meta.All); n != 9 {
		t.Errorf("%d papers", n)
	}
	if rep, _ := l.Scan(ctx, nil); rep.Moved+rep.Missing+len(rep.New) != 0 {
		t.Errorf("scan after: %+v", rep)
	}
}

// A rename reaches another device through sync before its cloud drive has
// renamed the file there: that device's scans leave the record alone
// rather than take the old name for a move (which would undo the rename
// on every device), and follow once the file is renamed.
func TestRenamePortableAcrossDevices(t *testing.T) {
	a, b := newDevice(t, "deva00000001"), newDevice(t, "devb00000001")
	a.write("why?.pdf", "x")
	a.scan()
	id := must(a.store.ByPath("why?.pdf"))
	b.write("why?.pdf", "x")
	a.sendTo(b)
	b.scan()
	done, err := a.lib.RenamePortable(context.Background())
	if err != nil || len(done) != 1 || done[0].To != "why.pdf" {
		t.Fatalf("rename: %v, %v", done, err)
	}
	a.sendTo(b)
	for range 2 {
		rep := b.scan()
		if len(rep.New) != 0 || rep.Moved != 0 || !slices.Equal(rep.Renaming, []string{"why?.pdf"}) {
			t.Fatalf("b: scan before its cloud drive renamed the file: %+v", rep)
		}
	}
	if n := b.pending(); n != 0 {
		t.Fatalf("b: %d ops queued for a rename another device made", n)
	}
	if p := b.get(id); p.File.Path != "why.pdf" {
		t.Fatalf("b: record at %q", p.File.Path)
	}
	b.move("why?.pdf", "why.pdf")
	if rep := b.scan(); rep.Returned != 1 || len(rep.Renaming) != 0 || b.pending() != 0 {
		t.Fatalf("b: after the cloud drive renamed it: %+v", rep)
	}
	if p := b.get(id); p.Missing {
		t.Fatal("b: still missing")
	}
	converged(t, a, b)
}

func TestRenamedElsewhere(t *testing.T) {
	for _, c := range []struct {
		recorded, found string
		want            bool
	}{
		{"why.pdf", "why?.pdf", true},
		{"why (2).pdf", "why?.pdf", true},
		{"a-b/c.pdf", "a:b/c.pdf", true},
		{"why.pdf", "why.pdf", false},      // not a rename to a portable name
		{"other.pdf", "why?.pdf", false},   // a move
		{"why?.pdf", "why.pdf", false},     // this device renamed it: a move
		{"why (x).pdf", "why?.pdf", false}, // not a number
		{"why (1).pdf", "why?.pdf", false}, // numbers start at 2
	} {
		if got := renamedElsewhere(c.recorded, c.found); got != c.want {
			t.Errorf("renamedElsewhere(%q, %q) = %v", c.recorded, c.found, got)
		}
	}
}

// Unportable keeps its answer while no PDF path changes (a mount's status
// asks every few seconds) and follows a rename and a new file at once.
func TestUnportableFollowsPaths(t *testing.T) {
	l, s := portableLibrary(t)
	ctx := context.Background()
	paths := func() []string {
		t.Helper()
		bad, err := l.Unportable()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, f := range bad {
			out = append(out, f.Path)
		}
		return out
	}
	first := paths()
	if len(first) != 6 {
		t.Fatalf("unportable %q, want 6", first)
	}
	gen := s.FilesGeneration()
	if again := paths(); !slices.Equal(again, first) || s.FilesGeneration() != gen {
		t.Errorf("asked again: %q (generation %d -> %d)", again, gen, s.FilesGeneration())
	}
	// An edit that leaves every path as it was keeps the answer.
	id := must(s.ByPath("fine.pdf"))
	if _, err := s.Update(id, func(p *meta.Paper) error { p.Tags = append(p.Tags, "read"); return nil }); err != nil {
		t.Fatal(err)
	}
	if s.FilesGeneration() != gen {
		t.Errorf("a tag edit moved the paths' generation %d -> %d", gen, s.FilesGeneration())
	}
	if _, err := l.RenamePortable(ctx); err != nil {
		t.Fatal(err)
	}
	if after := paths(); len(after) != 0 {
		t.Errorf("after the renames: %q", after)
	}
	testutil.WritePDF(t, filepath.Join(l.Root, "new?.pdf"), "new")
	if _, err := l.Scan(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if after := paths(); !slices.Equal(after, []string{"new?.pdf"}) {
		t.Errorf("after a new file: %q", after)
	}
}
