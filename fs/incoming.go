package fs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Incoming is a PDF being copied into a view (cp, drag and drop, a
// download finishing). Its bytes go to a hidden temporary file in the
// library folder; when its writer is done (Finish), it is checked at once
// and then imported like `paperfs import` in the background, joining the
// tag or folder it was dropped into. It stays listed under the name it was
// given until the import is done; the paper then appears under its
// library name. A PDF already in the library just joins.
type Incoming struct {
	fs     *FS
	serial uint64
	tmp    string // the copy, named as the user named it, in a private hidden directory of the library folder; changed only under mu (see revive)

	mu      sync.Mutex // protects the following
	dir     Dir        // where it was put, and under what name
	name    string
	begun   bool      // checked and handed to the import: further finishes do nothing
	writers int       // writable opens not yet released (see Release)
	dropped bool      // refused or deleted before it was handed over
	paper   string    // once imported: the paper whose PDF the name is an alias of (see alias.go)
	used    time.Time // the alias's last use
}

func (d Dir) createIncoming(name string) (*Incoming, error) {
	if d.fs.opts.Folder == nil {
		return nil, d.fs.refuse(d.path(name), "this view has no library folder to import into", ErrReadOnlyView)
	}
	w, err := d.fs.incomingFile(name)
	if err != nil {
		return nil, fmt.Errorf("copying %s in: %w", d.path(name), err)
	}
	w.Close()
	n := &Incoming{fs: d.fs, serial: nextSerial(), tmp: w.Name(), dir: d, name: name}
	d.fs.setScratchIn(d.View.String(), name, n)
	return n, nil
}

// Serial tells copies apart.
func (n *Incoming) Serial() uint64 { return n.serial }

// Attr is the copy's attributes as written so far; once imported, its
// paper's PDF's.
func (n *Incoming) Attr() (Attr, error) {
	if pdf, ok := n.aliasOf(); ok {
		return pdf.Attr()
	}
	n.mu.Lock()
	dropped := n.dropped
	n.mu.Unlock()
	if dropped { // refused or deleted; a frontend may still hold it
		d, name := n.where()
		return Attr{}, errNotFound(d.path(name))
	}
	st, err := os.Stat(n.path())
	if err != nil {
		return Attr{Mode: modeFile, Mtime: time.Now(), Links: 1}, nil
	}
	return Attr{Mode: modeFile, Size: st.Size(), Mtime: st.ModTime(), Links: 1}, nil
}

// Open opens the copy; flags are os.OpenFile's. A writable open must be
// released (Release) when its writer is done.
func (n *Incoming) Open(flags int) (*os.File, error) {
	if pdf, ok := n.aliasOf(); ok {
		return pdf.Open(flags)
	}
	if writable(flags) {
		if err := n.revive(); err != nil {
			return nil, err
		}
	}
	f, err := os.OpenFile(n.path(), flags&^(os.O_CREATE|os.O_EXCL), 0)
	if err == nil && writable(flags) {
		n.mu.Lock()
		n.writers++
		n.mu.Unlock()
	}
	return f, err
}

// Truncate sets the copy's size.
func (n *Incoming) Truncate(size int64) error {
	if _, ok := n.aliasOf(); ok {
		d, name := n.where()
		return n.fs.refuse(d.path(name), "this paper is in the library now; replace its PDF by copying over it", ErrNotPermitted)
	}
	return os.Truncate(n.path(), size)
}

func (n *Incoming) moved(to Dir, name string) {
	n.mu.Lock()
	n.dir, n.name = to, name
	n.mu.Unlock()
}

func (n *Incoming) where() (Dir, string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dir, n.name
}

// Finish is called when a writer is done with the copy (close). Once it
// has content, its bytes are made durable and checked: a file that is not
// a PDF is refused at once (the error wraps meta.ErrInvalid; the file is
// kept in the rejected folder and leaves the view), one the library has
// already joins the view at once, and a new one is imported in the
// background, so the writer's close never waits for extraction.
func (n *Incoming) Finish() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.begun || n.dropped {
		return nil
	}
	w, err := os.OpenFile(n.tmp, os.O_RDONLY, 0)
	if err != nil {
		return nil // moved away meanwhile (rename onto another name)
	}
	st, err := w.Stat()
	if err == nil && st.Size() == 0 {
		w.Close()
		return nil // nothing written yet (touch, or an open before the copy)
	}
	if err == nil {
		err = w.Sync()
	}
	w.Close()
	d, name := n.dir, n.name
	file := d.path(name)
	if err != nil {
		return fmt.Errorf("copying %s in: %w", file, err)
	}
	n.begun = true
	existing, err := d.fs.opts.Folder.Identify(n.tmp)
	switch {
	case err != nil:
		d.fs.dropIncoming(d, name, n.tmp, err)
		return fmt.Errorf("copying %s in: %w", file, err)
	case existing != "":
		// Already in the library: copying it here means "put it here
		// too", and copying a trashed paper back means restoring it.
		if p, err := d.fs.store.Get(existing); err == nil && p.Trashed != nil {
			err = d.fs.restorePaper(existing, file, d)
			if err != nil {
				d.fs.dropIncoming(d, name, n.tmp, err)
				return fmt.Errorf("copying %s in: %w", file, err)
			}
		}
		if err := d.fs.join(existing, d.View, true); err != nil {
			d.fs.dropIncoming(d, name, n.tmp, err)
			return fmt.Errorf("copying %s in: %w", file, err)
		}
		os.RemoveAll(filepath.Dir(n.tmp))
		d.fs.log.Info("already in the library", "file", file, "paper", existing)
		n.paper, n.used = existing, d.fs.now() // n.mu is held; see doneIncoming
		d.fs.invalidate(d.View, name)
		return nil
	}
	d.fs.wg.Add(1)
	go func() {
		defer d.fs.wg.Done()
		d.fs.importIncoming(n)
	}()
	return nil
}

