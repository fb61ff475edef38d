package webdav

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"os"
	"path"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/webdav"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
)

// One webdav.File per kind of the view's nodes; each only translates.

var (
	_ webdav.File = (*dirFile)(nil)
	_ webdav.File = (*readFile)(nil)
	_ webdav.File = (*sidecarFile)(nil)
	_ webdav.File = (*osFile)(nil)
	_ webdav.File = (*incomingFile)(nil)
	_ webdav.File = (*replaceFile)(nil)
	_ webdav.File = (*discardFile)(nil)

	_ webdav.ContentTyper = (*fileInfo)(nil)
)

// fileInfo is a node's attributes under its name in the view.
type fileInfo struct {
	name string
	a    pfs.Attr
}

func dirInfo(name string) *fileInfo { return &fileInfo{name: name, a: pfs.DirAttr()} }

func (i *fileInfo) Name() string       { return i.name }
func (i *fileInfo) Size() int64        { return i.a.Size }
func (i *fileInfo) Mode() fs.FileMode  { return i.a.Mode }
func (i *fileInfo) ModTime() time.Time { return i.a.Mtime }
func (i *fileInfo) IsDir() bool        { return i.a.Mode.IsDir() }
func (i *fileInfo) Sys() any           { return nil }

// ContentType answers by the name, so a listing opens no file to sniff.
func (i *fileInfo) ContentType(ctx context.Context) (string, error) {
	switch ext := strings.ToLower(path.Ext(i.name)); ext {
	case pfs.ExtPDF:
		return "application/pdf", nil
	case pfs.ExtJSON:
		return "application/json", nil
	case ".bib":
		return "text/x-bibtex; charset=utf-8", nil
	default:
		if t := mime.TypeByExtension(ext); t != "" {
			return t, nil
		}
	}
	return "application/octet-stream", nil
}

// listing is the last directory a request listed. A PROPFIND of depth 1
// stats and opens every name of the listing right after it, in order;
// those are answered from it, not the store (200k names in all/).
type listing struct {
	prefix string // the directory's path with a slash at the end
	infos  []os.FileInfo
	next   int
}

// listed finds name in the request's last listing, or returns nil.
func (rq *request) listed(name string) *fileInfo {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	l := rq.list
	if l == nil || !strings.HasPrefix(name, l.prefix) {
		return nil
	}
	base := name[len(l.prefix):]
	for _, i := range []int{l.next, l.next - 1} {
		if i >= 0 && i < len(l.infos) && l.infos[i].Name() == base {
			l.next = max(l.next, i+1)
			return l.infos[i].(*fileInfo)
		}
	}
	return nil
}

// dirFile is an open directory.
type dirFile struct {
	propsOf
	fsys  *fileSystem
	rq    *request
	at    place
	path  string
	infos []os.FileInfo
	pos   int
}

func (f *dirFile) Readdir(count int) ([]os.FileInfo, error) {
	if f.infos == nil {
		infos, err := f.list()
		if err != nil {
			return nil, f.rq.note(f.path, err)
		}
		f.infos = infos
		prefix := f.path
		if !strings.HasSuffix(prefix, "/") {
			prefix += "/"
		}
		f.rq.mu.Lock()
		f.rq.list = &listing{prefix: prefix, infos: infos}
		f.rq.mu.Unlock()
	}
	rest := f.infos[f.pos:]
	if count <= 0 {
		f.pos = len(f.infos)
		return rest, nil
	}
	if len(rest) == 0 {
		return nil, io.EOF
	}
	rest = rest[:min(count, len(rest))]
	f.pos += len(rest)
	return rest, nil
}

