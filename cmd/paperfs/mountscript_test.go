//go:build linux

package main

import (
	"archive/zip"
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta/testutil"
)

// The README's first command, scripts/mount, on a machine without Go or
// with Debian 12's Go 1.19: it fetches Go from the module proxy into
// ~/.cache/paperfs, builds paperfs with it and mounts.

func TestMountScriptWithoutGo(t *testing.T) {
	home := t.TempDir()
	path := pathWithoutGo(t)
	out := runMountScript(t, home, path)
	if !strings.Contains(out, "no go on PATH: fetching go") {
		t.Errorf("scripts/mount does not say it fetches Go:\n%s", out)
	}
	checkFetchedGo(t, home)
}

func TestMountScriptWithOldGo(t *testing.T) {
	home := t.TempDir()
	fake := t.TempDir()
	called := filepath.Join(fake, "called")
	// Go 1.19 answers `go version` and `go env GOPROXY`; a build would
	// fail the way 1.19 fails on go.mod ("invalid go version"), and is
	// recorded.
	script := "#!/bin/sh\ncase \"$*\" in\n" +
		"version) echo 'go version go1.19.8 linux/" + runtime.GOARCH + "'; exit 0 ;;\n" +
		"'env GOPROXY') echo \"${GOPROXY:-https://proxy.golang.org,direct}\"; exit 0 ;;\nesac\n" +
		"echo \"$@\" >> " + called + "\necho 'go: errors parsing go.mod: invalid go version' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "go"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	out := runMountScript(t, home, fake+string(os.PathListSeparator)+pathWithoutGo(t))
	if !strings.Contains(out, "is go1.19.8, but paperfs needs go") {
		t.Errorf("scripts/mount does not say why it fetches Go:\n%s", out)
	}
	if b, err := os.ReadFile(called); err == nil {
		t.Errorf("the old go was used for: %s", b)
	}
	checkFetchedGo(t, home)
}

func TestMountScriptMissingLibrary(t *testing.T) {
	d := t.TempDir()
	mnt := filepath.Join(d, "papers")
	c := exec.Command("../../scripts/mount", filepath.Join(d, "Papers"), mnt)
	c.Env = append(os.Environ(), "HOME="+d)
	out, err := c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Papers does not exist") {
		t.Fatalf("scripts/mount with a missing library folder: %v\n%s", err, out)
	}
	if _, err := os.Stat(mnt); !os.IsNotExist(err) {
		t.Errorf("scripts/mount created the mountpoint although the library is missing: %v", err)
	}
}

// A zip from the proxy that is not the one go.sum pins is refused, and
// GOPROXY's list is followed past a proxy that lacks the module.
func TestGoToolchainRefusesTamperedZip(t *testing.T) {
	if runtime.GOARCH != "amd64" && runtime.GOARCH != "arm64" {
		t.Skipf("scripts/go-toolchain pins Go for amd64 and arm64 only, not %s", runtime.GOARCH)
	}
	home, proxy := t.TempDir(), t.TempDir()
	version := goToolchainVersion(t)
	module := "golang.org/toolchain@v0.0.1-go" + version + ".linux-" + runtime.GOARCH
	zipPath := filepath.Join(proxy, "golang.org/toolchain/@v/v0.0.1-go"+version+".linux-"+runtime.GOARCH+".zip")
	os.MkdirAll(filepath.Dir(zipPath), 0o755)
	f, err := os.Create(zipPath)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	w, _ := zw.Create(module + "/bin/go")
	io.WriteString(w, "#!/bin/sh\necho pwned\n")
	zw.Close()
	f.Close()

	c := exec.Command("../../scripts/go-toolchain")
	c.Env = append(os.Environ(), "HOME="+home, "XDG_CACHE_HOME=", "PATH="+pathWithoutGo(t),
		"GOPROXY=file://"+filepath.Join(home, "no-such-proxy")+",file://"+proxy)
	out, err := c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "does not match go.sum hash") {
		t.Fatalf("tampered toolchain zip: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "could not download from file://"+filepath.Join(home, "no-such-proxy")) {
		t.Errorf("the first proxy in GOPROXY was not tried:\n%s", out)
	}
	entries, _ := os.ReadDir(filepath.Join(home, ".cache/paperfs/go"))
	if len(entries) != 0 {
		t.Errorf("left in the cache after a refused zip: %v", entries)
	}
}

