package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// incomingNode is a PDF being copied into the mount (cp, drag and drop).
// Its bytes go to a hidden temporary file in the library folder; when the
// writer closes it, it is imported like `paperfs import`, joining the tag or
// folder it was dropped into. A PDF already in the library just joins.
type incomingNode struct {
	fs.Inode
	fs   *FS
	dir  *viewDir
	name string
	tmp  string // the copy, named as the user named it, in a private hidden directory of the library folder

	mu   sync.Mutex // protects done
	done bool       // imported (or given up): further closes do nothing
}

var (
	_ = (fs.NodeGetattrer)((*incomingNode)(nil))
	_ = (fs.NodeOpener)((*incomingNode)(nil))
	_ = (fs.NodeSetattrer)((*incomingNode)(nil))
)

func (d *viewDir) createIncoming(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if d.fs.opts.Folder == nil {
		return nil, nil, 0, syscall.EROFS
	}
	f, err := d.fs.incomingFile(name)
	if err != nil {
		return nil, nil, 0, d.fs.errno("create", err, "file", d.view().String()+"/"+name)
	}
	n := &incomingNode{fs: d.fs, dir: d, name: name, tmp: f.Name()}
	child := d.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino("incoming", f.Name())})
	d.setScratch(name, child)
	var a fuse.AttrOut
	n.Getattr(ctx, nil, &a)
	out.Attr = a.Attr
	fd, err := syscall.Dup(int(f.Fd()))
	f.Close()
	if err != nil {
		return nil, nil, 0, syscall.EIO
	}
	return child, &incomingHandle{loopback: fs.NewLoopbackFile(fd).(*fs.LoopbackFile), node: n}, 0, 0
}

func (n *incomingNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	var st syscall.Stat_t
	if err := syscall.Stat(n.tmp, &st); err != nil {
		n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o644, 0, time.Now(), n.StableAttr().Ino)
		return 0
	}
	out.Attr.FromStat(&st)
	out.Attr.Ino = n.StableAttr().Ino
	out.Attr.Owner = fuse.Owner{Uid: n.fs.uid, Gid: n.fs.gid}
	return 0
}

func (n *incomingNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		if err := os.Truncate(n.tmp, int64(size)); err != nil {
			return n.fs.errno("truncate", err, "file", n.name)
		}
	}
	return n.Getattr(ctx, fh, out)
}

func (n *incomingNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	fd, err := syscall.Open(n.tmp, int(flags)&^(syscall.O_CREAT|syscall.O_EXCL)|syscall.O_CLOEXEC, 0)
	if err != nil {
		return nil, 0, n.fs.errno("open", err, "file", n.name)
	}
	return &incomingHandle{loopback: fs.NewLoopbackFile(fd).(*fs.LoopbackFile), node: n}, 0, 0
}

// incomingHandle writes to the temporary file and imports it on close.
type incomingHandle struct {
	loopback
	node *incomingNode
}

func (h *incomingHandle) Flush(ctx context.Context) syscall.Errno {
	if errno := h.loopback.Flush(ctx); errno != 0 {
		return errno
	}
	return h.node.finish()
}

// finish imports the copied file once the writer is done with it.
func (n *incomingNode) finish() syscall.Errno {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.done {
		return 0
	}
	st, err := os.Stat(n.tmp)
	if err != nil || st.Size() == 0 {
		return 0 // nothing written yet (touch, or an open before the copy)
	}
	n.done = true
	return n.dir.importCopy(n.name, n.tmp)
}

// importCopy imports the file at tmp, which the user put into d as name
// (copied in, or renamed from a download's partial file), like paperfs
// import: tagged or filed when d is a tag or folder, joining it when the
// library already holds the same PDF. What cannot be imported is kept.
func (d *viewDir) importCopy(name, tmp string) syscall.Errno {
	f := d.fs
	file := d.view().String() + "/" + name
	var tags []string
	if d.view().Kind == meta.Tags {
		tags = []string{d.view().Group}
	}
	p, err := f.opts.Folder.ImportFile(context.Background(), tmp, true, tags)
	var dup interface{ PaperID() string }
	switch {
	case err == nil:
		if d.view().Kind == meta.Folders {
			err = f.join(p.ID, d.view(), true)
		}
		f.log.Info("imported", "file", file, "paper", p.ID, "as", p.File.Path)
	case errors.As(err, &dup):
		// Already in the library: copying it here means "put it here too".
		os.Remove(tmp)
		err = f.join(dup.PaperID(), d.view(), true)
		f.log.Info("already in the library", "file", file)
	}
	if err != nil {
		kept := f.keepCopy(tmp, name)
		f.log.Error("import of a copied file failed; the file is kept", "file", file, "kept", kept, "err", err)
		if errors.Is(err, meta.ErrInvalid) {
			return syscall.EINVAL
		}
		return syscall.EIO
	}
	os.Remove(filepath.Dir(tmp)) // empty once imported or kept
	d.setScratch(name, nil)
	d.fs.later(func() { d.NotifyEntry(name) })
	return 0
}

// keepCopy moves a file that could not be imported where the user can
// find it, and returns where that is.
func (f *FS) keepCopy(tmp, name string) string {
	if f.opts.RejectDir == "" {
		return tmp
	}
	os.MkdirAll(f.opts.RejectDir, 0o700)
	dst := filepath.Join(f.opts.RejectDir, time.Now().UTC().Format("20060102T150405")+"-"+name)
	if os.Rename(tmp, dst) != nil {
		return tmp
	}
	return dst
}

// incomingDir makes the private hidden directory in the library folder
// where a file waits to be imported under the name the user gave it (the
// name import falls back on for title and file name; scans skip hidden
// directories).
func (f *FS) incomingFile(name string) (*os.File, error) {
	tmpDir, err := os.MkdirTemp(f.opts.Library, ".paperfs-incoming-*")
	if err != nil {
		return nil, err
	}
	w, err := os.OpenFile(filepath.Join(tmpDir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		os.Remove(tmpDir)
		return nil, err
	}
	return w, nil
}

// cleanIncoming removes what copies that were never written (touch x.pdf)
// left in the library folder; it runs once the mount is gone. A file with
// content there was not imported and not kept: it stays, and is reported.
func (f *FS) cleanIncoming() {
	dirs, _ := filepath.Glob(filepath.Join(f.opts.Library, ".paperfs-incoming-*"))
	for _, dir := range dirs {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			p := filepath.Join(dir, e.Name())
			if st, err := os.Stat(p); err == nil && st.Size() == 0 {
				os.Remove(p)
			} else {
				f.log.Warn("a file copied into the mount was not imported; it is still here", "file", p)
			}
		}
		os.Remove(dir) // only if empty
	}
}
