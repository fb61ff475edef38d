package fs

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// PDF is a paper's PDF. Its bytes are the real file's in the library
// folder; it is the same file in every view the paper is in.
type PDF struct {
	fs *FS
	ID string
}

// ErrNoPDF says a paper has no PDF file on record.
var ErrNoPDF = errors.New("paper has no PDF file")

// realPath is the PDF's path in the library folder, or an error saying why
// there is none on this device.
func (n PDF) realPath() (meta.Paper, string, error) {
	p, err := n.fs.store.Get(n.ID)
	if err != nil {
		return p, "", err
	}
	if p.File.Path == "" {
		return p, "", fmt.Errorf("%s: %w", p.Title, ErrNoPDF)
	}
	return p, filepath.Join(n.fs.opts.Library, filepath.FromSlash(p.File.Path)), nil
}

// Attr is the real file's attributes, or the recorded ones when the file
// is not on this device.
func (n PDF) Attr() (Attr, error) {
	p, path, err := n.realPath()
	if err != nil && !errors.Is(err, ErrNoPDF) {
		return Attr{}, err
	}
	a := Attr{Mode: modeFile, Size: p.File.Size, Mtime: p.Modified, Links: PDFLinks}
	if path != "" {
		if st, err := os.Stat(path); err == nil {
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
// PDF in the library folder: a PDF annotator saving in place).
func (n PDF) Open(flags int) (*os.File, error) {
	p, path, err := n.realPath()
	if err != nil {
		return nil, err
	}
	f, err := os.OpenFile(path, flags&^(os.O_CREATE|os.O_EXCL|os.O_APPEND), 0)
	if errors.Is(err, fs.ErrNotExist) {
		n.fs.log.Warn("PDF not in the library folder on this device (not downloaded yet, or moved outside paperfs?); see paperfs status",
			slog.String("paper", p.Title), slog.String("file", p.File.Path))
	}
	return f, err
}

// Replacement is new content for a paper's PDF, written beside the library
// folder's file and put in its place only when complete: a copy cut off
// half-way (a network upload) leaves the PDF as it was. Open with
// O_TRUNC replaces the file in place, as the mount's writers expect.
type Replacement struct {
	*os.File // the new content, in a private hidden directory of the library folder
	fs       *FS
	dst      string // the PDF's path in the library folder
	file     string // the PDF's name, for messages
}

// Replace starts new content for the PDF.
func (n PDF) Replace() (*Replacement, error) {
	p, path, err := n.realPath()
	if err != nil {
		return nil, err
	}
	w, err := n.fs.incomingFile(filepath.Base(path))
	if err != nil {
		return nil, fmt.Errorf("replacing the PDF of %s: %w", p.Title, err)
	}
	return &Replacement{File: w, fs: n.fs, dst: path, file: p.File.Path}, nil
}

// Commit makes the new content durable and puts it in the PDF's place.
func (r *Replacement) Commit() error {
	err := r.File.Sync()
	if cerr := r.File.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(r.Name(), r.dst)
	}
	if err != nil {
		r.Abort()
		return fmt.Errorf("replacing %s: %w", r.file, err)
	}
	os.Remove(filepath.Dir(r.Name()))
	r.fs.log.Info("replaced the PDF", "file", r.file)
	return nil
}

// Abort drops the new content; the PDF stays as it was.
func (r *Replacement) Abort() {
	r.File.Close()
	os.RemoveAll(filepath.Dir(r.Name()))
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