// runMountScript runs scripts/mount on a new library with HOME=home and
// PATH=path, waits for the mount, unmounts it with SIGTERM and returns
// what the script and paperfs said. The build and module caches are the
// test's own: the toolchain is under test, not the download of modules.
func runMountScript(t *testing.T, home, path string) string {
	t.Helper()
	testutil.SkipWithoutFUSE(t)
	lib, mnt := filepath.Join(home, "Papers"), filepath.Join(home, "papers")
	testutil.WritePDF(t, filepath.Join(lib, "a.pdf"), "a")
	c := exec.Command("../../scripts/mount", lib, mnt)
	c.Env = append(os.Environ(), "HOME="+home, "PATH="+path, "XDG_CACHE_HOME=", "XDG_DATA_HOME=", "XDG_CONFIG_HOME=",
		"PAPERFS_LIBRARY=", "PAPERFS_DATA_DIR=", "PAPERFS_CONFIG=",
		"GOCACHE="+goEnv(t, "GOCACHE"), "GOMODCACHE="+goEnv(t, "GOMODCACHE"))
	stderr, err := c.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	c.Stdout = os.Stdout
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ok, _ := fuse.IsMounted(mnt); ok {
			testutil.ForceUnmount(mnt)
		}
	})
	var said strings.Builder
	sc := bufio.NewScanner(stderr)
	mounted := false
	for sc.Scan() {
		said.WriteString(sc.Text() + "\n")
		if strings.Contains(sc.Text(), "msg=mounted") {
			mounted = true
			break
		}
	}
	if mounted {
		if ok, err := fuse.IsMounted(mnt); !ok {
			t.Errorf("paperfs said mounted, but %s is not a mountpoint (%v)", mnt, err)
		}
		if _, err := os.Stat(filepath.Join(mnt, "all")); err != nil {
			t.Errorf("the mount has no all/: %v", err)
		}
		c.Process.Signal(syscall.SIGTERM)
	}
	rest, _ := io.ReadAll(stderr)
	said.Write(rest)
	err = c.Wait()
	if !mounted || err != nil {
		t.Fatalf("scripts/mount (mounted: %v): %v\n%s", mounted, err, said.String())
	}
	return said.String()
}

// checkFetchedGo: the Go that built paperfs is the one fetched into
// ~/.cache/paperfs, and it runs.
func checkFetchedGo(t *testing.T, home string) {
	t.Helper()
	goBin := filepath.Join(home, ".cache/paperfs/go", "go"+goToolchainVersion(t)+".linux-"+runtime.GOARCH, "bin/go")
	out, err := exec.Command(goBin, "version").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "go"+goToolchainVersion(t)) {
		t.Errorf("%s version: %v %s", goBin, err, out)
	}
}

// pathWithoutGo is $PATH without the directories that hold a go command.
func pathWithoutGo(t *testing.T) string {
	var keep []string
	for _, d := range filepath.SplitList(os.Getenv("PATH")) {
		if _, err := os.Stat(filepath.Join(d, "go")); err == nil {
			continue
		}
		keep = append(keep, d)
	}
	for _, tool := range []string{"bash", "git"} {
		found := false
		for _, d := range keep {
			if _, err := os.Stat(filepath.Join(d, tool)); err == nil {
				found = true
			}
		}
		if !found {
			t.Fatalf("%s is in the same directory as go; cannot take go off PATH=%s", tool, os.Getenv("PATH"))
		}
	}
	return strings.Join(keep, string(os.PathListSeparator))
}

// goToolchainVersion is the Go version scripts/go-toolchain fetches.
func goToolchainVersion(t *testing.T) string {
	b, err := os.ReadFile("../../scripts/go-toolchain")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "go_version="); ok {
			return v
		}
	}
	t.Fatal("no go_version= line in scripts/go-toolchain")
	return ""
}

func goEnv(t *testing.T, name string) string {
	out, err := exec.Command("go", "env", name).Output()
	if err != nil {
		t.Fatalf("go env %s: %v", name, err)
	}
	return strings.TrimSpace(string(out))
}
