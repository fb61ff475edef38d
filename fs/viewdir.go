package fs

import (
	"context"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// viewDir is one directory of papers (all/, tags/x/, years/1978/, ...). It
// holds no state: listings and lookups go to the store's indexes.
type viewDir struct {
	fs.Inode
	fs    *FS
	viewp atomic.Pointer[meta.View] // what it shows; a tag renamed with mv changes it
	used  atomic.Int64              // last lookup, listing or change in it, unix ns (see forget.go)
}

func newViewDir(f *FS, v meta.View) *viewDir {
	d := &viewDir{fs: f}
	d.viewp.Store(&v)
	d.touch()
	return d
}

// view is the set of papers d shows. It can change under a running
// operation (mv tags/a tags/b keeps the directory's inode), so read it once
// per operation.
func (d *viewDir) view() meta.View { return *d.viewp.Load() }

var (
	_ = (fs.NodeLookuper)((*viewDir)(nil))
	_ = (fs.NodeOpendirHandler)((*viewDir)(nil))
	_ = (fs.NodeGetattrer)((*viewDir)(nil))
	_ = (fs.NodeCreater)((*viewDir)(nil))
	_ = (fs.NodeUnlinker)((*viewDir)(nil))
	_ = (fs.NodeRenamer)((*viewDir)(nil))
	_ = (fs.NodeLinker)((*viewDir)(nil))
	_ = (fs.NodeSymlinker)((*viewDir)(nil))
	_ = (fs.NodeMkdirer)((*viewDir)(nil))
	_ = (fs.NodeOnAdder)((*viewDir)(nil))
	_ = (fs.NodeOnForgetter)((*viewDir)(nil))
)

// A group directory (tags/x, authors/y, ...) counts against
// Options.MaxInodes like a paper's file: it costs about as much, and a walk
// of authors/ in a large library makes one per author. A node that loses
// go-fuse's race between two lookups of one new name is counted and never
// forgotten; the kernel serializes lookups of a name, so that takes a
// READDIRPLUS of the parent meeting a lookup of the same name, and leaves
// the count a little high, which only starts a forget pass a little early.
func (d *viewDir) OnAdd(ctx context.Context) {
	if d.view().Kind.IsGroup() {
		d.fs.heldDir(1)
	}
}

func (d *viewDir) OnForget() {
	if d.view().Kind.IsGroup() {
		d.fs.heldDir(-1)
	}
}

// Scratch files and links belong to the view, not to one directory inode:
// after mv tags/a tags/b the kernel may hold two inodes for tags/b for a
// while (the moved one and a fresh lookup), and a file created through one
// must be found through the other.
func (d *viewDir) scratchChild(name string) *fs.Inode {
	return d.fs.scratchIn(d.view().String(), name)
}

func (d *viewDir) setScratch(name string, n *fs.Inode) {
	d.fs.setScratchIn(d.view().String(), name, n)
}

// Paper file extensions.
const (
	extPDF  = ".pdf"
	extJSON = ".json"
)

func (d *viewDir) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fs.fillAttr(&out.Attr, syscall.S_IFDIR|0o755, 0, startTime, d.StableAttr().Ino)
	return 0
}

// splitExt splits a paper file name into base name and extension.
func splitExt(name string) (string, string, bool) {
	for _, ext := range []string{extPDF, extJSON} {
		if base, ok := strings.CutSuffix(name, ext); ok && base != "" {
			return base, ext, true
		}
	}
	return "", "", false
}

func (d *viewDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.fs.Stats.Lookups.Add(1)
	d.touch()
	if name == bibTagName && d.hasBib() {
		return d.bibInode(ctx, out)
	}
	if n := d.scratchChild(name); n != nil {
		var a fuse.AttrOut
		errno := n.Operations().(fs.NodeGetattrer).Getattr(ctx, nil, &a)
		out.Attr = a.Attr
		return n, errno
	}
	base, ext, ok := splitExt(name)
	if !ok {
		return nil, syscall.ENOENT
	}
	v := d.viewp.Load()
	e, err := d.fs.store.Lookup(*v, base)
	if err != nil {
		return nil, d.fs.errno("lookup", err, "dir", v.String(), "name", name)
	}
	return d.fs.paperInode(ctx, &d.Inode, v, e, name, ext, out), 0
}

// paperInode returns the inode for one of a paper's files, filling out from
// the index entry. A PDF's inode number depends only on the paper, so every
// view shares it, like hard links. A sidecar is one file per directory (an
// editor's rename in one view must not touch the others), numbered by view,
// paper and generation. name is the file's name, which go-fuse keeps as the
// child's name in parent: the sidecar node shares that string rather than
// holding a copy (listing every view of a large library makes hundreds of
// thousands of them).
func (f *FS) paperInode(ctx context.Context, parent *fs.Inode, v *meta.View, e meta.Entry, name, ext string, out *fuse.EntryOut) *fs.Inode {
	if ext == extPDF {
		n := ino(extPDF, e.ID)
		f.fillAttr(&out.Attr, syscall.S_IFREG|0o644, e.PDFSize, e.Modified, n)
		out.Attr.Nlink = pdfLinks
		return parent.NewInode(ctx, &pdfNode{fs: f, id: e.ID}, fs.StableAttr{Mode: syscall.S_IFREG, Ino: n})
	}
	n := sidecarIno(*v, e.ID, f.sidecarGen(e.ID))
	f.fillAttr(&out.Attr, syscall.S_IFREG|0o644, int64(e.SidecarSize), e.Modified, n)
	child := parent.NewInode(ctx, &sidecarNode{fs: f, view: v, id: e.ID, name: name},
		fs.StableAttr{Mode: syscall.S_IFREG, Ino: n})
	if sc, ok := child.Operations().(*sidecarNode); ok && sc.attachedID() == e.ID {
		f.trackSidecar(e.ID, child)
	}
	return child
}

