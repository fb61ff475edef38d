package webdav

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strings"

	"golang.org/x/net/webdav"

	pfs "github.com/paperfs/paperfs/fs"
)

// AddShared serves another library's view under /shared/<name>/: its own
// all/, tags/, ..., library.bib and .paperfs/, by its own rules. Call it
// before serving.
func (h *Handler) AddShared(name string, view *pfs.FS) error {
	own := h.dav.FileSystem.(*fileSystem)
	if err := pfs.CheckSharedName(name); err != nil {
		return err
	}
	if _, ok := own.shared[name]; ok {
		return fmt.Errorf("shared library %q: named twice", name)
	}
	if own.shared == nil {
		own.shared = map[string]*fileSystem{}
	}
	own.shared[name] = &fileSystem{view: view, prefix: "/" + pfs.SharedDir + "/" + name}
	return nil
}

// route is the file system a path belongs to: a shared library's for
// /shared/<name>/..., else this one's (which has /shared/ itself).
func (fsys *fileSystem) route(name string) *fileSystem {
	rest, ok := strings.CutPrefix(cleanPath(name), "/"+pfs.SharedDir+"/")
	if !ok || len(fsys.shared) == 0 {
		return fsys
	}
	lib, _, _ := strings.Cut(rest, "/")
	if s := fsys.shared[lib]; s != nil {
		return s
	}
	return fsys
}

// parse is parse of a path within this library: a shared library's paths
// start with its prefix, and /shared/ is a place of the personal one.
func (fsys *fileSystem) parse(name string) (place, error) {
	p := cleanPath(name)
	if fsys.prefix != "" {
		p = strings.TrimPrefix(p, fsys.prefix)
	} else if len(fsys.shared) > 0 {
		if rest, ok := strings.CutPrefix(p, "/"+pfs.SharedDir); ok && (rest == "" || rest == "/") {
			return place{dir: true, shared: true}, nil
		} else if ok && strings.HasPrefix(rest, "/") {
			return place{}, fmt.Errorf("%s: %w", p, fs.ErrNotExist) // not a library's name
		}
	}
	return parse(p)
}

// rootName is the name of the directory a path names, for its
// properties: a shared library's root is named as the library.
func (fsys *fileSystem) dirName(p place) string {
	switch {
	case p.shared:
		return pfs.SharedDir
	case fsys.prefix != "" && p.view.Kind == "" && !p.control:
		return path.Base(fsys.prefix)
	}
	return p.dirName()
}

// sharedInfos lists /shared/: one directory per library.
func (fsys *fileSystem) sharedInfos() []os.FileInfo {
	names := make([]string, 0, len(fsys.shared))
	for n := range fsys.shared {
		names = append(names, n)
	}
	slices.Sort(names)
	out := make([]os.FileInfo, len(names))
	for i, n := range names {
		out[i] = dirInfo(n)
	}
	return out
}

// renameRouted is a MOVE, which may not go from one library to another.
func (fsys *fileSystem) renameRouted(ctx context.Context, oldName, newName string) (handled bool, err error) {
	from, to := fsys.route(oldName), fsys.route(newName)
	switch {
	case from != to:
		return true, pfs.CrossLibrary(oldName, newName)
	case from != fsys:
		return true, from.Rename(ctx, oldName, newName)
	}
	return false, nil
}

// sharedRefusal refuses a change to /shared/ itself.
func (fsys *fileSystem) sharedRefusal(p place) error {
	return fsys.view.SharedRefusal(strings.TrimPrefix(p.String(), "/"))
}

var _ webdav.FileSystem = (*fileSystem)(nil)
