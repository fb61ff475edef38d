package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newTrashCommand(g *globalOptions) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "trash",
		Short: "List or restore deleted papers",
		Long: `Deleting a paper in the mount (rm all/<name>.pdf) moves its PDF to the
library's .paperfs-trash folder; nothing is destroyed. These commands list
and restore such papers.`,
	}
	cmd.AddCommand(&cobra.Command{
		Use:   "list",
		Short: "List papers in the trash",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(g)
			if err != nil {
				return err
			}
			defer a.close()
			ps, err := a.lib.Trashed()
			if err != nil {
				return err
			}
			for _, p := range ps {
				fmt.Fprintf(cmd.OutOrStdout(), "%s  %s  %s  (%s)\n", p.ID, p.Trashed.Format("2006-01-02 15:04"), p.Title, p.File.Path)
			}
			return nil
		},
	}, &cobra.Command{
		Use:     "restore ID...",
		Short:   "Restore papers from the trash",
		Example: "  paperfs trash restore 3hj7emn20b90",
		Args:    cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			a, err := openApp(g)
			if err != nil {
				return err
			}
			defer a.close()
			for _, id := range args {
				p, err := a.lib.Restore(id)
				if err != nil {
					return fmt.Errorf("restoring %s: %w", id, err)
				}
				fmt.Fprintf(cmd.OutOrStdout(), "restored %s  %s  (%s)\n", p.ID, p.Title, p.File.Path)
			}
			return nil
		},
	})
	return cmd
}
