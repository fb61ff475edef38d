//go:build linux || darwin

package fuse

import (
	gofs "github.com/hanwen/go-fuse/v2/fs"

	"github.com/paperfs/paperfs/meta"
)

// notifier turns the view's change events into kernel notifications. The
// view calls it from its own goroutine, never from a FUSE handler.
type notifier struct{ fs *FS }

// Entry invalidates a name the kernel may have cached.
func (n notifier) Entry(v meta.View, name string) {
	if dir := n.fs.dirInode(v); dir != nil {
		n.fs.Stats.Notifies.Add(1)
		dir.NotifyEntry(name)
	}
}

// Content invalidates the cached content and attributes of a paper's
// files.
func (n notifier) Content(id string) {
	for _, in := range n.fs.paperInodes(id) {
		n.fs.Stats.Notifies.Add(1)
		in.NotifyContent(0, 0)
	}
}

// dirInode finds a view's directory inode if the kernel knows it.
func (f *FS) dirInode(v meta.View) *gofs.Inode {
	n := f.root.EmbeddedInode().GetChild(string(v.Kind))
	if n != nil && v.Group != "" {
		n = n.GetChild(v.Group)
	}
	return n
}