func (f *dirFile) list() ([]os.FileInfo, error) {
	v := f.fsys.view
	switch {
	case f.at.control:
		var out []os.FileInfo
		for _, g := range v.Control() {
			a, _ := g.Attr()
			out = append(out, &fileInfo{name: g.Name, a: a})
		}
		return out, nil
	case f.at.shared:
		return f.fsys.sharedInfos(), nil
	case f.at.view.Kind == "":
		out := make([]os.FileInfo, 0, len(pfs.RootDirs)+3)
		for _, k := range pfs.RootDirs {
			out = append(out, dirInfo(string(k)))
		}
		a, err := v.Bib(meta.View{Kind: meta.All}).Attr()
		if err != nil {
			return nil, err
		}
		out = append(out, &fileInfo{name: pfs.BibLibraryName, a: a}, dirInfo(pfs.ControlDir))
		if len(f.fsys.shared) > 0 {
			out = append(out, dirInfo(pfs.SharedDir))
		}
		return out, nil
	case pfs.HoldsGroups(f.at.view.Kind) && f.at.view.Group == "":
		gs, err := v.Groups(f.at.view.Kind)
		if err != nil {
			return nil, err
		}
		infos := make([]fileInfo, len(gs))
		out := make([]os.FileInfo, len(gs))
		for i, g := range gs {
			infos[i] = fileInfo{name: g.Name, a: pfs.DirAttr()}
			out[i] = &infos[i]
		}
		return out, nil
	}
	es, err := v.Dir(f.at.view).List()
	if err != nil {
		return nil, err
	}
	infos := make([]fileInfo, 0, 2*len(es))
	for _, e := range es {
		for _, ext := range []string{pfs.ExtPDF, pfs.ExtJSON} {
			if pfs.Shows(e, ext) {
				infos = append(infos, fileInfo{name: e.Name + ext, a: pfs.EntryAttr(e, ext)})
			}
		}
	}
	out := make([]os.FileInfo, len(infos), len(infos)+1)
	for i := range infos {
		out[i] = &infos[i]
	}
	if pfs.HasBib(f.at.view) {
		a, err := v.Bib(f.at.view).Attr()
		if err != nil {
			return nil, err
		}
		out = append(out, &fileInfo{name: pfs.BibTagName, a: a})
	}
	for _, sc := range v.Dir(f.at.view).Scratch() {
		if _, link := sc.Node.(*pfs.Link); link {
			continue // an editor's lock symlink: WebDAV has no links
		}
		if a, err := sc.Node.Attr(); err == nil {
			out = append(out, &fileInfo{name: sc.Name, a: a})
		}
	}
	return out, nil
}

func (f *dirFile) Stat() (os.FileInfo, error)     { return dirInfo(f.at.dirName()), nil }
func (f *dirFile) Close() error                   { return nil }
func (f *dirFile) Read([]byte) (int, error)       { return 0, f.isDir() }
func (f *dirFile) Write([]byte) (int, error)      { return 0, f.isDir() }
func (f *dirFile) Seek(int64, int) (int64, error) { return 0, nil }
func (f *dirFile) isDir() error {
	return fmt.Errorf("%s is a directory: %w", f.at, pfs.ErrNotPermitted)
}
func (f *readFile) Readdir(int) ([]os.FileInfo, error)    { return nil, notDir(f.at) }
func (f *sidecarFile) Readdir(int) ([]os.FileInfo, error) { return nil, notDir(f.at) }
func (f *osFile) Readdir(int) ([]os.FileInfo, error)      { return nil, notDir(f.at) }
func (f *discardFile) Readdir(int) ([]os.FileInfo, error) { return nil, notDir(f.at) }

func notDir(p place) error { return fmt.Errorf("%s is not a directory: %w", p, fs.ErrInvalid) }

// readFile is a file opened for reading. It opens the node only when
// read: a PROPFIND opens every name it lists just to stat it.
type readFile struct {
	propsOf
	fsys *fileSystem
	at   place
	info *fileInfo
	node pfs.Node // nil until needed when the info came from a listing

	r io.ReadSeeker // the content, once opened
	f *os.File      // a PDF's or a copy's file, which r is
}

