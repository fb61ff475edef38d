//go:build linux

package fuse

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// gio runs GIO's command line in a D-Bus session of its own, as a file
// manager's desktop session has, so trash:// (gvfsd-trash) works.
func gio(t *testing.T, dir string, args ...string) string {
	t.Helper()
	need(t, "gio", "dbus-run-session")
	// Not cmd.Dir: see commandIn.
	cmd := commandIn(dir, "dbus-run-session", append([]string{"--", "gio"}, args...)...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_RUNTIME_DIR="+t.TempDir())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("gio %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// TestFileManagerTrash deletes, lists and restores the way file managers
// do, through GIO: the freedesktop.org trash at the mount's root is
// paperfs' trash.
func TestFileManagerTrash(t *testing.T) {
	s, lib, mnt, _ := testMount(t, Options{})
	p := addPDF(t, s, lib, meta.Paper{Title: "Art", Year: 1968, Tags: []string{"ml"}, File: meta.File{Path: "art.pdf"}}, []byte("%PDF-1.4 art"))
	const name = "1968 - Art.pdf"

	// Delete (Nautilus, Thunar and Dolphin call the same thing).
	gio(t, mnt, "trash", filepath.Join(mnt, "tags/ml", name))
	got, _ := s.Get(p.ID)
	if got.Trashed == nil || !slices.Equal(got.Tags, []string{"ml"}) {
		t.Fatalf("after gio trash: trashed %v, tags %v", got.Trashed, got.Tags)
	}
	trash := filepath.Join(mnt, ".Trash-"+uidString())
	if names := ls(t, filepath.Join(trash, "files")); !slices.Equal(names, []string{name}) {
		t.Errorf(".Trash/files lists %v", names)
	}
	info, err := os.ReadFile(filepath.Join(trash, "info", name+".trashinfo"))
	if err != nil || !strings.Contains(string(info), "Path=tags/ml/1968%20-%20Art.pdf") {
		t.Errorf("trashinfo %v:\n%s", err, info)
	}
	if _, err := os.Stat(filepath.Join(mnt, "trash", name)); err != nil {
		t.Errorf("not in trash/: %v", err)
	}

	// The Trash window lists it with where it came from; Restore puts it
	// back there, with its tags.
	var uri string
	for _, line := range strings.Split(gio(t, mnt, "trash", "--list"), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 2 && f[1] == filepath.Join(mnt, "tags/ml", name) {
			uri = f[0]
		}
	}
	if uri == "" {
		t.Fatalf("gio trash --list does not show %s from tags/ml", name)
	}
	gio(t, mnt, "trash", "--restore", uri)
	got, _ = s.Get(p.ID)
	if got.Trashed != nil || !slices.Equal(got.Tags, []string{"ml"}) {
		t.Fatalf("after restore: trashed %v, tags %v", got.Trashed, got.Tags)
	}
	if _, err := os.Stat(filepath.Join(mnt, "tags/ml", name)); err != nil {
		t.Errorf("not back in tags/ml: %v", err)
	}

	// mv out of trash/ restores too.
	sh(t, mnt, "rm 'all/"+name+"' && mv 'trash/"+name+"' all/")
	if got, _ = s.Get(p.ID); got.Trashed != nil {
		t.Errorf("mv trash/X.pdf all/ did not restore")
	}
}

func uidString() string { return strconv.Itoa(os.Getuid()) }
