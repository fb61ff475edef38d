package meta

import (
	"errors"
	"fmt"
)

// Domain errors. fs/ maps them to errno in one place; callers test them with
// errors.Is.
var (
	ErrNotFound = errors.New("not found")
	ErrInvalid  = errors.New("invalid metadata")
	ErrExists   = errors.New("already exists")
	ErrReadOnly = errors.New("read-only field")
	ErrNotEmpty = errors.New("not empty")
	// ErrTooLarge: a sidecar or a paper's metadata past MaxSidecarBytes
	// (EFBIG).
	ErrTooLarge = errors.New("too large")
)

// DuplicateOf is an error saying that what was to be added is a paper
// already (it wraps ErrExists): errors.As finds it, and PaperID names the
// paper. meta/library's import returns one; the view joins the paper
// that is there instead.
type DuplicateOf interface {
	error
	PaperID() string
}

// FieldError says which field of a paper is wrong and why.
type FieldError struct {
	Field  string
	Reason string
	Err    error // ErrInvalid or ErrReadOnly
}

func (e *FieldError) Error() string { return fmt.Sprintf("%s: %s", e.Field, e.Reason) }
func (e *FieldError) Unwrap() error { return e.Err }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...), Err: ErrInvalid}
}
