//go:build linux || darwin

package fuse

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// testClock is a clock for Options.Now that a test moves on, so that a
// directory goes idle or out of use without the test waiting for it.
type testClock struct{ ahead atomic.Int64 }

func (c *testClock) Now() time.Time          { return time.Now().Add(time.Duration(c.ahead.Load())) }
func (c *testClock) Advance(d time.Duration) { c.ahead.Add(int64(d)) }

// waitForgotten waits for cond, which the kernel's FORGETs make true: they
// come when the kernel gets to them, and this process hears of each only
// as a request to the mount, so the test polls what they change.
func waitForgotten(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testutil.Eventually(t, 20*time.Millisecond, 30*time.Second, what, nil, cond)
}

// TestForgetIdle lists views, leaves them idle, and checks that the kernel
// forgot their papers' names (the inodes are gone from the tree, FORGET
// reached the PDF tracking) while an open file keeps reading and a scratch
// file stays; the next use looks everything up again.
func TestForgetIdle(t *testing.T) {
	data := []byte("%PDF-1.4 forgotten and found again")
	otherData := []byte("%PDF-1.4 other")
	var p, other meta.Paper
	// The papers exist before the mount, so that no notification of their
	// creation invalidates names while the test looks at the kernel's.
	clock := &testClock{}
	_, _, mnt, f := testMountAfter(t, Options{IdleForget: 2 * time.Second, Now: clock.Now}, func(s *meta.Store, lib string) {
		p = addPDF(t, s, lib, meta.Paper{Title: "Idle", Authors: []string{"Ann Author"}, Year: 2001, Tags: []string{"t"},
			File: meta.File{Path: "idle.pdf"}}, data)
		other = addPDF(t, s, lib, meta.Paper{Title: "Other", Tags: []string{"t"}, File: meta.File{Path: "other.pdf"}}, otherData)
	})
	name := meta.BaseName(&p)
	for _, dir := range []string{"all", "tags/t", "authors/Ann Author", "years/2001"} {
		for _, e := range ls(t, filepath.Join(mnt, dir)) {
			if _, err := os.Stat(filepath.Join(mnt, dir, e)); err != nil {
				t.Fatal(err)
			}
		}
	}
	// Other's PDF is held open; its inode, one for all views, stays.
	held, err := os.Open(filepath.Join(mnt, "tags/t", meta.BaseName(&other)+".pdf"))
	if err != nil {
		t.Fatal(err)
	}
	defer held.Close()
	scratch := filepath.Join(mnt, "tags/t", ".idle.json.swp")
	if err := os.WriteFile(scratch, []byte("swap"), 0o600); err != nil {
		t.Fatal(err)
	}
	children := func(dir string) int {
		v := meta.View{Kind: meta.All}
		if k, g, ok := strings.Cut(dir, "/"); ok {
			v = meta.View{Kind: meta.Kind(k), Group: g}
		}
		n := f.dirInode(v)
		if n == nil {
			return 0
		}
		return len(n.Children())
	}
	if children("all") == 0 || children("authors/Ann Author") == 0 {
		t.Fatal("listing made no inodes")
	}
	clock.Advance(3 * time.Second) // every view is idle now
	waitForgotten(t, "all/ and authors/Ann Author to be forgotten", func() bool {
		return children("all") <= 1 && f.dirInode(meta.View{Kind: meta.Authors, Group: "Ann Author"}) == nil
	})
	if f.Stats.Forgets.Load() == 0 {
		t.Error("no forget counted")
	}
	if ns := f.paperInodes(p.ID); len(ns) != 0 {
		t.Errorf("the idle paper still has %d inodes tracked", len(ns))
	}
	// tags/t keeps the held PDF (open) and the scratch file.
	if children("tags/t") != 2 {
		t.Errorf("tags/t holds %d inodes, want the open PDF and the scratch file", children("tags/t"))
	}
	// The open file still reads; names resolve again.
	buf := make([]byte, len(otherData))
	if _, err := held.ReadAt(buf, 0); err != nil || !bytes.Equal(buf, otherData) {
		t.Errorf("open PDF after forgetting: %q, %v", buf, err)
	}
	if got, err := os.ReadFile(scratch); err != nil || string(got) != "swap" {
		t.Errorf("scratch file after forgetting: %q, %v", got, err)
	}
	for _, path := range []string{"all/" + name + ".pdf", "authors/Ann Author/" + name + ".pdf"} {
		if got, err := os.ReadFile(filepath.Join(mnt, path)); err != nil || !bytes.Equal(got, data) {
			t.Errorf("%s after forgetting: %v", path, err)
		}
	}
	sc, err := os.ReadFile(filepath.Join(mnt, "all", name+".json"))
	if err != nil || !bytes.Contains(sc, []byte(`"title": "Idle"`)) {
		t.Errorf("sidecar after forgetting: %s, %v", sc, err)
	}
}

