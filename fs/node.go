package fs

import (
	"io/fs"
	"strings"
	"sync/atomic"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Node is a file in a view: a paper's PDF (PDF) or sidecar (*Sidecar), an
// editor's scratch file (*Sidecar, detached), a scratch symlink (*Link), a
// PDF being copied in (*Incoming), or a generated file (*Bib, *Generated).
type Node interface {
	Attr() (Attr, error)
}

// Attr is what a frontend shows of a node.
type Attr struct {
	Mode  fs.FileMode // type and permission bits
	Size  int64
	Mtime time.Time
	// Links is the link count: 2 for a PDF, which is one file in every
	// view it is in, like a file with hard links. The kernel drops the
	// count when a view's name is unlinked (rm tags/x/X.pdf, which only
	// untags) and refuses to link a file whose count reached zero.
	Links uint32
	// Owned says Uid and Gid are the file's own owner (a PDF's, in the
	// library folder); otherwise the file is the view's, owned by whoever
	// runs it.
	Owned    bool
	Uid, Gid uint32
}

// Modes of what a view shows. The view, not the file, decides them.
const (
	modeDir       = fs.ModeDir | 0o755
	modeFile      = 0o644
	modeGenerated = 0o444
)

// DirAttr is the attributes of a directory of the view.
func DirAttr() Attr { return Attr{Mode: modeDir, Mtime: startTime, Links: 2} }

// startTime stamps directories whose contents have no time of their own.
var startTime = time.Now()

// Paper file extensions.
const (
	ExtPDF  = ".pdf"
	ExtJSON = ".json"
)

// SplitExt splits a paper file name into base name and extension.
func SplitExt(name string) (base, ext string, ok bool) {
	for _, ext := range []string{ExtPDF, ExtJSON} {
		if base, ok := strings.CutSuffix(name, ext); ok && base != "" {
			return base, ext, true
		}
	}
	return "", "", false
}

// Shows reports whether a paper's listing has its file with extension
// ext. Every paper has a sidecar; only a paper with a PDF on record has a
// PDF (one from a .bib has none, and a .pdf that cannot be read is worse
// than none: its metadata is all there is).
func Shows(e meta.Entry, ext string) bool { return ext != ExtPDF || !e.NoPDF }

// EntryAttr is the attributes of one of a paper's files as its index
// entry has them, without reading the paper: what a listing shows.
func EntryAttr(e meta.Entry, ext string) Attr {
	if ext == ExtPDF {
		return Attr{Mode: modeFile, Size: e.PDFSize, Mtime: e.Modified, Links: PDFLinks}
	}
	return Attr{Mode: modeFile, Size: int64(e.SidecarSize), Mtime: e.Modified, Links: 1}
}

// PDFLinks is a PDF's link count (see Attr.Links).
const PDFLinks = 2

// serials numbers the nodes a view makes on its own (scratch files,
// links, copies coming in), so a frontend can tell them apart.
var serials atomic.Uint64

func nextSerial() uint64 { return serials.Add(1) }
