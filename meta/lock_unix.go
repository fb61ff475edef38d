//go:build unix

package meta

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"syscall"
)

// lockFile takes an exclusive lock so that two processes never write one
// database: buntdb appends to its file with no locking of its own.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("metadata database lock %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, fmt.Errorf("metadata database %s: %w (a running paperfs mount?)", strings.TrimSuffix(path, ".lock"), ErrLocked)
		}
		return nil, fmt.Errorf("metadata database lock %s: %w", path, err)
	}
	return f, nil
}
