package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

type importOptions struct {
	Move        bool
	Tags        []string
	NamePattern string
}

func newImportCommand(g *globalOptions) *cobra.Command {
	var opts importOptions
	cmd := &cobra.Command{
		Use:   "import FILE|DIR...",
		Short: "Copy PDFs into the library folder and add them to the library",
		Long: `Copy (or with --move, move) PDFs into the library folder and create their
records, reading title, authors, year, DOI, arXiv id and abstract from each
PDF, offline, on every core. Folders are searched recursively.

A file whose content, DOI or arXiv id is already in the library is reported
and skipped. A file whose metadata cannot be read (scanned, damaged) is
imported with its file name as title and listed at the end.

Files are named in the library folder by a pattern, by default
"` + library.DefaultNamePattern + `" ("Vaswani et al. 2017 - Attention Is All
You Need.pdf"). Fields: {` + strings.Join(library.NamePlaceholders, "}, {") + `};
a "/" makes folders. Set it with --name-pattern or "import": {"name_pattern":
...} in the config file. An existing file is never overwritten: the new one
gets " (2)" appended.

Safe to interrupt (Ctrl-C) and rerun: each file is either wholly imported or
not at all, and a rerun skips what is there and imports the rest.`,
		Example: `  paperfs import ~/Downloads/1706.03762v5.pdf
  paperfs import --tag to-read --move ~/Downloads/papers/
  paperfs import --name-pattern '{year}/{author} - {title}' ~/Downloads/papers/`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runImport(cmd.Context(), g, opts, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&opts.Move, "move", false, "move the files instead of copying them")
	cmd.Flags().StringSliceVar(&opts.Tags, "tag", nil, "tag every imported paper (repeatable)")
	cmd.Flags().StringVar(&opts.NamePattern, "name-pattern", "", "how to name the PDFs in the library folder (default from the config file, else \""+library.DefaultNamePattern+"\")")
	return cmd
}

func runImport(ctx context.Context, g *globalOptions, opts importOptions, args []string, w, errw io.Writer) error {
	typed := args
	args = slices.Clone(args)
	for i, p := range args {
		args[i] = g.path(p)
		if _, err := os.Stat(args[i]); err != nil {
			var pe *os.PathError
			if errors.As(err, &pe) {
				pe.Path = p // as typed
			}
			return err
		}
	}
	if opts.NamePattern != "" && g.remote != nil {
		// The pattern is the running mount's, for the files pasted into it too.
		return fmt.Errorf("%w: --name-pattern while another paperfs process serves the library: stop it, or set \"import\": {\"name_pattern\": ...} in %s and restart it",
			errUsage, configPath())
	}
	if opts.NamePattern != "" {
		if err := library.CheckNamePattern(opts.NamePattern); err != nil {
			return fmt.Errorf("%w: --name-pattern: %v", errUsage, err)
		}
	}
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	backupIfDue(a)
	if opts.NamePattern != "" {
		if err := a.lib.SetNamePattern(opts.NamePattern); err != nil {
			return err
		}
	}
	a.pullFirst(ctx, errw)
	bar := newProgress(w, "importing", "files")
	rep, err := a.lib.Import(ctx, args, library.ImportOptions{Move: opts.Move, Tags: opts.Tags, Progress: bar.update})
	bar.finish()
	printImportReport(g.asTyped(w, typed, args), rep)
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("import interrupted: the %d files counted above are in the library, the others untouched; run the same command again to import the rest",
			len(rep.Imported)+len(rep.Duplicates)+len(rep.Errors))
	}
	if err == nil && len(rep.Errors) > 0 {
		// A script or a user glancing at the exit status must not take a
		// partial import for a full one.
		return fmt.Errorf("%d of the files given were not imported (see the errors above)", len(rep.Errors))
	}
	return err
}

func printImportReport(w io.Writer, rep library.ImportReport) {
	fmt.Fprintf(w, "imported %d, duplicates skipped %d, errors %d, extraction failures %d\n",
		len(rep.Imported), len(rep.Duplicates), len(rep.Errors), len(rep.ExtractionFailed))
	for _, d := range rep.Duplicates {
		where := "paper " + d.ID
		if d.Trashed {
			where += ", in the trash (paperfs trash restore " + d.ID + ")"
		}
		fmt.Fprintf(w, "  duplicate: %s: same %s as %s\n", meta.ShowPath(d.Path), d.By, where)
	}
	for _, f := range rep.ExtractionFailed {
		fmt.Fprintf(w, "  extraction failed: %s: imported as paper %s with the file name as title (%s)\n", meta.ShowPath(f.Path), f.ID, strings.Join(f.Problems, "; "))
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  error: %v\n", e)
	}
}

func newScanCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "scan",
		Short: "Index the PDFs already in the library folder",
		Long: `Index the PDFs in the library folder: new files become papers, moved files
are followed by content, and papers whose PDF is gone are flagged missing
(never deleted). Idempotent; a running mount does this by itself.

With a MongoDB server configured, it first runs one sync round (as 'paperfs
sync' does), so that PDFs other devices have indexed already are matched to
their records; offline, it says so and indexes anyway.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd.Context(), g, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
}

func runScan(ctx context.Context, g *globalOptions, w, errw io.Writer) error {
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	backupIfDue(a)
	a.pullFirst(ctx, errw)
	bar := newProgress(w, "indexing", "files")
	rep, err := a.lib.Scan(ctx, bar.update)
	bar.finish()
	if errors.Is(err, context.Canceled) {
		return fmt.Errorf("scan interrupted after indexing %d new PDFs; run it again to index the rest", len(rep.New))
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "%d PDFs: %d new, %d moved, %d changed, %d missing, %d back, %d duplicates, %d unreadable\n",
		rep.Files, len(rep.New), rep.Moved, rep.Changed, rep.Missing, rep.Returned, len(rep.Duplicates), len(rep.Errors))
	if rep.Merged > 0 {
		fmt.Fprintf(w, "merged %d papers that another device had indexed too (same PDF, same path)\n", rep.Merged)
	}
	if rep.Outside > 0 {
		fmt.Fprintf(w, "%d PDFs of papers outside this device's subscription left alone ('paperfs subscribe')\n", rep.Outside)
	}
	for _, f := range rep.InTrash {
		fmt.Fprintf(w, "  %s: the PDF of a paper in the trash, left alone (after a trash on another device the cloud drive moves it; 'paperfs trash restore' brings the paper back)\n", f)
	}
	for _, f := range rep.Renaming {
		fmt.Fprintf(w, "  %q: another device renamed it to a portable name; the cloud drive renames it here\n", f)
	}
	if len(rep.Held) > 0 {
		fmt.Fprintf(w, "%d new, moved or changed PDFs left for the members who may write this library (%v): their records arrive through sync\n", len(rep.Held), a.readOnly())
		for _, f := range rep.Held {
			fmt.Fprintf(w, "  %s\n", f)
		}
	}
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  error: %v\n", e)
	}
	// Here rather than in every scan: a running mount scans often.
	refused, err := a.lib.RefusedNames(ctx)
	if err != nil {
		return err
	}
	if len(refused) > 0 {
		fmt.Fprintf(w, "%d names in the library folder a cloud drive refuses ('paperfs rename' renames the PDFs):\n", len(refused))
		for _, r := range refused {
			fmt.Fprintf(w, "  %v\n", r)
		}
	}
	return nil
}
