package fs

import (
	"slices"
	"strings"
)

// Scratch lists the directory's scratch files (editors' temporaries, a
// file of the user's own, a PDF being copied in, a scratch symlink) by
// name. A frontend lists them after the papers (List): a name that can be
// looked up is listed, or a file manager shows a folder without the file
// it was just told about, and a shell's glob misses it. A pasted name
// that is its paper's PDF's alias (alias.go) is listed as that PDF.
func (d Dir) Scratch() []FileEntry {
	d.fs.scratchMu.Lock()
	m := d.fs.scratchFiles[d.View.String()]
	out := make([]FileEntry, 0, len(m))
	for name, n := range m {
		out = append(out, FileEntry{Name: name, Node: n})
	}
	d.fs.scratchMu.Unlock()
	out = slices.DeleteFunc(out, func(e FileEntry) bool {
		if in, ok := e.Node.(*Incoming); ok && in.expired() {
			d.fs.dropAlias(d, e.Name, in)
			return true
		}
		// A name a paper has is listed once, as the paper's (an alias
		// pasted under the name the paper got).
		base, _, ok := SplitExt(e.Name)
		if !ok || !d.holdsPapers() {
			return false
		}
		_, err := d.fs.store.Lookup(d.View, base)
		return err == nil
	})
	for i, e := range out {
		if in, ok := e.Node.(*Incoming); ok {
			if id := in.alias(); id != "" {
				out[i].Node = PDF{fs: d.fs, ID: id}
			}
		}
	}
	slices.SortFunc(out, func(a, b FileEntry) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// renamesSidecar reports whether renaming a paper's sidecar to newName
// would name another sidecar, as opposed to an editor's backup (X.json~,
// .X.json.swp, #X.json#, X.json.bak): a paper's name comes from its
// metadata, so that rename is refused like a PDF's; the backup becomes a
// scratch copy.
func renamesSidecar(newName string) bool {
	return strings.HasSuffix(newName, ExtJSON) && !editorTemp.MatchString(newName)
}
