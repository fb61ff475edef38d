//go:build unix

package library

import (
	"errors"
	"os"
	"time"

	"golang.org/x/sys/unix"
)

// lockTemp locks a temporary file being written; the lock goes with the
// process, so a file whose lock can be taken was left by one that died.
func lockTemp(f *os.File) {
	for unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB) == unix.EINTR {
	}
}

// abandoned reports whether a temporary file was left by a process that
// died: no one holds its lock. Where locks are not supported (some
// network drives) it must be untouched for staleAfter.
func abandoned(f *os.File) bool {
	err := unix.Flock(int(f.Fd()), unix.LOCK_EX|unix.LOCK_NB)
	switch {
	case err == nil:
		return true
	case errors.Is(err, unix.EWOULDBLOCK), errors.Is(err, unix.EINTR):
		return false
	}
	st, serr := f.Stat()
	return serr == nil && time.Since(st.ModTime()) > staleAfter
}
