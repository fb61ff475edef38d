//go:build linux || darwin

package fuse

import (
	"context"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// statfs (df, and programs checking for room before they write) is
// answered by every directory with the view's figures: go-fuse leaves
// them zero for a node that does not answer.
var (
	_ = (gofs.NodeStatfser)((*rootNode)(nil))
	_ = (gofs.NodeStatfser)((*controlDir)(nil))
	_ = (gofs.NodeStatfser)((*groupsDir)(nil))
	_ = (gofs.NodeStatfser)((*viewDir)(nil))
)

func (f *FS) statfs(out *gofuse.StatfsOut) syscall.Errno {
	s, err := f.view.Space()
	if err != nil {
		return f.errno("statfs", err)
	}
	*out = gofuse.StatfsOut{Blocks: s.Blocks, Bfree: s.Free, Bavail: s.Avail, Files: s.Files, Ffree: s.FilesFree,
		Bsize: uint32(s.BlockSize), Frsize: uint32(s.BlockSize), NameLen: uint32(s.NameMax)}
	return 0
}

func (r *rootNode) Statfs(ctx context.Context, out *gofuse.StatfsOut) syscall.Errno {
	return r.fs.statfs(out)
}

func (d *controlDir) Statfs(ctx context.Context, out *gofuse.StatfsOut) syscall.Errno {
	return d.fs.statfs(out)
}

func (d *groupsDir) Statfs(ctx context.Context, out *gofuse.StatfsOut) syscall.Errno {
	return d.fs.statfs(out)
}

func (d *viewDir) Statfs(ctx context.Context, out *gofuse.StatfsOut) syscall.Errno {
	return d.fs.statfs(out)
}
