package webdav

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"slices"
	"strings"

	"golang.org/x/net/webdav"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// fileSystem is the view as a webdav.FileSystem. Paths are the mount's:
// /all/NAME.pdf, /tags/TAG/NAME.json, /library.bib, /.paperfs/errors.
type fileSystem struct {
	view  *pfs.FS
	props deadProps

	// Several libraries (see shared.go): the personal one holds the
	// others under /shared/<name>/, each its own fileSystem whose paths
	// start with its prefix. Set before serving, read-only after.
	shared map[string]*fileSystem
	prefix string
}

var _ webdav.FileSystem = (*fileSystem)(nil)

// place is what a path names: a directory (the root, .paperfs/, a
// directory of groups such as tags/, a view such as all/ or tags/x/) or a
// file in one.
type place struct {
	dir     bool
	control bool      // .paperfs/ or a file in it
	shared  bool      // /shared/, holding the other libraries
	view    meta.View // the directory, or the file's directory: View{} is the root, View{Kind: Tags} is tags/
	name    string    // a file's name
}

// parse splits a path into the place it names. A path deeper than the
// view has is not there.
func parse(p string) (place, error) {
	p = strings.Trim(p, "/")
	if p == "" {
		return place{dir: true}, nil
	}
	parts := strings.Split(p, "/")
	missing := fmt.Errorf("/%s: %w", p, fs.ErrNotExist)
	if parts[0] == pfs.ControlDir {
		switch len(parts) {
		case 1:
			return place{dir: true, control: true}, nil
		case 2:
			return place{control: true, name: parts[1]}, nil
		}
		return place{}, missing
	}
	k := meta.Kind(parts[0])
	if !slices.Contains(pfs.RootDirs, k) {
		if len(parts) == 1 {
			return place{name: parts[0]}, nil
		}
		return place{}, missing
	}
	switch {
	case len(parts) == 1:
		return place{dir: true, view: meta.View{Kind: k}}, nil
	case len(parts) == 2 && pfs.HoldsGroups(k) && !pfs.IsJunk(parts[1]):
		return place{dir: true, view: meta.View{Kind: k, Group: parts[1]}}, nil
	case len(parts) == 2:
		return place{view: meta.View{Kind: k}, name: parts[1]}, nil
	case len(parts) == 3 && pfs.HoldsGroups(k):
		return place{view: meta.View{Kind: k, Group: parts[1]}, name: parts[2]}, nil
	}
	return place{}, missing
}

// isGroup reports a group's directory, such as tags/x/.
func (p place) isGroup() bool { return p.dir && p.view.Group != "" }

func (p place) String() string {
	s := p.view.String()
	if p.control {
		s = pfs.ControlDir
	}
	if p.name != "" {
		if s != "" {
			s += "/"
		}
		s += p.name
	}
	return "/" + s
}

// dirName is the last element of a directory's path.
func (p place) dirName() string {
	switch {
	case p.control:
		return pfs.ControlDir
	case p.view.Group != "":
		return p.view.Group
	}
	return string(p.view.Kind)
}

// exists checks that a directory is there: a group's exists only once
// made (mkdir) or used by a paper.
func (fsys *fileSystem) exists(p place) error {
	if !p.isGroup() {
		return nil
	}
	ok, err := fsys.view.HasGroup(p.view.Kind, p.view.Group)
	if err == nil && !ok {
		err = fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	}
	return err
}

// parent checks that a file's directory is there.
func (fsys *fileSystem) parent(p place) error {
	return fsys.exists(place{dir: true, view: p.view})
}

// lookup finds a file of the view.
func (fsys *fileSystem) lookup(p place) (pfs.Node, pfs.Attr, error) {
	switch {
	case p.control:
		for _, g := range fsys.view.Control() {
			if g.Name == p.name {
				a, err := g.Attr()
				return g, a, err
			}
		}
		return nil, pfs.Attr{}, fmt.Errorf("%s: %w", p, fs.ErrNotExist)
	case p.view.Kind == "" && p.name == pfs.BibLibraryName:
		b := fsys.view.Bib(meta.View{Kind: meta.All})
		a, err := b.Attr()
		return b, a, err
	}
	if err := fsys.parent(p); err != nil {
		return nil, pfs.Attr{}, err
	}
	return fsys.view.Dir(p.view).Lookup(p.name)
}

func (fsys *fileSystem) Stat(ctx context.Context, name string) (os.FileInfo, error) {
	if s := fsys.route(name); s != fsys {
		return s.Stat(ctx, name)
	}
	rq := requestOf(ctx)
	if fi := rq.listed(name); fi != nil {
		return fi, nil
	}
	fi, _, err := fsys.stat(name)
	return fi, rq.note(name, err)
}

