package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/extract/lookup"
)

type lookupOptions struct {
	All bool
}

func newLookupCommand(g *globalOptions) *cobra.Command {
	var opts lookupOptions
	cmd := &cobra.Command{
		Use:   "lookup [--all | PAPER...]",
		Short: "Complete and check papers' metadata online (Crossref, arXiv, DBLP, Semantic Scholar)",
		Long: `Look papers up online and fill in or correct their metadata: by DOI at
Crossref and by arXiv id at arXiv first, then by title (and first author) at
DBLP, Crossref and Semantic Scholar. A record is taken only when its title,
authors and year agree with the paper's; a DOI printed in a PDF that names
another paper (one it cites) is dropped. A field you edited by hand is never
changed; each field's source and confidence show in the sidecar
("provenance", "confidence"). For an arXiv preprint, the published version
(venue, year, DOI) is recorded in "published" beside the preprint's fields;
set "cite" to "published" or "preprint" in the sidecar to choose.

Without arguments it looks up the papers not looked up yet (a running mount
does the same in the background); --all looks up every paper again; PAPER is
a paper id or the path of its PDF.

What is sent: DOIs to Crossref, arXiv ids to arXiv, titles and first
authors' family names to DBLP, Crossref and Semantic Scholar, with the
contact e-mail of the config ("lookup": {"email": ...}) to Crossref. Turn it
off with --offline or "lookup": false in the config file.`,
		Example: `  paperfs lookup
  paperfs lookup --all
  paperfs lookup 3hj7emn20b90 ~/Papers/vaswani2017.pdf`,
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.All && len(args) > 0 {
				return fmt.Errorf("%w: --all takes no PAPER arguments", errUsage)
			}
			return runLookup(cmd.Context(), g, opts, args, cmd.OutOrStdout())
		},
	}
	cmd.Flags().BoolVar(&opts.All, "all", false, "look up every paper, also those looked up before")
	return cmd
}

// lookupOff says why lookups are off, or "" when they are on.
func lookupOff(g *globalOptions, cfg *Config) string {
	switch {
	case g.Offline:
		return "--offline"
	case cfg.Lookup.Off:
		return `"lookup": false in ` + configPath()
	}
	return ""
}

// lookupRunner builds the runner of the app's library, nil when lookups
// are off. Answers are cached and the state kept in the data dir.
func (a *app) lookupRunner(g *globalOptions) *lookup.Runner {
	if lookupOff(g, a.cfg) != "" {
		return nil
	}
	c := a.cfg.Lookup
	l := lookup.New(lookup.Config{
		Email: c.Email, SemanticScholarKey: c.SemanticScholarKey, Services: c.Services,
		CrossrefURL: c.CrossrefURL, ArXivURL: c.ArXivURL, DBLPURL: c.DBLPURL, SemanticScholarURL: c.SemanticScholarURL,
		CacheDir: filepath.Join(a.dataDir, "lookup", "cache"),
	})
	return &lookup.Runner{Store: a.store, Resolver: l, StateFile: filepath.Join(a.dataDir, "lookup", "state.json"), Log: a.log}
}

func runLookup(ctx context.Context, g *globalOptions, opts lookupOptions, args []string, w io.Writer) error {
	cfg, _, _, err := resolve(g)
	if err != nil {
		return err
	}
	if why := lookupOff(g, cfg); why != "" {
		return fmt.Errorf("online lookup is turned off (%s)", why)
	}
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	r := a.lookupRunner(g)
	var ids []string
	if len(args) > 0 {
		for _, arg := range args {
			id, err := a.paperArg(g, arg)
			if err != nil {
				return err
			}
			ids = append(ids, id)
		}
	} else if ids, err = r.Pending(opts.All); err != nil {
		return err
	}
	if len(ids) == 0 {
		fmt.Fprintln(w, "nothing to look up (--all looks up every paper again)")
		return nil
	}
	bar := newProgress(w, "looking up", "papers")
	rep, err := r.Lookup(ctx, ids, bar.update)
	bar.finish()
	changed := make([]string, 0, len(rep.Changed))
	for id := range rep.Changed {
		changed = append(changed, id)
	}
	sort.Strings(changed)
	for _, id := range changed {
		p, gerr := a.store.Get(id)
		if gerr != nil {
			continue
		}
		var parts []string
		for _, f := range rep.Changed[id] {
			parts = append(parts, f+" ("+p.Provenance[f]+")")
		}
		fmt.Fprintf(w, "  %s  %s: %s\n", id, p.Title, strings.Join(parts, ", "))
	}
	fmt.Fprintf(w, "looked up %d: %d matched, %d without a match\n", rep.Matched+rep.NoMatch, rep.Matched, rep.NoMatch)
	switch {
	case errors.Is(err, lookup.ErrUnavailable):
		return fmt.Errorf("%v; %d papers are left: run 'paperfs lookup' again later (a running mount retries by itself)", err, len(ids)-rep.Matched-rep.NoMatch)
	case errors.Is(err, context.Canceled):
		return fmt.Errorf("lookup interrupted; run it again to look up the rest")
	}
	return err
}

// paperArg finds a paper by id or by the path of its PDF (relative to
// the caller's directory).
func (a *app) paperArg(g *globalOptions, arg string) (string, error) {
	if _, err := a.store.Get(arg); err == nil {
		return arg, nil
	}
	rel := arg
	if abs, err := filepath.Abs(g.path(arg)); err == nil {
		if r, err := a.lib.Rel(abs); err == nil {
			rel = r
		}
	}
	id, err := a.store.ByPath(rel)
	if err != nil || id == "" {
		return "", fmt.Errorf("%s: no such paper (give a paper id, as 'paperfs duplicates' and the sidecars show, or the path of a PDF in the library folder)", arg)
	}
	return id, nil
}
