package fs

import (
	"context"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// rootNode is the mount's top directory: one directory per kind of view.
type rootNode struct {
	fs.Inode
	fs *FS
}

var (
	_ = (fs.NodeOnAdder)((*rootNode)(nil))
	_ = (fs.NodeGetattrer)((*rootNode)(nil))
	_ = (fs.NodeMkdirer)((*rootNode)(nil))
	_ = (fs.NodeCreater)((*rootNode)(nil))
)

// rootDirs are the root's children, in listing order.
var rootDirs = []meta.Kind{meta.All, meta.Tags, meta.Authors, meta.Years, meta.Folders, meta.Untagged, meta.Trash, meta.Missing}

func (r *rootNode) OnAdd(ctx context.Context) {
	for _, k := range rootDirs {
		var node fs.InodeEmbedder
		if k.IsGroup() {
			node = &groupsDir{fs: r.fs, kind: k}
		} else {
			node = newViewDir(r.fs, meta.View{Kind: k})
		}
		child := r.NewPersistentInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino("dir", string(k))})
		r.AddChild(string(k), child, false)
	}
	r.addBib(ctx)
	ctl := r.NewPersistentInode(ctx, &controlDir{fs: r.fs}, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino("dir", ".paperfs")})
	r.AddChild(".paperfs", ctl, false)
}

// Mkdir refuses, so a file manager's .Trash-UID attempt fails cleanly and
// it offers to delete instead (which moves papers to paperfs' trash).
func (r *rootNode) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	return nil, syscall.EPERM
}

func (r *rootNode) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EPERM
}

func (r *rootNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.fs.fillAttr(&out.Attr, syscall.S_IFDIR|0o755, 0, startTime, 1)
	return 0
}
