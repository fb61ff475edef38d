package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"
)

// WatchOptions tune Watch.
type WatchOptions struct {
	// Debounce is how long changes must settle before a scan; cloud drives
	// deliver a file in many writes. Zero means 500ms.
	Debounce time.Duration
	// Every is the period of a full rescan that catches what the
	// filesystem's notifications miss (network filesystems, overflowed
	// queues). Zero means 5 minutes.
	Every time.Duration
	// Retry is how often the library folder is looked for while it is not
	// available, to rescan as soon as it is back. Zero means 2 seconds.
	Retry time.Duration
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
// rescans when the folder reports changes (inotify on Linux, kqueue on
// macOS, ReadDirectoryChangesW on Windows, through fsnotify), and
// periodically. It returns when ctx is cancelled; errors are logged, never
// fatal. A library folder that disappears (an unplugged drive, a cloud
// drive restarting) leaves the papers as they were (see FolderState); it
// is looked for every Retry and rescanned as soon as it is back.
func (l *Library) Watch(ctx context.Context, opts WatchOptions) error {
	if opts.Debounce == 0 {
		opts.Debounce = 500 * time.Millisecond
	}
	if opts.Every == 0 {
		opts.Every = 5 * time.Minute
	}
	if opts.Retry == 0 {
		opts.Retry = 2 * time.Second
	}
	fw, err := fsnotify.NewWatcher()
	if err != nil {
		return fmt.Errorf("watching the library folder %s: %w", l.Root, err)
	}
	events := make(chan struct{}, 1)
	var readers sync.WaitGroup
	readers.Add(1)
	go func() {
		defer readers.Done()
		forward(fw, events)
	}()
	defer func() {
		fw.Close() // ends forward
		readers.Wait()
	}()
	w := &watcher{l: l, fw: fw}

	var retry <-chan time.Time
	wasAvailable := true
	scan := func() {
		rep, err := l.scan(ctx, nil, opts.BeforeNew)
		switch {
		case errors.Is(err, ErrUnavailable):
			if wasAvailable {
				l.log.Warn("library folder not available; papers kept as they are until it is back", "folder", l.Root, "err", err)
			}
			wasAvailable = false
			retry = time.After(opts.Retry)
		case err != nil && !errors.Is(err, context.Canceled):
			l.log.Error("library scan", "folder", l.Root, "err", err)
		default:
			if !wasAvailable {
				l.log.Info("library folder is back", "folder", l.Root)
			}
			wasAvailable = true
			retry = nil
			if len(rep.New)+rep.Moved+rep.Missing+rep.Returned+rep.Changed+rep.Merged+len(rep.Cleaned) > 0 {
				l.log.Info("library changed", "new", len(rep.New), "moved", rep.Moved, "missing", rep.Missing,
					"returned", rep.Returned, "changed", rep.Changed, "merged", rep.Merged, "cleaned", len(rep.Cleaned))
			}
		}
		if opts.OnScan != nil {
			opts.OnScan(rep, err)
		}
		if err == nil {
			w.addTree(ctx) // pick up new folders, or the root coming back
		}
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
		case <-retry:
			retry = nil
			if _, err := l.dir.Lstat("."); err == nil {
				scan()
			} else {
				retry = time.After(opts.Retry)
			}
		case <-tick.C:
			scan()
		}
	}
}

// watcher adds the library's folders to an fsnotify watcher.
type watcher struct {
	l  *Library
	fw *fsnotify.Watcher
}

// addTree watches every folder of the library (notifications are not
// recursive), skipping hidden ones. Adding a watch twice is harmless.
func (w *watcher) addTree(ctx context.Context) {
	w.l.dir.Walk(ctx, func(rel string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return nil
		}
		if rel != "." && strings.HasPrefix(d.Name(), ".") {
			return fs.SkipDir
		}
		if err := w.fw.Add(w.l.Abs(rel)); err != nil {
			w.l.log.Debug("watching a folder of the library", "folder", w.l.Abs(rel), "err", err)
		}
		return nil
	})
}

// forward signals events (any change, or a lost one: an overflowed queue)
// until fw is closed.
func forward(fw *fsnotify.Watcher, events chan<- struct{}) {
	for {
		select {
		case _, ok := <-fw.Events:
			if !ok {
				return
			}
		case _, ok := <-fw.Errors:
			if !ok {
				return
			}
		}
		select {
		case events <- struct{}{}:
		default:
		}
	}
}
