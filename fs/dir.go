package fs

import (
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Dir is one directory of papers (all/, tags/x/, years/1978/, ...) and
// what each operation means in it. It holds no state: listings and
// lookups go to the store's indexes, scratch files to the view's table.
type Dir struct {
	fs   *FS
	View meta.View
}

// Dir is the directory of view v.
func (f *FS) Dir(v meta.View) Dir { return Dir{fs: f, View: v} }

// path names a file of the directory for messages.
func (d Dir) path(name string) string { return d.View.String() + "/" + name }

// List is the directory's papers, ordered by name; each is two files,
// Name+ExtPDF and Name+ExtJSON, or only the sidecar for a paper with no
// PDF (see Shows). A tag's directory also has tag.bib (HasBib). Scratch
// files are listed by Scratch.
func (d Dir) List() ([]meta.Entry, error) {
	if d.View.Kind == Duplicates {
		return d.fs.listDuplicates(d.View)
	}
	es, err := d.fs.store.List(d.View)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", d.View, err)
	}
	return es, nil
}

// Lookup finds the file name in the directory, with its attributes (a
// paper's file's as its index entry has them).
func (d Dir) Lookup(name string) (Node, Attr, error) {
	n, e, ext, err := d.lookup(name)
	if err != nil {
		return nil, Attr{}, err
	}
	if n != nil {
		a, err := n.Attr()
		return n, a, err
	}
	return d.PaperFile(e, ext, name, nil), EntryAttr(e, ext), nil
}

// lookup finds name: a node that is not a paper's file, or the entry of
// the paper whose file it is.
func (d Dir) lookup(name string) (Node, meta.Entry, string, error) {
	if !IsPaperView(d.View) {
		n, err := d.lookupTrash(name)
		return n, meta.Entry{}, "", err
	}
	if name == BibTagName && HasBib(d.View) {
		return d.fs.Bib(d.View), meta.Entry{}, "", nil
	}
	if n := d.scratchLive(name); n != nil {
		if in, ok := n.(*Incoming); ok {
			if pdf, ok := in.aliasOf(); ok {
				return pdf, meta.Entry{}, "", nil // a pasted name is its paper's PDF
			}
		}
		return n, meta.Entry{}, "", nil
	}
	base, ext, ok := SplitExt(name)
	if !ok || !d.holdsPapers() {
		return nil, meta.Entry{}, "", errNotFound(d.path(name))
	}
	e, err := d.fs.lookupEntry(d.View, base)
	if err != nil {
		return nil, meta.Entry{}, "", fmt.Errorf("%s: %w", d.path(name), err)
	}
	if !Shows(e, ext) {
		return nil, meta.Entry{}, "", errNotFound(d.path(name))
	}
	return nil, e, ext, nil
}

// lookupEntry finds the paper named name (without extension) in view v.
func (f *FS) lookupEntry(v meta.View, name string) (meta.Entry, error) {
	if v.Kind == Duplicates {
		return f.lookupDuplicate(v, name)
	}
	return f.store.Lookup(v, name)
}

// PaperFile is one of the files of the paper e lists: its PDF (ext
// ExtPDF) or its sidecar named name. A listing's sidecars may share one
// view value, v (nil: the directory's own).
func (d Dir) PaperFile(e meta.Entry, ext, name string, v *meta.View) Node {
	if ext == ExtPDF {
		return PDF{fs: d.fs, ID: e.ID}
	}
	if v == nil {
		v = &d.View
	}
	return d.fs.newSidecar(v, e.ID, name)
}

// Create makes a new file: a PDF copied in (imported when its writer is
// done, see Incoming) or, for any other name, a scratch file (an editor's
// temporary or swap file). mode is the permission bits asked for.
func (d Dir) Create(name string, mode fs.FileMode) (Node, error) {
	if err := d.fs.writable(d.path(name)); err != nil {
		return nil, err
	}
	if d.View.Kind == fmFiles {
		return nil, d.fs.refuse(d.path(name), "the trash takes papers moved into it, not new files", ErrNotPermitted)
	}
	if !d.holdsPapers() && !IsJunk(name) {
		if d.View.Kind == "" {
			return nil, d.fs.RootRefusal(name)
		}
		return nil, d.fs.GroupsRefusal(d.View.Kind, name)
	}
	if isPDFName(name) && !IsJunk(name) && d.takesImports() {
		return d.createIncoming(name)
	}
	if isPDFName(name) && d.View.Kind == Duplicates {
		return nil, d.fs.duplicatesRefusal(d.path(name))
	}
	if _, _, _, err := d.lookup(name); err == nil {
		return nil, fmt.Errorf("%s: %w", d.path(name), meta.ErrExists)
	}
	n := d.fs.newScratch(d.View, name, mode)
	d.fs.setScratchIn(d.View.String(), name, n)
	d.fs.trackScratch(n)
	return n, nil
}

