package fs

import (
	"context"

	"github.com/paperfs/paperfs/meta"
)

// Notifier is told what changed in the view, so a frontend that caches
// names and content (a kernel) can drop what went stale. Its methods are
// called from the view's own goroutine, never from inside an operation,
// and must not block on one (go-fuse deadlocks if a notification waits on
// a lock a FUSE handler holds).
type Notifier interface {
	// Entry: the name in view v appeared, went, or is another file now.
	// A group directory is the name group in View{Kind: k}.
	Entry(v meta.View, name string)
	// Content: the files of paper id changed content or attributes.
	Content(id string)
}

// event is an invalidation the rules ask for.
type event struct {
	view meta.View
	name string
}

// Start delivers the view's changes to n, until Close: those of the
// store (another device's edit, a scan) and those the rules make (an
// import done, a sidecar renamed away). n may be nil.
func (f *FS) Start(n Notifier) {
	if !f.started.CompareAndSwap(false, true) {
		return
	}
	sub := f.store.Subscribe()
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		defer sub.Close()
		f.deliver(f.bg, sub, n)
	}()
}

func (f *FS) deliver(ctx context.Context, sub *meta.Subscription, n Notifier) {
	for {
		select {
		case <-ctx.Done():
			return
		case ch, ok := <-sub.C:
			if !ok {
				return
			}
			if n != nil {
				notifyChange(n, ch)
				f.duplicatesChanged(n)
			}
		case ev := <-f.events:
			if n != nil {
				n.Entry(ev.view, ev.name)
			}
		}
	}
}

// invalidate queues a change of name in view v for the notifier.
func (f *FS) invalidate(v meta.View, name string) {
	if !f.started.Load() {
		return
	}
	select {
	case f.events <- event{v, name}:
	default:
		f.log.Warn("notification queue full; a frontend may show a stale name until its cache expires", "file", v.String()+"/"+name)
	}
}

// dirName is one name in one view directory.
type dirName struct {
	view meta.View
	name string
}

// namesOf lists every directory entry a paper may have: both files under
// each of its names in each of its views (meta.NamesOf).
func namesOf(p *meta.Paper) map[dirName]bool {
	out := map[dirName]bool{}
	for _, vn := range meta.NamesOf(p) {
		out[dirName{vn.View, vn.Name + ExtPDF}] = true
		out[dirName{vn.View, vn.Name + ExtJSON}] = true
	}
	return out
}

// notifyChange tells n what one store change made stale: names that
// appeared or disappeared in every affected directory, group directories
// that appeared or disappeared, and the paper's files' content.
func notifyChange(n Notifier, ch meta.Change) {
	before, after := namesOf(ch.Before), namesOf(ch.After)
	groups := map[dirName]bool{}
	changed := func(dn dirName) {
		if dn.view.Group != "" {
			groups[dirName{meta.View{Kind: dn.view.Kind}, dn.view.Group}] = true
		}
		n.Entry(dn.view, dn.name)
	}
	for dn := range before {
		if !after[dn] {
			changed(dn)
		}
	}
	for dn := range after {
		if !before[dn] {
			changed(dn)
		}
	}
	for g := range groups {
		n.Entry(g.view, g.name)
	}
	if ch.After != nil {
		n.Content(ch.ID)
	}
}
