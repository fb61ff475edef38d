package fs

import (
	"fmt"
	"io/fs"
	"net/url"
	"strings"

	"github.com/paperfs/paperfs/meta"
)

// The file managers' trash. Delete in Nautilus, Dolphin, Thunar and `gio
// trash` follow the freedesktop.org Trash specification: on a mount they
// make $topdir/.Trash-$uid/{files,info}, write info/NAME.trashinfo, and
// rename the file to files/NAME; Restore renames it back to the path the
// .trashinfo names; Empty Trash deletes files/* and info/*.
//
// Here every .Trash-$uid is paperfs' own trash seen the file managers' way:
//   - files/ lists the papers in trash/ (their PDFs), and info/ a
//     .trashinfo for each (the one the file manager wrote, or one made
//     from the paper);
//   - a paper's PDF renamed into files/ is trashed, from any view: its
//     tags and folders stay on it;
//   - a PDF renamed out of files/ (or out of trash/) into a view is
//     restored, joining the tag or folder it lands in;
//   - deleting from files/ (Empty Trash) takes the paper out of the file
//     manager's Trash window only: paperfs never deletes a PDF, and the
//     paper stays in trash/ (and its PDF in .paperfs-trash) until restored.

// Kinds of the trash directories; they are this package's, not meta's.
const (
	fmFiles meta.Kind = ".Trash/files"
	fmInfo  meta.Kind = ".Trash/info"
)

// FMTrashName reports whether name, at the root, is a file manager's
// trash directory (.Trash-1000). The shared .Trash/$uid form is not
// offered: file managers then make their own .Trash-$uid.
func FMTrashName(name string) bool {
	uid, ok := strings.CutPrefix(name, ".Trash-")
	if !ok || uid == "" {
		return false
	}
	for _, c := range uid {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// FMTrashDirs are the subdirectories of a file manager's trash, as views.
var FMTrashDirs = map[string]meta.View{"files": {Kind: fmFiles}, "info": {Kind: fmInfo}}

// FMTrashAttr is the attributes of a file manager's trash directory: its
// user's only, as the specification asks (file managers check).
func FMTrashAttr() Attr { return Attr{Mode: fs.ModeDir | 0o700, Mtime: startTime, Links: 2} }

// IsPaperView reports whether v lists papers, each as a PDF and a sidecar
// (List); the trash's directories list files (Files).
func IsPaperView(v meta.View) bool { return v.Kind != fmFiles && v.Kind != fmInfo }

// FileEntry is one name in a directory that is not a paper view.
type FileEntry struct {
	Name string
	Node Node
}

// Files lists a file manager's trash directory.
func (d Dir) Files() ([]FileEntry, error) {
	es, err := d.fs.store.List(meta.View{Kind: meta.Trash})
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", d.View, err)
	}
	var out []FileEntry
	for _, e := range es {
		if d.fs.fmHidden(e.ID) {
			continue
		}
		name := d.fs.fmName(e)
		if d.View.Kind == fmFiles {
			out = append(out, FileEntry{name, PDF{fs: d.fs, ID: e.ID}})
			continue
		}
		info := name + ".trashinfo"
		if n := d.fs.scratchIn(d.View.String(), info); n != nil {
			out = append(out, FileEntry{info, n})
		} else {
			out = append(out, FileEntry{info, d.fs.trashInfo(e.ID, info)})
		}
	}
	return out, nil
}

// lookupTrash finds name in a file manager's trash directory.
func (d Dir) lookupTrash(name string) (Node, error) {
	if n := d.fs.scratchIn(d.View.String(), name); n != nil {
		return n, nil
	}
	file, ok := name, true
	if d.View.Kind == fmInfo {
		file, ok = strings.CutSuffix(name, ".trashinfo")
	}
	id := ""
	if ok {
		id = d.fs.trashedAs(file)
	}
	if id == "" || d.fs.fmHidden(id) {
		return nil, errNotFound(d.path(name))
	}
	if d.View.Kind == fmFiles {
		return PDF{fs: d.fs, ID: id}, nil
	}
	return d.fs.trashInfo(id, name), nil
}

// trashedAs finds the trashed paper whose file in a file manager's trash
// is named file (see fmName): one the file manager named, or one by its
// name in trash/. It costs a store lookup, not a listing of the trash.
func (f *FS) trashedAs(file string) string {
	f.mu.Lock()
	for id, n := range f.fmNames {
		if n == file {
			f.mu.Unlock()
			return id
		}
	}
	f.mu.Unlock()
	base, ext, ok := SplitExt(file)
	if !ok || ext != ExtPDF {
		return ""
	}
	e, err := f.store.Lookup(meta.View{Kind: meta.Trash}, base)
	if err != nil || f.fmName(e) != file {
		return ""
	}
	return e.ID
}

// fmName is a trashed paper's name in files/: the one the file manager
// gave it when it trashed it here, or its name in trash/.
func (f *FS) fmName(e meta.Entry) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n, ok := f.fmNames[e.ID]; ok {
		return n
	}
	return e.Name + ExtPDF
}

