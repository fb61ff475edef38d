//go:build linux

package fuse

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// TestDirectoryAttrs: what stat, ls -i and ls -a show of the mount's own
// directories: the root is inode 1, every directory has a time and two
// links, and every listing has "." and "..".
func TestDirectoryAttrs(t *testing.T) {
	s, lib, mnt, _ := testMount(t, Options{})
	addPDF(t, s, lib, meta.Paper{Title: "Art", Year: 1968, Tags: []string{"ml"}, File: meta.File{Path: "art.pdf"}}, []byte("%PDF-1.4 art"))
	var root syscall.Stat_t
	if err := syscall.Stat(mnt, &root); err != nil || root.Ino != 1 {
		t.Errorf("root: inode %d (%v), want 1", root.Ino, err)
	}
	since := time.Now().Add(-time.Hour)
	for _, dir := range []string{".", ".paperfs", "all", "tags", "tags/ml", ".Trash-" + uidString(), "library.bib"} {
		st, err := os.Stat(filepath.Join(mnt, dir))
		if err != nil {
			t.Fatal(err)
		}
		sys := st.Sys().(*syscall.Stat_t)
		if st.ModTime().Before(since) || (st.IsDir() && sys.Nlink < 2) || sys.Nlink == 0 {
			t.Errorf("%s: mtime %v, %d links", dir, st.ModTime(), sys.Nlink)
		}
	}
	for _, dir := range []string{".", ".paperfs", "all", "tags", "tags/ml", ".Trash-" + uidString(), ".Trash-" + uidString() + "/files"} {
		out, err := exec.Command("ls", "-a1", filepath.Join(mnt, dir)).Output()
		if err != nil {
			t.Fatalf("ls -a %s: %v", dir, err)
		}
		names := strings.Split(strings.TrimSpace(string(out)), "\n")
		if len(names) < 2 || names[0] != "." || names[1] != ".." || slices.Contains(names[2:], ".") {
			t.Errorf("ls -a %s: %q", dir, names)
		}
	}
	if out, _ := exec.Command("ls", "-a1", filepath.Join(mnt, "tags/ml")).Output(); !strings.Contains(string(out), "1968 - Art.pdf\n") {
		t.Errorf("ls -a tags/ml:\n%s", out)
	}
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "x"), nil, 0o644)
	if err := CheckMountpoint(dir); err == nil || !strings.Contains(err.Error(), `is not empty ("x" is there)`) {
		t.Errorf("mountpoint with one file: %v", err)
	}
}

// TestSidecarRenameAndListing: renaming a sidecar is refused (it made a
// name that could be stat'ed but was not listed), editors' backups still
// work, and every file there is listed.
func TestSidecarRenameAndListing(t *testing.T) { inModes(t, testSidecarRenameAndListing) }

