package fs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// startTime stamps directories whose contents have no time of their own.
var startTime = time.Now()

// groupsDir lists the groups of one kind: tags/, authors/, years/, folders/.
type groupsDir struct {
	fs.Inode
	fs   *FS
	kind meta.Kind
}

var (
	_ = (fs.NodeLookuper)((*groupsDir)(nil))
	_ = (fs.NodeReaddirer)((*groupsDir)(nil))
	_ = (fs.NodeGetattrer)((*groupsDir)(nil))
)

func (d *groupsDir) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fs.fillAttr(&out.Attr, syscall.S_IFDIR|0o755, 0, startTime, d.StableAttr().Ino)
	return 0
}

func (d *groupsDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	d.fs.Stats.Readdirs.Add(1)
	gs, err := d.fs.store.Groups(d.kind)
	if err != nil {
		return nil, d.fs.errno("readdir", err, "dir", string(d.kind))
	}
	es := make([]fuse.DirEntry, len(gs))
	for i, g := range gs {
		es[i] = fuse.DirEntry{Name: g.Name, Mode: syscall.S_IFDIR, Ino: ino("dir", viewKey(d.kind, g.Name))}
	}
	return fs.NewListDirStream(es), 0
}

func (d *groupsDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.fs.Stats.Lookups.Add(1)
	ok, err := d.fs.store.HasGroup(d.kind, name)
	if err != nil {
		return nil, d.fs.errno("lookup", err, "dir", string(d.kind), "name", name)
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	n := ino("dir", viewKey(d.kind, name))
	d.fs.fillAttr(&out.Attr, syscall.S_IFDIR|0o755, 0, startTime, n)
	child := &viewDir{fs: d.fs, view: meta.View{Kind: d.kind, Group: name}}
	return d.NewInode(ctx, child, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: n}), 0
}

func viewKey(k meta.Kind, group string) string {
	return meta.View{Kind: k, Group: group}.String()
}
