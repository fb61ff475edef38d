package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta/library"
)

type renameOptions struct{ DryRun bool }

func newRenameCommand(g *globalOptions) *cobra.Command {
	var opts renameOptions
	cmd := &cobra.Command{
		Use:   "rename",
		Short: "Rename PDFs in the library folder to names every cloud drive accepts",
		Long: `Rename the papers' PDFs whose names OneDrive, SharePoint, Dropbox or Windows
would refuse (a library imported by an older paperfs: "Did You Notice?
....pdf"), so the cloud drive carries them to your other devices. Only what a
drive refuses changes: ": " becomes " - ", ? * < > go, '"' becomes an
apostrophe, a trailing dot or space goes, a Windows device name (CON, NUL,
COM1...) gets a "_", text becomes Unicode NFC, and a path longer than
OneDrive allows is shortened. A name taken (in any case) gets " (2)".

The papers' records follow their PDFs; sync carries the new paths to the
other devices while their cloud drives carry the files. Safe to interrupt
and rerun: it first scans the folder (as 'paperfs scan' does), which finds a
PDF renamed before its record was, then renames the rest.

Files that are no paper's PDF (notes, folders holding them) are listed to
rename by hand.`,
		Example: `  paperfs rename --dry-run
  paperfs rename`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRename(cmd.Context(), g, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVarP(&opts.DryRun, "dry-run", "n", false, "list what would be renamed, and change nothing")
	return cmd
}

func runRename(ctx context.Context, g *globalOptions, opts renameOptions, w, errw io.Writer) error {
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	if opts.DryRun {
		plan, err := a.lib.PortableRenames()
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "would rename %d PDFs:\n", len(plan))
		printRenames(w, plan)
		return printRefused(ctx, w, a.lib, plan)
	}
	a.pullFirst(ctx, errw)
	bar := newProgress(w, "indexing", "files")
	_, err = a.lib.Scan(ctx, bar.update)
	bar.finish()
	if err != nil {
		return fmt.Errorf("scanning the library folder before renaming (nothing renamed): %w", err)
	}
	done, err := a.lib.RenamePortable(ctx)
	fmt.Fprintf(w, "renamed %d PDFs:\n", len(done))
	printRenames(w, done)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("rename interrupted after %d PDFs; run it again to rename the rest", len(done))
	}
	if err != nil {
		return err
	}
	if len(done) > 0 {
		fmt.Fprintln(w, "other devices take the new names at their next sync, and the files through the cloud drive")
	}
	return printRefused(ctx, w, a.lib, nil)
}

func printRenames(w io.Writer, rs []library.Rename) {
	for _, r := range rs {
		fmt.Fprintf(w, "  %q -> %q\n", r.From, r.To)
	}
}

// printRefused lists the names a cloud drive refuses that rename leaves:
// those that are no paper's PDF, and for a dry run, not those it plans.
func printRefused(ctx context.Context, w io.Writer, l *library.Library, planned []library.Rename) error {
	refused, err := l.RefusedNames(ctx)
	if err != nil {
		return err
	}
	fixed := map[string]bool{}
	for _, r := range planned {
		fixed[r.From] = true
	}
	// A folder is left unless all it holds are planned PDFs.
	leaves := func(rel string) bool {
		left, files := false, 0
		filepath.WalkDir(l.Abs(rel), func(p string, d fs.DirEntry, err error) error {
			if err != nil || !d.IsDir() {
				r, rerr := l.Rel(p)
				left = left || err != nil || rerr != nil || !fixed[r]
				files++
			}
			return nil
		})
		return left || files == 0
	}
	var left []library.Refused
	for _, r := range refused {
		if !fixed[r.Path] && leaves(r.Path) {
			left = append(left, r)
		}
	}
	if len(left) == 0 {
		return nil
	}
	fmt.Fprintf(w, "%d names a cloud drive refuses are no paper's PDF; rename them yourself:\n", len(left))
	for _, r := range left {
		fmt.Fprintf(w, "  %v\n", r)
	}
	return nil
}
