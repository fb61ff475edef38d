package synctest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// buildTimeout bounds one cold build of a helper binary: FerretDB takes
// about two minutes on a two-core machine, plus module downloads.
const buildTimeout = 15 * time.Minute

var (
	builtMu sync.Mutex // protects built
	built   = map[string]string{}
)

// binary returns the path of the helper program in scripts/<name>, built
// once per machine and content: the cache key hashes the module's go.mod,
// go.sum and Go files, so editing any of them rebuilds. A file lock keeps
// parallel test binaries (go test ./... runs one per package) from
// building the same thing twice.
func binary(t testing.TB, name string) string {
	t.Helper()

	builtMu.Lock()
	defer builtMu.Unlock()
	if p, ok := built[name]; ok {
		return p
	}

	src, err := scriptsDir(name)
	if err != nil {
		t.Fatalf("synctest: cannot find scripts/%s to build the test server: %v", name, err)
	}
	sum, err := hashSources(src)
	if err != nil {
		t.Fatalf("synctest: hashing scripts/%s: %v", name, err)
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("synctest: no cache directory for the %s binary (set HOME or XDG_CACHE_HOME): %v", name, err)
	}
	dir := filepath.Join(cache, "paperfs-test", name+"-"+sum)
	bin := filepath.Join(dir, name)

	if _, err := os.Stat(bin); err == nil {
		built[name] = bin
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("synctest: %v", err)
	}

	unlock, err := lockFile(filepath.Join(dir, "build.lock"))
	if err != nil {
		t.Fatalf("synctest: locking the %s build: %v", name, err)
	}
	defer unlock()

	// Another process may have built it while we waited for the lock.
	if _, err := os.Stat(bin); err == nil {
		built[name] = bin
		return bin
	}

	start := time.Now()
	t.Logf("synctest: building scripts/%s into %s (first time on this machine; FerretDB takes a few minutes)", name, dir)
	out, err := goBuild(src, bin)
	if err != nil {
		t.Fatalf("synctest: building scripts/%s failed: %v\n%s", name, err, out)
	}
	t.Logf("synctest: built %s in %s", name, time.Since(start).Round(time.Second))
	built[name] = bin
	return bin
}

// goBuild builds the module in src into bin, through a temporary file so
// that a killed build never leaves a half-written binary under bin.
func goBuild(src, bin string) ([]byte, error) {
	// go test puts its own GOROOT/bin first on the test's PATH.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("building %s: no go command on PATH: %w", src, err)
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	defer os.Remove(tmp)

	ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
	defer cancel()
	// The helper is its own module: a go.work listing only paperfs would
	// make the build fail, and a caller's -mod=vendor doesn't apply to it.
	// No VCS stamp: the checkout may have no commits yet.
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false")
	dir := src
	args := []string{"build", "-o", tmp}
	if _, err := os.Stat(filepath.Join(src, "overlay")); err == nil {
		vdir, out, err := vendorWithOverlay(ctx, goTool, src, filepath.Dir(bin), env)
		if vdir != "" {
			defer os.RemoveAll(vdir)
		}
		if err != nil {
			return out, err
		}
		dir = vdir
		args = append(args, "-tags", "paperfs_overlay")
	}
	cmd := exec.CommandContext(ctx, goTool, append(args, ".")...)
	cmd.Dir = dir
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, err
	}
	return out, os.Rename(tmp, bin)
}

