package fs

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"syscall"

	"github.com/paperfs/paperfs/meta"
)

// errno is the one place where errors become errno values. go-fuse's own
// conversion turns unknown wrapped errors into ENOSYS, which editors
// misreport as "function not implemented"; here anything unexpected is
// logged with its context and becomes EIO.
func (f *FS) errno(op string, err error, attrs ...any) syscall.Errno {
	if err == nil {
		return 0
	}
	var en syscall.Errno
	switch {
	case errors.As(err, &en):
		return en
	case errors.Is(err, meta.ErrNotFound), errors.Is(err, fs.ErrNotExist):
		return syscall.ENOENT
	case errors.Is(err, meta.ErrInvalid), errors.Is(err, meta.ErrReadOnly):
		return syscall.EINVAL
	case errors.Is(err, meta.ErrExists), errors.Is(err, fs.ErrExist):
		return syscall.EEXIST
	case errors.Is(err, meta.ErrNotEmpty):
		return syscall.ENOTEMPTY
	case errors.Is(err, fs.ErrPermission):
		return syscall.EACCES
	case errors.Is(err, context.Canceled):
		return syscall.EINTR
	}
	f.log.Error(op+" failed", append(attrs, slog.Any("err", err))...)
	return syscall.EIO
}
