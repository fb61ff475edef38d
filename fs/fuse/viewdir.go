//go:build linux || darwin

package fuse

import (
	"context"
	"strconv"
	"sync/atomic"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// viewDir is one directory of papers (all/, tags/x/, years/1978/, ...):
// the view's pfs.Dir, which decides what each operation means.
type viewDir struct {
	gofs.Inode
	fs    *FS
	viewp atomic.Pointer[meta.View] // what it shows; a tag renamed with mv changes it
	used  atomic.Int64              // last lookup, listing or change in it, unix ns (see forget.go)
	// lookups counts the kernel's LOOKUPs of names in it: the sign that
	// the names of a listing are being used (see dirHandle.namesOnly).
	lookups atomic.Uint64
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

func (d *viewDir) dir() pfs.Dir { return d.fs.view.Dir(d.view()) }

var (
	_ = (gofs.NodeLookuper)((*viewDir)(nil))
	_ = (gofs.NodeOpendirHandler)((*viewDir)(nil))
	_ = (gofs.NodeGetattrer)((*viewDir)(nil))
	_ = (gofs.NodeCreater)((*viewDir)(nil))
	_ = (gofs.NodeUnlinker)((*viewDir)(nil))
	_ = (gofs.NodeRenamer)((*viewDir)(nil))
	_ = (gofs.NodeLinker)((*viewDir)(nil))
	_ = (gofs.NodeSymlinker)((*viewDir)(nil))
	_ = (gofs.NodeMkdirer)((*viewDir)(nil))
	_ = (gofs.NodeOnAdder)((*viewDir)(nil))
	_ = (gofs.NodeOnForgetter)((*viewDir)(nil))
)

// A group directory (tags/x, authors/y, ...) counts against
// Options.MaxInodes like a paper's file: it costs about as much, and a walk
// of authors/ in a large library makes one per author. A node that loses
// go-fuse's race between two lookups of one new name is counted and never
// forgotten; the kernel serializes lookups of a name, so that takes a
// READDIRPLUS of the parent meeting a lookup of the same name, and leaves
// the count a little high, which only starts a forget pass a little early.
func (d *viewDir) OnAdd(ctx context.Context) {
	if pfs.HoldsGroups(d.view().Kind) {
		d.fs.heldDir(1)
	}
}

func (d *viewDir) OnForget() {
	if pfs.HoldsGroups(d.view().Kind) {
		d.fs.heldDir(-1)
	}
}

func (d *viewDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	if !pfs.IsPaperView(d.view()) {
		d.fs.fillAttr(&out.Attr, pfs.FMTrashAttr(), d.StableAttr().Ino)
		return 0
	}
	d.fs.dirAttr(&out.Attr, d.StableAttr().Ino)
	return 0
}

func (d *viewDir) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	d.lookups.Add(1)
	return d.lookup(ctx, name, out)
}

// lookup resolves name in d: the kernel's LOOKUP, or a READDIRPLUS entry
// a listing's handle could not answer.
func (d *viewDir) lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	d.fs.Stats.Lookups.Add(1)
	d.touch()
	v := d.viewp.Load()
	n, a, err := d.fs.view.Dir(*v).Lookup(name)
	if err != nil {
		return nil, d.fs.errno("lookup", err, "dir", v.String(), "name", name)
	}
	if pdf, ok := n.(pfs.PDF); ok {
		// The real file's attributes, as getattr will show them, so the
		// kernel's cached pages are not dropped for an mtime that only
		// differs from the index's (see sameTimes). One lookup, one stat;
		// listings keep the index's.
		if real, err := pdf.Attr(); err == nil {
			a = real
		}
	}
	child, errno := d.fs.inode(ctx, &d.Inode, v, n, a, name, out)
	if _, ok := n.(*pfs.Bib); ok && errno == 0 {
		out.SetAttrTimeout(0) // any edit anywhere changes it
	}
	return child, errno
}

