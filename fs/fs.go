// Package fs holds the rules of the mounted library view, with no FUSE or
// HTTP in it: the tree of views and names, what creating, deleting,
// linking and renaming mean in each view (rm untags or trashes, mv
// retags, a PDF copied in is imported), the sidecar save with its merge,
// editors' scratch files, the BibTeX files and the .paperfs/ control files.
// Frontends translate their protocol into calls here: fs/fuse for a
// go-fuse mount, fs/webdav for a WebDAV server. Both show the same library
// the same way because neither decides anything.
//
// The API speaks views and names (a View is all/, tags/x/, ...), nodes
// (a paper's PDF or sidecar, a scratch file) and handles; errors are the
// domain errors of this package and meta, which each frontend maps to its
// own codes in one place.
package fs

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/libdir"
)

// Store is what the view needs of the metadata store.
type Store interface {
	Get(id string) (meta.Paper, error)
	Update(id string, fn func(p *meta.Paper) error) (meta.Paper, error)
	CreateGroup(k meta.Kind, name string) error
	RemoveGroup(k meta.Kind, name string) error
	RenameGroup(k meta.Kind, from, to string) (int, error)
	List(v meta.View) ([]meta.Entry, error)
	Lookup(v meta.View, name string) (meta.Entry, error)
	EntryOf(id, name string) (meta.Entry, error)
	Groups(k meta.Kind) ([]meta.Group, error)
	HasGroup(k meta.Kind, name string) (bool, error)
	// Join puts a paper into the tag or folder a view stands for, or
	// takes it out; GroupValue is the tag, folder or author a group
	// directory's name stands for (names are escaped; see meta.GroupName).
	Join(id string, v meta.View, in bool) error
	GroupValue(v meta.View) (string, error)
	Subscribe() *meta.Subscription
	// The BibTeX files read every paper.
	BibSource
}

// Folder is what the view needs of the library folder: reading a PDF,
// importing one copied in, trashing and restoring a paper. Every path it
// takes is relative to the library folder, and nothing it opens leaves
// the folder, whatever symlink is swapped in (meta/libdir).
type Folder interface {
	// OpenPDF opens the PDF at rel; flags are os.OpenFile's.
	OpenPDF(rel string, flags int) (*os.File, error)
	// StatPDF is the PDF at rel's attributes, not following a symlink.
	StatPDF(rel string) (os.FileInfo, error)
	// CreatePDFTemp makes a file to write a PDF's new content into, and
	// ReplacePDF puts it in the PDF's place (RemoveTemp drops it).
	CreatePDFTemp() (f *os.File, rel string, err error)
	ReplacePDF(tmp, rel string) error
	RemoveTemp(tmp string) error
	// Identify checks that the file at src can be imported and returns
	// the id of the paper that already has its content, if one does.
	// It is quick: it reads and hashes the file, and extracts nothing.
	Identify(src string) (existing string, err error)
	// ImportFile imports the file at src (moving it into the library
	// folder), tagged with tags. It may take seconds (extraction). A file
	// whose paper is there already fails with a meta.DuplicateOf.
	ImportFile(ctx context.Context, src string, move bool, tags []string) (meta.Paper, error)
	Trash(id string) (meta.Paper, error)
	Restore(id string) (meta.Paper, error)
	// Space is the figures of the filesystem holding the folder.
	Space() (libdir.Space, error)
}

// Options configure a view.
type Options struct {
	// Library is the absolute path of the library folder holding the PDFs.
	Library string
	Logger  *slog.Logger
	// RejectDir keeps what the user wrote that could not become metadata,
	// so nothing is lost: the text of refused sidecar saves, files copied
	// in that could not be imported, and, when the view is closed, files
	// written in view directories that are neither papers nor editors'
	// temporaries. Empty means not kept.
	RejectDir string
	// ScratchDir is where the content of scratch files goes (editors'
	// temporaries, files of one's own written into views): on disk, not
	// in memory. Empty means the system's temporary directory, which may
	// be memory (tmpfs): frontends set one in the data dir.
	ScratchDir string
	// MaxScratch bounds a scratch file; 0 is DefaultMaxScratch.
	MaxScratch int64
	// RejectLimit bounds RejectDir (see trimRejected).
	RejectLimit RejectLimit
	// Folder performs what the view asks of the library folder. Nil makes
	// the view read-only for imports and trash.
	Folder Folder
	// AliasGrace is how long the name a PDF was pasted under stays after
	// its last use once the paper is imported (see alias.go). Zero means
	// DefaultAliasGrace.
	AliasGrace time.Duration
	// OnRefusal, if set, hears of every refusal as it is logged (a desktop
	// notifier, say). It is called with no lock held and must not block.
	OnRefusal func(Rejection)
	// ReadOnly, if set, says whether this device may write the library:
	// an error (the reason, e.g. that its database user may only read)
	// makes every write in the view answer ErrReadOnlyLibrary (see
	// readonly.go). It is asked at each write and must be quick.
	ReadOnly func() error
	// Origin, if set, finds the paper whose PDF has this SHA-256 in
	// another library served beside this one: a PDF copied from it is
	// imported with that paper's metadata (see carry.go).
	Origin func(sha256 string) (meta.Paper, bool)
}

