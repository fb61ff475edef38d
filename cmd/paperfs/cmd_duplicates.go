package main

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

func newDuplicatesCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "duplicates",
		Short: "List papers that are probably the same work",
		Long: `List groups of papers that are probably the same work: the same DOI or
arXiv id, a preprint and its published version, or nearly the same title with
the same first author and year. Nothing is merged: merge a pair with
'paperfs merge KEEP OTHER' (the mount's duplicates/ view shows the same groups).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(g)
			if err != nil {
				return err
			}
			defer a.close()
			groups, err := library.ProbableDuplicates(a.store)
			if err != nil {
				return err
			}
			printDuplicates(cmd.OutOrStdout(), groups)
			return nil
		},
	}
}

func printDuplicates(w io.Writer, groups []library.DuplicateGroup) {
	if len(groups) == 0 {
		fmt.Fprintln(w, "no probable duplicates")
		return
	}
	for i, g := range groups {
		fmt.Fprintf(w, "%d. %s\n", i+1, strings.Join(g.Reasons, "; "))
		for _, p := range g.Papers {
			fmt.Fprintf(w, "   %s  %s\n", p.ID, describe(&p))
		}
	}
	fmt.Fprintf(w, "%d groups; merge one with: paperfs merge KEEP OTHER\n", len(groups))
}

// describe is a paper on one line: authors, year, title, venue, ids, file.
func describe(p *meta.Paper) string {
	var b strings.Builder
	if len(p.Authors) > 0 {
		b.WriteString(p.Authors[0])
		if len(p.Authors) > 1 {
			b.WriteString(" et al.")
		}
		b.WriteString(" ")
	}
	if p.Year != 0 {
		b.WriteString(strconv.Itoa(p.Year) + " ")
	}
	fmt.Fprintf(&b, "%q", p.Title)
	var ids []string
	if p.Venue != "" {
		ids = append(ids, p.Venue)
	}
	if p.DOI != "" {
		ids = append(ids, "doi "+p.DOI)
	}
	if p.ArXiv != "" {
		ids = append(ids, "arXiv "+p.ArXiv)
	}
	if p.File.Path != "" {
		ids = append(ids, p.File.Path)
	}
	if len(ids) > 0 {
		b.WriteString(" (" + strings.Join(ids, ", ") + ")")
	}
	return b.String()
}

type mergeOptions struct {
	Force bool
}

func newMergeCommand(g *globalOptions) *cobra.Command {
	var opts mergeOptions
	cmd := &cobra.Command{
		Use:   "merge KEEP OTHER",
		Short: "Merge two papers that are the same work",
		Long: `Merge paper OTHER into paper KEEP: KEEP stays, with OTHER's tags and folders,
the fields you edited by hand on OTHER (unless you edited them on KEEP too)
and the DOI, arXiv id or published version KEEP lacks. OTHER's PDF moves to
the library's .paperfs-trash folder and OTHER leaves every view. The merge is
synced to your other devices like any edit.

Papers are given by id or by the path of their PDF. Two papers that do not
look like the same work ('paperfs duplicates' does not group them) are
refused unless --force.`,
		Example: `  paperfs duplicates
  paperfs merge 3hj7emn20b90 8kd02mfa1c7q`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(g)
			if err != nil {
				return err
			}
			defer a.close()
			keep, err := a.paperArg(g, args[0])
			if err != nil {
				return err
			}
			other, err := a.paperArg(g, args[1])
			if err != nil {
				return err
			}
			p, err := a.lib.Merge(keep, other, library.MergeOptions{Force: opts.Force})
			if errors.Is(err, library.ErrNotSame) {
				return fmt.Errorf("%w: %v", errUsage, err)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "merged %s into %s  %s\n", other, keep, describe(&p))
			return nil
		},
	}
	cmd.Flags().BoolVar(&opts.Force, "force", false, "merge even papers that do not look like the same work")
	return cmd
}