// inode returns the inode for a view's node, filling out with its
// attributes. Nodes with the same number share one inode (go-fuse keeps
// one per number): a PDF's number depends only on the paper, so every view
// shares it, like hard links; a sidecar is one file per directory (an
// editor's rename in one view must not touch the others), numbered by
// view, paper and generation; a scratch file or copy by its serial.
func (f *FS) inode(ctx context.Context, parent *gofs.Inode, v *meta.View, n pfs.Node, a pfs.Attr, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	var ops gofs.InodeEmbedder
	var num uint64
	switch t := n.(type) {
	case pfs.PDF:
		ops, num = &pdfNode{fs: f, id: t.ID}, f.ino(pfs.ExtPDF, t.ID)
		if f.exactPDFs.Load() {
			// Other users are let in: the kernel checks them against
			// the real file's mode and owner, not the index's.
			if real, err := t.Attr(); err == nil {
				a = real
			}
		}
	case *pfs.Sidecar:
		ops, num = &sidecarNode{fs: f, sc: t}, f.sidecarNum(v, t)
	case *pfs.Incoming:
		ops, num = &incomingNode{fs: f, in: t}, f.ino("incoming", strconv.FormatUint(t.Serial(), 10))
	case *pfs.Link:
		ops, num = &linkNode{fs: f, link: t}, f.ino("link", strconv.FormatUint(t.Serial(), 10))
	case *pfs.Generated:
		ops, num = &genNode{fs: f, gen: t}, f.ino("gen", v.String()+"/"+name)
	case *pfs.Bib:
		ops, num = &bibNode{fs: f, bib: t}, f.ino("bib", t.View.String())
		if c := parent.GetChild(name); c != nil && c.StableAttr().Ino == num {
			return c, f.fillOut(out, a, num) // keeps its cached content
		}
	default:
		return nil, f.errno("lookup", pfs.ErrStale, "dir", v.String(), "name", name)
	}
	f.fillAttr(&out.Attr, a, num)
	pdf, isPDF := n.(pfs.PDF)
	if isPDF {
		f.sameTimes(pdf.ID, &out.Attr)
	}
	f.cacheEntry(out, isPDF)
	child := parent.NewInode(ctx, ops, gofs.StableAttr{Mode: mode(a.Mode) &^ 0o7777, Ino: num})
	if sc, ok := child.Operations().(*sidecarNode); ok {
		if id := sc.sc.ID(); id != "" {
			f.trackSidecar(id, child)
		}
	}
	return child, 0
}

func (f *FS) fillOut(out *gofuse.EntryOut, a pfs.Attr, num uint64) syscall.Errno {
	f.fillAttr(&out.Attr, a, num)
	return 0
}

// sidecarNum numbers a sidecar: a paper's by view, paper and generation,
// a scratch file (or one that was one) by its serial.
func (f *FS) sidecarNum(v *meta.View, sc *pfs.Sidecar) uint64 {
	if s := sc.Serial(); s != 0 {
		return f.ino("scratch", strconv.FormatUint(s, 10))
	}
	id := sc.ID()
	return f.salt ^ sidecarIno(*v, id, f.view.SidecarGen(id))
}

// sidecarIno is ino(ExtJSON, view+"\x00"+id+"\x00"+gen) without building
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
	add(pfs.ExtJSON)
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

func (d *viewDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	v := d.viewp.Load()
	n, err := d.fs.view.Dir(*v).Create(name, fileMode(mode))
	if err != nil {
		return nil, nil, 0, d.fs.errno("create", err, "dir", v.String(), "name", name)
	}
	a, err := n.Attr()
	if err != nil {
		return nil, nil, 0, d.fs.errno("create", err, "dir", v.String(), "name", name)
	}
	child, errno := d.fs.inode(ctx, &d.Inode, v, n, a, name, out)
	if errno != 0 {
		return nil, nil, 0, errno
	}
	fh, fuseFlags, errno := child.Operations().(gofs.NodeOpener).Open(ctx, flags&^syscall.O_TRUNC)
	return child, fh, fuseFlags, errno
}

func (d *viewDir) Mkdir(ctx context.Context, name string, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, d.fs.errno("mkdir", d.dir().Mkdir(name))
}

func (d *viewDir) Symlink(ctx context.Context, target, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	v := d.viewp.Load()
	n, err := d.fs.view.Dir(*v).Symlink(target, name)
	if err != nil {
		return nil, d.fs.errno("symlink", err, "dir", v.String(), "name", name)
	}
	a, _ := n.Attr()
	return d.fs.inode(ctx, &d.Inode, v, n, a, name, out)
}

func (d *viewDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.fs.errno("unlink", d.dir().Unlink(name), "dir", d.view().String(), "name", name)
}

func (d *viewDir) Link(ctx context.Context, target gofs.InodeEmbedder, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	var n pfs.Node
	switch t := target.(type) {
	case *pdfNode:
		n = t.pdf()
	case *sidecarNode:
		n = t.sc
	default:
		return nil, syscall.EPERM
	}
	if err := d.dir().Link(n, name); err != nil {
		return nil, d.fs.errno("link", err, "dir", d.view().String(), "name", name)
	}
	var a gofuse.AttrOut
	target.(gofs.NodeGetattrer).Getattr(ctx, nil, &a)
	out.Attr = a.Attr
	return target.EmbeddedInode(), 0
}

