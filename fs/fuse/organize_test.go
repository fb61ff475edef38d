//go:build linux || darwin

package fuse

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

func sh(t *testing.T, dir, script string) {
	t.Helper()
	cmd := commandIn(dir, "bash", "-c", script)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", script, err, out)
	}
}

func tagsOf(t *testing.T, s *meta.Store, id string) []string {
	t.Helper()
	p, err := s.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return p.Tags
}

// TestOrganize drives a file manager's and a shell's verbs through the
// mount, with the real coreutils, and checks what each means in the store.
func TestOrganize(t *testing.T) { inModes(t, testOrganize) }

func testOrganize(t *testing.T, opts Options) {
	s, lib, mnt, _ := testMount(t, opts)
	pdf := []byte("%PDF-1.4 knuth")
	p := addPDF(t, s, lib, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"},
		File: meta.File{Path: "knuth.pdf", SHA256: fmt.Sprintf("%x", sha256.Sum256(pdf))}}, pdf)
	const name = "Knuth 1968 - Art"

	// mkdir tags/new: an empty tag that lists and survives.
	sh(t, mnt, "mkdir tags/b tags/x && test -d tags/b")
	if gs := ls(t, filepath.Join(mnt, "tags")); !slices.Equal(gs, []string{"a", "b", "x"}) {
		t.Fatalf("tags/ = %v", gs)
	}
	// mv tags/a/<name>.pdf tags/b/: retag a -> b.
	sh(t, mnt, "mv 'tags/a/"+name+".pdf' tags/b/")
	if got := tagsOf(t, s, p.ID); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("after mv a->b: tags %v", got)
	}
	eventually(t, "paper listed in tags/b", func() bool {
		_, err := os.Stat(filepath.Join(mnt, "tags/b", name+".json"))
		return err == nil
	})
	// cp and ln of a paper into a tag or folder add it there.
	sh(t, mnt, "cp 'all/"+name+".pdf' tags/x/")
	sh(t, mnt, "mkdir folders/f && ln 'all/"+name+".pdf' folders/f/")
	got, _ := s.Get(p.ID)
	if !slices.Equal(got.Tags, []string{"b", "x"}) || !slices.Equal(got.Folders, []string{"f"}) {
		t.Fatalf("after cp/ln: tags %v folders %v", got.Tags, got.Folders)
	}
	if n, _ := s.Count(meta.View{Kind: meta.All}); n != 1 {
		t.Fatalf("cp of a paper into a tag made %d papers", n)
	}
	// rm in a tag removes the tag only; the paper and its PDF stay.
	sh(t, mnt, "rm 'tags/x/"+name+".pdf'")
	if got := tagsOf(t, s, p.ID); !slices.Equal(got, []string{"b"}) {
		t.Fatalf("after rm in tags/x: tags %v", got)
	}
	// rmdir removes an empty tag and refuses a full one.
	sh(t, mnt, "rmdir tags/x")
	if err := os.Remove(filepath.Join(mnt, "tags/b")); !errors.Is(err, syscall.ENOTEMPTY) {
		t.Errorf("rmdir of a tag with papers: %v, want ENOTEMPTY", err)
	}
	// Renaming a tag renames it on every paper.
	sh(t, mnt, "mv tags/b tags/renamed")
	if got := tagsOf(t, s, p.ID); !slices.Equal(got, []string{"renamed"}) {
		t.Fatalf("after renaming the tag: tags %v", got)
	}
	if _, err := os.Stat(filepath.Join(mnt, "tags/b")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("old tag directory still there: %v", err)
	}
	// The renamed directory (the same inode for the kernel) is the new
	// tag at once: a paper linked into it right away gets "renamed".
	sh(t, mnt, "mkdir tags/y && mv tags/y tags/z && ln 'all/"+name+".pdf' tags/z/")
	if got := tagsOf(t, s, p.ID); !slices.Equal(got, []string{"renamed", "z"}) {
		t.Fatalf("after linking into a just-renamed tag: tags %v", got)
	}
	sh(t, mnt, "rm 'tags/z/"+name+".pdf' && rmdir tags/z")

	// A new PDF copied in is imported into the library folder; into a
	// tag, it arrives tagged.
	outside := filepath.Join(t.TempDir(), "Fresh Paper.pdf")
	os.WriteFile(outside, []byte("%PDF-1.4 fresh"), 0o644)
	sh(t, mnt, "cp '"+outside+"' tags/renamed/")
	var fresh meta.Entry
	eventually(t, "imported paper", func() bool {
		es, _ := s.List(meta.View{Kind: meta.Tags, Group: "renamed"})
		for _, e := range es {
			if e.ID != p.ID {
				fresh = e
				return true
			}
		}
		return false
	})
	fp, _ := s.Get(fresh.ID)
	if fp.Title != "Fresh Paper" {
		t.Errorf("imported paper's title %q, want the file name's", fp.Title)
	}
	if b, err := os.ReadFile(filepath.Join(lib, fp.File.Path)); err != nil || string(b) != "%PDF-1.4 fresh" {
		t.Fatalf("imported PDF %q in the library folder: %v", fp.File.Path, err)
	}

	// A browser's download: written as .part, renamed to .pdf on completion.
	sh(t, mnt, "printf '%s' '%PDF-1.4 downloaded' > tags/renamed/Download.pdf.part && mv tags/renamed/Download.pdf.part tags/renamed/Download.pdf")
	eventually(t, "downloaded paper imported", func() bool {
		n, _ := s.Count(meta.View{Kind: meta.Tags, Group: "renamed"})
		return n == 3
	})

	// rm all/<name>.pdf trashes: the PDF moves to the library's trash
	// folder, the paper to trash/, nothing is destroyed.
	sh(t, mnt, "rm 'all/"+name+".pdf'")
	tp, _ := s.Get(p.ID)
	if tp.Trashed == nil {
		t.Fatalf("rm in all/ did not trash the paper")
	}
	if b, err := os.ReadFile(filepath.Join(lib, tp.File.Path)); err != nil || string(b) != string(pdf) {
		t.Fatalf("trashed PDF at %q: %v", tp.File.Path, err)
	}
	eventually(t, "paper in trash/", func() bool {
		_, err := os.Stat(filepath.Join(mnt, "trash", name+".pdf"))
		return err == nil
	})

	// What has no meaning fails with a clear errno, never silently.
	for _, c := range []struct {
		what string
		err  error
	}{
		{"mkdir years/1999", os.Mkdir(filepath.Join(mnt, "years/1999"), 0o755)},
		{"mkdir authors/Someone", os.Mkdir(filepath.Join(mnt, "authors/Someone"), 0o755)},
		{"mkdir all/sub", os.Mkdir(filepath.Join(mnt, "all/sub"), 0o755)},
		{"create a file in tags/", os.WriteFile(filepath.Join(mnt, "tags/file.txt"), nil, 0o644)},
		{"create a file at the root", os.WriteFile(filepath.Join(mnt, "notes.txt"), nil, 0o644)},
		{"rm a sidecar", os.Remove(filepath.Join(mnt, "all", fresh.Name+".json"))},
		{"rename a pdf in place", os.Rename(filepath.Join(mnt, "all", fresh.Name+".pdf"), filepath.Join(mnt, "all/Other.pdf"))},
	} {
		if !errors.Is(c.err, syscall.EPERM) {
			t.Errorf("%s: %v, want EPERM", c.what, c.err)
		}
	}
	// A file manager's trash is there (see TestFileManagerTrash).
	if err := os.Mkdir(filepath.Join(mnt, ".Trash-0"), 0o700); !errors.Is(err, os.ErrExist) {
		t.Errorf("mkdir .Trash-0: %v, want EEXIST", err)
	}
	// A file manager's other probes find nothing and cost nothing.
	for _, probe := range []string{".hidden", ".directory", "all/.hidden", "tags/.directory", ".Trash", "all/.thumbnails"} {
		if _, err := os.Stat(filepath.Join(mnt, probe)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("probe %s: %v", probe, err)
		}
	}
}

