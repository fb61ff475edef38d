//go:build linux || darwin

package fuse

import (
	"context"
	"slices"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// withDots puts "." and ".." before a directory's entries. The kernel
// passes a FUSE listing to programs as it is and adds neither, and go-fuse
// adds none either (its loopback gets them from the directory it
// mirrors), so without them ls -a shows neither.
func withDots(n *gofs.Inode, es []gofuse.DirEntry) []gofuse.DirEntry {
	return append(dots(n), es...)
}

// dots are n's "." and "..".
func dots(n *gofs.Inode) []gofuse.DirEntry {
	self := n.StableAttr().Ino
	parent := self // the root is its own parent
	if _, p := n.Parent(); p != nil {
		parent = p.StableAttr().Ino
	}
	return []gofuse.DirEntry{
		{Name: ".", Mode: syscall.S_IFDIR, Ino: self},
		{Name: "..", Mode: syscall.S_IFDIR, Ino: parent},
	}
}

// childrenDir lists a directory whose names are its inode's children (the
// root, .paperfs/, a file manager's trash), with "." and "..".
func childrenDir(n *gofs.Inode) (gofs.DirStream, syscall.Errno) {
	kids := n.Children()
	names := make([]string, 0, len(kids))
	for name := range kids {
		names = append(names, name)
	}
	slices.Sort(names)
	es := make([]gofuse.DirEntry, 0, len(names))
	for _, name := range names {
		c := kids[name]
		es = append(es, gofuse.DirEntry{Name: name, Mode: c.StableAttr().Mode, Ino: c.StableAttr().Ino})
	}
	return gofs.NewListDirStream(withDots(n, es)), 0
}

var (
	_ = (gofs.NodeReaddirer)((*rootNode)(nil))
	_ = (gofs.NodeReaddirer)((*controlDir)(nil))
	_ = (gofs.NodeReaddirer)((*fmTrashDir)(nil))
)

func (r *rootNode) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	return childrenDir(&r.Inode)
}

func (d *controlDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	return childrenDir(&d.Inode)
}

func (d *fmTrashDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	return childrenDir(&d.Inode)
}
