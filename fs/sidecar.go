package fs

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// MaxSidecar bounds what may be written into a sidecar or a scratch file:
// a paper's metadata is a few kilobytes, and anything past this is a
// mistake that must not take the view's memory.
const MaxSidecar = meta.MaxSidecarBytes

// Sidecar is a JSON file in a view directory. It is in one of two states:
//   - attached: the metadata of paper id, rendered from the store; a
//     writable handle buffers what the editor writes and commits it to
//     the store when the content is complete (fsync, close, or a rename
//     onto the name);
//   - scratch: a plain in-memory file (an editor's temporary, backup or
//     swap file, or a sidecar renamed away). Scratch files never become
//     papers and go with the view (see scratch.go).
//
// Renaming a scratch file onto a sidecar commits its content and attaches
// it; renaming a sidecar away detaches it into a scratch copy, never
// deleting the paper.
type Sidecar struct {
	fs     *FS
	serial uint64 // scratch files: tells them apart (see Serial)

	mu      sync.Mutex              // protects the following
	view    *meta.View              // the view it was made in, for messages; shared by a listing's sidecars
	id      string                  // attached paper, "" when scratch
	name    string                  // last known name
	sc      *scratchContent         // scratch: its content, nil until needed
	trunced bool                    // attached: truncated with no handle open; the next writable open starts empty
	open    map[*SidecarHandle]bool // attached: open handles, which a truncate without a handle applies to
}

// newSidecar is paper id's sidecar, named name in view v.
func (f *FS) newSidecar(v *meta.View, id, name string) *Sidecar {
	return &Sidecar{fs: f, view: v, id: id, name: name}
}

// newScratch is an empty scratch file named name in view v.
func (f *FS) newScratch(v meta.View, name string, mode fs.FileMode) *Sidecar {
	return &Sidecar{fs: f, view: &v, name: name, serial: nextSerial(),
		sc: &scratchContent{mode: mode & fs.ModePerm, mtime: time.Now()}}
}

// ID is the paper n is the sidecar of, or "" for a scratch file.
func (n *Sidecar) ID() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.id
}

// Serial tells scratch files apart; it is 0 for a sidecar made attached
// (its paper and view say which it is).
func (n *Sidecar) Serial() uint64 { return n.serial }

// scratch is n's scratch content, made empty if it has none. n.mu is held.
func (n *Sidecar) scratch() *scratchContent {
	if n.sc == nil {
		n.sc = &scratchContent{mode: modeFile}
	}
	return n.sc
}

// scratchText is n's scratch content, to be saved as a sidecar: at most
// MaxSidecar bytes.
func (n *Sidecar) scratchText() ([]byte, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.scratch().bytes(MaxSidecar, func() error { return n.tooLargeAs(true) })
}

// scratchSize is the size of n's scratch content.
func (n *Sidecar) scratchSize() int64 {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.scratch().size
}

// copyScratch writes n's scratch content to w.
func (n *Sidecar) copyScratch(w io.Writer) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.scratch().copyTo(w)
}

// attach makes a scratch file the sidecar of paper id, named name in v.
func (n *Sidecar) attach(id string, v *meta.View, name string) {
	n.mu.Lock()
	n.id, n.sc, n.view, n.name = id, nil, v, name
	n.mu.Unlock()
}

// detach turns a sidecar into a scratch file named name holding its
// current JSON; the paper's sidecar is a new file from then on.
func (n *Sidecar) detach(name string) error {
	id := n.ID()
	if id == "" {
		return nil
	}
	p, err := n.fs.store.Get(id)
	if err != nil {
		return err
	}
	sc := &scratchContent{mode: modeFile}
	if err := sc.writeAt(n.fs, meta.EncodeSidecar(&p), 0); err != nil {
		return err
	}
	n.mu.Lock()
	n.id, n.name = "", name
	if n.serial == 0 {
		n.serial = nextSerial()
	}
	n.sc = sc
	n.mu.Unlock()
	n.fs.bumpSidecarGen(id)
	return nil
}

