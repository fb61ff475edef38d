//go:build linux || darwin

package fuse

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// rootNode is the mount's top directory: one directory per kind of view,
// library.bib and .paperfs/.
type rootNode struct {
	gofs.Inode
	fs *FS
}

var (
	_ = (gofs.NodeOnAdder)((*rootNode)(nil))
	_ = (gofs.NodeGetattrer)((*rootNode)(nil))
	_ = (gofs.NodeMkdirer)((*rootNode)(nil))
	_ = (gofs.NodeCreater)((*rootNode)(nil))
)

func (r *rootNode) OnAdd(ctx context.Context) {
	for _, k := range pfs.RootDirs {
		var node gofs.InodeEmbedder
		if pfs.HoldsGroups(k) {
			node = &groupsDir{fs: r.fs, kind: k}
		} else {
			node = newViewDir(r.fs, meta.View{Kind: k})
		}
		child := r.NewPersistentInode(ctx, node, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: r.fs.ino("dir", string(k))})
		r.AddChild(string(k), child, false)
	}
	bib := &bibNode{fs: r.fs, bib: r.fs.view.Bib(meta.View{Kind: meta.All})}
	r.AddChild(pfs.BibLibraryName, r.NewPersistentInode(ctx, bib,
		gofs.StableAttr{Mode: syscall.S_IFREG, Ino: r.fs.ino("bib", pfs.BibLibraryName)}), false)
	ctl := r.NewPersistentInode(ctx, &controlDir{fs: r.fs}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: r.fs.ino("dir", pfs.ControlDir)})
	r.AddChild(pfs.ControlDir, ctl, false)
	if len(r.fs.shared) > 0 {
		sh := r.NewPersistentInode(ctx, &sharedDir{fs: r.fs}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: r.fs.ino("dir", pfs.SharedDir)})
		r.AddChild(pfs.SharedDir, sh, false)
	}
}

// Mkdir refuses, but for a file manager's trash, which is there already.
func (r *rootNode) Mkdir(ctx context.Context, name string, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if pfs.FMTrashName(name) {
		return nil, syscall.EEXIST
	}
	return nil, r.fs.errno("mkdir", r.fs.view.RootRefusal(name))
}

func (r *rootNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, r.fs.errno("create", r.fs.view.RootRefusal(name))
}

// Without these go-fuse would report removing a view as done and drop it
// from the tree until the next mount.
var (
	_ = (gofs.NodeRmdirer)((*rootNode)(nil))
	_ = (gofs.NodeUnlinker)((*rootNode)(nil))
	_ = (gofs.NodeRenamer)((*rootNode)(nil))
	_ = (gofs.NodeUnlinker)((*controlDir)(nil))
)

func (r *rootNode) Rmdir(ctx context.Context, name string) syscall.Errno {
	return r.fs.errno("rmdir", r.fs.view.FixedRefusal(name))
}

func (r *rootNode) Unlink(ctx context.Context, name string) syscall.Errno {
	return r.fs.errno("unlink", r.fs.view.FixedRefusal(name))
}

func (r *rootNode) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return r.fs.errno("rename", r.fs.view.FixedRefusal(name))
}

func (d *controlDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.fs.errno("unlink", d.fs.view.FixedRefusal(pfs.ControlDir+"/"+name))
}

func (r *rootNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	r.fs.dirAttr(&out.Attr, r.StableAttr().Ino) // 1, or a shared library's
	return 0
}

// controlDir is .paperfs/ at the root: what the mount has to tell the user.
type controlDir struct {
	gofs.Inode
	fs *FS
}

var (
	_ = (gofs.NodeOnAdder)((*controlDir)(nil))
	_ = (gofs.NodeGetattrer)((*controlDir)(nil))
)

func (d *controlDir) OnAdd(ctx context.Context) {
	for _, g := range d.fs.view.Control() {
		n := &genNode{fs: d.fs, gen: g}
		d.AddChild(g.Name, d.NewPersistentInode(ctx, n, gofs.StableAttr{Mode: syscall.S_IFREG, Ino: d.fs.ino("ctl", g.Name)}), false)
	}
}

func (d *controlDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	d.fs.dirAttr(&out.Attr, d.StableAttr().Ino)
	return 0
}

var _ = (gofs.NodeLookuper)((*rootNode)(nil))

// Lookup finds what is at the root besides its fixed children: a file
// manager's trash directory (.Trash-$uid), which is paperfs' trash.
func (r *rootNode) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if ch := r.GetChild(name); ch != nil {
		// go-fuse asks a node that looks names up for its fixed
		// children too.
		var a gofuse.AttrOut
		errno := ch.Operations().(gofs.NodeGetattrer).Getattr(ctx, nil, &a)
		out.Attr = a.Attr
		return ch, errno
	}
	if !pfs.FMTrashName(name) {
		return nil, syscall.ENOENT
	}
	num := r.fs.ino("dir", name)
	r.fs.fillAttr(&out.Attr, pfs.FMTrashAttr(), num)
	return r.NewInode(ctx, &fmTrashDir{fs: r.fs}, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: num}), 0
}

// fmTrashDir is a file manager's trash, .Trash-$uid: files/ and info/.
type fmTrashDir struct {
	gofs.Inode
	fs *FS
}

var (
	_ = (gofs.NodeOnAdder)((*fmTrashDir)(nil))
	_ = (gofs.NodeGetattrer)((*fmTrashDir)(nil))
	_ = (gofs.NodeMkdirer)((*fmTrashDir)(nil))
)

func (d *fmTrashDir) OnAdd(ctx context.Context) {
	for name, v := range pfs.FMTrashDirs {
		child := d.NewPersistentInode(ctx, newViewDir(d.fs, v), gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: d.fs.ino("dir", v.String())})
		d.AddChild(name, child, false)
	}
}

func (d *fmTrashDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	d.fs.fillAttr(&out.Attr, pfs.FMTrashAttr(), d.StableAttr().Ino)
	return 0
}

// Mkdir of files/ or info/, which a file manager makes if it finds none:
// they are there.
func (d *fmTrashDir) Mkdir(ctx context.Context, name string, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, syscall.EEXIST
}
