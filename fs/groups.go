package fs

import (
	"context"
	"errors"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/paperfs/paperfs/meta"
)

// startTime stamps directories whose contents have no time of their own.
var startTime = time.Now()

// groupsDir lists the groups of one kind: tags/, authors/, years/, folders/.
type groupsDir struct {
	fs.Inode
	fs   *FS
	kind meta.Kind
}

var (
	_ = (fs.NodeLookuper)((*groupsDir)(nil))
	_ = (fs.NodeReaddirer)((*groupsDir)(nil))
	_ = (fs.NodeGetattrer)((*groupsDir)(nil))
)

func (d *groupsDir) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	d.fs.fillAttr(&out.Attr, syscall.S_IFDIR|0o755, 0, startTime, d.StableAttr().Ino)
	return 0
}

func (d *groupsDir) Readdir(ctx context.Context) (fs.DirStream, syscall.Errno) {
	d.fs.Stats.Readdirs.Add(1)
	gs, err := d.fs.store.Groups(d.kind)
	if err != nil {
		return nil, d.fs.errno("readdir", err, "dir", string(d.kind))
	}
	es := make([]fuse.DirEntry, len(gs))
	for i, g := range gs {
		es[i] = fuse.DirEntry{Name: g.Name, Mode: syscall.S_IFDIR, Ino: ino("dir", viewKey(d.kind, g.Name))}
	}
	return fs.NewListDirStream(es), 0
}

func (d *groupsDir) Lookup(ctx context.Context, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.fs.Stats.Lookups.Add(1)
	ok, err := d.fs.store.HasGroup(d.kind, name)
	if err != nil {
		return nil, d.fs.errno("lookup", err, "dir", string(d.kind), "name", name)
	}
	if !ok {
		return nil, syscall.ENOENT
	}
	n := ino("dir", viewKey(d.kind, name))
	d.fs.fillAttr(&out.Attr, syscall.S_IFDIR|0o755, 0, startTime, n)
	child := newViewDir(d.fs, meta.View{Kind: d.kind, Group: name})
	return d.NewInode(ctx, child, fs.StableAttr{Mode: syscall.S_IFDIR, Ino: n}), 0
}

func viewKey(k meta.Kind, group string) string {
	return meta.View{Kind: k, Group: group}.String()
}

var (
	_ = (fs.NodeMkdirer)((*groupsDir)(nil))
	_ = (fs.NodeRmdirer)((*groupsDir)(nil))
	_ = (fs.NodeRenamer)((*groupsDir)(nil))
	_ = (fs.NodeCreater)((*groupsDir)(nil))
)

// Mkdir creates an empty tag or folder; authors and years come from papers.
func (d *groupsDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	if err := d.fs.store.CreateGroup(d.kind, name); err != nil {
		if errors.Is(err, meta.ErrReadOnly) {
			d.fs.log.Info("refused: "+string(d.kind)+" come from the papers' metadata", "dir", string(d.kind), "name", name)
			return nil, syscall.EPERM
		}
		return nil, d.fs.errno("mkdir", err, "dir", string(d.kind), "name", name)
	}
	return d.Lookup(ctx, name, out)
}

// Rmdir removes an empty tag or folder.
func (d *groupsDir) Rmdir(ctx context.Context, name string) syscall.Errno {
	err := d.fs.store.RemoveGroup(d.kind, name)
	if errors.Is(err, meta.ErrReadOnly) {
		return syscall.EPERM
	}
	return d.fs.errno("rmdir", err, "dir", string(d.kind), "name", name)
}

// Rename renames a tag or folder on every paper that has it.
func (d *groupsDir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	// mv asks for RENAME_NOREPLACE, which is what happens anyway.
	if newParent != fs.InodeEmbedder(d) || flags&^unix.RENAME_NOREPLACE != 0 {
		return syscall.EPERM
	}
	if ok, _ := d.fs.store.HasGroup(d.kind, newName); ok {
		return syscall.EEXIST // merging two tags by rename would surprise; move papers instead
	}
	n, err := d.fs.store.RenameGroup(d.kind, name, newName)
	if errors.Is(err, meta.ErrReadOnly) {
		return syscall.EPERM
	}
	if err == nil {
		d.fs.log.Info("renamed", "from", string(d.kind)+"/"+name, "to", string(d.kind)+"/"+newName, "papers", n)
		d.fs.renameScratchView(viewKey(d.kind, name), viewKey(d.kind, newName))
		// The kernel keeps the directory's inode under its new name: it
		// shows the renamed tag from now on, not the old one.
		if ch := d.GetChild(name); ch != nil {
			if vd, ok := ch.Operations().(*viewDir); ok {
				v := meta.View{Kind: d.kind, Group: newName}
				vd.viewp.Store(&v)
			}
		}
	}
	return d.fs.errno("rename", err, "dir", string(d.kind), "name", name)
}

// Create refuses files directly in tags/, authors/...: they hold groups.
func (d *groupsDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	return nil, nil, 0, syscall.EPERM
}
