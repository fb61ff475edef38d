package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfs/paperfs/internal/fulldisk"
)

// TestStatusFileFullDisk: writing status.json on a full disk fails with
// ENOSPC and leaves no status.json.tmp behind; the old copy stays.
func TestStatusFileFullDisk(t *testing.T) {
	dir := fulldisk.Mount(t, 64<<10)
	path := statusPath(dir)
	if err := writeJSONAtomic(path, map[string]string{"v": "old"}); err != nil {
		t.Fatal(err)
	}
	defer fulldisk.Fill(t, dir)()
	err := writeJSONAtomic(path, map[string]string{"v": strings.Repeat("x", 64<<10)})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v", err)
	}
	if _, err := os.Stat(path + ".tmp"); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("%s left behind: %v", filepath.Base(path)+".tmp", err)
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "old") {
		t.Fatalf("old status lost: %q", b)
	}
}
