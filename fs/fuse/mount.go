//go:build linux || darwin

package fuse

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	gofs "github.com/hanwen/go-fuse/v2/fs"
	gofuse "github.com/hanwen/go-fuse/v2/fuse"
)

// MountOptions are the mount's own settings.
type MountOptions struct {
	// Debug logs every FUSE request (go-fuse's request log).
	Debug bool
	// AllowOther lets other users use the mount (needs user_allow_other
	// in /etc/fuse.conf for non-root users). The kernel then checks every
	// access against the modes and owners shown (default_permissions):
	// PDFs as they are in the library folder, and the view's directories,
	// sidecars and .bib files as the mount's owner's, which others may
	// read but not change. Without it only the mount's owner gets in.
	AllowOther bool
}

// Mount is a mounted filesystem. Its owner must call Unmount.
type Mount struct {
	Dir    string
	server *gofuse.Server
	cancel context.CancelFunc
	wg     sync.WaitGroup // the forget goroutine
	done   chan struct{}  // closed when the server stops serving
}

// Done is closed when the filesystem is no longer served, whether Unmount
// was called or it was unmounted from outside (paperfs unmount, umount).
func (m *Mount) Done() <-chan struct{} { return m.done }

// CheckMountpoint verifies dir can take a mount: an existing, empty
// directory that is not already a mountpoint.
func CheckMountpoint(dir string) error {
	st, err := os.Stat(dir)
	if err != nil {
		if errors.Is(err, syscall.ENOTCONN) {
			return fmt.Errorf("mountpoint %s: a dead FUSE mount is still attached; run: paperfs unmount %s", dir, dir)
		}
		return fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	if !st.IsDir() {
		return fmt.Errorf("mountpoint %s: not a directory", dir)
	}
	if mounted, _ := IsMounted(dir); mounted {
		return fmt.Errorf("mountpoint %s: something is already mounted there (run: paperfs unmount %s)", dir, dir)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("mountpoint %s: %w", dir, err)
	}
	if len(ents) > 0 {
		what := fmt.Sprintf("%d files or folders are there", len(ents))
		if len(ents) == 1 {
			what = fmt.Sprintf("%q is there", ents[0].Name())
		}
		return fmt.Errorf("mountpoint %s is not empty (%s); mount on an empty directory so nothing there is hidden", dir, what)
	}
	return nil
}

// Mount mounts the filesystem on dir and starts delivering store changes
// to the kernel. How it mounts depends on the platform (mount_linux.go,
// mount_darwin.go).
func (f *FS) Mount(dir string, mo MountOptions) (*Mount, error) {
	if err := CheckMountpoint(dir); err != nil {
		return nil, err
	}
	if err := canMount(); err != nil {
		return nil, err
	}
	negative, entry, attr := time.Second, f.opts.EntryTimeout, f.opts.AttrTimeout
	if f.opts.NoNotify {
		negative, entry, attr = 0, 0, 0 // see cacheEntry
	}
	opts := &gofs.Options{
		MountOptions: gofuse.MountOptions{
			FsName:        "paperfs",
			Name:          "paperfs",
			DirectMount:   directMount(),
			DisableXAttrs: true,
			AllowOther:    mo.AllowOther,
			Options:       permissionOptions(mo.AllowOther),
			Debug:         mo.Debug,
			MaxWrite:      1 << 20,
			MaxReadAhead:  maxReadAhead,
			// The kernel sends READDIRPLUS, which makes an inode per
			// name, only when the names are then looked up (ls -l, a
			// file manager), not for a listing of names alone (find,
			// a shell's glob, os.ReadDir), as libfuse does by default;
			// except for a listing's first batch, which answers without
			// inodes (see dirHandle). ls -l stays as fast, and listing
			// names alone no longer fills memory with inodes
			// (docs/benchmarks.md).
			ExtraCapabilities: gofuse.CAP_READDIRPLUS_AUTO,
		},
		EntryTimeout:    &entry,
		AttrTimeout:     &attr,
		NegativeTimeout: &negative,
		UID:             f.uid,
		GID:             f.gid,
		// The root is inode 1, as on other filesystems; 0 reads as
		// "no inode" to some tools.
		RootStableAttr: &gofs.StableAttr{Ino: 1},
	}
	f.exactPDFs.Store(mo.AllowOther)
	server, err := gofs.Mount(dir, f.root, opts)
	if err != nil {
		return nil, fmt.Errorf("mounting %s: %w", dir, err)
	}
	raiseReadahead(dir, opts.MaxReadAhead)
	ctx, cancel := context.WithCancel(context.Background())
	m := &Mount{Dir: dir, server: server, cancel: cancel, done: make(chan struct{})}
	go func() {
		server.Wait()
		close(m.done)
	}()
	if f.opts.NoNotify {
		f.view.Start(nil)
	} else {
		f.view.Start(notifier{f})
	}
	f.startShared(ctx, m)
	if f.opts.IdleForget > 0 || f.opts.MaxInodes > 0 {
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			f.forget(ctx)
		}()
	}
	return m, nil
}

