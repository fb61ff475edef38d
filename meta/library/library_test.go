package library

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

func setup(t testing.TB) (*Library, *meta.Store) {
	t.Helper()
	dir := t.TempDir()
	root := filepath.Join(dir, "lib")
	os.MkdirAll(root, 0o755)
	s, err := meta.Open(filepath.Join(dir, "data", "meta.db"), meta.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	l, err := Open(root, s, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l, s
}

func count(t *testing.T, s *meta.Store, k meta.Kind) int {
	n, err := s.Count(meta.View{Kind: k})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestScanIdempotentMovesAndMissing(t *testing.T) {
	l, s := setup(t)
	testutil.WritePDF(t, filepath.Join(l.Root, "a_paper.pdf"), "a")
	testutil.WritePDF(t, filepath.Join(l.Root, "sub", "b.PDF"), "b")
	testutil.WritePDF(t, filepath.Join(l.Root, "sub", "b copy.pdf"), "b") // same content
	testutil.WritePDF(t, filepath.Join(l.Root, ".hidden", "c.pdf"), "c")
	os.WriteFile(filepath.Join(l.Root, "notes.txt"), []byte("x"), 0o644)

	rep, err := l.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.New) != 2 || len(rep.Duplicates) != 1 || count(t, s, meta.All) != 2 {
		t.Fatalf("first scan: %+v, all=%d", rep, count(t, s, meta.All))
	}
	p, _ := s.Get(rep.New[0])
	if p.Title != "a paper" && p.Title != "b" && p.Title != "b copy" {
		t.Errorf("title from file name: %q", p.Title)
	}
	rep, _ = l.Scan(context.Background(), nil)
	if len(rep.New) != 0 || rep.Moved != 0 || rep.Missing != 0 || count(t, s, meta.All) != 2 {
		t.Fatalf("second scan not idempotent: %+v", rep)
	}
	// Move a file: followed by content, not a new paper.
	os.Rename(filepath.Join(l.Root, "a_paper.pdf"), filepath.Join(l.Root, "sub", "moved.pdf"))
	rep, _ = l.Scan(context.Background(), nil)
	if rep.Moved != 1 || len(rep.New) != 0 {
		t.Fatalf("move: %+v", rep)
	}
	if _, err := s.ByPath("sub/moved.pdf"); err != nil {
		t.Fatalf("moved path not recorded: %v", err)
	}
	// Delete a file behind our back: flagged missing, record kept.
	os.Remove(filepath.Join(l.Root, "sub", "moved.pdf"))
	rep, _ = l.Scan(context.Background(), nil)
	if rep.Missing != 1 || count(t, s, meta.Missing) != 1 || count(t, s, meta.All) != 1 {
		t.Fatalf("missing: %+v", rep)
	}
	// It comes back (the cloud drive delivers it again).
	testutil.WritePDF(t, filepath.Join(l.Root, "sub", "moved.pdf"), "a")
	rep, _ = l.Scan(context.Background(), nil)
	if rep.Returned != 1 || count(t, s, meta.Missing) != 0 || count(t, s, meta.All) != 2 {
		t.Fatalf("returned: %+v", rep)
	}
}

func TestScanLibraryGone(t *testing.T) {
	l, s := setup(t)
	testutil.WritePDF(t, filepath.Join(l.Root, "a.pdf"), "a")
	l.Scan(context.Background(), nil)
	os.RemoveAll(l.Root)
	if _, err := l.Scan(context.Background(), nil); err == nil {
		t.Fatal("scan of a vanished library folder succeeded")
	}
	if count(t, s, meta.Missing) != 0 || count(t, s, meta.All) != 1 {
		t.Fatalf("vanished folder changed the library")
	}
}

func TestImportAndTrash(t *testing.T) {
	l, s := setup(t)
	src := t.TempDir()
	testutil.WritePDF(t, filepath.Join(src, "x.pdf"), "x")
	testutil.WritePDF(t, filepath.Join(src, "deep", "y.pdf"), "y")
	os.WriteFile(filepath.Join(src, "bad.pdf"), []byte("<html>"), 0o644)
	// A file already named like the import target is never overwritten.
	testutil.WritePDF(t, filepath.Join(l.Root, "x.pdf"), "other")
	l.Scan(context.Background(), nil)

	rep, err := l.Import(context.Background(), []string{src}, ImportOptions{Tags: []string{"new"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 2 || len(rep.Errors) != 1 {
		t.Fatalf("import: %+v", rep)
	}
	if b, _ := os.ReadFile(filepath.Join(l.Root, "x.pdf")); string(b) != "%PDF-1.4\nother" {
		t.Fatalf("existing file overwritten")
	}
	if _, err := os.Stat(filepath.Join(src, "x.pdf")); err != nil {
		t.Fatalf("copy removed the source")
	}
	rep, _ = l.Import(context.Background(), []string{filepath.Join(src, "x.pdf")}, ImportOptions{})
	if len(rep.Duplicates) != 1 {
		t.Fatalf("duplicate not detected: %+v", rep)
	}
	id := rep2id(t, s, "x")
	p, err := l.Trash(id)
	if err != nil {
		t.Fatal(err)
	}
	if p.Trashed == nil || !l.Exists(p.File.Path) || filepath.Dir(p.File.Path) != TrashDir {
		t.Fatalf("trash: %+v", p)
	}
	if count(t, s, meta.Trash) != 1 {
		t.Fatal("not in trash view")
	}
	p, err = l.Restore(id)
	if err != nil || p.Trashed != nil || !l.Exists(p.File.Path) {
		t.Fatalf("restore: %+v %v", p, err)
	}
	// A scan after all that changes nothing.
	sr, _ := l.Scan(context.Background(), nil)
	if len(sr.New) != 0 || sr.Missing != 0 {
		t.Fatalf("scan after trash/restore: %+v", sr)
	}
}

func rep2id(t *testing.T, s *meta.Store, title string) string {
	es, _ := s.List(meta.View{Kind: meta.All})
	for _, e := range es {
		p, _ := s.Get(e.ID)
		if p.Title == title {
			return e.ID
		}
	}
	t.Fatalf("no paper %q", title)
	return ""
}

func TestWatch(t *testing.T) {
	l, s := setup(t)
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	scans := 0
	done := make(chan error)
	go func() {
		done <- l.Watch(ctx, WatchOptions{Debounce: 50 * time.Millisecond, OnScan: func(ScanReport, error) {
			mu.Lock()
			scans++
			mu.Unlock()
		}})
	}()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	wait := func(what string, cond func() bool) {
		t.Helper()
		testutil.Eventually(t, 20*time.Millisecond, 5*time.Second, what, nil, cond)
	}
	scanned := func() int { mu.Lock(); defer mu.Unlock(); return scans }
	wait("first scan", func() bool { return scanned() > 0 })
	testutil.WritePDF(t, filepath.Join(l.Root, "dropped.pdf"), "d")
	wait("new file indexed", func() bool { return count(t, s, meta.All) == 1 })
	before := scanned()
	os.MkdirAll(filepath.Join(l.Root, "newdir"), 0o755)
	// The new folder gets its watch after the scan its creation starts.
	wait("the scan after mkdir", func() bool { return scanned() > before })
	os.Rename(filepath.Join(l.Root, "dropped.pdf"), filepath.Join(l.Root, "newdir", "dropped.pdf"))
	wait("move followed", func() bool { _, err := s.ByPath("newdir/dropped.pdf"); return err == nil })
	os.Remove(filepath.Join(l.Root, "newdir", "dropped.pdf"))
	wait("vanished flagged", func() bool { return count(t, s, meta.Missing) == 1 })
	if _, err := s.ByPath("nothing"); !errors.Is(err, meta.ErrNotFound) {
		t.Fatal(fmt.Sprint(err))
	}
}
