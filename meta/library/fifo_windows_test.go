package library

import "errors"

// mkfifo: Windows has no FIFOs in the filesystem.
func mkfifo(path string) error { return errors.ErrUnsupported }
