package fs

import (
	"time"

	"github.com/paperfs/paperfs/meta"
)

// A PDF pasted into a view is imported under its library name, but a file
// manager still holds the name it pasted it as: Thunar, told nothing of a
// rename, crashed on a later rename, cut or paste of a name that had
// vanished under it. So once imported, the pasted name stays in that view
// as an alias of the paper's PDF: it reads as the PDF, and renaming or
// deleting it acts on the paper as the PDF's own name would. It goes when
// it is renamed or deleted, or once unused for Options.AliasGrace. (Not
// when the kernel forgets its inode: a file manager keeps a path, not an
// open file, and the kernel forgets an unused inode at once.)

// DefaultAliasGrace is how long an unused alias stays.
const DefaultAliasGrace = 2 * time.Minute

// aliasOf is the PDF n is an alias of, if it is one; it counts as a use.
func (n *Incoming) aliasOf() (PDF, bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.paper == "" {
		return PDF{}, false
	}
	n.used = n.fs.now()
	return PDF{fs: n.fs, ID: n.paper}, true
}

// alias is the paper n is an alias of, or "".
func (n *Incoming) alias() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paper
}

// expired reports an alias unused for the grace period.
func (n *Incoming) expired() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.paper != "" && n.writers == 0 && n.fs.now().Sub(n.used) >= n.fs.opts.AliasGrace
}

func (f *FS) dropAlias(d Dir, name string, n *Incoming) {
	if f.scratchIn(d.View.String(), name) == Node(n) {
		f.setScratchIn(d.View.String(), name, nil)
	}
	f.invalidate(d.View, name)
}

// scratchLive is the scratch node name, or nil; an expired alias goes.
func (d Dir) scratchLive(name string) Node {
	n := d.fs.scratchIn(d.View.String(), name)
	if in, ok := n.(*Incoming); ok && in.expired() {
		d.fs.dropAlias(d, name, in)
		return nil
	}
	return n
}

// paperPDF is the name of paper id's PDF in the directory.
func (d Dir) paperPDF(id string) (string, bool) {
	p, err := d.fs.store.Get(id)
	if err != nil {
		return "", false
	}
	for _, vn := range meta.NamesOf(&p) {
		if vn.View != d.View {
			continue
		}
		if e, err := d.fs.store.Lookup(d.View, vn.Name); err == nil && e.ID == id {
			return vn.Name + ExtPDF, true
		}
	}
	return "", false
}

// renameAlias renames an alias as its paper's PDF would be: moved into a
// tag it tags, renamed within its view it is refused, and renamed to the
// paper's own name it just goes.
func (d Dir) renameAlias(in *Incoming, id, name string, to Dir, newName string, flags RenameFlags) error {
	pdf, ok := d.paperPDF(id)
	d.fs.dropAlias(d, name, in)
	if !ok {
		return errNotFound(d.path(name)) // the paper left the view meanwhile
	}
	if to.View == d.View && newName == pdf {
		return nil
	}
	if err := d.Rename(pdf, nil, to, newName, flags); err != nil {
		if pdf != name {
			d.fs.setScratchIn(d.View.String(), name, in)
		}
		return err
	}
	to.fs.invalidate(to.View, newName)
	return nil
}

// unlinkAlias deletes an alias as its paper's PDF would be: from all/ the
// paper goes to the trash, from a tag it is untagged.
func (d Dir) unlinkAlias(in *Incoming, id, name string) error {
	pdf, ok := d.paperPDF(id)
	d.fs.dropAlias(d, name, in)
	if !ok {
		return nil
	}
	if err := d.Unlink(pdf); err != nil {
		if pdf != name {
			d.fs.setScratchIn(d.View.String(), name, in)
		}
		return err
	}
	return nil
}