// TestForgetOverMax lists one view, then another, with room for one
// view's inodes: the first view's names are forgotten while the second is
// being listed, not when it goes idle, and resolve again afterwards.
func TestForgetOverMax(t *testing.T) {
	const per = 20 // papers per tag: 40 inodes (PDF and sidecar each)
	var first meta.Paper
	clock := &testClock{}
	_, _, mnt, f := testMountAfter(t, Options{IdleForget: -1, MaxInodes: 2 * per, Now: clock.Now}, func(s *meta.Store, lib string) {
		for i := range 2 * per {
			tag := []string{"a", "b"}[i/per]
			p := addPDF(t, s, lib, meta.Paper{Title: fmt.Sprintf("Paper %s%d", tag, i), Tags: []string{tag},
				File: meta.File{Path: fmt.Sprintf("p%d.pdf", i)}}, []byte("%PDF-1.4 "+tag))
			if i == 0 {
				first = p
			}
		}
	})
	statAll := func(dir string) {
		for _, e := range ls(t, filepath.Join(mnt, dir)) {
			if _, err := os.Stat(filepath.Join(mnt, dir, e)); err != nil {
				t.Fatal(err)
			}
		}
	}
	children := func(g string) int {
		if n := f.dirInode(meta.View{Kind: meta.Tags, Group: g}); n != nil {
			return len(n.Children())
		}
		return 0
	}
	statAll("tags/a")
	const listed = 2*per + 1 // and tag.bib
	if got := children("a"); got != listed {
		t.Fatalf("tags/a holds %d inodes after listing, want %d", got, listed)
	}
	clock.Advance(2 * inUseWindow) // tags/a is no longer in use
	statAll("tags/b")
	waitForgotten(t, "tags/a to be forgotten", func() bool { return children("a") == 0 })
	if got := children("b"); got != listed {
		t.Errorf("tags/b, in use, holds %d inodes, want %d", got, listed)
	}
	if f.Stats.Forgets.Load() < 2*per {
		t.Errorf("%d forgets counted, want at least %d", f.Stats.Forgets.Load(), 2*per)
	}
	if got, err := os.ReadFile(filepath.Join(mnt, "tags/a", meta.BaseName(&first)+".pdf")); err != nil || string(got) != "%PDF-1.4 a" {
		t.Errorf("tags/a PDF after forgetting: %q, %v", got, err)
	}
}

// TestNamesOnlyListing: reading a large directory's names, with no lookup
// after, leaves the kernel (READDIRPLUS_AUTO) asking for plain entries
// after the first batch, so the mount makes no inode per name; stat'ing
// them as ls -l does makes the rest.
func TestNamesOnlyListing(t *testing.T) {
	const n = 2000
	_, _, mnt, f := testMountAfter(t, Options{}, manyPapers(t, n))
	all := f.dirInode(meta.View{Kind: meta.All})
	names := ls(t, filepath.Join(mnt, "all"))
	if len(names) != 2*n {
		t.Fatalf("all/ lists %d names, want %d", len(names), 2*n)
	}
	if got := len(all.Children()); got != 0 {
		t.Errorf("listing %d names made %d inodes", len(names), got)
	}
	for _, name := range names {
		if _, err := os.Lstat(filepath.Join(mnt, "all", name)); err != nil {
			t.Fatal(err)
		}
	}
	if got := len(all.Children()); got < 2*n {
		t.Errorf("after stat'ing every name all/ holds %d inodes, want %d", got, 2*n)
	}
}

