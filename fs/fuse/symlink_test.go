//go:build linux

package fuse

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// TestSwappedSymlinkNotFollowed: a PDF, or its folder, replaced by a
// symlink after it was indexed is never read or written through the
// mount, so the mount cannot reach a file outside the library folder.
func TestSwappedSymlinkNotFollowed(t *testing.T) {
	s, lib, mnt, _ := testMount(t, Options{NoPassthrough: true})
	addPDF(t, s, lib, meta.Paper{Title: "A", Year: 2001, File: meta.File{Path: "a.pdf"}}, []byte("%PDF-1.4 a"))
	addPDF(t, s, lib, meta.Paper{Title: "B", Year: 2002, File: meta.File{Path: "sub/b.pdf"}}, []byte("%PDF-1.4 b"))
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.MkdirAll(outside, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(outside, "a.pdf"), []byte("secret a"), 0o600)
	os.WriteFile(filepath.Join(outside, "b.pdf"), []byte("secret b"), 0o600)
	// The file itself, and its folder, swapped for symlinks.
	if err := os.Remove(filepath.Join(lib, "a.pdf")); err != nil {
		t.Fatal(err)
	}
	os.Symlink(filepath.Join(outside, "a.pdf"), filepath.Join(lib, "a.pdf"))
	os.RemoveAll(filepath.Join(lib, "sub"))
	os.Symlink(outside, filepath.Join(lib, "sub"))

	for _, name := range []string{"all/2001 - A.pdf", "all/2002 - B.pdf"} {
		b, err := os.ReadFile(filepath.Join(mnt, name))
		if err == nil || !errors.Is(err, syscall.ELOOP) {
			t.Errorf("reading %s through the mount: %q, %v; want ELOOP", name, b, err)
		}
		if err := os.WriteFile(filepath.Join(mnt, name), []byte("overwritten"), 0o644); err == nil {
			t.Errorf("writing %s through the mount succeeded", name)
		}
	}
	for _, f := range []string{"a.pdf", "b.pdf"} {
		if b, _ := os.ReadFile(filepath.Join(outside, f)); string(b) != "secret "+f[:1] {
			t.Errorf("the file outside was changed: %q", b)
		}
	}
}
