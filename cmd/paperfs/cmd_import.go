package main

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta/library"
)

type importOptions struct {
	Move bool
	Tags []string
}

func newImportCommand(g *globalOptions) *cobra.Command {
	var opts importOptions
	cmd := &cobra.Command{
		Use:   "import FILE|DIR...",
		Short: "Copy PDFs into the library folder and add them to the library",
		Long: `Copy (or with --move, move) PDFs into the library folder and create their
records, reading title, authors, year and identifiers from each PDF. Folders
are searched recursively. Files whose content is already in the library are
reported and skipped. Safe to interrupt and rerun.`,
		Example: `  paperfs import ~/Downloads/1706.03762v5.pdf
  paperfs import --tag to-read --move ~/Downloads/papers/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), g, opts, args, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&opts.Move, "move", false, "move the files instead of copying them")
	cmd.Flags().StringSliceVar(&opts.Tags, "tag", nil, "tag every imported paper (repeatable)")
	return cmd
}

func runImport(ctx context.Context, g *globalOptions, opts importOptions, args []string, w io.Writer) error {
	for _, p := range args {
		if _, err := os.Stat(p); err != nil {
			return err
		}
	}
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	bar := newBar(w, "importing")
	rep, err := a.lib.Import(ctx, args, library.ImportOptions{Move: opts.Move, Tags: opts.Tags, Progress: bar.update})
	bar.finish()
	fmt.Fprintf(w, "imported %d, duplicates skipped %d, errors %d\n", len(rep.Imported), len(rep.Duplicates), len(rep.Errors))
	for _, d := range rep.Duplicates {
		fmt.Fprintf(w, "  duplicate: %s\n", d)
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  error: %v\n", e)
	}
	return err
}

type bar struct {
	w    io.Writer
	desc string
	pb   *progressbar.ProgressBar
}

func newBar(w io.Writer, desc string) *bar { return &bar{w: w, desc: desc} }

// update draws count, rate and ETA once there is more than one file.
func (b *bar) update(done, total int) {
	if total < 2 {
		return
	}
	if b.pb == nil {
		b.pb = progressbar.NewOptions(total, progressbar.OptionSetWriter(b.w), progressbar.OptionSetDescription(b.desc),
			progressbar.OptionShowCount(), progressbar.OptionShowIts(), progressbar.OptionSetItsString("files"),
			progressbar.OptionSetPredictTime(true), progressbar.OptionThrottle(100e6))
	}
	b.pb.Set(done)
}

func (b *bar) finish() {
	if b.pb != nil {
		b.pb.Finish()
		fmt.Fprintln(b.w)
	}
}

func newScanCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "scan",
		Short: "Index the PDFs already in the library folder",
		Long: `Index the PDFs in the library folder: new files become papers, moved files
are followed by content, and papers whose PDF is gone are flagged missing
(never deleted). Idempotent; a running mount does this by itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, cmd.OutOrStdout())
		},
	}
}

func runScan(ctx context.Context, g *globalOptions, w io.Writer) error {
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	bar := newBar(w, "indexing")
	rep, err := a.lib.Scan(ctx, bar.update)
	bar.finish()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d PDFs: %d new, %d moved, %d changed, %d missing, %d back, %d duplicates, %d unreadable\n",
		rep.Files, len(rep.New), rep.Moved, rep.Changed, rep.Missing, rep.Returned, len(rep.Duplicates), len(rep.Errors))
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  error: %v\n", e)
	}
	return nil
}
