//go:build unix && !linux

package libdir

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// IsMountPoint reports whether the library folder is the root of a
// filesystem mounted there (a cloud drive, a network share): its device
// differs from its parent's.
func (d *Dir) IsMountPoint() (bool, error) {
	var a, b unix.Stat_t
	if err := unix.Stat(d.root, &a); err != nil {
		return false, &os.PathError{Op: "stat", Path: d.root, Err: err}
	}
	if err := unix.Stat(filepath.Dir(d.root), &b); err != nil {
		return false, &os.PathError{Op: "stat", Path: filepath.Dir(d.root), Err: err}
	}
	return a.Dev != b.Dev, nil
}
