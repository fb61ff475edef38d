package fuse

import (
	"path/filepath"
	"testing"

	"golang.org/x/sys/unix"
)

// TestStatfs: df on the mount reports the library folder's filesystem and
// a name length limit of 255 (it reported all zeros).
func TestStatfs(t *testing.T) {
	_, lib, mnt, _ := testMount(t, Options{})
	var want unix.Statfs_t
	if err := unix.Statfs(lib, &want); err != nil {
		t.Fatal(err)
	}
	for _, dir := range []string{mnt, filepath.Join(mnt, "all"), filepath.Join(mnt, "tags")} {
		var got unix.Statfs_t
		if err := unix.Statfs(dir, &got); err != nil {
			t.Fatal(err)
		}
		if got.Blocks != want.Blocks || got.Files != want.Files || got.Bsize == 0 || got.Namelen != 255 {
			t.Errorf("statfs %s: blocks %d files %d bsize %d namelen %d; library folder: blocks %d files %d",
				dir, got.Blocks, got.Files, got.Bsize, got.Namelen, want.Blocks, want.Files)
		}
		// Free space moves as others write; it is there and within the total.
		if got.Bavail == 0 && want.Bavail != 0 || got.Bavail > got.Blocks {
			t.Errorf("statfs %s: %d of %d blocks available", dir, got.Bavail, got.Blocks)
		}
	}
}
