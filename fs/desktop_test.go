package fs

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
)

func scratchNames(d Dir) []string {
	var out []string
	for _, e := range d.Scratch() {
		out = append(out, e.Name)
	}
	return out
}

// TestSidecarRename: renaming a sidecar to another .json name is refused
// like renaming the PDF (it made a copy the listing did not show, and
// changed nothing); editors' backup names still become scratch copies, and
// every scratch file is listed.
func TestSidecarRename(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	d := tv.Dir(all)
	for _, to := range []string{"Y.json", "1968 - Other.json"} {
		err := d.Rename(file, nil, d, to, RenameFlags{})
		var r *Refusal
		if !errors.Is(err, ErrNotPermitted) || !errors.As(err, &r) || r.Reason == "" {
			t.Errorf("rename to %s: %v, want a refusal with a reason", to, err)
		}
		if _, _, err := d.Lookup(to); !errors.Is(err, meta.ErrNotFound) {
			t.Errorf("%s can be looked up after the refused rename: %v", to, err)
		}
	}
	if got := tv.get(t, p.ID); got.Title != "Art" {
		t.Errorf("title %q", got.Title)
	}
	backups := []string{"#" + file + "#", "." + file + ".swp", file + ".bak", file + "~"}
	for _, to := range backups {
		if err := d.Rename(file, nil, d, to, RenameFlags{}); err != nil {
			t.Errorf("rename to the backup %s: %v", to, err)
		}
	}
	// A file of the user's own, too.
	n, err := d.Create("notes.md", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := n.(*Sidecar).Open(os.O_WRONLY)
	h.Write([]byte("notes"), 0)
	h.Release()
	want := append(slices.Clone(backups), "notes.md")
	slices.Sort(want)
	if got := scratchNames(d); !slices.Equal(got, want) {
		t.Errorf("scratch listed %q, want %q", got, want)
	}
	for _, name := range want {
		if _, _, err := d.Lookup(name); err != nil {
			t.Errorf("%s listed but not found: %v", name, err)
		}
	}
	if got := scratchNames(tv.Dir(tag("x"))); len(got) != 0 {
		t.Errorf("tags/x lists %q", got)
	}
}

// TestEmptyCopy: a PDF copied in that is still empty when its last writer
// lets go is refused with the reason and leaves the view and the library
// folder; a file created and then written, through the same descriptor or
// created again later, is imported.
func TestEmptyCopy(t *testing.T) {
	tv := newTestView(t)
	sub := tv.store.Subscribe()
	defer sub.Close()
	d := tv.Dir(all)
	create := func(name string) *Incoming {
		t.Helper()
		n, err := d.Create(name, 0o644)
		if err != nil {
			t.Fatal(err)
		}
		return n.(*Incoming)
	}
	write := func(in *Incoming, body string) {
		t.Helper()
		w, err := in.Open(os.O_WRONLY)
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			w.Write([]byte(body))
		}
		w.Close()
		if err := in.Finish(); err != nil {
			t.Fatal(err)
		}
		in.Release(os.O_WRONLY)
	}
	incoming := func() []string {
		left, _ := filepath.Glob(filepath.Join(tv.lib, ".paperfs-incoming-*"))
		return left
	}

	// cp empty.pdf all/ (and touch x.pdf): refused at the last release.
	write(create("empty.pdf"), "")
	if _, _, err := d.Lookup("empty.pdf"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("empty.pdf still in all/: %v", err)
	}
	rs := tv.Rejections()
	if len(rs) != 1 || rs[0].File != "all/empty.pdf" || !strings.Contains(rs[0].Problem, "is empty") {
		t.Errorf("rejections %+v", rs)
	}
	if left := incoming(); len(left) != 0 {
		t.Errorf("left in the library folder: %v", left)
	}

	// touch, then a later write creates it again.
	write(create("later.pdf"), "")
	write(create("later.pdf"), "%PDF-1.4 later")

	// A file manager: create, a close of a duplicate descriptor (flush)
	// while empty, then the write, through the one open handle.
	in := create("fm.pdf")
	w, _ := in.Open(os.O_WRONLY)
	if err := in.Finish(); err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("%PDF-1.4 file manager"))
	w.Close()
	if err := in.Finish(); err != nil {
		t.Fatal(err)
	}
	in.Release(os.O_WRONLY)

	// rm of a copy never written.
	create("gone.pdf")
	if err := d.Unlink("gone.pdf"); err != nil {
		t.Fatal(err)
	}

	// The imports run in the background: wait for their papers.
	timeout := time.After(20 * time.Second)
	for n, _ := tv.store.Count(all); n < 2; n, _ = tv.store.Count(all) {
		select {
		case <-sub.C:
		case <-timeout:
			t.Fatalf("%d papers, want later.pdf and fm.pdf", n)
		}
	}
	tv.Close() // waits for the imports' last steps
	if left := incoming(); len(left) != 0 {
		t.Errorf("left in the library folder: %v", left)
	}
}

