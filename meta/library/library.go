// Package library manages the library folder: the PDFs a user keeps in a
// (typically cloud-synced) folder. It indexes them into a meta.Store
// (Scan), copies new ones in (Import), keeps deleted ones in a trash folder
// (Trash, Restore), and follows changes made behind its back (Watch).
// It never deletes or overwrites a PDF.
package library

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
	"github.com/paperfs/paperfs/meta/libdir"
)

// TrashDir is the folder inside the library where deleted papers' PDFs go.
const TrashDir = ".paperfs-trash"

// Extractor fills in a paper's metadata from its PDF, f, which the library
// opened (beneath the library folder, through libdir, for a file there):
// an extractor never opens a path itself, so a symlink swapped in after
// the library's checks is never followed. name is the file's path, for a
// title when nothing can be read. problems lists what could not be read;
// a failed extraction still yields a usable paper.
type Extractor func(ctx context.Context, name string, f *os.File) (p meta.Paper, problems []string)

// extractFrom opens the file to import at src (see openSource) and
// extracts from it.
func (l *Library) extractFrom(ctx context.Context, src string) (meta.Paper, []string) {
	f, err := l.openSource(src)
	if err != nil {
		p, problems := FromFileName(ctx, src, nil)
		return p, append(problems, err.Error())
	}
	defer f.Close()
	return l.extract(ctx, src, f)
}

// Library is a library folder and the store indexing it. Every file it
// opens, renames or removes in the folder goes through dir, which never
// follows a symlink or leaves the folder.
type Library struct {
	Root    string // absolute, read-only after Open
	dir     *libdir.Dir
	store   *meta.Store
	extract Extractor
	log     *slog.Logger
	pattern string // file name pattern of imports; set before use

	// createMu serialises creating papers (choosing a file name, then
	// recording), so two imports never take one name. Citation keys are
	// kept unique by the store itself.
	createMu sync.Mutex
	// scanMu serialises scans: two at once (a mount's watch and `paperfs
	// scan` run in the mount's process) would both find a new PDF and
	// index it twice.
	scanMu sync.Mutex

	outside outsideHook // PDFs of papers this device does not hold (outside.go)

	stateMu sync.Mutex  // protects the following
	state   FolderState // whether the folder was there at the last scan

	readOnly func() error // SetReadOnly's check; nil: writable

	// unportable is the last Unportable answer and the store's
	// FilesGeneration it was computed at: a mount's status asks every 5 s,
	// and listing and checking 100k paths each time kept the collector
	// busy and the idle heap at its goal.
	unportableMu sync.Mutex
	unportable   struct {
		valid bool
		gen   uint64
		files []meta.FileRecord
	}
}

// SetReadOnly sets the check that says why this device may not change the
// library, or nil if it may: a shared library whose database user may only
// read it. While it says so, imports are refused with its reason, and
// scans index no new PDF and record no moved or changed one (they report
// them as Held): nothing is queued that could never be sent. The members
// who may write index them, and their records arrive through sync. Call
// it before the library is used.
func (l *Library) SetReadOnly(check func() error) { l.readOnly = check }

// mayWrite is nil if the library may be changed, else why not, naming it.
func (l *Library) mayWrite() error {
	if l.readOnly == nil {
		return nil
	}
	if err := l.readOnly(); err != nil {
		return fmt.Errorf("library %s: %w", l.Root, err)
	}
	return nil
}

// Open checks that root is a usable library folder. extract may be nil: the
// title then comes from the file name.
func Open(root string, store *meta.Store, extract Extractor, log *slog.Logger) (*Library, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("library folder %s: %w", root, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("library folder %s: %w", abs, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("library folder %s: not a directory", abs)
	}
	if extract == nil {
		extract = FromFileName
	}
	if log == nil {
		log = slog.Default()
	}
	l := &Library{Root: abs, dir: libdir.New(abs), store: store, extract: extract, log: log, pattern: DefaultNamePattern,
		state: FolderState{Available: true}}
	// Papers get their citation key when created; those created by older
	// versions (or synced from them) get theirs now, once, so reading
	// library.bib never has to write.
	if n, err := bibtex.AssignKeys(store); err != nil {
		return nil, fmt.Errorf("assigning citation keys: %w", err)
	} else if n > 0 {
		log.Info("gave papers citation keys", "papers", n)
	}
	return l, nil
}

// SetNamePattern sets how imported PDFs are named in the library folder
// (see FileName; "" is DefaultNamePattern). Call it before importing.
func (l *Library) SetNamePattern(pattern string) error {
	if pattern == "" {
		pattern = DefaultNamePattern
	}
	if err := CheckNamePattern(pattern); err != nil {
		return err
	}
	l.pattern = pattern
	return nil
}

func (l *Library) namePattern() string { return l.pattern }

// newKey is the citation key a paper about to be created will get, to
// name its file by; callers hold createMu, so no import takes it first
// (the store keeps keys unique whatever happens: see bibtex.CreateWithKey).
func (l *Library) newKey(p *meta.Paper) string {
	if p.CiteKey != "" {
		return p.CiteKey
	}
	return bibtex.NewKey(l.store, p)
}

// FromFileName is the Extractor of last resort: the title is the file name.
func FromFileName(_ context.Context, path string, _ *os.File) (meta.Paper, []string) {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	// A title is text: bytes of another encoding and control characters
	// (escape sequences) in the name don't make it into one.
	name = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return ' '
		}
		return r
	}, strings.ToValidUTF8(name, "\uFFFD"))
	name = strings.Join(strings.Fields(strings.ReplaceAll(name, "_", " ")), " ")
	return meta.Paper{Title: name}, nil
}

