package main

import (
	"fmt"
	"io"

	psync "github.com/paperfs/paperfs/sync"
)

// LibraryLine is a library in the list `paperfs status` ends with when
// the config names shared libraries.
type LibraryLine struct {
	Name     string `json:"name"` // "" for the personal library
	Folder   string `json:"folder"`
	Server   string `json:"server,omitempty"` // redacted
	Database string `json:"database,omitempty"`
	Papers   int    `json:"papers"`
	Pending  int    `json:"pending_sync_ops"`
	Mounted  string `json:"mounted,omitempty"` // where it is shown
	// Problem is why the library's status could not be read (its folder
	// not there, say).
	Problem string `json:"problem,omitempty"`
}

// listLibraries is every library of the config, the personal one first;
// nil when the config names no shared library. known is the status of
// the library g names, already read: its line takes it rather than
// loading that library's store again.
func listLibraries(g *globalOptions, known *Status) ([]LibraryLine, error) {
	cfg, err := loadConfig()
	if err != nil || len(cfg.Libraries) == 0 {
		return nil, err
	}
	personal := *g
	if cfg.library(g.Library) != nil {
		personal.Library = "" // the config's or the environment's
	}
	gs := []*globalOptions{&personal}
	for _, l := range cfg.Libraries {
		sg := *g
		sg.Library = l.Name
		gs = append(gs, &sg)
	}
	var out []LibraryLine
	for _, lg := range gs {
		lc, lib, _, err := resolve(lg)
		line := LibraryLine{Folder: lib}
		if err != nil {
			line.Problem = err.Error()
		} else {
			line.Name = lc.libraryName()
			if lc.MongoDB.URI != "" {
				line.Server, line.Database = psync.Redact(lc.MongoDB.URI), lc.MongoDB.Database
			}
			st, err := known, error(nil)
			if known == nil || known.Library != lib {
				st, err = libraryStatus(lg)
			}
			if err != nil {
				line.Problem = err.Error()
			} else {
				line.Papers, line.Pending = st.Papers, st.Pending
				if st.Mount != nil {
					line.Mounted = st.Mount.Dir
				}
			}
		}
		if lg != &personal && line.Name == "" {
			line.Name = lg.Library
		}
		out = append(out, line)
	}
	return out, nil
}

func printLibraries(w io.Writer, ls []LibraryLine) {
	if len(ls) == 0 {
		return
	}
	fmt.Fprintf(w, "libraries: %d (--library NAME for one's status)\n", len(ls))
	for _, l := range ls {
		name := l.Name
		if name == "" {
			name = "(personal)"
		}
		fmt.Fprintf(w, "  %-12s %s\n", name, l.Folder)
		if l.Problem != "" {
			fmt.Fprintf(w, "               not available: %s\n", l.Problem)
			continue
		}
		server := "no sync"
		if l.Server != "" {
			server = "syncs with " + l.Server + ", database " + l.Database
		}
		mounted := "not mounted"
		if l.Mounted != "" {
			mounted = "mounted at " + l.Mounted
		}
		fmt.Fprintf(w, "               %d papers, %d changes to send; %s; %s\n", l.Papers, l.Pending, server, mounted)
	}
}