// FS is one library's view.
type FS struct {
	store Store
	opts  Options
	log   *slog.Logger

	mu        sync.Mutex              // protects the following
	uniqueAt  string                  // store version at which every citation key was unique (see keysUnique)
	gens      map[string]int          // sidecar generation by paper id, bumped when one is renamed away
	rejects   []Rejection             // newest last, at most maxRejections
	served    map[string][]meta.Paper // versions sidecars were opened at, newest last, by paper id
	saves     map[saveKey]meta.Paper  // what the last save of a file made from a version made
	scratch   map[*Sidecar]struct{}   // scratch files made in view directories, pruned as they go
	fmNames   map[string]string       // trashed papers' names in a file manager's trash, by id (see trash.go)
	fmEmptied map[string]bool         // trashed papers emptied from the file manager's trash

	rejectMu sync.Mutex // serializes trims of the rejected folder

	scratchDirMu sync.Mutex // protects scratchDir
	scratchDir   string     // this view's private directory in Options.ScratchDir, made on first use

	dups dupCache // duplicates/ (see duplicates.go)

	scratchMu    sync.Mutex                 // protects scratchFiles; may be taken while holding mu, not the reverse
	scratchFiles map[string]map[string]Node // scratch files and links by view, then name

	now     func() time.Time // the clock aliases expire by; tests set it
	events  chan event       // for the event loop (see events.go)
	started atomic.Bool      // Start ran
	bg      context.Context  // cancelled by Close; imports run under it
	stop    context.CancelFunc
	closed  sync.Once
	wg      sync.WaitGroup // the event loop and running imports
}

// New creates the view of store. The caller must Close it.
func New(store Store, opts Options) *FS {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.AliasGrace == 0 {
		opts.AliasGrace = DefaultAliasGrace
	}
	bg, stop := context.WithCancel(context.Background())
	return &FS{store: store, opts: opts, log: opts.Logger, gens: map[string]int{},
		now: time.Now, events: make(chan event, 1024), bg: bg, stop: stop}
}

// Library is the library folder's absolute path.
func (f *FS) Library() string { return f.opts.Library }

// Logger is where the view logs.
func (f *FS) Logger() *slog.Logger { return f.log }

// Close stops imports in flight (their files are kept for the next
// scan), ends the event loop, keeps the user's own files written in
// views, and removes what unfinished copies left in the library folder.
func (f *FS) Close() {
	f.closed.Do(func() {
		f.stop()
		f.wg.Wait()
		f.keepScratch()
		f.removeScratchDir()
		if f.opts.Folder != nil {
			f.cleanIncoming()
		}
	})
}

// Rejection is something the user wrote that was refused.
type Rejection struct {
	Time    time.Time `json:"time"`
	File    string    `json:"file"`
	Paper   string    `json:"paper,omitempty"`
	Problem string    `json:"problem"`
	Kept    string    `json:"kept,omitempty"` // where the rejected text or file was saved
}

const maxRejections = 50

// Served versions: a few per paper, for a bounded number of papers (an
// editor saves soon after it reads).
const (
	maxServedPerPaper = 4
	maxServedPapers   = 4096
)

// serve records that a sidecar showed version p, so a save made from
// that text can merge onto whatever the paper has become since.
func (f *FS) serve(p meta.Paper) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.served == nil || len(f.served) >= maxServedPapers {
		f.served = map[string][]meta.Paper{}
	}
	vs := f.served[p.ID]
	if n := len(vs); n > 0 && vs[n-1].Modified.Equal(p.Modified) {
		return
	}
	if len(vs) == maxServedPerPaper {
		vs = vs[1:]
	}
	f.served[p.ID] = append(vs, p)
}

