//go:build !windows

package main

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	psync "github.com/paperfs/paperfs/sync"
)

// writeConfig writes a config file and points PAPERFS_CONFIG at it.
func writeConfig(t *testing.T, text string, mode os.FileMode) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "config.json")
	if err := os.WriteFile(path, []byte(text), mode); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PAPERFS_CONFIG", path)
	for _, k := range []string{"PAPERFS_LIBRARY", "PAPERFS_DATA_DIR", "PAPERFS_MONGODB_URI", "PAPERFS_MONGODB_DATABASE"} {
		t.Setenv(k, "")
	}
	return path
}

// TestConfigWithoutLibraries: a config of before "libraries" resolves as
// it did: the library folder, its store where it was, its server.
func TestConfigWithoutLibraries(t *testing.T) {
	home := t.TempDir()
	t.Setenv("XDG_DATA_HOME", filepath.Join(home, "data"))
	lib := filepath.Join(home, "Papers")
	os.MkdirAll(lib, 0o755)
	writeConfig(t, `{"library": "`+lib+`", "mongodb": {"uri": "mongodb://u:p@host"}}`, 0o600)
	cfg, libDir, dataDir, err := resolve(&globalOptions{})
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(lib))
	want := filepath.Join(home, "data", "paperfs", "libraries", "Papers-"+hex.EncodeToString(sum[:4]))
	if libDir != lib || dataDir != want || cfg.MongoDB.URI != "mongodb://u:p@host" || cfg.MongoDB.Database != "paperfs" || cfg.libraryName() != "" {
		t.Errorf("resolved %s %s %+v, want %s %s", libDir, dataDir, cfg.MongoDB, lib, want)
	}
}

// TestConfigLibraries: --library takes a shared library by name (or its
// folder), with its own store and server; the personal one is unchanged.
func TestConfigLibraries(t *testing.T) {
	home := t.TempDir()
	lib, labLib, data := filepath.Join(home, "Papers"), filepath.Join(home, "Lab papers"), filepath.Join(home, "data")
	os.MkdirAll(lib, 0o755)
	os.MkdirAll(labLib, 0o755)
	writeConfig(t, `{"library": "`+lib+`", "data_dir": "`+data+`", "mongodb": {"uri": "mongodb://me@host", "database": "mine"},
		"libraries": [{"name": "lab", "library": "`+labLib+`", "mongodb": {"uri": "mongodb://me@lab"}, "member": "Ada"},
		              {"name": "group.2", "library": "`+labLib+`-2", "data_dir": "`+filepath.Join(home, "g2")+`"}]}`, 0o600)
	for _, arg := range []string{"lab", "LAB", labLib, labLib + "/"} {
		cfg, libDir, dataDir, err := resolve(&globalOptions{Library: arg})
		if err != nil {
			t.Fatalf("--library %s: %v", arg, err)
		}
		if libDir != labLib || dataDir != filepath.Join(data, "libraries", "lab") || cfg.libraryName() != "lab" ||
			cfg.MongoDB.URI != "mongodb://me@lab" || cfg.MongoDB.Database != "lab" || cfg.shared.Member != "Ada" {
			t.Errorf("--library %s: %s %s %+v", arg, libDir, dataDir, cfg.MongoDB)
		}
	}
	cfg, libDir, dataDir, err := resolve(&globalOptions{})
	if err != nil || libDir != lib || dataDir != data || cfg.MongoDB.Database != "mine" || cfg.libraryName() != "" {
		t.Errorf("personal: %s %s %+v %v", libDir, dataDir, cfg.MongoDB, err)
	}
	// A shared library's store is never the personal one's.
	cfg, _, _, _ = resolve(&globalOptions{})
	if d, err := cfg.forLibrary(&cfg.Libraries[1]).sharedDataDir(); err != nil || d != filepath.Join(home, "g2") {
		t.Errorf("group.2's data dir %s %v", d, err)
	}
	// Its folder must be there, as the personal one's.
	if _, _, _, err := resolve(&globalOptions{Library: "group.2"}); err == nil || !strings.Contains(err.Error(), "Lab papers-2") {
		t.Errorf("missing folder: %v", err)
	}
}

func TestConfigLibrariesRefused(t *testing.T) {
	for _, tc := range []struct{ text, want string }{
		{`{"libraries": [{"name": "my lab", "library": "/x"}]}`, `name "my lab"`},
		{`{"libraries": [{"name": "../x", "library": "/x"}]}`, `name "../x"`},
		{`{"libraries": [{"name": "", "library": "/x"}]}`, `name ""`},
		{`{"libraries": [{"name": "lab", "library": "/x"}, {"name": "Lab", "library": "/y"}]}`, `"Lab" is taken`},
		{`{"libraries": [{"name": "lab"}]}`, `(lab): no "library" folder`},
	} {
		path := writeConfig(t, tc.text, 0o600)
		_, err := loadConfig()
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: %v, want %q and the file", tc.text, err, tc.want)
		}
	}
	// Credentials of a shared library only: the file must be private.
	writeConfig(t, `{"libraries": [{"name": "lab", "library": "/x", "mongodb": {"uri": "mongodb://u:secret@lab"}}]}`, 0o644)
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "chmod 600") || strings.Contains(err.Error(), "secret") {
		t.Errorf("readable config with a library's URI: %v", err)
	}
}

// TestReadOnlyFromEngine: the view's read-only check asks the library's
// running engine (engineWritable, sync's Engine.Writable) and nothing
// without one; a refused login does not make the library read-only (edits
// are kept and sent once it works, as offline ones are).
func TestReadOnlyFromEngine(t *testing.T) {
	a := &app{}
	if err := a.readOnly(); err != nil {
		t.Errorf("no engine: %v", err)
	}
	eng := &psync.Engine{}
	a.syncing.Store(eng)
	why := error(&psync.AccessError{Database: "lab", Reason: "your database user may only read lab", Err: psync.ErrReadOnly})
	old := engineWritable
	t.Cleanup(func() { engineWritable = old })
	engineWritable = func(e *psync.Engine) error {
		if e != eng {
			t.Errorf("asked %p, not the library's engine %p", e, eng)
		}
		return why
	}
	if err := a.readOnly(); err != why {
		t.Errorf("read-only: %v", err)
	}
	why = &psync.AccessError{Database: "lab", Reason: "the server refused the login", Err: psync.ErrAuth}
	if err := a.readOnly(); err != nil {
		t.Errorf("refused login: %v, want writable", err)
	}
}
