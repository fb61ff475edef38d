//go:build linux

package main

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestMountHint(t *testing.T) {
	fusermountFailed := errors.New("fusermount exited with code 256")
	user := mountEnv{Fusermount: "/usr/bin/fusermount3", Setuid: true, DevFuseIs: "Dcrw-rw-rw- group root", Group: "root"}
	with := func(f func(*mountEnv)) mountEnv { e := user; f(&e); return e }
	for _, c := range []struct {
		name string
		err  error
		env  mountEnv
		want string // in the hint; "" for no hint
	}{
		{"all fine", fusermountFailed, user, ""},
		{"no /dev/fuse", fusermountFailed, with(func(e *mountEnv) { e.DevFuse = os.ErrNotExist }), "sudo modprobe fuse"},
		{"no /dev/fuse as root", syscall.ENOENT, mountEnv{Root: true, DevFuse: &os.PathError{Op: "open", Path: "/dev/fuse", Err: syscall.ENOENT}}, "--device /dev/fuse"},
		{"fuse3 missing", fusermountFailed, with(func(e *mountEnv) { e.Fusermount = "" }), "sudo apt-get install fuse3"},
		{"/dev/fuse of group fuse", fusermountFailed, with(func(e *mountEnv) {
			e.DevFuse = &os.PathError{Op: "open", Path: "/dev/fuse", Err: syscall.EACCES}
			e.DevFuseIs, e.Group = "Dcrw-rw---- group fuse", "fuse"
		}), "you may not open /dev/fuse (Dcrw-rw---- group fuse): add yourself to its group with: sudo usermod -aG fuse $USER"},
		{"/dev/fuse 0600", fusermountFailed, with(func(e *mountEnv) {
			e.DevFuse = &os.PathError{Op: "open", Path: "/dev/fuse", Err: syscall.EACCES}
			e.DevFuseIs = "Dcrw------- group root"
		}), "sudo chmod 0666 /dev/fuse"},
		{"fusermount3 not setuid", fusermountFailed, with(func(e *mountEnv) { e.Setuid = false }), "sudo chmod u+s /usr/bin/fusermount3"},
		{"allow_other without user_allow_other", fusermountFailed, with(func(e *mountEnv) { e.AllowOther = true }), "user_allow_other in /etc/fuse.conf"},
		{"allow_other with user_allow_other", fusermountFailed, with(func(e *mountEnv) { e.AllowOther, e.UserAllowOther = true, true }), ""},
		{"allow_other as root", syscall.EPERM, mountEnv{Root: true, AllowOther: true}, "--cap-add SYS_ADMIN"},
		{"root in a container", fusermountFailed, mountEnv{Root: true, Fusermount: "/usr/bin/fusermount3", Setuid: true}, "--cap-add SYS_ADMIN"},
		{"root, another error", syscall.EBUSY, mountEnv{Root: true}, ""},
	} {
		got := mountHint(c.err, c.env)
		if c.want == "" && got != "" || !strings.Contains(got, c.want) {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestProbeMountEnv(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "fuse.conf")
	fusermount := filepath.Join(dir, "fusermount3")
	os.WriteFile(fusermount, []byte("#!/bin/sh\n"), 0o755)
	lookPath := func(name string) (string, error) {
		if name == "fusermount3" {
			return fusermount, nil
		}
		return "", exec.ErrNotFound
	}
	for _, c := range []struct {
		conf string
		want bool
	}{
		{"# mount_max = 1000\n#user_allow_other\n", false},
		{"mount_max = 1000\n  user_allow_other  \n", true},
		{"user_allow_other # for paperfs --allow-other\n", true},
	} {
		os.WriteFile(conf, []byte(c.conf), 0o644)
		if got := probeMountEnv(true, "/dev/fuse", conf, lookPath).UserAllowOther; got != c.want {
			t.Errorf("fuse.conf %q: user_allow_other %v, want %v", c.conf, got, c.want)
		}
	}
	env := probeMountEnv(false, filepath.Join(dir, "no-fuse"), filepath.Join(dir, "none.conf"), lookPath)
	if !errors.Is(env.DevFuse, os.ErrNotExist) || env.UserAllowOther || env.Fusermount != fusermount || env.AllowOther {
		t.Errorf("probe without /dev/fuse and fuse.conf: %+v", env)
	}
	// Setuid counts only for a root-owned file, as the kernel honours it.
	if err := os.Chmod(fusermount, os.ModeSetuid|0o755); err != nil {
		t.Fatal(err)
	}
	env = probeMountEnv(false, "/dev/fuse", conf, lookPath)
	if want := os.Geteuid() == 0; env.Setuid != want {
		t.Errorf("setuid %v for a setuid file owned by uid %d", env.Setuid, os.Geteuid())
	}
	if err := os.Chmod(fusermount, 0o755); err != nil {
		t.Fatal(err)
	}
	if probeMountEnv(false, "/dev/fuse", conf, lookPath).Setuid {
		t.Error("setuid for a mode 0755 fusermount3")
	}
}
