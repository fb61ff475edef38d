//go:build linux

// Package fulldisk gives tests a small filesystem they can fill: a tmpfs
// mounted in a temporary folder and unmounted when the test ends. It needs
// root (as CI has); PAPERFS_SKIP_TMPFS=1 skips such tests, loudly.
package fulldisk

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// SkipEnv names the variable that opts out of tests needing a mount.
const SkipEnv = "PAPERFS_SKIP_TMPFS"

// Mount mounts a tmpfs of size bytes in a new temporary folder and
// returns the folder.
func Mount(t testing.TB, size int) string {
	t.Helper()
	if os.Getenv(SkipEnv) == "1" {
		t.Skip(SkipEnv + "=1: SKIPPING FULL-DISK TEST")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, fmt.Sprintf("size=%d,mode=0700", size)); err != nil {
		t.Fatalf("mounting a tmpfs at %s (needs root; %s=1 skips): %v", dir, SkipEnv, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir
}

// Fill writes a file in dir until the filesystem is full and returns a
// function that removes it.
func Fill(t testing.TB, dir string) (free func()) {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, 4096)
	for {
		if _, err := f.Write(buf); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			break
		}
	}
	// The last page may be partly free: fill it byte by byte.
	for {
		if _, err := f.Write(buf[:1]); err != nil {
			break
		}
	}
	return func() {
		if err := os.Remove(path); err != nil {
			t.Fatal(err)
		}
	}
}

// Failing mounts an ext4 filesystem in a new temporary folder, on a loop
// device whose backing file sits in a small tmpfs, and returns the folder
// and a function that fills that tmpfs: from then on the disk fails the
// writes of free blocks, as a failing disk does, and fsync reports it
// while write does not (the page cache takes it). It needs root, and
// losetup, fstrim (util-linux) and mkfs.ext4 (e2fsprogs).
func Failing(t testing.TB) (dir string, fail func()) {
	t.Helper()
	back := Mount(t, 16<<20)
	img := filepath.Join(back, "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(img, 64<<20); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("losetup", "--find", "--show", img).CombinedOutput()
	if err != nil {
		t.Fatalf("losetup (needs root; %s=1 skips): %v\n%s", SkipEnv, err, out)
	}
	dev := strings.TrimSpace(string(out))
	t.Cleanup(func() {
		if out, err := exec.Command("losetup", "--detach", dev).CombinedOutput(); err != nil {
			t.Errorf("losetup --detach %s: %v\n%s", dev, err, out)
		}
	})
	if out, err := exec.Command("mkfs.ext4", "-q", "-F", "-b", "4096", "-E", "nodiscard", dev).CombinedOutput(); err != nil {
		t.Fatalf("mkfs.ext4 %s: %v\n%s", dev, err, out)
	}
	dir = t.TempDir()
	if err := syscall.Mount(dev, dir, "ext4", 0, "errors=continue,nodelalloc"); err != nil {
		t.Fatalf("mounting %s at %s: %v", dev, dir, err)
	}
	t.Cleanup(func() {
		if err := syscall.Unmount(dir, 0); err != nil {
			t.Errorf("unmounting %s: %v", dir, err)
		}
	})
	return dir, func() {
		// Free blocks become holes in the backing file, which the
		// full tmpfs cannot fill.
		if out, err := exec.Command("fstrim", dir).CombinedOutput(); err != nil {
			t.Fatalf("fstrim %s: %v\n%s", dir, err, out)
		}
		Fill(t, back)
	}
}
