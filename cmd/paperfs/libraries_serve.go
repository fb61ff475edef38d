package main

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"time"

	"github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	psync "github.com/paperfs/paperfs/sync"
)

// engineWritable says whether this device's database user may write the
// library an engine syncs: nil when it may, else why not ("read-only: your
// database user may only read <db>", or the server refused the
// credentials). A variable so tests can stand in for an engine.
var engineWritable = (*psync.Engine).Writable

// readOnly is the view's Options.ReadOnly and the library's check
// (library.SetReadOnly): why this device may not write the library, or
// nil. Only a database user the server lets read and not write makes a
// library read-only, as the running engine knows it or, in a command with
// no engine running, as the store recorded it. A login the server refuses
// (a wrong password, a removed user) stops sync, not the user: edits are
// kept here as offline ones are, and sent once the login works again.
// Without a server nothing stops a write.
func (a *app) readOnly() error {
	var err error
	if eng := a.syncing.Load(); eng != nil {
		err = engineWritable(eng)
	} else if a.cfg != nil && a.store != nil && a.cfg.MongoDB.URI != "" {
		err = psync.StoredWritable(a.store, psync.Config{URI: a.cfg.MongoDB.URI, Database: a.cfg.MongoDB.Database})
	}
	if errors.Is(err, psync.ErrReadOnly) {
		return err
	}
	return nil
}

// servedLibrary is a shared library served beside the personal one: its
// app and view, and what its frontend is.
type servedLibrary struct {
	name string
	app  *app
	view *fs.FS
}

// openSharedLibraries opens the config's shared libraries for a process
// serving the personal one. A library that cannot be opened (its folder
// not there, its store held by another process) is logged and left out:
// the others are served. The caller closes each app.
func openSharedLibraries(g *globalOptions, cfg *Config, log interface {
	Error(msg string, args ...any)
}) []*servedLibrary {
	var out []*servedLibrary
	for _, l := range cfg.Libraries {
		sg := &globalOptions{Library: l.Name, DataDir: g.DataDir, Debug: g.Debug, Offline: g.Offline}
		a, err := openAppWith(sg, appOptions{})
		if err != nil {
			log.Error("the shared library cannot be served; the others are", "library", l.Name, "err", err)
			continue
		}
		a.log = a.log.With("library", l.Name)
		out = append(out, &servedLibrary{name: l.Name, app: a})
	}
	return out
}

// viewOptions are the options of a served library's view: its folder and
// store, the read-only check, and the other libraries (others) to carry a
// copied paper's metadata from.
func (a *app) viewOptions(onRefusal func(fs.Rejection), others []*app) fs.Options {
	return fs.Options{
		Library:    a.lib.Root,
		Logger:     a.log,
		RejectDir:  filepath.Join(a.dataDir, "rejected"),
		ScratchDir: filepath.Join(a.dataDir, "scratch"),
		Folder:     a.lib,
		OnRefusal:  onRefusal,
		ReadOnly:   a.readOnly,
		Origin:     originIn(others),
	}
}

// originIn finds the paper whose PDF has a given content in one of the
// libraries, the first that has one not trashed.
func originIn(libs []*app) func(string) (meta.Paper, bool) {
	return func(sum string) (meta.Paper, bool) {
		for _, o := range libs {
			ids, err := o.store.ByHash(sum)
			if err != nil {
				continue
			}
			for _, id := range ids {
				if p, err := o.store.Get(id); err == nil && p.Trashed == nil && p.MergedInto == "" {
					return p, true
				}
			}
		}
		return meta.Paper{}, false
	}
}

// othersThan is every app of all but a.
func othersThan(a *app, all []*app) []*app {
	var out []*app
	for _, o := range all {
		if o != a {
			out = append(out, o)
		}
	}
	return out
}

// serveShared starts, for each shared library, what the personal one runs
// while served: the commands run beside it, sync, the folder's watch,
// backups and, given mi (a mount's), the status file. A library whose
// sync cannot start is logged; the others go on. stop stops them all,
// waiting for them.
func serveShared(bg context.Context, g *globalOptions, libs []*servedLibrary, mi func(l *servedLibrary) *mountInfo,
	inUse func(l *servedLibrary) func() time.Time, fsys func(l *servedLibrary) frontend) (stop func()) {
	var wg sync.WaitGroup
	var stops []func()
	for _, l := range libs {
		stopSync, err := l.app.runLibrary(bg, &wg, g, inUse(l))
		if err != nil {
			l.app.log.Error("the shared library is served without sync", "err", err)
			stopSync = func() error { return nil }
		}
		stopCLI := l.app.serveCLI() // after runLibrary: a sync command finds the engine
		if mi != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				publishStatus(bg, l.app, mi(l), l.view, fsys(l))
			}()
		}
		stops = append(stops, func() {
			stopCLI()
			if err := stopSync(); err != nil {
				l.app.log.Warn("stopping sync", "err", err)
			}
			removeStatus(l.app)
		})
	}
	return func() {
		wg.Wait() // bg is cancelled: the background work ends
		for _, s := range stops {
			s()
		}
	}
}
