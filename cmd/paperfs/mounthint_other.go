//go:build !linux

package main

// withMountHint: the hints are about fusermount3 and /dev/fuse (Linux);
// macFUSE's failures are explained by fs/fuse.
func withMountHint(err error, allowOther bool) error { return err }