// permissionOptions makes the kernel enforce the modes the mount shows
// when other users may use it: without default_permissions a FUSE
// filesystem that does no checks of its own (this one) lets anyone who
// can reach it act with its owner's rights.
func permissionOptions(allowOther bool) []string {
	if allowOther {
		return []string{"default_permissions"}
	}
	return nil
}

// Unmount detaches the filesystem and stops the notifier. A busy mount is
// retried for a few seconds before giving up.
func (m *Mount) Unmount() error {
	defer func() {
		m.cancel()
		m.wg.Wait()
	}()
	select {
	case <-m.done:
		return nil // already unmounted from outside
	default:
	}
	var err error
	for i := 0; i < 20; i++ {
		if err = m.server.Unmount(); err == nil || !errors.Is(err, syscall.EBUSY) {
			break
		}
		time.Sleep(250 * time.Millisecond)
	}
	if err != nil {
		if mounted, _ := IsMounted(m.Dir); !mounted {
			<-m.done // unmounted from outside meanwhile; the server is finishing
			return nil
		}
		return fmt.Errorf("unmounting %s: %w (close programs using it, then run: paperfs unmount %s)", m.Dir, err, m.Dir)
	}
	<-m.done
	return nil
}

// TryUnmount tries once to detach the filesystem. While a program uses it
// (a shell's working directory, an open file), the kernel refuses, it
// returns an error wrapping syscall.EBUSY, and the mount keeps serving.
func (m *Mount) TryUnmount() error {
	select {
	case <-m.done:
		return nil
	default:
	}
	err := m.server.Unmount()
	if err == nil {
		<-m.done
		return nil
	}
	if mounted, _ := IsMounted(m.Dir); !mounted {
		<-m.done // unmounted from outside meanwhile
		return nil
	}
	return fmt.Errorf("unmounting %s: %w (%v)", m.Dir, syscall.EBUSY, err)
}

// Detach detaches the filesystem lazily: its name goes at once, and the
// files programs still have open keep being served until they are
// closed; Done is closed then.
func (m *Mount) Detach() error {
	select {
	case <-m.done:
		return nil
	default:
	}
	if err := detach(m.Dir); err != nil {
		return fmt.Errorf("detaching %s: %w", m.Dir, err)
	}
	return nil
}

// maxReadAhead is the most a PDF read through FUSE asks of paperfs in one
// request once the kernel reads ahead that far (as root, raiseReadahead).
// go-fuse splices a read's bytes from the PDF to /dev/fuse through a pipe
// that holds at most /proc/sys/fs/pipe-max-size (1 MiB by default) and
// must also take the reply's header, a page and 16 bytes: 1 MiB requests
// did not fit, so every one was copied through user space instead and
// logged a line ("trySplice: ... max pipe size"). 254 pages fit.
const maxReadAhead = 254 << 12
