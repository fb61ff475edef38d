//go:build linux

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// mountEnv is what decides why a mount failed, as found on this machine:
// fusermount3 prints its own message straight to the terminal, and the
// error go-fuse returns says only "fusermount exited with code 256".
type mountEnv struct {
	Root       bool   // mounting directly, without fusermount3
	AllowOther bool   // --allow-other (or mount.allow_other) was asked for
	DevFuse    error  // opening /dev/fuse read-write as this user; nil if it opens
	DevFuseIs  string // its mode and group, "crw-rw---- group fuse"
	Group      string // /dev/fuse's group name, for usermod -aG
	Fusermount string // fusermount3 (else fusermount) on PATH; "" if none
	Setuid     bool   // Fusermount is setuid root, as it must be to mount for users
	// UserAllowOther: /etc/fuse.conf has user_allow_other, without which
	// fusermount3 refuses allow_other to normal users.
	UserAllowOther bool
}

// withMountHint adds to a failed mount's error what to do about it, from
// the cause found on this machine.
func withMountHint(err error, allowOther bool) error {
	if err == nil {
		return nil
	}
	if hint := mountHint(err, probeMountEnv(allowOther, "/dev/fuse", "/etc/fuse.conf", exec.LookPath)); hint != "" {
		return fmt.Errorf("%w\n%s", err, hint)
	}
	return err
}

// mountHint names the first cause in env that makes mounting fail and
// what to do about it; "" if it finds none.
func mountHint(err error, env mountEnv) string {
	switch {
	case errors.Is(env.DevFuse, os.ErrNotExist) || errors.Is(env.DevFuse, syscall.ENODEV) || errors.Is(env.DevFuse, syscall.ENXIO):
		return "this system has no FUSE device /dev/fuse: load the module with: sudo modprobe fuse (in a container, start it with --device /dev/fuse)"
	case !env.Root && env.Fusermount == "":
		return "mounting as a normal user needs fusermount3, which is not installed: sudo apt-get install fuse3"
	case errors.Is(env.DevFuse, os.ErrPermission):
		hint := "you may not open /dev/fuse (" + env.DevFuseIs + ")"
		if env.Group != "" && env.Group != "root" {
			return hint + ": add yourself to its group with: sudo usermod -aG " + env.Group + " $USER, then log in again"
		}
		return hint + ": Debian and Ubuntu make it usable by everyone (crw-rw-rw-); restore that with: sudo chmod 0666 /dev/fuse (in a container, start it with --device /dev/fuse)"
	case !env.Root && !env.Setuid:
		return env.Fusermount + " is not setuid root, so it cannot mount for you: sudo chmod u+s " + env.Fusermount + " (reinstalling fuse3 does the same)"
	case !env.Root && env.AllowOther && !env.UserAllowOther:
		return "--allow-other needs user_allow_other in /etc/fuse.conf: add it with: echo user_allow_other | sudo tee -a /etc/fuse.conf (or mount without --allow-other)"
	case env.Root && (errors.Is(err, syscall.EPERM) || strings.Contains(err.Error(), "fusermount")):
		return "the kernel refused the mount although paperfs runs as root: in a container, start it with --cap-add SYS_ADMIN --device /dev/fuse"
	}
	return ""
}

// probeMountEnv looks at the device, fusermount and the FUSE config
// (paths given so tests can point elsewhere).
func probeMountEnv(allowOther bool, devFuse, fuseConf string, lookPath func(string) (string, error)) mountEnv {
	env := mountEnv{Root: os.Geteuid() == 0, AllowOther: allowOther}
	if f, err := os.OpenFile(devFuse, os.O_RDWR, 0); err != nil {
		env.DevFuse = err
	} else {
		f.Close()
	}
	if fi, err := os.Stat(devFuse); err == nil {
		env.DevFuseIs = fi.Mode().String()
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			env.Group = strconv.Itoa(int(st.Gid))
			if g, err := user.LookupGroupId(env.Group); err == nil {
				env.Group = g.Name
			}
			env.DevFuseIs += " group " + env.Group
		}
	}
	for _, name := range []string{"fusermount3", "fusermount"} {
		if p, err := lookPath(name); err == nil {
			env.Fusermount = p
			break
		}
	}
	if env.Fusermount != "" {
		if fi, err := os.Stat(env.Fusermount); err == nil {
			st, ok := fi.Sys().(*syscall.Stat_t)
			env.Setuid = fi.Mode()&os.ModeSetuid != 0 && ok && st.Uid == 0
		}
	}
	env.UserAllowOther = fuseConfAllowsOther(fuseConf)
	return env
}

// fuseConfAllowsOther reports whether the FUSE config file has an
// uncommented user_allow_other line.
func fuseConfAllowsOther(path string) bool {
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		if i := strings.IndexByte(line, '#'); i >= 0 {
			line = line[:i]
		}
		if strings.TrimSpace(line) == "user_allow_other" {
			return true
		}
	}
	return false
}
