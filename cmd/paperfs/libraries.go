package main

import (
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
)

// LibraryConfig is an entry of the config's "libraries": a library shared
// with others, served under shared/<name>/ of the mount and named by
// --library NAME in commands. The personal library ("library",
// "mongodb" at the top) stays as it is.
//
//	"libraries": [{"name": "lab", "library": "~/OneDrive/Lab papers",
//	  "mongodb": {"uri": "mongodb+srv://me:PASSWORD@lab.example.net", "database": "lab"},
//	  "member": "Ada"}]
type LibraryConfig struct {
	// Name names the library: its directory in shared/, --library NAME.
	// Letters, digits, '.', '_' and '-', starting with a letter or digit,
	// unique without regard to case (a portable directory name).
	Name string `json:"name"`
	// Library is its folder of PDFs, often a folder shared on a cloud
	// drive.
	Library string `json:"library"`
	// DataDir is where this device keeps its store; default
	// <data_dir>/libraries/<name> beside the personal library's store
	// when data_dir is set, else $XDG_DATA_HOME/paperfs/shared/<name>.
	DataDir string `json:"data_dir,omitempty"`
	MongoDB struct {
		URI string `json:"uri,omitempty"`
		// Database defaults to the library's name.
		Database string `json:"database,omitempty"`
	} `json:"mongodb"`
	// Member is the name this device's changes are shown under to the
	// others (default: the database user).
	Member string `json:"member,omitempty"`
	// Subscribe is the part of this library the device holds
	// (cmd_subscribe.go).
	Subscribe SubscribeConfig `json:"subscribe,omitzero"`
}

var libraryName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

// checkLibraries checks the "libraries" entries: each named portably and
// uniquely, with a folder.
func checkLibraries(ls []LibraryConfig) error {
	seen := map[string]bool{}
	for i, l := range ls {
		switch {
		case !libraryName.MatchString(l.Name):
			return fmt.Errorf("\"libraries\"[%d]: name %q: use letters, digits, '.', '_' and '-' (at most 64, starting with a letter or digit): it names a directory in shared/ on every system", i, l.Name)
		case seen[strings.ToLower(l.Name)]:
			return fmt.Errorf("\"libraries\"[%d]: the name %q is taken by another library (names differ by more than case)", i, l.Name)
		case l.Library == "":
			return fmt.Errorf("\"libraries\"[%d] (%s): no \"library\" folder", i, l.Name)
		}
		seen[strings.ToLower(l.Name)] = true
	}
	return nil
}

func librariesHoldURI(ls []LibraryConfig) bool {
	for _, l := range ls {
		if l.MongoDB.URI != "" {
			return true
		}
	}
	return false
}

// library finds the shared library that name or folder stands for: its
// name, or its folder as typed or resolved. Nil: the personal library.
func (c *Config) library(nameOrFolder string) *LibraryConfig {
	for i := range c.Libraries {
		if strings.EqualFold(c.Libraries[i].Name, nameOrFolder) {
			return &c.Libraries[i]
		}
	}
	if !strings.ContainsRune(nameOrFolder, filepath.Separator) && !strings.HasPrefix(nameOrFolder, ".") && !strings.HasPrefix(nameOrFolder, "~") {
		return nil // a bare word is a name, or a folder of the working directory
	}
	abs := absPath(expandHome(nameOrFolder))
	for i := range c.Libraries {
		if sameDir(absPath(expandHome(c.Libraries[i].Library)), abs) {
			return &c.Libraries[i]
		}
	}
	return nil
}

// forLibrary is the config as a command on the shared library l sees it:
// l's folder, store and server, the rest as the personal library's.
func (c *Config) forLibrary(l *LibraryConfig) *Config {
	out := *c
	out.shared = l
	out.Library = l.Library
	out.Subscribe = l.Subscribe
	out.MongoDB.URI, out.MongoDB.Database = l.MongoDB.URI, l.MongoDB.Database
	out.Member = l.Member // the personal library's display name is for it alone
	if out.MongoDB.Database == "" {
		out.MongoDB.Database = l.Name
	}
	return &out
}

// libraryName is the name of the library c is for: "" for the personal
// one.
func (c *Config) libraryName() string {
	if c.shared == nil {
		return ""
	}
	return c.shared.Name
}

// sharedDataDir is where a shared library's store lives.
func (c *Config) sharedDataDir() (string, error) {
	l := c.shared
	switch {
	case l.DataDir != "":
		return l.DataDir, nil
	case c.DataDir != "":
		return filepath.Join(expandHome(c.DataDir), "libraries", l.Name), nil
	}
	base, err := dataHome()
	if err != nil {
		return "", fmt.Errorf("the library %s: %w", l.Name, err)
	}
	return filepath.Join(base, "paperfs", "shared", l.Name), nil
}
