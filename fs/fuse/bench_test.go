//go:build linux || darwin

package fuse

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Benchmarks for editing through the mount (scripts/bench edit). Each
// reports its latency next to the same file operations on a native
// directory of the same disk, measured in the same run.

// benchLibrary fills s with n papers, the first of them tagged a, with
// hashes so no two are alike. It returns the first paper.
func benchLibrary(b *testing.B, s *meta.Store, n int) meta.Paper {
	b.Helper()
	var first meta.Paper
	for i := 0; i < n; i += 5000 {
		var ps []meta.Paper
		for j := i; j < min(n, i+5000); j++ {
			p := meta.Paper{Title: "Paper number " + strconv.Itoa(j), Authors: []string{fmt.Sprintf("Author%d Family%d", j%977, j%1361)},
				Year: 1950 + j%75, Tags: []string{fmt.Sprintf("tag%d", j%200)},
				File: meta.File{Path: fmt.Sprintf("p%d.pdf", j), Size: 1000, SHA256: fmt.Sprintf("%064x", j)}}
			if j == 0 {
				p.Tags = []string{"a"}
			}
			ps = append(ps, p)
		}
		out, err := s.CreateMany(ps)
		if err != nil {
			b.Fatal(err)
		}
		if i == 0 {
			first = out[0]
		}
	}
	return first
}

// latencies collects per-operation times and reports their median and p99.
type latencies []time.Duration

func (l latencies) report(b *testing.B, prefix string) time.Duration {
	slices.Sort(l)
	med, p99 := l[len(l)/2], l[min(len(l)-1, len(l)*99/100)]
	b.ReportMetric(float64(med.Microseconds())/1000, prefix+"median-ms")
	b.ReportMetric(float64(p99.Microseconds())/1000, prefix+"p99-ms")
	return med
}

func saveInPlace(path string, data []byte) error {
	return writeSynced(path, os.O_WRONLY|os.O_TRUNC, data)
}

func saveByRename(path string, data []byte) error {
	tmp := filepath.Join(filepath.Dir(path), ".tmp-save")
	if err := writeSynced(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, data); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// writeSynced writes data to path opened with flag and fsyncs it, as an
// editor saving a file does.
func writeSynced(path string, flag int, data []byte) error {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// BenchmarkSave saves a sidecar through the mount, in place and by
// rename, until the store has committed it (durably: buntdb fsyncs each
// commit), 200 times each; the native baseline does the same writes and
// fsyncs on a plain file.
func BenchmarkSave(b *testing.B) {
	saves := 200
	if v, err := strconv.Atoi(os.Getenv("PAPERFS_BENCH_SAVES")); err == nil {
		saves = v
	}
	for _, pattern := range []struct {
		name string
		save func(path string, data []byte) error
	}{{"in-place", saveInPlace}, {"rename", saveByRename}} {
		b.Run(pattern.name, func(b *testing.B) {
			s, _, mnt, _ := testMount(b, Options{})
			p := benchLibrary(b, s, 1000)
			native := filepath.Join(b.TempDir(), "native.json")
			os.WriteFile(native, meta.EncodeSidecar(&p), 0o644)
			dir := filepath.Join(mnt, "all")
			var mount, nat latencies
			for i := 0; i < saves; i++ {
				cur, _ := s.Get(p.ID)
				old := cur
				cur.Title = fmt.Sprintf("Saved %d", i)
				text := meta.EncodeSidecar(&cur)
				name := filepath.Join(dir, meta.BaseName(&old)+".json")
				start := time.Now()
				if err := pattern.save(name, text); err != nil {
					b.Fatalf("save %d: %v", i, err)
				}
				mount = append(mount, time.Since(start))
				if got, _ := s.Get(p.ID); got.Title != cur.Title {
					b.Fatalf("save %d not committed: %q", i, got.Title)
				}
				start = time.Now()
				if err := pattern.save(native, text); err != nil {
					b.Fatal(err)
				}
				nat = append(nat, time.Since(start))
			}
			m, n := mount.report(b, "mount-"), nat.report(b, "native-")
			b.ReportMetric(float64(m)/float64(n), "x-native")
		})
	}
}

// BenchmarkRetag moves one paper between tags/a and tags/b with rename(2)
// 1,000 times in a 100k-paper library (PAPERFS_BENCH_PAPERS overrides),
// against renames between two native directories.
func BenchmarkRetag(b *testing.B) {
	papers, moves := 100000, 1000
	if v, err := strconv.Atoi(os.Getenv("PAPERFS_BENCH_PAPERS")); err == nil {
		papers = v
	}
	s, _, mnt, _ := testMount(b, Options{})
	p := benchLibrary(b, s, papers)
	if err := s.CreateGroup(meta.Tags, "b"); err != nil {
		b.Fatal(err)
	}
	nativeDir := b.TempDir()
	os.MkdirAll(filepath.Join(nativeDir, "a"), 0o755)
	os.MkdirAll(filepath.Join(nativeDir, "b"), 0o755)
	os.WriteFile(filepath.Join(nativeDir, "a", "f.pdf"), nil, 0o644)
	name := meta.BaseName(&p) + ".pdf"
	var mount, nat latencies
	for i := 0; i < moves; i++ {
		from, to := "a", "b"
		if i%2 == 1 {
			from, to = to, from
		}
		start := time.Now()
		if err := os.Rename(filepath.Join(mnt, "tags", from, name), filepath.Join(mnt, "tags", to, name)); err != nil {
			b.Fatalf("move %d: %v", i, err)
		}
		mount = append(mount, time.Since(start))
		start = time.Now()
		if err := os.Rename(filepath.Join(nativeDir, from, "f.pdf"), filepath.Join(nativeDir, to, "f.pdf")); err != nil {
			b.Fatal(err)
		}
		nat = append(nat, time.Since(start))
	}
	if got, _ := s.Get(p.ID); !slices.Equal(got.Tags, []string{"a"}) {
		b.Fatalf("after %d moves: tags %v", moves, got.Tags)
	}
	m, n := mount.report(b, "mount-"), nat.report(b, "native-")
	b.ReportMetric(float64(m)/float64(n), "x-native")
}
