//go:build linux || darwin

package fuse

import (
	"context"
	"io/fs"
	"os"
	"sync/atomic"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	pfs "github.com/paperfs/paperfs/fs"
)

// One go-fuse node per kind of the view's nodes; each only translates.

func fileMode(m uint32) fs.FileMode { return fs.FileMode(m & 0o777) }

// pdfNode is a paper's PDF. Its bytes come from the real file in the
// library folder, through kernel passthrough where the kernel allows it.
type pdfNode struct {
	gofs.Inode
	fs *FS
	id string // the paper's; the view's PDF is n.fs.view.PDF(n.id)
	// seen is what this inode's opens and getattrs saw of the real file
	// (pdfcache.go), nil until the first: a listing makes a node per
	// PDF, and most are never opened. 160 bytes a node, as before the
	// page cache was kept.
	seen atomic.Pointer[pdfSeen]
}

func (n *pdfNode) pdf() pfs.PDF { return n.fs.view.PDF(n.id) }

var (
	_ = (gofs.NodeGetattrer)((*pdfNode)(nil))
	_ = (gofs.NodeOpener)((*pdfNode)(nil))
	_ = (gofs.NodeSetattrer)((*pdfNode)(nil))
	_ = (gofs.NodeOnAdder)((*pdfNode)(nil))
	_ = (gofs.NodeOnForgetter)((*pdfNode)(nil))
)

func (n *pdfNode) OnAdd(ctx context.Context) { n.fs.trackPDF(n.id, &n.Inode) }
func (n *pdfNode) OnForget()                 { n.fs.untrackPDF(n.id) }

func (n *pdfNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	if h := asPDFHandle(fh); h != nil {
		// The real file's attributes, owner and permissions included.
		errno := h.Getattr(ctx, out)
		out.Attr.Ino = n.StableAttr().Ino
		out.Attr.Nlink = pfs.PDFLinks
		if errno == 0 {
			n.remember(out)
		}
		return errno
	}
	a, err := n.pdf().Attr()
	if err != nil {
		return n.fs.errno("getattr", err, "paper", n.id)
	}
	n.fs.fillAttr(&out.Attr, a, n.StableAttr().Ino)
	n.remember(out)
	return 0
}

func (n *pdfNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	n.fs.Stats.OpensPDF.Add(1)
	f, err := n.pdf().Open(int(flags))
	if err != nil {
		return nil, 0, n.fs.errno("open", err, "paper", n.id)
	}
	var fuseFlags uint32
	if n.keepCache(f) {
		fuseFlags = gofuse.FOPEN_KEEP_CACHE
	}
	lf, errno := loopbackOf(f)
	if errno != 0 {
		return nil, 0, errno
	}
	h := &pdfHandle{loopback: lf, fs: n.fs}
	if n.fs.opts.NoPassthrough {
		return h, fuseFlags, 0
	}
	n.fs.Stats.Passthru.Store(true)
	return &passthroughHandle{pdfHandle: h, lf: lf}, fuseFlags, 0
}

// Setattr accepts chmod, chown and utimens on a PDF without an open handle
// (copy tools set them; the view decides modes), and truncates through one.
func (n *pdfNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	if h := asPDFHandle(fh); h != nil {
		return h.Setattr(ctx, in, out)
	}
	return n.Getattr(ctx, nil, out)
}

// loopbackOf hands f's descriptor to a go-fuse loopback file, which then
// owns it.
func loopbackOf(f *os.File) (*gofs.LoopbackFile, syscall.Errno) {
	defer f.Close()
	fd, err := syscall.Dup(int(f.Fd()))
	if err != nil {
		return nil, syscall.EIO
	}
	syscall.CloseOnExec(fd)
	return gofs.NewLoopbackFile(fd).(*gofs.LoopbackFile), 0
}

// loopback is the part of gofs.LoopbackFile a PDF handle exposes:
// everything but PassthroughFd, whose mere presence makes go-fuse try
// passthrough.
type loopback interface {
	gofs.FileReader
	gofs.FileWriter
	gofs.FileGetattrer
	gofs.FileSetattrer
	gofs.FileFlusher
	gofs.FileFsyncer
	gofs.FileReleaser
	gofs.FileLseeker
	gofs.FileAllocater
}

// pdfHandle is an open PDF served through FUSE reads.
type pdfHandle struct {
	loopback
	fs *FS
}

func (h *pdfHandle) Read(ctx context.Context, buf []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	h.fs.Stats.Reads.Add(1)
	return h.loopback.Read(ctx, buf, off)
}

