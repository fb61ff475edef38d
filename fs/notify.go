package fs

import (
	"context"

	"github.com/hanwen/go-fuse/v2/fs"

	"github.com/paperfs/paperfs/meta"
)

// dirName is one name in one view directory.
type dirName struct {
	view meta.View
	name string
}

// namesOf lists every directory entry a paper has: both forms of its name
// (plain and with the collision suffix, since which one it holds depends on
// its neighbours) and both files, in each of its views.
func namesOf(p *meta.Paper) map[dirName]bool {
	out := map[dirName]bool{}
	if p == nil {
		return out
	}
	base := meta.BaseName(p)
	for _, v := range meta.ViewsOf(p) {
		for _, n := range []string{base, meta.WithSuffix(base, p.ID)} {
			out[dirName{v, n + extPDF}] = true
			out[dirName{v, n + extJSON}] = true
		}
	}
	return out
}

// watch turns store changes into kernel notifications until ctx ends. It
// runs in its own goroutine and holds no lock while notifying: go-fuse
// deadlocks if a notification waits on a lock a FUSE handler holds.
func (f *FS) watch(ctx context.Context, sub *meta.Subscription) {
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-sub.C:
			if !ok {
				return
			}
			f.notify(ch)
		case fn := <-f.deferred:
			fn()
		}
	}
}

// notify invalidates what one change made stale: names that appeared or
// disappeared in every affected directory, group directories that appeared
// or disappeared, and the cached content and attributes of the paper's files.
func (f *FS) notify(ch meta.Change) {
	before, after := namesOf(ch.Before), namesOf(ch.After)
	changed := map[dirName]bool{}
	for dn := range before {
		if !after[dn] {
			changed[dn] = true
		}
	}
	for dn := range after {
		if !before[dn] {
			changed[dn] = true
		}
	}
	groups := map[dirName]bool{}
	for dn := range changed {
		if dn.view.Group != "" {
			groups[dirName{meta.View{Kind: dn.view.Kind}, dn.view.Group}] = true
		}
		f.notifyEntry(dn)
	}
	for g := range groups {
		f.notifyEntry(g)
	}
	if ch.After != nil {
		for _, n := range f.paperInodes(ch.ID) {
			f.Stats.Notifies.Add(1)
			n.NotifyContent(0, 0)
		}
	}
}

func (f *FS) notifyEntry(dn dirName) {
	if dir := f.dirInode(dn.view); dir != nil {
		f.Stats.Notifies.Add(1)
		dir.NotifyEntry(dn.name)
	}
}

// dirInode finds a view's directory inode if the kernel knows it.
func (f *FS) dirInode(v meta.View) *fs.Inode {
	n := f.root.EmbeddedInode().GetChild(string(v.Kind))
	if n != nil && v.Group != "" {
		n = n.GetChild(v.Group)
	}
	return n
}
