//go:build linux || darwin

// Package fuse serves a library view (package fs) as a go-fuse
// filesystem. It only translates: view directories and files become
// inodes, the view's nodes and handles become go-fuse nodes and file
// handles, its errors become errno (errno.go), its change events become
// kernel notifications (notify.go). What belongs to the kernel's side is
// here too: inode numbers, kernel passthrough of PDF reads, READDIRPLUS
// (viewdir.go) and the bound on the inodes the kernel holds (forget.go).
package fuse

import (
	"hash/fnv"
	"io/fs"
	"log/slog"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	pfs "github.com/paperfs/paperfs/fs"
)

// Options configure the filesystem.
type Options struct {
	// NoPassthrough serves PDF bytes through the FUSE read path instead of
	// kernel passthrough (which needs Linux 6.9+ and CAP_SYS_ADMIN).
	NoPassthrough bool
	// NoNotify sends the kernel no notifications, as on macOS (macFUSE
	// has none). The kernel then caches nothing a change can make stale
	// for longer than ShortTimeout (PDFs, directories) and asks each time
	// for sidecars and scratch files, whose names editors' saves change.
	NoNotify bool
	// EntryTimeout and AttrTimeout bound how long the kernel caches names
	// and attributes; changes are also pushed with notifications, so these
	// only matter if a notification is lost. Zero means DefaultTimeout.
	// With NoNotify they are ShortTimeout for PDFs and directories and
	// zero for the rest.
	EntryTimeout time.Duration
	AttrTimeout  time.Duration
	// IdleForget is how long a view directory may go unused before the
	// kernel is asked to forget its papers' names, so the inodes of views
	// listed once do not stay for the life of the mount (see forget.go).
	// Zero means DefaultIdleForget; negative, never.
	IdleForget time.Duration
	// MaxInodes bounds the inodes of papers' files and group directories
	// (tags/x, authors/y, ...) the mount keeps: past it, the kernel is
	// asked at once to forget the names of the least recently used view
	// directories, so the mount's memory stays bounded however much is
	// listed (see forget.go). Zero means DefaultMaxInodes; negative, no
	// bound.
	MaxInodes int
	// Released is called after the kernel forgot many inodes, so the
	// process can hand the memory they held back to the system (a policy
	// of the command, not of the filesystem). Nil: nothing is done.
	Released func()
	// Now is the clock that says when a view directory was last used and
	// which are idle or in use (see forget.go). Nil means time.Now; tests
	// pass one they move on.
	Now func() time.Time
}

// DefaultTimeout is the kernel cache lifetime for names and attributes.
const DefaultTimeout = 5 * time.Second

// ShortTimeout is the kernel cache lifetime of PDFs and directories
// without notifications.
const ShortTimeout = time.Second

// Stats counts what the filesystem served, for tests and status.
type Stats struct {
	Reads    atomic.Int64 // FUSE READ requests on PDFs (zero under passthrough)
	OpensPDF atomic.Int64
	Opens    atomic.Int64 // opens of sidecars, scratch and generated files
	Notifies atomic.Int64
	Lookups  atomic.Int64
	Readdirs atomic.Int64
	Forgets  atomic.Int64 // names the kernel was asked to forget (idle directories, over MaxInodes)
	Passthru atomic.Bool  // passthrough was offered for at least one open
}

// FS is one library view served through FUSE.
type FS struct {
	view  *pfs.FS
	opts  Options
	log   *slog.Logger
	uid   uint32
	gid   uint32
	root  *rootNode
	Stats Stats

	// Set by AddShared before mounting, read-only after.
	salt   uint64      // mixed into inode numbers of a library under shared/ (see ino)
	shared []sharedLib // the libraries under shared/

	mu       sync.Mutex               // protects the following
	live     map[string]*gofs.Inode   // PDF inodes the kernel holds, by paper id
	inodes   int                      // PDF, attached sidecar and group directory inodes the kernel holds
	sidecars map[string][]*gofs.Inode // attached sidecar inodes the kernel holds, by paper id (a few views each)

	exactPDFs atomic.Bool // PDFs show their real mode and owner on lookup (other users are let in)

	pressure chan struct{} // inodes went over opts.MaxInodes (see forget.go)
	listed   chan struct{} // a large listing ended
}

