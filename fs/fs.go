// Package fs presents a paper library as a FUSE filesystem: a thin adapter
// that turns FUSE requests into meta.Store calls. Views, names and indexes
// are meta's; this package knows inodes, file handles and errno.
package fs

import (
	"context"
	"fmt"
	"hash/fnv"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"

	"github.com/paperfs/paperfs/meta"
)

// Store is what the filesystem needs of the metadata store.
type Store interface {
	Get(id string) (meta.Paper, error)
	Update(id string, fn func(p *meta.Paper) error) (meta.Paper, error)
	CreateGroup(k meta.Kind, name string) error
	RemoveGroup(k meta.Kind, name string) error
	RenameGroup(k meta.Kind, from, to string) (int, error)
	List(v meta.View) ([]meta.Entry, error)
	Lookup(v meta.View, name string) (meta.Entry, error)
	Groups(k meta.Kind) ([]meta.Group, error)
	HasGroup(k meta.Kind, name string) (bool, error)
	Subscribe() *meta.Subscription
}

// Options configure a filesystem.
type Options struct {
	// Library is the absolute path of the library folder holding the PDFs.
	Library string
	// NoPassthrough serves PDF bytes through the FUSE read path instead of
	// kernel passthrough (which needs Linux 6.9+ and CAP_SYS_ADMIN).
	NoPassthrough bool
	Logger        *slog.Logger
	// EntryTimeout and AttrTimeout bound how long the kernel caches names
	// and attributes; changes are also pushed with notifications, so these
	// only matter if a notification is lost. Zero means DefaultTimeout.
	EntryTimeout time.Duration
	AttrTimeout  time.Duration
	// RejectDir keeps what the user wrote in the mount that could not
	// become metadata, so nothing is lost: the text of refused sidecar
	// saves, and at unmount the files written in view directories that
	// are neither papers nor editors' temporaries. Empty means not kept.
	RejectDir string
	// IdleForget is how long a view directory may go unused before the
	// kernel is asked to forget its papers' names, so the inodes of views
	// listed once do not stay for the life of the mount (see forget.go).
	// Zero means DefaultIdleForget; negative, never.
	IdleForget time.Duration
	// MaxInodes bounds the inodes of papers' files and group directories
	// (tags/x, authors/y, ...) the mount keeps: past
	// it, the kernel is asked at once to forget the names of the least
	// recently used view directories, so the mount's memory stays bounded
	// however much is listed (see forget.go). Zero means DefaultMaxInodes;
	// negative, no bound.
	MaxInodes int
	// Folder performs what the mount asks of the library folder:
	// importing a PDF copied in, trashing a deleted paper.
	Folder Folder
}

// Folder is what the filesystem needs of the library folder.
type Folder interface {
	ImportFile(ctx context.Context, src string, move bool, tags []string) (meta.Paper, error)
	Trash(id string) (meta.Paper, error)
}

// DefaultTimeout is the kernel cache lifetime for names and attributes.
const DefaultTimeout = 5 * time.Second

// Stats counts what the filesystem served, for tests and status.
type Stats struct {
	Reads     atomic.Int64 // FUSE READ requests on PDFs (zero under passthrough)
	OpensPDF  atomic.Int64
	Notifies  atomic.Int64
	Lookups   atomic.Int64
	Readdirs  atomic.Int64
	Forgets   atomic.Int64 // names the kernel was asked to forget (idle directories, over MaxInodes)
	Passthru  atomic.Bool  // passthrough was offered for at least one open
	LastError atomic.Value
}

// FS is one mounted library.
type FS struct {
	store Store
	opts  Options
	log   *slog.Logger
	uid   uint32
	gid   uint32
	root  *rootNode
	Stats Stats

	mu       sync.Mutex                // protects the following
	live     map[string]*fs.Inode      // PDF inodes the kernel holds, by paper id
	inodes   int                       // PDF, attached sidecar and group directory inodes the kernel holds
	uniqueAt string                    // store version at which every citation key was unique (see keysUnique)
	sidecars map[string][]*fs.Inode    // attached sidecar inodes the kernel holds, by paper id (a few views each)
	gens     map[string]int            // sidecar generation by paper id, bumped when one is renamed away
	rejects  []Rejection               // newest last, at most maxRejections
	served   map[string][]meta.Paper   // versions sidecars were opened at, newest last, by paper id
	scratch  map[*sidecarNode]struct{} // scratch files made in view directories, pruned as they go

	scratchMu    sync.Mutex                      // protects scratchFiles; may be taken while holding mu, not the reverse
	scratchFiles map[string]map[string]*fs.Inode // scratch files and links by view, then name

	deferred chan func()   // work for the notifier goroutine: handlers must not notify
	pressure chan struct{} // inodes went over opts.MaxInodes (see forget.go)
	listed   chan struct{} // a large listing ended
}