// importIncoming imports a checked copy: tagged or filed when it was put
// in a tag or folder. What cannot be imported is kept.
func (f *FS) importIncoming(n *Incoming) {
	d, name := n.where()
	var tags []string
	if d.View.Kind == meta.Tags {
		tag, err := f.store.GroupValue(d.View)
		if err != nil {
			f.dropIncoming(d, name, n.tmp, err)
			return
		}
		tags = []string{tag}
	}
	p, err := f.opts.Folder.ImportFile(f.bg, n.tmp, true, tags)
	var dup meta.DuplicateOf
	switch {
	case err == nil:
		p = f.carryOver(p, d.path(name))
		if d.View.Kind == meta.Folders {
			err = f.join(p.ID, d.View, true)
		}
		f.log.Info("imported", "file", d.path(name), "paper", p.ID, "as", p.File.Path)
	case errors.As(err, &dup):
		// The same PDF arrived meanwhile.
		os.Remove(n.tmp)
		p.ID = dup.PaperID()
		err = f.join(p.ID, d.View, true)
	}
	if err != nil {
		f.dropIncoming(d, name, n.tmp, err)
		return
	}
	os.Remove(filepath.Dir(n.tmp)) // empty once imported
	f.doneIncoming(d, name, n, p.ID)
}

// doneIncoming makes a copy's name an alias of its paper's PDF, once the
// paper is there (see alias.go).
func (f *FS) doneIncoming(d Dir, name string, n *Incoming, id string) {
	n.mu.Lock()
	n.paper, n.used = id, f.now()
	n.mu.Unlock()
	f.invalidate(d.View, name) // its attributes are the PDF's now
}