func (f *FS) setFMName(id, name string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fmNames == nil {
		f.fmNames = map[string]string{}
	}
	f.fmNames[id] = name
	delete(f.fmEmptied, id)
}

func (f *FS) fmHidden(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fmEmptied[id]
}

// trashInfo is the .trashinfo of a paper the file manager did not trash
// itself (trashed with rm, paperfs trash, or on another device): it names
// all/ as the place to restore to.
func (f *FS) trashInfo(id, name string) *Generated {
	return &Generated{Name: name, gen: func() []byte {
		p, err := f.store.Get(id)
		if err != nil || p.Trashed == nil {
			return nil
		}
		orig := "all/" + url.PathEscape(strings.TrimSuffix(name, ".trashinfo"))
		return []byte("[Trash Info]\nPath=" + orig + "\nDeletionDate=" + p.Trashed.Local().Format("2006-01-02T15:04:05") + "\n")
	}}
}

// unlinkTrash deletes from a file manager's trash: a .trashinfo goes
// (a scratch one, or nothing happens to a made one); a paper leaves the
// file manager's Trash window and stays in paperfs' trash.
func (d Dir) unlinkTrash(name string) error {
	n, err := d.lookupTrash(name)
	if err != nil {
		return err
	}
	if s := d.fs.scratchIn(d.View.String(), name); s != nil {
		d.fs.setScratchIn(d.View.String(), name, nil)
		return nil
	}
	if pdf, ok := n.(PDF); ok {
		d.fs.mu.Lock()
		if d.fs.fmEmptied == nil {
			d.fs.fmEmptied = map[string]bool{}
		}
		d.fs.fmEmptied[pdf.ID] = true
		d.fs.mu.Unlock()
		d.fs.log.Info("emptied from the file manager's Trash; the paper stays in trash/ (paperfs never deletes a PDF)", "file", d.path(name))
	}
	return nil
}

// trashPaper trashes the paper entry e names, as the file manager asked by
// renaming its PDF into files/ as name.
func (d Dir) trashPaper(e meta.Entry, from, name string) error {
	if d.fs.opts.Folder == nil {
		return d.fs.refuse(from, "this view has no library folder to trash from", ErrReadOnlyView)
	}
	if _, err := d.fs.opts.Folder.Trash(e.ID); err != nil {
		return fmt.Errorf("trashing %s: %w", from, err)
	}
	d.fs.setFMName(e.ID, name)
	d.fs.log.Info("moved to trash (the file manager's Trash restores it; so do paperfs trash restore and mv trash/X.pdf all/)", "file", from)
	return nil
}

// restorePaper brings back the trashed paper id, into the view to.
func (f *FS) restorePaper(id, from string, to Dir) error {
	if f.opts.Folder == nil {
		return f.refuse(from, "this view has no library folder to restore into", ErrReadOnlyView)
	}
	if _, err := f.opts.Folder.Restore(id); err != nil {
		return fmt.Errorf("restoring %s: %w", from, err)
	}
	f.mu.Lock()
	delete(f.fmNames, id)
	delete(f.fmEmptied, id)
	f.mu.Unlock()
	f.log.Info("restored from the trash", "file", from, "to", to.View.String())
	return f.join(id, to.View, true)
}

// takesRestores reports whether a trashed paper moved into v comes back.
func takesRestores(v meta.View) bool {
	switch v.Kind {
	case meta.All, meta.Untagged, meta.Tags, meta.Folders:
		return true
	}
	return false
}
