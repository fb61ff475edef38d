//go:build linux || darwin

package fuse

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
	"github.com/paperfs/paperfs/meta/testutil"
)

// testMount mounts a fresh library in t.TempDir and unmounts it in
// t.Cleanup. Real mounts are the point: they run by default (CI is root
// with /dev/fuse); PAPERFS_SKIP_FUSE=1 is the explicit opt-out.
func testMount(t testing.TB, opts Options) (store *meta.Store, lib, mnt string, f *FS) {
	t.Helper()
	return testMountAfter(t, opts, nil)
}

// testMountAfter is testMount with setup run on the store and library
// folder before mounting, so the filesystem starts with what setup made
// and no notifications of it are in flight.
func testMountAfter(t testing.TB, opts Options, setup func(s *meta.Store, lib string)) (store *meta.Store, lib, mnt string, f *FS) {
	t.Helper()
	return testMountWith(t, opts, MountOptions{}, setup)
}

// testMountWith is testMountAfter with the mount's own options.
func testMountWith(t testing.TB, opts Options, mo MountOptions, setup func(s *meta.Store, lib string)) (store *meta.Store, lib, mnt string, f *FS) {
	t.Helper()
	store, _, lib, mnt, f = testMountLibrary(t, opts, mo, setup)
	return store, lib, mnt, f
}

// testMountLibrary is testMountWith that also returns the library, for
// tests that watch its folder.
func testMountLibrary(t testing.TB, opts Options, mo MountOptions, setup func(s *meta.Store, lib string)) (store *meta.Store, l *library.Library, lib, mnt string, f *FS) {
	t.Helper()
	testutil.SkipWithoutFUSE(t)
	dir := t.TempDir()
	lib, mnt = filepath.Join(dir, "library"), filepath.Join(dir, "mnt")
	os.MkdirAll(lib, 0o755)
	os.MkdirAll(mnt, 0o755)
	store, err := meta.Open(filepath.Join(dir, "data", "meta.db"), meta.Options{})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	l, err = library.Open(lib, store, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	if setup != nil {
		setup(store, lib)
	}
	view := pfs.New(store, pfs.Options{Library: lib, Logger: logger, RejectDir: filepath.Join(dir, "data", "rejected"), Folder: l})
	f = New(view, opts)
	mo.Debug = os.Getenv("PAPERFS_FUSE_DEBUG") == "1"
	m, err := f.Mount(mnt, mo)
	if err != nil {
		t.Fatalf("mount: %v", err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		if ok, _ := IsMounted(mnt); ok {
			t.Errorf("%s still mounted after Unmount", mnt)
		}
		view.Close()
		store.Close()
	})
	return store, l, lib, mnt, f
}

// modes are the ways a mount runs: Linux's, and macOS's, which has no
// kernel notifications and keeps the kernel's caches short instead (see
// Options.NoNotify); Linux runs that way too, so it is tested here.
var modes = []struct {
	name string
	opts Options
}{{"linux", Options{}}, {"macos", Options{NoNotify: true}}}

// inModes runs test once in each mode.
func inModes(t *testing.T, test func(t *testing.T, opts Options)) {
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) { test(t, m.opts) })
	}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(b []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}

