//go:build linux || darwin

package fuse

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

// TestPDFCacheKept: without passthrough the kernel keeps a PDF's pages
// from one open to the next while the PDF is unchanged, and never serves
// them once the PDF was rewritten in the library folder, with or without
// notifications.
func TestPDFCacheKept(t *testing.T) { inModes(t, testPDFCacheKept) }

func testPDFCacheKept(t *testing.T, opts Options) {
	opts.NoPassthrough = true
	v1 := append([]byte("%PDF-1.4\n"), randomBytes(1<<20)...)
	_, l, lib, mnt, f := testMountLibrary(t, opts, MountOptions{}, func(s *meta.Store, lib string) {
		addPDF(t, s, lib, meta.Paper{Title: "Cached", File: meta.File{Path: "cached.pdf"}}, v1)
	})
	// The library folder is watched as by paperfs mount, so the store (and
	// with notifications, the kernel) learns of the rewrites. Its first
	// scan indexes the PDF (its hash), a change of the paper: the reads
	// start after it.
	ctx, cancel := context.WithCancel(context.Background())
	scanned := make(chan struct{}, 1)
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		l.Watch(ctx, library.WatchOptions{Debounce: 10 * time.Millisecond, OnScan: func(library.ScanReport, error) {
			select {
			case scanned <- struct{}{}:
			default:
			}
		}})
	}()
	t.Cleanup(func() { cancel(); wg.Wait() })
	<-scanned

	pdf := filepath.Join(mnt, "all", "Cached.pdf")
	read := func(what string, want []byte) {
		t.Helper()
		got, err := os.ReadFile(pdf)
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%s: read %d bytes, not the %d of the PDF as it is in the library folder (stale: %v)",
				what, len(got), len(want), bytes.Equal(got, v1))
		}
	}
	// A notification of the first scan's change may still drop the pages
	// once; after that, every second read is the kernel's.
	cachedRead := func(what string, want []byte) {
		t.Helper()
		eventually(t, what+" served from the kernel's cache", func() bool {
			read(what, want)
			reads := f.Stats.Reads.Load()
			read(what, want)
			return f.Stats.Reads.Load() == reads
		})
	}
	cachedRead("unchanged PDF", v1)

	// Same size, other bytes, read at once: the kernel's attributes may
	// still be the old ones (no notification, or not yet), so only the
	// open can tell the pages are stale.
	v2 := append([]byte("%PDF-1.4\n"), randomBytes(1<<20)...)
	if err := os.WriteFile(filepath.Join(lib, "cached.pdf"), v2, 0o644); err != nil {
		t.Fatal(err)
	}
	read("after a same-size rewrite", v2)

	// Another size: the size the mount shows changes when the store (with
	// notifications) or the attribute timeout (without) says so; from then
	// on the bytes are the new ones.
	v3 := append([]byte("%PDF-1.4\n"), randomBytes(1<<19+77)...)
	if err := os.WriteFile(filepath.Join(lib, "cached.pdf"), v3, 0o644); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new size", func() bool {
		st, err := os.Stat(pdf)
		return err == nil && st.Size() == int64(len(v3))
	})
	read("after a rewrite to another size", v3)
	cachedRead("rewritten PDF", v3)
}