// Rejection is a sidecar save that was refused.
type Rejection struct {
	Time    time.Time `json:"time"`
	File    string    `json:"file"`
	Paper   string    `json:"paper"`
	Problem string    `json:"problem"`
	Kept    string    `json:"kept,omitempty"` // where the rejected text was saved
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

// New creates a filesystem over store.
func New(store Store, opts Options) *FS {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if opts.EntryTimeout == 0 {
		opts.EntryTimeout = DefaultTimeout
	}
	if opts.AttrTimeout == 0 {
		opts.AttrTimeout = DefaultTimeout
	}
	if opts.IdleForget == 0 {
		opts.IdleForget = DefaultIdleForget
	}
	if opts.MaxInodes == 0 {
		opts.MaxInodes = DefaultMaxInodes
	}
	f := &FS{store: store, opts: opts, log: opts.Logger, uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		live: map[string]*fs.Inode{}, sidecars: map[string][]*fs.Inode{}, gens: map[string]int{},
		deferred: make(chan func(), 1024), pressure: make(chan struct{}, 1),
		listed: make(chan struct{}, 1)}
	f.root = &rootNode{fs: f}
	return f
}

// Root is the filesystem's root node, for fs.Mount or in-process tests.
func (f *FS) Root() fs.InodeEmbedder { return f.root }

// ino gives every node a stable inode number derived from what it shows, so
// the same paper has the same inode number in every view and every mount.
func ino(kind, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum64() | 1<<63 // never 0 or the root's 1
}

func (f *FS) fillAttr(a *fuse.Attr, mode uint32, size int64, mtime time.Time, ino uint64) {
	a.Mode = mode
	a.Size = uint64(size)
	a.Blocks = (uint64(size) + 511) / 512
	a.Ino = ino
	a.Nlink = 1
	if mode&syscall.S_IFDIR != 0 {
		a.Nlink = 2
	}
	a.Owner = fuse.Owner{Uid: f.uid, Gid: f.gid}
	if !mtime.IsZero() {
		a.SetTimes(&mtime, &mtime, &mtime)
	}
}

func (f *FS) trackPDF(id string, n *fs.Inode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live[id] == nil {
		f.held(1)
	}
	f.live[id] = n
}

func (f *FS) untrackPDF(id string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.live[id] != nil {
		f.held(-1)
	}
	delete(f.live, id)
}

func (f *FS) trackSidecar(id string, n *fs.Inode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.sidecars[id], n) {
		f.sidecars[id] = append(f.sidecars[id], n)
		f.held(1)
	}
}

func (f *FS) untrackSidecar(id string, n *fs.Inode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ns := slices.DeleteFunc(f.sidecars[id], func(m *fs.Inode) bool { return m == n })
	if len(ns) < len(f.sidecars[id]) {
		f.held(-1)
	}
	if len(ns) == 0 {
		delete(f.sidecars, id)
	} else {
		f.sidecars[id] = ns
	}
}

// heldDir counts group directories' inodes coming and going.
func (f *FS) heldDir(delta int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.held(delta)
}

// held counts inodes of papers' files and group directories coming and
// going; f.mu is held.
func (f *FS) held(delta int) {
	f.inodes += delta
	if delta > 0 && f.opts.MaxInodes > 0 && f.inodes > f.opts.MaxInodes {
		select {
		case f.pressure <- struct{}{}:
		default:
		}
	}
}

// Inodes reports how many inodes of papers' files and group directories
// the kernel holds and the bound on them (negative: none).
func (f *FS) Inodes() (held, bound int) { return f.heldInodes(), f.opts.MaxInodes }

// heldInodes is the number of inodes of papers' files and group
// directories the kernel holds.
func (f *FS) heldInodes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inodes
}

// paperInodes are the inodes the kernel holds for a paper's files.
func (f *FS) paperInodes(id string) []*fs.Inode {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*fs.Inode
	if n := f.live[id]; n != nil {
		out = append(out, n)
	}
	out = append(out, f.sidecars[id]...)
	return out
}

func (f *FS) sidecarGen(id string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gens[id]
}

func (f *FS) bumpSidecarGen(id string) {
	f.mu.Lock()
	f.gens[id]++
	f.mu.Unlock()
}

// later queues work for the notifier goroutine. FUSE handlers use it for
// kernel notifications, which must not be sent from a handler.
func (f *FS) later(fn func()) {
	select {
	case f.deferred <- fn:
	default:
		f.log.Warn("notification queue full; the kernel may show a stale name until its cache expires")
	}
}

// reject records a refused save: logged with the file and the problem,
// listed in .paperfs/errors, and the text kept in the rejected folder.
func (f *FS) reject(id, file string, data []byte, err error) {
	r := Rejection{Time: time.Now(), File: file, Paper: id, Problem: err.Error()}
	if f.opts.RejectDir != "" {
		if mkErr := os.MkdirAll(f.opts.RejectDir, 0o700); mkErr == nil {
			pattern := fmt.Sprintf("%s-%s-*.json", id, r.Time.UTC().Format("20060102T150405"))
			if w, err := os.CreateTemp(f.opts.RejectDir, pattern); err == nil {
				if _, err := w.Write(data); err == nil && w.Close() == nil {
					r.Kept = w.Name()
				}
			}
		}
	}
	f.log.Error("sidecar save rejected; the metadata is unchanged, fix the file and save again",
		slog.String("file", file), slog.String("problem", r.Problem), slog.String("kept", r.Kept))
	f.mu.Lock()
	f.rejects = append(f.rejects, r)
	if len(f.rejects) > maxRejections {
		f.rejects = f.rejects[len(f.rejects)-maxRejections:]
	}
	f.mu.Unlock()
}

// Rejections returns the recent refused saves, newest last.
func (f *FS) Rejections() []Rejection {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Rejection(nil), f.rejects...)
}
