//go:build linux || darwin

package fuse

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
	"github.com/paperfs/paperfs/meta/testutil"
)

// testLibrary is one library of a mount with several.
type testLibrary struct {
	store *meta.Store
	lib   string
	view  *pfs.FS
	fs    *FS
	why   atomic.Pointer[error] // set: read-only, for this reason
}

func newTestLibrary(t *testing.T, dir string, origin func(string) (meta.Paper, bool)) *testLibrary {
	t.Helper()
	l := &testLibrary{lib: filepath.Join(dir, "library")}
	os.MkdirAll(l.lib, 0o755)
	var err error
	if l.store, err = meta.Open(filepath.Join(dir, "data", "meta.db"), meta.Options{}); err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	folder, err := library.Open(l.lib, l.store, nil, logger)
	if err != nil {
		t.Fatal(err)
	}
	l.view = pfs.New(l.store, pfs.Options{Library: l.lib, Logger: logger, RejectDir: filepath.Join(dir, "data", "rejected"),
		Folder: folder, Origin: origin,
		ReadOnly: func() error {
			if e := l.why.Load(); e != nil {
				return *e
			}
			return nil
		}})
	l.fs = New(l.view, Options{})
	return l
}

// byHash is Options.Origin looking in other libraries' stores.
func byHash(others ...**testLibrary) func(string) (meta.Paper, bool) {
	return func(sum string) (meta.Paper, bool) {
		for _, o := range others {
			ids, _ := (*o).store.ByHash(sum)
			if len(ids) > 0 {
				if p, err := (*o).store.Get(ids[0]); err == nil {
					return p, true
				}
			}
		}
		return meta.Paper{}, false
	}
}

func addPaper(t *testing.T, l *testLibrary, p meta.Paper) meta.Paper {
	t.Helper()
	body := []byte("%PDF-1.4 " + p.Title)
	p.File = meta.File{Path: p.Title + ".pdf", SHA256: fmt.Sprintf("%x", sha256.Sum256(body))}
	return addPDF(t, l.store, l.lib, p, body)
}

// waitPaper waits for a paper titled title in s, from changes after sub.
func waitPaper(t *testing.T, sub *meta.Subscription, title string) meta.Paper {
	t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case c := <-sub.C:
			if c.After != nil && c.After.Title == title {
				return *c.After
			}
		case <-timeout:
			t.Fatalf("no paper %q arrived", title)
		}
	}
}

