// Package testutil holds the helpers the tests of several packages share:
// the real-mount opt-out, waiting for a condition another process or the
// kernel makes true, small PDFs and a throwaway store. Only tests import it.
package testutil

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// SkipWithoutFUSE skips a real-mount test when PAPERFS_SKIP_FUSE=1, and
// says so loudly. It is the only way to skip one: CI has /dev/fuse and root.
func SkipWithoutFUSE(t testing.TB) {
	t.Helper()
	if os.Getenv("PAPERFS_SKIP_FUSE") == "1" {
		t.Skip("PAPERFS_SKIP_FUSE=1: SKIPPING REAL-MOUNT TEST")
	}
}

// Need fails the test when a program it drives is missing: scripts/test
// installs them (scripts/test-deps), so a missing one is a broken setup,
// not a reason to skip.
func Need(t testing.TB, progs ...string) {
	t.Helper()
	for _, p := range progs {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("%s is not installed: run scripts/test-deps (or scripts/test)", p)
		}
	}
}

// Eventually checks cond every interval until it holds, and fails the test
// after timeout with what and, if given, logs() (a child's output).
//
// It is for conditions that another process or the kernel makes true and
// that send this process no event: a file showing in a mount, a status
// line another process writes, a kernel notification taking effect. The
// sleep between checks is the poll interval, not a guess at how long the
// thing takes; the timeout only bounds a failing test.
func Eventually(t testing.TB, every, timeout time.Duration, what string, logs func() string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			msg := ""
			if logs != nil {
				msg = logs()
			}
			t.Fatalf("timed out after %s waiting for %s\n%s", timeout, what, msg)
		}
		time.Sleep(every)
	}
}

// WritePDF writes a minimal file a scan takes for a PDF ("%PDF-1.4\n" and
// body; a different body is a different paper), making its folder.
func WritePDF(t testing.TB, path, body string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("%PDF-1.4\n"+body), 0o644); err != nil {
		t.Fatal(err)
	}
}

// OpenStore opens an empty store in a temporary folder (no fsync: the
// test's data is thrown away) and closes it when the test ends.
func OpenStore(t testing.TB) *meta.Store {
	t.Helper()
	s, err := meta.Open(filepath.Join(t.TempDir(), "meta.db"), meta.Options{NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
