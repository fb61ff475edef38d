package fuse

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"

	"golang.org/x/sys/unix"
)

// Rename flags as macFUSE sends them (renamex_np's).
const (
	renameNoReplace = unix.RENAME_EXCL
	renameExchange  = unix.RENAME_SWAP
)

// notifications: macFUSE takes none; go-fuse does not send them there.
const notifications = false

// directMount: macFUSE always mounts through its own helper.
func directMount() bool { return false }

// IsMounted reports whether dir is a mountpoint, from the kernel's table.
func IsMounted(dir string) (bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, err
	}
	n, err := unix.Getfsstat(nil, unix.MNT_NOWAIT)
	if err != nil {
		return false, err
	}
	buf := make([]unix.Statfs_t, n)
	if n, err = unix.Getfsstat(buf, unix.MNT_NOWAIT); err != nil {
		return false, err
	}
	for _, st := range buf[:n] {
		if unix.ByteSliceToString(st.Mntonname[:]) == abs {
			return true, nil
		}
	}
	return false, nil
}

// canMount checks that macFUSE is installed, so the error says so.
func canMount() error {
	for _, p := range []string{"/Library/Filesystems/macfuse.fs", "/Library/Filesystems/osxfuse.fs"} {
		if _, err := os.Stat(p); err == nil {
			return nil
		}
	}
	return fmt.Errorf("mounting on macOS needs macFUSE, which is not installed: install it from https://macfuse.github.io (or: brew install --cask macfuse), or use paperfs serve webdav and connect from Finder")
}

// Unmount detaches the paperfs mount at dir from outside the mounting
// process.
func Unmount(dir string) error {
	if ok, err := IsMounted(dir); err == nil && !ok {
		return fmt.Errorf("%s is not mounted", dir)
	}
	if err := syscall.Unmount(dir, 0); err == nil {
		return nil
	}
	out, err := exec.Command("umount", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("unmounting %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// detach forces the unmount: macOS has no lazy unmount, so files still
// open there stop being served.
func detach(dir string) error {
	if err := syscall.Unmount(dir, unix.MNT_FORCE); err == nil {
		return nil
	}
	out, err := exec.Command("diskutil", "unmount", "force", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func mtimeNs(st *syscall.Stat_t) int64 { return st.Mtimespec.Nano() }
func ctimeNs(st *syscall.Stat_t) int64 { return st.Ctimespec.Nano() }

// raiseReadahead: Linux only (the setting is in /sys/class/bdi).
func raiseReadahead(dir string, max int) {}