// TestWalkMakesNoPaperInodes: a walk that reads every tag directory's
// names (find, a file manager's tree, an indexer) makes an inode for each
// directory it enters and none for the papers' names, whose whole listing
// is the first READDIRPLUS batch; stat'ing the names afterwards, as ls -l
// does, finds them with the right sizes.
func TestWalkMakesNoPaperInodes(t *testing.T) {
	const tags = 30
	var data [tags][]byte
	_, _, mnt, f := testMountAfter(t, Options{IdleForget: -1}, func(s *meta.Store, lib string) {
		for i := range tags {
			data[i] = []byte(fmt.Sprintf("%%PDF-1.4 paper %d", i) + strings.Repeat(" ", i))
			addPDF(t, s, lib, meta.Paper{Title: fmt.Sprintf("Paper %d", i), Tags: []string{fmt.Sprintf("t%02d", i)},
				File: meta.File{Path: fmt.Sprintf("p%d.pdf", i)}}, data[i])
		}
	})
	for i := range tags {
		if names := ls(t, filepath.Join(mnt, "tags", fmt.Sprintf("t%02d", i))); len(names) != 3 { // PDF, sidecar, tag.bib
			t.Fatalf("tags/t%02d lists %q", i, names)
		}
	}
	for i := range tags {
		if got := len(f.dirInode(meta.View{Kind: meta.Tags, Group: fmt.Sprintf("t%02d", i)}).Children()); got != 0 {
			t.Errorf("listing tags/t%02d's names made %d inodes", i, got)
		}
	}
	if held, _ := f.Inodes(); held != tags {
		t.Errorf("%d inodes counted after entering %d tag directories", held, tags)
	}
	for i := range tags {
		dir := filepath.Join(mnt, "tags", fmt.Sprintf("t%02d", i))
		ents, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			fi, err := e.Info()
			if err != nil {
				t.Fatal(err)
			}
			want := int64(len(data[i]))
			if strings.HasSuffix(e.Name(), ".json") || e.Name() == "tag.bib" {
				b, err := os.ReadFile(filepath.Join(dir, e.Name()))
				if err != nil {
					t.Fatal(err)
				}
				want = int64(len(b))
			}
			if fi.Size() != want {
				t.Errorf("%s/%s: size %d, want %d", dir, e.Name(), fi.Size(), want)
			}
		}
	}
}

// TestForgetOverMaxDirs: group directories count against MaxInodes, so a
// walk of many small directories (authors/ of a large library) forgets the
// least recently used ones as it goes.
func TestForgetOverMaxDirs(t *testing.T) {
	const tags, max = 30, 10
	clock := &testClock{}
	_, _, mnt, f := testMountAfter(t, Options{IdleForget: -1, MaxInodes: max, Now: clock.Now}, func(s *meta.Store, lib string) {
		for i := range tags {
			addPDF(t, s, lib, meta.Paper{Title: fmt.Sprintf("Paper %d", i), Tags: []string{fmt.Sprintf("t%02d", i)},
				File: meta.File{Path: fmt.Sprintf("p%d.pdf", i)}}, []byte("%PDF-1.4"))
		}
	})
	walk := func(from, to int) {
		for i := from; i < to; i++ {
			ls(t, filepath.Join(mnt, "tags", fmt.Sprintf("t%02d", i)))
		}
	}
	walk(0, tags/2)
	clock.Advance(2 * inUseWindow) // the first half is no longer in use
	walk(tags/2, tags)
	tagsDir := f.dirInode(meta.View{Kind: meta.Tags})
	waitForgotten(t, fmt.Sprintf("tags/ to hold at most %d directories", tags/2), func() bool { return len(tagsDir.Children()) <= tags/2 })
	if got := ls(t, filepath.Join(mnt, "tags", "t00")); len(got) != 3 {
		t.Errorf("tags/t00 after being forgotten lists %q", got)
	}
}

// TestReleasedirSignalsOnlyAfterInodes checks that the end of a listing
// asks for memory to be handed back only when the listing made inodes (ls
// -l), not after names alone: handing back the heap's free pages then only
// made the next ls -l fault them in again.
func TestReleasedirSignalsOnlyAfterInodes(t *testing.T) {
	f := &FS{listed: make(chan struct{}, 1)}
	names := &dirHandle{dir: &viewDir{fs: f}, entries: make([]meta.Entry, releaseAfter)}
	names.Releasedir(t.Context(), 0)
	select {
	case <-f.listed:
		t.Fatalf("a listing of %d names that made no inode signalled", 2*releaseAfter)
	default:
	}
	stat := &dirHandle{dir: &viewDir{fs: f}, entries: make([]meta.Entry, releaseAfter), made: releaseAfter}
	stat.Releasedir(t.Context(), 0)
	select {
	case <-f.listed:
	default:
		t.Fatalf("a listing that made %d inodes did not signal", releaseAfter)
	}
}
