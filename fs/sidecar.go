package fs

import (
	"context"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// sidecarNode is a paper's metadata as JSON.
type sidecarNode struct {
	fs.Inode
	fs *FS
	id string
}

var (
	_ = (fs.NodeGetattrer)((*sidecarNode)(nil))
	_ = (fs.NodeOpener)((*sidecarNode)(nil))
	_ = (fs.NodeOnAdder)((*sidecarNode)(nil))
	_ = (fs.NodeOnForgetter)((*sidecarNode)(nil))
)

func (n *sidecarNode) OnAdd(ctx context.Context) { n.fs.track(n.id+extJSON, &n.Inode) }
func (n *sidecarNode) OnForget()                 { n.fs.forget(n.id + extJSON) }

func (n *sidecarNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*sidecarHandle); ok {
		n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o644, int64(len(h.data)), h.mtime, n.StableAttr().Ino)
		return 0
	}
	p, err := n.fs.store.Get(n.id)
	if err != nil {
		return n.fs.errno("getattr", err, "paper", n.id)
	}
	n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o644, int64(len(meta.EncodeSidecar(&p))), p.Modified, n.StableAttr().Ino)
	return 0
}

func (n *sidecarNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EROFS
	}
	p, err := n.fs.store.Get(n.id)
	if err != nil {
		return nil, 0, n.fs.errno("open", err, "paper", n.id)
	}
	return &sidecarHandle{data: meta.EncodeSidecar(&p), mtime: p.Modified}, 0, 0
}

// sidecarHandle is an open sidecar: the JSON as it was when opened, so a
// reader sees one consistent document even if the paper changes meanwhile.
type sidecarHandle struct {
	data  []byte
	mtime time.Time
}

var _ = (fs.FileReader)((*sidecarHandle)(nil))

func (h *sidecarHandle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(h.data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(buf)), int64(len(h.data)))
	return fuse.ReadResultData(h.data[off:end]), 0
}
