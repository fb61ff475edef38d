package library

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

var errCrossDevice = errors.New("cross-device move")

// renameNoReplace renames without ever replacing an existing file.
func renameNoReplace(src, dst string) error {
	err := unix.Renameat2(unix.AT_FDCWD, src, unix.AT_FDCWD, dst, unix.RENAME_NOREPLACE)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return os.ErrExist
	case errors.Is(err, unix.EXDEV):
		return errCrossDevice
	case errors.Is(err, unix.EINVAL), errors.Is(err, unix.ENOSYS):
		// The filesystem lacks RENAME_NOREPLACE (some FUSE and network
		// drives): link then unlink gives the same guarantee.
		if err := os.Link(src, dst); err != nil {
			if errors.Is(err, os.ErrExist) {
				return os.ErrExist
			}
			return &os.LinkError{Op: "rename", Old: src, New: dst, Err: err}
		}
		return os.Remove(src)
	}
	return &os.LinkError{Op: "rename", Old: src, New: dst, Err: err}
}
