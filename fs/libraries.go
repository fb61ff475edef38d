package fs

import (
	"errors"
	"fmt"
	"strings"
)

// ErrCrossLibrary: a rename or link between two libraries' views (the
// personal one and shared/<name>/ in one mount). Each library is its own
// store and folder, so nothing can move between them in place: mv then
// copies and deletes, as between two filesystems (EXDEV), and a PDF copied
// into another library's view is imported there. EXDEV, 502.
var ErrCrossLibrary = errors.New("between two libraries")

// CrossLibrary is the error of a rename from one library's view into
// another's, for every frontend.
func CrossLibrary(from, to string) error {
	return fmt.Errorf("moving %s to %s: %w (a paper is copied into another library, not moved)", from, to, ErrCrossLibrary)
}

// sameLibrary refuses to link into this library's view a paper's file
// from another library's.
func (f *FS) sameLibrary(n Node, file string) error {
	var of *FS
	switch t := n.(type) {
	case PDF:
		of = t.fs
	case *Sidecar:
		of = t.fs
	}
	if of != nil && of != f {
		return fmt.Errorf("linking %s: %w (copy the PDF instead)", file, ErrCrossLibrary)
	}
	return nil
}

// SharedDir is the directory at the top of the mount holding the other
// libraries' views, one directory each named as the library is in the
// config: shared/<name>/all/, shared/<name>/tags/, ...
const SharedDir = "shared"

// CheckSharedName checks that name can be a library's directory in
// shared/: each frontend asks it of the names it is given.
func CheckSharedName(name string) error {
	if name == "" || strings.ContainsAny(name, "/\\\x00") || name == "." || name == ".." {
		return fmt.Errorf("shared library name %q: not a directory name", name)
	}
	return nil
}

// SharedRefusal is the refusal of making, removing or renaming a library
// in shared/: libraries are added in the config file.
func (f *FS) SharedRefusal(name string) error {
	return f.refuse(SharedDir+"/"+name, "shared/ holds the libraries named in the config file; add or remove one there (\"libraries\")", ErrNotPermitted)
}