// passthroughHandle is an open PDF whose reads and writes the kernel sends
// straight to the backing file. go-fuse falls back to Read when the kernel
// or our privileges refuse passthrough.
type passthroughHandle struct {
	*pdfHandle
	lf *gofs.LoopbackFile
}

func (h *passthroughHandle) PassthroughFd() (int, bool) { return h.lf.PassthroughFd() }

var _ = (gofs.FilePassthroughFder)((*passthroughHandle)(nil))

func asPDFHandle(fh gofs.FileHandle) *pdfHandle {
	switch h := fh.(type) {
	case *pdfHandle:
		return h
	case *passthroughHandle:
		return h.pdfHandle
	}
	return nil
}

// sidecarNode is a paper's sidecar or a scratch file (pfs.Sidecar).
type sidecarNode struct {
	gofs.Inode
	fs *FS
	sc *pfs.Sidecar
}

var (
	_ = (gofs.NodeGetattrer)((*sidecarNode)(nil))
	_ = (gofs.NodeSetattrer)((*sidecarNode)(nil))
	_ = (gofs.NodeOpener)((*sidecarNode)(nil))
	_ = (gofs.NodeOnForgetter)((*sidecarNode)(nil))
)

func (n *sidecarNode) OnForget() {
	if id := n.sc.ID(); id != "" {
		n.fs.untrackSidecar(id, &n.Inode)
	}
}

func (n *sidecarNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	a, err := n.sc.AttrOf(handleOf(fh))
	if err != nil {
		return n.fs.errno("getattr", err)
	}
	n.fs.fillAttr(&out.Attr, a, n.StableAttr().Ino)
	return 0
}

func handleOf(fh gofs.FileHandle) *pfs.SidecarHandle {
	if h, ok := fh.(*sidecarHandle); ok {
		return h.h
	}
	return nil
}

// Setattr truncates (through the handle when there is one) and accepts
// chmod, chown and utimens, which editors issue after saving.
func (n *sidecarNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if err := n.sc.Truncate(handleOf(fh), int64(size)); err != nil {
			return n.fs.errno("truncate", err)
		}
	}
	if m, ok := in.GetMode(); ok {
		n.sc.Chmod(fileMode(m))
	}
	return n.Getattr(ctx, fh, out)
}

func (n *sidecarNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	n.fs.Stats.Opens.Add(1)
	h, err := n.sc.Open(int(flags))
	if err != nil {
		return nil, 0, n.fs.errno("open", err)
	}
	// Direct I/O: the content is generated, and after a save it is the
	// store's canonical rendering, not the bytes written; the page cache
	// must not serve either stale.
	return &sidecarHandle{fs: n.fs, h: h}, gofuse.FOPEN_DIRECT_IO, 0
}

// sidecarHandle is an open sidecar or scratch file.
type sidecarHandle struct {
	fs *FS
	h  *pfs.SidecarHandle
}

var (
	_ = (gofs.FileReader)((*sidecarHandle)(nil))
	_ = (gofs.FileWriter)((*sidecarHandle)(nil))
	_ = (gofs.FileFsyncer)((*sidecarHandle)(nil))
	_ = (gofs.FileFlusher)((*sidecarHandle)(nil))
	_ = (gofs.FileReleaser)((*sidecarHandle)(nil))
)

func (h *sidecarHandle) Read(ctx context.Context, buf []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	b, err := h.h.Read(buf, off)
	if err != nil {
		return nil, h.fs.errno("read", err)
	}
	return gofuse.ReadResultData(b), 0
}

func (h *sidecarHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	n, err := h.h.Write(data, off)
	return uint32(n), h.fs.errno("write", err)
}

func (h *sidecarHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno {
	return h.fs.errno("save", h.h.Commit())
}

func (h *sidecarHandle) Flush(ctx context.Context) syscall.Errno {
	return h.fs.errno("save", h.h.Commit())
}

func (h *sidecarHandle) Release(ctx context.Context) syscall.Errno {
	h.h.Release()
	return 0
}

// incomingNode is a PDF being copied in (pfs.Incoming).
type incomingNode struct {
	gofs.Inode
	fs *FS
	in *pfs.Incoming
}

var (
	_ = (gofs.NodeGetattrer)((*incomingNode)(nil))
	_ = (gofs.NodeOpener)((*incomingNode)(nil))
	_ = (gofs.NodeSetattrer)((*incomingNode)(nil))
)

func (n *incomingNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	a, err := n.in.Attr()
	if err != nil {
		return n.fs.errno("getattr", err)
	}
	n.fs.fillAttr(&out.Attr, a, n.StableAttr().Ino)
	return 0
}

func (n *incomingNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if err := n.in.Truncate(int64(size)); err != nil {
			return n.fs.errno("truncate", err)
		}
	}
	return n.Getattr(ctx, fh, out)
}

