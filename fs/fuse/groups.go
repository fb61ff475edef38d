//go:build linux || darwin

package fuse

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// groupsDir lists the groups of one kind: tags/, authors/, years/, folders/.
type groupsDir struct {
	gofs.Inode
	fs   *FS
	kind meta.Kind
}

var (
	_ = (gofs.NodeLookuper)((*groupsDir)(nil))
	_ = (gofs.NodeReaddirer)((*groupsDir)(nil))
	_ = (gofs.NodeGetattrer)((*groupsDir)(nil))
	_ = (gofs.NodeMkdirer)((*groupsDir)(nil))
	_ = (gofs.NodeRmdirer)((*groupsDir)(nil))
	_ = (gofs.NodeRenamer)((*groupsDir)(nil))
	_ = (gofs.NodeCreater)((*groupsDir)(nil))
)

func (d *groupsDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	d.fs.dirAttr(&out.Attr, d.StableAttr().Ino)
	return 0
}

func (d *groupsDir) Readdir(ctx context.Context) (gofs.DirStream, syscall.Errno) {
	d.fs.Stats.Readdirs.Add(1)
	gs, err := d.fs.view.Groups(d.kind)
	if err != nil {
		return nil, d.fs.errno("readdir", err, "dir", string(d.kind))
	}
	es := make([]gofuse.DirEntry, len(gs))
	for i, g := range gs {
		es[i] = gofuse.DirEntry{Name: g.Name, Mode: syscall.S_IFDIR, Ino: d.fs.groupIno(d.kind, g.Name)}
	}
	return gofs.NewListDirStream(withDots(&d.Inode, es)), 0
}

func (f *FS) groupIno(k meta.Kind, group string) uint64 {
	return f.ino("dir", meta.View{Kind: k, Group: group}.String())
}

func (d *groupsDir) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	d.fs.Stats.Lookups.Add(1)
	ok, err := d.fs.view.HasGroup(d.kind, name)
	if err != nil {
		return nil, d.fs.errno("lookup", err, "dir", string(d.kind), "name", name)
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	n := d.fs.groupIno(d.kind, name)
	d.fs.dirAttr(&out.Attr, n)
	d.fs.cacheEntry(out, true)
	child := newViewDir(d.fs, meta.View{Kind: d.kind, Group: name})
	return d.NewInode(ctx, child, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: n}), 0
}

func (d *groupsDir) Mkdir(ctx context.Context, name string, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	if err := d.fs.view.Mkdir(d.kind, name); err != nil {
		return nil, d.fs.errno("mkdir", err, "dir", string(d.kind), "name", name)
	}
	return d.Lookup(ctx, name, out)
}

func (d *groupsDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return d.fs.errno("rmdir", d.fs.view.Rmdir(d.kind, name), "dir", string(d.kind), "name", name)
}

func (d *groupsDir) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	// mv asks for RENAME_NOREPLACE, which is what happens anyway.
	if newParent != gofs.InodeEmbedder(d) || flags&^renameNoReplace != 0 {
		return d.fs.errno("rename", d.fs.view.GroupsRefusal(d.kind, name))
	}
	if err := d.fs.view.RenameGroup(d.kind, name, newName); err != nil {
		return d.fs.errno("rename", err, "dir", string(d.kind), "name", name)
	}
	// The kernel keeps the directory's inode under its new name: it shows
	// the renamed group from now on, not the old one.
	if ch := d.GetChild(name); ch != nil {
		if vd, ok := ch.Operations().(*viewDir); ok {
			v := meta.View{Kind: d.kind, Group: newName}
			vd.viewp.Store(&v)
		}
	}
	return 0
}

func (d *groupsDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, d.fs.errno("create", d.fs.view.GroupsRefusal(d.kind, name))
}
