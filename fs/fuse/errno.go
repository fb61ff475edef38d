//go:build linux || darwin

package fuse

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"syscall"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// errno is the one place where errors become errno values. go-fuse's own
// conversion turns unknown wrapped errors into ENOSYS, which editors
// misreport as "function not implemented"; here anything unexpected is
// logged with its context and becomes EIO. Only invalid input is EINVAL:
// a storage failure is the machine's, not the user's.
func (f *FS) errno(op string, err error, attrs ...any) syscall.Errno {
	if err == nil {
		return 0
	}
	switch {
	case errors.Is(err, pfs.ErrReadOnlyLibrary):
		return syscall.EROFS // the view logged why
	case errors.Is(err, pfs.ErrCrossLibrary):
		return syscall.EXDEV // mv copies and deletes instead
	case errors.Is(err, meta.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, pfs.ErrNotPermitted):
		return syscall.EPERM
	case errors.Is(err, pfs.ErrReadOnlyView):
		return syscall.EROFS
	case errors.Is(err, pfs.ErrTooLarge):
		return syscall.EFBIG
	case errors.Is(err, pfs.ErrStale):
		return syscall.ESTALE
	case errors.Is(err, meta.ErrInvalid), errors.Is(err, meta.ErrReadOnly):
		return syscall.EINVAL
	case errors.Is(err, meta.ErrExists), errors.Is(err, fs.ErrExist):
		return syscall.EEXIST
	case errors.Is(err, meta.ErrNotEmpty):
		return syscall.ENOTEMPTY
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	case errors.Is(err, meta.ErrDamaged):
		f.log.Error(op+" failed: the database is damaged; see paperfs status and paperfs restore", append(attrs, slog.Any("err", err))...)
		return syscall.EIO
	}
	var en syscall.Errno
	if errors.As(err, &en) {
		switch en {
		case syscall.ELOOP:
			f.log.Warn(op+" refused: a symlink in the library folder, swapped in for a file or folder paperfs indexed, is never followed", attrs...)
			return en
		case syscall.ENOSPC, syscall.EDQUOT, syscall.EROFS, syscall.EACCES, syscall.EPERM, syscall.EIO, syscall.EFBIG:
			if en != syscall.EACCES && en != syscall.EPERM {
				f.log.Error(op+" failed", append(attrs, slog.Any("err", err))...)
			}
			return en
		}
		f.log.Error(op+" failed", append(attrs, slog.Any("err", err))...)
		return syscall.EIO
	}
	if errors.Is(err, fs.ErrPermission) {
		return syscall.EACCES
	}
	f.log.Error(op+" failed", append(attrs, slog.Any("err", err))...)
	return syscall.EIO
}
