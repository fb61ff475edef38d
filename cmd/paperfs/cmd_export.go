package main

import (
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
)

type exportOptions struct {
	Format string
	Tag    string
	Held   bool
}

func newExportCommand(g *globalOptions) *cobra.Command {
	var opts exportOptions
	cmd := &cobra.Command{
		Use:   "export",
		Short: "Write the library as BibTeX or CSL-JSON to stdout",
		Long: `Write every paper (not in the trash), or one tag's papers, as BibTeX or
CSL-JSON (for pandoc, Zotero, citeproc). It is the same text a mount shows
as library.bib and tags/<tag>/tag.bib. Every paper has a citation key,
given when it was added and stored in its citekey field; it never changes
unless you edit it in the paper's sidecar.`,
		Example: `  paperfs export > library.bib
  paperfs export --tag thesis > thesis.bib
  paperfs --library lab export --held > my-edits.bib
  paperfs export --format csl-json | pandoc --citeproc --bibliography=/dev/stdin ...`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runExport(g, opts, cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringVar(&opts.Format, "format", "bibtex", "bibtex or csl-json")
	cmd.Flags().StringVar(&opts.Tag, "tag", "", "only the papers with this tag")
	cmd.Flags().BoolVar(&opts.Held, "held", false, "only the papers with changes this device has not sent (in a library it may only read, edits made before it knew): to hand them to a member who may write")
	return cmd
}

func runExport(g *globalOptions, opts exportOptions, w io.Writer) error {
	if opts.Format != "bibtex" && opts.Format != "csl-json" {
		return fmt.Errorf("%w: --format %q: use bibtex or csl-json", errUsage, opts.Format)
	}
	a, err := openApp(g)
	if errors.Is(err, meta.ErrLocked) {
		return fmt.Errorf("%w; while the library is mounted, read library.bib (or tags/<tag>/tag.bib) in the mount instead", err)
	}
	if err != nil {
		return err
	}
	defer a.close()
	// The same papers as the mount's library.bib or tag.bib cite, with
	// the same keys; nothing is written.
	tag := opts.Tag
	if v, err := a.store.GroupValue(meta.View{Kind: meta.Tags, Group: tag}); tag != "" && err == nil {
		tag = v // the name of its folder in tags/
	}
	papers, err := fs.Cited(a.store, tag)
	if err != nil {
		return err
	}
	if opts.Tag != "" && len(papers) == 0 {
		return fmt.Errorf("no paper has the tag %q (see the tags/ folder of a mount for the tags there are)", opts.Tag)
	}
	if opts.Held {
		held, err := a.store.PendingPapers()
		if err != nil {
			return err
		}
		papers = slices.DeleteFunc(papers, func(p meta.Paper) bool { return held[p.ID] == 0 })
		if len(papers) == 0 {
			return errors.New("this device holds no unsent change of a paper outside the trash")
		}
	}
	if opts.Format == "csl-json" {
		return bibtex.WriteCSL(w, papers)
	}
	return bibtex.Write(w, papers)
}
