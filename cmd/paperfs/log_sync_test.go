//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta/testutil"
	"github.com/paperfs/paperfs/sync/synctest"
)

// Two devices through FerretDB: each one's log names the member who made
// the other's changes, a display name from the config on one, the device
// name on the other (its MongoDB URI has no user).
func TestLogThroughServer(t *testing.T) {
	srv := synctest.Start(t)
	db := "log"
	a := newDevice(t, "a", srv.URI, db)
	b := newDevice(t, "b", srv.URI, db)
	if err := os.MkdirAll(a.dat, 0o700); err != nil {
		t.Fatal(err)
	}
	// a.cmd reads its config from there.
	if err := os.WriteFile(filepath.Join(a.dat, "none.json"), []byte(`{"member": "Ada Lovelace"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, d := range []*device{a, b} { // the cloud drive brings the PDFs to both
		for _, n := range []string{"one", "two", "three"} {
			testutil.WritePDF(t, filepath.Join(d.lib, n+".pdf"), n)
		}
	}
	a.run("sync", "--device-name", "ada-desktop")
	a.run("scan")
	two := mergedID(t, a.run("merge", "--force", filepath.Join(a.lib, "one.pdf"), filepath.Join(a.lib, "two.pdf")))
	a.run("sync")
	b.run("sync", "--device-name", "bob-laptop")
	three := mergedID(t, b.run("merge", "--force", filepath.Join(b.lib, "one.pdf"), filepath.Join(b.lib, "three.pdf")))
	b.run("sync")
	a.run("sync")

	for _, c := range []struct {
		d        *device
		ada, bob string // how the log names each member's changes on d
	}{{a, "Ada Lovelace (this device, ", "bob-laptop (device bob-laptop, "}, {b, "Ada Lovelace (device ada-desktop, ", "bob-laptop (this device, "}} {
		merged := "    merged_into: (none) -> \""
		out := c.d.run("log", two)
		if !strings.Contains(out, c.ada) || strings.Contains(out, "bob-laptop") || !strings.Contains(out, merged) || !addedBy(out, c.ada) {
			t.Errorf("%s: log of two, added and merged by Ada:\n%s", c.d.name, out)
		}
		out = c.d.run("log", three)
		if !addedBy(out, c.ada) || !strings.Contains(out, c.bob) || !strings.Contains(out, merged) ||
			strings.Index(out, c.bob) > strings.Index(out, c.ada) {
			t.Errorf("%s: log of three, added by Ada, merged by Bob:\n%s", c.d.name, out)
		}
		lib := c.d.run("log")
		if !strings.Contains(lib, c.ada) || !strings.Contains(lib, c.bob) {
			t.Errorf("%s: the library's log lacks %q or %q:\n%s", c.d.name, c.ada, c.bob, lib)
		}
	}
}

// mergedID is the id of the paper merged away, from merge's "merged OTHER
// into KEEP".
func mergedID(t *testing.T, out string) string {
	t.Helper()
	f := strings.Fields(out)
	if len(f) < 4 || f[0] != "merged" || f[2] != "into" {
		t.Fatalf("merge said %q", out)
	}
	return f[1]
}

// addedBy says a paper's log ends with its creation by who.
func addedBy(log, who string) bool {
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	return len(lines) >= 2 && strings.Contains(lines[len(lines)-2], who) && lines[len(lines)-1] == "    added the paper"
}
