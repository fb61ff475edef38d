package meta

import (
	"errors"
	"fmt"
	"os"
	"strings"

	"golang.org/x/sys/windows"
)

// lockFile takes an exclusive lock so that two processes never write one
// database: buntdb appends to its file with no locking of its own.
func lockFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("metadata database lock %s: %w", path, err)
	}
	ol := new(windows.Overlapped)
	err = windows.LockFileEx(windows.Handle(f.Fd()), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, ol)
	if err != nil {
		f.Close()
		if errors.Is(err, windows.ERROR_LOCK_VIOLATION) {
			return nil, fmt.Errorf("metadata database %s: %w (a running paperfs?)", strings.TrimSuffix(path, ".lock"), ErrLocked)
		}
		return nil, fmt.Errorf("metadata database lock %s: %w", path, err)
	}
	return f, nil
}
