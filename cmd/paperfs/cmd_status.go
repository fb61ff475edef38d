package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta"
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
	var st *Status
	a, err := openApp(g)
	switch {
	case errors.Is(err, meta.ErrLocked):
		// A mount holds the database; it publishes its status.
		_, _, dataDir, rerr := resolve(g)
		if rerr != nil {
			return rerr
		}
		b, rerr := os.ReadFile(statusPath(dataDir))
		if rerr != nil {
			return fmt.Errorf("%w, and its status file is unreadable: %v", err, rerr)
		}
		st = &Status{}
		if err := json.Unmarshal(b, st); err != nil {
			return fmt.Errorf("status file %s: %w", statusPath(dataDir), err)
		}
	case err != nil:
		return err
	default:
		defer a.close()
		if st, err = collectStatus(a); err != nil {
			return err
		}
	}
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(st)
	}
	printStatus(w, st)
	return nil
}
