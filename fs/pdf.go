package fs

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// pdfNode is a paper's PDF. Its bytes come from the real file in the
// library folder, through kernel passthrough where the kernel allows it.
type pdfNode struct {
	fs.Inode
	fs *FS
	id string
}

var (
	_ = (fs.NodeGetattrer)((*pdfNode)(nil))
	_ = (fs.NodeOpener)((*pdfNode)(nil))
	_ = (fs.NodeSetattrer)((*pdfNode)(nil))
	_ = (fs.NodeOnAdder)((*pdfNode)(nil))
	_ = (fs.NodeOnForgetter)((*pdfNode)(nil))
)

func (n *pdfNode) OnAdd(ctx context.Context) { n.fs.trackPDF(n.id, &n.Inode) }
func (n *pdfNode) OnForget()                 { n.fs.untrackPDF(n.id) }

// realPath is the PDF's path in the library folder, or an error saying why
// there is none on this device.
func (n *pdfNode) realPath() (meta.Paper, string, error) {
	p, err := n.fs.store.Get(n.id)
	if err != nil {
		return p, "", err
	}
	if p.File.Path == "" {
		return p, "", errNoPDF
	}
	return p, filepath.Join(n.fs.opts.Library, filepath.FromSlash(p.File.Path)), nil
}

var errNoPDF = errors.New("paper has no PDF file")

func (n *pdfNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h := asPDFHandle(fh); h != nil {
		errno := h.Getattr(ctx, out)
		out.Attr.Ino = n.StableAttr().Ino
		out.Attr.Nlink = pdfLinks
		out.Attr.Owner = fuse.Owner{Uid: n.fs.uid, Gid: n.fs.gid}
		return errno
	}
	p, path, err := n.realPath()
	if err != nil && !errors.Is(err, errNoPDF) {
		return n.fs.errno("getattr", err, "paper", n.id)
	}
	n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o644, p.File.Size, p.Modified, n.StableAttr().Ino)
	out.Attr.Nlink = pdfLinks
	if path != "" {
		var st syscall.Stat_t
		if syscall.Stat(path, &st) == nil {
			out.Attr.FromStat(&st)
			out.Attr.Ino = n.StableAttr().Ino
			out.Attr.Nlink = pdfLinks
			out.Attr.Owner = fuse.Owner{Uid: n.fs.uid, Gid: n.fs.gid}
		}
	}
	return 0
}

func (n *pdfNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	n.fs.Stats.OpensPDF.Add(1)
	p, path, err := n.realPath()
	if err != nil {
		return nil, 0, n.fs.errno("open", err, "paper", n.id)
	}
	fd, err := syscall.Open(path, int(flags)&^(syscall.O_CREAT|syscall.O_EXCL|syscall.O_APPEND)|syscall.O_CLOEXEC, 0)
	if err != nil {
		if errors.Is(err, syscall.ENOENT) {
			n.fs.log.Warn("PDF not in the library folder on this device (not downloaded yet, or moved outside paperfs?); see paperfs status",
				slog.String("paper", p.Title), slog.String("file", p.File.Path))
			return nil, 0, syscall.ENOENT
		}
		return nil, 0, n.fs.errno("open", &os.PathError{Op: "open", Path: path, Err: err}, "paper", n.id)
	}
	lf := fs.NewLoopbackFile(fd).(*fs.LoopbackFile)
	h := &pdfHandle{loopback: lf, fs: n.fs}
	if n.fs.opts.NoPassthrough {
		return h, 0, 0
	}
	n.fs.Stats.Passthru.Store(true)
	return &passthroughHandle{pdfHandle: h, lf: lf}, 0, 0
}

func (n *pdfNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if h := asPDFHandle(fh); h != nil {
		return h.Setattr(ctx, in, out)
	}
	// chmod/chown/utimens on a PDF without an open handle: nothing to keep
	// (the view decides modes); accept so copy tools do not fail.
	return n.Getattr(ctx, nil, out)
}

// loopback is the part of fs.LoopbackFile a PDF handle exposes: everything
// but PassthroughFd, whose mere presence makes go-fuse try passthrough.
type loopback interface {
	fs.FileReader
	fs.FileWriter
	fs.FileGetattrer
	fs.FileSetattrer
	fs.FileFlusher
	fs.FileFsyncer
	fs.FileReleaser
	fs.FileLseeker
	fs.FileAllocater
}

// pdfHandle is an open PDF served through FUSE reads.
type pdfHandle struct {
	loopback
	fs *FS
}

func (h *pdfHandle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	h.fs.Stats.Reads.Add(1)
	return h.loopback.Read(ctx, buf, off)
}

// passthroughHandle is an open PDF whose reads and writes the kernel sends
// straight to the backing file. go-fuse falls back to Read when the kernel
// or our privileges refuse passthrough.
type passthroughHandle struct {
	*pdfHandle
	lf *fs.LoopbackFile
}

func (h *passthroughHandle) PassthroughFd() (int, bool) { return h.lf.PassthroughFd() }

var _ = (fs.FilePassthroughFder)((*passthroughHandle)(nil))

func asPDFHandle(fh fs.FileHandle) *pdfHandle {
	switch h := fh.(type) {
	case *pdfHandle:
		return h
	case *passthroughHandle:
		return h.pdfHandle
	}
	return nil
}

// pdfLinks is the link count of a PDF, which is one inode in every view it
// appears in, like a file with hard links. The kernel drops the count when
// a view's name is unlinked (rm tags/x/X.pdf, which only untags) and then
// refuses to link the inode anywhere (ln, cp -l) once it reaches zero, so
// it must not start at 1.
const pdfLinks = 2
