//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"
	"github.com/paperfs/paperfs/sync/synctest"
)

// TestSubscriberMount: two mounts over the same PDFs (a shared folder),
// one subscribed to a tag. The subscriber shows only the tagged paper and
// does not index the other PDF; a paper tagged in the other mount appears
// in the subscriber's, and one moved to another tag leaves it.
func TestSubscriberMount(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	srv := synctest.Start(t)
	a := newDevice(t, "A", srv.URI, "subscribemount")
	s := newDevice(t, "S", srv.URI, "subscribemount")
	for _, d := range []*device{a, s} {
		testutil.WritePDF(t, filepath.Join(d.lib, "x.pdf"), "paper x")
		testutil.WritePDF(t, filepath.Join(d.lib, "y.pdf"), "paper y")
	}
	ma := a.mount(t)
	eventually := func(m *mounted, what string, cond func() bool) {
		t.Helper()
		testutil.Eventually(t, 50*time.Millisecond, 30*time.Second, what, m.log, cond)
	}
	eventually(ma, "A to index and upload both PDFs", func() bool {
		st := a.status()
		return len(names(filepath.Join(ma.dir, "all"))) == 4 && st.Sync != nil && st.Sync.Pending == 0 && uploaded(t, srv, "subscribemount")
	})
	os.Mkdir(filepath.Join(ma.dir, "tags", "group"), 0o755)
	if err := os.Rename(filepath.Join(ma.dir, "all", "x.pdf"), filepath.Join(ma.dir, "tags", "group", "x.pdf")); err != nil {
		t.Fatal(err)
	}
	eventually(ma, "A to upload the tag", func() bool { st := a.status(); return st.Sync.Pending == 0 })

	s.run("subscribe", "--tag", "group")
	ms := s.mount(t)
	eventually(ms, "S to show x and to have scanned", func() bool {
		st := s.status()
		return exists(filepath.Join(ms.dir, "tags", "group", "x.pdf")) && st.Mount != nil && st.Mount.Scans > 0
	})
	if got := names(filepath.Join(ms.dir, "all")); !slices.Equal(got, []string{"x.json", "x.pdf"}) {
		t.Fatalf("S's all/ holds %v", got)
	}
	// y is tagged in A: it enters S's mount.
	if err := os.Rename(filepath.Join(ma.dir, "all", "y.pdf"), filepath.Join(ma.dir, "tags", "group", "y.pdf")); err != nil {
		t.Fatal(err)
	}
	eventually(ms, "y to enter S's mount", func() bool { return exists(filepath.Join(ms.dir, "tags", "group", "y.pdf")) })
	// x moves to another tag in A: it leaves S's mount.
	os.Mkdir(filepath.Join(ma.dir, "tags", "done"), 0o755)
	if err := os.Rename(filepath.Join(ma.dir, "tags", "group", "x.pdf"), filepath.Join(ma.dir, "tags", "done", "x.pdf")); err != nil {
		t.Fatal(err)
	}
	eventually(ms, "x to leave S's mount", func() bool {
		return slices.Equal(names(filepath.Join(ms.dir, "all")), []string{"y.json", "y.pdf"})
	})
	// S changes its subscription beside its running mount: no remount,
	// x (now in done) comes back and y leaves.
	if out := s.run("subscribe", "--tag", "done"); !strings.Contains(out, "the running mount follows") {
		t.Errorf("subscribe beside the mount: %s", out)
	}
	eventually(ms, "the running mount to follow the new subscription", func() bool {
		return slices.Equal(names(filepath.Join(ms.dir, "all")), []string{"x.json", "x.pdf"})
	})
	s.run("subscribe", "--all")
	eventually(ms, "the running mount to hold the whole library again", func() bool {
		return len(names(filepath.Join(ms.dir, "all"))) == 4
	})
	// Nothing of S's went to the server as a paper of its own.
	if st := a.status(); st.Papers != 2 {
		t.Fatalf("A holds %d papers", st.Papers)
	}
}
