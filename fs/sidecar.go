package fs

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// sidecarNode is a JSON file in a view directory. It is in one of two
// states:
//   - attached: the metadata of paper id, rendered from the store; a write
//     handle buffers what the editor writes and commits it to the store when
//     the content is complete (fsync, close, or a rename onto the name);
//   - scratch: a plain in-memory file (an editor's temporary, backup or swap
//     file, or a sidecar renamed away). Scratch files never become papers
//     and vanish with the mount.
//
// Renaming a scratch file onto a sidecar commits its content and attaches
// it; renaming a sidecar away detaches it into a scratch copy, never
// deleting the paper.
//
// Listing a view makes one per paper, so what only a scratch file needs is
// kept apart (at 100k sidecars, 6 MB less).
type sidecarNode struct {
	fs.Inode
	fs   *FS
	view *meta.View // the directory it was created in, for inode numbers and messages
	dir  *viewDir   // scratch: the directory listing it

	mu      sync.Mutex                  // protects the following
	id      string                      // attached paper, "" when scratch
	name    string                      // last known name, for messages
	sc      *scratchContent             // scratch: its content (see scratch), nil until needed
	trunced bool                        // attached: truncated with no handle open (truncate(2)); the next writable open starts empty
	open    map[*sidecarHandle]struct{} // attached: open handles, which a truncate without a handle applies to
}

// scratchContent is a scratch file's content.
type scratchContent struct {
	data  []byte
	mode  uint32 // permission bits
	mtime time.Time
}

// scratch is n's scratch content, made empty if it has none. n.mu is held.
func (n *sidecarNode) scratch() *scratchContent {
	if n.sc == nil {
		n.sc = &scratchContent{}
	}
	return n.sc
}

// scratchData is a copy of n's scratch content.
func (n *sidecarNode) scratchData() []byte {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.sc == nil {
		return nil
	}
	return append([]byte(nil), n.sc.data...)
}

var (
	_ = (fs.NodeGetattrer)((*sidecarNode)(nil))
	_ = (fs.NodeSetattrer)((*sidecarNode)(nil))
	_ = (fs.NodeOpener)((*sidecarNode)(nil))
	_ = (fs.NodeOnForgetter)((*sidecarNode)(nil))
)

func (n *sidecarNode) attachedID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

func (n *sidecarNode) OnForget() {
	if id := n.attachedID(); id != "" {
		n.fs.untrackSidecar(id, &n.Inode)
	}
}

// attach makes a scratch node the sidecar of paper id.
func (n *sidecarNode) attach(id string) {
	n.mu.Lock()
	n.id, n.sc = id, nil
	n.mu.Unlock()
	n.fs.trackSidecar(id, &n.Inode)
}

// detach turns a sidecar into a scratch file holding its current JSON, and
// makes later lookups of the paper's sidecar create a fresh inode.
func (n *sidecarNode) detach(name string) error {
	id := n.attachedID()
	if id == "" {
		return nil
	}
	p, err := n.fs.store.Get(id)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.id, n.name = "", name
	n.sc = &scratchContent{data: meta.EncodeSidecar(&p), mode: 0o644, mtime: time.Now()}
	n.mu.Unlock()
	n.fs.untrackSidecar(id, &n.Inode)
	n.fs.bumpSidecarGen(id)
	return nil
}

// dirtyHandle returns fh, or else any open handle of n, that holds
// uncommitted text: its size is the file's size while an editor writes.
func (n *sidecarNode) dirtyHandle(fh fs.FileHandle) *sidecarHandle {
	if h, ok := fh.(*sidecarHandle); ok && h.isDirty() {
		return h
	}
	// Lock order is handle, then node (commit names the file while it
	// holds its handle): collect the handles first, then ask each.
	n.mu.Lock()
	hs := make([]*sidecarHandle, 0, len(n.open))
	for h := range n.open {
		hs = append(hs, h)
	}
	n.mu.Unlock()
	for _, h := range hs {
		if h.isDirty() {
			return h
		}
	}
	return nil
}

func (n *sidecarNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h := n.dirtyHandle(fh); h != nil {
		h.mu.Lock()
		size := len(h.buf)
		h.mu.Unlock()
		n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o644, int64(size), time.Now(), n.StableAttr().Ino)
		return 0
	}
	n.mu.Lock()
	id := n.id
	var size int
	var mode uint32
	var mtime time.Time
	if id == "" {
		sc := n.scratch()
		size, mode, mtime = len(sc.data), sc.mode, sc.mtime
	}
	n.mu.Unlock()
	if id == "" {
		n.fs.fillAttr(&out.Attr, syscall.S_IFREG|mode, int64(size), mtime, n.StableAttr().Ino)
		return 0
	}
	p, err := n.fs.store.Get(id)
	if err != nil {
		return n.fs.errno("getattr", err, "paper", id)
	}
	n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o644, int64(len(meta.EncodeSidecar(&p))), p.Modified, n.StableAttr().Ino)
	return 0
}

