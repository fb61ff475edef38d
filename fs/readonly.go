package fs

import (
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrReadOnlyLibrary: the library may only be read by this device (its
// database user may only read the shared library's database). Every write
// in its views answers it: EROFS, 403. Unlike ErrReadOnlyView it is not a
// property of the view but of the member, and it can change while mounted.
var ErrReadOnlyLibrary = errors.New("read-only library")

// writable refuses a write to file when the library is read-only for this
// device (Options.ReadOnly): the reason is logged and listed in
// .paperfs/errors, and the error wraps both ErrReadOnlyLibrary and the
// reason Options.ReadOnly gave. Nothing is queued that could never be
// sent.
func (f *FS) writable(file string) error {
	err := f.readOnlyErr(file)
	if err == nil {
		return nil
	}
	reason := err.(*Refusal).Reason
	f.log.Warn("refused: the library is read-only for this device", slog.String("file", file), slog.String("reason", reason))
	f.addRejection(Rejection{Time: time.Now(), File: file, Problem: "read-only library: " + cut(reason)})
	return err
}

// readOnlyErr is writable's error, neither logged nor listed.
func (f *FS) readOnlyErr(file string) error {
	why := f.ReadOnly()
	if why == nil {
		return nil
	}
	return &Refusal{File: file, Reason: why.Error(), Err: fmt.Errorf("%w: %w", ErrReadOnlyLibrary, why)}
}

// ReadOnly reports why the library is read-only for this device, or nil.
func (f *FS) ReadOnly() error {
	if f.opts.ReadOnly == nil {
		return nil
	}
	return f.opts.ReadOnly()
}