// dirtyHandle returns h, or else any open handle of n, that holds
// uncommitted text: its size is the file's size while an editor writes.
func (n *Sidecar) dirtyHandle(h *SidecarHandle) *SidecarHandle {
	if h != nil && h.isDirty() {
		return h
	}
	// Lock order is handle, then node (commit names the file while it
	// holds its handle): collect the handles first, then ask each.
	n.mu.Lock()
	hs := make([]*SidecarHandle, 0, len(n.open))
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

// Attr is the file's attributes.
func (n *Sidecar) Attr() (Attr, error) { return n.AttrOf(nil) }

// AttrOf is the file's attributes as seen through h (nil: no handle):
// while an editor writes, the size is that of its text.
func (n *Sidecar) AttrOf(h *SidecarHandle) (Attr, error) {
	if h := n.dirtyHandle(h); h != nil {
		h.mu.Lock()
		size := len(h.buf)
		h.mu.Unlock()
		return Attr{Mode: modeFile, Size: int64(size), Mtime: time.Now(), Links: 1}, nil
	}
	n.mu.Lock()
	id := n.id
	var a Attr
	if id == "" {
		sc := n.scratch()
		a = Attr{Mode: sc.mode, Size: sc.size, Mtime: sc.mtime, Links: 1}
	}
	n.mu.Unlock()
	if id == "" {
		return a, nil
	}
	p, err := n.fs.store.Get(id)
	if err != nil {
		return Attr{}, fmt.Errorf("sidecar of paper %s: %w", id, err)
	}
	return Attr{Mode: modeFile, Size: int64(len(meta.EncodeSidecar(&p))), Mtime: p.Modified, Links: 1}, nil
}

// Truncate sets the file's size, through h when there is one. Without
// one, it applies to the file, so to every open writable handle's text,
// or, with none open, to the next writable open (the kernel sends
// O_TRUNC and ftruncate without a handle).
func (n *Sidecar) Truncate(h *SidecarHandle, size int64) error {
	if err := n.writable(); err != nil {
		return err
	}
	handle := h
	var hs []*SidecarHandle
	if h != nil {
		hs = append(hs, h)
	}
	n.mu.Lock()
	if n.id == "" {
		defer n.mu.Unlock()
		if size > n.fs.maxScratch() {
			return n.tooLargeLocked()
		}
		return n.scratch().truncate(size)
	}
	if size > MaxSidecar {
		n.mu.Unlock()
		return n.tooLarge()
	}
	switch {
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
		h.truncate(int(size), h != handle)
	}
	return nil
}

// Chmod sets a scratch file's permission bits. A sidecar's mode is the
// view's: editors chmod after saving, which is accepted and changes
// nothing.
func (n *Sidecar) Chmod(mode fs.FileMode) {
	n.mu.Lock()
	if n.id == "" {
		n.scratch().mode = mode & fs.ModePerm
	}
	n.mu.Unlock()
}

func (n *Sidecar) tooLarge() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tooLargeLocked()
}

// tooLargeLocked is the error for a write past n's bound: a sidecar's,
// or a scratch file's (asSidecar: a scratch file too large to be saved
// as a sidecar). n.mu is held.
func (n *Sidecar) tooLargeLocked() error { return n.tooLargeAs(n.id != "") }

func (n *Sidecar) tooLargeAs(asSidecar bool) error {
	file := n.name
	if n.view != nil {
		file = n.view.String() + "/" + n.name
	}
	if !asSidecar {
		return fmt.Errorf("%s: a file written in a view holds at most %d MiB; put large files in the library folder: %w",
			file, n.fs.maxScratch()>>20, ErrTooLarge)
	}
	return fmt.Errorf("%s: a sidecar holds at most %d KiB: %w", file, MaxSidecar>>10, ErrTooLarge)
}

func resize(b []byte, size int) []byte {
	if size <= len(b) {
		return b[:size]
	}
	return append(b, make([]byte, size-len(b))...)
}

// writable is FS.writable for this file, its name made only when a
// write is refused: Write asks on every write(2).
func (n *Sidecar) writable() error {
	if n.fs.ReadOnly() == nil {
		return nil
	}
	return n.fs.writable(n.displayName())
}

// Open opens the file; flags are os.OpenFile's.
func (n *Sidecar) Open(flags int) (*SidecarHandle, error) {
	h := &SidecarHandle{node: n, writable: flags&(os.O_WRONLY|os.O_RDWR) != 0}
	if h.writable || flags&os.O_TRUNC != 0 {
		if err := n.writable(); err != nil {
			return nil, err
		}
	}
	n.mu.Lock()
	id := n.id
	if id == "" {
		var err error
		if flags&os.O_TRUNC != 0 {
			err = n.scratch().truncate(0)
		}
		n.mu.Unlock()
		if err != nil {
			return nil, err
		}
		return h, nil
	}
	trunced := n.trunced
	n.trunced = false
	n.mu.Unlock()
	p, err := n.fs.store.Get(id)
	if err != nil {
		return nil, fmt.Errorf("sidecar of paper %s: %w", id, err)
	}
	h.id = id
	h.buf = meta.EncodeSidecar(&p)
	n.fs.serve(p)
	if flags&os.O_TRUNC != 0 || trunced && h.writable {
		h.buf, h.dirty = nil, true
	}
	n.mu.Lock()
	if n.open == nil {
		n.open = map[*SidecarHandle]bool{}
	}
	n.open[h] = true
	n.mu.Unlock()
	return h, nil
}

