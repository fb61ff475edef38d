package main

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfs/paperfs/meta/atomicfile"
	"github.com/paperfs/paperfs/meta/fulldisk"
)

// TestStatusFileFullDisk: writing status.json on a full disk fails with
// ENOSPC and leaves no temporary file behind; the old copy stays.
func TestStatusFileFullDisk(t *testing.T) {
	dir := fulldisk.Mount(t, 64<<10)
	path := statusPath(dir)
	if err := atomicfile.WriteJSON(path, map[string]string{"v": "old"}); err != nil {
		t.Fatal(err)
	}
	defer fulldisk.Fill(t, dir)()
	err := atomicfile.WriteJSON(path, map[string]string{"v": strings.Repeat("x", 64<<10)})
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v", err)
	}
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if strings.Contains(e.Name(), ".tmp") {
			t.Fatalf("%s left behind beside %s", e.Name(), filepath.Base(path))
		}
	}
	if b, _ := os.ReadFile(path); !strings.Contains(string(b), "old") {
		t.Fatalf("old status lost: %q", b)
	}
}
