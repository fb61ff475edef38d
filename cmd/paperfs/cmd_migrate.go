package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
	"github.com/paperfs/paperfs/meta/library"
	psync "github.com/paperfs/paperfs/sync"
	"github.com/paperfs/paperfs/sync/paperlib"
)

// paperlibURIEnv holds the Paperlib cluster's URI, so the password stays
// out of the shell history and the process list.
const paperlibURIEnv = "PAPERFS_PAPERLIB_URI"

func newMigrateCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Bring a library over from Paperlib or a .bib file",
		Long: `Import papers from elsewhere into the library: from the MongoDB Atlas cluster
Paperlib synced to (Atlas Device Sync was switched off in 2025, but the data
is still there), or from any BibTeX file (Paperlib's BibTeX export included).
Both are safe to rerun: papers already imported are updated, not duplicated.`,
	}
	cmd.AddCommand(newMigratePaperlibCommand(g), newMigrateBibtexCommand(g))
	return cmd
}

type migratePaperlibOptions struct {
	URI       string
	DB        string
	Partition string
	Pattern   string
}

func newMigratePaperlibCommand(g *globalOptions) *cobra.Command {
	var opts migratePaperlibOptions
	cmd := &cobra.Command{
		Use:   "paperlib",
		Short: "Import a Paperlib library from its MongoDB Atlas cluster",
		Long: `Read the PaperEntity, PaperTag and PaperFolder collections Paperlib's Device
Sync left in your Atlas cluster and import every paper: title, authors,
venue, year, type, DOI, arXiv id, rating, flag, note, tags, folders (nested
ones too), supplementary files and when it was added. Papers keep Paperlib's
ids, so running it again updates them.

Each paper is linked to its PDF in the library folder (point --library at
the folder Paperlib kept its files in): by the path Paperlib stored, else by
that file name anywhere in the folder, else by a file name holding the
paper's id (Paperlib's "<title>_<id>_main.pdf"), else by --pattern or the
title. Papers whose PDF is not there are flagged missing until it arrives.

The URI comes from $` + paperlibURIEnv + ` (preferred: it keeps the password out of
your shell history), or --uri. It is never printed with its credentials.
At the end a report lists what was imported and updated, PDFs found and
missing, and fields paperfs has no place for.`,
		Example: `  export PAPERFS_PAPERLIB_URI='mongodb+srv://me:PASSWORD@cluster0.abcde.mongodb.net'
  paperfs --library ~/Paperlib migrate paperlib
  paperfs --library ~/Paperlib migrate paperlib --db paperlib --pattern '{firstauthor}_{year}_{title}'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMigratePaperlib(cmd.Context(), g, opts, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&opts.URI, "uri", "", "MongoDB URI of the cluster (default $"+paperlibURIEnv+")")
	cmd.Flags().StringVar(&opts.DB, "db", "paperlib", "database Paperlib synced to")
	cmd.Flags().StringVar(&opts.Partition, "partition", "", "only papers of this Realm partition (a user id), if the database holds several users'")
	cmd.Flags().StringVar(&opts.Pattern, "pattern", "", "file-name pattern Paperlib renamed PDFs with: {title} {id} {year} {firstauthor} {lastauthor} {publication}")
	return cmd
}

func runMigratePaperlib(ctx context.Context, g *globalOptions, opts migratePaperlibOptions, w io.Writer) error {
	uri := opts.URI
	if uri == "" {
		uri = g.getenv(paperlibURIEnv)
	}
	if uri == "" {
		return fmt.Errorf("%w: no Paperlib cluster: set $%s to its mongodb+srv:// URI (or pass --uri)", errUsage, paperlibURIEnv)
	}
	if !strings.HasPrefix(uri, "mongodb://") && !strings.HasPrefix(uri, "mongodb+srv://") {
		return fmt.Errorf("%w: the Paperlib URI must start with mongodb:// or mongodb+srv://, not %q", errUsage, psync.Redact(uri))
	}
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	client, err := paperlib.Connect(ctx, uri)
	if err != nil {
		return err
	}
	defer client.Disconnect(context.Background())
	fmt.Fprintf(w, "reading %s from %s\n", opts.DB, psync.Redact(uri))
	data, err := paperlib.Read(ctx, client.Database(opts.DB), opts.Partition)
	if err != nil {
		return psync.RedactError(uri, err)
	}
	fmt.Fprintf(w, "%d papers, %d tags, %d folders\n", len(data.Papers), len(data.Tags), len(data.Folders))
	bar := newProgress(w, "migrating", "papers")
	rep, err := paperlib.Migrate(ctx, a.store, data, paperlib.Options{Library: a.lib.Root, Pattern: opts.Pattern, Progress: bar.update})
	bar.finish()
	printPaperlibReport(w, rep)
	return err
}

func printPaperlibReport(w io.Writer, rep paperlib.Report) {
	fmt.Fprintf(w, "imported %d, updated %d, merged into scanned papers %d, PDFs found %d, PDFs missing %d, skipped %d\n",
		len(rep.Imported), len(rep.Updated), len(rep.Merged), rep.PDFsFound, len(rep.PDFsMissing), len(rep.Skipped))
	section := func(title string, lines []string) {
		if len(lines) == 0 {
			return
		}
		fmt.Fprintf(w, "%s:\n", title)
		for _, l := range lines {
			fmt.Fprintf(w, "  %s\n", l)
		}
	}
	section("skipped", rep.Skipped)
	section("PDFs missing (flagged missing; they are linked when they appear in the library folder)", rep.PDFsMissing)
	var unmapped []string
	for f, n := range rep.Unmapped {
		unmapped = append(unmapped, fmt.Sprintf("%s (%d)", f, n))
	}
	slices.Sort(unmapped)
	section("fields paperfs has no place for (not imported)", unmapped)
	section("values read with care", rep.Problems)
}

type migrateBibtexOptions struct {
	Tags []string
}

func newMigrateBibtexCommand(g *globalOptions) *cobra.Command {
	var opts migrateBibtexOptions
	cmd := &cobra.Command{
		Use:   "bibtex FILE.bib",
		Short: "Import the entries of a BibTeX file, keeping their citation keys",
		Long: `Import every entry of a .bib file (Paperlib's BibTeX export, JabRef, Zotero,
Google Scholar...) as a paper: authors, title, year, venue, type, DOI, arXiv
id, URL, abstract and note, with its citation key kept. An entry whose DOI,
arXiv id or key matches a paper already in the library updates it, so
importing a file again changes nothing new. A key held by a different
paper is given a suffix (and reported). A file field naming a PDF inside
the library folder links the paper to it.`,
		Example: `  paperfs migrate bibtex ~/paperlib-export.bib
  paperfs migrate bibtex --tag thesis refs.bib`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMigrateBibtex(g, opts, args[0], cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringSliceVar(&opts.Tags, "tag", nil, "tag every imported paper (repeatable)")
	return cmd
}

func runMigrateBibtex(g *globalOptions, opts migrateBibtexOptions, file string, w io.Writer) error {
	src, err := os.ReadFile(g.path(file))
	if err != nil {
		return err
	}
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	rep, err := bibtex.Import(a.store, src, bibtex.ImportOptions{Tags: opts.Tags, Link: func(e *bibtex.Entry, _ *meta.Paper) meta.File {
		return linkBibFile(a.store, a.lib, e.Get("file"))
	}})
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	fmt.Fprintf(w, "%s: imported %d, updated %d, errors %d\n", file, len(rep.Imported), len(rep.Updated), len(rep.Errors))
	for _, e := range rep.Errors {
		fmt.Fprintf(w, "  error: %s: %v\n", file, e)
	}
	for from, to := range rep.Renamed {
		fmt.Fprintf(w, "  key %s is another paper's already; imported as %s\n", from, to)
	}
	var unmapped []string
	for f, n := range rep.Unmapped {
		unmapped = append(unmapped, fmt.Sprintf("%s (%d)", f, n))
	}
	slices.Sort(unmapped)
	if len(unmapped) > 0 {
		fmt.Fprintf(w, "  fields paperfs has no place for (not imported): %s\n", strings.Join(unmapped, ", "))
	}
	return nil
}

// linkBibFile reads a file field (JabRef's ":path/x.pdf:PDF", Zotero's
// "path/x.pdf", several separated by ";") and returns the first PDF that
// is inside the library folder and not another paper's.
func linkBibFile(s *meta.Store, lib *library.Library, field string) meta.File {
	root := lib.Root
	for _, part := range strings.Split(field, ";") {
		part = bibtex.Unescape(part)
		if f := strings.Split(part, ":"); len(f) == 3 {
			part = f[1] // JabRef: description:path:type
		}
		part = strings.TrimSpace(part)
		if !strings.EqualFold(filepath.Ext(part), ".pdf") {
			continue
		}
		abs := part
		if !filepath.IsAbs(abs) {
			abs = filepath.Join(root, abs)
		}
		rel, err := filepath.Rel(root, abs)
		if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
			continue
		}
		rel = filepath.ToSlash(rel)
		if meta.CheckRelPath(rel) != nil {
			continue
		}
		if _, err := s.ByPath(rel); err == nil {
			return meta.File{Path: rel} // Import matches the paper by path
		}
		sum, n, err := lib.Hash(rel) // beneath the folder: never through a symlink
		if err != nil {
			continue
		}
		return meta.File{Path: rel, Size: n, SHA256: sum}
	}
	return meta.File{}
}
