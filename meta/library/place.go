package library

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"runtime"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/libdir"
)

// Placing files in the library folder: never replacing one, never through
// a symlink, a copy fsynced before it takes its name.

// importPrefix starts the name of a copy on its way into the library
// folder; one left by a killed import is removed by the next scan.
const importPrefix = ".paperfs-import-"

// A name is free when no file in its folder has it in any case or Unicode
// form (see takenNames): the cloud drive carries the folder to macOS and
// Windows.

// moveWithin moves the library file rel to a free name built from base in
// the library folder dir, never replacing a file, and returns the path it
// took.
func (l *Library) moveWithin(rel, dir, base string) (string, error) {
	if err := l.dir.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	taken, err := l.takenNames(dir)
	if err != nil {
		return "", err
	}
	for i := 1; ; i++ {
		if taken[meta.NameKey(candidate(base, i))] {
			continue
		}
		dst := path.Join(dir, candidate(base, i))
		err := l.dir.Rename(rel, dst)
		switch {
		case err == nil:
			return dst, nil
		case errors.Is(err, os.ErrExist):
			continue
		case errors.Is(err, libdir.ErrCrossDevice):
			// A folder of the library on another filesystem: copy.
			in, err := l.dir.Open(rel)
			if err != nil {
				return "", err
			}
			dst, err := l.copyIn(in, dir, base)
			in.Close()
			if err != nil {
				return "", err
			}
			return dst, l.dir.Remove(rel)
		default:
			return "", err
		}
	}
}

// bringIn moves or copies src, a file outside the library folder, to a
// free name built from base in the library folder dir, never replacing a
// file, and returns the path it took. A copy is fsynced before it appears
// under its final name.
func (l *Library) bringIn(src, dir, base string, move bool) (string, error) {
	if err := l.dir.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	taken, err := l.takenNames(dir)
	if err != nil {
		return "", err
	}
	if move {
		for i := 1; ; i++ {
			if taken[meta.NameKey(candidate(base, i))] {
				continue
			}
			dst := path.Join(dir, candidate(base, i))
			err := l.moveSource(src, dst)
			if err == nil {
				return dst, nil
			}
			if errors.Is(err, os.ErrExist) {
				continue
			}
			if errors.Is(err, libdir.ErrCrossDevice) {
				break // copy below, then remove the source
			}
			return "", err
		}
	}
	in, err := l.openSource(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	dst, err := l.copyIn(in, dir, base)
	if err == nil && move {
		l.removeSource(src)
	}
	return dst, err
}

// openSource opens a file to import. One inside the library folder (a
// file copied into the mount waits in a hidden folder there) is opened
// through libdir, so a symlink swapped in is refused; one outside is the
// user's to name.
func (l *Library) openSource(src string) (*os.File, error) {
	if rel, err := l.Rel(src); err == nil && rel != "." {
		return l.dir.Open(rel)
	}
	return os.Open(src)
}

// moveSource moves a file to import to dst in the library folder, never
// replacing a file there; one already inside the folder moves through
// libdir, not by its path.
func (l *Library) moveSource(src, dst string) error {
	if rel, err := l.Rel(src); err == nil && rel != "." {
		return l.dir.Rename(rel, dst)
	}
	return l.dir.MoveIn(src, dst)
}

// removeSource removes an imported file after it was copied (a move).
func (l *Library) removeSource(src string) error {
	if rel, err := l.Rel(src); err == nil && rel != "." {
		return l.dir.Remove(rel)
	}
	return os.Remove(src)
}

// copyIn writes r to a free name built from base in the library folder
// dir, through a hidden temporary file that is fsynced before it takes
// its name. The temporary file is locked while it is written, so a scan
// can tell one a killed import left from one in progress.
func (l *Library) copyIn(r io.Reader, dir, base string) (string, error) {
	tmp, tmpRel, err := l.dir.CreateTemp(dir, importPrefix)
	if err != nil {
		return "", err
	}
	lockTemp(tmp)
	closed := false
	defer func() {
		if !closed {
			tmp.Close()
		}
		l.dir.Remove(tmpRel) // fails harmlessly once renamed
	}()
	if _, err := io.Copy(tmp, r); err != nil {
		return "", fmt.Errorf("copying %s: %w", meta.ShowPath(tmp.Name()), err)
	}
	if err := tmp.Sync(); err != nil {
		return "", err
	}
	if err := tmp.Chmod(0o644); err != nil {
		return "", err
	}
	if !renameOpenFiles {
		if err := tmp.Close(); err != nil {
			return "", err
		}
		closed = true
	}
	taken, err := l.takenNames(dir)
	if err != nil {
		return "", err
	}
	for i := 1; ; i++ {
		if taken[meta.NameKey(candidate(base, i))] {
			continue
		}
		dst := path.Join(dir, candidate(base, i))
		err := l.dir.Rename(tmpRel, dst)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if !closed {
			closed = true
			if err := tmp.Close(); err != nil {
				return "", err
			}
		}
		return dst, nil
	}
}

// renameOpenFiles: the copy is renamed while still open (and locked);
// Windows can't rename an open file.
const renameOpenFiles = runtime.GOOS != "windows"

// staleAfter is how long a leftover of the mount (a .paperfs-incoming-
// folder), or an import's copy where files can't be locked, must have
// been left untouched before a scan cleans it up.
const staleAfter = time.Hour

// candidate is the i-th name tried for a file: "base.pdf", "base (2).pdf"...
func candidate(base string, i int) string {
	if i == 1 {
		return base + ".pdf"
	}
	return fmt.Sprintf("%s (%d).pdf", base, i)
}