// New serves view.
func New(view *pfs.FS, opts Options) *FS {
	if !notifications {
		opts.NoNotify = true
	}
	if opts.NoNotify {
		opts.NoPassthrough = true
		opts.EntryTimeout, opts.AttrTimeout = ShortTimeout, ShortTimeout
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
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxInodes == 0 {
		opts.MaxInodes = DefaultMaxInodes
	}
	f := &FS{view: view, opts: opts, log: view.Logger(), uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		live: map[string]*gofs.Inode{}, sidecars: map[string][]*gofs.Inode{},
		pressure: make(chan struct{}, 1), listed: make(chan struct{}, 1)}
	f.root = &rootNode{fs: f}
	return f
}

// Passthrough reports whether kernel passthrough was offered for a PDF.
func (f *FS) Passthrough() bool { return f.Stats.Passthru.Load() }

// View is the library view served.
func (f *FS) View() *pfs.FS { return f.view }

// Root is the filesystem's root node, for gofs.Mount or in-process tests.
func (f *FS) Root() gofs.InodeEmbedder { return f.root }

// ino gives every node a stable inode number derived from what it shows, so
// the same paper has the same inode number in every view and every mount.
func ino(kind, key string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(kind))
	h.Write([]byte{0})
	h.Write([]byte(key))
	return h.Sum64() | 1<<63 // never 0 or the root's 1
}

// cacheEntry sets how long the kernel may keep an entry: the default,
// but with NoNotify only PDFs and directories may be kept (for
// ShortTimeout), as nothing can tell the kernel that a save renamed a
// paper or a scratch file went.
func (f *FS) cacheEntry(out *gofuse.EntryOut, keep bool) {
	switch {
	case !f.opts.NoNotify:
	case keep:
		out.SetEntryTimeout(f.opts.EntryTimeout)
		out.SetAttrTimeout(f.opts.AttrTimeout)
	default:
		// go-fuse takes zero for "not set" and puts its default in,
		// so the default is zero with NoNotify (see Mount).
		out.SetEntryTimeout(0)
		out.SetAttrTimeout(0)
	}
}

// fillAttr sets out from a view's attributes.
func (f *FS) fillAttr(out *gofuse.Attr, a pfs.Attr, ino uint64) {
	out.Mode = mode(a.Mode)
	out.Size = uint64(a.Size)
	out.Blocks = (uint64(a.Size) + 511) / 512
	out.Ino = ino
	out.Nlink = a.Links
	if out.Nlink == 0 {
		out.Nlink = 1
	}
	out.Owner = gofuse.Owner{Uid: f.uid, Gid: f.gid}
	if a.Owned {
		out.Owner = gofuse.Owner{Uid: a.Uid, Gid: a.Gid}
	}
	if !a.Mtime.IsZero() {
		out.SetTimes(&a.Mtime, &a.Mtime, &a.Mtime)
	}
}

// mode is the kernel's form of a file mode.
func mode(m fs.FileMode) uint32 {
	out := uint32(m.Perm())
	switch {
	case m.IsDir():
		out |= syscall.S_IFDIR
	case m&fs.ModeSymlink != 0:
		out |= syscall.S_IFLNK
	default:
		out |= syscall.S_IFREG
	}
	return out
}

func (f *FS) dirAttr(out *gofuse.Attr, ino uint64) { f.fillAttr(out, pfs.DirAttr(), ino) }

func (f *FS) trackPDF(id string, n *gofs.Inode) {
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

func (f *FS) trackSidecar(id string, n *gofs.Inode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !slices.Contains(f.sidecars[id], n) {
		f.sidecars[id] = append(f.sidecars[id], n)
		f.held(1)
	}
}

func (f *FS) untrackSidecar(id string, n *gofs.Inode) {
	f.mu.Lock()
	defer f.mu.Unlock()
	ns := slices.DeleteFunc(f.sidecars[id], func(m *gofs.Inode) bool { return m == n })
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

func (f *FS) heldInodes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.inodes
}

// paperInodes are the inodes the kernel holds for a paper's files.
func (f *FS) paperInodes(id string) []*gofs.Inode {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*gofs.Inode
	if n := f.live[id]; n != nil {
		out = append(out, n)
	}
	out = append(out, f.sidecars[id]...)
	return out
}