func testSidecarRenameAndListing(t *testing.T, opts Options) {
	s, lib, mnt, _ := testMount(t, opts)
	addPDF(t, s, lib, meta.Paper{Title: "Art", Year: 1968, File: meta.File{Path: "art.pdf"}}, []byte("%PDF-1.4 art"))
	all := filepath.Join(mnt, "all")
	x := filepath.Join(all, "1968 - Art.json")
	if err := os.Rename(x, filepath.Join(all, "Y.json")); !errors.Is(err, syscall.EPERM) {
		t.Errorf("mv X.json Y.json: %v, want EPERM", err)
	}
	if _, err := os.Stat(filepath.Join(all, "Y.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Y.json after a refused rename: %v", err)
	}
	gio(t, mnt, "copy", x, filepath.Join(all, "1968 - Art.json~")) // a backup
	sh(t, all, "echo notes > notes.md && mv '1968 - Art.json' '1968 - Art.json.bak'")
	want := []string{"1968 - Art.json", "1968 - Art.json.bak", "1968 - Art.json~", "1968 - Art.pdf", "notes.md"}
	if got := ls(t, all); !slices.Equal(got, want) {
		t.Errorf("all/ lists %q, want %q", got, want)
	}
	for _, name := range want {
		if _, err := os.Stat(filepath.Join(all, name)); err != nil {
			t.Errorf("listed but not there: %v", err)
		}
	}
	// As a file manager renames (F2): refused, with the reason.
	if out, err := gioRun(t, mnt, "rename", x, "Z.json"); err == nil || !strings.Contains(out, "Operation not permitted") {
		t.Errorf("gio rename X.json Z.json: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(all, "Z.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Z.json after a refused rename: %v", err)
	}
}

// gioRun is gio (trash_test.go) for a command that may fail.
func gioRun(t *testing.T, dir string, args ...string) (string, error) {
	t.Helper()
	testutil.Need(t, "gio", "dbus-run-session")
	// Not cmd.Dir: see commandIn.
	cmd := commandIn(dir, "dbus-run-session", append([]string{"--", "gio"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_RUNTIME_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestEmptyCopyRefused: cp of an empty PDF returns 0 (close cannot wait),
// and the file then leaves the view, refused with the reason; touch and a
// later write import the PDF; nothing stays in the library folder.
func TestEmptyCopyRefused(t *testing.T) { inModes(t, testEmptyCopyRefused) }

func testEmptyCopyRefused(t *testing.T, opts Options) {
	_, lib, mnt, f := testMount(t, opts)
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "empty.pdf"), nil, 0o644)
	os.WriteFile(filepath.Join(src, "real.pdf"), []byte("%PDF-1.4 real"), 0o644)
	sh(t, mnt, "cp '"+src+"/empty.pdf' all/ && touch all/later.pdf")
	eventually(t, "empty.pdf and later.pdf refused", func() bool {
		b, _ := os.ReadFile(filepath.Join(mnt, ".paperfs/errors"))
		return strings.Contains(string(b), "all/empty.pdf is empty") && strings.Contains(string(b), "all/later.pdf is empty")
	})
	// The kernel is told after the refusal.
	for _, name := range []string{"empty.pdf", "later.pdf"} {
		eventually(t, name+" leaves the kernel's cache", func() bool {
			_, err := os.Stat(filepath.Join(mnt, "all", name))
			return errors.Is(err, os.ErrNotExist)
		})
	}
	if names := ls(t, filepath.Join(mnt, "all")); len(names) != 0 {
		t.Errorf("all/ lists %q", names)
		for _, e := range f.View().Dir(meta.View{Kind: meta.All}).Scratch() {
			a, err := e.Node.Attr()
			t.Errorf("still listed: %s, a %T, attr %+v, %v", e.Name, e.Node, a, err)
		}
	}
	sh(t, mnt, "cat '"+src+"/real.pdf' > all/later.pdf")
	eventually(t, "later.pdf imported", func() bool {
		_, err := os.Stat(filepath.Join(mnt, "all", "later.json"))
		return err == nil
	})
	eventually(t, "no copy left in the library folder", func() bool {
		left, _ := filepath.Glob(filepath.Join(lib, ".paperfs-incoming-*"))
		return len(left) == 0
	})
}

// TestPastedNameStays: a PDF pasted with a file manager (GIO) stays under
// the name it was pasted as after the import, as an alias of the paper's
// PDF, so the file manager can still rename and move it, acting on the
// paper.
func TestPastedNameStays(t *testing.T) { inModes(t, testPastedNameStays) }

func testPastedNameStays(t *testing.T, opts Options) {
	s, lib, mnt, _ := testMount(t, opts)
	body := []byte("%PDF-1.4 art")
	p := addPDF(t, s, lib, meta.Paper{Title: "Art", Year: 1968,
		File: meta.File{Path: "art.pdf", SHA256: fmt.Sprintf("%x", sha256.Sum256(body))}}, body)
	src := filepath.Join(t.TempDir(), "pasted.pdf")
	os.WriteFile(src, body, 0o644)
	all := filepath.Join(mnt, "all")
	sh(t, mnt, "mkdir tags/x")

	gio(t, mnt, "copy", src, all+"/")
	if got := ls(t, all); !slices.Equal(got, []string{"1968 - Art.json", "1968 - Art.pdf", "pasted.pdf"}) {
		t.Errorf("all/ after the paste: %q", got)
	}
	if b, err := os.ReadFile(filepath.Join(all, "pasted.pdf")); err != nil || !bytes.Equal(b, body) {
		t.Errorf("the pasted name reads %q %v", b, err)
	}
	// F2 in the view: refused as the PDF's rename is, and the name stays.
	if out, err := gioRun(t, mnt, "rename", filepath.Join(all, "pasted.pdf"), "other.pdf"); err == nil {
		t.Errorf("gio rename within all/ succeeded:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(all, "pasted.pdf")); err != nil {
		t.Errorf("the pasted name went with a refused rename: %v", err)
	}
	// Cut and paste into a tag: the paper is tagged.
	gio(t, mnt, "move", filepath.Join(all, "pasted.pdf"), filepath.Join(mnt, "tags/x")+"/")
	if got := tagsOf(t, s, p.ID); !slices.Equal(got, []string{"x"}) {
		t.Errorf("tags %v after gio move into tags/x", got)
	}
	eventually(t, "pasted.pdf leaves all/", func() bool {
		_, err := os.Stat(filepath.Join(all, "pasted.pdf"))
		return errors.Is(err, os.ErrNotExist)
	})
	// Pasted again and deleted: the paper goes to the trash, as rm of
	// its PDF in all/ does.
	gio(t, mnt, "copy", src, all+"/")
	sh(t, mnt, "rm all/pasted.pdf")
	if got, _ := s.Get(p.ID); got.Trashed == nil {
		t.Error("rm of the pasted name did not trash the paper")
	}
	if got := ls(t, all); len(got) != 0 {
		t.Errorf("all/ after rm of the pasted name: %q", got)
	}
}
