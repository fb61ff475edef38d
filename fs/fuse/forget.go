//go:build linux || darwin

package fuse

import (
	"cmp"
	"context"
	"slices"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"

	pfs "github.com/paperfs/paperfs/fs"
)

// The kernel keeps a dentry, and so an inode here, for every name it has
// looked up until memory runs short: once a file manager or an indexer has
// listed every view of a large library, the mount would hold an inode per
// name for the rest of its life: several per paper, with go-fuse's
// bookkeeping for each. Directories nobody has used for a while are asked to forget
// their papers' names (FUSE_NOTIFY_INVAL_ENTRY); the kernel then drops the
// unused dentries and sends FORGET for their inodes, and go-fuse frees them.
// A name is looked up again on next use. Open files keep their inode and
// keep working; scratch files (editors' temporaries) are left alone, and so
// is a directory holding any.
//
// The same is done at once, least recently used directories first, when
// the inodes of papers' files and group directories pass Options.MaxInodes,
// so memory stays bounded while everything is being listed, not only two
// minutes later.
// After such a pass, and after a large listing, the memory freed is handed
// back to the system once the kernel's FORGETs have arrived.

// DefaultIdleForget is how long a view directory may go unused before the
// kernel is asked to forget its entries.
const DefaultIdleForget = 2 * time.Minute

// DefaultMaxInodes is how many inodes of papers' files and group
// directories the mount keeps: the PDFs and sidecars of all/ in a
// 100k-paper library, so listing all/ of a library that size needs no
// pass over the bound. cmd/paperfs's inodeBytes is what each costs.
const DefaultMaxInodes = 200000

// underMax is the share of MaxInodes a pass over the bound brings the count
// down to, so that the next few lookups do not start another one.
const underMax = 0.75

// inUseWindow is how recently a directory must have been used to count as
// in use (a listing going on) by a pass over the bound.
const inUseWindow = time.Second

// now is the filesystem's clock (Options.Now, time.Now unless a test set
// it; New fills it in).
func (f *FS) now() time.Time { return f.opts.Now() }

// touch records a use of the directory.
func (d *viewDir) touch() { d.used.Store(d.fs.now().UnixNano()) }

func (d *viewDir) idleSince(t time.Time) bool { return d.used.Load() < t.UnixNano() }

// forget runs until ctx ends, asking the kernel to forget the entries of
// directories idle for f.opts.IdleForget (if positive), and of the least
// recently used ones when the inodes held pass f.opts.MaxInodes (if
// positive).
func (f *FS) forget(ctx context.Context) {
	idle := f.opts.IdleForget
	var tick <-chan time.Time
	if idle > 0 {
		t := time.NewTicker(max(idle/4, 10*time.Millisecond))
		defer t.Stop()
		tick = t.C
	}
	// settle waits for the kernel's FORGETs after a large pass, then
	// returns what they freed: an idle mount allocates too little to
	// collect it soon.
	settle := func(n int) {
		if n < releaseAfter {
			return
		}
		select {
		case <-ctx.Done():
		case <-time.After(settleDelay):
			if f.opts.Released != nil {
				f.opts.Released()
			}
		}
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick:
			if n := f.forgetBefore(f.now().Add(-idle)); n > 0 {
				f.log.Debug("asked the kernel to forget idle entries", "names", n)
				settle(n)
			}
		case <-f.listed:
			settle(releaseAfter)
		case <-f.pressure:
			f.relieve(ctx, settle)
			select {
			case <-f.listed:
				settle(releaseAfter)
			default:
			}
		}
	}
}

// relieve runs passes over the bound, a settleDelay apart (the count falls
// as the kernel's FORGETs arrive, after a pass), until the inodes held are
// within it or nothing more can go. A pass that met directories in use
// (the walk that is making the inodes) is followed by another even if no
// new inode comes, so the walk's last directories do not stay over the
// bound until they go idle.
func (f *FS) relieve(ctx context.Context, settle func(n int)) {
	for {
		n, busy := f.forgetOver()
		if n > 0 {
			f.log.Debug("asked the kernel to forget the least recently used entries", "names", n,
				"inodes", f.heldInodes(), "max", f.opts.MaxInodes)
		}
		if n < releaseAfter {
			select {
			case <-ctx.Done():
				return
			case <-time.After(settleDelay):
			}
		}
		settle(n)
		// A new inode may have signalled meanwhile; this loop sees it.
		select {
		case <-f.pressure:
		default:
		}
		if f.heldInodes() <= f.opts.MaxInodes || (n == 0 && !busy) || ctx.Err() != nil {
			return
		}
	}
}

// settleDelay is how long after a pass its FORGETs are taken to have
// arrived.
const settleDelay = time.Second

// forgetOver invalidates the paper entries of the least recently used view
// directories, skipping any used within inUseWindow (a listing going on),
// until about enough names to bring the inodes held under
// underMax*MaxInodes. It returns how many it invalidated, and whether it
// stopped short at a directory in use.
func (f *FS) forgetOver() (n int, busy bool) {
	excess := f.heldInodes() - int(underMax*float64(f.opts.MaxInodes))
	if excess <= 0 {
		return 0, false
	}
	type dirRef struct {
		d      *viewDir
		parent *gofs.Inode
		name   string
	}
	var dirs []dirRef
	f.eachViewDir(func(d *viewDir, parent *gofs.Inode, name string) { dirs = append(dirs, dirRef{d, parent, name}) })
	slices.SortFunc(dirs, func(a, b dirRef) int { return cmp.Compare(a.d.used.Load(), b.d.used.Load()) })
	inUse := f.now().Add(-inUseWindow)
	for _, r := range dirs {
		if n >= excess {
			return n, false
		}
		if !r.d.idleSince(inUse) {
			return n, true
		}
		// The group directory goes too, with go-fuse's table of its
		// children, which never shrinks (a library's author directories
		// hold as much as their papers' inodes).
		n += f.forgetDir(r.d, inUse) + f.forgetGroupDir(r.d, r.parent, r.name)
	}
	return n, false
}

// forgetGroupDir invalidates a group directory's own entry, unless it holds
// scratch files, which live only in its inode, and reports how many names
// that was (0 or 1).
func (f *FS) forgetGroupDir(d *viewDir, parent *gofs.Inode, name string) int {
	if !pfs.HoldsGroups(d.view().Kind) || f.view.ScratchCount(d.view()) != 0 {
		return 0
	}
	f.Stats.Forgets.Add(1)
	parent.NotifyEntry(name)
	return 1
}

// eachViewDir calls fn with every view directory the kernel holds, its
// parent and its name there.
func (f *FS) eachViewDir(fn func(d *viewDir, parent *gofs.Inode, name string)) {
	for _, k := range pfs.RootDirs {
		top := f.root.GetChild(string(k))
		if top == nil {
			continue
		}
		if d, ok := top.Operations().(*viewDir); ok {
			fn(d, &f.root.Inode, string(k))
			continue
		}
		for name, child := range top.Children() {
			if d, ok := child.Operations().(*viewDir); ok {
				fn(d, top, name)
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
	f.eachViewDir(func(d *viewDir, parent *gofs.Inode, name string) {
		n += f.forgetDir(d, t)
		if d.idleSince(t) && len(d.Children()) == 0 {
			n += f.forgetGroupDir(d, parent, name)
		}
	})
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
func forgettable(n *gofs.Inode) bool {
	switch op := n.Operations().(type) {
	case *pdfNode, *bibNode:
		return true
	case *sidecarNode:
		return op.sc.ID() != ""
	}
	return false
}
