package fs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// PDF is a paper's PDF. Its bytes are the real file's in the library
// folder; it is the same file in every view the paper is in.
type PDF struct {
	fs *FS
	ID string
}

// PDF is paper id's PDF in this view: what a frontend keeps per node is the
// id alone (a mount holds a node for each of 100k PDFs).
func (f *FS) PDF(id string) PDF { return PDF{fs: f, ID: id} }

// ErrNoPDF says a paper has no PDF file on record.
var ErrNoPDF = errors.New("paper has no PDF file")

// paper is the PDF's paper, or an error saying why it has no PDF here.
func (n PDF) paper() (meta.Paper, error) {
	p, err := n.fs.store.Get(n.ID)
	if err != nil {
		return p, err
	}
	if p.File.Path == "" {
		return p, fmt.Errorf("%s: %w", p.Title, ErrNoPDF)
	}
	if n.fs.opts.Folder == nil {
		return p, fmt.Errorf("%s: %w", p.Title, ErrReadOnlyView)
	}
	return p, nil
}

// Attr is the real file's attributes, or the recorded ones when the file
// is not on this device.
func (n PDF) Attr() (Attr, error) {
	p, err := n.paper()
	if err != nil && !errors.Is(err, ErrNoPDF) && !errors.Is(err, ErrReadOnlyView) {
		return Attr{}, err
	}
	a := Attr{Mode: modeFile, Size: p.File.Size, Mtime: p.Modified, Links: PDFLinks}
	if err == nil {
		if st, err := n.fs.opts.Folder.StatPDF(p.File.Path); err == nil && st.Mode().IsRegular() {
			a = fileAttr(st)
		}
	}
	return a, nil
}

// fileAttr is the attributes of a PDF in the library folder: its size,
// time, permissions and owner, which a frontend that lets other users in
// must show (and enforce) as they are.
func fileAttr(st os.FileInfo) Attr {
	a := Attr{Mode: st.Mode().Perm(), Size: st.Size(), Mtime: st.ModTime(), Links: PDFLinks}
	a.Uid, a.Gid, a.Owned = owner(st)
	return a
}

// Open opens the real file; flags are os.OpenFile's (writes go to the
// PDF in the library folder: a PDF annotator saving in place). A symlink
// in its path, swapped in after it was indexed, is refused (ELOOP).
func (n PDF) Open(flags int) (*os.File, error) {
	p, err := n.paper()
	if err != nil {
		return nil, err
	}
	if flags&(os.O_WRONLY|os.O_RDWR|os.O_TRUNC) != 0 {
		if err := n.fs.writable(meta.ShowPath(p.File.Path)); err != nil {
			return nil, err
		}
	}
	f, err := n.fs.opts.Folder.OpenPDF(p.File.Path, flags&^(os.O_CREATE|os.O_EXCL|os.O_APPEND))
	if errors.Is(err, fs.ErrNotExist) {
		n.fs.log.Warn("PDF not in the library folder on this device (not downloaded yet, or moved outside paperfs?); see paperfs status",
			slog.String("paper", p.Title), slog.String("file", p.File.Path))
	}
	return f, err
}

// Replacement is new content for a paper's PDF, written beside it in the
// library folder and put in its place only when complete: a copy cut off
// half-way (a network upload) leaves the PDF as it was. Open with
// O_TRUNC replaces the file in place, as the mount's writers expect.
type Replacement struct {
	*os.File // the new content, a hidden file in the library folder
	fs       *FS
	tmp      string // its library-relative path
	rel      string // the PDF's
}

// Replace starts new content for the PDF.
func (n PDF) Replace() (*Replacement, error) {
	p, err := n.paper()
	if err != nil {
		return nil, err
	}
	if err := n.fs.writable(meta.ShowPath(p.File.Path)); err != nil {
		return nil, err
	}
	w, tmp, err := n.fs.opts.Folder.CreatePDFTemp()
	if err != nil {
		return nil, fmt.Errorf("replacing the PDF of %s: %w", p.Title, err)
	}
	return &Replacement{File: w, fs: n.fs, tmp: tmp, rel: p.File.Path}, nil
}

// Commit makes the new content durable and puts it in the PDF's place.
func (r *Replacement) Commit() error {
	err := r.File.Sync()
	if cerr := r.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = r.fs.opts.Folder.ReplacePDF(r.tmp, r.rel)
	}
	if err != nil {
		r.Abort()
		return fmt.Errorf("replacing %s: %w", meta.ShowPath(r.rel), err)
	}
	r.fs.log.Info("replaced the PDF", "file", meta.ShowPath(r.rel))
	return nil
}

// Abort drops the new content; the PDF stays as it was.
func (r *Replacement) Abort() {
	r.File.Close()
	r.fs.opts.Folder.RemoveTemp(r.tmp)
}

// Link is a scratch symlink, such as emacs' .#name lock.
type Link struct {
	Target string
	serial uint64
	mtime  time.Time
}

// Attr is the link's attributes.
func (n *Link) Attr() (Attr, error) {
	return Attr{Mode: fs.ModeSymlink | 0o777, Size: int64(len(n.Target)), Mtime: n.mtime, Links: 1}, nil
}

// Serial tells links apart.
func (n *Link) Serial() uint64 { return n.serial }

// Generated is a read-only file whose content is made when it is read:
// the control files in .paperfs/.
type Generated struct {
	Name string
	gen  func() []byte
}

// Content is the file's content now.
func (n *Generated) Content() []byte { return n.gen() }

// Attr is the file's attributes now.
func (n *Generated) Attr() (Attr, error) {
	return Attr{Mode: modeGenerated, Size: int64(len(n.gen())), Mtime: time.Now(), Links: 1}, nil
}
