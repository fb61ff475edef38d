//go:build linux || darwin

package fuse

import (
	"context"
	"fmt"
	"hash/fnv"
	"syscall"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"

	pfs "github.com/paperfs/paperfs/fs"
)

// sharedLib is another library served in this mount, under shared/<name>/.
type sharedLib struct {
	name string
	fs   *FS
}

// AddShared serves other, another library's filesystem, under
// shared/<name>/ of this one: its own all/, tags/, ..., library.bib and
// .paperfs/. Each library keeps its own view and rules; this mount only
// holds the directory. Call it before Mount; other is not mounted by
// itself, and Mount starts its notifications and inode bound.
func (f *FS) AddShared(name string, other *FS) error {
	if err := pfs.CheckSharedName(name); err != nil {
		return err
	}
	for _, s := range f.shared {
		if s.name == name {
			return fmt.Errorf("shared library %q: named twice", name)
		}
	}
	if other == f || other.salt != 0 {
		return fmt.Errorf("shared library %q: its filesystem is served already", name)
	}
	other.salt = salt(name)
	f.shared = append(f.shared, sharedLib{name: name, fs: other})
	return nil
}

// Shared is the filesystems of the libraries under shared/, by name.
func (f *FS) Shared() map[string]*FS {
	out := make(map[string]*FS, len(f.shared))
	for _, s := range f.shared {
		out[s.name] = s.fs
	}
	return out
}

// ino is the inode number of a node of this library: ino's, in a shared
// library's own range (the personal library's numbers stay as they are),
// so that all/ or a paper of two libraries are never one inode.
func (f *FS) ino(kind, key string) uint64 { return ino(kind, key) ^ f.salt }

// salt spreads a shared library's inode numbers; it leaves the top bit,
// which every number has, alone.
func salt(name string) uint64 {
	h := fnv.New64a()
	h.Write([]byte("library\x00" + name))
	s := h.Sum64() &^ (1 << 63)
	if s == 0 {
		s = 2
	}
	return s
}

// sharedDir is shared/ at the root: one directory per shared library.
type sharedDir struct {
	gofs.Inode
	fs *FS
}

var (
	_ = (gofs.NodeOnAdder)((*sharedDir)(nil))
	_ = (gofs.NodeGetattrer)((*sharedDir)(nil))
	_ = (gofs.NodeMkdirer)((*sharedDir)(nil))
	_ = (gofs.NodeCreater)((*sharedDir)(nil))
	_ = (gofs.NodeRmdirer)((*sharedDir)(nil))
	_ = (gofs.NodeUnlinker)((*sharedDir)(nil))
	_ = (gofs.NodeRenamer)((*sharedDir)(nil))
)

func (d *sharedDir) OnAdd(ctx context.Context) {
	for _, s := range d.fs.shared {
		root := d.NewPersistentInode(ctx, s.fs.root, gofs.StableAttr{Mode: syscall.S_IFDIR, Ino: s.fs.ino("dir", "")})
		d.AddChild(s.name, root, false)
	}
}

func (d *sharedDir) Getattr(ctx context.Context, fh gofs.FileHandle, out *gofuse.AttrOut) syscall.Errno {
	d.fs.dirAttr(&out.Attr, d.StableAttr().Ino)
	return 0
}

func (d *sharedDir) Mkdir(ctx context.Context, name string, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, syscall.Errno) {
	return nil, d.fs.errno("mkdir", d.fs.view.SharedRefusal(name))
}

func (d *sharedDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *gofuse.EntryOut) (*gofs.Inode, gofs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, d.fs.errno("create", d.fs.view.SharedRefusal(name))
}

func (d *sharedDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	return d.fs.errno("rmdir", d.fs.view.SharedRefusal(name))
}

func (d *sharedDir) Unlink(ctx context.Context, name string) syscall.Errno {
	return d.fs.errno("unlink", d.fs.view.SharedRefusal(name))
}

func (d *sharedDir) Rename(ctx context.Context, name string, newParent gofs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	return d.fs.errno("rename", d.fs.view.SharedRefusal(name))
}

// startShared starts what each shared library's filesystem runs while
// mounted: its view's change notifications and its bound on inodes
// (forget.go), stopped with ctx.
func (f *FS) startShared(ctx context.Context, m *Mount) {
	for _, s := range f.shared {
		if f.opts.NoNotify {
			s.fs.view.Start(nil)
		} else {
			s.fs.view.Start(notifier{s.fs})
		}
		s.fs.exactPDFs.Store(f.exactPDFs.Load())
		if s.fs.opts.IdleForget > 0 || s.fs.opts.MaxInodes > 0 {
			m.wg.Add(1)
			go func() {
				defer m.wg.Done()
				s.fs.forget(ctx)
			}()
		}
	}
}
