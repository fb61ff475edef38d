package fs

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Scratch files are what editors and file managers write beside papers:
// temporaries, swap and lock files, backups. Their content is on disk
// (see scratchContent) and goes with the view. A user can also write a file of their own into a view
// ("Save as notes.md" into tags/ml/); that one must not vanish, so when
// the view is closed every scratch file still listed, with content, that
// does not look like an editor's temporary is kept in Options.RejectDir.
//
// Scratch files belong to the view (tags/x), not to one directory object
// of a frontend: after mv tags/a tags/b the kernel may hold two inodes for
// tags/b for a while, and a file created through one must be found
// through the other.

// editorTemp matches the names editors and tools give their temporaries:
// hidden files (swap, lock, .goutputstream-*, .tmp*), backups (name~),
// emacs autosaves (#name#), vim's 4913 probe and sed -i's sedXXXXXX.
var editorTemp = regexp.MustCompile(`^(\..*|.*~|#.*#|[0-9]+|sed[A-Za-z0-9]{6}|tmp[A-Za-z0-9_]{6,8})$`)

// junk matches what file managers write beside whatever they show:
// Finder's AppleDouble ._name files and .DS_Store, Explorer's Thumbs.db
// and desktop.ini, Office's ~$name lock files. They are scratch files
// wherever they are written, even at the root and in tags/, are never
// imported (not even ~$x.pdf), and are not kept when the view closes.
var junk = regexp.MustCompile(`(?i)^(\._.*|\.DS_Store|Thumbs\.db|desktop\.ini|~\$.*)$`)

// IsJunk reports a file manager's junk file name (see junk).
func IsJunk(name string) bool { return junk.MatchString(name) }

const maxScratchTracked = 1024

// trackScratch remembers a scratch file for keepScratch.
func (f *FS) trackScratch(n *Sidecar) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.scratch == nil {
		f.scratch = map[*Sidecar]struct{}{}
	}
	if len(f.scratch) >= maxScratchTracked {
		for s := range f.scratch {
			if !s.listed() {
				delete(f.scratch, s)
			}
		}
	}
	f.scratch[n] = struct{}{}
}

// listed reports whether n is a scratch file a view still shows.
func (n *Sidecar) listed() bool {
	n.mu.Lock()
	v, name, id := n.view, n.name, n.id
	n.mu.Unlock()
	return id == "" && v != nil && n.fs.scratchIn(v.String(), name) == Node(n)
}

// keepScratch saves the user's own files from the scratch space; it runs
// when the view is closed.
func (f *FS) keepScratch() {
	f.mu.Lock()
	nodes := make([]*Sidecar, 0, len(f.scratch))
	for n := range f.scratch {
		nodes = append(nodes, n)
	}
	f.scratch = nil
	f.mu.Unlock()
	for _, n := range nodes {
		if !n.listed() {
			continue
		}
		n.mu.Lock()
		name, v := n.name, *n.view
		n.mu.Unlock()
		view := v.String()
		if n.scratchSize() == 0 || editorTemp.MatchString(name) || IsJunk(name) || !IsPaperView(v) {
			continue // junk, and a file manager's .trashinfo, are not the user's
		}
		file := view + "/" + name
		if f.opts.RejectDir == "" {
			f.log.Warn("a file written in the mount is lost at unmount (no directory to keep it in)", "file", file)
			continue
		}
		dst, err := f.keepScratchFile(n, view, name)
		if err != nil {
			f.log.Error("could not keep a file written in the mount", "file", file, "err", err)
			continue
		}
		f.log.Warn("kept a file written in the mount that is not a paper (view directories hold papers only)", "file", file, "kept", dst)
	}
}

// keepScratchFile copies scratch file n, name in view, into the rejected
// folder, without holding it in memory.
func (f *FS) keepScratchFile(n *Sidecar, view, name string) (string, error) {
	if err := os.MkdirAll(f.opts.RejectDir, 0o700); err != nil {
		return "", err
	}
	dst := filepath.Join(f.opts.RejectDir, time.Now().UTC().Format("20060102T150405")+"-"+strings.ReplaceAll(view, "/", "_")+"-"+name)
	w, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	err = n.copyScratch(w)
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(dst)
		return "", err
	}
	f.trimRejected(dst)
	return dst, nil
}

// scratchIn returns the scratch node name in view v, or nil.
func (f *FS) scratchIn(v, name string) Node {
	f.scratchMu.Lock()
	defer f.scratchMu.Unlock()
	return f.scratchFiles[v][name]
}

// ScratchCount is the number of scratch files in view v: a frontend must
// not forget a directory that holds some.
func (f *FS) ScratchCount(v meta.View) int {
	f.scratchMu.Lock()
	defer f.scratchMu.Unlock()
	return len(f.scratchFiles[v.String()])
}

// setScratchIn lists n as name in view v; nil removes the name.
func (f *FS) setScratchIn(v, name string, n Node) {
	f.scratchMu.Lock()
	defer f.scratchMu.Unlock()
	m := f.scratchFiles[v]
	if n == nil {
		delete(m, name)
		if len(m) == 0 {
			delete(f.scratchFiles, v)
		}
		return
	}
	if m == nil {
		if f.scratchFiles == nil {
			f.scratchFiles = map[string]map[string]Node{}
		}
		m = map[string]Node{}
		f.scratchFiles[v] = m
	}
	m[name] = n
}

// renameScratchView moves the scratch files of view from to view to, when
// a tag or folder is renamed.
func (f *FS) renameScratchView(from, to string) {
	f.scratchMu.Lock()
	defer f.scratchMu.Unlock()
	if m, ok := f.scratchFiles[from]; ok {
		delete(f.scratchFiles, from)
		if f.scratchFiles[to] == nil {
			f.scratchFiles[to] = m
		}
	}
}
