//go:build unix

package libdir

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/paperfs/paperfs/meta"
)

// openRoot opens the library folder itself.
func (d *Dir) openRoot() (int, error) {
	fd, err := unix.Open(d.root, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, &os.PathError{Op: "open", Path: meta.ShowPath(d.root), Err: err}
	}
	return fd, nil
}

// walkOpen opens rel beneath dirfd one component at a time, never
// following a symlink: the portable form of openBeneath.
func walkOpen(dirfd int, rel string, flags int, mode uint32) (int, error) {
	if rel == "." {
		return unix.Openat(dirfd, ".", flags|unix.O_CLOEXEC, mode)
	}
	parts := strings.Split(rel, "/")
	cur := dirfd
	for _, p := range parts[:len(parts)-1] {
		fd, err := openDirAt(cur, p)
		if cur != dirfd {
			unix.Close(cur)
		}
		if err != nil {
			return -1, err
		}
		cur = fd
	}
	last := parts[len(parts)-1]
	fd, err := unix.Openat(cur, last, flags|unix.O_NOFOLLOW|unix.O_CLOEXEC, mode)
	if errors.Is(err, unix.ENOTDIR) && isSymlinkAt(cur, last) {
		err = unix.ELOOP
	}
	if cur != dirfd {
		unix.Close(cur)
	}
	return fd, symlinkErr(err)
}

// openDirAt opens the folder name in dirfd, refusing a symlink.
func openDirAt(dirfd int, name string) (int, error) {
	fd, err := unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
	if errors.Is(err, unix.ENOTDIR) && isSymlinkAt(dirfd, name) {
		// Linux answers ENOTDIR for a symlink opened with O_DIRECTORY.
		err = unix.ELOOP
	}
	return fd, symlinkErr(err)
}

func isSymlinkAt(dirfd int, name string) bool {
	var st unix.Stat_t
	return unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && uint32(st.Mode)&unix.S_IFMT == unix.S_IFLNK
}

// symlinkErr names the errors a symlink in the way gives as ErrSymlink:
// O_NOFOLLOW with O_DIRECTORY answers ENOTDIR on some systems, and
// RESOLVE_BENEATH answers EXDEV for a path that would leave the folder.
func symlinkErr(err error) error {
	if errors.Is(err, unix.EMLINK) || errors.Is(err, unix.EXDEV) {
		return unix.ELOOP
	}
	return err
}

// open opens rel beneath the library folder, never following a symlink.
func (d *Dir) open(op, rel string, flags int, mode uint32) (int, error) {
	if err := check(op, rel); err != nil {
		return -1, err
	}
	root, err := d.openRoot()
	if err != nil {
		return -1, err
	}
	defer unix.Close(root)
	fd, err := openBeneath(root, rel, flags, mode)
	if err != nil {
		return -1, &os.PathError{Op: op, Path: d.show(rel), Err: err}
	}
	return fd, nil
}

// OpenFile opens a file as os.OpenFile does, beneath the library folder and
// without following symlinks. Opening a FIFO or device does not block: it
// is opened non-blocking, and regular files are switched back. The file's
// Name is its path for messages (escaped as meta.ShowPath does): never
// open it again by that name.
func (d *Dir) OpenFile(rel string, flag int, perm fs.FileMode) (*os.File, error) {
	fd, err := d.open("open", rel, flag|unix.O_NONBLOCK, uint32(perm.Perm()))
	if err != nil {
		return nil, err
	}
	if flag&unix.O_NONBLOCK == 0 {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Mode&unix.S_IFMT == unix.S_IFREG {
			unix.SetNonblock(fd, false)
		}
	}
	return os.NewFile(uintptr(fd), d.show(rel)), nil
}

