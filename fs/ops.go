package fs

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
	"golang.org/x/sys/unix"

	"github.com/paperfs/paperfs/meta"
)

// This file holds what view directories do when written to: editors'
// scratch files, saves by rename, and a file manager's copy, link, move
// and delete, which mean tagging, untagging, importing and trashing.

var scratchSeq atomic.Uint64

// newScratch makes an in-memory file in d.
func (d *viewDir) newScratch(ctx context.Context, name string, mode uint32) *fs.Inode {
	n := &sidecarNode{fs: d.fs, view: d.viewp.Load(), dir: d, name: name,
		sc: &scratchContent{mode: mode & 0o7777, mtime: time.Now()}}
	child := d.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFREG, Ino: ino("scratch", time.Now().String()+string(rune(scratchSeq.Add(1))))})
	d.setScratch(name, child)
	d.fs.trackScratch(n)
	return child
}

// membership is the set a view stands for: tags/x is the tag x, folders/f
// the folder f. Other views are not sets one can join.
func membership(v meta.View) (field string, ok bool) {
	switch v.Kind {
	case meta.Tags:
		return "tags", true
	case meta.Folders:
		return "folders", true
	}
	return "", false
}

// join adds or removes a paper from the set view v stands for.
func (f *FS) join(id string, v meta.View, in bool) error {
	field, ok := membership(v)
	if !ok {
		return nil
	}
	_, err := f.store.Update(id, func(p *meta.Paper) error {
		set := &p.Tags
		if field == "folders" {
			set = &p.Folders
		}
		*set = slices.DeleteFunc(*set, func(t string) bool { return meta.GroupName(t) == v.Group })
		if in {
			*set = append(*set, v.Group)
		}
		return nil
	})
	if err == nil && !in {
		// A directory does not vanish because the last file left it:
		// the emptied tag or folder stays until rmdir.
		if has, cerr := f.store.HasGroup(v.Kind, v.Group); cerr == nil && !has {
			if cerr := f.store.CreateGroup(v.Kind, v.Group); cerr != nil && !errors.Is(cerr, meta.ErrExists) {
				f.log.Warn("could not keep the emptied "+string(v.Kind)+" directory", "dir", v.String(), "err", cerr)
			}
		}
	}
	return err
}

func isPDFName(name string) bool {
	return strings.EqualFold(filepath.Ext(name), extPDF) && !strings.HasPrefix(name, ".")
}

// Create makes a new file: a PDF copied in is imported when it is closed;
// anything else is a scratch file (an editor's temporary or swap file).
func (d *viewDir) Create(ctx context.Context, name string, flags uint32, mode uint32, out *fuse.EntryOut) (*fs.Inode, fs.FileHandle, uint32, syscall.Errno) {
	if isPDFName(name) && d.view().Kind != meta.Trash && d.view().Kind != meta.Missing {
		return d.createIncoming(ctx, name, out)
	}
	child := d.newScratch(ctx, name, mode)
	n := child.Operations().(*sidecarNode)
	var a fuse.AttrOut
	n.Getattr(ctx, nil, &a)
	out.Attr = a.Attr
	return child, &sidecarHandle{node: n, writable: true}, fuse.FOPEN_DIRECT_IO, 0
}

func (d *viewDir) Mkdir(ctx context.Context, name string, mode uint32, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	d.fs.log.Info("refused: folders cannot be created inside a view; create tags with mkdir tags/NAME", "dir", d.view().String(), "name", name)
	return nil, syscall.EPERM
}

func (d *viewDir) Symlink(ctx context.Context, target, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	n := &linkNode{target: target, mtime: time.Now()}
	child := d.NewInode(ctx, n, fs.StableAttr{Mode: syscall.S_IFLNK, Ino: ino("link", time.Now().String()+name)})
	d.setScratch(name, child)
	d.fs.fillAttr(&out.Attr, syscall.S_IFLNK|0o777, int64(len(target)), n.mtime, child.StableAttr().Ino)
	return child, 0
}

