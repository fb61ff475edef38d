package libdir

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// IsMountPoint reports whether the library folder is the root of a
// filesystem mounted there (a cloud drive, a network share, a bind mount):
// its mount differs from its parent's.
func (d *Dir) IsMountPoint() (bool, error) {
	var a, b unix.Statx_t
	if err := unix.Statx(unix.AT_FDCWD, d.root, 0, unix.STATX_MNT_ID|unix.STATX_INO, &a); err != nil {
		return false, &os.PathError{Op: "statx", Path: d.root, Err: err}
	}
	if err := unix.Statx(unix.AT_FDCWD, filepath.Dir(d.root), 0, unix.STATX_MNT_ID|unix.STATX_INO, &b); err != nil {
		return false, &os.PathError{Op: "statx", Path: filepath.Dir(d.root), Err: err}
	}
	if a.Mask&b.Mask&unix.STATX_MNT_ID != 0 {
		return a.Mnt_id != b.Mnt_id, nil
	}
	return a.Dev_major != b.Dev_major || a.Dev_minor != b.Dev_minor, nil
}
