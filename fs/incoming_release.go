package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/paperfs/paperfs/meta"
)

func writable(flags int) bool { return flags&(os.O_WRONLY|os.O_RDWR) != 0 }

// Release is called when a handle opened with flags (Open) is closed for
// good (FUSE RELEASE, the end of a WebDAV request). When the last writer
// lets go of a copy that is still empty, nothing was copied: a 0-byte PDF
// is refused with the reason (logged, in .paperfs/errors) and its name
// leaves the view. This is decided here, not at each close (Finish), as
// a file manager creates a file and writes it through the same
// descriptor, and `touch x.pdf` then a later write creates it again.
func (n *Incoming) Release(flags int) {
	if !writable(flags) {
		return
	}
	n.mu.Lock()
	n.writers--
	last := n.writers == 0 && !n.begun && !n.dropped
	n.mu.Unlock()
	if !last {
		return
	}
	if st, err := os.Stat(n.path()); err != nil || st.Size() != 0 {
		return // moved away, or content not handed over (a WebDAV upload cut off)
	}
	n.mu.Lock()
	if n.writers != 0 || n.begun || n.dropped {
		n.mu.Unlock()
		return // opened again meanwhile
	}
	n.dropped = true
	d, name := n.dir, n.name
	n.mu.Unlock()
	f := n.fs
	if f.scratchIn(d.View.String(), name) == Node(n) {
		f.setScratchIn(d.View.String(), name, nil)
	}
	os.RemoveAll(filepath.Dir(n.path()))
	f.invalidate(d.View, name)
	file := d.path(name)
	err := fmt.Errorf("%s is empty: nothing was copied; copy the PDF again: %w", file, meta.ErrInvalid)
	f.log.Error("a file copied in was refused", "file", file, "problem", err)
	f.addRejection(Rejection{Time: time.Now(), File: file, Problem: err.Error()})
}

// path is where the copy is written.
func (n *Incoming) path() string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.tmp
}

// revive makes a dropped copy a copy again when it is opened for writing:
// a frontend that still holds the name (the kernel's cache) opens it for
// the write that follows touch x.pdf, which is a new copy, under the
// name, if nothing else took it meanwhile.
func (n *Incoming) revive() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if !n.dropped || n.begun {
		return nil
	}
	d, name := n.dir, n.name
	if other := n.fs.scratchIn(d.View.String(), name); other != nil {
		return errNotFound(d.path(name))
	}
	w, err := n.fs.incomingFile(name)
	if err != nil {
		return fmt.Errorf("copying %s in: %w", d.path(name), err)
	}
	w.Close()
	n.tmp, n.dropped = w.Name(), false
	n.fs.setScratchIn(d.View.String(), name, n)
	return nil
}

// discard drops a copy deleted before it was handed over (rm of a PDF
// being copied in, or of one touched and never written): nothing of it
// stays in the library folder.
func (n *Incoming) discard() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.begun || n.dropped {
		return
	}
	n.dropped = true
	os.RemoveAll(filepath.Dir(n.tmp)) // n.mu is held
}