// vendorWithOverlay copies the helper module in src to a new directory
// under parent, vendors its dependencies there and adds the files of
// src/overlay to them: each NAME.go.txt goes into the vendored package its
// first line names ("// overlay: IMPORT/PATH") as NAME.go, and goBuild
// builds with the tag paperfs_overlay. That is how scripts/ferretdb adds
// an option FerretDB's embedding API lacks; go build -overlay would be
// simpler but refuses files in the module cache. The caller removes the
// directory.
func vendorWithOverlay(ctx context.Context, goTool, src, parent string, env []string) (string, []byte, error) {
	dir, err := os.MkdirTemp(parent, "vendor-build-")
	if err != nil {
		return "", nil, err
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		return dir, nil, err
	}
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (n == "go.mod" || n == "go.sum" || strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go")) {
			if err := copyFile(filepath.Join(src, n), filepath.Join(dir, n)); err != nil {
				return dir, nil, err
			}
		}
	}
	cmd := exec.CommandContext(ctx, goTool, "mod", "vendor")
	cmd.Dir = dir
	cmd.Env = append(env, "GOFLAGS=-mod=mod")
	if out, err := cmd.CombinedOutput(); err != nil {
		return dir, out, fmt.Errorf("go mod vendor: %w", err)
	}
	files, err := filepath.Glob(filepath.Join(src, "overlay", "*.go.txt"))
	if err != nil {
		return dir, nil, err
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return dir, nil, err
		}
		first, _, _ := strings.Cut(string(b), "\n")
		pkg, ok := strings.CutPrefix(strings.TrimSpace(first), "// overlay: ")
		if !ok || pkg == "" || strings.Contains(pkg, "..") {
			return dir, nil, fmt.Errorf("%s: the first line must be \"// overlay: IMPORT/PATH\"", f)
		}
		pdir := filepath.Join(dir, "vendor", filepath.FromSlash(pkg))
		if _, err := os.Stat(pdir); err != nil {
			return dir, nil, fmt.Errorf("%s: package %s is not among the vendored ones: %w", f, pkg, err)
		}
		if err := os.WriteFile(filepath.Join(pdir, strings.TrimSuffix(filepath.Base(f), ".txt")), b, 0o644); err != nil {
			return dir, nil, err
		}
	}
	return dir, nil, nil
}

func copyFile(from, to string) error {
	b, err := os.ReadFile(from)
	if err != nil {
		return err
	}
	return os.WriteFile(to, b, 0o644)
}

// scriptsDir finds scripts/<name> in the paperfs source tree: next to this
// file when the test runs from a checkout (the usual case), else by walking
// up from the working directory, which go test sets to the package's.
func scriptsDir(name string) (string, error) {
	var roots []string
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		roots = append(roots, filepath.Join(filepath.Dir(file), "..", ".."))
	}
	if wd, err := os.Getwd(); err == nil {
		for d := wd; ; d = filepath.Dir(d) {
			roots = append(roots, d)
			if filepath.Dir(d) == d {
				break
			}
		}
	}
	for _, r := range roots {
		d := filepath.Join(r, "scripts", name)
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return filepath.Clean(d), nil
		}
	}
	return "", fmt.Errorf("no scripts/%s/go.mod above %v", name, roots)
}

// hashSources hashes the files that decide what the helper binary is
// (with the overlay files vendorWithOverlay adds), and the Go version that
// builds it.
func hashSources(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if e.Type().IsRegular() && (n == "go.mod" || n == "go.sum" || strings.HasSuffix(n, ".go") && !strings.HasSuffix(n, "_test.go")) {
			names = append(names, n)
		}
	}
	overlays, err := filepath.Glob(filepath.Join(dir, "overlay", "*.go.txt"))
	if err != nil {
		return "", err
	}
	for _, o := range overlays {
		names = append(names, filepath.Join("overlay", filepath.Base(o)))
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "%s\n", runtime.Version())
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return "", err
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// LogBuffer collects a child's stderr or a component's log lines for
// failure messages; the writer may run in its own goroutine while the
// test reads. With Max set it keeps only about the last Max bytes.
type LogBuffer struct {
	Max int

	mu sync.Mutex // protects b
	b  bytes.Buffer
}

var _ io.Writer = (*LogBuffer)(nil)

func (lb *LogBuffer) Write(p []byte) (int, error) {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	lb.b.Write(p)
	// Keep the tail: the last lines say why a server died.
	if lb.Max > 0 && lb.b.Len() > 2*lb.Max {
		tail := append([]byte(nil), lb.b.Bytes()[lb.b.Len()-lb.Max:]...)
		lb.b.Reset()
		lb.b.Write(tail)
	}
	return len(p), nil
}

func (lb *LogBuffer) String() string {
	lb.mu.Lock()
	defer lb.mu.Unlock()
	return lb.b.String()
}
