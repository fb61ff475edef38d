//go:build linux

// benchfs is Linux only: it compares against the native filesystem with
// Linux mmap flags (MAP_POPULATE) and reads RSS the Linux way.

// Command benchfs measures the mount against the native filesystem in the
// same run and prints ratios: sequential read of a large PDF, ls -l of a
// 100k-paper view, and the time and memory a 100k-paper mount needs.
// Run it through scripts/bench.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
	"github.com/paperfs/paperfs/meta/library"
)

func main() {
	bin := flag.String("bin", "", "paperfs binary")
	work := flag.String("dir", "", "scratch directory (default: a temp dir)")
	papers := flag.Int("papers", 100000, "papers in the large library")
	readMiB := flag.Int("read-mib", 1024, "size of the read benchmark's file")
	runs := flag.Int("runs", 3, "repetitions (the median is reported)")
	only := flag.String("only", "", "run one part only: read, large, webdav (against rclone serve webdav), or open (in-process breakdown of the mount's start)")
	cpuprofile := flag.String("cpuprofile", "", "with -only open: write a CPU profile of the start here")
	mountFlags := flag.String("mount-flags", "", "extra flags for paperfs mount in the large benchmark (e.g. \"--max-inodes 100000\")")
	flag.Parse()
	if *bin == "" {
		fail("need -bin")
	}
	dir := *work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("/var/tmp", "paperfs-bench"); err != nil {
			fail(err.Error())
		}
		defer os.RemoveAll(dir)
	}
	b := &bench{bin: *bin, dir: dir, runs: *runs, mountFlags: strings.Fields(*mountFlags)}
	if *only == "" || *only == "read" {
		b.read(*readMiB)
	}
	if *only == "" || *only == "large" {
		b.large(*papers)
	}
	if *only == "" || *only == "webdav" {
		b.webdav(*readMiB, *papers)
	}
	if *only == "open" {
		b.open(*papers, *cpuprofile)
	}
}

type bench struct {
	bin, dir   string
	runs       int
	mountFlags []string // for the large library's mounts
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "benchfs:", msg)
	os.Exit(1)
}

func must(err error) {
	if err != nil {
		fail(err.Error())
	}
}