func (f *readFile) open() error {
	if f.r != nil {
		return nil
	}
	if f.node == nil {
		n, _, err := f.fsys.lookup(f.at)
		if err != nil {
			return err
		}
		f.node = n
	}
	var data []byte
	switch n := f.node.(type) {
	case pfs.PDF:
		of, err := n.Open(os.O_RDONLY)
		if err != nil {
			return err
		}
		f.f, f.r = of, of
		return nil
	case *pfs.Incoming:
		of, err := n.Open(os.O_RDONLY)
		if err != nil {
			return err
		}
		f.f, f.r = of, of
		return nil
	case *pfs.Sidecar:
		h, err := n.Open(os.O_RDONLY)
		if err != nil {
			return err
		}
		buf := make([]byte, 64<<10)
		for off := int64(0); ; {
			b, err := h.Read(buf, off)
			if err != nil {
				h.Release()
				return err
			}
			if len(b) == 0 {
				break
			}
			data = append(data, b...)
			off += int64(len(b))
		}
		h.Release()
	case *pfs.Bib:
		var err error
		if data, _, err = n.Content(); err != nil {
			return err
		}
	case *pfs.Generated:
		data = n.Content()
	case *pfs.Link:
		data = []byte(n.Target)
	default:
		return fmt.Errorf("%s: %w", f.at, pfs.ErrStale)
	}
	f.r = bytes.NewReader(data)
	return nil
}

func (f *readFile) Read(p []byte) (int, error) {
	if err := f.open(); err != nil {
		return 0, err
	}
	return f.r.Read(p)
}

func (f *readFile) Seek(off int64, whence int) (int64, error) {
	if err := f.open(); err != nil {
		return 0, err
	}
	return f.r.Seek(off, whence)
}

// SyscallConn lets net/http send a PDF with sendfile(2).
func (f *readFile) SyscallConn() (syscall.RawConn, error) {
	if err := f.open(); err != nil {
		return nil, err
	}
	if f.f == nil {
		return nil, errors.ErrUnsupported
	}
	return f.f.SyscallConn()
}

func (f *readFile) Stat() (os.FileInfo, error) { return f.info, nil }
func (f *readFile) Write([]byte) (int, error) {
	return 0, fmt.Errorf("%s: opened for reading: %w", f.at, fs.ErrPermission)
}

func (f *readFile) Close() error {
	if f.f != nil {
		return f.f.Close()
	}
	return nil
}

// openWrite opens a file of the view for writing (PUT, a COPY's target,
// a LOCK that makes the name).
func (fsys *fileSystem) openWrite(rq *request, p place, n pfs.Node, a pfs.Attr, flag int, props propsOf) (webdav.File, error) {
	info := &fileInfo{name: p.name, a: a}
	switch n := n.(type) {
	case *pfs.Sidecar:
		h, err := n.Open(flag)
		if err != nil {
			return nil, err
		}
		return &sidecarFile{propsOf: props, rq: rq, at: p, sc: n, h: h}, nil
	case pfs.PDF:
		if rq.method == "COPY" {
			// COPY onto a paper's PDF: the same paper's is the file
			// itself (truncating it would lose it, as cp onto the same
			// file would); another paper's is not replaced by a copy.
			_, src, err := fsys.stat(rq.src)
			if err == nil {
				if sp, ok := src.(pfs.PDF); ok && sp.ID == n.ID {
					return &discardFile{propsOf: props, at: p, info: info}, nil
				}
			}
			return nil, fmt.Errorf("%s: a paper's PDF is replaced by PUT, not by a COPY onto it: %w", p, pfs.ErrNotPermitted)
		}
		if rq.method == "PUT" {
			r, err := n.Replace()
			if err != nil {
				return nil, err
			}
			return &replaceFile{osFile: osFile{propsOf: props, File: r.File, rq: rq, at: p}, r: r}, nil
		}
		f, err := n.Open(flag)
		if err != nil {
			return nil, err
		}
		return &osFile{propsOf: props, File: f, rq: rq, at: p}, nil
	case *pfs.Incoming:
		f, err := n.Open(flag)
		if err != nil {
			return nil, err
		}
		return &incomingFile{osFile: osFile{propsOf: props, File: f, rq: rq, at: p}, in: n, flag: flag}, nil
	}
	if _, ok := n.(*pfs.Bib); ok && rq.method == "COPY" {
		// A tag's directory copied onto another: that tag.bib is
		// generated from its own papers.
		return &discardFile{propsOf: props, at: p, info: info}, nil
	}
	return nil, fmt.Errorf("%s is generated from the papers' metadata; edit their .json files: %w", p, pfs.ErrNotPermitted)
}