// Dir is the library folder, for code that must open files in it.
func (l *Library) Dir() *libdir.Dir { return l.dir }

// Abs is the absolute path of a library-relative path, for messages and
// for the extractor; paperfs itself opens library files only through Dir.
func (l *Library) Abs(rel string) string { return l.dir.Abs(rel) }

// Rel turns a path inside the library into its relative, slash form.
func (l *Library) Rel(abs string) (string, error) {
	rel, err := filepath.Rel(l.Root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is outside the library folder %s", meta.ShowPath(abs), l.Root)
	}
	return filepath.ToSlash(rel), nil
}

// Exists reports whether a library-relative path is a file (not a
// symlink, not reached through one); it is the meta.Options.FileExists
// hook.
func (l *Library) Exists(rel string) bool {
	fi, err := l.dir.Lstat(rel)
	return err == nil && fi.Mode().IsRegular()
}

// OpenPDF opens a paper's PDF by its library-relative path for the mount,
// with open(2) flags (O_CREAT and O_EXCL are dropped: the mount never
// creates a PDF this way). It refuses, with libdir.ErrSymlink, a file or
// folder on the way that is a symlink or leads outside the library
// folder, and anything that is not a regular file.
func (l *Library) OpenPDF(rel string, flags int) (*os.File, error) {
	f, err := l.dir.OpenFile(rel, flags&^(os.O_CREATE|os.O_EXCL), 0)
	if err != nil {
		return nil, err
	}
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		f.Close()
		if err == nil {
			err = &os.PathError{Op: "open", Path: meta.ShowPath(l.Abs(rel)), Err: errNotRegular}
		}
		return nil, err
	}
	return f, nil
}

// Space is the library folder's filesystem's figures (for statfs).
func (l *Library) Space() (libdir.Space, error) { return l.dir.Space() }

// StatPDF describes a paper's PDF without following symlinks (a symlink
// swapped in is described as one, not as the file it points to).
func (l *Library) StatPDF(rel string) (os.FileInfo, error) { return l.dir.Lstat(rel) }

// CreatePDFTemp makes a hidden file in the library folder to write new
// content for a PDF into; ReplacePDF puts it in the PDF's place. It is
// locked while open, as an import's copy is, so a scan leaves it alone
// and cleans it up only if it was left behind.
func (l *Library) CreatePDFTemp() (*os.File, string, error) {
	f, rel, err := l.dir.CreateTemp(".", importPrefix)
	if err == nil {
		lockTemp(f)
	}
	return f, rel, err
}

// ReplacePDF puts the file at tmp (from CreatePDFTemp) in the place of the
// PDF at rel, never through a symlink.
func (l *Library) ReplacePDF(tmp, rel string) error { return l.dir.Replace(tmp, rel) }

// RemoveTemp removes a file from CreatePDFTemp that was not used.
func (l *Library) RemoveTemp(tmp string) error { return l.dir.Remove(tmp) }

var errNotRegular = errors.New("not a regular file")

// IsPDF reports whether a file name looks like a PDF.
func IsPDF(name string) bool { return strings.EqualFold(filepath.Ext(name), ".pdf") }

// HashFile returns the hex SHA-256 of a file outside the library and its
// size: the content hash papers are matched by.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	return hashOpen(f)
}

// Hash is HashFile for a file in the library folder.
func (l *Library) Hash(rel string) (string, int64, error) { return HashIn(l.dir, rel) }

// HashIn is HashFile for a file in a library folder: it refuses a symlink
// and anything but a regular file.
func HashIn(d *libdir.Dir, rel string) (string, int64, error) {
	f, err := d.Open(rel)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		if err == nil {
			err = &os.PathError{Op: "read", Path: meta.ShowPath(d.Abs(rel)), Err: errNotRegular}
		}
		return "", 0, err
	}
	return hashOpen(f)
}

func hashOpen(f *os.File) (string, int64, error) {
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", meta.ShowPath(f.Name()), err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