// SidecarHandle is an open sidecar or scratch file. Attached, it holds the
// JSON as it was at open (a reader sees one consistent document) and, once
// written, the editor's new text until it is committed.
type SidecarHandle struct {
	node     *Sidecar
	id       string // attached paper at open, "" for scratch
	writable bool

	mu       sync.Mutex // protects the following
	buf      []byte
	dirty    bool   // buf differs from the store's text: truncated or written
	written  bool   // written since open or the last commit
	savedTo  string // scratch: the paper its text was saved to (commitScratch)
	rejected []byte // the text last refused, so fsync then close report it once
	cut      bool   // what it wrote was cut by another writer's truncate (see Truncate)
}

func (h *SidecarHandle) isDirty() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.dirty
}

// Release closes the handle.
func (h *SidecarHandle) Release() {
	n := h.node
	n.mu.Lock()
	delete(n.open, h)
	v, name := n.view, n.name
	n.mu.Unlock()
	h.mu.Lock()
	savedTo := h.savedTo
	h.mu.Unlock()
	if savedTo != "" && v != nil && n.fs.scratchIn(v.String(), name) == Node(n) {
		// Its text is in the paper now, under the paper's current name:
		// the stale name goes once the editor lets go of it.
		n.fs.setScratchIn(v.String(), name, nil)
		n.fs.invalidate(*v, name)
	}
}

// Read reads from off into buf and returns what it read; nothing at the
// end.
func (h *SidecarHandle) Read(buf []byte, off int64) ([]byte, error) {
	if h.id == "" {
		h.node.mu.Lock()
		defer h.node.mu.Unlock()
		b, err := h.node.scratch().readAt(buf, off)
		if err != nil {
			return nil, fmt.Errorf("reading %s: %w", h.node.name, err)
		}
		return b, nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	src := h.buf
	if off >= int64(len(src)) {
		return nil, nil
	}
	end := min(off+int64(len(buf)), int64(len(src)))
	return append(buf[:0], src[off:end]...), nil
}

// Write writes data at off.
func (h *SidecarHandle) Write(data []byte, off int64) (int, error) {
	if err := h.node.writable(); err != nil {
		return 0, err
	}
	if h.id == "" {
		h.node.mu.Lock()
		var err error
		if off+int64(len(data)) <= h.node.fs.maxScratch() {
			err = h.node.scratch().writeAt(h.node.fs, data, off)
		} else {
			err = h.node.tooLargeLocked()
		}
		h.node.mu.Unlock()
		if err != nil {
			return 0, err
		}
		h.mu.Lock()
		h.written = true
		h.mu.Unlock()
		return len(data), nil
	}
	if off+int64(len(data)) > MaxSidecar {
		return 0, h.node.tooLarge()
	}
	h.mu.Lock()
	h.buf = writeAt(h.buf, data, off)
	h.dirty, h.written = true, true
	h.mu.Unlock()
	return len(data), nil
}

func writeAt(b, data []byte, off int64) []byte {
	if end := int(off) + len(data); end > len(b) {
		b = resize(b, end)
	}
	copy(b[off:], data)
	return b
}

// truncate sets the handle's text to size; byOther says the truncate came
// without this handle (another writer's O_TRUNC or truncate(1)), which
// cuts away what this one already wrote.
func (h *SidecarHandle) truncate(size int, byOther bool) {
	if h.id == "" {
		return // the node's content, which Truncate set
	}
	h.mu.Lock()
	if byOther && h.written && size < len(h.buf) {
		h.cut = true
	}
	h.buf = resize(h.buf, size)
	h.dirty = true
	h.mu.Unlock()
}

// Commit saves what was written, if anything (an editor's fsync or
// close). An invalid sidecar is refused with an error wrapping
// meta.ErrInvalid; the store keeps the previous metadata and the refused
// text is kept for the user.
func (h *SidecarHandle) Commit() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	// Only text that was written is a save: a handle that was merely
	// truncated is an editor between O_TRUNC and its first write (and
	// shells close a duplicate of the descriptor there, which flushes).
	if h.id == "" {
		return h.commitScratch()
	}
	if !h.dirty || !h.written {
		return nil
	}
	if h.rejected != nil && bytes.Equal(h.rejected, h.buf) {
		return fmt.Errorf("%s: %w (already reported)", h.node.displayName(), meta.ErrInvalid)
	}
	var cause error
	if h.cut {
		cause = ErrCutByOther
	}
	if err := h.node.fs.commitText(h.id, h.node.displayName(), h.buf, cause); err != nil {
		h.rejected = append([]byte(nil), h.buf...)
		return err
	}
	h.dirty, h.written, h.rejected, h.cut = false, false, nil, false
	return nil
}

