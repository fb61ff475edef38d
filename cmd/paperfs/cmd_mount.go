//go:build !windows

package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/fs/fuse"
)

type mountOptions struct {
	NoPassthrough bool
	NoNotify      bool
	// NoNotifications sends no desktop notifications of refusals.
	NoNotifications bool
	AllowOther      bool
	ForgetIdle      time.Duration
	MaxInodes       int
	// WebDAV serves the same view over WebDAV from the mount's process
	// (a second process cannot open the store).
	WebDAV       string
	Cert, Key    string
	InsecureHTTP bool
}

func newMountCommand(g *globalOptions) *cobra.Command {
	var opts mountOptions
	cmd := &cobra.Command{
		Use:   "mount MOUNTPOINT",
		Short: "Mount the library (runs in the foreground; Ctrl-C unmounts)",
		Long: `Mount the library on MOUNTPOINT, an empty directory, and keep it mounted
until interrupted (Ctrl-C, SIGTERM) or unmounted with 'paperfs unmount'.

The mount shows all/, tags/<tag>/, authors/<author>/, years/<year>/,
folders/<folder>/, untagged/, trash/ and missing/ (papers whose PDF is not in
this device's library folder). PDFs added to, moved in or removed from the
library folder show up without a restart.

The shared libraries of the config file ("libraries") show under
shared/<name>/, each with its own views, sync and .paperfs/errors; copying a
PDF between libraries imports it with its metadata.

As root the filesystem is mounted directly; other users need fusermount3
(Debian/Ubuntu: apt-get install fuse3).`,
		Example: `  paperfs --library ~/Papers mount ~/papers`,
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMount(cmd.Context(), g, opts, args)
		},
	}
	cmd.Flags().BoolVar(&opts.NoPassthrough, "no-passthrough", false, "serve PDF bytes through FUSE reads instead of kernel passthrough")
	cmd.Flags().BoolVar(&opts.NoNotify, "no-notify", false,
		"send the kernel no change notifications and keep its caches short instead, as on macOS (macFUSE has none); implies --no-passthrough")
	cmd.Flags().BoolVar(&opts.NoNotifications, "no-notifications", false,
		"show refused changes (a save the metadata rules refuse, a folder made where none can be) only in the log, not as desktop notifications (config: mount.no_notifications)")
	cmd.Flags().BoolVar(&opts.AllowOther, "allow-other", false, "let other users of this machine in: they may read what the modes shown allow (PDFs as in the library folder, metadata readable) and change nothing; the kernel enforces it (default_permissions). Needs user_allow_other in /etc/fuse.conf unless run as root")
	cmd.Flags().DurationVar(&opts.ForgetIdle, "forget-idle", fuse.DefaultIdleForget,
		"ask the kernel to forget the names in a view directory unused this long, so views listed once do not hold memory (0: never)")
	cmd.Flags().IntVar(&opts.MaxInodes, "max-inodes", fuse.DefaultMaxInodes,
		"past this many inodes of papers' files and group directories (about 0.5 KB each), forget the names of the least recently used view directories at once (0: no bound)")
	cmd.Flags().StringVar(&opts.WebDAV, "webdav", "",
		"also serve the library over WebDAV at this address, e.g. 127.0.0.1:8080 (see paperfs serve webdav --help)")
	cmd.Flags().StringVar(&opts.Cert, "webdav-cert", "", "TLS certificate file for --webdav")
	cmd.Flags().StringVar(&opts.Key, "webdav-key", "", "TLS key file for --webdav")
	cmd.Flags().BoolVar(&opts.InsecureHTTP, "webdav-insecure-http", false, "serve --webdav on a non-loopback address without TLS")
	return cmd
}