// Unlink deletes a scratch file. For a paper, deleting its PDF removes it
// from the view: from a tag or folder it leaves that set, from all/ it goes
// to the trash (its PDF moves to the library's trash folder). A sidecar is
// never deleted: an editor that renames it away keeps the paper.
func (d *viewDir) Unlink(ctx context.Context, name string) syscall.Errno {
	if n := d.scratchChild(name); n != nil {
		d.setScratch(name, nil)
		return 0
	}
	base, ext, ok := splitExt(name)
	if !ok {
		return syscall.ENOENT
	}
	e, err := d.fs.store.Lookup(d.view(), base)
	if err != nil {
		return d.fs.errno("unlink", err, "dir", d.view().String(), "name", name)
	}
	if ext == extJSON {
		d.fs.log.Info("refused: a sidecar cannot be deleted; delete the .pdf to remove the paper from this folder",
			"file", d.view().String()+"/"+name)
		return syscall.EPERM
	}
	switch d.view().Kind {
	case meta.Tags, meta.Folders:
		err = d.fs.join(e.ID, d.view(), false)
	case meta.All, meta.Untagged:
		if d.fs.opts.Folder == nil {
			return syscall.EROFS
		}
		_, err = d.fs.opts.Folder.Trash(e.ID)
		if err == nil {
			d.fs.log.Info("moved to trash (paperfs trash list / restore)", "file", d.view().String()+"/"+name)
		}
	default:
		d.fs.log.Info("refused: papers leave "+string(d.view().Kind)+"/ only by editing their metadata", "file", d.view().String()+"/"+name)
		return syscall.EPERM
	}
	return d.fs.errno("unlink", err, "file", d.view().String()+"/"+name)
}

// Link (ln) puts a paper into a tag or folder.
func (d *viewDir) Link(ctx context.Context, target fs.InodeEmbedder, name string, out *fuse.EntryOut) (*fs.Inode, syscall.Errno) {
	id := ""
	switch t := target.(type) {
	case *pdfNode:
		id = t.id
	case *sidecarNode:
		id = t.attachedID()
	}
	if _, ok := membership(d.view()); !ok || id == "" {
		return nil, syscall.EPERM
	}
	if err := d.fs.join(id, d.view(), true); err != nil {
		return nil, d.fs.errno("link", err, "dir", d.view().String(), "name", name)
	}
	var a fuse.AttrOut
	target.(fs.NodeGetattrer).Getattr(ctx, nil, &a)
	out.Attr = a.Attr
	return target.EmbeddedInode(), 0
}

// Rename covers editors' saves and a file manager's moves:
//   - a scratch file renamed onto a paper's sidecar commits its content
//     (sed -i, os.replace, atomic-write libraries);
//   - a sidecar renamed to another name becomes a scratch copy (vim and
//     emacs backups); the paper keeps its sidecar;
//   - a paper's file moved to another view changes membership: from
//     tags/a to tags/b retags, into tags/b tags, out to all/ untags.
func (d *viewDir) Rename(ctx context.Context, name string, newParent fs.InodeEmbedder, newName string, flags uint32) syscall.Errno {
	to, ok := newParent.(*viewDir)
	if !ok || flags&fs.RENAME_EXCHANGE != 0 {
		d.fs.log.Info("refused: papers move into a tag or folder directory, such as tags/NAME/", "file", d.view().String()+"/"+name)
		return syscall.EPERM
	}
	file := d.view().String() + "/" + name
	if child := d.scratchChild(name); child != nil {
		return d.renameScratch(ctx, child, name, to, newName, flags)
	}
	base, ext, ok := splitExt(name)
	if !ok {
		return syscall.ENOENT
	}
	e, err := d.fs.store.Lookup(d.view(), base)
	if err != nil {
		return d.fs.errno("rename", err, "file", file)
	}
	if to == d {
		if ext != extJSON {
			d.fs.log.Info("refused: a paper's name comes from its metadata; edit the .json to rename it", "file", file)
			return syscall.EPERM
		}
		if b2, ext2, ok := splitExt(newName); ok {
			if e2, err := d.fs.store.Lookup(d.view(), b2); err == nil {
				if e2.ID == e.ID && ext2 == extJSON {
					return 0
				}
				return syscall.EPERM
			}
		}
		child := d.GetChild(name)
		if child == nil {
			return syscall.ENOENT
		}
		sc, ok := child.Operations().(*sidecarNode)
		if !ok {
			return syscall.EIO
		}
		if err := sc.detach(newName); err != nil {
			return d.fs.errno("rename", err, "file", file)
		}
		d.setScratch(newName, child)
		// Other entries may still point at the detached inode.
		d.fs.later(func() { d.NotifyEntry(name) })
		return 0
	}
	// A move between views.
	_, fromSet := membership(d.view())
	_, toSet := membership(to.view())
	if !fromSet && !toSet {
		return syscall.EPERM
	}
	if toSet {
		err = d.fs.join(e.ID, to.view(), true)
	}
	if err == nil && fromSet {
		err = d.fs.join(e.ID, d.view(), false)
	}
	return d.fs.errno("rename", err, "file", file, "to", to.view().String()+"/"+newName)
}

