// Package libdir is the only way paperfs touches the library folder: every
// open, stat, listing, rename, removal and mkdir there goes through a Dir,
// which resolves paths beneath the library folder without following any
// symlink, so a file or folder swapped for a symlink (to /etc/shadow, or to
// a folder outside) is refused with ErrSymlink instead of being read,
// written, moved or deleted through.
//
// How it is enforced depends on the platform:
//
//   - Linux 5.6 and later: openat2(2) with RESOLVE_BENEATH and
//     RESOLVE_NO_SYMLINKS; the kernel resolves the whole path atomically.
//   - Older Linux (openat2 answers ENOSYS), macOS and the BSDs: a walk from
//     the library folder, one component at a time, each opened with openat
//     and O_NOFOLLOW relative to the folder opened before it, so a symlink
//     swapped in anywhere along the path, even between a check and a use,
//     is refused.
//   - Windows: os.Root (which never resolves outside the folder, even
//     through a reparse point swapped in), plus a check that no component
//     is a symlink or other reparse point. A reparse point swapped in after
//     that check can still lead elsewhere inside the library folder, never
//     outside it.
//
// Only the library folder's own path is resolved normally (it may itself be
// a symlink the user chose, such as ~/Dropbox). It is opened afresh for each
// operation, so a folder that is unmounted and mounted again (a cloud drive
// restarting) is followed rather than held open.
//
// Paths given to a Dir are relative, slash-separated and clean ("." is the
// folder itself); anything else is refused with meta.ErrInvalid.
package libdir

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// ErrSymlink is the error (inside an *os.PathError) for a path that runs
// into a symlink or leaves the library folder.
var ErrSymlink error = syscall.ELOOP

// ErrCrossDevice says a move needs a copy: source and destination are on
// different filesystems.
var ErrCrossDevice = errors.New("cross-device move")

// Dir is a library folder. It holds no open file: the zero cost of that is
// one open of the folder per operation.
type Dir struct {
	root string // absolute, read-only
}

// New returns the Dir for a library folder given by its absolute path.
func New(root string) *Dir { return &Dir{root: filepath.Clean(root)} }

// Path is the library folder's absolute path.
func (d *Dir) Path() string { return d.root }

// Abs is the absolute path of a relative one, for messages and for tools
// that need a path; opening it by that path follows symlinks, so paperfs
// itself never does.
func (d *Dir) Abs(rel string) string { return filepath.Join(d.root, filepath.FromSlash(rel)) }

// show is a path for messages: escaped where printing it as it is could
// drive a terminal.
func (d *Dir) show(rel string) string { return meta.ShowPath(d.Abs(rel)) }

// Open opens a file for reading.
func (d *Dir) Open(rel string) (*os.File, error) { return d.OpenFile(rel, os.O_RDONLY, 0) }

// check refuses paths that are not relative, clean and inside the folder.
func check(op, rel string) error {
	if rel == "." {
		return nil
	}
	err := meta.CheckRelPath(rel)
	if err == nil && strings.ContainsRune(rel, '\\') && filepath.Separator == '\\' {
		err = fmt.Errorf("%q contains a backslash: %w", rel, meta.ErrInvalid)
	}
	if err != nil {
		return &os.PathError{Op: op, Path: meta.ShowPath(rel), Err: err}
	}
	return nil
}

// split is a path's parent folder and last component.
func split(rel string) (dir, base string) { return path.Dir(rel), path.Base(rel) }

// fileInfo is an fs.FileInfo built from a stat done relative to a folder.
type fileInfo struct {
	name  string
	size  int64
	mode  fs.FileMode
	mtime time.Time
	sys   any
}

func (fi *fileInfo) Name() string       { return fi.name }
func (fi *fileInfo) Size() int64        { return fi.size }
func (fi *fileInfo) Mode() fs.FileMode  { return fi.mode }
func (fi *fileInfo) ModTime() time.Time { return fi.mtime }
func (fi *fileInfo) IsDir() bool        { return fi.mode.IsDir() }
func (fi *fileInfo) Sys() any           { return fi.sys }

// WalkFunc is called by Walk for the folder itself (".") and every entry
// beneath it, parents before children. e.Info never follows a symlink.
// Returning fs.SkipDir for a folder skips it, fs.SkipAll stops the walk. A
// folder that cannot be read is reported with a nil e and its error; the
// walk then goes on, unless fn returns an error.
type WalkFunc func(rel string, e fs.DirEntry, err error) error

func join(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// CreateTemp creates a new file with a random name starting with prefix in
// folder dir, readable and writable by the owner only; it returns the file
// and its path.
func (d *Dir) CreateTemp(dir, prefix string) (*os.File, string, error) {
	for {
		var b [6]byte
		rand.Read(b[:])
		rel := join(dir, prefix+hex.EncodeToString(b[:]))
		f, err := d.OpenFile(rel, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		return f, rel, err
	}
}
