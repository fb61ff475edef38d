package libdir

import (
	"errors"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// noOpenat2 is set once openat2 is found missing (Linux before 5.6, or a
// seccomp filter refusing it).
var noOpenat2 atomic.Bool

// openBeneath opens rel beneath dirfd without following any symlink.
func openBeneath(dirfd int, rel string, flags int, mode uint32) (int, error) {
	if !noOpenat2.Load() {
		how := unix.OpenHow{
			Flags:   uint64(flags | unix.O_CLOEXEC | unix.O_NOFOLLOW),
			Resolve: unix.RESOLVE_BENEATH | unix.RESOLVE_NO_SYMLINKS | unix.RESOLVE_NO_MAGICLINKS,
		}
		if flags&(unix.O_CREAT|unix.O_TMPFILE) != 0 {
			how.Mode = uint64(mode)
		}
		for {
			fd, err := unix.Openat2(dirfd, rel, &how)
			if errors.Is(err, unix.EINTR) || errors.Is(err, unix.EAGAIN) {
				continue // EAGAIN: a rename raced the lookup
			}
			if errors.Is(err, unix.ENOTDIR) {
				// A symlink where a folder was: the walk tells which.
				return walkOpen(dirfd, rel, flags, mode)
			}
			if !errors.Is(err, unix.ENOSYS) {
				return fd, symlinkErr(err)
			}
			break
		}
		noOpenat2.Store(true)
	}
	return walkOpen(dirfd, rel, flags, mode)
}
