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
)

// rootDirs are the root's children, in listing order.
var rootDirs = []meta.Kind{meta.All, meta.Tags, meta.Authors, meta.Years, meta.Folders, meta.Untagged, meta.Trash, meta.Missing}

func (r *rootNode) OnAdd(ctx context.Context) {
	for _, k := range rootDirs {
		var node fs.InodeEmbedder
		if k.IsGroup() {
			node = &groupsDir{fs: r.fs, kind: k}
		} else {
			node = &viewDir{fs: r.fs, view: meta.View{Kind: k}}
		}
		child := r.NewPersistentInode(ctx, node, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: ino("dir", string(k))})
		r.AddChild(string(k), child, false)
	}
	r.addBib(ctx)
}

func (r *rootNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	r.fs.fillAttr(&out.Attr, syscall.S_IFDIR|0o755, 0, startTime, 1)
	return 0
}
