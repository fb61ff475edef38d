//go:build linux || darwin

package fuse

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// inos stats each path under mnt and returns its inode number.
func inos(t *testing.T, mnt string, paths ...string) map[string]uint64 {
	t.Helper()
	out := map[string]uint64{}
	for _, p := range paths {
		fi, err := os.Lstat(filepath.Join(mnt, p))
		if err != nil {
			t.Fatal(err)
		}
		out[p] = fi.Sys().(*syscall.Stat_t).Ino
	}
	return out
}

// TestInodeNumbersStable: a paper's files have the same inode numbers in
// a second mount of the same library (backup tools and editors that
// remember them see the same file), a PDF has one number in every view,
// and its sidecar one per view.
func TestInodeNumbersStable(t *testing.T) {
	var p meta.Paper
	store, lib, mnt, _ := testMountAfter(t, Options{}, func(s *meta.Store, lib string) {
		p = addPDF(t, s, lib, meta.Paper{Title: "Stable", Authors: []string{"Ann Author"}, Tags: []string{"t"},
			File: meta.File{Path: "stable.pdf"}}, []byte("%PDF-1.4 stable"))
	})
	name := meta.BaseName(&p)
	paths := []string{"all/" + name + ".pdf", "all/" + name + ".json", "tags/t/" + name + ".pdf",
		"tags/t/" + name + ".json", "authors/Ann Author/" + name + ".pdf", "authors/Ann Author/" + name + ".json"}
	first := inos(t, mnt, paths...)
	if first[paths[0]] != first[paths[2]] || first[paths[0]] != first[paths[4]] {
		t.Errorf("the PDF has different numbers in its views: %v", first)
	}
	if first[paths[1]] == first[paths[3]] || first[paths[1]] == first[paths[5]] {
		t.Errorf("sidecars of two views share a number: %v", first)
	}

	// A second mount of the same library and store.
	mnt2 := filepath.Join(t.TempDir(), "mnt2")
	os.Mkdir(mnt2, 0o755)
	view := pfs.New(store, pfs.Options{Library: lib, RejectDir: filepath.Join(t.TempDir(), "rejected")})
	m, err := New(view, Options{}).Mount(mnt2, MountOptions{})
	if err != nil {
		t.Fatalf("second mount: %v", err)
	}
	defer func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		view.Close()
	}()
	second := inos(t, mnt2, paths...)
	for _, path := range paths {
		if first[path] != second[path] {
			t.Errorf("%s: inode %d in one mount, %d in another", path, first[path], second[path])
		}
	}
}

// manyPapers is a testMountAfter setup: n papers in all/, "Paper 0000" on.
func manyPapers(t *testing.T, n int) func(s *meta.Store, lib string) {
	return func(s *meta.Store, lib string) {
		ps := make([]meta.Paper, n)
		for i := range ps {
			ps[i] = meta.Paper{Title: fmt.Sprintf("Paper %04d", i), File: meta.File{Path: fmt.Sprintf("p%d.pdf", i)}}
		}
		if _, err := s.CreateMany(ps); err != nil {
			t.Fatal(err)
		}
	}
}

// TestReaddirplusWithoutInode pins the go-fuse behaviour the names-only
// listing (dirHandle.namesOnly) needs, so that a go-fuse upgrade that
// changes it fails here: go-fuse asks the handle's Lookup (FileLookuper)
// for each READDIRPLUS entry; an error from it leaves that entry without
// an inode and the listing goes on; and the kernel then looks such names
// up when they are used, so ls -l shows them all.
func TestReaddirplusWithoutInode(t *testing.T) {
	testutil.Need(t, "ls")
	const n = 2000 // far more than one READDIRPLUS batch
	_, _, mnt, f := testMountAfter(t, Options{IdleForget: -1, MaxInodes: -1}, manyPapers(t, n))
	all := f.dirInode(meta.View{Kind: meta.All})
	// Names only: every READDIRPLUS entry answered with errNoInode.
	if names := ls(t, filepath.Join(mnt, "all")); len(names) != 2*n {
		t.Fatalf("all/ lists %d names, want %d", len(names), 2*n)
	}
	if got := len(all.Children()); got != 0 {
		t.Fatalf("entries answered with errNoInode made %d inodes", got)
	}
	// ls -l, the program: every name with its attributes, though the first
	// batch came without inodes.
	before := f.Stats.Lookups.Load()
	out, err := exec.Command("ls", "-l", filepath.Join(mnt, "all")).CombinedOutput()
	if err != nil {
		t.Fatalf("ls -l: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 2*n+1 { // and "total"
		t.Fatalf("ls -l shows %d lines, want %d", len(lines), 2*n+1)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "-") || strings.Contains(l, "?") {
			t.Fatalf("ls -l line without attributes: %q", l)
		}
	}
	if got := len(all.Children()); got != 2*n {
		t.Errorf("after ls -l all/ holds %d inodes, want %d", got, 2*n)
	}
	// The later batches came with inodes through the handle's Lookup, not
	// as one LOOKUP a name.
	if lookups := f.Stats.Lookups.Load() - before; lookups >= 2*n {
		t.Errorf("ls -l of %d names took %d lookups: READDIRPLUS did not reach the handle", 2*n, lookups)
	}
}