// Setattr truncates (through the handle when there is one) and accepts
// chmod, chown and utimens, which editors issue after saving: the view,
// not the file, decides a sidecar's mode.
func (n *sidecarNode) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	if size, ok := in.GetSize(); ok {
		// The kernel sends O_TRUNC and ftruncate as a SETATTR that
		// often carries no file handle; it applies to the file, so to
		// every open handle's text.
		var hs []*sidecarHandle
		if h, ok := fh.(*sidecarHandle); ok {
			hs = append(hs, h)
		}
		n.mu.Lock()
		switch {
		case n.id == "":
			sc := n.scratch()
			sc.data = resize(sc.data, int(size))
			sc.mtime = time.Now()
		case len(hs) == 0 && len(n.open) == 0:
			n.trunced = size == 0
		case len(hs) == 0:
			for h := range n.open {
				if h.writable {
					hs = append(hs, h)
				}
			}
		}
		n.mu.Unlock()
		for _, h := range hs {
			h.truncate(int(size))
		}
	}
	if mode, ok := in.GetMode(); ok {
		n.mu.Lock()
		if n.id == "" {
			n.scratch().mode = mode & 0o7777
		}
		n.mu.Unlock()
	}
	return n.Getattr(ctx, fh, out)
}

func resize(b []byte, size int) []byte {
	if size <= len(b) {
		return b[:size]
	}
	return append(b, make([]byte, size-len(b))...)
}

func (n *sidecarNode) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	h := &sidecarHandle{node: n, writable: flags&syscall.O_ACCMODE != syscall.O_RDONLY}
	n.mu.Lock()
	id := n.id
	if id == "" {
		if flags&syscall.O_TRUNC != 0 {
			n.scratch().data = nil
		}
		n.mu.Unlock()
		return h, fuse.FOPEN_DIRECT_IO, 0
	}
	trunced := n.trunced
	n.trunced = false
	n.mu.Unlock()
	p, err := n.fs.store.Get(id)
	if err != nil {
		return nil, 0, n.fs.errno("open", err, "paper", id)
	}
	h.id = id
	h.buf = meta.EncodeSidecar(&p)
	n.fs.serve(p)
	if flags&syscall.O_TRUNC != 0 || trunced && h.writable {
		h.buf, h.dirty = nil, true
	}
	n.mu.Lock()
	if n.open == nil {
		n.open = map[*sidecarHandle]struct{}{}
	}
	n.open[h] = struct{}{}
	n.mu.Unlock()
	// Direct I/O: the content is generated, and after a save it is the
	// store's canonical rendering, not the bytes written; the page cache
	// must not serve either stale.
	return h, fuse.FOPEN_DIRECT_IO, 0
}

// sidecarHandle is an open sidecar. Attached, it holds the JSON as it was
// at open (a reader sees one consistent document) and, once written, the
// editor's new text until it is committed.
type sidecarHandle struct {
	node     *sidecarNode
	id       string // attached paper at open, "" for scratch
	writable bool

	mu       sync.Mutex // protects the following
	buf      []byte
	dirty    bool   // buf differs from the store's text: truncated or written
	written  bool   // written since open or the last commit
	savedTo  string // scratch: the paper its text was saved to (commitScratch)
	rejected []byte // the text last refused, so fsync then close report it once
}

var (
	_ = (fs.FileReader)((*sidecarHandle)(nil))
	_ = (fs.FileWriter)((*sidecarHandle)(nil))
	_ = (fs.FileFsyncer)((*sidecarHandle)(nil))
	_ = (fs.FileFlusher)((*sidecarHandle)(nil))
	_ = (fs.FileReleaser)((*sidecarHandle)(nil))
)

func (h *sidecarHandle) isDirty() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dirty
}

func (h *sidecarHandle) Release(ctx context.Context) syscall.Errno {
	n := h.node
	n.mu.Lock()
	delete(n.open, h)
	d, name := n.dir, n.name
	n.mu.Unlock()
	h.mu.Lock()
	savedTo := h.savedTo
	h.mu.Unlock()
	if savedTo != "" && d != nil && d.scratchChild(name) == &n.Inode {
		// Its text is in the paper now, under the paper's current name:
		// the stale name goes once the editor lets go of it.
		d.setScratch(name, nil)
		n.fs.later(func() { d.NotifyEntry(name) })
	}
	return 0
}

