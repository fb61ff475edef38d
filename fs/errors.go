package fs

import (
	"errors"

	"github.com/paperfs/paperfs/meta"
)

// Errors of the view, beside meta's (ErrNotFound, ErrInvalid, ErrExists,
// ErrNotEmpty, ErrReadOnly). Frontends map each to their own code in one
// place (fs/fuse: errno; fs/webdav: HTTP status).
var (
	// ErrNotPermitted: the view has no meaning for the operation there
	// (a folder inside a view, a PDF renamed in place). EPERM, 403.
	ErrNotPermitted = errors.New("not permitted in this view")
	// ErrReadOnlyView: the library cannot be written through this view
	// (no library folder to import into or trash from). EROFS, 403.
	ErrReadOnlyView = errors.New("read-only view")
	// ErrTooLarge: what was written is larger than such a file may be.
	// EFBIG, 413. It is meta's, so the store's bound and the view's are
	// one.
	ErrTooLarge = meta.ErrTooLarge
	// ErrStale: the name changed meaning between lookup and use. ESTALE.
	ErrStale = errors.New("stale name")
)

// Refusal is an operation the view does not allow, with the reason the
// user is given.
type Refusal struct {
	File   string // the file or directory, as the view names it
	Reason string // what to do instead
	Err    error  // the kind: ErrNotPermitted, ErrReadOnlyView, ...
}

func (r *Refusal) Error() string { return r.File + ": " + r.Reason }
func (r *Refusal) Unwrap() error { return r.Err }
