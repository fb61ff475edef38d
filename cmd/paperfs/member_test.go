//go:build !windows

package main

import (
	"os"
	"path/filepath"
	"testing"
)

// Each library's changes go by its own member: its display name, else
// its database user; the personal library's display name is its own.
func TestLibraryMembers(t *testing.T) {
	home := t.TempDir()
	lib, labLib, groupLib := filepath.Join(home, "Papers"), filepath.Join(home, "Lab"), filepath.Join(home, "Group")
	for _, d := range []string{lib, labLib, groupLib} {
		os.MkdirAll(d, 0o755)
	}
	writeConfig(t, `{"library": "`+lib+`", "member": "Ada L.", "mongodb": {"uri": "mongodb://ada:pw@host"},
		"libraries": [{"name": "lab", "library": "`+labLib+`", "mongodb": {"uri": "mongodb://ada.lab:pw@lab"}, "member": "Ada Lovelace"},
		              {"name": "group", "library": "`+groupLib+`", "mongodb": {"uri": "mongodb+srv://alovelace:pw@group.example.net/"}}]}`, 0o600)
	for lib, want := range map[string]string{"": "Ada L.", "lab": "Ada Lovelace", "group": "alovelace"} {
		cfg, _, _, err := resolve(&globalOptions{Library: lib})
		if err != nil {
			t.Fatal(err)
		}
		if got := memberName(cfg.Member, cfg.MongoDB.URI); got != want {
			t.Errorf("library %q: member %q, want %q", lib, got, want)
		}
	}
}
