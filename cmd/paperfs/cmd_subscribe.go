package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"

	psync "github.com/paperfs/paperfs/sync"
)

// SubscribeConfig is a "subscribe" entry of the config file: the part of
// a library this device holds (the personal library's at the top level, a
// shared library's in its "libraries" entry). Empty: all of it.
type SubscribeConfig struct {
	Tags    []string `json:"tags,omitempty"`
	Folders []string `json:"folders,omitempty"`
}

func (c SubscribeConfig) subscription() psync.Subscription {
	return psync.Subscription{Tags: c.Tags, Folders: c.Folders}.Normalized()
}

type subscribeOptions struct {
	Tags    []string
	Folders []string
	All     bool
}

func newSubscribeCommand(g *globalOptions) *cobra.Command {
	var opts subscribeOptions
	cmd := &cobra.Command{
		Use:   "subscribe [--tag TAG]... [--folder FOLDER]... | --all",
		Short: "See or choose the part of a shared library this device holds",
		Long: `Hold only part of a large shared library on this device: the papers with any
of the given tags or in any of the given folders. Sync then downloads only
those papers' changes, the database holds only them, and the mount shows
only them. A paper retagged into the subscription on another device arrives
with its whole history; one retagged out of it leaves this device once your
own edits to it are sent. Nothing is deleted on the server.

Without flags, shows the current subscription. --all holds the whole
library again (its other papers are downloaded at the next sync).

With --library NAME it is about that shared library, otherwise about the
personal one. The choice is saved in the config file (the library's
"subscribe" entry) and takes effect at once in a running mount of the
library, else at the next 'paperfs sync' or mount.`,
		Example: `  paperfs subscribe --library lab
  paperfs subscribe --library lab --tag reading-group --folder thesis
  paperfs subscribe --library lab --all`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f := cmd.Flags()
			return runSubscribe(g, opts, f.Changed("tag") || f.Changed("folder") || f.Changed("all"), cmd.OutOrStdout())
		},
	}
	cmd.Flags().StringArrayVar(&opts.Tags, "tag", nil, "hold the papers with this tag (repeatable)")
	cmd.Flags().StringArrayVar(&opts.Folders, "folder", nil, "hold the papers in this folder (repeatable)")
	cmd.Flags().BoolVar(&opts.All, "all", false, "hold the whole library")
	return cmd
}

func runSubscribe(g *globalOptions, opts subscribeOptions, change bool, w io.Writer) error {
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	what, current := "the personal library", cfg.Subscribe
	var shared *LibraryConfig
	if g.Library != "" {
		// A name or folder of the "libraries" list; any other folder is
		// the personal library's.
		if shared = cfg.library(g.Library); shared != nil {
			what, current = "the library "+shared.Name, shared.Subscribe
		}
	}
	if !change {
		fmt.Fprintf(w, "of %s, this device holds %s\n", what, current.subscription())
		return nil
	}
	sub := psync.Subscription{Tags: opts.Tags, Folders: opts.Folders}.Normalized()
	switch {
	case opts.All && !sub.All():
		return fmt.Errorf("%w: --all holds the whole library; leave out --tag and --folder", errUsage)
	case !opts.All && sub.All():
		return fmt.Errorf("%w: name a --tag or a --folder (or --all for the whole library)", errUsage)
	}
	path := configPath()
	if path == "" {
		return errors.New("no config file location: set PAPERFS_CONFIG or HOME")
	}
	val := SubscribeConfig{Tags: sub.Tags, Folders: sub.Folders}
	if shared != nil {
		err = setLibraryKey(path, shared.Name, "subscribe", val)
	} else {
		err = setConfigKey(path, "subscribe", val)
	}
	if err != nil {
		return err
	}
	if g.remote != nil {
		// Run in the process serving the library: its engine takes the
		// subscription from its next round, which it starts now.
		if eng := g.remote.app.syncing.Load(); eng != nil {
			eng.SetSubscription(sub)
			fmt.Fprintf(w, "of %s, this device now holds %s (saved in %s); the running mount follows from its next round\n", what, sub, path)
			return nil
		}
	}
	fmt.Fprintf(w, "of %s, this device will hold %s (saved in %s); it takes effect at the next 'paperfs sync' or mount\n", what, sub, path)
	return nil
}

// setLibraryKey sets key in the "libraries" entry named name of the config
// file at path, keeping everything else as written.
func setLibraryKey(path, name, key string, value any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	var top struct {
		Libraries []map[string]json.RawMessage `json:"libraries"`
	}
	if err := json.Unmarshal(b, &top); err != nil {
		return fmt.Errorf("config %s: %w", path, err)
	}
	v, err := json.Marshal(value)
	if err != nil {
		return err
	}
	for _, l := range top.Libraries {
		var n string
		if json.Unmarshal(l["name"], &n) == nil && strings.EqualFold(n, name) {
			l[key] = v
			return setConfigKey(path, "libraries", top.Libraries)
		}
	}
	return fmt.Errorf("config %s: no library %q in \"libraries\"", path, name)
}

// printSubscription is status's line about the subscription.
func printSubscription(w io.Writer, sy *psync.Status) {
	if sy.Subscription == nil {
		return
	}
	fmt.Fprintf(w, "  subscribed: %s (%d papers held here)\n", sy.Subscription, sy.SubscribedPapers)
}