func (d *viewDir) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	to, ok := newParent.(*viewDir)
	if !ok {
		return d.fs.errno("rename", d.fs.view.GroupsRefusal(d.view().Kind, name))
	}
	var node pfs.Node
	var child *gofs.Inode
	if child = d.GetChild(name); child != nil {
		if sc, ok := child.Operations().(*sidecarNode); ok {
			node = sc.sc
		}
	}
	before := ""
	if sc, ok := node.(*pfs.Sidecar); ok {
		before = sc.ID()
	}
	err := d.dir().Rename(name, node, to.dir(), newName, pfs.RenameFlags{
		NoReplace: flags&renameNoReplace != 0,
		Exchange:  flags&renameExchange != 0,
	})
	if err != nil {
		return d.fs.errno("rename", err, "dir", d.view().String(), "name", name, "to", to.view().String()+"/"+newName)
	}
	// The kernel moves the inode to the new name: keep the count of the
	// sidecars it holds right when one was detached or attached.
	if sc, ok := node.(*pfs.Sidecar); ok {
		if after := sc.ID(); after != before {
			if before != "" {
				d.fs.untrackSidecar(before, child)
			}
			if after != "" {
				d.fs.trackSidecar(after, child)
			}
		}
	} else if child == nil {
		// A scratch file renamed onto a sidecar attaches it: find it
		// under its new name.
		if c := to.GetChild(newName); c != nil {
			if sc, ok := c.Operations().(*sidecarNode); ok && sc.sc.ID() != "" {
				d.fs.trackSidecar(sc.sc.ID(), c)
			}
		}
	}
	return 0
}

func (d *viewDir) OpendirHandle(ctx context.Context, flags uint32) (gofs.FileHandle, uint32, syscall.Errno) {
	d.fs.Stats.Readdirs.Add(1)
	d.touch()
	if !pfs.IsPaperView(d.view()) {
		return d.openFiles()
	}
	es, err := d.dir().List()
	if err != nil {
		return nil, 0, d.fs.errno("opendir", err, "dir", d.view().String())
	}
	v := d.view()
	extra := dots(&d.Inode)
	if pfs.HasBib(v) {
		extra = append(extra, gofuse.DirEntry{Name: pfs.BibTagName, Mode: syscall.S_IFREG, Ino: d.fs.ino("bib", v.String())})
	}
	for _, sc := range d.dir().Scratch() {
		extra = append(extra, d.fs.scratchEntry(&v, sc))
	}
	return &dirHandle{dir: d, entries: es, extra: extra}, 0, 0
}

// scratchEntry is a scratch file's entry in a listing, numbered as its
// inode is (see inode).
func (f *FS) scratchEntry(v *meta.View, e pfs.FileEntry) gofuse.DirEntry {
	out := gofuse.DirEntry{Name: e.Name, Mode: syscall.S_IFREG}
	switch t := e.Node.(type) {
	case *pfs.Sidecar:
		out.Ino = f.sidecarNum(v, t)
	case *pfs.Incoming:
		out.Ino = f.ino("incoming", strconv.FormatUint(t.Serial(), 10))
	case *pfs.Link:
		out.Mode, out.Ino = syscall.S_IFLNK, f.ino("link", strconv.FormatUint(t.Serial(), 10))
	case pfs.PDF:
		out.Ino = f.ino(pfs.ExtPDF, t.ID)
	}
	return out
}

// openFiles lists a directory of files (a file manager's trash), not
// papers.
func (d *viewDir) openFiles() (gofs.FileHandle, uint32, syscall.Errno) {
	fs, err := d.dir().Files()
	if err != nil {
		return nil, 0, d.fs.errno("opendir", err, "dir", d.view().String())
	}
	es := make([]gofuse.DirEntry, len(fs))
	for i, f := range fs {
		num := d.fs.ino("gen", d.view().String()+"/"+f.Name)
		if pdf, ok := f.Node.(pfs.PDF); ok {
			num = d.fs.ino(pfs.ExtPDF, pdf.ID)
		}
		es[i] = gofuse.DirEntry{Name: f.Name, Mode: syscall.S_IFREG, Ino: num}
	}
	return &listHandle{stream: gofs.NewListDirStream(withDots(&d.Inode, es))}, 0, 0
}

