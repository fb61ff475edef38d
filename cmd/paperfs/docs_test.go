//go:build !windows

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

func TestDocs(t *testing.T) {
	dir := t.TempDir()
	c := exec.Command(binary, "__docs", dir)
	c.Env = append(os.Environ(), "SOURCE_DATE_EPOCH=1764806400")
	if out, err := c.CombinedOutput(); err != nil {
		t.Fatalf("paperfs __docs: %v %s", err, out)
	}
	read := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(dir, rel))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	root := read("man/paperfs.1")
	for _, want := range []string{`.TH "PAPERFS" "1" "Dec 2025" "paperfs devel" "paperfs manual"`, "--version", "paperfs-mount(1)"} {
		if !strings.Contains(root, want) {
			t.Errorf("paperfs.1 lacks %q:\n%s", want, root)
		}
	}
	// <tag> would be taken for HTML and vanish from the page.
	if mount := read("man/paperfs-mount.1"); !strings.Contains(mount, "tags/<tag>/") {
		t.Errorf("paperfs-mount.1 lost tags/<tag>/:\n%s", mount)
	}
	if _, err := os.Stat(filepath.Join(dir, "man/paperfs-__docs.1")); err == nil {
		t.Error("a man page for the hidden __docs command")
	}
	for file, want := range map[string]string{
		"completions/paperfs.bash": "__start_paperfs",
		"completions/_paperfs":     "#compdef paperfs",
		"completions/paperfs.fish": "complete -c paperfs",
	} {
		if !strings.Contains(read(file), want) {
			t.Errorf("%s lacks %q", file, want)
		}
	}
}
