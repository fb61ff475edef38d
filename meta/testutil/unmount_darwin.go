package testutil

import "golang.org/x/sys/unix"

// ForceUnmount unmounts dir even if busy, for a test's clean-up after the
// mount's own process failed to unmount it.
func ForceUnmount(dir string) error { return unix.Unmount(dir, unix.MNT_FORCE) }
