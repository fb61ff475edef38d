//go:build !linux

package main

import (
	"fmt"
	"runtime"
)

// withMountHint adds what to check when a mount failed. The Linux hints
// are about fusermount3 and /dev/fuse; on macOS it is macFUSE.
func withMountHint(err error, allowOther bool) error {
	if err == nil || runtime.GOOS != "darwin" {
		return err
	}
	return fmt.Errorf("%w (is macFUSE installed, and allowed in System Settings > Privacy & Security?)", err)
}
