// Package fs presents a paper library as a FUSE filesystem: a thin adapter
// that turns FUSE requests into meta.Store calls. Views, names and indexes
// are meta's; this package knows inodes, file handles and errno.
package fs

import (
	"hash/fnv"
	"log/slog"
	"os"
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
	Passthru  atomic.Bool // passthrough was offered for at least one open
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

	mu   sync.Mutex           // protects live
	live map[string]*fs.Inode // paper file inodes the kernel holds, by "<id>.pdf"/"<id>.json"
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
	f := &FS{store: store, opts: opts, log: opts.Logger, uid: uint32(os.Getuid()), gid: uint32(os.Getgid()),
		live: map[string]*fs.Inode{}}
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

func (f *FS) track(key string, n *fs.Inode) {
	f.mu.Lock()
	f.live[key] = n
	f.mu.Unlock()
}

func (f *FS) forget(key string) {
	f.mu.Lock()
	delete(f.live, key)
	f.mu.Unlock()
}

func (f *FS) liveInode(key string) *fs.Inode {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.live[key]
}
