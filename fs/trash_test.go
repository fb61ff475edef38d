package fs

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

var (
	trashView = meta.View{Kind: meta.Trash}
	fmFilesV  = FMTrashDirs["files"]
	fmInfoV   = FMTrashDirs["info"]
)

func names(t *testing.T, d Dir) []string {
	t.Helper()
	fs, err := d.Files()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fs {
		out = append(out, f.Name)
	}
	return out
}

// TestFileManagerTrash follows a file manager through the freedesktop.org
// trash: delete (write a .trashinfo, rename into files/), the Trash
// window (list files/ and info/), Restore (rename back), Empty Trash.
func TestFileManagerTrash(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968, Tags: []string{"ml"}})
	const name = "1968 - Art.pdf"
	info, files := tv.Dir(fmInfoV), tv.Dir(fmFilesV)

	// Delete in tags/ml: the paper goes to the trash with its tags.
	n, err := info.Create(name+".trashinfo", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := n.(*Sidecar).Open(0)
	h.Write([]byte("[Trash Info]\nPath=tags/ml/1968%20-%20Art.pdf\nDeletionDate=2026-12-04T10:00:00\n"), 0)
	h.Release()
	if err := tv.Dir(tag("ml")).Rename(name, nil, files, name, RenameFlags{}); err != nil {
		t.Fatal(err)
	}
	got := tv.get(t, p.ID)
	if got.Trashed == nil || !slices.Equal(got.Tags, []string{"ml"}) {
		t.Fatalf("after delete: trashed %v tags %v", got.Trashed, got.Tags)
	}
	if ns := names(t, files); !slices.Equal(ns, []string{name}) {
		t.Errorf("files/ lists %v", ns)
	}
	if ns := names(t, info); !slices.Equal(ns, []string{name + ".trashinfo"}) {
		t.Errorf("info/ lists %v", ns)
	}

	// Restore: the file manager renames it back where the .trashinfo says.
	if err := files.Rename(name, nil, tv.Dir(tag("ml")), name, RenameFlags{}); err != nil {
		t.Fatal(err)
	}
	if err := info.Unlink(name + ".trashinfo"); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID); got.Trashed != nil || !slices.Equal(got.Tags, []string{"ml"}) {
		t.Fatalf("after restore: trashed %v tags %v", got.Trashed, got.Tags)
	}
	if ns := names(t, files); len(ns) != 0 {
		t.Errorf("files/ lists %v after the restore", ns)
	}

	// rm all/X.pdf trashes too; the file manager's Trash shows it, with
	// a .trashinfo made from the paper.
	if err := tv.Dir(all).Unlink(name); err != nil {
		t.Fatal(err)
	}
	in, _, err := info.Lookup(name + ".trashinfo")
	if err != nil {
		t.Fatal(err)
	}
	if text := string(in.(*Generated).Content()); !strings.Contains(text, "Path=all/1968%20-%20Art.pdf\n") {
		t.Errorf("made .trashinfo:\n%s", text)
	}

	// Empty Trash: the paper leaves the file manager's Trash only.
	if err := files.Unlink(name); err != nil {
		t.Fatal(err)
	}
	if ns := names(t, files); len(ns) != 0 {
		t.Errorf("files/ lists %v after emptying", ns)
	}
	if es, _ := tv.Dir(trashView).List(); len(es) != 1 {
		t.Errorf("trash/ lists %v after emptying the file manager's Trash, want the paper", es)
	}

	// mv trash/X.pdf into a folder restores it there.
	if err := tv.Dir(trashView).Rename(name, nil, tv.Dir(folder("f")), name, RenameFlags{}); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID); got.Trashed != nil || !slices.Equal(got.Folders, []string{"f"}) {
		t.Fatalf("after mv out of trash/: trashed %v folders %v", got.Trashed, got.Folders)
	}

	// A sidecar is not trashed on its own, and rm in trash/ never deletes.
	if err := tv.Dir(all).Rename("1968 - Art.json", nil, files, "1968 - Art.json", RenameFlags{}); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("sidecar into the trash: %v", err)
	}
	tv.Dir(all).Unlink(name)
	if err := tv.Dir(trashView).Unlink(name); !errors.Is(err, ErrNotPermitted) {
		t.Errorf("rm in trash/: %v", err)
	}
}

// TestCopyOutOfTrash: cp trash/X.pdf all/ restores the paper.
func TestCopyOutOfTrash(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	if err := tv.Dir(all).Unlink("1968 - Art.pdf"); err != nil {
		t.Fatal(err)
	}
	n, _, err := tv.Dir(trashView).Lookup("1968 - Art.pdf")
	if err != nil {
		t.Fatal(err)
	}
	r, err := n.(PDF).Open(0)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(r)
	r.Close()
	if err := copyIn(tv, tag("back"), "1968 - Art.pdf", body); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID); got.Trashed != nil || !slices.Equal(got.Tags, []string{"back"}) {
		t.Fatalf("after cp out of the trash: trashed %v tags %v", got.Trashed, got.Tags)
	}
}
