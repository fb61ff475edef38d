package testutil

import "syscall"

// ForceUnmount detaches the mount at dir, for a test's clean-up after the
// mount's own process failed to unmount it.
func ForceUnmount(dir string) error { return syscall.Unmount(dir, syscall.MNT_DETACH) }
