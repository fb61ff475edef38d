//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

// TestStatusFolderUnavailable: when the library folder is gone (a cloud
// drive unmounted), status says so, in text and JSON, and says the
// papers are kept.
func TestStatusFolderUnavailable(t *testing.T) {
	dir := t.TempDir()
	libDir := filepath.Join(dir, "library")
	if err := os.MkdirAll(libDir, 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := meta.Open(filepath.Join(dir, "data", "meta.db"), meta.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lib, err := library.Open(libDir, store, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	a := &app{log: log, dataDir: filepath.Join(dir, "data"), store: store, lib: lib}

	st, err := collectStatus(a)
	if err != nil {
		t.Fatal(err)
	}
	var out strings.Builder
	printStatus(&out, st)
	if strings.Contains(out.String(), "UNAVAILABLE") {
		t.Fatalf("an available folder reported unavailable:\n%s", out.String())
	}

	if err := os.Rename(libDir, libDir+".away"); err != nil {
		t.Fatal(err)
	}
	if _, err := lib.Scan(context.Background(), nil); !errors.Is(err, library.ErrUnavailable) {
		t.Fatalf("scan of a vanished folder: %v", err)
	}
	if st, err = collectStatus(a); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	printStatus(&out, st)
	for _, want := range []string{"UNAVAILABLE since", "papers are kept"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("status does not say %q:\n%s", want, out.String())
		}
	}
	// A mount publishes it in status.json, which status reads back.
	b, _ := json.Marshal(st)
	var back Status
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Folder.Available || back.Folder.Since.IsZero() || back.Folder.Reason == "" {
		t.Errorf("library_folder in JSON: %s", b)
	}
}