// TestUserFilesKept: a file of the user's own written into a view is not
// a paper, but it is not lost either: at unmount it is kept beside the
// refused saves, while editors' temporaries go.
func TestUserFilesKept(t *testing.T) { inModes(t, testUserFilesKept) }

func testUserFilesKept(t *testing.T, opts Options) {
	s, lib, mnt, f := testMount(t, opts)
	addPDF(t, s, lib, meta.Paper{Title: "P", Tags: []string{"t"}, File: meta.File{Path: "p.pdf"}}, []byte("%PDF-1.4 p"))
	for name, text := range map[string]string{
		"notes.md": "my notes", ".notes.md.swp": "swap", "P.json~": "backup", "4913": "", "sedAb12Cd": "x",
	} {
		if err := os.WriteFile(filepath.Join(mnt, "tags/t", name), []byte(text), 0o644); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
	}
	if err := os.WriteFile(filepath.Join(mnt, "all", "empty.pdf"), nil, 0o644); err != nil { // touch
		t.Fatal(err)
	}
	if err := Unmount(mnt); err != nil {
		t.Fatal(err)
	}
	// Unmounted from outside, the mount's owner closes the view (paperfs
	// mount returns when its mount is gone), which keeps what is the
	// user's and cleans up.
	f.View().Close()
	kept := filepath.Join(filepath.Dir(mnt), "data", "rejected")
	var names []string
	es, _ := os.ReadDir(kept)
	for _, e := range es {
		names = append(names, e.Name())
	}
	if left, _ := filepath.Glob(filepath.Join(lib, ".paperfs-incoming-*")); len(left) != 0 {
		t.Errorf("left in the library folder: %v", left)
	}
	if len(names) != 1 || !strings.HasSuffix(names[0], "-tags_t-notes.md") {
		t.Fatalf("kept %v, want only notes.md", names)
	}
	if b, _ := os.ReadFile(filepath.Join(kept, names[0])); string(b) != "my notes" {
		t.Errorf("kept text %q", b)
	}
}