// commitScratch saves a scratch file that is a paper's sidecar under an
// outdated name: an editor saving again, by name, after its first save
// renamed the paper (vim, emacs, nano and VS Code all write to the name
// they opened). Its text carries the paper's id. Backups, swap and lock
// files are not .json or are hidden, and are never taken for saves.
// Called with h.mu held.
func (h *SidecarHandle) commitScratch() error {
	if !h.written {
		return nil
	}
	n := h.node
	n.mu.Lock()
	name := n.name
	n.mu.Unlock()
	if !strings.HasSuffix(name, ExtJSON) || strings.HasPrefix(name, ".") || n.scratchSize() > MaxSidecar {
		return nil // not a sidecar under an outdated name
	}
	data, err := n.scratchText()
	if err != nil {
		return err
	}
	id := meta.SidecarID(data)
	if id == "" {
		return nil
	}
	if _, err := n.fs.store.Get(id); err != nil {
		return nil // not a paper of this library: a plain scratch file
	}
	if h.rejected != nil && bytes.Equal(h.rejected, data) {
		return fmt.Errorf("%s: %w (already reported)", n.displayName(), meta.ErrInvalid)
	}
	if err := n.fs.commitSidecar(id, n.displayName(), data); err != nil {
		h.rejected = data
		return err
	}
	h.written, h.rejected, h.savedTo = false, nil, id
	return nil
}

func (n *Sidecar) displayName() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.view == nil {
		return n.name
	}
	return n.view.String() + "/" + n.name
}

// commitSidecar decodes, validates and stores a saved sidecar. The text
// is read against the version it was made from and only what the user
// changed there is applied to the paper as it is now: a change that
// arrived while the editor had the file open is kept, not undone. The
// version a text was made from is the one its "modified" names, or, when
// the same file was saved from that version before, what that save made:
// an editor saving its buffer again (a rating set to 4, then back to 0)
// changes what its own earlier save did.
func (f *FS) commitSidecar(id, file string, data []byte) error {
	return f.commitText(id, file, data, nil)
}

// ErrCutByOther explains a refused save whose text another writer's
// truncate emptied or shortened while it was being written: the text is
// not the user's mistake, the race is.
var ErrCutByOther = errors.New("the file was truncated by another writer while this one was writing it; save again")

// commitText is commitSidecar; cause, when not nil, is what made the text
// what it is, told in a refusal.
func (f *FS) commitText(id, file string, data []byte, cause error) error {
	if err := f.readOnlyErr(file); err != nil {
		// Written before the library turned read-only: kept, not lost.
		f.reject(id, file, data, err)
		return err
	}
	cur, err := f.store.Get(id)
	if err != nil {
		return fmt.Errorf("saving %s: %w", file, err)
	}
	base := cur
	m, stamped := meta.SidecarModified(data)
	if stamped {
		if b, ok := f.savedFrom(id, m, file); ok {
			base = b
			base.Modified = m // the text's stamp, which it may not change
		} else if b, ok := f.servedAt(id, m); ok && !m.Equal(cur.Modified) {
			base = b
		}
	}
	next, err := meta.DecodeSidecar(data, base)
	var saved meta.Paper
	if err == nil {
		saved, err = f.store.Update(id, func(p *meta.Paper) error { *p = meta.Rebase(base, next, *p); return nil })
	}
	if err != nil && cause != nil && errors.Is(err, meta.ErrInvalid) {
		err = fmt.Errorf("%w (%w)", cause, err)
	}
	if err != nil {
		f.reject(id, file, data, err)
		return cutError(fmt.Errorf("saving %s: %w", file, err))
	}
	if stamped {
		f.recordSave(id, m, file, saved)
	}
	f.log.Info("saved", slog.String("file", file))
	return nil
}