func runMount(ctx context.Context, g *globalOptions, opts mountOptions, args []string) error {
	cfg, _, _, err := resolve(g)
	if err != nil {
		return err
	}
	dir := expandHome(cfg.Mount.Mountpoint)
	if len(args) == 1 {
		dir = args[0]
	}
	if dir == "" {
		return fmt.Errorf("%w: paperfs mount MOUNTPOINT (or set mount.mountpoint in %s)", errUsage, configPath())
	}
	// Check the mountpoint before opening anything, so a mistake costs nothing.
	if err := fuse.CheckMountpoint(dir); err != nil {
		return err
	}
	if _, lib, dataDir, err := resolve(g); err == nil {
		if err := checkMountpointPlace(dir, lib, dataDir); err != nil {
			return err
		}
	}
	// A mount is a long-lived process whose heap is mostly data that lives
	// as long as it does (the store, the kernel's inodes). With an inode
	// bound, the heap limit (memlimit.go) holds memory to the budget, so
	// the collector runs at 100% growth below it: a lower setting only
	// makes it run more often while the first listing fills the heap, for
	// no saving in memory. Without a bound, 50% keeps resident memory
	// markedly lower than 100% for little CPU. $GOGC overrides. (Figures:
	// docs/benchmarks.md, "Figures behind the code's tuning".)
	//
	// No collection until the mount answers: the store's heap is all live,
	// and the first collection after loading it, marking all of it, would
	// only delay the mount. openApp keeps it off while it loads the store
	// and leaves it as it found it.
	gc := debug.SetGCPercent(-1)
	gcDefault := os.Getenv("GOGC") == ""
	if gcDefault {
		gc = 50
	}
	start := time.Now()
	a, err := openAppWith(g, appOptions{prefault: true})
	if err != nil {
		debug.SetGCPercent(gc)
		return err
	}
	defer a.close()
	// The shared libraries (the config's "libraries"), each under
	// shared/<name>/ with its own store, sync and views.
	libs := openSharedLibraries(g, a.cfg, a.log)
	apps := []*app{a}
	for _, l := range libs {
		defer l.app.close()
		if err := checkMountpointPlace(dir, l.app.lib.Root, l.app.dataDir); err != nil {
			debug.SetGCPercent(gc)
			return err
		}
		apps = append(apps, l.app)
	}
	opened := time.Since(start)

	var onRefusal func(fs.Rejection)
	if !opts.NoNotifications && !cfg.Mount.NoNotifications {
		if notes := newNotifier(a.log); notes != nil {
			defer notes.close() // after view.Close: the view's last refusals are sent
			onRefusal = notes.refusal
		}
	}
	view := fs.New(a.store, a.viewOptions(onRefusal, othersThan(a, apps)))
	defer view.Close()
	fuseOpts := fuse.Options{
		NoPassthrough: opts.NoPassthrough || cfg.Mount.NoPassthrough,
		NoNotify:      opts.NoNotify,
		IdleForget:    forgetIdle(opts.ForgetIdle),
		MaxInodes:     maxInodes(opts.MaxInodes),
		// After the kernel forgot many inodes, hand the memory they held
		// back: an idle mount allocates too little to collect it soon.
		Released: debug.FreeOSMemory,
	}
	fsys := fuse.New(view, fuseOpts)
	sharedFS := map[*servedLibrary]*fuse.FS{}
	for _, l := range libs {
		l.view = fs.New(l.app.store, l.app.viewOptions(onRefusal, othersThan(l.app, apps)))
		defer l.view.Close()
		sharedFS[l] = fuse.New(l.view, fuseOpts)
		if err := fsys.AddShared(l.name, sharedFS[l]); err != nil {
			debug.SetGCPercent(gc)
			return err
		}
	}
	m, err := fsys.Mount(dir, fuse.MountOptions{Debug: g.Debug, AllowOther: opts.AllowOther || cfg.Mount.AllowOther})
	err = withMountHint(err, opts.AllowOther || cfg.Mount.AllowOther)
	// Every library of the mount holds up to the bound's inodes, all in
	// this process's heap: the limiter budgets for them all.
	served := []*fuse.FS{fsys}
	for _, l := range libs {
		served = append(served, sharedFS[l])
	}
	bound := 0
	for _, f := range served {
		_, b := f.Inodes()
		bound += b
	}
	limiter := newHeapLimiter(bound, func() int {
		held := 0
		for _, f := range served {
			h, _ := f.Inodes()
			held += h
		}
		return held
	})
	if gcDefault && limiter.active() {
		gc = 100
	}
	debug.SetGCPercent(gc)
	if err != nil {
		return err
	}
	a.log.Info("mounted", "mountpoint", dir, "library", a.lib.Root, "database", a.store.Path(),
		"store_open", opened.Round(time.Millisecond), "took", time.Since(start).Round(time.Millisecond))

	// Background work, owned here: stopped and waited for before unmount
	// returns.
	bg, stopBG := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	stopSync, err := a.runLibrary(bg, &wg, g, lastUse(fsys))
	if err != nil {
		stopBG()
		m.Unmount()
		return err
	}
	// Commands run beside the mount run in it (remote_cli.go); from now
	// on, so a sync command finds the engine running.
	stopCLI := a.serveCLI()
	defer stopCLI()
	mounted := time.Now()
	stopShared := serveShared(bg, g, libs,
		func(l *servedLibrary) *mountInfo {
			return &mountInfo{Dir: filepath.Join(absPath(dir), fs.SharedDir, l.name), PID: os.Getpid(), Since: mounted}
		},
		func(l *servedLibrary) func() time.Time { return lastUse(sharedFS[l]) },
		func(l *servedLibrary) frontend { return sharedFS[l] })
	stopDAV := func() {}
	if opts.WebDAV != "" {
		if stopDAV, err = serveWebDAV(a, view, libs, webdavOptions{Addr: opts.WebDAV, Cert: opts.Cert, Key: opts.Key, InsecureHTTP: opts.InsecureHTTP}); err != nil {
			stopBG()
			wg.Wait()
			stopShared()
			stopSync()
			m.Unmount()
			return err
		}
	}
	wg.Add(2)
	go func() {
		defer wg.Done()
		limiter.run(bg, time.Second)
	}()
	go func() {
		defer wg.Done()
		publishStatus(bg, a, &mountInfo{Dir: absPath(dir), PID: os.Getpid(), Since: time.Now()}, view, fsys)
	}()
	select {
	case <-ctx.Done():
		a.log.Info("unmounting", "mountpoint", dir)
		unmountWhenFree(a.log, m, dir)
	case <-m.Done():
		a.log.Info("unmounted from outside", "mountpoint", dir)
	}
	stopDAV()
	stopBG()
	wg.Wait()
	stopShared()
	if err := stopSync(); err != nil {
		a.log.Warn("stopping sync", "err", err)
	}
	removeStatus(a)
	writeHeapProfile(a)
	return m.Unmount()
}

