package libdir

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/windows"

	"github.com/paperfs/paperfs/meta"
)

// On Windows a Dir works through os.Root, which never resolves a path
// outside the folder, whatever reparse point is swapped in. On top of that
// each component is checked not to be a symlink or other reparse point
// before use; one swapped in after that check can only lead elsewhere
// inside the library folder.

func (d *Dir) openRoot() (*os.Root, error) { return os.OpenRoot(d.root) }

// noLinks refuses rel if it or a folder on its way is a symlink or another
// reparse point (a junction, a cloud placeholder is not one: it reports as
// a regular file).
func noLinks(r *os.Root, op, rel string, display string) error {
	if rel == "." {
		return nil
	}
	done := "."
	for _, p := range strings.Split(rel, "/") {
		done = join(done, p)
		fi, err := r.Lstat(filepath.FromSlash(done))
		if errors.Is(err, fs.ErrNotExist) {
			return nil // created later, or reported by the operation
		}
		if err != nil {
			return &os.PathError{Op: op, Path: meta.ShowPath(display), Err: err}
		}
		if fi.Mode()&(fs.ModeSymlink|fs.ModeIrregular) != 0 {
			return &os.PathError{Op: op, Path: meta.ShowPath(display), Err: ErrSymlink}
		}
	}
	return nil
}

func (d *Dir) prepare(op, rel string) (*os.Root, error) {
	if err := check(op, rel); err != nil {
		return nil, err
	}
	r, err := d.openRoot()
	if err != nil {
		return nil, err
	}
	if err := noLinks(r, op, rel, d.Abs(rel)); err != nil {
		r.Close()
		return nil, err
	}
	return r, nil
}

// OpenFile opens a file as os.OpenFile does, beneath the library folder.
func (d *Dir) OpenFile(rel string, flag int, perm fs.FileMode) (*os.File, error) {
	r, err := d.prepare("open", rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.OpenFile(filepath.FromSlash(rel), flag, perm)
}

// Lstat describes rel without following a symlink.
func (d *Dir) Lstat(rel string) (fs.FileInfo, error) {
	if rel == "." {
		return os.Stat(d.root)
	}
	r, err := d.prepare("lstat", rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return r.Lstat(filepath.FromSlash(rel))
}

// ReadDir lists a folder, sorted by name.
func (d *Dir) ReadDir(rel string) ([]fs.DirEntry, error) {
	r, err := d.prepare("readdir", rel)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	return fs.ReadDir(r.FS(), rel)
}

// Walk calls fn for the folder and everything beneath it, without entering
// symlinked folders.
func (d *Dir) Walk(ctx context.Context, fn WalkFunc) error {
	r, err := d.openRoot()
	if err != nil {
		return err
	}
	defer r.Close()
	return fs.WalkDir(r.FS(), ".", func(rel string, e fs.DirEntry, err error) error {
		if cerr := ctx.Err(); cerr != nil {
			return cerr
		}
		if err != nil {
			e = nil
		}
		return fn(rel, e, err)
	})
}

// MkdirAll makes a folder and its parents.
func (d *Dir) MkdirAll(rel string, perm fs.FileMode) error {
	r, err := d.prepare("mkdir", rel)
	if err != nil {
		return err
	}
	defer r.Close()
	return r.MkdirAll(filepath.FromSlash(rel), perm)
}

// Remove removes a file, symlink or empty folder.
func (d *Dir) Remove(rel string) error {
	if rel == "." {
		return &os.PathError{Op: "remove", Path: meta.ShowPath(d.root), Err: windows.ERROR_INVALID_PARAMETER}
	}
	if err := check("remove", rel); err != nil {
		return err
	}
	r, err := d.openRoot()
	if err != nil {
		return err
	}
	defer r.Close()
	dir, _ := split(rel)
	if err := noLinks(r, "remove", dir, d.Abs(rel)); err != nil {
		return err
	}
	return r.Remove(filepath.FromSlash(rel))
}

// Rename moves from to to, both in the library folder, never replacing a
// file at to (os.ErrExist then).
func (d *Dir) Rename(from, to string) error {
	for _, rel := range []string{from, to} {
		r, err := d.prepare("rename", split1(rel))
		if err != nil {
			return err
		}
		r.Close()
	}
	return moveNoReplace(d.Abs(from), d.Abs(to))
}

// Replace moves from to to, both in the library folder, replacing the
// file at to if there is one.
func (d *Dir) Replace(from, to string) error {
	for _, rel := range []string{from, to} {
		r, err := d.prepare("rename", split1(rel))
		if err != nil {
			return err
		}
		r.Close()
	}
	return os.Rename(d.Abs(from), d.Abs(to))
}

// MoveIn moves a file from outside the library folder to rel, never
// replacing a file there; ErrCrossDevice means it must be copied.
func (d *Dir) MoveIn(src, to string) error {
	r, err := d.prepare("rename", split1(to))
	if err != nil {
		return err
	}
	r.Close()
	return moveNoReplace(src, d.Abs(to))
}

func split1(rel string) string {
	if err := check("rename", rel); err != nil || rel == "." {
		return rel
	}
	dir, _ := split(rel)
	return dir
}

func moveNoReplace(from, to string) error {
	ff, tt := from, to
	from, to = meta.ShowPath(from), meta.ShowPath(to)
	f, err := windows.UTF16PtrFromString(ff)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	t, err := windows.UTF16PtrFromString(tt)
	if err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	// Without MOVEFILE_REPLACE_EXISTING an existing file is never replaced;
	// without MOVEFILE_COPY_ALLOWED a move across volumes fails.
	err = windows.MoveFileEx(f, t, 0)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, windows.ERROR_ALREADY_EXISTS), errors.Is(err, windows.ERROR_FILE_EXISTS):
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	case errors.Is(err, windows.ERROR_NOT_SAME_DEVICE):
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: ErrCrossDevice}
	}
	return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
}

// IsMountPoint is false on Windows, where a library folder that goes away
// is not there at all.
func (d *Dir) IsMountPoint() (bool, error) { return false, nil }
