//go:build linux

package main

import (
	"debug/elf"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
)

// TestReleaseDeb builds the release of this machine's architecture with
// scripts/release, installs its .deb with dpkg -i (as CI does, as root)
// and checks what a user gets: paperfs on PATH saying its version and
// commit, a static binary, man pages, completions, and a systemd user unit
// that systemd-analyze accepts. The package is removed afterwards.
// PAPERFS_SKIP_DEB=1 is the explicit opt-out.
func TestReleaseDeb(t *testing.T) {
	if os.Getenv("PAPERFS_SKIP_DEB") == "1" {
		t.Skip("PAPERFS_SKIP_DEB=1: SKIPPING THE .deb INSTALL TEST")
	}
	if os.Geteuid() != 0 {
		t.Fatal("installing the .deb needs root (as in CI); PAPERFS_SKIP_DEB=1 skips this test")
	}
	if out, err := exec.Command("dpkg-query", "-W", "-f=${Status}", "paperfs").Output(); err == nil && strings.Contains(string(out), "installed") {
		t.Fatalf("a paperfs package is installed on this machine (%s); the test would replace and remove it", out)
	}
	dist := t.TempDir()
	const version = "v1.2.3-test"
	rel := exec.Command("../../scripts/release", "-o", dist, "-v", version, "linux/"+runtime.GOARCH)
	if out, err := rel.CombinedOutput(); err != nil {
		t.Fatalf("scripts/release: %v\n%s", err, out)
	}
	sums := exec.Command("sha256sum", "-c", "SHA256SUMS")
	sums.Dir = dist
	if out, err := sums.CombinedOutput(); err != nil || strings.Count(string(out), ": OK") != 2 {
		t.Errorf("sha256sum -c SHA256SUMS: %v\n%s", err, out)
	}

	deb := filepath.Join(dist, "paperfs_1.2.3+test_"+runtime.GOARCH+".deb")
	if out, err := dpkg("-i", deb); err != nil {
		t.Fatalf("dpkg -i %s: %v\n%s", deb, err, out)
	}
	t.Cleanup(func() {
		if out, err := dpkg("-r", "paperfs"); err != nil {
			t.Errorf("dpkg -r paperfs: %v\n%s", err, out)
		}
		if _, err := os.Stat("/usr/bin/paperfs"); err == nil {
			t.Error("/usr/bin/paperfs is left after dpkg -r")
		}
	})

	head := strings.TrimSpace(run(t, "git", "rev-parse", "HEAD"))
	if out := run(t, "paperfs", "--version"); !strings.HasPrefix(out, "paperfs "+version+", commit "+head+" (go") {
		t.Errorf("paperfs --version: %q, want version %s and commit %s", out, version, head)
	}
	if path, err := exec.LookPath("paperfs"); err != nil || path != "/usr/bin/paperfs" {
		t.Errorf("paperfs on PATH: %q %v", path, err)
	}
	// Static: no program interpreter (dynamic loader) to find.
	f, err := elf.Open("/usr/bin/paperfs")
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("/usr/bin/paperfs is dynamically linked")
		}
	}
	f.Close()

	for _, page := range []string{"paperfs", "paperfs-mount", "paperfs-import"} {
		if out, err := exec.Command("man", "-w", page).CombinedOutput(); err != nil || !strings.HasPrefix(string(out), "/usr/share/man/man1/"+page+".1") {
			t.Errorf("man -w %s: %v %s (a dpkg path-exclude for /usr/share/man drops man pages)", page, err, out)
		}
	}
	if out := run(t, "bash", "-c", "source /usr/share/bash-completion/completions/paperfs && complete -p paperfs"); !strings.Contains(out, "paperfs") {
		t.Errorf("bash completion: %q", out)
	}
	for _, f := range []string{"/usr/share/zsh/vendor-completions/_paperfs", "/usr/share/fish/vendor_completions.d/paperfs.fish"} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}

	// The user unit: systemd-analyze checks its syntax, that ExecStart's
	// program exists and that the man pages it names are installed. Any
	// warning fails the test.
	runtimeDir := t.TempDir()
	os.Chmod(runtimeDir, 0o700)
	verify := exec.Command("systemd-analyze", "--user", "verify", "/usr/lib/systemd/user/paperfs.service")
	verify.Env = append(os.Environ(), "XDG_RUNTIME_DIR="+runtimeDir)
	if out, err := verify.CombinedOutput(); err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze --user verify paperfs.service: %v\n%s", err, out)
	}
}

// dpkg runs dpkg once no other package manager runs: it waits for the
// frontend lock that apt and dpkg take, as apt does, and tells dpkg it has
// it.
func dpkg(args ...string) ([]byte, error) {
	f, err := os.OpenFile("/var/lib/dpkg/lock-frontend", os.O_RDWR|os.O_CREATE, 0o640)
	if err != nil {
		return nil, err
	}
	defer f.Close() // releases the lock
	lock := syscall.Flock_t{Type: syscall.F_WRLCK, Whence: io.SeekStart}
	if err := syscall.FcntlFlock(f.Fd(), syscall.F_SETLKW, &lock); err != nil {
		return nil, fmt.Errorf("waiting for the dpkg frontend lock: %w", err)
	}
	c := exec.Command("dpkg", args...)
	c.Env = append(os.Environ(), "DPKG_FRONTEND_LOCKED=1")
	return c.CombinedOutput()
}

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}
