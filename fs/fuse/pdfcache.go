//go:build linux || darwin

package fuse

import (
	"os"
	"syscall"

	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// The kernel's page cache of a PDF read without passthrough (every
// non-root user, macOS): kept from one open to the next while the PDF is
// unchanged, dropped as soon as it changed.

// keepCache says whether the kernel may keep the pages it cached of this
// PDF from earlier opens: only if the file just opened is the one the
// last open saw (same inode, size, mtime and ctime). Otherwise the kernel
// drops them on this open, so a PDF rewritten in the library folder is
// never served stale, notifications or not (macOS has none). Reads that
// do not go through passthrough (every non-root user, macOS) then serve a
// second read of an unchanged PDF from memory.
func (n *pdfNode) keepCache(f *os.File) bool {
	st, err := stateOf(f)
	n.mu.Lock()
	defer n.mu.Unlock()
	if err != nil {
		n.opened = fileState{}
		return false
	}
	keep := n.opened == st
	n.opened = st
	return keep
}

// fileState is what tells one version of a file from another.
type fileState struct {
	ino, size, mtime, ctime int64
}

func stateOf(f *os.File) (fileState, error) {
	var st syscall.Stat_t
	if err := syscall.Fstat(int(f.Fd()), &st); err != nil {
		return fileState{}, err
	}
	return fileState{ino: int64(st.Ino), size: st.Size, mtime: mtimeNs(&st), ctime: ctimeNs(&st)}, nil
}

// shownAttr is the part of a PDF's attributes whose change makes the
// kernel drop its cached pages (FUSE's auto_inval_data: size and mtime).
type shownAttr struct {
	set              bool
	size             uint64
	mtime, ctime     uint64
	mtimeNs, ctimeNs uint32
}

// remember notes the attributes a getattr shows. Without notifications
// they are kept for ShortTimeout, as a lookup's are (cacheEntry), not for
// none: with none, every read(2) of the cached pages would first ask for
// them again (auto_inval_data), a round trip per read.
func (n *pdfNode) remember(out *gofuse.AttrOut) {
	if n.fs.opts.NoNotify {
		out.SetTimeout(n.fs.opts.AttrTimeout)
	}
	a := &out.Attr
	n.mu.Lock()
	defer n.mu.Unlock()
	n.shown = shownAttr{true, a.Size, a.Mtime, a.Ctime, a.Mtimensec, a.Ctimensec}
}

// sameTimes gives a lookup or listing of a PDF the kernel already knows
// the times its last getattr showed (the real file's) instead of the
// index's, while the size agrees. Else every lookup after a getattr
// would flip the PDF's mtime between the two, and the kernel would drop
// the pages it cached each time. A size that differs means the PDF
// changed: the index's attributes go out, and the kernel drops its pages.
func (f *FS) sameTimes(id string, out *gofuse.Attr) {
	f.mu.Lock()
	in := f.live[id]
	f.mu.Unlock()
	if in == nil {
		return
	}
	n, ok := in.Operations().(*pdfNode)
	if !ok {
		return
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if s := n.shown; s.set && s.size == out.Size {
		out.Mtime, out.Mtimensec, out.Ctime, out.Ctimensec = s.mtime, s.mtimeNs, s.ctime, s.ctimeNs
	}
}