// mount starts `paperfs mount` and waits until root lists; it returns the
// process and how long that took.
func (b *bench) mount(lib, data, mnt string, extra ...string) (*exec.Cmd, time.Duration) {
	os.MkdirAll(mnt, 0o755)
	// --offline: a benchmark measures the mount, not online lookups.
	args := append([]string{"--library", lib, "--data-dir", data, "--offline", "mount", mnt}, extra...)
	cmd := exec.Command(b.bin, args...)
	var logs bytes.Buffer
	cmd.Stderr = &logs
	start := time.Now()
	must(cmd.Start())
	for {
		if _, err := os.Stat(filepath.Join(mnt, "all")); err == nil {
			return cmd, time.Since(start)
		}
		if time.Since(start) > 60*time.Second {
			cmd.Process.Kill()
			fail("mount did not come up: " + logs.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func unmount(cmd *exec.Cmd) {
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		fail(fmt.Sprintf("mount exited with %v", err))
	}
}

func dropCaches() {
	syscall.Sync()
	os.WriteFile("/proc/sys/vm/drop_caches", []byte("3"), 0o200)
}

func median(ds []time.Duration) time.Duration {
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	return ds[len(ds)/2]
}

func readAll(path string) time.Duration {
	f, err := os.Open(path)
	must(err)
	defer f.Close()
	buf := make([]byte, 1<<20)
	start := time.Now()
	for {
		_, err := f.Read(buf)
		if err == io.EOF {
			break
		}
		must(err)
	}
	return time.Since(start)
}

// read compares sequential reads of one large PDF: cold (page cache
// dropped before each) and a second read right after, through passthrough,
// through FUSE reads (non-root users) and as on macOS (no notifications).
func (b *bench) read(mib int) {
	lib, data := b.readLibrary(mib)
	path := filepath.Join(lib, "big.pdf")
	st, err := os.Stat(path)
	must(err)

	for _, mode := range []struct {
		name  string
		extra []string
	}{{"passthrough", nil}, {"fuse-read", []string{"--no-passthrough"}}, {"fuse-read, no-notify", []string{"--no-notify"}}} {
		mnt := filepath.Join(b.dir, "readmnt")
		cmd, _ := b.mount(lib, data, mnt, mode.extra...)
		var native, mounted, nativeWarm, mountedWarm []time.Duration
		var nativeFolio, mountFolio float64
		// The first 64 MiB, or the whole file if smaller (mapping past
		// its end would fault).
		pages := min(16384, int(st.Size())/os.Getpagesize())
		var nerr, merr error
		for i := 0; i < b.runs; i++ {
			dropCaches()
			native = append(native, readAll(path))
			nativeWarm = append(nativeWarm, readAll(path))
			// The page cache as the second read found it.
			nativeFolio, nerr = folioKiB(path, pages)
			dropCaches()
			mounted = append(mounted, readAll(filepath.Join(mnt, "all", "Big.pdf")))
			mountedWarm = append(mountedWarm, readAll(filepath.Join(mnt, "all", "Big.pdf")))
			mountFolio, merr = folioKiB(filepath.Join(mnt, "all", "Big.pdf"), pages)
		}
		if nerr == nil && merr == nil {
			fmt.Printf("read (%s): page-cache folios of the first %d MiB, mean: native %.0f KiB, mount %.0f KiB\n", mode.name, pages*os.Getpagesize()>>20, nativeFolio, mountFolio)
		} else {
			fmt.Printf("read (%s): page-cache folio sizes unknown: %v %v\n", mode.name, nerr, merr)
		}
		unmount(cmd)
		mb := float64(st.Size()) / (1 << 20)
		for _, r := range []struct {
			what            string
			native, mounted []time.Duration
		}{{"cold", native, mounted}, {"second read", nativeWarm, mountedWarm}} {
			// Each run's ratio, before median sorts the times.
			var each []string
			for i := range r.native {
				each = append(each, fmt.Sprintf("%.2f", r.native[i].Seconds()/r.mounted[i].Seconds()))
			}
			n, m := median(r.native), median(r.mounted)
			fmt.Printf("read %d MiB (%s, %s): native %.0f MiB/s, mount %.0f MiB/s, mount/native throughput %.2fx (runs %s)\n",
				mib, mode.name, r.what, mb/n.Seconds(), mb/m.Seconds(), n.Seconds()/m.Seconds(), strings.Join(each, ", "))
		}
	}
}

// makeReadLibrary writes a one-paper library whose PDF is mib MiB.
func (b *bench) makeReadLibrary(mib int, lib, data string) {
	os.MkdirAll(lib, 0o755)
	path := filepath.Join(lib, "big.pdf")
	f, err := os.Create(path)
	must(err)
	f.Write([]byte("%PDF-1.7\n"))
	chunk := make([]byte, 1<<20)
	for i := 0; i < mib; i++ {
		for j := range chunk {
			chunk[j] = byte(i + j)
		}
		f.Write(chunk)
	}
	must(f.Close())
	s, err := meta.Open(filepath.Join(data, "meta.db"), meta.Options{})
	must(err)
	st, _ := os.Stat(path)
	_, err = s.Create(meta.Paper{Title: "Big", File: meta.File{Path: "big.pdf", Size: st.Size()}})
	must(err)
	s.Close()
}

var words = strings.Fields(`distributed consensus learning neural graph parallel memory cache
network protocol scalable fault tolerant storage language model inference query database
transaction replication clock ordering events systems analysis optimal bounds`)

// open times, inside this process, the steps of a mount's start on the
// large library: opening the store (buntdb reads its whole file), opening
// the library (which checks citation keys) and listing all/, with the Go
// heap after each.
func (b *bench) open(n int, cpuprofile string) {
	lib, data := b.library(n)
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		must(err)
		must(pprof.StartCPUProfile(f))
		defer func() {
			pprof.StopCPUProfile()
			f.Close()
		}()
	}
	heap := func() string {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return fmt.Sprintf("%d MB", ms.HeapAlloc>>20)
	}
	touch, populated := faultCost(200 << 20)
	fmt.Printf("touching 200 MB of fresh memory: %s (%s when the kernel populates it in one call)\n",
		touch.Round(time.Millisecond), populated.Round(time.Millisecond))
	t0 := time.Now()
	s, err := meta.Open(filepath.Join(data, "meta.db"), meta.Options{})
	must(err)
	fmt.Printf("meta.Open: %s, heap %s\n", time.Since(t0).Round(time.Millisecond), heap())
	t1 := time.Now()
	_, err = library.Open(lib, s, nil, slog.New(slog.NewTextHandler(io.Discard, nil)))
	must(err)
	fmt.Printf("library.Open: %s, heap %s\n", time.Since(t1).Round(time.Millisecond), heap())
	t2 := time.Now()
	es, err := s.List(meta.View{Kind: meta.All})
	must(err)
	fmt.Printf("List(all) of %d papers: %s, heap %s\n", len(es), time.Since(t2).Round(time.Millisecond), heap())
	runtime.KeepAlive(es)
	must(s.Close())
}

// faultCost times writing one byte per page of n bytes of fresh anonymous
// memory, page-faulting each page, and the same with MAP_POPULATE: what
// building a heap of that size costs in page faults on this machine.
func faultCost(n int) (touch, populated time.Duration) {
	run := func(flags int) time.Duration {
		start := time.Now()
		b, err := syscall.Mmap(-1, 0, n, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON|flags)
		must(err)
		for i := 0; i < n; i += os.Getpagesize() {
			b[i] = 1
		}
		d := time.Since(start)
		must(syscall.Munmap(b))
		return d
	}
	return run(0), run(syscall.MAP_POPULATE)
}

// large builds an n-paper library and measures mount start, ls -l and RSS.
func (b *bench) large(n int) {
	lib, data := b.library(n)
	b.measure(n, lib, data)
}

// library returns the n-paper library and its data dir, building them
// unless an earlier run left them in the scratch directory.
func (b *bench) library(n int) (lib, data string) {
	lib, data = filepath.Join(b.dir, "biglib"), filepath.Join(b.dir, "bigdata")
	native := filepath.Join(b.dir, "native")
	// A library left in -dir by an earlier run with the same size is
	// reused, so profiling the mount does not rebuild it each time.
	built := filepath.Join(b.dir, "built")
	if v, err := os.ReadFile(built); err == nil && string(v) == strconv.Itoa(n) {
		fmt.Printf("reusing the %d-paper library in %s\n", n, b.dir)
	} else {
		for _, d := range []string{lib, data, native} {
			must(os.RemoveAll(d))
		}
		b.build(n, lib, data, native)
		must(os.WriteFile(built, []byte(strconv.Itoa(n)), 0o644))
	}
	return lib, data
}

// build writes an n-paper library, its store, and a native directory
// holding the names all/ shows.
func (b *bench) build(n int, lib, data, native string) {
	must(os.MkdirAll(lib, 0o755))
	must(os.MkdirAll(native, 0o755))
	s, err := meta.Open(filepath.Join(data, "meta.db"), meta.Options{NoSync: true})
	must(err)
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Now()
	var batch []meta.Paper
	for i := 0; i < n; i++ {
		title := ""
		for w := 0; w < 4+rng.IntN(8); w++ {
			title += words[rng.IntN(len(words))] + " "
		}
		title += strconv.Itoa(i)
		rel := fmt.Sprintf("p%06d.pdf", i)
		body := []byte("%PDF-1.4\n" + title)
		must(os.WriteFile(filepath.Join(lib, rel), body, 0o644))
		sum := sha256.Sum256(body)
		p := meta.Paper{Title: title,
			Authors: []string{fmt.Sprintf("Author%d Family%d", rng.IntN(5000), rng.IntN(5000))},
			Year:    1970 + rng.IntN(55), Tags: []string{"tag" + strconv.Itoa(rng.IntN(200))},
			File: meta.File{Path: rel, Size: int64(len(body)), SHA256: hex.EncodeToString(sum[:])}}
		// Imported papers get their citation key when created; without one
		// the mount's first open would spend minutes assigning 100k keys.
		p.CiteKey = bibtex.BaseKey(&p) + strconv.Itoa(i)
		batch = append(batch, p)
		if len(batch) == 1000 {
			_, err := s.CreateMany(batch)
			must(err)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		_, err := s.CreateMany(batch)
		must(err)
	}
	es, err := s.List(meta.View{Kind: meta.All})
	must(err)
	must(s.Close())
	for _, e := range es {
		for _, ext := range []string{".pdf", ".json"} {
			f, err := os.Create(filepath.Join(native, e.Name+ext))
			must(err)
			f.Close()
		}
	}
	fmt.Printf("built %d-paper library in %s\n", n, time.Since(start).Round(time.Millisecond))
}

// settle is how long after a listing RSS is measured again: the mount
// hands back what it freed (see fs/forget.go) within about that.
const settle = 3 * time.Second

// measure mounts the library b.runs times: start, first full listing,
// ls -l against the native directory, and RSS after listing every view.
func (b *bench) measure(n int, lib, data string) {
	native := filepath.Join(b.dir, "native")
	if st, err := os.Stat(filepath.Join(data, "meta.db")); err == nil {
		fmt.Printf("store file: %.1f MB\n", float64(st.Size())/1e6)
	}
	mnt := filepath.Join(b.dir, "bigmnt")
	var starts, firstList, nativeLS, mountLS []time.Duration
	// RSS of every run, in MB, so the worst is seen and not only the last.
	var rss, rssAll, rssIdle, rssSettled, rssAllSettled []int
	for i := 0; i < b.runs; i++ {
		cmd, up := b.mount(lib, data, mnt, b.mountFlags...)
		t0 := time.Now()
		ents, err := os.ReadDir(filepath.Join(mnt, "all"))
		must(err)
		if len(ents) != 2*n {
			fail(fmt.Sprintf("all/ lists %d entries, want %d", len(ents), 2*n))
		}
		starts = append(starts, up)
		firstList = append(firstList, up+time.Since(t0))
		// ls -l, cold for both: the kernel forgets the mount on remount,
		// and the native directory's dentries are dropped.
		for j := 0; j < 1; j++ {
			dropCaches()
			nativeLS = append(nativeLS, timeCmd("ls", "-l", native))
			mountLS = append(mountLS, timeCmd("ls", "-l", filepath.Join(mnt, "all")))
		}
		rssAll = append(rssAll, procRSS(cmd.Process.Pid))
		time.Sleep(settle)
		rssAllSettled = append(rssAllSettled, procRSS(cmd.Process.Pid))
		for _, v := range []string{"tags", "authors", "years"} {
			groups, _ := os.ReadDir(filepath.Join(mnt, v))
			for _, g := range groups {
				os.ReadDir(filepath.Join(mnt, v, g.Name()))
			}
		}
		rss = append(rss, procRSS(cmd.Process.Pid))
		time.Sleep(settle)
		rssSettled = append(rssSettled, procRSS(cmd.Process.Pid))
		// Idle views are forgotten after the mount's default 2 minutes.
		time.Sleep(fuse.DefaultIdleForget + fuse.DefaultIdleForget/2)
		rssIdle = append(rssIdle, procRSS(cmd.Process.Pid))
		unmount(cmd)
	}
	fmt.Printf("mount of %d papers: root ready in %s, all/ fully listed (%d names) in %s\n",
		n, median(starts).Round(time.Millisecond), 2*n, median(firstList).Round(time.Millisecond))
	// Each run's ratio, before median sorts the times.
	var each []string
	for i := range nativeLS {
		each = append(each, fmt.Sprintf("%.2fx (%s/%s)", mountLS[i].Seconds()/nativeLS[i].Seconds(),
			mountLS[i].Round(time.Millisecond), nativeLS[i].Round(time.Millisecond)))
	}
	nl, ml := median(nativeLS), median(mountLS)
	fmt.Printf("ls -l of %d names: native %s, mount %s, mount/native time %.2fx\n",
		2*n, nl.Round(time.Millisecond), ml.Round(time.Millisecond), ml.Seconds()/nl.Seconds())
	fmt.Printf("  each run, mount/native: %s\n", strings.Join(each, ", "))
	fmt.Printf("RSS of the mount after ls -l all/: %s, %s later %s\n", mbs(rssAll), settle, mbs(rssAllSettled))
	fmt.Printf("RSS after listing every view too: %s, %s later %s; once they are idle: %s\n",
		mbs(rss), settle, mbs(rssSettled), mbs(rssIdle))
}

// mbs shows the RSS of each run and the largest: "max 288 MB (288, 281, 279)".
func mbs(runs []int) string {
	s := make([]string, len(runs))
	for i, r := range runs {
		s[i] = strconv.Itoa(r)
	}
	return fmt.Sprintf("max %d MB (%s)", slices.Max(runs), strings.Join(s, ", "))
}

func timeCmd(name string, args ...string) time.Duration {
	cmd := exec.Command(name, args...)
	cmd.Stdout = io.Discard
	start := time.Now()
	must(cmd.Run())
	return time.Since(start)
}

// procRSS is a process's resident memory in MB.
func procRSS(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	must(err)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			kb, _ := strconv.Atoi(strings.Fields(l)[1])
			return kb / 1024
		}
	}
	fail(fmt.Sprintf("no VmRSS for process %d", pid))
	return 0
}
