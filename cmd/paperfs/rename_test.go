//go:build !windows

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta/testutil"
)

// listTree lists the library folder's files, relative.
func listTree(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(root, p)
			out = append(out, rel)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// Issue 17: scan and status report names a cloud drive refuses, rename
// --dry-run lists what rename then does, and afterwards every PDF has a
// portable name.
func TestRenameToPortableNames(t *testing.T) {
	e := newEnv(t)
	for _, rel := range []string{"Antons et al. 2013 - Did You Notice? x.pdf", "a:b/c.pdf", "CON.pdf", "ok.pdf"} {
		testutil.WritePDF(t, filepath.Join(e.lib, filepath.FromSlash(rel)), rel)
	}
	os.WriteFile(filepath.Join(e.lib, "notes: x.txt"), []byte("mine"), 0o644)
	out := e.run("scan")
	if !strings.Contains(out, "4 names in the library folder a cloud drive refuses") ||
		!strings.Contains(out, `"CON.pdf" is the Windows device name CON`) || !strings.Contains(out, `"notes: x.txt" holds ":"`) {
		t.Fatalf("scan: %s", out)
	}
	out = e.run("status")
	if !strings.Contains(out, "names:     3 PDFs have names a cloud drive refuses") || !strings.Contains(out, `"a:b/c.pdf" is in the folder "a:b", whose name holds ":"`) {
		t.Fatalf("status: %s", out)
	}
	before := listTree(t, e.lib)
	out = e.run("rename", "--dry-run")
	for _, want := range []string{"would rename 3 PDFs:",
		`"Antons et al. 2013 - Did You Notice? x.pdf" -> "Antons et al. 2013 - Did You Notice x.pdf"`,
		`"a:b/c.pdf" -> "a-b/c.pdf"`, `"CON.pdf" -> "CON_.pdf"`,
		"1 names a cloud drive refuses are no paper's PDF", `"notes: x.txt" holds ":"`} {
		if !strings.Contains(out, want) {
			t.Fatalf("rename --dry-run: no %q in\n%s", want, out)
		}
	}
	if strings.Contains(out, "ok.pdf") {
		t.Errorf("dry run lists a portable name:\n%s", out)
	}
	if after := listTree(t, e.lib); !slices.Equal(before, after) {
		t.Fatalf("the dry run changed the folder: %q -> %q", before, after)
	}
	out = e.run("rename")
	if !strings.Contains(out, "renamed 3 PDFs:") || !strings.Contains(out, `"a:b/c.pdf" -> "a-b/c.pdf"`) {
		t.Fatalf("rename: %s", out)
	}
	want := []string{"Antons et al. 2013 - Did You Notice x.pdf", "CON_.pdf", "a-b/c.pdf", "notes: x.txt", "ok.pdf"}
	if got := listTree(t, e.lib); !slices.Equal(got, want) {
		t.Fatalf("folder %q, want %q", got, want)
	}
	var st Status
	if err := json.Unmarshal([]byte(e.run("status", "--json")), &st); err != nil || st.Papers != 4 || len(st.Refused) != 0 || len(st.Missing) != 0 {
		t.Fatalf("status after rename: %+v %v", st, err)
	}
	if out := e.run("status"); !strings.Contains(out, "names:     every PDF's name is one OneDrive and Dropbox accept") {
		t.Fatalf("status after rename: %s", out)
	}
	if out := e.run("rename"); !strings.Contains(out, "renamed 0 PDFs") {
		t.Fatalf("second rename: %s", out)
	}
}
