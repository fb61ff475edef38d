//go:build linux || darwin

package fuse

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// TestPaperWithoutPDFMounted: a paper with no PDF shows its sidecar only
// (it showed a .pdf that answered EIO).
func TestPaperWithoutPDFMounted(t *testing.T) {
	_, _, mnt, _ := testMountAfter(t, Options{}, func(s *meta.Store, lib string) {
		if _, err := s.Create(meta.Paper{Title: "Only Metadata", Year: 2001}); err != nil {
			t.Fatal(err)
		}
	})
	if got := ls(t, filepath.Join(mnt, "all")); !slices.Equal(got, []string{"2001 - Only Metadata.json"}) {
		t.Fatalf("all/ lists %q", got)
	}
	if _, err := os.Stat(filepath.Join(mnt, "all", "2001 - Only Metadata.pdf")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("stat of its PDF: %v", err)
	}
	if _, err := os.ReadFile(filepath.Join(mnt, "all", "2001 - Only Metadata.json")); err != nil {
		t.Fatal(err)
	}
}
