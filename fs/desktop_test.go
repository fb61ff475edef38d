package fs

import (
	"errors"
	"os"
	"slices"
	"testing"

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
