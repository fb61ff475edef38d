package fs

import (
	"context"
	"encoding/json"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// controlDir is .paperfs/ at the root: what the mount has to tell the user.
// errors lists the sidecar saves that were refused, newest last.
type controlDir struct {
	fs.Inode
	fs *FS
}

var _ = (fs.NodeOnAdder)((*controlDir)(nil))

func (d *controlDir) OnAdd(ctx context.Context) {
	n := &genFile{fs: d.fs, gen: d.fs.errorsJSON}
	d.AddChild("errors", d.NewPersistentInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino("ctl", "errors")}), false)
}

func (f *FS) errorsJSON() []byte {
	b, _ := json.MarshalIndent(f.Rejections(), "", "  ")
	return append(b, '\n')
}

// genFile is a read-only file whose content is generated when opened.
type genFile struct {
	fs.Inode
	fs  *FS
	gen func() []byte
}

var (
	_ = (fs.NodeGetattrer)((*genFile)(nil))
	_ = (fs.NodeOpener)((*genFile)(nil))
)

func (n *genFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(n.gen())), startTime, n.StableAttr().Ino)
	return 0
}

func (n *genFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EROFS
	}
	return &genHandle{data: n.gen()}, fuse.FOPEN_DIRECT_IO, 0
}

// genHandle is an open generated file: its content as of the open.
type genHandle struct{ data []byte }

var _ = (fs.FileReader)((*genHandle)(nil))

func (h *genHandle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(h.data)) {
		return fuse.ReadResultData(nil), 0
	}
	return fuse.ReadResultData(h.data[off:min(off+int64(len(buf)), int64(len(h.data)))]), 0
}
