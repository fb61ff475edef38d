package fs

import (
	"bytes"
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
)

// The generated BibTeX files: the whole library at the root, one tag's
// papers in each tag directory.
const (
	bibLibraryName = "library.bib"
	bibTagName     = "tag.bib"
)

// bibStore is what the BibTeX files need beyond Store: every paper, and a
// version to cache by. *meta.Store has both; a store without them serves
// the files uncached, with the papers' ids as keys for papers that have none.
type bibStore interface {
	ForEach(fn func(p meta.Paper) bool) error
	Vector() (map[string]uint64, error)
}

// bibFile is a read-only BibTeX file generated from the current metadata:
// its size is right on every stat, and every open reads a fresh copy.
type bibFile struct {
	fs.Inode
	fs   *FS
	view meta.View // {All} is the whole library; {Tags, t} one tag

	mu    sync.Mutex // protects the following
	stamp string     // store version the cached content was made from
	data  []byte
	mtime time.Time
}

var (
	_ = (fs.NodeGetattrer)((*bibFile)(nil))
	_ = (fs.NodeOpener)((*bibFile)(nil))
	_ = (fs.NodeSetattrer)((*bibFile)(nil))
)

// hasBib reports whether a view directory shows a tag.bib.
func (d *viewDir) hasBib() bool { return d.view().Kind == meta.Tags && d.view().Group != "" }

// bibInode returns the tag.bib of a tag directory.
func (d *viewDir) bibInode(ctx context.Context, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n := &bibFile{fs: d.fs, view: d.view()}
	if c := d.GetChild(bibTagName); c != nil {
		if known, ok := c.Operations().(*bibFile); ok {
			n = known // its cached content
		}
	}
	data, mtime, err := n.content()
	if err != nil {
		return nil, d.fs.errno("lookup", err, "file", d.view().String()+"/"+bibTagName)
	}
	ino := ino("bib", d.view().String())
	d.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(data)), mtime, ino)
	out.SetAttrTimeout(0)
	return d.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino}), 0
}

// addBib puts library.bib in the root.
func (r *rootNode) addBib(ctx context.Context) {
	n := r.NewPersistentInode(ctx, &bibFile{fs: r.fs, view: meta.View{Kind: meta.All}},
		fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino("bib", bibLibraryName)})
	r.AddChild(bibLibraryName, n, false)
}

func (n *bibFile) name() string {
	if n.view.Kind == meta.All {
		return bibLibraryName
	}
	return n.view.String() + "/" + bibTagName
}

