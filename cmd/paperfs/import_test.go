//go:build !windows

package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// makePDF makes a one-page PDF: a large title, then smaller lines, with
// the given Info dictionary, the way a paper's first page looks to the
// extractor.
func makePDF(title string, lines []string, info map[string]string) []byte {
	var content strings.Builder
	fmt.Fprintf(&content, "BT /F1 20 Tf 72 700 Td (%s) Tj ET\n", testutil.EscapePDF(title))
	for i, l := range lines {
		fmt.Fprintf(&content, "BT /F1 10 Tf 72 %d Td (%s) Tj ET\n", 660-14*i, testutil.EscapePDF(l))
	}
	return testutil.PDF{Info: info, Pages: []string{content.String()}}.Bytes()
}

func writeFile(t *testing.T, path string, data []byte) {
	t.Helper()
	os.MkdirAll(filepath.Dir(path), 0o755)
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestImportIdentifiersAndPattern imports real PDFs through the binary:
// metadata comes from the page, a second file of the same paper (same DOI
// or arXiv id, other bytes) is reported and skipped, and files are named by
// the pattern from the config file, overridden by --name-pattern.
func TestImportIdentifiersAndPattern(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	writeFile(t, filepath.Join(src, "paper (3).pdf"), makePDF("Harvest, Yield, and Scalable Tolerant Systems",
		[]string{"Armando Fox and Eric A. Brewer", "Published 1999. doi:10.1109/HOTOS.1999.798396"}, nil))
	writeFile(t, filepath.Join(src, "1706.03762v5.pdf"), makePDF("Attention Is All You Need",
		[]string{"Ashish Vaswani, Noam Shazeer", "arXiv:1706.03762v5 [cs.CL] 6 Dec 2017"}, nil))
	os.WriteFile(filepath.Join(e.dat+"-cfg.json"), []byte(`{"import": {"name_pattern": "{year}/{author} - {title}"}}`), 0o600)
	cmd := func(args ...string) string {
		t.Helper()
		c := e.cmd(args...)
		c.Env = append(c.Env, "PAPERFS_CONFIG="+e.dat+"-cfg.json")
		out, err := c.CombinedOutput()
		if err != nil {
			t.Fatalf("paperfs %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	out := cmd("import", src)
	if !strings.Contains(out, "imported 2, duplicates skipped 0, errors 0, extraction failures 0") {
		t.Fatalf("import: %s", out)
	}
	for _, want := range []string{"1999/Fox - Harvest, Yield, and Scalable Tolerant Systems.pdf", "2017/Vaswani - Attention Is All You Need.pdf"} {
		if _, err := os.Stat(filepath.Join(e.lib, want)); err != nil {
			t.Errorf("not named by the config's pattern: %v", err)
		}
	}

	// The same papers again, as other files: a journal version with the
	// same DOI, arXiv v1 of the same preprint.
	again := t.TempDir()
	writeFile(t, filepath.Join(again, "fox-brewer.pdf"), makePDF("Harvest, Yield, and Scalable Tolerant Systems",
		[]string{"Armando Fox and Eric A. Brewer", "In Proc. HotOS VII", "doi:10.1109/HOTOS.1999.798396."}, nil))
	writeFile(t, filepath.Join(again, "attention-v1.pdf"), makePDF("Attention Is All You Need",
		[]string{"Ashish Vaswani", "arXiv:1706.03762v1 [cs.CL] 12 Jun 2017"}, nil))
	writeFile(t, filepath.Join(again, "new.pdf"), makePDF("Paxos Made Moderately Complex",
		[]string{"Robbert van Renesse, Deniz Altinbuken", "Copyright 2015 ACM"}, nil))
	out = cmd("import", "--name-pattern", "{citekey}", again)
	if !strings.Contains(out, "imported 1, duplicates skipped 2") ||
		!strings.Contains(out, "fox-brewer.pdf: same DOI 10.1109/hotos.1999.798396 as paper") ||
		!strings.Contains(out, "attention-v1.pdf: same arXiv 1706.03762 as paper") {
		t.Fatalf("second import: %s", out)
	}
	if _, err := os.Stat(filepath.Join(e.lib, "renesse2015paxos.pdf")); err != nil {
		var names []string
		filepath.WalkDir(e.lib, func(p string, _ os.DirEntry, _ error) error { names = append(names, p); return nil })
		t.Errorf("--name-pattern not used: %v\n%s\n%q", err, out, names)
	}
	if out, err := e.cmd("import", "--name-pattern", "../{title}", again).CombinedOutput(); err == nil || !strings.Contains(string(out), "leaves the folder") {
		t.Errorf("bad pattern: %v %s", err, out)
	}
}

// TestImportSIGINT interrupts `paperfs import` with a real SIGINT partway
// through, then checks the library is consistent (every PDF in the folder
// recorded, no temporary files) and that the same command completes it.
func TestImportSIGINT(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	const n = 300
	for i := range n {
		writeFile(t, filepath.Join(src, fmt.Sprintf("paper%03d.pdf", i)),
			makePDF(fmt.Sprintf("Paper Number %d on Interrupted Imports", i), []string{"Ann Author"}, nil))
	}
	c := e.cmd("import", src)
	var out bytes.Buffer
	c.Stdout, c.Stderr = &out, &out
	// Its own process group, which gets the SIGINT as a terminal's
	// foreground job does: the extraction workers get it too.
	c.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until some files are in, then press Ctrl-C. The import is
	// another process: the test polls the library folder it fills.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		ents, _ := os.ReadDir(e.lib)
		if len(ents) >= 20 {
			break
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			t.Fatalf("no files imported in 30 s")
		}
	}
	if err := syscall.Kill(-c.Process.Pid, syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	err := c.Wait()
	if err == nil || !strings.Contains(out.String(), "import interrupted") {
		t.Fatalf("import not interrupted (%v):\n%s", err, out.String())
	}
	ents, _ := os.ReadDir(e.lib)
	if len(ents) >= n {
		t.Fatalf("import finished before the signal; %d files", len(ents))
	}
	for _, en := range ents {
		if strings.HasPrefix(en.Name(), ".") {
			t.Errorf("left behind: %s", en.Name())
		}
	}
	// Every file in the folder is a paper: a scan finds nothing new.
	if got := e.run("scan"); !strings.Contains(got, fmt.Sprintf("%d PDFs: 0 new", len(ents))) {
		t.Fatalf("after the interrupt, %d files; scan: %s", len(ents), got)
	}
	got := e.run("import", src)
	if !strings.Contains(got, fmt.Sprintf("imported %d, duplicates skipped %d, errors 0", n-len(ents), len(ents))) {
		t.Fatalf("rerun after %d files: %s", len(ents), got)
	}
	if got := e.run("scan"); !strings.Contains(got, fmt.Sprintf("%d PDFs: 0 new", n)) {
		t.Fatalf("after the rerun: %s", got)
	}
	s, err := meta.Open(filepath.Join(e.dat, "meta.db"), meta.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// Each has its title from the page, none the file name of a worker
	// the SIGINT killed.
	titles := map[string]bool{}
	s.ForEach(func(p meta.Paper) bool {
		titles[p.Title] = true
		if !strings.HasPrefix(p.Title, "Paper Number") {
			t.Errorf("%s: title %q", p.File.Path, p.Title)
		}
		return true
	})
	if len(titles) != n {
		t.Errorf("%d distinct papers, want %d", len(titles), n)
	}
	t.Logf("interrupted after %d of %d files", len(ents), n)
}

// An import where some files fail exits non-zero and says why each did, in
// plain words; the good files are imported all the same (issue 17).
func TestImportFailuresExitNonZero(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	testutil.WritePDF(t, filepath.Join(src, "good.pdf"), "g")
	os.WriteFile(filepath.Join(src, "notes.pdf"), []byte("just text"), 0o644)
	os.Symlink(filepath.Join(src, "good.pdf"), filepath.Join(src, "link.pdf"))
	out, err := e.cmd("import", src).CombinedOutput()
	if err == nil {
		t.Fatalf("import with failures exited 0:\n%s", out)
	}
	for _, want := range []string{"imported 1,", "errors 2", "notes.pdf: not a PDF", "link.pdf: skipped: a symbolic link", "2 of the files given were not imported"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}
