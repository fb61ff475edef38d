package library

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/libdir"
	"github.com/paperfs/paperfs/meta/testutil"
)

// scanOne indexes one PDF written at rel and returns its paper.
func scanOne(t *testing.T, l *Library, s *meta.Store, rel, body string) meta.Paper {
	t.Helper()
	testutil.WritePDF(t, l.Abs(rel), body)
	rep, err := l.Scan(context.Background(), nil)
	if err != nil || len(rep.New) != 1 {
		t.Fatalf("scan: %+v %v", rep, err)
	}
	p, err := s.Get(rep.New[0])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// A folder of the library swapped for a symlink to one outside: trashing
// the paper must not move the file outside into the library.
func TestTrashDoesNotFollowSymlinkedFolder(t *testing.T) {
	l, s := setup(t)
	p := scanOne(t, l, s, "sub/x.pdf", "x")
	outside := t.TempDir()
	testutil.WritePDF(t, filepath.Join(outside, "x.pdf"), "outside")
	os.RemoveAll(l.Abs("sub"))
	if err := os.Symlink(outside, l.Abs("sub")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Trash(p.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(outside, "x.pdf")); err != nil {
		t.Fatalf("the file outside the library was moved: %v", err)
	}
	if es, _ := os.ReadDir(l.Abs(TrashDir + "/sub")); len(es) != 0 {
		t.Fatalf("the trash got %v", es)
	}
}

// Restoring through a folder swapped for a symlink must not move the PDF
// out of the library.
func TestRestoreDoesNotFollowSymlinkedFolder(t *testing.T) {
	l, s := setup(t)
	p := scanOne(t, l, s, "sub/x.pdf", "x")
	if _, err := l.Trash(p.ID); err != nil {
		t.Fatal(err)
	}
	outside := t.TempDir()
	os.RemoveAll(l.Abs("sub"))
	if err := os.Symlink(outside, l.Abs("sub")); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Restore(p.ID); !errors.Is(err, libdir.ErrSymlink) {
		t.Fatalf("restore through a symlink: %v", err)
	}
	if es, _ := os.ReadDir(outside); len(es) != 0 {
		t.Fatalf("the PDF left the library: %v", es)
	}
}

// The mount's way in: a PDF or its folder replaced by a symlink after it
// was indexed is refused, for reading and for writing.
func TestOpenPDFRefusesSymlinks(t *testing.T) {
	l, s := setup(t)
	a := scanOne(t, l, s, "a.pdf", "a")
	b := scanOne(t, l, s, "sub/b.pdf", "b")
	f, err := l.OpenPDF(a.File.Path, os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()

	outside := t.TempDir()
	secret := filepath.Join(outside, "secret")
	os.WriteFile(secret, []byte("secret"), 0o600)
	os.Mkdir(filepath.Join(outside, "sub"), 0o755)
	os.WriteFile(filepath.Join(outside, "sub", "b.pdf"), []byte("outside"), 0o600)

	os.Remove(l.Abs("a.pdf"))
	os.Symlink(secret, l.Abs("a.pdf"))
	for _, flags := range []int{os.O_RDONLY, os.O_RDWR | os.O_TRUNC} {
		if _, err := l.OpenPDF(a.File.Path, flags); !errors.Is(err, libdir.ErrSymlink) {
			t.Fatalf("open of a PDF replaced by a symlink (flags %x): %v", flags, err)
		}
	}
	if fi, err := l.StatPDF(a.File.Path); err != nil || fi.Mode().IsRegular() {
		t.Fatalf("stat followed the symlink: %v %v", fi, err)
	}
	os.RemoveAll(l.Abs("sub"))
	os.Symlink(filepath.Join(outside, "sub"), l.Abs("sub"))
	if _, err := l.OpenPDF(b.File.Path, os.O_RDWR); !errors.Is(err, libdir.ErrSymlink) {
		t.Fatalf("open through a folder replaced by a symlink: %v", err)
	}
	if b, _ := os.ReadFile(secret); string(b) != "secret" {
		t.Fatalf("the file outside changed: %q", b)
	}
	// A FIFO swapped in is refused at once, not waited on.
	os.Remove(l.Abs("a.pdf"))
	if err := mkfifo(l.Abs("a.pdf")); err == nil {
		if _, err := l.OpenPDF(a.File.Path, os.O_RDONLY); err == nil {
			t.Fatal("opened a FIFO as a PDF")
		}
	} else if !errors.Is(err, errors.ErrUnsupported) {
		t.Fatal(err)
	}
	// The scan takes a PDF replaced by a symlink as gone.
	rep, err := l.Scan(context.Background(), nil)
	if err != nil || rep.Missing != 2 {
		t.Fatalf("scan: %+v %v", rep, err)
	}
}

// A file name that is not UTF-8, and one with an escape sequence, are
// indexed, stored byte for byte, opened, and found again at the same path.
func TestScanNamesNotUTF8(t *testing.T) {
	l, s := setup(t)
	names := []string{"caf\xe9 latin-1.pdf", "esc \x1b[31mred\x1b[0m.pdf", "tab\tand\nnewline.pdf"}
	for i, n := range names {
		testutil.WritePDF(t, l.Abs(n), strings.Repeat("x", i))
	}
	rep, err := l.Scan(context.Background(), nil)
	if err != nil || len(rep.New) != len(names) || len(rep.Errors) != 0 {
		t.Fatalf("scan: %+v %v", rep, err)
	}
	for _, n := range names {
		id, err := s.ByPath(n)
		if err != nil {
			t.Fatalf("%q not indexed at its own bytes: %v", n, err)
		}
		p, _ := s.Get(id)
		if p.File.Path != n {
			t.Fatalf("stored path %q, want %q", p.File.Path, n)
		}
		f, err := l.OpenPDF(p.File.Path, os.O_RDONLY)
		if err != nil {
			t.Fatalf("open %q: %v", n, err)
		}
		f.Close()
		if shown := meta.ShowPath(p.File.Path); strings.ContainsAny(shown, "\x1b\t\n") || !strings.Contains(shown, `\x1b`) && strings.Contains(n, "\x1b") {
			t.Fatalf("shown as %q", shown)
		}
	}
	rep, err = l.Scan(context.Background(), nil)
	if err != nil || rep.Moved+len(rep.New)+rep.Missing+rep.Changed != 0 {
		t.Fatalf("second scan changed something: %+v %v", rep, err)
	}
}

// A PDF rewritten in place at the same size is re-hashed; one only
// touched keeps its hash and counts as unchanged.
func TestScanRehashesRewriteAtSameSize(t *testing.T) {
	l, s := setup(t)
	p := scanOne(t, l, s, "a.pdf", "first version")
	old := p.File.SHA256
	later := time.Now().Add(time.Minute)
	os.Chtimes(l.Abs("a.pdf"), later, later)
	rep, err := l.Scan(context.Background(), nil)
	if err != nil || rep.Changed != 0 {
		t.Fatalf("touched only: %+v %v", rep, err)
	}
	testutil.WritePDF(t, l.Abs("a.pdf"), "other version")
	later = later.Add(time.Minute)
	os.Chtimes(l.Abs("a.pdf"), later, later)
	rep, err = l.Scan(context.Background(), nil)
	if err != nil || rep.Changed != 1 {
		t.Fatalf("rewritten: %+v %v", rep, err)
	}
	p, _ = s.Get(p.ID)
	want, _, _ := HashFile(l.Abs("a.pdf"))
	if p.File.SHA256 == old || p.File.SHA256 != want {
		t.Fatalf("hash %s, want %s (old %s)", p.File.SHA256, want, old)
	}
}

// What a killed import leaves (a copy no process holds) and a stale
// incoming folder of a killed mount are cleaned by the next scan; a copy
// being written is not touched, and a PDF copied into the mount that was
// never imported is indexed, not deleted.
func TestScanCleansLeftovers(t *testing.T) {
	l, s := setup(t)
	scanOne(t, l, s, "a.pdf", "a")
	dead := l.Abs("sub/" + importPrefix + "123")
	testutil.WritePDF(t, dead, "partial")
	live, liveRel, err := l.dir.CreateTemp(".", importPrefix)
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	lockTemp(live)

	old := time.Now().Add(-2 * staleAfter)
	stale := l.Abs(incomingPrefix + "1")
	testutil.WritePDF(t, filepath.Join(stale, "Copied In.pdf"), "copied")
	os.WriteFile(filepath.Join(stale, "touched.pdf"), nil, 0o644)
	for _, p := range []string{filepath.Join(stale, "Copied In.pdf"), filepath.Join(stale, "touched.pdf"), stale} {
		os.Chtimes(p, old, old)
	}
	fresh := l.Abs(incomingPrefix + "2")
	os.Mkdir(fresh, 0o700)
	os.WriteFile(filepath.Join(fresh, "being-written.pdf"), nil, 0o644)

	rep, err := l.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dead); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a killed import's copy is still there: %v", err)
	}
	if _, err := os.Stat(l.Abs(liveRel)); err != nil {
		t.Errorf("a copy being written was removed: %v", err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale incoming folder is still there: %v", err)
	}
	if _, err := os.Stat(filepath.Join(fresh, "being-written.pdf")); err != nil {
		t.Errorf("a fresh incoming file was removed: %v", err)
	}
	if len(rep.New) != 1 {
		t.Fatalf("the PDF copied into the mount was not indexed: %+v", rep)
	}
	if _, err := s.ByPath("Copied In.pdf"); err != nil {
		t.Fatalf("copied-in PDF not at the library's top: %v", err)
	}
	if len(rep.Cleaned) != 3 {
		t.Errorf("cleaned %q, want the copy, the empty file and the folder", rep.Cleaned)
	}
}

// Importing a symlink says why it was skipped.
func TestImportSymlinkSaysWhy(t *testing.T) {
	l, _ := setup(t)
	src := t.TempDir()
	testutil.WritePDF(t, filepath.Join(src, "real.pdf"), "r")
	os.Symlink(filepath.Join(src, "real.pdf"), filepath.Join(src, "link.pdf"))
	for _, arg := range []string{filepath.Join(src, "link.pdf"), src} {
		rep, err := l.Import(context.Background(), []string{arg}, ImportOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if len(rep.Errors) != 1 || !strings.Contains(rep.Errors[0].Error(), "symbolic link") {
			t.Fatalf("import %s: errors %v", arg, rep.Errors)
		}
	}
}

// The library folder renamed away and back (as a cloud drive restarting
// looks): the papers stay as they are, the state says so, and the folder
// is rescanned as soon as it is back.
func TestWatchFolderAwayAndBack(t *testing.T) {
	l, s := setup(t)
	scanOne(t, l, s, "a.pdf", "a")
	scans := make(chan error, 100)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() {
		done <- l.Watch(ctx, WatchOptions{Debounce: 10 * time.Millisecond, Retry: 20 * time.Millisecond, Every: time.Hour,
			OnScan: func(_ ScanReport, err error) { scans <- err }})
	}()
	defer func() {
		cancel()
		<-done
	}()
	waitScan := func(want func(error) bool) {
		t.Helper()
		for {
			select {
			case err := <-scans:
				if want(err) {
					return
				}
			case <-time.After(30 * time.Second):
				t.Fatal("no such scan in 30 s")
			}
		}
	}
	waitScan(func(err error) bool { return err == nil })
	away := l.Root + ".away"
	if err := os.Rename(l.Root, away); err != nil {
		t.Fatal(err)
	}
	waitScan(func(err error) bool { return errors.Is(err, ErrUnavailable) })
	if st := l.FolderState(); st.Available || st.Reason == "" {
		t.Fatalf("state while away: %+v", st)
	}
	if n := count(t, s, meta.Missing); n != 0 {
		t.Fatalf("%d papers flagged missing while the folder was away", n)
	}
	if err := os.Rename(away, l.Root); err != nil {
		t.Fatal(err)
	}
	waitScan(func(err error) bool { return err == nil })
	if st := l.FolderState(); !st.Available || count(t, s, meta.Missing) != 0 {
		t.Fatalf("back: %+v, missing %d", st, count(t, s, meta.Missing))
	}
}

// A folder swapped for a symlink to one outside and back, again and again,
// while papers in it are trashed and restored: whatever the timing between
// the check and the move, nothing outside the library is moved.
func TestTrashWhileFolderIsSwapped(t *testing.T) {
	l, s := setup(t)
	var ids []string
	for _, n := range []string{"x", "y", "z"} {
		ids = append(ids, scanOne(t, l, s, "sub/"+n+".pdf", n).ID)
	}
	outside := t.TempDir()
	for _, n := range []string{"x", "y", "z"} {
		testutil.WritePDF(t, filepath.Join(outside, n+".pdf"), "outside "+n)
	}
	real, sub := l.Abs("real"), l.Abs("sub")
	stop := make(chan struct{})
	swapped := make(chan struct{})
	go func() {
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				os.Remove(sub)
				os.Rename(real, sub)
				return
			default:
			}
			if i%2 == 0 {
				os.Rename(sub, real)
				os.Symlink(outside, sub)
			} else {
				os.Remove(sub)
				os.Rename(real, sub)
			}
		}
	}()
	for range 100 {
		for _, id := range ids {
			p, _ := s.Get(id)
			if p.Trashed == nil {
				l.Trash(id)
			} else {
				l.Restore(id)
			}
		}
	}
	close(stop)
	<-swapped
	es, err := os.ReadDir(outside)
	if err != nil || len(es) != 3 {
		t.Fatalf("the folder outside changed: %v %v", es, err)
	}
	for _, e := range es {
		if b, _ := os.ReadFile(filepath.Join(outside, e.Name())); !strings.HasPrefix(string(b), "%PDF-1.4\noutside") {
			t.Fatalf("%s outside now holds %q", e.Name(), b)
		}
	}
}

// A file copied into the mount waits in a hidden folder of the library; if
// it is swapped for a symlink to a PDF outside before it is imported, the
// import refuses it instead of reading the file outside.
func TestImportFromLibraryRefusesSymlink(t *testing.T) {
	l, s := setup(t)
	outside := filepath.Join(t.TempDir(), "private.pdf")
	testutil.WritePDF(t, outside, "private")
	waiting := l.Abs(incomingPrefix + "1/copied.pdf")
	os.MkdirAll(filepath.Dir(waiting), 0o700)
	if err := os.Symlink(outside, waiting); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Identify(waiting); !errors.Is(err, libdir.ErrSymlink) {
		t.Fatalf("identify: %v", err)
	}
	if _, err := l.ImportFile(context.Background(), waiting, true, nil); !errors.Is(err, libdir.ErrSymlink) {
		t.Fatalf("import: %v", err)
	}
	if n := count(t, s, meta.All); n != 0 {
		t.Fatalf("%d papers made from the file outside", n)
	}
	if _, err := os.Lstat(waiting); err != nil {
		t.Fatalf("the symlink was moved: %v", err)
	}
}
