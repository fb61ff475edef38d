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
	if err != nil {
		st = fileState{}
	}
	old := n.update(func(s *pdfSeen) { s.opened = st })
	return err == nil && old.opened == st
}

// pdfSeen is what a PDF node's opens and getattrs saw of the real file.
// A node's is replaced whole, never changed in place.
type pdfSeen struct {
	opened fileState // as of the last open (keepCache)
	shown  shownAttr // the attributes the last getattr showed (remember)
}

// update replaces what the node saw by a copy changed by fn, and returns
// what it was before (zero if nothing yet).
func (n *pdfNode) update(fn func(s *pdfSeen)) pdfSeen {
	for {
		cur := n.seen.Load()
		var old pdfSeen
		if cur != nil {
			old = *cur
		}
		next := old
		fn(&next)
		if n.seen.CompareAndSwap(cur, &next) {
			return old
		}
	}
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
	shown := shownAttr{true, a.Size, a.Mtime, a.Ctime, a.Mtimensec, a.Ctimensec}
	if cur := n.seen.Load(); cur != nil && cur.shown == shown {
		return // the same again: no new copy
	}
	n.update(func(s *pdfSeen) { s.shown = shown })
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
	seen := n.seen.Load()
	if seen == nil {
		return
	}
	if s := seen.shown; s.set && s.size == out.Size {
		out.Mtime, out.Mtimensec, out.Ctime, out.Ctimensec = s.mtime, s.mtimeNs, s.ctime, s.ctimeNs
	}
}
