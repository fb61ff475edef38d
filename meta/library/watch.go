package library

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// WatchOptions tune Watch.
type WatchOptions struct {
	// Debounce is how long changes must settle before a scan; cloud drives
	// deliver a file in many writes. Zero means 500ms.
	Debounce time.Duration
	// Every is the period of a full rescan that catches what inotify misses
	// (network filesystems, overflowed queues). Zero means 5 minutes.
	Every time.Duration
	// OnScan is called after each scan (tests use it).
	OnScan func(ScanReport, error)
	// BeforeNew, if set, is called when a scan finds a PDF that is no
	// paper's, before it is indexed; the scan then matches the folder
	// against the store as it is afterwards. A mount with sync waits
	// there (bounded) for a sync round, so a record another device made
	// for the same PDF arrives first. It must return when ctx ends.
	BeforeNew func(ctx context.Context)
}

// Watch keeps the store in line with the library folder until ctx ends: it
// rescans when inotify reports changes, and periodically. It returns when
// ctx is cancelled; errors are logged, never fatal, so a library folder that
// disappears (an unplugged drive) leaves the view as it was until it returns.
func (l *Library) Watch(ctx context.Context, opts WatchOptions) error {
	if opts.Debounce == 0 {
		opts.Debounce = 500 * time.Millisecond
	}
	if opts.Every == 0 {
		opts.Every = 5 * time.Minute
	}
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		return err
	}
	events := make(chan struct{}, 1)
	readerDone := make(chan struct{})
	f := os.NewFile(uintptr(fd), "inotify")
	w := &watcher{l: l, fd: fd}
	w.addTree(l.Root)
	go func() {
		defer close(readerDone)
		w.read(f, events)
	}()
	defer func() {
		f.Close() // unblocks the reader
		<-readerDone
	}()

	scan := func() {
		rep, err := l.scan(ctx, nil, opts.BeforeNew)
		if err != nil && !errors.Is(err, context.Canceled) {
			l.log.Error("library scan", "folder", l.Root, "err", err)
		} else if len(rep.New)+rep.Moved+rep.Missing+rep.Returned+rep.Changed+rep.Merged > 0 {
			l.log.Info("library changed", "new", len(rep.New), "moved", rep.Moved, "missing", rep.Missing,
				"returned", rep.Returned, "changed", rep.Changed, "merged", rep.Merged)
		}
		if opts.OnScan != nil {
			opts.OnScan(rep, err)
		}
		w.addTree(l.Root) // pick up new folders, or the root coming back
	}
	// Papers arriving from other devices may be PDFs this device indexed
	// too before they synced: merge them as they arrive, not at the next
	// scan.
	sub := l.store.Subscribe()
	defer sub.Close()
	changes := sub.C
	var merge <-chan time.Time
	scan()
	tick := time.NewTicker(opts.Every)
	defer tick.Stop()
	var settle <-chan time.Time
	for {
		select {
		case <-ctx.Done():
			return nil
		case ch, ok := <-changes:
			if !ok {
				changes = nil
				continue
			}
			if ch.Remote && ch.Before == nil && ch.After != nil && ch.After.File.SHA256 != "" && merge == nil {
				merge = time.After(opts.Debounce)
			}
		case <-merge:
			merge = nil
			if n, err := l.MergeDuplicates(); err != nil {
				l.log.Error("merging papers indexed on two devices", "err", err)
			} else if n > 0 {
				l.log.Info("library changed", "merged", n)
			}
		case <-events:
			settle = time.After(opts.Debounce)
		case <-settle:
			settle = nil
			scan()
		case <-tick.C:
			scan()
		}
	}
}

type watcher struct {
	l  *Library
	fd int
}

const watchMask = unix.IN_CREATE | unix.IN_CLOSE_WRITE | unix.IN_MOVED_FROM | unix.IN_MOVED_TO |
	unix.IN_DELETE | unix.IN_DELETE_SELF | unix.IN_MOVE_SELF | unix.IN_ATTRIB

// addTree watches every folder of the library (inotify is not recursive).
// Adding a watch twice is harmless.
func (w *watcher) addTree(root string) {
	filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if path != root && strings.HasPrefix(d.Name(), ".") {
			return filepath.SkipDir
		}
		unix.InotifyAddWatch(w.fd, path, watchMask)
		return nil
	})
}

// read signals events until f is closed.
func (w *watcher) read(f *os.File, events chan<- struct{}) {
	buf := make([]byte, 64<<10)
	for {
		n, err := f.Read(buf)
		if err != nil {
			if errors.Is(err, os.ErrClosed) {
				return
			}
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return
		}
		if n > 0 {
			select {
			case events <- struct{}{}:
			default:
			}
		}
	}
}