// TestPastedNameStays: the name a PDF was pasted as stays, as an alias of
// the paper's PDF, while it is used and for a grace period after; renaming
// or deleting it acts on the paper as its PDF's name would.
func TestPastedNameStays(t *testing.T) {
	tv := newTestView(t)
	clock := time.Now()
	tv.FS.now = func() time.Time { return clock }
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	body := []byte("%PDF-1.4 Art") // as add writes it: the paper is in the library
	d := tv.Dir(all)
	paste := func(name string) {
		t.Helper()
		if err := copyIn(tv, all, name, body); err != nil {
			t.Fatal(err)
		}
		n, a, err := d.Lookup(name)
		if err != nil || n != Node(PDF{fs: tv.FS, ID: p.ID}) || a.Size != int64(len(body)) {
			t.Fatalf("%s after the paste: %T %+v %v", name, n, a, err)
		}
	}
	paste("pasted.pdf")
	if got := scratchNames(d); !slices.Equal(got, []string{"pasted.pdf"}) {
		t.Errorf("all/ lists %q besides the paper", got)
	}
	// Renamed within the view: refused, as the PDF's rename is.
	if err := d.Rename("pasted.pdf", nil, d, "other.pdf", RenameFlags{}); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("rename within all/: %v", err)
	}
	if _, _, err := d.Lookup("pasted.pdf"); err != nil {
		t.Errorf("the alias went with a refused rename: %v", err)
	}
	// Moved into a tag (cut and paste): tagged; the alias goes.
	if err := d.Rename("pasted.pdf", nil, tv.Dir(tag("x")), "pasted.pdf", RenameFlags{}); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID).Tags; !slices.Equal(got, []string{"x"}) {
		t.Errorf("tags %v after moving the pasted name into tags/x", got)
	}
	if _, _, err := d.Lookup("pasted.pdf"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("all/pasted.pdf after the move: %v", err)
	}
	// Renamed to the paper's own name: the alias just goes.
	paste("mine.pdf")
	if err := d.Rename("mine.pdf", nil, d, "1968 - Art.pdf", RenameFlags{}); err != nil {
		t.Errorf("rename to the paper's name: %v", err)
	}
	// Used, it stays; unused for the grace period, it goes.
	paste("old.pdf")
	clock = clock.Add(DefaultAliasGrace - time.Second)
	if _, _, err := d.Lookup("old.pdf"); err != nil {
		t.Errorf("old.pdf within the grace period: %v", err)
	}
	clock = clock.Add(DefaultAliasGrace - time.Second)
	if _, _, err := d.Lookup("old.pdf"); err != nil {
		t.Errorf("old.pdf used within the grace period: %v", err)
	}
	clock = clock.Add(DefaultAliasGrace)
	if got := scratchNames(d); len(got) != 0 {
		t.Errorf("all/ lists %q after the grace period", got)
	}
	if _, _, err := d.Lookup("old.pdf"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("old.pdf after the grace period: %v", err)
	}
	// Deleted from all/: the paper goes to the trash, as rm of its PDF.
	paste("del.pdf")
	if err := d.Unlink("del.pdf"); err != nil {
		t.Fatal(err)
	}
	if tv.get(t, p.ID).Trashed == nil {
		t.Error("rm of the pasted name did not trash the paper")
	}
	if _, _, err := d.Lookup("del.pdf"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("del.pdf after rm: %v", err)
	}
}