// sidecarIno is ino(extJSON, view+"\x00"+id+"\x00"+gen) without building
// the key string: FNV-1a over the same bytes, so the numbers stay stable.
func sidecarIno(v meta.View, id string, gen int) uint64 {
	const prime = 1099511628211
	h := uint64(14695981039346656037)
	add := func(s string) {
		for i := 0; i < len(s); i++ {
			h ^= uint64(s[i])
			h *= prime
		}
	}
	add(extJSON)
	add("\x00")
	add(string(v.Kind))
	if v.Group != "" {
		add("/")
		add(v.Group)
	}
	add("\x00")
	add(id)
	add("\x00")
	var buf [20]byte
	add(string(strconv.AppendInt(buf[:0], int64(gen), 10)))
	return h | 1<<63
}

func (d *viewDir) OpendirHandle(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	d.fs.Stats.Readdirs.Add(1)
	d.touch()
	es, err := d.fs.store.List(d.view())
	if err != nil {
		return nil, 0, d.fs.errno("opendir", err, "dir", d.view().String())
	}
	return &dirHandle{dir: d, entries: es}, 0, 0
}

// dirHandle is an open view directory: a snapshot of its listing, which also
// answers the lookups of READDIRPLUS, so `ls -l` costs no store lookups.
type dirHandle struct {
	dir     *viewDir
	entries []meta.Entry
	pos     int // index into the listing: entry pos/2, pdf if even, json if odd

	// first is the request that read the listing from its start. The
	// kernel always asks for that batch with READDIRPLUS, before it can
	// know whether the names will be looked up (ls -l) or only read (find,
	// a file manager's tree, an indexer); it asks for the later batches
	// with READDIRPLUS only if they were. So the first batch carries names
	// without inodes (see Lookup): a walk that only reads names makes
	// none, where it made one per name in every small directory (at 100k
	// papers, 200k for authors/ alone), and ls -l looks up the first
	// batch's names one by one (a few hundred at most).
	first context.Context
	made  int // inodes the listing made
}

var (
	_ = (fs.FileReaddirenter)((*dirHandle)(nil))
	_ = (fs.FileLookuper)((*dirHandle)(nil))
	_ = (fs.FileSeekdirer)((*dirHandle)(nil))
	_ = (fs.FileReleasedirer)((*dirHandle)(nil))
)

func (h *dirHandle) Readdirent(ctx context.Context) (*fuse.DirEntry, syscall.Errno) {
	if h.pos == 0 {
		h.first = ctx
	}
	if h.pos >= 2*len(h.entries) {
		if h.pos == 2*len(h.entries) && h.dir.hasBib() {
			h.pos++
			return &fuse.DirEntry{Name: bibTagName, Mode: syscall.S_IFREG, Ino: ino("bib", h.dir.view().String()), Off: uint64(h.pos)}, 0
		}
		return nil, 0
	}
	e := h.entries[h.pos/2]
	ext := extPDF
	if h.pos%2 == 1 {
		ext = extJSON
	}
	h.pos++
	return &fuse.DirEntry{Name: e.Name + ext, Mode: syscall.S_IFREG, Ino: ino(ext, e.ID), Off: uint64(h.pos)}, 0
}

// Releasedir ends a listing. After one that made many inodes, the mount
// hands back what it allocated and dropped meanwhile (see forget.go). A
// listing of names allocates little; handing back the heap's free pages
// then would only have the next listing fault them in again.
func (h *dirHandle) Releasedir(ctx context.Context, releaseFlags uint32) {
	if h.made >= releaseAfter {
		select {
		case h.dir.fs.listed <- struct{}{}:
		default:
		}
	}
}

func (h *dirHandle) Seekdir(ctx context.Context, off uint64) syscall.Errno {
	if off > uint64(2*len(h.entries)+1) {
		return syscall.EINVAL
	}
	h.pos = int(off)
	return 0
}

// errNoInode is Lookup's answer for a name READDIRPLUS carries without an
// inode: the kernel takes an entry with node id 0 as "not given" (unlike
// a LOOKUP's ENOENT), and looks the name up if it is used.
const errNoInode = syscall.EAGAIN

// Lookup answers READDIRPLUS for the name Readdirent just produced.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	h.dir.touch() // a listing of a large view is a use for as long as it lasts
	if ctx == h.first {
		return nil, errNoInode
	}
	if i := (h.pos - 1) / 2; i >= 0 && i < len(h.entries) {
		e := h.entries[i]
		if base, ext, ok := splitExt(name); ok && base == e.Name {
			h.made++
			return h.dir.fs.paperInode(ctx, &h.dir.Inode, h.dir.viewp.Load(), e, name, ext, out), 0
		}
	}
	// A replayed, interrupted READDIRPLUS: resolve the name afresh.
	return h.dir.Lookup(ctx, name, out)
}
