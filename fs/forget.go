package fs

import (
	"context"
	"runtime/debug"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
)

// The kernel keeps a dentry, and so an inode here, for every name it has
// looked up until memory runs short: once a file manager or an indexer has
// listed every view of a large library, the mount would hold an inode per
// name for the rest of its life (at 100k papers, ~900k inodes, over half a
// gigabyte). Directories nobody has used for a while are asked to forget
// their papers' names (FUSE_NOTIFY_INVAL_ENTRY); the kernel then drops the
// unused dentries and sends FORGET for their inodes, and go-fuse frees them.
// A name is looked up again on next use. Open files keep their inode and
// keep working; scratch files (editors' temporaries) are left alone, and so
// is a directory holding any.

// DefaultIdleForget is how long a view directory may go unused before the
// kernel is asked to forget its entries.
const DefaultIdleForget = 2 * time.Minute

// touch records a use of the directory.
func (d *viewDir) touch() { d.used.Store(time.Now().UnixNano()) }

func (d *viewDir) idleSince(t time.Time) bool { return d.used.Load() < t.UnixNano() }

// forgetIdle runs until ctx ends, asking the kernel to forget the entries of
// directories idle for f.opts.IdleForget.
func (f *FS) forgetIdle(ctx context.Context) {
	idle := f.opts.IdleForget
	tick := time.NewTicker(max(idle/4, 10*time.Millisecond))
	defer tick.Stop()
	release := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			if release {
				// The FORGETs for the last pass have arrived by now and
				// what they freed is garbage; an idle mount allocates too
				// little to collect it soon, so return it at once.
				debug.FreeOSMemory()
				release = false
			}
			if n := f.forgetBefore(time.Now().Add(-idle)); n > 0 {
				f.log.Debug("asked the kernel to forget idle entries", "names", n)
				release = n >= releaseAfter
			}
		}
	}
}

// releaseAfter is the number of names forgotten in one pass from which the
// memory they held is handed back to the system right away.
const releaseAfter = 10000

// forgetBefore invalidates the paper entries of every view directory not
// used since t, and the entries of group directories left with none, and
// returns how many names it invalidated.
func (f *FS) forgetBefore(t time.Time) int {
	n := 0
	for _, k := range rootDirs {
		top := f.root.GetChild(string(k))
		if top == nil {
			continue
		}
		if d, ok := top.Operations().(*viewDir); ok {
			n += f.forgetDir(d, t)
			continue
		}
		for name, child := range top.Children() {
			d, ok := child.Operations().(*viewDir)
			if !ok {
				continue
			}
			n += f.forgetDir(d, t)
			if d.idleSince(t) && len(d.Children()) == 0 && f.scratchCount(d.view().String()) == 0 {
				f.Stats.Forgets.Add(1)
				top.NotifyEntry(name)
				n++
			}
		}
	}
	return n
}

// forgetDir invalidates the names of papers' files (and tag.bib) in d if
// it is idle.
func (f *FS) forgetDir(d *viewDir, t time.Time) int {
	if !d.idleSince(t) {
		return 0
	}
	n := 0
	for name, child := range d.Children() {
		if !forgettable(child) {
			continue
		}
		f.Stats.Forgets.Add(1)
		d.NotifyEntry(name)
		n++
	}
	return n
}

// forgettable reports whether an inode is one a lookup makes again: a
// paper's PDF or sidecar, or a tag's tag.bib, as opposed to a scratch file.
func forgettable(n *fs.Inode) bool {
	switch op := n.Operations().(type) {
	case *pdfNode, *bibFile:
		return true
	case *sidecarNode:
		return op.attachedID() != ""
	}
	return false
}