// servedAt finds the version of paper id whose sidecar said modified.
func (f *FS) servedAt(id string, modified time.Time) (meta.Paper, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	vs := f.served[id]
	for i := len(vs) - 1; i >= 0; i-- {
		if vs[i].Modified.Equal(modified) {
			return vs[i], true
		}
	}
	return meta.Paper{}, false
}

// saveKey names the texts of one file made from one version of a paper:
// an editor's buffer.
type saveKey struct {
	id, file string
	from     time.Time
}

// recordSave remembers that a save of file, made from the version of
// paper id stamped from, made version p.
func (f *FS) recordSave(id string, from time.Time, file string, p meta.Paper) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.saves == nil || len(f.saves) >= maxServedPapers {
		f.saves = map[saveKey]meta.Paper{}
	}
	f.saves[saveKey{id, file, from}] = p
}

// savedFrom finds what the last save of file made from the version of
// paper id stamped from made.
func (f *FS) savedFrom(id string, from time.Time, file string) (meta.Paper, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	p, ok := f.saves[saveKey{id, file, from}]
	return p, ok
}

// SidecarGen is the generation of paper id's sidecar: it changes when an
// editor renames the sidecar away (which turns that file into a scratch
// copy), so a frontend that numbers files gives the paper's sidecar a new
// number from then on.
func (f *FS) SidecarGen(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gens[id]
}

func (f *FS) bumpSidecarGen(id string) {
	f.mu.Lock()
	f.gens[id]++
	f.mu.Unlock()
}

// reject records a save that failed: logged with the file and the
// problem, listed in .paperfs/errors, and the text kept in the rejected
// folder. Invalid text is the user's to fix; anything else is a storage
// failure, which is not.
func (f *FS) reject(id, file string, data []byte, err error) {
	r := Rejection{Time: time.Now(), File: file, Paper: id, Problem: cut(err.Error())}
	if f.opts.RejectDir != "" {
		if mkErr := os.MkdirAll(f.opts.RejectDir, 0o700); mkErr == nil {
			pattern := fmt.Sprintf("%s-%s-*.json", id, r.Time.UTC().Format("20060102T150405"))
			if w, err := os.CreateTemp(f.opts.RejectDir, pattern); err == nil {
				_, err := w.Write(data)
				if cerr := w.Close(); err == nil && cerr == nil {
					r.Kept = w.Name()
				} else {
					os.Remove(w.Name())
				}
			}
		}
		f.trimRejected(r.Kept)
	}
	msg := "sidecar save rejected; the metadata is unchanged, fix the file and save again"
	if !errors.Is(err, meta.ErrInvalid) && !errors.Is(err, meta.ErrReadOnly) {
		msg = "sidecar save failed: the metadata could not be stored (not a problem of the file); your text is kept"
	}
	if errors.Is(err, ErrReadOnlyLibrary) {
		msg = "sidecar save refused: the library is read-only for this device; your text is kept"
	}
	f.log.Error(msg, slog.String("file", file), slog.String("problem", r.Problem), slog.String("kept", r.Kept))
	f.addRejection(r)
}

func (f *FS) addRejection(r Rejection) {
	f.mu.Lock()
	f.rejects = append(f.rejects, r)
	if len(f.rejects) > maxRejections {
		f.rejects = f.rejects[len(f.rejects)-maxRejections:]
	}
	f.mu.Unlock()
	if f.opts.OnRefusal != nil {
		f.opts.OnRefusal(r)
	}
}

// Rejections returns the recent refusals, newest last.
func (f *FS) Rejections() []Rejection {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Rejection(nil), f.rejects...)
}

// errorsJSON is .paperfs/errors: the recent refusals, an empty list when
// there are none.
func (f *FS) errorsJSON() []byte {
	rs := f.Rejections()
	if rs == nil {
		rs = []Rejection{}
	}
	b, _ := json.MarshalIndent(rs, "", "  ")
	return append(b, '\n')
}

// refuse logs an operation the view does not allow and returns the error
// for it: what the user tried, where, and what to do instead.
func (f *FS) refuse(file, reason string, err error) error {
	f.log.Info("refused: "+reason, "file", file)
	if f.opts.OnRefusal != nil {
		f.opts.OnRefusal(Rejection{Time: time.Now(), File: file, Problem: reason})
	}
	return &Refusal{File: file, Reason: reason, Err: err}
}

// errNotFound is the error for a name a view does not have.
func errNotFound(file string) error {
	return fmt.Errorf("%s: %w", file, meta.ErrNotFound)
}

// isNotFound reports a missing name or paper.
func isNotFound(err error) bool {
	return errors.Is(err, meta.ErrNotFound) || errors.Is(err, os.ErrNotExist)
}