// unmountRetry is how often a busy mount is tried again.
const unmountRetry = time.Second

// unmountWhenFree unmounts once no program uses the mount, serving it
// meanwhile, so Ctrl-C never leaves a dead mount ("Transport endpoint is
// not connected") under a shell or a file manager, nor loses what they
// are writing. It logs what holds the mount whenever that changes. A
// second signal detaches the mount lazily: the name goes at once, and the
// files still open are served until they are closed.
func unmountWhenFree(log *slog.Logger, m *fuse.Mount, dir string) {
	again := make(chan os.Signal, 1)
	signal.Notify(again, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(again)
	retry := time.NewTicker(unmountRetry)
	defer retry.Stop()
	said := ""
	for {
		err := m.TryUnmount()
		if err == nil {
			return
		}
		if !errors.Is(err, syscall.EBUSY) {
			log.Warn("unmount failed; retrying", "mountpoint", dir, "err", err)
		}
		if held := describeHolders(mountHolders(dir)); held != said {
			log.Warn("the mount is in use: it keeps serving and unmounts as soon as it is free; close these, or press Ctrl-C again to detach it now (open files keep working until closed)",
				"mountpoint", dir, "held_by", held)
			said = held
		}
		select {
		case <-m.Done():
			return
		case <-again:
			if err := m.Detach(); err != nil {
				log.Error("could not detach the mount", "mountpoint", dir, "err", err)
				continue
			}
			log.Info("detached the mount; files still open are served until they are closed", "mountpoint", dir)
			<-m.Done()
			return
		case <-retry.C:
		}
	}
}

// lastUse says when the mount last served a request, from its counters:
// sync polls fast while it is in use (see psync.Config.InUse).
func lastUse(fsys *fuse.FS) func() time.Time {
	var mu sync.Mutex
	var sum int64
	var at time.Time
	return func() time.Time {
		n := fsys.Stats.Lookups.Load() + fsys.Stats.Readdirs.Load() + fsys.Stats.OpensPDF.Load() + fsys.Stats.Reads.Load() +
			fsys.Stats.Opens.Load()
		mu.Lock()
		defer mu.Unlock()
		if n != sum {
			sum, at = n, time.Now()
		}
		return at
	}
}

// maxInodes maps the flag's 0 (no bound) to fs.Options' negative.
func maxInodes(n int) int {
	if n <= 0 {
		return -1
	}
	return n
}

// forgetIdle maps the flag's 0 (never) to fs.Options' negative.
func forgetIdle(d time.Duration) time.Duration {
	if d <= 0 {
		return -1
	}
	return d
}

func newUnmountCommand() *cobra.Command {
	return &cobra.Command{
		Use:     "unmount MOUNTPOINT",
		Short:   "Unmount a paperfs mount",
		Example: `  paperfs unmount ~/papers`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return fuse.Unmount(args[0])
		},
	}
}

// writeHeapProfile saves a heap profile at unmount when
// PAPERFS_HEAPPROFILE names a file: how the memory benchmark is explained.
func writeHeapProfile(a *app) {
	path := os.Getenv("PAPERFS_HEAPPROFILE")
	if path == "" {
		return
	}
	f, err := os.Create(path)
	if err != nil {
		a.log.Warn("heap profile", "err", err)
		return
	}
	defer f.Close()
	runtime.GC()
	pprof.WriteHeapProfile(f)
}

// checkMountpointPlace refuses a mountpoint inside the library folder (the
// cloud drive would upload every view, and paperfs would index its own
// files) or one holding the library or the database.
func checkMountpointPlace(dir, lib, dataDir string) error {
	mnt, libDir, data := realPath(dir), realPath(lib), realPath(dataDir)
	switch {
	case inside(mnt, libDir):
		return fmt.Errorf("mountpoint %s is inside the library folder %s: the cloud drive would sync the mount's views and paperfs would index its own files; mount outside it (e.g. ~/papers)", dir, lib)
	case inside(libDir, mnt):
		return fmt.Errorf("mountpoint %s holds the library folder %s, which the mount would hide; mount somewhere else (e.g. ~/papers)", dir, lib)
	case inside(data, mnt):
		return fmt.Errorf("mountpoint %s holds the database directory %s, which the mount would hide; mount somewhere else", dir, dataDir)
	}
	return nil
}
