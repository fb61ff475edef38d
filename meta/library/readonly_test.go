package library

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// A library this device may only read (a shared one whose database user
// has the read role) queues nothing that could never be sent: imports are
// refused with the reason, scans index no new PDF and record no changed or
// moved one, and report them as held; missing flags, this device's own,
// still follow the folder. Once it may write, the next scan catches up.
func TestReadOnlyLibrary(t *testing.T) {
	l, s := setup(t)
	ctx := context.Background()
	testutil.WritePDF(t, filepath.Join(l.Root, "kept.pdf"), "kept")
	testutil.WritePDF(t, filepath.Join(l.Root, "gone.pdf"), "gone")
	if rep, err := l.Scan(ctx, nil); err != nil || len(rep.New) != 2 {
		t.Fatalf("scan: %+v, %v", rep, err)
	}
	before, err := s.PendingCount()
	if err != nil {
		t.Fatal(err)
	}
	why := errors.New("read-only: your database user may only read lab")
	var ro error = why
	l.SetReadOnly(func() error { return ro })

	testutil.WritePDF(t, filepath.Join(l.Root, "new.pdf"), "new")
	testutil.WritePDF(t, filepath.Join(l.Root, "kept.pdf"), "kept, changed at length")
	if err := os.Remove(filepath.Join(l.Root, "gone.pdf")); err != nil {
		t.Fatal(err)
	}
	rep, err := l.Scan(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(rep.Held)
	if len(rep.New) != 0 || rep.Changed != 0 || rep.Merged != 0 || !slices.Equal(rep.Held, []string{"kept.pdf", "new.pdf"}) || rep.Missing != 1 {
		t.Errorf("read-only scan: %+v", rep)
	}
	if n, _ := s.PendingCount(); n != before {
		t.Errorf("ops queued: %d, want %d", n, before)
	}
	src := filepath.Join(t.TempDir(), "in.pdf")
	testutil.WritePDF(t, src, "imported")
	if _, err := l.Import(ctx, []string{src}, ImportOptions{}); !errors.Is(err, why) || !strings.Contains(err.Error(), l.Root) {
		t.Errorf("import: %v, want the reason and the library", err)
	}
	if _, err := l.ImportFile(ctx, src, false, nil); !errors.Is(err, why) {
		t.Errorf("import of one file: %v", err)
	}
	all, _ := s.Count(meta.View{Kind: meta.All})
	missing, _ := s.Count(meta.View{Kind: meta.Missing})
	if all != 1 || missing != 1 {
		t.Errorf("%d papers with their PDF, %d missing; want 1 and 1", all, missing)
	}

	ro = nil
	rep, err = l.Scan(ctx, nil)
	if err != nil || len(rep.New) != 1 || rep.Changed != 1 || len(rep.Held) != 0 {
		t.Errorf("scan once writable: %+v, %v", rep, err)
	}
}