// commitScratch saves a scratch file that is a paper's sidecar under an
// outdated name: an editor saving again, by name, after its first save
// renamed the paper (vim, emacs, nano and VS Code all write to the name
// they opened). Its text carries the paper's id. Backups, swap and lock
// files are not .json or are hidden, and are never taken for saves.
// Called with h.mu held.
func (h *sidecarHandle) commitScratch() syscall.Errno {
	if !h.written {
		return 0
	}
	n := h.node
	n.mu.Lock()
	name := n.name
	n.mu.Unlock()
	data := n.scratchData()
	if !strings.HasSuffix(name, extJSON) || strings.HasPrefix(name, ".") {
		return 0
	}
	id := meta.SidecarID(data)
	if id == "" {
		return 0
	}
	if _, err := n.fs.store.Get(id); err != nil {
		return 0 // not a paper of this library: a plain scratch file
	}
	if h.rejected != nil && bytes.Equal(h.rejected, data) {
		return syscall.EINVAL
	}
	if errno := n.fs.commitSidecar(id, n.displayName(), data); errno != 0 {
		h.rejected = data
		return errno
	}
	h.written, h.rejected, h.savedTo = false, nil, id
	return 0
}

func (h *sidecarHandle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	var src []byte
	if h.id == "" {
		h.node.mu.Lock()
		defer h.node.mu.Unlock()
		src = h.node.scratch().data
	} else {
		h.mu.Lock()
		defer h.mu.Unlock()
		src = h.buf
	}
	if off >= int64(len(src)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(buf)), int64(len(src)))
	return fuse.ReadResultData(append([]byte(nil), src[off:end]...)), 0
}

func (h *sidecarHandle) Write(ctx context.Context, data []byte, off int64) (uint32, syscall.Errno) {
	if h.id == "" {
		h.node.mu.Lock()
		sc := h.node.scratch()
		sc.data = writeAt(sc.data, data, off)
		sc.mtime = time.Now()
		h.node.mu.Unlock()
		h.mu.Lock()
		h.written = true
		h.mu.Unlock()
		return uint32(len(data)), 0
	}
	h.mu.Lock()
	h.buf = writeAt(h.buf, data, off)
	h.dirty, h.written = true, true
	h.mu.Unlock()
	return uint32(len(data)), 0
}

func writeAt(b, data []byte, off int64) []byte {
	if end := int(off) + len(data); end > len(b) {
		b = resize(b, end)
	}
	copy(b[off:], data)
	return b
}

func (h *sidecarHandle) truncate(size int) {
	if h.id == "" {
		h.node.mu.Lock()
		sc := h.node.scratch()
		sc.data = resize(sc.data, size)
		h.node.mu.Unlock()
		return
	}
	h.mu.Lock()
	h.buf = resize(h.buf, size)
	h.dirty = true
	h.mu.Unlock()
}

// commit saves what was written, if anything. An invalid sidecar is
// rejected with EINVAL, which editors report on fsync or close; the store
// keeps the previous metadata and the rejected text is kept for the user.
func (h *sidecarHandle) commit() syscall.Errno {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Only text that was written is a save: a handle that was merely
	// truncated is an editor between O_TRUNC and its first write (and
	// shells close a duplicate of the descriptor there, which flushes).
	if h.id == "" {
		return h.commitScratch()
	}
	if !h.dirty || !h.written {
		return 0
	}
	if h.rejected != nil && bytes.Equal(h.rejected, h.buf) {
		return syscall.EINVAL
	}
	if errno := h.node.fs.commitSidecar(h.id, h.node.displayName(), h.buf); errno != 0 {
		h.rejected = append([]byte(nil), h.buf...)
		return errno
	}
	h.dirty, h.written, h.rejected = false, false, nil
	return 0
}

func (h *sidecarHandle) Fsync(ctx context.Context, flags uint32) syscall.Errno { return h.commit() }
func (h *sidecarHandle) Flush(ctx context.Context) syscall.Errno               { return h.commit() }

func (n *sidecarNode) displayName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.view.String() + "/" + n.name
}

// commitSidecar decodes, validates and stores a saved sidecar. The text
// is read against the version it was made from (its "modified" names it)
// and only what the user changed there is applied to the paper as it is
// now: a change that arrived while the editor had the file open is kept,
// not undone.
func (f *FS) commitSidecar(id, file string, data []byte) syscall.Errno {
	cur, err := f.store.Get(id)
	if err != nil {
		return f.errno("save", err, "file", file)
	}
	base := cur
	if m, ok := meta.SidecarModified(data); ok && !m.Equal(cur.Modified) {
		if b, ok := f.servedAt(id, m); ok {
			base = b
		}
	}
	next, err := meta.DecodeSidecar(data, base)
	if err == nil {
		_, err = f.store.Update(id, func(p *meta.Paper) error { *p = meta.Rebase(base, next, *p); return nil })
	}
	if err != nil {
		f.reject(id, file, data, err)
		return syscall.EINVAL
	}
	f.log.Info("saved", slog.String("file", file))
	return 0
}