// dropIncoming refuses a copy that cannot be imported: the file is kept
// where the user can find it, the refusal is logged and listed in
// .paperfs/errors, and the name leaves the view.
func (f *FS) dropIncoming(d Dir, name, tmp string, err error) {
	kept := f.keepCopy(tmp, name)
	file := d.path(name)
	msg := "a file copied in could not be imported; it is kept"
	if errors.Is(err, context.Canceled) {
		msg = "the mount closed before a file copied in was imported; it is kept"
	}
	problem := cut(err.Error())
	f.log.Error(msg, "file", file, "kept", kept, "err", problem)
	f.addRejection(Rejection{Time: time.Now(), File: file, Problem: problem, Kept: kept})
	os.Remove(filepath.Dir(tmp))
	if f.scratchIn(d.View.String(), name) != nil {
		f.setScratchIn(d.View.String(), name, nil)
	}
	f.invalidate(d.View, name)
}

// keepCopy moves a file that could not be imported where the user can
// find it, and returns where that is.
func (f *FS) keepCopy(tmp, name string) string {
	if f.opts.RejectDir == "" {
		return tmp
	}
	os.MkdirAll(f.opts.RejectDir, 0o700)
	dst := filepath.Join(f.opts.RejectDir, time.Now().UTC().Format("20060102T150405")+"-"+name)
	if os.Rename(tmp, dst) != nil {
		return tmp
	}
	f.trimRejected(dst)
	return dst
}

// incomingFile makes the private hidden directory in the library folder
// where a file waits to be imported under the name the user gave it (the
// name import falls back on for title and file name; scans skip hidden
// directories), and the file in it.
func (f *FS) incomingFile(name string) (*os.File, error) {
	tmpDir, err := os.MkdirTemp(f.opts.Library, ".paperfs-incoming-*")
	if err != nil {
		return nil, err
	}
	w, err := os.OpenFile(filepath.Join(tmpDir, name), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		os.Remove(tmpDir)
		return nil, err
	}
	return w, nil
}

// importRenamed imports a scratch file renamed to a PDF name.
func (d Dir) importRenamed(sc *Sidecar, name string, to Dir, newName string) error {
	if base, _, ok := SplitExt(newName); ok {
		if _, err := to.fs.lookupEntry(to.View, base); err == nil {
			return fmt.Errorf("%s: a paper's PDF is never replaced: %w", to.path(newName), meta.ErrExists)
		}
	}
	w, err := d.fs.incomingFile(newName)
	if err != nil {
		return fmt.Errorf("renaming %s: %w", d.path(name), err)
	}
	err = sc.copyScratch(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.RemoveAll(filepath.Dir(w.Name()))
		return fmt.Errorf("renaming %s: %w", d.path(name), err)
	}
	d.fs.setScratchIn(d.View.String(), name, nil)
	n := &Incoming{fs: d.fs, serial: nextSerial(), tmp: w.Name(), dir: to, name: newName}
	to.fs.setScratchIn(to.View.String(), newName, n)
	return n.Finish()
}

// cleanIncoming removes what copies that were never written (touch x.pdf)
// left in the library folder; it runs when the view is closed. A file
// with content there was not imported and not kept: it stays, and is
// reported.
func (f *FS) cleanIncoming() {
	dirs, _ := filepath.Glob(filepath.Join(f.opts.Library, ".paperfs-incoming-*"))
	for _, dir := range dirs {
		es, _ := os.ReadDir(dir)
		for _, e := range es {
			p := filepath.Join(dir, e.Name())
			if st, err := os.Stat(p); err == nil && st.Size() == 0 {
				os.Remove(p)
			} else if err == nil && st.Mode().IsRegular() {
				f.keepUnimported(p, e.Name())
			}
		}
		os.Remove(dir) // only if empty
	}
}

// keepUnimported keeps a copy with content that was never imported.
func (f *FS) keepUnimported(path, name string) {
	kept := f.keepCopy(path, name)
	f.log.Warn("a file copied into the mount was not imported; it is kept", "file", name, "kept", kept)
}