// TestSharedLibraries: one mount shows the personal library at its top
// and another under shared/lab/, each with its own views and inodes;
// cp between them imports with the metadata; mv between them copies
// (EXDEV); a library this device may only read answers EROFS to every
// write, says why in its .paperfs/errors, and leaves the other writable.
func TestSharedLibraries(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	dir := t.TempDir()
	var me, lab *testLibrary
	me = newTestLibrary(t, filepath.Join(dir, "me"), byHash(&lab))
	lab = newTestLibrary(t, filepath.Join(dir, "lab"), byHash(&me))
	src := addPaper(t, lab, meta.Paper{Title: "Attention", Authors: []string{"Ashish Vaswani"}, Year: 2017, Tags: []string{"transformers"}})
	mine := addPaper(t, me, meta.Paper{Title: "Mine", Authors: []string{"Me Myself"}, Year: 2020, Note: "my notes"})
	if err := me.fs.AddShared("lab", lab.fs); err != nil {
		t.Fatal(err)
	}
	if err := me.fs.AddShared("lab", lab.fs); err == nil {
		t.Error("a second library named lab was taken")
	}
	mnt := filepath.Join(dir, "mnt")
	os.MkdirAll(mnt, 0o755)
	m, err := me.fs.Mount(mnt, MountOptions{Debug: os.Getenv("PAPERFS_FUSE_DEBUG") == "1"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
		for _, l := range []*testLibrary{me, lab} {
			l.view.Close()
			l.store.Close()
		}
	})
	at := func(rel string) string { return filepath.Join(mnt, filepath.FromSlash(rel)) }

	if got := ls(t, at("shared")); !slices.Equal(got, []string{"lab"}) {
		t.Fatalf("shared/ lists %q", got)
	}
	for _, name := range []string{"all", "tags", "authors", "years", "folders", "library.bib", ".paperfs"} {
		if !slices.Contains(ls(t, at("shared/lab")), name) {
			t.Errorf("shared/lab/ has no %s", name)
		}
	}
	if got := ls(t, at("shared/lab/all")); !slices.Equal(got, []string{"Vaswani 2017 - Attention.json", "Vaswani 2017 - Attention.pdf"}) {
		t.Errorf("shared/lab/all lists %q", got)
	}
	if got := ls(t, at("all")); !slices.Contains(got, "Myself 2020 - Mine.pdf") || slices.Contains(got, "Vaswani 2017 - Attention.pdf") {
		t.Errorf("all/ lists %q", got)
	}
	var st1, st2 syscall.Stat_t
	syscall.Stat(at("all"), &st1)
	syscall.Stat(at("shared/lab/all"), &st2)
	if st1.Ino == st2.Ino {
		t.Errorf("all/ and shared/lab/all/ are one inode (%d)", st1.Ino)
	}
	if bib, err := os.ReadFile(at("shared/lab/library.bib")); err != nil || !strings.Contains(string(bib), "Attention") || strings.Contains(string(bib), "Mine") {
		t.Errorf("shared/lab/library.bib: %v\n%s", err, bib)
	}

	// cp from the lab into my tags: imported with its metadata.
	sub := me.store.Subscribe()
	defer sub.Close()
	if out, err := exec.Command("mkdir", at("tags/foo")).CombinedOutput(); err != nil {
		t.Fatalf("mkdir: %v %s", err, out)
	}
	if out, err := exec.Command("cp", at("shared/lab/all/Vaswani 2017 - Attention.pdf"), at("tags/foo/")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	got := waitPaper(t, sub, "Attention")
	if got.ID == src.ID || got.Year != 2017 || !slices.Equal(got.Authors, src.Authors) || !slices.Equal(got.Tags, []string{"foo", "transformers"}) {
		t.Errorf("imported as %+v", got)
	}
	if _, err := os.Stat(filepath.Join(me.lib, got.File.Path)); err != nil {
		t.Errorf("the PDF is not in my library folder: %v", err)
	}
	if p, _ := lab.store.Get(src.ID); p.Trashed != nil || !slices.Equal(p.Tags, src.Tags) {
		t.Errorf("the lab's paper changed: %+v", p)
	}

	// mv between libraries is a copy and a delete, as between two
	// filesystems.
	if err := os.Rename(at("all/Myself 2020 - Mine.pdf"), at("shared/lab/all/Myself 2020 - Mine.pdf")); !errors.Is(err, syscall.EXDEV) {
		t.Errorf("rename between libraries: %v, want EXDEV", err)
	}
	if err := os.Link(at("all/Myself 2020 - Mine.pdf"), at("shared/lab/tags/transformers/x.pdf")); !errors.Is(err, syscall.EXDEV) {
		t.Errorf("link between libraries: %v, want EXDEV", err)
	}

	// cp of mine into the lab shares it the same way.
	labSub := lab.store.Subscribe()
	defer labSub.Close()
	if out, err := exec.Command("cp", at("all/Myself 2020 - Mine.pdf"), at("shared/lab/tags/transformers/")).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	shared := waitPaper(t, labSub, "Mine")
	if shared.Note != mine.Note || !slices.Equal(shared.Tags, []string{"transformers"}) {
		t.Errorf("shared as %+v", shared)
	}

	// The lab turns read-only for this member.
	reason := errors.New("your database user may only read labdb")
	lab.why.Store(&reason)
	for what, op := range map[string]func() error{
		"cp into the lab": func() error { return os.WriteFile(at("shared/lab/all/new.pdf"), []byte("%PDF-1.4 new"), 0o644) },
		"rm":              func() error { return os.Remove(at("shared/lab/all/Vaswani 2017 - Attention.pdf")) },
		"mkdir tags/x":    func() error { return os.Mkdir(at("shared/lab/tags/x"), 0o755) },
		"rmdir a tag":     func() error { return os.Remove(at("shared/lab/tags/transformers")) },
		"mv out of a tag": func() error {
			return os.Rename(at("shared/lab/tags/transformers/Vaswani 2017 - Attention.pdf"), at("shared/lab/untagged/Vaswani 2017 - Attention.pdf"))
		},
		"an editor's backup rename": func() error {
			return os.Rename(at("shared/lab/all/Vaswani 2017 - Attention.json"), at("shared/lab/all/Vaswani 2017 - Attention.json~"))
		},
		"sidecar write": func() error {
			return os.WriteFile(at("shared/lab/all/Vaswani 2017 - Attention.json"), []byte("{}"), 0o644)
		},
		"truncate": func() error { return os.Truncate(at("shared/lab/all/Vaswani 2017 - Attention.json"), 0) },
		"symlink":  func() error { return os.Symlink("x", at("shared/lab/all/.#lock")) },
	} {
		if err := op(); !errors.Is(err, syscall.EROFS) {
			t.Errorf("%s in a read-only library: %v, want EROFS", what, err)
		}
	}
	errs, err := os.ReadFile(at("shared/lab/.paperfs/errors"))
	if err != nil || !strings.Contains(string(errs), "your database user may only read labdb") {
		t.Errorf("shared/lab/.paperfs/errors: %v\n%s", err, errs)
	}
	if b, err := os.ReadFile(at("shared/lab/all/Vaswani 2017 - Attention.json")); err != nil || !strings.Contains(string(b), `"Attention"`) {
		t.Errorf("reading a read-only library: %v", err)
	}
	if p, _ := lab.store.Get(src.ID); p.Trashed != nil || !slices.Equal(p.Tags, []string{"transformers"}) {
		t.Errorf("the read-only lab's paper changed: %+v", p)
	}
	// Mine stays writable.
	if err := os.Mkdir(at("tags/mine"), 0o755); err != nil {
		t.Errorf("mkdir in my library: %v", err)
	}
	if errs, _ := os.ReadFile(at(".paperfs/errors")); strings.Contains(string(errs), "may only read") {
		t.Errorf("my .paperfs/errors tells the lab's refusals:\n%s", errs)
	}
}