// sidecarFile is a sidecar or scratch file open for writing. Closing it
// is the save, with the view's validation and merge.
type sidecarFile struct {
	propsOf
	rq  *request
	at  place
	sc  *pfs.Sidecar
	h   *pfs.SidecarHandle
	pos int64
	bad bool // a write failed: the body did not arrive whole, and is no save
}

func (f *sidecarFile) Write(p []byte) (int, error) {
	n, err := f.h.Write(p, f.pos)
	f.pos += int64(n)
	f.bad = f.bad || err != nil
	return n, f.rq.note(f.at.String(), err)
}

func (f *sidecarFile) Read(p []byte) (int, error) {
	b, err := f.h.Read(p, f.pos)
	if err != nil {
		return 0, err
	}
	if len(b) == 0 && len(p) > 0 {
		return 0, io.EOF
	}
	f.pos += int64(len(b))
	return len(b), nil
}

func (f *sidecarFile) Seek(off int64, whence int) (int64, error) {
	switch whence {
	case io.SeekCurrent:
		off += f.pos
	case io.SeekEnd:
		a, err := f.sc.AttrOf(f.h)
		if err != nil {
			return 0, err
		}
		off += a.Size
	}
	if off < 0 {
		return 0, fmt.Errorf("%s: seek before the start: %w", f.at, fs.ErrInvalid)
	}
	f.pos = off
	return off, nil
}

func (f *sidecarFile) Stat() (os.FileInfo, error) {
	a, err := f.sc.AttrOf(f.h)
	return &fileInfo{name: f.at.name, a: a}, err
}

func (f *sidecarFile) Close() error {
	defer f.h.Release()
	if f.bad || f.rq.wasCutOff() {
		return nil
	}
	err := f.h.Commit()
	return f.rq.note(f.at.String(), err)
}

// osFile is a PDF open for writing (a PDF annotator saving in place).
type osFile struct {
	propsOf
	*os.File
	rq *request
	at place
}

func (f *osFile) Write(p []byte) (int, error) {
	n, err := f.File.Write(p)
	return n, f.rq.note(f.at.String(), err)
}

func (f *osFile) Stat() (os.FileInfo, error) {
	st, err := f.File.Stat()
	if err != nil {
		return nil, err
	}
	return &fileInfo{name: f.at.name, a: pfs.Attr{Mode: 0o644, Size: st.Size(), Mtime: st.ModTime(), Links: 1}}, nil
}

// incomingFile is a PDF being copied in; closing it hands it to the import.
type incomingFile struct {
	osFile
	in   *pfs.Incoming
	flag int // as opened
}

func (f *incomingFile) Close() error {
	defer f.in.Release(f.flag)
	if err := f.File.Close(); err != nil {
		return f.rq.note(f.at.String(), err)
	}
	if f.rq.wasCutOff() {
		// Not handed to the import: what arrived stays as the name's
		// content until a PUT brings it whole (or the view keeps it
		// when it closes).
		return nil
	}
	return f.rq.note(f.at.String(), f.in.Finish())
}

// replaceFile is a PUT over a paper's PDF: the new content takes the
// PDF's place when the body has arrived whole.
type replaceFile struct {
	osFile
	r *pfs.Replacement
}

func (f *replaceFile) Close() error {
	if f.rq.wasCutOff() {
		f.r.Abort()
		return nil
	}
	return f.rq.note(f.at.String(), f.r.Commit())
}

// discardFile takes a COPY of a file onto itself.
type discardFile struct {
	propsOf
	at   place
	info *fileInfo
}

func (f *discardFile) Write(p []byte) (int, error)    { return len(p), nil }
func (f *discardFile) Read([]byte) (int, error)       { return 0, io.EOF }
func (f *discardFile) Seek(int64, int) (int64, error) { return 0, nil }
func (f *discardFile) Stat() (os.FileInfo, error)     { return f.info, nil }
func (f *discardFile) Close() error                   { return nil }
