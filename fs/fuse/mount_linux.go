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

// Rename flags as the Linux kernel sends them.
const (
	renameNoReplace = unix.RENAME_NOREPLACE
	renameExchange  = unix.RENAME_EXCHANGE
)

// notifications: the Linux kernel takes notifications.
const notifications = true

// directMount: root mounts directly; other users go through fusermount3.
func directMount() bool { return os.Geteuid() == 0 }

// IsMounted reports whether dir is a mountpoint, from /proc/self/mountinfo.
func IsMounted(dir string) (bool, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return false, err
	}
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return false, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 4 && unescapeMountinfo(f[4]) == abs {
			return true, nil
		}
	}
	return false, nil
}

func unescapeMountinfo(s string) string {
	r := strings.NewReplacer(`\040`, " ", `\011`, "\t", `\012`, "\n", `\134`, `\`)
	return r.Replace(s)
}

// canMount checks the prerequisites so the error names what to install.
func canMount() error {
	if _, err := os.Stat("/dev/fuse"); err != nil {
		return fmt.Errorf("no /dev/fuse: this kernel has no FUSE device (load it with: modprobe fuse; in a container, pass --device /dev/fuse)")
	}
	if os.Geteuid() == 0 {
		return nil
	}
	if _, err := exec.LookPath("fusermount3"); err != nil {
		if _, err2 := exec.LookPath("fusermount"); err2 != nil {
			return fmt.Errorf("mounting as a normal user needs fusermount3, which is not installed: install it with: sudo apt-get install fuse3")
		}
	}
	return nil
}

// Unmount detaches the paperfs mount at dir from outside the mounting
// process.
func Unmount(dir string) error {
	if ok, err := IsMounted(dir); err == nil && !ok {
		return fmt.Errorf("%s is not mounted", dir)
	}
	if os.Geteuid() == 0 {
		if err := syscall.Unmount(dir, 0); err != nil {
			return fmt.Errorf("unmounting %s: %w", dir, err)
		}
		return nil
	}
	out, err := exec.Command("fusermount3", "-u", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("unmounting %s: %v: %s", dir, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// detach unmounts dir lazily (umount -l, fusermount3 -uz).
func detach(dir string) error {
	if os.Geteuid() == 0 {
		return syscall.Unmount(dir, syscall.MNT_DETACH)
	}
	out, err := exec.Command("fusermount3", "-u", "-z", dir).CombinedOutput()
	if err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(out)))
	}
	return nil
}

func mtimeNs(st *syscall.Stat_t) int64 { return st.Mtim.Nano() }
func ctimeNs(st *syscall.Stat_t) int64 { return st.Ctim.Nano() }

// raiseReadahead lets the kernel read ahead up to max bytes of a file read
// through FUSE (PDFs without passthrough), where it stops at 128 KiB
// whatever the mount asks (FUSE's INIT can only lower it). Only root may
// change it; for others the mount keeps the kernel's window, so this is
// best effort. 1 GiB PDF, --no-passthrough, cold: about twice the
// throughput (docs/benchmarks.md).
func raiseReadahead(dir string, max int) {
	if os.Geteuid() != 0 {
		return
	}
	var st unix.Stat_t
	if err := unix.Stat(dir, &st); err != nil {
		return
	}
	path := fmt.Sprintf("/sys/class/bdi/%d:%d/read_ahead_kb", unix.Major(st.Dev), unix.Minor(st.Dev))
	os.WriteFile(path, []byte(fmt.Sprint(max>>10)), 0o644)
}
