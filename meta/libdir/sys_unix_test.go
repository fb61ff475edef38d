//go:build unix

package libdir

import (
	"os"
	"syscall"
	"testing"
)

// Lstat's Sys is what os.Lstat's is, so owners and inodes read the same.
func TestLstatSys(t *testing.T) {
	d, lib, _ := setup(t)
	fi, err := d.Lstat("sub/b.pdf")
	if err != nil {
		t.Fatal(err)
	}
	want, _ := os.Lstat(lib + "/sub/b.pdf")
	got, ok := fi.Sys().(*syscall.Stat_t)
	w := want.Sys().(*syscall.Stat_t)
	if !ok || got.Ino != w.Ino || got.Uid != w.Uid || got.Size != w.Size || fi.Mode() != want.Mode() || !fi.ModTime().Equal(want.ModTime()) {
		t.Fatalf("Lstat %+v, os.Lstat %+v", fi, want)
	}
}