func (fsys *fileSystem) stat(name string) (*fileInfo, pfs.Node, error) {
	p, err := fsys.parse(name)
	if err != nil {
		return nil, nil, err
	}
	if p.dir {
		if err := fsys.exists(p); err != nil {
			return nil, nil, err
		}
		return dirInfo(fsys.dirName(p)), nil, nil
	}
	n, a, err := fsys.lookup(p)
	if err != nil {
		return nil, nil, err
	}
	return &fileInfo{name: p.name, a: a}, n, nil
}

func (fsys *fileSystem) OpenFile(ctx context.Context, name string, flag int, perm os.FileMode) (webdav.File, error) {
	if s := fsys.route(name); s != fsys {
		return s.OpenFile(ctx, name, flag, perm)
	}
	rq := requestOf(ctx)
	f, err := fsys.openFile(rq, name, flag, perm)
	return f, rq.note(name, err)
}

func (fsys *fileSystem) openFile(rq *request, name string, flag int, perm os.FileMode) (webdav.File, error) {
	p, err := fsys.parse(name)
	if err != nil {
		return nil, err
	}
	write := flag&(os.O_WRONLY|os.O_RDWR) != 0
	if p.dir {
		if err := fsys.exists(p); err != nil {
			return nil, err
		}
		if write && p.shared {
			return nil, fsys.sharedRefusal(p)
		}
		if write {
			return nil, fmt.Errorf("%s is a directory: %w", p, pfs.ErrNotPermitted)
		}
		return &dirFile{propsOf: fsys.propsOf(name), fsys: fsys, rq: rq, at: p, path: cleanPath(name)}, nil
	}
	if !write {
		// A read opens nothing yet: a listing's PROPFIND opens every
		// name only to stat it.
		if fi := rq.listed(name); fi != nil {
			return &readFile{propsOf: fsys.propsOf(name), fsys: fsys, at: p, info: fi}, nil
		}
		fi, n, err := fsys.stat(name)
		if err != nil {
			return nil, err
		}
		if pdf, ok := n.(pfs.PDF); ok {
			// A GET's ETag and Last-Modified are the real file's: an
			// annotator may have changed it in place.
			if a, err := pdf.Attr(); err == nil {
				fi.a = a
			}
		}
		return &readFile{propsOf: fsys.propsOf(name), fsys: fsys, at: p, info: fi, node: n}, nil
	}
	n, a, err := fsys.lookup(p)
	switch {
	case err == nil && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, fmt.Errorf("%s: %w", p, meta.ErrExists)
	case err != nil && isNotExist(err) && flag&os.O_CREATE != 0:
		if p.control {
			return nil, fmt.Errorf("%s: .paperfs/ is written by paperfs only: %w", p, pfs.ErrNotPermitted)
		}
		if err := fsys.parent(p); err != nil {
			return nil, err
		}
		if n, err = fsys.view.Dir(p.view).Create(p.name, perm&fs.ModePerm); err != nil {
			return nil, err
		}
		if a, err = n.Attr(); err != nil {
			return nil, err
		}
		flag &^= os.O_TRUNC // a new file is empty; and a PDF copied in must not look written
	case err != nil:
		return nil, err
	}
	return fsys.openWrite(rq, p, n, a, flag, fsys.propsOf(name))
}

func (fsys *fileSystem) propsOf(name string) propsOf {
	return propsOf{props: &fsys.props, path: cleanPath(name)}
}

func isNotExist(err error) bool {
	return errors.Is(err, meta.ErrNotFound) || errors.Is(err, fs.ErrNotExist)
}

func (fsys *fileSystem) Mkdir(ctx context.Context, name string, perm os.FileMode) error {
	if s := fsys.route(name); s != fsys {
		return s.Mkdir(ctx, name, perm)
	}
	rq := requestOf(ctx)
	err := fsys.mkdir(name)
	if errors.Is(err, meta.ErrExists) && rq.replacing(name) {
		// A COPY of a tag onto one that is there (Overwrite: T): its
		// papers join it, as cp -r into an existing directory does.
		err = nil
	}
	return rq.note(name, err)
}

