//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"
)

// TestMountSharedLibrary: with a shared library in the config, one mount
// shows it under shared/lab/ beside the personal library; cp of its PDF
// into a tag of mine imports it into my folder with the lab's tags;
// status lists both; commands take the library by name, beside the mount.
func TestMountSharedLibrary(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	e := newEnv(t)
	labLib := filepath.Join(t.TempDir(), "Lab papers")
	os.MkdirAll(e.dat, 0o700)
	// gone's folder is not there (a share not mounted): the others are
	// served all the same.
	gone := filepath.Join(t.TempDir(), "gone")
	cfg := `{"libraries": [{"name": "lab", "library": "` + labLib + `"}, {"name": "gone", "library": "` + gone + `"}]}`
	if err := os.WriteFile(filepath.Join(e.dat, "none.json"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.WritePDF(t, filepath.Join(labLib, "attention.pdf"), "attention")
	testutil.WritePDF(t, filepath.Join(e.lib, "mine.pdf"), "mine")
	e.run("--library", "lab", "scan")
	e.run("scan")
	if _, err := os.Stat(filepath.Join(e.dat, "libraries", "lab", "meta.db")); err != nil {
		t.Fatalf("the lab's store is not in <data dir>/libraries/lab: %v", err)
	}

	m := startMount(t, e)
	at := func(rel string) string { return filepath.Join(m.dir, filepath.FromSlash(rel)) }
	labAll, err := os.ReadDir(at("shared/lab/all"))
	if err != nil {
		t.Fatalf("shared/lab/all: %v\n%s", err, m.log())
	}
	var pdf string
	for _, e := range labAll {
		if strings.HasSuffix(e.Name(), ".pdf") {
			pdf = e.Name()
		}
	}
	if pdf == "" {
		t.Fatalf("shared/lab/all lists no PDF: %v", labAll)
	}
	// Tag it in the lab, then copy it into a tag of mine.
	for _, c := range [][]string{
		{"mkdir", at("shared/lab/tags/transformers"), at("tags/foo")},
		{"ln", at("shared/lab/all/" + pdf), at("shared/lab/tags/transformers/")},
		{"cp", at("shared/lab/all/" + pdf), at("tags/foo/")},
	} {
		if out, err := exec.Command(c[0], c[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%v: %v %s\n%s", c, err, out, m.log())
		}
	}
	testutil.Eventually(t, 50*time.Millisecond, 20*time.Second, "the copy imported with the lab's tags", m.log, func() bool {
		_, err := os.Stat(at("tags/transformers/" + pdf))
		return err == nil
	})
	if mine, _ := filepath.Glob(filepath.Join(e.lib, "*.pdf")); len(mine) != 2 {
		t.Errorf("my library folder holds %v", mine)
	}

	// status lists both libraries; --library lab is the lab's, run beside
	// the mount.
	// (The mount publishes its status a moment after a change.)
	var st Status
	testutil.Eventually(t, 100*time.Millisecond, 10*time.Second, "status to list both libraries", func() string { return fmt.Sprintf("%+v", st.Libraries) }, func() bool {
		st = Status{}
		if err := json.Unmarshal([]byte(e.run("status", "--json")), &st); err != nil {
			t.Fatal(err)
		}
		return len(st.Libraries) == 3 && st.Libraries[0].Name == "" && st.Libraries[0].Papers == 2 &&
			st.Libraries[1].Name == "lab" && st.Libraries[1].Papers == 1 && st.Libraries[1].Mounted == at("shared/lab") &&
			st.Libraries[2].Name == "gone" && strings.Contains(st.Libraries[2].Problem, gone)
	})
	if got, err := os.ReadDir(at("shared")); err != nil || len(got) != 1 || got[0].Name() != "lab" {
		t.Errorf("shared/ lists %v %v", got, err)
	}
	if !strings.Contains(m.log(), "the shared library cannot be served; the others are") {
		t.Errorf("no word of the library left out:\n%s", m.log())
	}
	if out := e.run("status"); !strings.Contains(out, "libraries: 3") || !strings.Contains(out, labLib) || !strings.Contains(out, "not available") {
		t.Errorf("status:\n%s", out)
	}
	if err := json.Unmarshal([]byte(e.run("--library", "lab", "status", "--json")), &st); err != nil || st.Library != labLib || st.Papers != 1 {
		t.Errorf("status --library lab: %+v %v", st, err)
	}
	var bib []map[string]any
	if err := json.Unmarshal([]byte(e.run("--library", "lab", "export", "--format", "csl-json")), &bib); err != nil || len(bib) != 1 {
		t.Errorf("export --library lab: %v %v", bib, err)
	}
	if out := e.run("--library", labLib, "trash", "list"); strings.Contains(out, "mine") {
		t.Errorf("trash list of the lab by its folder: %s", out)
	}
	if slices.Contains(strings.Fields(e.run("--library", "lab", "export")), "mine") {
		t.Error("the lab's export holds my paper")
	}
}