func (d *viewDir) renameScratch(ctx context.Context, child *fs.Inode, name string, to *viewDir, newName string, flags uint32) syscall.Errno {
	sc, _ := child.Operations().(*sidecarNode)
	if sc != nil && isPDFName(newName) && !isPDFName(name) && to.fs.opts.Folder != nil && to.view().Kind != meta.Trash && to.view().Kind != meta.Missing {
		// A download finishing: browsers write x.pdf.part (or
		// .crdownload) and rename it to x.pdf. That is a PDF arriving.
		return d.importRenamed(sc, name, to, newName)
	}
	if b2, ext2, ok := splitExt(newName); ok && sc != nil && to.scratchChild(newName) == nil {
		if e2, err := to.fs.store.Lookup(to.view(), b2); err == nil {
			if ext2 != extJSON {
				return syscall.EPERM // a scratch file cannot replace a PDF
			}
			if flags&unix.RENAME_NOREPLACE != 0 {
				return syscall.EEXIST
			}
			data := sc.scratchData()
			if errno := d.fs.commitSidecar(e2.ID, to.view().String()+"/"+newName, data); errno != 0 {
				return errno
			}
			d.setScratch(name, nil)
			sc.attach(e2.ID)
			sc.mu.Lock()
			sc.view, sc.dir, sc.name = to.viewp.Load(), to, newName
			sc.mu.Unlock()
			return 0
		}
	}
	if to.scratchChild(newName) != nil && flags&unix.RENAME_NOREPLACE != 0 {
		return syscall.EEXIST
	}
	d.setScratch(name, nil)
	to.setScratch(newName, child)
	if sc != nil {
		sc.mu.Lock()
		sc.dir, sc.name = to, newName
		sc.mu.Unlock()
	}
	return 0
}

// linkNode is a scratch symlink, such as emacs' .#name lock.
type linkNode struct {
	fs.Inode
	target string
	mtime  time.Time
}

var (
	_ = (fs.NodeReadlinker)((*linkNode)(nil))
	_ = (fs.NodeGetattrer)((*linkNode)(nil))
)

func (n *linkNode) Readlink(ctx context.Context) ([]byte, syscall.Errno) { return []byte(n.target), 0 }

func (n *linkNode) Getattr(ctx context.Context, fh fs.FileHandle, out *fuse.AttrOut) syscall.Errno {
	out.Attr.Mode = syscall.S_IFLNK | 0o777
	out.Attr.Size = uint64(len(n.target))
	out.Attr.Ino = n.StableAttr().Ino
	out.Attr.SetTimes(&n.mtime, &n.mtime, &n.mtime)
	return 0
}

// importRenamed imports a scratch file renamed to a PDF name.
func (d *viewDir) importRenamed(sc *sidecarNode, name string, to *viewDir, newName string) syscall.Errno {
	if base, _, ok := splitExt(newName); ok {
		if _, err := to.fs.store.Lookup(to.view(), base); err == nil {
			return syscall.EEXIST // a paper's PDF is never replaced
		}
	}
	data := sc.scratchData()
	w, err := d.fs.incomingFile(newName)
	if err != nil {
		return d.fs.errno("rename", err, "file", d.view().String()+"/"+name)
	}
	_, err = w.Write(data)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.RemoveAll(filepath.Dir(w.Name()))
		return d.fs.errno("rename", err, "file", d.view().String()+"/"+name)
	}
	d.setScratch(name, nil)
	to.setScratch(newName, sc.EmbeddedInode())
	return to.importCopy(newName, w.Name())
}