func (fsys *fileSystem) mkdir(name string) error {
	p, err := fsys.parse(name)
	if err != nil {
		if rest, ok := strings.CutPrefix(cleanPath(name), "/"+pfs.SharedDir+"/"); ok && fsys.prefix == "" && len(fsys.shared) > 0 && !strings.Contains(rest, "/") {
			return fsys.view.SharedRefusal(rest) // MKCOL /shared/NAME
		}
		return err
	}
	switch {
	case p.shared:
		return fmt.Errorf("%s: %w", p, meta.ErrExists)
	case p.isGroup():
		return fsys.view.Mkdir(p.view.Kind, p.view.Group)
	case p.dir:
		return fmt.Errorf("%s: %w", p, meta.ErrExists)
	case p.control:
		return fmt.Errorf("%s: .paperfs/ is written by paperfs only: %w", p, pfs.ErrNotPermitted)
	case p.view.Kind == "":
		return fsys.view.RootRefusal(p.name)
	case pfs.HoldsGroups(p.view.Kind) && p.view.Group == "":
		return fsys.view.GroupsRefusal(p.view.Kind, p.name)
	}
	if err := fsys.parent(p); err != nil {
		return err
	}
	return fsys.view.Dir(p.view).Mkdir(p.name)
}

// RemoveAll is DELETE: it means what rm means in the mount, and rm -r for
// a tag or folder (its papers leave it, then it goes).
func (fsys *fileSystem) RemoveAll(ctx context.Context, name string) error {
	if s := fsys.route(name); s != fsys {
		return s.RemoveAll(ctx, name)
	}
	rq := requestOf(ctx)
	if rq.replacing(name) {
		// A COPY or MOVE onto an existing name: the open or rename
		// that follows replaces it, as open(O_TRUNC) and rename(2) do,
		// rather than a DELETE first, which would trash the paper.
		return nil
	}
	return rq.note(name, fsys.removeAll(name))
}

func (fsys *fileSystem) removeAll(name string) error {
	p, err := fsys.parse(name)
	if err != nil {
		return err
	}
	switch {
	case p.shared:
		return fsys.sharedRefusal(p)
	case p.control:
		return fmt.Errorf("%s: .paperfs/ is written by paperfs only: %w", p, pfs.ErrNotPermitted)
	case p.isGroup():
		if err := fsys.exists(p); err != nil {
			return err
		}
		if p.view.Kind == meta.Tags || p.view.Kind == meta.Folders {
			d := fsys.view.Dir(p.view)
			es, err := d.List()
			if err != nil {
				return err
			}
			for _, e := range es {
				if err := d.Unlink(e.Name + pfs.ExtPDF); err != nil && !isNotExist(err) {
					return err
				}
			}
		}
		return fsys.view.Rmdir(p.view.Kind, p.view.Group)
	case p.dir:
		return fsys.view.RootRefusal(p.dirName())
	case p.view.Kind == "" && p.name == pfs.BibLibraryName:
		return fsys.view.RootRefusal(p.name)
	}
	if err := fsys.parent(p); err != nil {
		return err
	}
	return fsys.view.Dir(p.view).Unlink(p.name)
}

// Rename is MOVE: a file's as mv in the mount (retag, or an editor's
// save), a tag's or folder's as mv of its directory.
func (fsys *fileSystem) Rename(ctx context.Context, oldName, newName string) error {
	rq := requestOf(ctx)
	if handled, err := fsys.renameRouted(ctx, oldName, newName); handled {
		return rq.note(oldName, err)
	}
	if err := fsys.rename(oldName, newName); err != nil {
		return rq.note(oldName, err)
	}
	fsys.props.moved(cleanPath(oldName), cleanPath(newName))
	return nil
}

func (fsys *fileSystem) rename(oldName, newName string) error {
	from, err := fsys.parse(oldName)
	if err != nil {
		return err
	}
	to, err := fsys.parse(newName)
	if err != nil {
		return err
	}
	switch {
	case from.shared || to.shared:
		return fsys.sharedRefusal(from)
	case from.isGroup() && to.isGroup() && from.view.Kind == to.view.Kind:
		if err := fsys.exists(from); err != nil {
			return err
		}
		return fsys.view.RenameGroup(from.view.Kind, from.view.Group, to.view.Group)
	case from.dir || to.dir || from.control || to.control:
		return fmt.Errorf("%s: only a tag or folder is moved to another name among its kind, and files into views: %w", from, pfs.ErrNotPermitted)
	}
	if err := fsys.parent(from); err != nil {
		return err
	}
	if err := fsys.parent(to); err != nil {
		return err
	}
	return fsys.view.Dir(from.view).Rename(from.name, nil, fsys.view.Dir(to.view), to.name, pfs.RenameFlags{})
}
