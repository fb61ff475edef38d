package main

import (
	"errors"

	"github.com/spf13/cobra"
)

// errNoMount is what mount says on Windows, where go-fuse does not run.
var errNoMount = errors.New("paperfs cannot mount a filesystem on Windows (there is no FUSE for it that paperfs uses); " +
	"serve the library with `paperfs serve webdav` and map it as a network drive in Explorer instead")

func newMountCommand(g *globalOptions) *cobra.Command {
	return &cobra.Command{
		Use:   "mount MOUNTPOINT",
		Short: "Mount the library (not available on Windows: use serve webdav)",
		RunE:  func(cmd *cobra.Command, args []string) error { return errNoMount },
	}
}

func newUnmountCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "unmount MOUNTPOINT",
		Short: "Unmount a paperfs mount (not available on Windows)",
		RunE:  func(cmd *cobra.Command, args []string) error { return errNoMount },
	}
}
