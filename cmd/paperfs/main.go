// Command paperfs mounts a research-paper library as a filesystem: folders
// by tag, author and year, each paper as its PDF and an editable JSON
// sidecar, synced across devices through MongoDB.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/extract"
)

func main() {
	// The extraction worker is this binary too; it must not parse flags or
	// read config, so it is dispatched before cobra.
	if len(os.Args) > 1 && os.Args[1] == workerCommand {
		os.Exit(extract.WorkerMain(os.Args[2:], os.Stdin, os.Stdout))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The arguments are kept to hand the command to a running mount when
	// it holds the store (remote_cli.go).
	g := &globalOptions{argv: os.Args[1:]}
	err := g.locked(newRootCommand(g).ExecuteContext(ctx))
	if code := exitStatus(os.Stderr, err); code != 0 {
		os.Exit(code)
	}
}

// exitStatus reports a command's error on w and returns the exit status:
// 0 for none, 2 for a usage error, 1 for any other.
func exitStatus(w io.Writer, err error) int {
	if err == nil {
		return 0
	}
	var ran remoteExit
	if errors.As(err, &ran) {
		return int(ran) // the serving process has said why
	}
	fmt.Fprintln(w, "paperfs:", err)
	if hint := damagedHint(err); hint != "" {
		fmt.Fprintln(w, hint)
	}
	if errors.Is(err, errUsage) {
		return 2
	}
	return 1
}

var errUsage = errors.New("usage")

func newRootCommand(g *globalOptions) *cobra.Command {
	root := &cobra.Command{
		Use:   "paperfs",
		Short: "Your paper library as a filesystem, synced across devices",
		Long: `paperfs mounts a research-paper library as a filesystem. Browse it by tag,
author, year or folder in any file manager; each paper shows as its PDF and a
JSON sidecar with its metadata, which you can edit with any editor.

The PDFs stay in your library folder (often a OneDrive/Dropbox folder). The
metadata lives in a database in your data directory, one per device, and can
sync through MongoDB (Atlas or your own server).

The library folder comes from --library, else $PAPERFS_LIBRARY, else
"library" in the config file (` + configPath() + `).`,
		Example: `  paperfs --library ~/OneDrive/Papers mount ~/papers
  paperfs --library ~/OneDrive/Papers import ~/Downloads/*.pdf
  paperfs status`,
		Version:       versionString(),
		SilenceUsage:  true,
		SilenceErrors: true,
		// A command that reads or changes the library runs in the process
		// serving it, if one does (remote_cli.go).
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error { return g.beforeRun(cmd) },
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.PersistentFlags().StringVar(&g.Library, "library", "", "library folder holding the PDFs, or the name of a shared library of the config's \"libraries\"")
	root.PersistentFlags().StringVar(&g.DataDir, "data-dir", "", "where this device keeps the library's database (default: under $XDG_DATA_HOME/paperfs)")
	root.PersistentFlags().BoolVar(&g.Debug, "debug", false, "log debug messages, including every FUSE request")
	root.PersistentFlags().BoolVar(&g.Offline, "offline", false, "look nothing up online (as \"lookup\": false in the config file)")
	root.AddCommand(newMountCommand(g), newUnmountCommand(), newScanCommand(g), newImportCommand(g),
		newStatusCommand(g), newSyncCommand(g), newTrashCommand(g), newMigrateCommand(g), newExportCommand(g),
		newRestoreCommand(g), newLookupCommand(g), newDuplicatesCommand(g), newMergeCommand(g), newDocsCommand(),
		newRenameCommand(g), newServeCommand(g), newLogCommand(g), newSubscribeCommand(g))
	return root
}
