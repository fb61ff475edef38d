package fs

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// TestScratchOnDisk: what is written into a scratch file (a file of one's
// own saved into a view, an editor's temporary) goes to the scratch
// directory on disk, not into memory; reads see it, a rename onto a
// sidecar too large to be one is refused with the scratch file kept, and
// at close it is kept in the rejected folder.
func TestScratchOnDisk(t *testing.T) {
	tv := newTestView(t)
	tv.opts.ScratchDir = filepath.Join(tv.data, "scratch")
	tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	n, err := tv.Dir(all).Create("notes.bin", 0o644)
	if err != nil {
		t.Fatal(err)
	}
	sc := n.(*Sidecar)
	h, err := sc.Open(os.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	const size = 64 << 20
	chunk := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for off := int64(0); off < size; off += int64(len(chunk)) {
		if _, err := h.Write(chunk, off); err != nil {
			t.Fatalf("write at %d: %v", off, err)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	if grew := int64(after.HeapInuse) - int64(before.HeapInuse); grew > 8<<20 {
		t.Errorf("the heap grew by %d MiB for a %d MiB scratch file", grew>>20, size>>20)
	}
	if err := h.Commit(); err != nil {
		t.Fatal(err)
	}
	h.Release()
	if es, err := os.ReadDir(tv.opts.ScratchDir); err != nil || len(es) != 1 {
		t.Fatalf("scratch directory: %v %v", es, err)
	}
	if a, err := sc.Attr(); err != nil || a.Size != size {
		t.Fatalf("attr %+v %v", a, err)
	}
	r, _ := sc.Open(os.O_RDONLY)
	got, err := r.Read(make([]byte, 16), size-16)
	if err != nil || string(got) != "0123456789abcdef" {
		t.Fatalf("read back %q %v", got, err)
	}
	r.Release()

	// Too large to be a sidecar: refused, the file stays.
	err = tv.Dir(all).Rename("notes.bin", nil, tv.Dir(all), "1968 - Art.json", RenameFlags{})
	if !errors.Is(err, ErrTooLarge) {
		t.Fatalf("rename of %d MiB onto a sidecar: %v", size>>20, err)
	}
	if _, _, err := tv.Dir(all).Lookup("notes.bin"); err != nil {
		t.Fatalf("the scratch file after a refused rename: %v", err)
	}

	// Past the bound of a scratch file: EFBIG.
	tv.opts.MaxScratch = size
	w, _ := sc.Open(os.O_WRONLY)
	if _, err := w.Write([]byte("x"), size); !errors.Is(err, ErrTooLarge) {
		t.Errorf("write past the bound: %v", err)
	}
	if err := sc.Truncate(nil, size+1); !errors.Is(err, ErrTooLarge) {
		t.Errorf("truncate past the bound: %v", err)
	}
	w.Release()

	// Kept at close, whole; the scratch directory goes.
	tv.Close()
	kept, _ := filepath.Glob(filepath.Join(tv.opts.RejectDir, "*notes.bin"))
	if len(kept) != 1 {
		t.Fatalf("kept %v", kept)
	}
	if st, err := os.Stat(kept[0]); err != nil || st.Size() != size {
		t.Fatalf("kept copy: %v %v", st, err)
	}
	if es, _ := os.ReadDir(tv.opts.ScratchDir); len(es) != 0 {
		t.Errorf("scratch directory after close: %v", es)
	}
}

// BenchmarkScratchWrite1GiB writes 1 GiB into a scratch file in 128 KiB
// writes (the kernel's largest FUSE write) and reports the heap's peak
// growth: the issue measured 6.3 GB for 1 GB held in memory.
func BenchmarkScratchWrite1GiB(b *testing.B) {
	chunk := bytes.Repeat([]byte{'x'}, 128<<10)
	for b.Loop() {
		b.StopTimer()
		tv := newTestView(b)
		tv.opts.ScratchDir = b.TempDir()
		n, err := tv.Dir(all).Create("big.bin", 0o644)
		if err != nil {
			b.Fatal(err)
		}
		h, _ := n.(*Sidecar).Open(os.O_WRONLY)
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		b.StartTimer()
		for off := int64(0); off < 1<<30; off += int64(len(chunk)) {
			if _, err := h.Write(chunk, off); err != nil {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapSys-before.HeapSys)/(1<<20), "heap-sys-growth-MiB")
		b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), "allocated-MiB")
		h.Release()
		tv.Close()
		b.StartTimer()
	}
	b.SetBytes(1 << 30)
}