// holdsPapers reports whether the directory is a view of papers, not the
// root (Dir(meta.View{})) or a directory of groups (Dir(meta.View{Kind:
// meta.Tags})). Those hold only file managers' junk files (IsJunk) as
// scratch.
func (d Dir) holdsPapers() bool {
	return d.View.Kind != "" && (d.View.Group != "" || !HoldsGroups(d.View.Kind))
}

// takesImports reports whether a PDF copied into the directory becomes a
// paper of the library.
func (d Dir) takesImports() bool {
	return d.View.Kind != meta.Trash && d.View.Kind != meta.Missing && d.View.Kind != Duplicates && IsPaperView(d.View)
}

func isPDFName(name string) bool {
	return strings.EqualFold(filepath.Ext(name), ExtPDF) && !strings.HasPrefix(name, ".")
}

// Mkdir refuses: a view holds papers, not folders.
func (d Dir) Mkdir(name string) error {
	if err := d.fs.writable(d.path(name)); err != nil {
		return err
	}
	return d.fs.refuse(d.path(name), "folders cannot be created inside a view; create tags with mkdir tags/NAME", ErrNotPermitted)
}

// Symlink makes a scratch symlink (emacs' lock files are symlinks).
func (d Dir) Symlink(target, name string) (*Link, error) {
	if err := d.fs.writable(d.path(name)); err != nil {
		return nil, err
	}
	if n := d.fs.scratchIn(d.View.String(), name); n != nil {
		return nil, fmt.Errorf("%s: %w", d.path(name), meta.ErrExists)
	}
	n := &Link{Target: target, serial: nextSerial(), mtime: time.Now()}
	d.fs.setScratchIn(d.View.String(), name, n)
	return n, nil
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

// join adds or removes a paper from the set view v stands for; an
// emptied tag or folder stays, as a directory stays when its last file
// leaves.
func (f *FS) join(id string, v meta.View, in bool) error {
	return f.store.Join(id, v, in)
}

// Unlink deletes a name. A scratch file just goes. For a paper, deleting
// its PDF removes it from the view: from a tag or folder it leaves that
// set, from all/ or untagged/ it goes to the trash (its PDF moves to the
// library's trash folder). A sidecar is never deleted.
func (d Dir) Unlink(name string) error {
	if err := d.fs.writable(d.path(name)); err != nil {
		return err
	}
	if !IsPaperView(d.View) {
		return d.unlinkTrash(name)
	}
	if n := d.scratchLive(name); n != nil {
		in, _ := n.(*Incoming)
		if in != nil && in.alias() != "" {
			return d.unlinkAlias(in, in.alias(), name)
		}
		d.fs.setScratchIn(d.View.String(), name, nil)
		if in != nil {
			in.discard()
		}
		return nil
	}
	file := d.path(name)
	base, ext, ok := SplitExt(name)
	if !ok || !d.holdsPapers() {
		return errNotFound(file)
	}
	e, err := d.fs.lookupEntry(d.View, base)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	if ext == ExtJSON {
		return d.fs.refuse(file, "a sidecar cannot be deleted; delete the .pdf to remove the paper from this folder", ErrNotPermitted)
	}
	switch d.View.Kind {
	case meta.Tags, meta.Folders:
		err = d.fs.join(e.ID, d.View, false)
	case Duplicates:
		return d.fs.duplicatesRefusal(file)
	case meta.All, meta.Untagged:
		if d.fs.opts.Folder == nil {
			return d.fs.refuse(file, "this view has no library folder to trash from", ErrReadOnlyView)
		}
		if _, err = d.fs.opts.Folder.Trash(e.ID); err == nil {
			d.fs.log.Info("moved to trash (paperfs trash list / restore)", "file", file)
		}
	default:
		if d.View.Kind == meta.Trash {
			return d.fs.refuse(file, "paperfs never deletes a PDF: a paper leaves the trash by moving it back (mv trash/X.pdf all/, or paperfs trash restore)", ErrNotPermitted)
		}
		return d.fs.refuse(file, "papers leave "+string(d.View.Kind)+"/ only by editing their metadata", ErrNotPermitted)
	}
	if err != nil {
		return fmt.Errorf("deleting %s: %w", file, err)
	}
	return nil
}

// Link (ln, cp -l) puts the paper whose file n is into the directory's
// tag or folder.
func (d Dir) Link(n Node, name string) error {
	if err := d.fs.sameLibrary(n, d.path(name)); err != nil {
		return err
	}
	if err := d.fs.writable(d.path(name)); err != nil {
		return err
	}
	id := ""
	switch t := n.(type) {
	case PDF:
		id = t.ID
	case *Sidecar:
		id = t.ID()
	}
	if _, ok := membership(d.View); !ok || id == "" {
		return d.fs.refuse(d.path(name), "only a paper's file can be linked, and only into a tag or folder", ErrNotPermitted)
	}
	if err := d.fs.join(id, d.View, true); err != nil {
		return fmt.Errorf("linking %s: %w", d.path(name), err)
	}
	return nil
}

// RenameFlags are rename(2)'s flags that change its meaning.
type RenameFlags struct {
	NoReplace bool // fail if the new name exists
	Exchange  bool // swap the two names
}

// Rename covers editors' saves and a file manager's moves. n is the node
// the caller holds for name, or nil to look it up.
//   - a scratch file renamed onto a paper's sidecar commits its content
//     (sed -i, os.replace, atomic-write libraries);
//   - a sidecar renamed to another name becomes a scratch copy (vim and
//     emacs backups); the paper keeps its sidecar;
//   - a paper's file moved to another view changes membership: from
//     tags/a to tags/b retags, into tags/b tags, out to all/ untags.
func (d Dir) Rename(name string, n Node, to Dir, newName string, flags RenameFlags) error {
	file := d.path(name)
	if to.fs != d.fs {
		return CrossLibrary(file, to.path(newName))
	}
	if err := d.fs.writable(file); err != nil {
		return err
	}
	if flags.Exchange {
		return d.fs.refuse(file, "names in a view cannot be exchanged", ErrNotPermitted)
	}
	if sc := d.scratchLive(name); sc != nil {
		if in, ok := sc.(*Incoming); ok && in.alias() != "" {
			return d.renameAlias(in, in.alias(), name, to, newName, flags)
		}
		return d.renameScratch(sc, name, to, newName, flags)
	}
	if d.View.Kind == fmFiles {
		return d.renameOutOfTrash(name, to, newName)
	}
	base, ext, ok := SplitExt(name)
	if !ok || !d.holdsPapers() {
		return errNotFound(file)
	}
	e, err := d.fs.lookupEntry(d.View, base)
	if err != nil {
		return fmt.Errorf("%s: %w", file, err)
	}
	switch {
	case to.View.Kind == fmFiles && ext == ExtPDF:
		return to.trashPaper(e, file, newName)
	case to.View.Kind == fmFiles:
		return d.fs.refuse(file, "a paper goes to the trash by its .pdf; its .json goes with it", ErrNotPermitted)
	case to.View.Kind == Duplicates && to.View != d.View:
		return d.fs.duplicatesRefusal(to.path(newName))
	case d.View.Kind == meta.Trash && to.View != d.View:
		if ext != ExtPDF || !takesRestores(to.View) {
			return d.fs.refuse(file, "a paper comes back from the trash by moving its .pdf into all/, a tag or a folder", ErrNotPermitted)
		}
		return d.fs.restorePaper(e.ID, file, to)
	}
	if to.View == d.View {
		return d.renameInView(e, name, n, ext, newName)
	}
	// A move between views.
	_, fromSet := membership(d.View)
	_, toSet := membership(to.View)
	if !fromSet && !toSet {
		return d.fs.refuse(file, "papers move into a tag or folder directory, such as tags/NAME/", ErrNotPermitted)
	}
	if toSet {
		err = d.fs.join(e.ID, to.View, true)
	}
	if err == nil && fromSet {
		err = d.fs.join(e.ID, d.View, false)
	}
	if err != nil {
		return fmt.Errorf("moving %s to %s: %w", file, to.path(newName), err)
	}
	return nil
}

// renameOutOfTrash is a file manager's Restore: a PDF renamed out of
// its trash's files/ into a view.
func (d Dir) renameOutOfTrash(name string, to Dir, newName string) error {
	file := d.path(name)
	n, err := d.lookupTrash(name)
	if err != nil {
		return err
	}
	pdf, ok := n.(PDF)
	if !ok || !takesRestores(to.View) {
		return d.fs.refuse(file, "a paper comes back from the trash into all/, a tag or a folder", ErrNotPermitted)
	}
	return d.fs.restorePaper(pdf.ID, file, to)
}

// renameInView renames a paper's file within its view: only a sidecar,
// which an editor renames to a backup name before writing the new text.
func (d Dir) renameInView(e meta.Entry, name string, n Node, ext, newName string) error {
	file := d.path(name)
	if ext != ExtJSON {
		return d.fs.refuse(file, "a paper's name comes from its metadata; edit the .json to rename it", ErrNotPermitted)
	}
	if b2, ext2, ok := SplitExt(newName); ok {
		if e2, err := d.fs.lookupEntry(d.View, b2); err == nil {
			if e2.ID == e.ID && ext2 == ExtJSON {
				return nil
			}
			return d.fs.refuse(file, "another paper's file is named "+newName, ErrNotPermitted)
		}
	}
	if renamesSidecar(newName) {
		return d.fs.refuse(file, "a paper's name comes from its metadata; edit the .json to rename it (renaming its .json would only make a copy)", ErrNotPermitted)
	}
	sc, ok := n.(*Sidecar)
	if !ok || sc.ID() != e.ID {
		sc = d.fs.newSidecar(&d.View, e.ID, name)
	}
	if err := sc.detach(newName); err != nil {
		return fmt.Errorf("renaming %s: %w", file, err)
	}
	sc.mu.Lock()
	sc.view = &d.View
	sc.mu.Unlock()
	d.fs.setScratchIn(d.View.String(), newName, sc)
	d.fs.trackScratch(sc)
	// Other names may still show the detached file.
	d.fs.invalidate(d.View, name)
	return nil
}

func (d Dir) renameScratch(n Node, name string, to Dir, newName string, flags RenameFlags) error {
	sc, _ := n.(*Sidecar)
	if sc != nil && isPDFName(newName) && !isPDFName(name) && to.fs.opts.Folder != nil && to.takesImports() {
		// A download finishing: browsers write x.pdf.part (or
		// .crdownload) and rename it to x.pdf. That is a PDF arriving.
		return d.importRenamed(sc, name, to, newName)
	}
	if b2, ext2, ok := SplitExt(newName); ok && sc != nil && to.fs.scratchIn(to.View.String(), newName) == nil {
		if e2, err := to.fs.lookupEntry(to.View, b2); err == nil {
			target := to.path(newName)
			if ext2 != ExtJSON {
				return d.fs.refuse(target, "a scratch file cannot replace a paper's PDF", ErrNotPermitted)
			}
			if flags.NoReplace {
				return fmt.Errorf("%s: %w", target, meta.ErrExists)
			}
			text, err := sc.scratchText()
			if err != nil {
				return err // the scratch file stays as it is
			}
			if err := d.fs.commitSidecar(e2.ID, target, text); err != nil {
				return err
			}
			d.fs.setScratchIn(d.View.String(), name, nil)
			sc.attach(e2.ID, &to.View, newName)
			return nil
		}
	}
	if to.fs.scratchIn(to.View.String(), newName) != nil && flags.NoReplace {
		return fmt.Errorf("%s: %w", to.path(newName), meta.ErrExists)
	}
	d.fs.setScratchIn(d.View.String(), name, nil)
	to.fs.setScratchIn(to.View.String(), newName, n)
	if sc != nil {
		sc.mu.Lock()
		sc.view, sc.name = &to.View, newName
		sc.mu.Unlock()
	}
	if in, ok := n.(*Incoming); ok {
		in.moved(to, newName)
	}
	return nil
}