// openParent opens the folder holding rel and returns it with rel's last
// component.
func (d *Dir) openParent(op, rel string) (int, string, error) {
	if err := check(op, rel); err != nil {
		return -1, "", err
	}
	if rel == "." {
		return -1, "", &os.PathError{Op: op, Path: meta.ShowPath(d.root), Err: unix.EINVAL}
	}
	dir, base := split(rel)
	fd, err := d.open(op, dir, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	return fd, base, err
}

// Lstat describes rel without following a symlink, in it or on the way.
func (d *Dir) Lstat(rel string) (fs.FileInfo, error) {
	if rel == "." {
		var st unix.Stat_t
		if err := unix.Stat(d.root, &st); err != nil {
			return nil, &os.PathError{Op: "lstat", Path: meta.ShowPath(d.root), Err: err}
		}
		return infoOf(".", &st), nil
	}
	pfd, base, err := d.openParent("lstat", rel)
	if err != nil {
		return nil, err
	}
	defer unix.Close(pfd)
	return lstatAt(pfd, base, d.Abs(rel))
}

func lstatAt(dirfd int, name, display string) (fs.FileInfo, error) {
	var st unix.Stat_t
	if err := unix.Fstatat(dirfd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
		return nil, &os.PathError{Op: "lstat", Path: meta.ShowPath(display), Err: err}
	}
	return infoOf(name, &st), nil
}

func infoOf(name string, st *unix.Stat_t) *fileInfo {
	mode := fs.FileMode(st.Mode & 0o777)
	switch uint32(st.Mode) & unix.S_IFMT {
	case unix.S_IFDIR:
		mode |= fs.ModeDir
	case unix.S_IFLNK:
		mode |= fs.ModeSymlink
	case unix.S_IFIFO:
		mode |= fs.ModeNamedPipe
	case unix.S_IFSOCK:
		mode |= fs.ModeSocket
	case unix.S_IFCHR:
		mode |= fs.ModeDevice | fs.ModeCharDevice
	case unix.S_IFBLK:
		mode |= fs.ModeDevice
	}
	sec, nsec := st.Mtim.Unix()
	// Sys is a *syscall.Stat_t, as os.Lstat's is, for code that reads the
	// owner from it: the same C struct as unix.Stat_t, of the same size.
	sys := (*syscall.Stat_t)(unsafe.Pointer(st))
	return &fileInfo{name: name, size: st.Size, mode: mode, mtime: time.Unix(sec, nsec), sys: sys}
}

// Stat_t of syscall and of x/sys/unix are one struct; these fail to
// compile if their sizes ever differ.
var (
	_ [unsafe.Sizeof(unix.Stat_t{}) - unsafe.Sizeof(syscall.Stat_t{})]byte
	_ [unsafe.Sizeof(syscall.Stat_t{}) - unsafe.Sizeof(unix.Stat_t{})]byte
)

// ReadDir lists a folder, sorted by name. The entries' Info resolves
// their path again, without following symlinks.
func (d *Dir) ReadDir(rel string) ([]fs.DirEntry, error) {
	fd, err := d.open("readdir", rel, unix.O_RDONLY|unix.O_DIRECTORY, 0)
	if err != nil {
		return nil, err
	}
	defer unix.Close(fd)
	es, err := readDir(fd, d.Abs(rel))
	for i, e := range es {
		es[i] = &relEntry{DirEntry: e, d: d, rel: join(rel, e.Name())}
	}
	return es, err
}

// relEntry is an entry of ReadDir, whose folder is closed by then.
type relEntry struct {
	fs.DirEntry
	d   *Dir
	rel string
}

func (e *relEntry) Info() (fs.FileInfo, error) { return e.d.Lstat(e.rel) }

// readDir lists the folder open as fd; the entries' Info stats relative to
// fd, so fd must stay open while they are used.
func readDir(fd int, display string) ([]fs.DirEntry, error) {
	dup, err := unix.Dup(fd)
	if err != nil {
		return nil, &os.PathError{Op: "readdir", Path: meta.ShowPath(display), Err: err}
	}
	unix.CloseOnExec(dup)
	f := os.NewFile(uintptr(dup), display)
	es, err := f.ReadDir(-1)
	f.Close()
	out := make([]fs.DirEntry, len(es))
	for i, e := range es {
		out[i] = &dirEntry{dirfd: fd, name: e.Name(), typ: e.Type(), display: display}
	}
	slices.SortFunc(out, func(a, b fs.DirEntry) int { return strings.Compare(a.Name(), b.Name()) })
	return out, err
}

type dirEntry struct {
	dirfd   int
	name    string
	stat    string // what to stat relative to dirfd, if not name
	typ     fs.FileMode
	display string
}

func (e *dirEntry) Name() string      { return e.name }
func (e *dirEntry) IsDir() bool       { return e.typ.IsDir() }
func (e *dirEntry) Type() fs.FileMode { return e.typ }
func (e *dirEntry) Info() (fs.FileInfo, error) {
	if e.stat != "" {
		fi, err := lstatAt(e.dirfd, e.stat, e.stat)
		if err == nil {
			fi.(*fileInfo).name = e.name
		}
		return fi, err
	}
	return lstatAt(e.dirfd, e.name, e.display+"/"+e.name)
}

// Walk calls fn for the folder and everything beneath it, opening each
// folder relative to its parent without following symlinks (a symlinked
// folder is reported as a symlink, not entered).
func (d *Dir) Walk(ctx context.Context, fn WalkFunc) error {
	root, err := d.openRoot()
	if err != nil {
		return err
	}
	defer unix.Close(root)
	if err := fn(".", &dirEntry{dirfd: unix.AT_FDCWD, name: ".", stat: d.root, typ: fs.ModeDir}, nil); err != nil {
		if err == fs.SkipDir || err == fs.SkipAll {
			return nil
		}
		return err
	}
	err = d.walk(ctx, root, ".", fn)
	if err == fs.SkipAll {
		return nil
	}
	return err
}

func (d *Dir) walk(ctx context.Context, fd int, rel string, fn WalkFunc) error {
	es, err := readDir(fd, d.Abs(rel))
	if err != nil {
		if err := fn(rel, nil, err); err != nil && err != fs.SkipDir {
			return err
		}
	}
	for _, e := range es {
		if err := ctx.Err(); err != nil {
			return err
		}
		child := join(rel, e.Name())
		err := fn(child, e, nil)
		if err == fs.SkipDir {
			continue
		}
		if err != nil {
			return err
		}
		if !e.IsDir() {
			continue
		}
		sub, err := openDirAt(fd, e.Name())
		if err != nil {
			if err := fn(child, nil, &os.PathError{Op: "open", Path: d.show(child), Err: err}); err != nil && err != fs.SkipDir {
				return err
			}
			continue
		}
		err = d.walk(ctx, sub, child, fn)
		unix.Close(sub)
		if err != nil {
			return err
		}
	}
	return nil
}

// MkdirAll makes a folder and its parents, refusing to go through a
// symlink.
func (d *Dir) MkdirAll(rel string, perm fs.FileMode) error {
	if err := check("mkdir", rel); err != nil {
		return err
	}
	if rel == "." {
		return nil
	}
	cur, err := d.openRoot()
	if err != nil {
		return err
	}
	done := "."
	for _, p := range strings.Split(rel, "/") {
		done = join(done, p)
		err := unix.Mkdirat(cur, p, uint32(perm.Perm()))
		if err != nil && !errors.Is(err, unix.EEXIST) {
			unix.Close(cur)
			return &os.PathError{Op: "mkdir", Path: d.show(done), Err: err}
		}
		fd, err := openDirAt(cur, p)
		unix.Close(cur)
		if err != nil {
			return &os.PathError{Op: "mkdir", Path: d.show(done), Err: err}
		}
		cur = fd
	}
	unix.Close(cur)
	return nil
}

// Remove removes a file, symlink or empty folder (a symlink itself, never
// what it points to).
func (d *Dir) Remove(rel string) error {
	pfd, base, err := d.openParent("remove", rel)
	if err != nil {
		return err
	}
	defer unix.Close(pfd)
	err = unix.Unlinkat(pfd, base, 0)
	if errors.Is(err, unix.EISDIR) || errors.Is(err, unix.EPERM) {
		if derr := unix.Unlinkat(pfd, base, unix.AT_REMOVEDIR); derr == nil || !errors.Is(derr, unix.ENOTDIR) {
			err = derr
		}
	}
	if err != nil {
		return &os.PathError{Op: "remove", Path: d.show(rel), Err: err}
	}
	return nil
}

// Rename moves from to to, both in the library folder, never replacing a
// file at to (os.ErrExist then).
func (d *Dir) Rename(from, to string) error {
	return d.renameWith(from, to, renameNoReplace)
}

// Replace moves from to to, both in the library folder, replacing the
// file at to if there is one (new content taking a PDF's place). A
// symlink at to is replaced, never followed.
func (d *Dir) Replace(from, to string) error {
	return d.renameWith(from, to, unix.Renameat)
}

// renameWith renames between the parents of from and to, each opened
// beneath the library folder.
func (d *Dir) renameWith(from, to string, rename func(fromfd int, from string, tofd int, to string) error) error {
	pf, bf, err := d.openParent("rename", from)
	if err != nil {
		return err
	}
	defer unix.Close(pf)
	pt, bt, err := d.openParent("rename", to)
	if err != nil {
		return err
	}
	defer unix.Close(pt)
	return renameErr(rename(pf, bf, pt, bt), d.Abs(from), d.Abs(to))
}

// MoveIn moves a file from outside the library folder (an absolute path,
// resolved normally: it is the user's) to rel, never replacing a file
// there. It answers ErrCrossDevice when the file must be copied instead.
func (d *Dir) MoveIn(src, to string) error {
	pt, bt, err := d.openParent("rename", to)
	if err != nil {
		return err
	}
	defer unix.Close(pt)
	return renameErr(renameNoReplace(unix.AT_FDCWD, src, pt, bt), src, d.Abs(to))
}

// renameNoReplaceLink is the no-replace rename of filesystems that lack
// one (some FUSE and network drives): link then unlink gives the same
// guarantee.
func renameNoReplaceLink(fromfd int, from string, tofd int, to string) error {
	if err := unix.Linkat(fromfd, from, tofd, to, 0); err != nil {
		return err
	}
	return unix.Unlinkat(fromfd, from, 0)
}

func renameErr(err error, from, to string) error {
	from, to = meta.ShowPath(from), meta.ShowPath(to)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, unix.EEXIST):
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: os.ErrExist}
	case errors.Is(err, unix.EXDEV):
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: ErrCrossDevice}
	}
	return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
}
