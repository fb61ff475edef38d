package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// Status is what `paperfs status` reports. A running mount publishes it to
// status.json in the data dir, since it holds the database open.
type Status struct {
	Library   string         `json:"library"`
	Database  string         `json:"database"`
	Device    string         `json:"device"`
	Papers    int            `json:"papers"`
	Untagged  int            `json:"untagged"`
	Trashed   int            `json:"trashed"`
	Missing   []MissingPaper `json:"missing"`
	Pending   int            `json:"pending_sync_ops"`
	Mount     *mountInfo     `json:"mount,omitempty"`
	UpdatedAt time.Time      `json:"updated_at"`
}

// MissingPaper is a paper whose PDF is not in this device's library folder.
type MissingPaper struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Path  string `json:"path"`
}

type mountInfo struct {
	Dir         string    `json:"dir"`
	PID         int       `json:"pid"`
	Since       time.Time `json:"since"`
	Passthrough bool      `json:"passthrough"`
}

func collectStatus(a *app) (*Status, error) {
	st := &Status{Library: a.lib.Root, Database: a.store.Path(), Device: a.store.Device(), UpdatedAt: time.Now()}
	var err error
	count := func(k meta.Kind) int {
		n, cerr := a.store.Count(meta.View{Kind: k})
		if cerr != nil && err == nil {
			err = cerr
		}
		return n
	}
	st.Papers, st.Untagged, st.Trashed = count(meta.All), count(meta.Untagged), count(meta.Trash)
	es, lerr := a.store.List(meta.View{Kind: meta.Missing})
	if lerr != nil {
		return nil, lerr
	}
	st.Missing = []MissingPaper{}
	for _, e := range es {
		p, gerr := a.store.Get(e.ID)
		if gerr != nil {
			return nil, gerr
		}
		st.Missing = append(st.Missing, MissingPaper{ID: p.ID, Title: p.Title, Path: p.File.Path})
	}
	if st.Pending, lerr = a.store.PendingCount(); lerr != nil {
		return nil, lerr
	}
	return st, err
}

func statusPath(dataDir string) string { return filepath.Join(dataDir, "status.json") }

// publishStatus rewrites the status file when the library changes (at most
// every 200ms) and every few seconds, until ctx ends.
func publishStatus(ctx context.Context, a *app, mi *mountInfo, fsys *fs.FS) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	sub := a.store.Subscribe()
	defer sub.Close()
	for {
		st, err := collectStatus(a)
		if err != nil {
			a.log.Warn("collecting status", "err", err)
		} else {
			mi.Passthrough = fsys.Stats.Passthru.Load()
			st.Mount = mi
			if err := writeJSONAtomic(statusPath(a.dataDir), st); err != nil {
				a.log.Warn("writing status file", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-sub.C:
			// let a burst of changes settle, draining what queued meanwhile
			for t := time.After(200 * time.Millisecond); ; {
				select {
				case <-sub.C:
					continue
				case <-t:
				case <-ctx.Done():
					return
				}
				break
			}
		}
	}
}

func removeStatus(a *app) { os.Remove(statusPath(a.dataDir)) }

func writeJSONAtomic(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

func printStatus(w io.Writer, st *Status) {
	fmt.Fprintf(w, "library:   %s\n", st.Library)
	fmt.Fprintf(w, "database:  %s (device %s)\n", st.Database, st.Device)
	if st.Mount != nil {
		mode := "FUSE reads"
		if st.Mount.Passthrough {
			mode = "kernel passthrough"
		}
		fmt.Fprintf(w, "mounted:   %s (pid %d, since %s, PDFs via %s)\n", st.Mount.Dir, st.Mount.PID,
			st.Mount.Since.Format(time.DateTime), mode)
	} else {
		fmt.Fprintf(w, "mounted:   no\n")
	}
	fmt.Fprintf(w, "papers:    %d (%d untagged, %d in trash)\n", st.Papers, st.Untagged, st.Trashed)
	fmt.Fprintf(w, "sync:      %d local changes not yet sent\n", st.Pending)
	if len(st.Missing) == 0 {
		fmt.Fprintf(w, "missing:   none: every PDF is in the library folder\n")
		return
	}
	fmt.Fprintf(w, "missing:   %d papers whose PDF is not in the library folder on this device:\n", len(st.Missing))
	for _, m := range st.Missing {
		fmt.Fprintf(w, "  %s  %s  (%s)\n", m.ID, m.Title, m.Path)
	}
}
