package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta"
)

// Backups of the store: a mount, scan and import make one when the newest
// is a day old, and the newest backupKeep are kept.
const (
	backupEvery = 24 * time.Hour
	backupKeep  = 5
	// backupPoll is how often a running mount asks whether one is due.
	backupPoll = time.Hour
)

type restoreOptions struct {
	FromServer bool
	Latest     bool
}

func newRestoreCommand(g *globalOptions) *cobra.Command {
	var opts restoreOptions
	cmd := &cobra.Command{
		Use:   "restore [BACKUP]",
		Short: "List the database's backups, restore one, or rebuild it from the sync server",
		Long: `paperfs keeps its metadata (tags, edits, notes) in a database in the data
directory and checks at every start that it still holds everything it
acknowledged. If not (a disk error, a file cut short), every command stops
with "metadata database ... is damaged" and writes nothing, so no paper is
lost or re-created; this command brings the library back.

Without arguments it lists the backups (a mount, scan or import makes one a
day; the newest five are kept, in the data directory's backups folder), each
checked. With a backup's name it puts that backup in place: edits made since
are lost. With --from-server it rebuilds the database from the sync server
instead, which holds every edit this device sent: use it when sync is set up.
Either way the replaced database is kept beside it (meta.db.replaced-TIME).

Stop a running mount first.`,
		Example: `  paperfs restore                      # list the backups
  paperfs restore --latest             # restore the newest good backup
  paperfs restore meta-20260101T030000.000Z.db
  paperfs restore --from-server        # when sync is configured`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runRestore(cmd.Context(), g, opts, args, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&opts.FromServer, "from-server", false, "rebuild the database from the sync server")
	cmd.Flags().BoolVar(&opts.Latest, "latest", false, "restore the newest backup that checks out")
	return cmd
}

func runRestore(ctx context.Context, g *globalOptions, opts restoreOptions, args []string, w, errw io.Writer) error {
	cfg, _, dataDir, err := resolve(g)
	if err != nil {
		return err
	}
	dbPath := filepath.Join(dataDir, "meta.db")
	backups, err := meta.ListBackups(dbPath, true)
	if err != nil {
		return err
	}
	synced := cfg.MongoDB.URI != ""
	switch {
	case opts.FromServer && (len(args) > 0 || opts.Latest):
		return fmt.Errorf("%w: --from-server takes no backup", errUsage)
	case opts.FromServer:
		if !synced {
			return errNoURI()
		}
		return rebuildFromServer(ctx, g, dbPath, w, errw)
	case len(args) == 0 && !opts.Latest:
		listBackups(w, backups, synced)
		return nil
	}
	var pick *meta.Backup
	for i, b := range backups {
		if opts.Latest && b.Err == nil || len(args) == 1 && (filepath.Base(b.Path) == filepath.Base(args[0])) {
			pick = &backups[i]
			break
		}
	}
	if pick == nil {
		if opts.Latest {
			return fmt.Errorf("no backup of %s checks out; see 'paperfs restore'", dbPath)
		}
		return fmt.Errorf("%w: no backup %s in %s; 'paperfs restore' lists them", errUsage, args[0], meta.BackupDir(dbPath))
	}
	if synced {
		// The backup's device would send ops with sequence numbers it
		// already sent after the backup was made.
		return fmt.Errorf("sync is configured: the server holds every edit this device sent, " +
			"including those made after the backup; rebuild from it with 'paperfs restore --from-server'")
	}
	kept, err := meta.Restore(dbPath, pick.Path)
	if errors.Is(err, meta.ErrLocked) {
		return fmt.Errorf("%w\na restore replaces the database under the paperfs process that has it open (a mount, serve webdav): stop that process, then restore", err)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "restored %s: %d papers as of %s\nthe replaced database is kept as %s\n",
		filepath.Base(pick.Path), pick.Papers, pick.Time.Local().Format(time.DateTime), kept)
	return nil
}

func listBackups(w io.Writer, backups []meta.Backup, synced bool) {
	if len(backups) == 0 {
		fmt.Fprintln(w, "no backups yet (a mount, scan or import makes one a day)")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "BACKUP\tLAST CHANGE\tPAPERS\tSIZE\tCHECK")
		for _, b := range backups {
			check := "ok"
			if b.Err != nil {
				check = "damaged: " + b.Err.Error()
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d KB\t%s\n", filepath.Base(b.Path), b.Time.Local().Format(time.DateTime), b.Papers, b.Size>>10, check)
		}
		tw.Flush()
	}
	if synced {
		fmt.Fprintln(w, "sync is configured: rebuild from the server with 'paperfs restore --from-server'")
	} else {
		fmt.Fprintln(w, "restore one with 'paperfs restore NAME' (or --latest)")
	}
}

// rebuildFromServer replaces the database with one downloaded from the
// sync server, as on a new device: its own edits come back as those of the
// device it was (a new device id, so nothing it sends collides with them).
// Edits this device never sent are in the kept file only.
func rebuildFromServer(ctx context.Context, g *globalOptions, dbPath string, w, errw io.Writer) error {
	kept, err := meta.MoveAside(dbPath)
	if err != nil {
		return err
	}
	if kept != "" {
		fmt.Fprintf(w, "the replaced database is kept as %s\n", kept)
	}
	if err := runSync(ctx, g, syncOptions{}, w, errw); err != nil {
		return fmt.Errorf("%w\nrun 'paperfs restore --from-server' again to finish the rebuild", err)
	}
	return nil
}

// damagedHint is the advice printed with an error that says the database
// is damaged.
func damagedHint(err error) string {
	if !errors.Is(err, meta.ErrDamaged) {
		return ""
	}
	return strings.Join([]string{
		"paperfs wrote nothing to it. To bring the library back:",
		"  paperfs restore                 lists the backups",
		"  paperfs restore --latest        restores the newest (edits since are lost)",
		"  paperfs restore --from-server   rebuilds it from the sync server, if sync is set up",
	}, "\n")
}

// keepBackups makes a backup of the store when one is due, now and then
// every backupPoll until ctx ends.
func keepBackups(ctx context.Context, a *app) {
	t := time.NewTicker(backupPoll)
	defer t.Stop()
	for {
		backupIfDue(a)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func backupIfDue(a *app) {
	made, err := a.store.BackupIfDue(backupEvery, backupKeep)
	switch {
	case err != nil:
		a.log.Warn("backing up the metadata database", "err", err)
	case made:
		a.log.Info("backed up the metadata database", "folder", meta.BackupDir(a.store.Path()))
	}
}
