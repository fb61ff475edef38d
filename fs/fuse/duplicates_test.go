//go:build linux || darwin

package fuse

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// TestDuplicatesMounted: two near-identical papers show up together under
// duplicates/, a third different one does not; their files there are
// the papers' own.
func TestDuplicatesMounted(t *testing.T) { inModes(t, testDuplicatesMounted) }

func testDuplicatesMounted(t *testing.T, opts Options) {
	var a, b meta.Paper
	pdfA, pdfB := randomBytes(4000), randomBytes(5000)
	s, _, mnt, _ := testMountAfter(t, opts, func(s *meta.Store, lib string) {
		a = addPDF(t, s, lib, meta.Paper{Title: "Attention Is All You Need", Authors: []string{"Ashish Vaswani", "Noam Shazeer"}, Year: 2017,
			File: meta.File{Path: "a.pdf"}, Added: time.Now().Add(-time.Hour)}, pdfA)
		b = addPDF(t, s, lib, meta.Paper{Title: "Attention is all you need.", Authors: []string{"A. Vaswani", "N. Shazeer"}, Year: 2017,
			File: meta.File{Path: "b.pdf"}}, pdfB)
		addPDF(t, s, lib, meta.Paper{Title: "Deep Residual Learning", Authors: []string{"Kaiming He"}, Year: 2016,
			File: meta.File{Path: "c.pdf"}}, randomBytes(3000))
	})
	const group = "Vaswani and Shazeer 2017 - Attention Is All You Need"
	if got := ls(t, filepath.Join(mnt, "duplicates")); !slices.Equal(got, []string{group}) {
		t.Fatalf("duplicates/ lists %q, want [%q]", got, group)
	}
	dir := filepath.Join(mnt, "duplicates", group)
	bName := "Vaswani and Shazeer 2017 - Attention is all you need [" + b.ID + "]"
	want := []string{group + ".json", group + ".pdf", bName + ".json", bName + ".pdf"}
	got := ls(t, dir)
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("duplicates/%s lists %q, want %q", group, got, want)
	}
	for name, body := range map[string][]byte{group + ".pdf": pdfA, bName + ".pdf": pdfB} {
		if data, err := os.ReadFile(filepath.Join(dir, name)); err != nil || !bytes.Equal(data, body) {
			t.Errorf("%s: %d bytes, %v; want the paper's PDF", name, len(data), err)
		}
	}
	// The PDF is the one file of all/, like a hard link.
	var inDup, inAll syscall.Stat_t
	if err := syscall.Stat(filepath.Join(dir, group+".pdf"), &inDup); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Stat(filepath.Join(mnt, "all", group+".pdf"), &inAll); err != nil {
		t.Fatal(err)
	}
	if inDup.Ino != inAll.Ino {
		t.Errorf("the PDF in duplicates/ is inode %d, in all/ %d", inDup.Ino, inAll.Ino)
	}

	// A save there is a save of the paper: sed -i, as a user would.
	side := filepath.Join(dir, bName+".json")
	text, err := os.ReadFile(side)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(side+".tmp", bytes.Replace(text, []byte(`"rating": 0`), []byte(`"rating": 3`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(side+".tmp", side); err != nil {
		t.Fatal(err)
	}
	if p, _ := s.Get(b.ID); p.Rating != 3 {
		t.Errorf("rating %d after saving the sidecar in duplicates/, want 3", p.Rating)
	}

	// rm there changes nothing: merging is paperfs merge.
	if err := os.Remove(filepath.Join(dir, bName+".pdf")); err == nil || !strings.Contains(err.Error(), "operation not permitted") {
		t.Errorf("rm in duplicates/: %v, want EPERM", err)
	}
	if err := os.Mkdir(filepath.Join(mnt, "duplicates", "new"), 0o755); err == nil {
		t.Error("mkdir in duplicates/ worked")
	}
	if p, _ := s.Get(b.ID); p.Trashed != nil || p.MergedInto != "" {
		t.Errorf("paper %s changed by the refusals: %+v", b.ID, p)
	}

	// Titles that no longer match: the group goes at the next listing.
	if _, err := s.Update(a.ID, func(p *meta.Paper) error { p.Title = "Attention, revisited"; return nil }); err != nil {
		t.Fatal(err)
	}
	if got := ls(t, filepath.Join(mnt, "duplicates")); len(got) != 0 {
		t.Errorf("duplicates/ lists %q after the titles differ", got)
	}
	if !opts.NoNotify {
		// The kernel was told to drop the names it had.
		eventually(t, side+" gone", func() bool {
			_, err := os.Stat(side)
			return os.IsNotExist(err)
		})
	}
}
