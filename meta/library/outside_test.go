package library

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// TestScanLeavesOutsidePDFs: a device holding part of a shared library
// does not index the PDFs of papers it does not hold; it is asked only
// about PDFs at no known path, and indexes a PDF once it is no longer
// said to be outside.
func TestScanLeavesOutsidePDFs(t *testing.T) {
	l, s := setup(t)
	testutil.WritePDF(t, filepath.Join(l.Root, "mine.pdf"), "mine")
	testutil.WritePDF(t, filepath.Join(l.Root, "theirs", "other.pdf"), "other")
	outside := map[string]bool{"theirs/other.pdf": true}
	var asked [][]string
	l.SetOutside(func(_ context.Context, paths []string) map[string]bool {
		asked = append(asked, slices.Clone(paths))
		out := map[string]bool{}
		for _, p := range paths {
			out[p] = outside[p]
		}
		return out
	})
	rep, err := l.Scan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.New) != 1 || rep.Outside != 1 || rep.Files != 2 || count(t, s, meta.All) != 1 {
		t.Fatalf("first scan: %+v", rep)
	}
	if _, err := s.ByPath("theirs/other.pdf"); err == nil {
		t.Fatal("an outside PDF was indexed")
	}
	rep, _ = l.Scan(context.Background(), nil)
	if len(rep.New) != 0 || rep.Missing != 0 || rep.Outside != 1 {
		t.Fatalf("second scan: %+v", rep)
	}
	if last := asked[len(asked)-1]; !slices.Equal(last, []string{"theirs/other.pdf"}) {
		t.Fatalf("asked about %v: known paths need no asking", last)
	}
	delete(outside, "theirs/other.pdf")
	rep, _ = l.Scan(context.Background(), nil)
	if len(rep.New) != 1 || rep.Outside != 0 || count(t, s, meta.All) != 2 {
		t.Fatalf("after the PDF stopped being outside: %+v", rep)
	}
	l.SetOutside(nil)
}

// TestScanTakesBackAdopted: a PDF said to be outside whose paper the sync
// round before indexing brings in (it entered the subscription) is that
// paper's, present, not a new paper.
func TestScanTakesBackAdopted(t *testing.T) {
	l, s := setup(t)
	testutil.WritePDF(t, filepath.Join(l.Root, "new.pdf"), "new")
	testutil.WritePDF(t, filepath.Join(l.Root, "late.pdf"), "late")
	l.SetOutside(func(_ context.Context, paths []string) map[string]bool {
		return map[string]bool{"late.pdf": slices.Contains(paths, "late.pdf")}
	})
	var adopted meta.Paper
	rep, err := l.scan(context.Background(), nil, func(context.Context) {
		sum, size, err := l.Hash("late.pdf")
		if err != nil {
			t.Fatal(err)
		}
		adopted, err = s.Create(meta.Paper{Title: "late", File: meta.File{Path: "late.pdf", Size: size, SHA256: sum}})
		if err != nil {
			t.Fatal(err)
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.New) != 1 || rep.Outside != 0 || rep.Missing != 0 || count(t, s, meta.All) != 2 {
		t.Fatalf("scan: %+v", rep)
	}
	if p, _ := s.Get(adopted.ID); p.Missing {
		t.Fatal("the adopted paper's PDF is flagged missing")
	}
}