func (n *incomingNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	f, err := n.in.Open(int(flags))
	if err != nil {
		return nil, 0, n.fs.errno("open", err)
	}
	lf, errno := loopbackOf(f)
	if errno != 0 {
		return nil, 0, errno
	}
	return &incomingHandle{loopback: lf, node: n, flags: int(flags)}, 0, 0
}

// incomingHandle writes to the copy; closing it hands the copy over.
type incomingHandle struct {
	loopback
	node  *incomingNode
	flags int // as opened
}

// Release tells the copy its writer let go for good (see pfs.Incoming.Release).
func (h *incomingHandle) Release(ctx context.Context) syscall.Errno {
	errno := h.loopback.Release(ctx)
	h.node.in.Release(h.flags)
	return errno
}

func (h *incomingHandle) Flush(ctx context.Context) syscall.Errno {
	if errno := h.loopback.Flush(ctx); errno != 0 {
		return errno
	}
	return h.node.fs.errno("import", h.node.in.Finish())
}

// linkNode is a scratch symlink, such as emacs' .#name lock.
type linkNode struct {
	gofs.Inode
	fs   *FS
	link *pfs.Link
}

var (
	_ = (gofs.NodeReadlinker)((*linkNode)(nil))
	_ = (gofs.NodeGetattrer)((*linkNode)(nil))
)

func (n *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) {
	return []byte(n.link.Target), 0
}

func (n *linkNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	a, _ := n.link.Attr()
	n.fs.fillAttr(&out.Attr, a, n.StableAttr().Ino)
	return 0
}

// bibNode is library.bib or a tag's tag.bib.
type bibNode struct {
	gofs.Inode
	fs  *FS
	bib *pfs.Bib
}

var (
	_ = (gofs.NodeGetattrer)((*bibNode)(nil))
	_ = (gofs.NodeOpener)((*bibNode)(nil))
	_ = (gofs.NodeSetattrer)((*bibNode)(nil))
)

func (n *bibNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*dataHandle); ok {
		n.fs.fillAttr(&out.Attr, h.attr, n.StableAttr().Ino)
		return 0
	}
	a, err := n.bib.Attr()
	if err != nil {
		return n.fs.errno("getattr", err, "file", n.bib.Name())
	}
	n.fs.fillAttr(&out.Attr, a, n.StableAttr().Ino)
	// Any edit anywhere changes the file: never let the kernel keep a size.
	out.SetTimeout(0)
	return 0
}

// Setattr refuses changes: the file is generated. Citation keys are edited
// in the papers' sidecars.
func (n *bibNode) Setattr(ctx context.Context, fh gofs.FileHandle, in *gofuse.SetAttrIn, out *gofuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (n *bibNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EROFS
	}
	data, mtime, err := n.bib.Content()
	if err != nil {
		return nil, 0, n.fs.errno("open", err, "file", n.bib.Name())
	}
	a := pfs.Attr{Mode: 0o444, Size: int64(len(data)), Mtime: mtime, Links: 1}
	// Direct I/O: reads come here whatever size the kernel last saw, so a
	// file that grew since the last stat is read whole.
	return &dataHandle{data: data, attr: a}, gofuse.FOPEN_DIRECT_IO, 0
}

// genNode is a generated control file in .paperfs/.
type genNode struct {
	gofs.Inode
	fs  *FS
	gen *pfs.Generated
}

var (
	_ = (gofs.NodeGetattrer)((*genNode)(nil))
	_ = (gofs.NodeOpener)((*genNode)(nil))
)

func (n *genNode) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	a, _ := n.gen.Attr()
	n.fs.fillAttr(&out.Attr, a, n.StableAttr().Ino)
	return 0
}

func (n *genNode) Open(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EROFS
	}
	return &dataHandle{data: n.gen.Content()}, gofuse.FOPEN_DIRECT_IO, 0
}

// dataHandle is an open generated file: its content as of the open.
type dataHandle struct {
	data []byte
	attr pfs.Attr
}

var _ = (gofs.FileReader)((*dataHandle)(nil))

func (h *dataHandle) Read(ctx context.Context, buf []byte, off int64) (gofuse.ReadResult, syscall.Errno) {
	if off >= int64(len(h.data)) {
		return gofuse.ReadResultData(nil), 0
	}
	return gofuse.ReadResultData(h.data[off:min(off+int64(len(buf)), int64(len(h.data)))]), 0
}
