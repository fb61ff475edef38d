package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta"
	psync "github.com/paperfs/paperfs/sync"
)

type statusOptions struct{ JSON bool }

func newStatusCommand(g *globalOptions) *cobra.Command {
	var opts statusOptions
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show the library: papers, missing PDFs, mount and sync state",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(g, opts, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print JSON")
	return cmd
}

func runStatus(g *globalOptions, opts statusOptions, w io.Writer) error {
	st, err := libraryStatus(g)
	if err != nil {
		return err
	}
	if st.Libraries, err = listLibraries(g, st); err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(w, st)
	printLibraries(w, st.Libraries)
	return nil
}

// libraryStatus is the status of the library g names.
func libraryStatus(g *globalOptions) (*Status, error) {
	var st *Status
	a, err := openApp(g)
	switch {
	case errors.Is(err, meta.ErrLocked):
		// A mount holds the database; it publishes its status.
		_, _, dataDir, rerr := resolve(g)
		if rerr != nil {
			return nil, rerr
		}
		// A mount that is starting has the database open before it has
		// published anything: give it a moment.
		var b []byte
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(100 * time.Millisecond) {
			if b, rerr = os.ReadFile(statusPath(dataDir)); rerr == nil || !errors.Is(rerr, os.ErrNotExist) || time.Now().After(deadline) {
				break
			}
		}
		if rerr != nil {
			return nil, fmt.Errorf("%w, and its status file is unreadable: %v", err, rerr)
		}
		st = &Status{}
		if err := json.Unmarshal(b, st); err != nil {
			return nil, fmt.Errorf("status file %s: %w", statusPath(dataDir), err)
		}
		if st.Sync, err = mountSyncStatus(g, dataDir); err != nil {
			return nil, err
		}
	case err != nil:
		return nil, err
	default:
		defer a.close()
		if st, err = collectStatus(a); err != nil {
			return nil, err
		}
		// No mount: the engine reports what the last round recorded,
		// without contacting the server.
		eng, err := a.newEngine(nil, nil)
		if err != nil {
			return nil, err
		}
		if eng != nil {
			sy := eng.Status()
			st.Sync = &sy
			eng.Close()
		}
	}
	if _, _, dataDir, rerr := resolve(g); rerr == nil {
		if st.Backups, err = collectBackups(filepath.Join(dataDir, "meta.db")); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// mountSyncStatus reads the running mount's sync status file, or nil if
// no server is configured.
func mountSyncStatus(g *globalOptions, dataDir string) (*psync.Status, error) {
	cfg, _, _, err := resolve(g)
	if err != nil || cfg.MongoDB.URI == "" {
		return nil, err
	}
	path := psync.StatusPath(filepath.Join(dataDir, "meta.db"))
	sy, err := psync.ReadStatusFile(path)
	if errors.Is(err, os.ErrNotExist) {
		// The mount has not finished its first round yet.
		return &psync.Status{Server: psync.Redact(cfg.MongoDB.URI), Database: cfg.MongoDB.Database,
			LastError: "the mount has not reported its sync state yet"}, nil
	}
	if err != nil {
		return nil, err
	}
	return &sy, nil
}