func addPDF(t testing.TB, s *meta.Store, lib string, p meta.Paper, data []byte) meta.Paper {
	t.Helper()
	if p.File.Path != "" {
		path := filepath.Join(lib, p.File.Path)
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		p.File.Size = int64(len(data))
	}
	p, err := s.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ls(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	return names
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func TestMountListAndRead(t *testing.T) {
	for _, mode := range []struct {
		name string
		noPT bool
	}{{"passthrough", false}, {"fuse-read", true}} {
		t.Run(mode.name, func(t *testing.T) {
			s, lib, mnt, f := testMount(t, Options{NoPassthrough: mode.noPT})
			data := randomBytes(3<<20 + 123)
			p := addPDF(t, s, lib, meta.Paper{Title: "Time, Clocks, and the Ordering of Events in a Distributed System",
				Authors: []string{"Leslie Lamport"}, Year: 1978, Tags: []string{"distributed"},
				File: meta.File{Path: "sub/lamport.pdf"}}, data)
			addPDF(t, s, lib, meta.Paper{Title: "No tags or authors", File: meta.File{Path: "x.pdf"}}, []byte("%PDF-1.4 x"))

			if got := ls(t, mnt); !slices.Equal(got, []string{".paperfs", "all", "authors", "duplicates", "folders", "library.bib", "missing", "tags", "trash", "untagged", "years"}) {
				t.Fatalf("root: %v", got)
			}
			name := "Lamport 1978 - Time, Clocks, and the Ordering of Events in a Distributed System"
			want := []string{name + ".json", name + ".pdf", "No tags or authors.json", "No tags or authors.pdf"}
			if got := ls(t, filepath.Join(mnt, "all")); !slices.Equal(got, want) {
				t.Fatalf("all: %q", got)
			}
			for _, dir := range []string{"tags/distributed", "authors/Leslie Lamport", "years/1978"} {
				if got := slices.DeleteFunc(ls(t, filepath.Join(mnt, dir)), func(n string) bool { return n == pfs.BibTagName }); !slices.Equal(got, want[:2]) {
					t.Errorf("%s: %q", dir, got)
				}
			}
			if got := ls(t, filepath.Join(mnt, "untagged")); !slices.Equal(got, want[2:]) {
				t.Errorf("untagged: %q", got)
			}
			// Read and mmap give the library file's bytes.
			pdf := filepath.Join(mnt, "tags/distributed", name+".pdf")
			got, err := os.ReadFile(pdf)
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read: %d bytes, err %v, equal %v", len(got), err, bytes.Equal(got, data))
			}
			fd, err := os.Open(pdf)
			if err != nil {
				t.Fatal(err)
			}
			st, _ := fd.Stat()
			if st.Size() != int64(len(data)) {
				t.Errorf("stat size %d", st.Size())
			}
			fd.Close()
			// mmap in another process: a page fault here would be a FUSE
			// request to this process taken in the middle of Go code,
			// where the garbage collector can wait on the faulting
			// thread while the reader goroutines wait for the collector.
			out, err := exec.Command("python3", "-c", `import hashlib, mmap, sys
with open(sys.argv[1], 'rb') as f:
    m = mmap.mmap(f.fileno(), 0, prot=mmap.PROT_READ)
    print(hashlib.sha256(m).hexdigest())`, pdf).CombinedOutput()
			if want := fmt.Sprintf("%x", sha256.Sum256(data)); err != nil || strings.TrimSpace(string(out)) != want {
				t.Errorf("mmap: %v %s, want sha256 %s", err, out, want)
			}
			reads := f.Stats.Reads.Load()
			if mode.noPT && reads == 0 {
				t.Errorf("no FUSE reads without passthrough")
			}
			if !mode.noPT && reads != 0 {
				t.Errorf("passthrough: %d reads went through FUSE; is the kernel < 6.9?", reads)
			}
			// The same paper is one inode in every view.
			a, _ := os.Stat(filepath.Join(mnt, "all", name+".pdf"))
			b, _ := os.Stat(pdf)
			if a.Sys().(*syscall.Stat_t).Ino != b.Sys().(*syscall.Stat_t).Ino {
				t.Errorf("inode differs between views")
			}
			// The sidecar is the paper's JSON.
			raw, err := os.ReadFile(filepath.Join(mnt, "all", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var sc meta.Paper
			if err := json.Unmarshal(raw, &sc); err != nil || sc.ID != p.ID || sc.Year != 1978 {
				t.Fatalf("sidecar %s: %v", raw, err)
			}
		})
	}
}

// eventually retries cond for up to 3s: kernel notifications are
// asynchronous and tell this process nothing when they take effect.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 10*time.Millisecond, 3*time.Second, what, nil, cond)
}

func TestLiveUpdates(t *testing.T) {
	s, lib, mnt, _ := testMount(t, Options{EntryTimeout: time.Hour, AttrTimeout: time.Hour})
	p := addPDF(t, s, lib, meta.Paper{Title: "Old", Tags: []string{"a"}, File: meta.File{Path: "p.pdf"}}, []byte("%PDF"))
	// Populate the kernel caches (long timeouts: only notifications can refresh them).
	ls(t, filepath.Join(mnt, "tags/a"))
	ls(t, filepath.Join(mnt, "tags"))
	os.Stat(filepath.Join(mnt, "all/Old.json"))
	old, _ := os.ReadFile(filepath.Join(mnt, "all/Old.json"))

	if _, err := s.Update(p.ID, func(p *meta.Paper) error {
		p.Title, p.Tags, p.Note = "New", []string{"b"}, strings.Repeat("longer ", 20)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	exists := func(p string) bool { _, err := os.Stat(filepath.Join(mnt, p)); return err == nil }
	eventually(t, "old names gone", func() bool { return !exists("all/Old.pdf") && !exists("tags/a/Old.json") && !exists("tags/a") })
	eventually(t, "new names there", func() bool { return exists("all/New.pdf") && exists("tags/b/New.json") })
	raw, err := os.ReadFile(filepath.Join(mnt, "all/New.json"))
	if err != nil || len(raw) <= len(old) || !bytes.Contains(raw, []byte(`"title": "New"`)) {
		t.Fatalf("sidecar after update: %s %v", raw, err)
	}
	if _, err := os.Stat(filepath.Join(mnt, "tags/a/Old.pdf")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stale path: %v", err)
	}
}

func TestMissingPDF(t *testing.T) {
	s, _, mnt, _ := testMount(t, Options{})
	s.Create(meta.Paper{Title: "Gone", File: meta.File{Path: "nowhere.pdf", Size: 10}})
	_, err := os.ReadFile(filepath.Join(mnt, "all/Gone.pdf"))
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("open of a missing PDF: %v", err)
	}
	// The record is untouched.
	es, _ := s.List(meta.View{Kind: meta.All})
	if len(es) != 1 {
		t.Fatalf("record changed: %v", es)
	}
}

func TestMountpointChecks(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "f"), nil, 0o644)
	if err := CheckMountpoint(dir); err == nil || !strings.Contains(err.Error(), "not empty") {
		t.Errorf("non-empty: %v", err)
	}
	if err := CheckMountpoint(filepath.Join(dir, "f")); err == nil || !strings.Contains(err.Error(), "not a directory") {
		t.Errorf("file: %v", err)
	}
	if err := CheckMountpoint(filepath.Join(dir, "nope")); err == nil {
		t.Errorf("missing dir accepted")
	}
	_, _, mnt, _ := testMount(t, Options{})
	if err := CheckMountpoint(mnt); err == nil || !strings.Contains(err.Error(), "already mounted") {
		t.Errorf("busy: %v", err)
	}
}
