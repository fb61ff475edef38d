package library

import (
	"context"
	"errors"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// A library folder that is a mount point of its own (a cloud drive) and is
// unmounted leaves the folder it was mounted on: empty, but not a library
// whose PDFs were all deleted. The papers stay as they are until it is
// mounted again. Needs root, as the real-mount tests do.
func TestScanUnmountedLibrary(t *testing.T) {
	l, s := setup(t)
	src := t.TempDir()
	testutil.WritePDF(t, src+"/a.pdf", "a")
	mount := func() {
		t.Helper()
		if err := unix.Mount(src, l.Root, "", unix.MS_BIND, ""); err != nil {
			t.Fatalf("bind mount (the test needs root): %v", err)
		}
	}
	unmount := func() {
		t.Helper()
		if err := unix.Unmount(l.Root, 0); err != nil {
			t.Fatal(err)
		}
	}
	mount()
	mounted := true
	t.Cleanup(func() {
		if mounted {
			unix.Unmount(l.Root, unix.MNT_DETACH)
		}
	})
	rep, err := l.Scan(context.Background(), nil)
	if err != nil || len(rep.New) != 1 {
		t.Fatalf("scan: %+v %v", rep, err)
	}
	unmount()
	mounted = false
	if _, err := os.Stat(l.Root); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Scan(context.Background(), nil); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("scan of the unmounted folder: %v", err)
	}
	if st := l.FolderState(); st.Available {
		t.Fatalf("state: %+v", st)
	}
	if n := count(t, s, meta.Missing); n != 0 {
		t.Fatalf("%d papers flagged missing", n)
	}
	mount()
	mounted = true
	if rep, err := l.Scan(context.Background(), nil); err != nil || rep.Missing+len(rep.New) != 0 {
		t.Fatalf("mounted again: %+v %v", rep, err)
	}
	if !l.FolderState().Available {
		t.Fatal("still unavailable")
	}
	// Moved off the drive for good: a folder that is no mount point but
	// holds the papers is the library.
	unmount()
	mounted = false
	testutil.WritePDF(t, l.Abs("a.pdf"), "a")
	if rep, err := l.Scan(context.Background(), nil); err != nil || rep.Missing != 0 {
		t.Fatalf("library moved off the drive: %+v %v", rep, err)
	}
}
