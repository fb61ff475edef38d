package fs

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// scratchContent is a scratch file's content. It is on disk, in a file of
// the view's scratch directory (Options.ScratchDir) that is removed as
// soon as it is open, so what editors and users write into views takes
// no memory, and nothing is left behind when the mount is killed (a user's
// own file written into a view is kept at a clean unmount only, as
// before). The descriptor closes when the content is dropped (os.File's
// cleanup). Its methods are called with the node's mu held.
type scratchContent struct {
	file  *os.File // nil while it has never held anything
	size  int64
	mode  fs.FileMode // permission bits
	mtime time.Time
}

// DefaultMaxScratch bounds a scratch file (Options.MaxScratch): editors'
// temporaries are a sidecar's size, and a large file of one's own belongs
// in the library folder, not in a view, where it would fill the data
// dir's disk, which the database needs.
const DefaultMaxScratch = 1 << 30

func (f *FS) maxScratch() int64 {
	if f.opts.MaxScratch > 0 {
		return f.opts.MaxScratch
	}
	return DefaultMaxScratch
}

// scratchFile makes the nameless file a scratch file's content goes to.
func (f *FS) scratchFile() (*os.File, error) {
	dir, err := f.scratchDirectory()
	if err != nil {
		return nil, err
	}
	w, err := os.CreateTemp(dir, "scratch-*")
	if err != nil {
		return nil, fmt.Errorf("scratch file: %w", err)
	}
	os.Remove(w.Name()) // Windows keeps an open file's name: Close removes the directory
	return w, nil
}

// scratchDirectory is this view's private directory for scratch files,
// made on first use inside Options.ScratchDir (or the system's temporary
// directory) and removed by Close.
func (f *FS) scratchDirectory() (string, error) {
	f.scratchDirMu.Lock()
	defer f.scratchDirMu.Unlock()
	if f.scratchDir != "" {
		return f.scratchDir, nil
	}
	parent := f.opts.ScratchDir
	if parent != "" {
		if err := os.MkdirAll(parent, 0o700); err != nil {
			return "", fmt.Errorf("scratch directory: %w", err)
		}
		// Directories of killed runs: their files had no names.
		if old, _ := filepath.Glob(filepath.Join(parent, "run-*")); old != nil {
			for _, d := range old {
				os.Remove(d)
			}
		}
	}
	pattern := "run-*"
	if parent == "" {
		pattern = "paperfs-scratch-*"
	}
	dir, err := os.MkdirTemp(parent, pattern)
	if err != nil {
		return "", fmt.Errorf("scratch directory: %w", err)
	}
	f.scratchDir = dir
	return dir, nil
}

// removeScratchDir removes the private scratch directory (Close).
func (f *FS) removeScratchDir() {
	f.scratchDirMu.Lock()
	defer f.scratchDirMu.Unlock()
	if f.scratchDir != "" {
		os.RemoveAll(f.scratchDir)
		f.scratchDir = ""
	}
}

func (c *scratchContent) readAt(buf []byte, off int64) ([]byte, error) {
	if off >= c.size {
		return nil, nil
	}
	buf = buf[:min(int64(len(buf)), c.size-off)]
	if c.file == nil { // truncated up, never written
		clear(buf)
		return buf, nil
	}
	n, err := c.file.ReadAt(buf, off)
	if err == io.EOF {
		err = nil
	}
	return buf[:n], err
}

func (c *scratchContent) writeAt(f *FS, data []byte, off int64) error {
	if c.file == nil {
		if len(data) == 0 {
			return nil
		}
		w, err := f.scratchFile()
		if err != nil {
			return err
		}
		c.file = w
		if c.size > 0 { // truncated up before the first write
			if err := w.Truncate(c.size); err != nil {
				return err
			}
		}
	}
	if _, err := c.file.WriteAt(data, off); err != nil {
		return err
	}
	c.size = max(c.size, off+int64(len(data)))
	c.mtime = time.Now()
	return nil
}

func (c *scratchContent) truncate(size int64) error {
	if c.file != nil {
		if err := c.file.Truncate(size); err != nil {
			return err
		}
	}
	c.size = size
	c.mtime = time.Now()
	return nil
}

// bytes is the whole content, which must be at most limit bytes long.
func (c *scratchContent) bytes(limit int64, tooLarge func() error) ([]byte, error) {
	if c.size > limit {
		return nil, tooLarge()
	}
	b := make([]byte, c.size)
	if c.file == nil {
		return b, nil
	}
	n, err := c.file.ReadAt(b, 0)
	if err == io.EOF {
		err = nil
	}
	return b[:n], err
}

// copyTo writes the content to w without holding it in memory.
func (c *scratchContent) copyTo(w io.Writer) error {
	if c.file == nil {
		return nil
	}
	_, err := io.Copy(w, io.NewSectionReader(c.file, 0, c.size))
	return err
}