// content returns the file's text, regenerated when the store changed since
// the last time. It never writes: papers are given their citation keys when
// they are created (and keyless ones from older versions when the library
// is opened), so a read shows the stored keys, and the one a keyless paper
// will get (see bibtex.ResolveKeys).
func (n *bibFile) content() ([]byte, time.Time, error) {
	src, _ := n.fs.store.(bibStore)
	stamp := ""
	if src != nil {
		v, err := src.Vector()
		if err != nil {
			return nil, time.Time{}, err
		}
		stamp = vectorStamp(v)
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if stamp != "" && stamp == n.stamp {
		return n.data, n.mtime, nil
	}
	papers, err := n.papers(src, stamp)
	if err != nil {
		return nil, time.Time{}, err
	}
	var b bytes.Buffer
	if err := bibtex.Write(&b, papers); err != nil {
		return nil, time.Time{}, err
	}
	mtime := startTime
	for _, p := range papers {
		if p.Modified.After(mtime) {
			mtime = p.Modified
		}
	}
	n.stamp, n.data, n.mtime = stamp, b.Bytes(), mtime
	return n.data, n.mtime, nil
}

// papers lists the papers the file cites, with their keys resolved among
// the whole library's: every paper not in the trash (a PDF missing on this
// device is no reason not to cite it), or those of them with the tag.
//
// A tag's file reads only the tag's papers when every paper's stored key
// is unique (the store answers that from its key index), which is the
// rule: keys are given when papers are created. Reading the whole library
// for each tag.bib made listing every tag of a 100k-paper library a matter
// of minutes, since READDIRPLUS sizes the file.
func (n *bibFile) papers(src bibStore, stamp string) ([]meta.Paper, error) {
	if src == nil || (n.view.Kind != meta.All && n.fs.keysUnique(src, stamp)) {
		return n.members()
	}
	var all []meta.Paper
	if err := src.ForEach(func(p meta.Paper) bool { all = append(all, p); return true }); err != nil {
		return nil, err
	}
	var out []meta.Paper
	for _, p := range bibtex.ResolveKeys(all) {
		if p.Trashed == nil && (n.view.Kind == meta.All || n.tagged(&p)) {
			out = append(out, p)
		}
	}
	return out, nil
}

func (n *bibFile) tagged(p *meta.Paper) bool {
	return slices.ContainsFunc(p.Tags, func(t string) bool { return meta.GroupName(t) == n.view.Group })
}

// members reads the papers of the file's view, and for a tag those of its
// papers whose PDF is missing on this device (they are listed in missing/
// only), ordered by name.
func (n *bibFile) members() ([]meta.Paper, error) {
	es, err := n.fs.store.List(n.view)
	if err != nil {
		return nil, err
	}
	var out []meta.Paper
	for _, e := range es {
		p, err := n.fs.store.Get(e.ID)
		if err != nil {
			return nil, fmt.Errorf("paper %s: %w", e.ID, err)
		}
		out = append(out, p)
	}
	if n.view.Kind != meta.Tags {
		return out, nil
	}
	missing, err := n.fs.store.List(meta.View{Kind: meta.Missing})
	if err != nil {
		return nil, err
	}
	for _, e := range missing {
		p, err := n.fs.store.Get(e.ID)
		if err != nil {
			return nil, fmt.Errorf("paper %s: %w", e.ID, err)
		}
		if n.tagged(&p) {
			out = append(out, p)
		}
	}
	return out, nil
}

// keysUnique reports whether every paper has a citation key of its own,
// cached for the store version stamp names.
func (f *FS) keysUnique(src bibStore, stamp string) bool {
	u, ok := src.(interface{ CiteKeysUnique() (bool, error) })
	if !ok || stamp == "" {
		return false
	}
	f.mu.Lock()
	if f.uniqueAt == stamp {
		f.mu.Unlock()
		return true
	}
	f.mu.Unlock()
	unique, err := u.CiteKeysUnique()
	if err != nil || !unique {
		return false
	}
	f.mu.Lock()
	f.uniqueAt = stamp
	f.mu.Unlock()
	return true
}

func vectorStamp(v map[string]uint64) string {
	keys := make([]string, 0, len(v))
	for k := range v {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	for _, k := range keys {
		b.WriteString(k + "=" + strconv.FormatUint(v[k], 10) + ";")
	}
	return b.String()
}

func (n *bibFile) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	if h, ok := fh.(*bibHandle); ok {
		n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(h.data)), h.mtime, n.StableAttr().Ino)
		return 0
	}
	data, mtime, err := n.content()
	if err != nil {
		return n.fs.errno("getattr", err, "file", n.name())
	}
	n.fs.fillAttr(&out.Attr, syscall.S_IFREG|0o444, int64(len(data)), mtime, n.StableAttr().Ino)
	// Any edit anywhere changes the file: never let the kernel keep a size.
	out.SetTimeout(0)
	return 0
}

// Setattr refuses changes: the file is generated. Citation keys are edited
// in the papers' sidecars.
func (n *bibFile) Setattr(ctx context.Context, fh fs.FileHandle, in *fuse.SetAttrIn, out *fuse.AttrOut) syscall.Errno {
	return syscall.EROFS
}

func (n *bibFile) Open(ctx context.Context, flags uint32) (fs.FileHandle, uint32, syscall.Errno) {
	if flags&syscall.O_ACCMODE != syscall.O_RDONLY {
		return nil, 0, syscall.EROFS
	}
	data, mtime, err := n.content()
	if err != nil {
		return nil, 0, n.fs.errno("open", err, "file", n.name())
	}
	// Direct I/O: reads come here whatever size the kernel last saw, so a
	// file that grew since the last stat is read whole.
	return &bibHandle{data: data, mtime: mtime}, fuse.FOPEN_DIRECT_IO, 0
}

// bibHandle is an open BibTeX file: its text as it was when opened.
type bibHandle struct {
	data  []byte
	mtime time.Time
}

var _ = (fs.FileReader)((*bibHandle)(nil))

func (h *bibHandle) Read(ctx context.Context, buf []byte, off int64) (fuse.ReadResult, syscall.Errno) {
	if off >= int64(len(h.data)) {
		return fuse.ReadResultData(nil), 0
	}
	end := min(off+int64(len(buf)), int64(len(h.data)))
	return fuse.ReadResultData(h.data[off:end]), 0
}