// listHandle is an open directory listed in one go.
type listHandle struct{ stream gofs.DirStream }

var _ = (gofs.FileReaddirenter)((*listHandle)(nil))

func (h *listHandle) Readdirent(ctx context.Context) (*gofuse.DirEntry, syscall.Errno) {
	if !h.stream.HasNext() {
		return nil, 0
	}
	e, errno := h.stream.Next()
	return &e, errno
}

// dirHandle is an open view directory: a snapshot of its listing, which also
// answers the lookups of READDIRPLUS, so `ls -l` costs no store lookups.
// It lists "." and "..", tag.bib if the view has one and its scratch files
// (extra), then the papers.
type dirHandle struct {
	dir     *viewDir
	extra   []gofuse.DirEntry
	entries []meta.Entry
	pos     int // index into the listing: extra, then entry (pos-len(extra))/2, pdf if even, json if odd

	// namesOnly says that the names READDIRPLUS carries get no inode (see
	// Lookup), from the start of the listing until the kernel looks up a
	// name in the directory. The kernel always asks for the first batch
	// with READDIRPLUS, before it can know whether the names will be used
	// (ls -l) or only read (find, a file manager's tree, an indexer); it
	// asks for the later batches with READDIRPLUS only once a name was
	// looked up. So a walk that only reads names makes no inode, where it
	// made one per name in every small directory (at 100k papers, 200k
	// for authors/ alone), and ls -l looks up the first batch's names one
	// by one (a few hundred at most), then gets the rest with inodes.
	namesOnly bool
	lookups   uint64 // the directory's lookup count when namesOnly was set
	made      int    // inodes the listing made
}

var (
	_ = (gofs.FileReaddirenter)((*dirHandle)(nil))
	_ = (gofs.FileLookuper)((*dirHandle)(nil))
	_ = (gofs.FileSeekdirer)((*dirHandle)(nil))
	_ = (gofs.FileReleasedirer)((*dirHandle)(nil))
)

func (h *dirHandle) size() int { return len(h.extra) + 2*len(h.entries) }

func (h *dirHandle) Readdirent(ctx context.Context) (*gofuse.DirEntry, syscall.Errno) {
	if h.pos == 0 {
		h.namesOnly, h.lookups = true, h.dir.lookups.Load()
	}
	if h.pos >= h.size() {
		return nil, 0
	}
	if h.pos < len(h.extra) {
		e := h.extra[h.pos]
		h.pos++
		e.Off = uint64(h.pos)
		return &e, 0
	}
	i := h.pos - len(h.extra)
	e := h.entries[i/2]
	ext := pfs.ExtPDF
	if i%2 == 1 || !pfs.Shows(e, ext) {
		ext = pfs.ExtJSON
		if i%2 == 0 {
			h.pos++ // past the PDF this paper does not show
		}
	}
	h.pos++
	return &gofuse.DirEntry{Name: e.Name + ext, Mode: syscall.S_IFREG, Ino: h.dir.fs.ino(ext, e.ID), Off: uint64(h.pos)}, 0
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
	if off > uint64(h.size()) {
		return syscall.EINVAL
	}
	h.pos = int(off)
	return 0
}

// errNoInode is Lookup's answer for a name READDIRPLUS carries without an
// inode. go-fuse then sends the entry with node id 0, which the kernel
// takes as "not given" (unlike a LOOKUP's ENOENT), and looks the name up if
// it is used. go-fuse does so for any error; TestReaddirplusWithoutInode
// pins that.
const errNoInode = syscall.EAGAIN

// Lookup answers READDIRPLUS for the name Readdirent just produced.
func (h *dirHandle) Lookup(ctx context.Context, name string, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	h.dir.touch() // a listing of a large view is a use for as long as it lasts
	if h.namesOnly {
		if h.dir.lookups.Load() == h.lookups {
			return nil, errNoInode
		}
		h.namesOnly = false
	}
	if i := h.pos - 1 - len(h.extra); i >= 0 && i/2 < len(h.entries) {
		i /= 2
		e := h.entries[i]
		if base, ext, ok := pfs.SplitExt(name); ok && base == e.Name {
			h.made++
			v := h.dir.viewp.Load()
			n := h.dir.fs.view.Dir(*v).PaperFile(e, ext, name, v)
			return h.dir.fs.inode(ctx, &h.dir.Inode, v, n, pfs.EntryAttr(e, ext), name, out)
		}
	}
	// A replayed, interrupted READDIRPLUS: resolve the name afresh.
	return h.dir.lookup(ctx, name, out)
}
