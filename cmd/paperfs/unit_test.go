//go:build linux

package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta/testutil"
)

// TestUserUnitCommand runs the systemd user unit's ExecStart the way the
// user manager does at login (in $HOME, the library and mountpoint from
// ~/.config/paperfs/config.json, "~" in them), and stops it with the
// unit's KillSignal as at logout: it must mount, then unmount.
func TestUserUnitCommand(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	unit, err := os.ReadFile("../../scripts/packaging/paperfs.service")
	if err != nil {
		t.Fatal(err)
	}
	var argv []string
	kill := syscall.SIGTERM
	for _, line := range strings.Split(string(unit), "\n") {
		if v, ok := strings.CutPrefix(line, "ExecStart="); ok {
			argv = strings.Fields(v)
		}
		if v, ok := strings.CutPrefix(line, "KillSignal="); ok && v != "SIGTERM" {
			t.Fatalf("the test knows SIGTERM only, the unit has KillSignal=%s", v)
		}
	}
	if len(argv) == 0 || argv[0] != "/usr/bin/paperfs" {
		t.Fatalf("ExecStart of paperfs.service: %q", argv)
	}
	home := t.TempDir()
	testutil.WritePDF(t, filepath.Join(home, "Papers", "a.pdf"), "a")
	os.MkdirAll(filepath.Join(home, ".config", "paperfs"), 0o755)
	os.WriteFile(filepath.Join(home, ".config", "paperfs", "config.json"),
		[]byte(`{"library": "~/Papers", "mount": {"mountpoint": "~/papers"}}`), 0o644)
	mnt := filepath.Join(home, "papers")
	os.Mkdir(mnt, 0o755)

	c := exec.Command(binary, argv[1:]...)
	c.Dir = home
	c.Env = append(os.Environ(), "HOME="+home, "XDG_CONFIG_HOME=", "XDG_DATA_HOME=", "PAPERFS_CONFIG=", "PAPERFS_LIBRARY=", "PAPERFS_DATA_DIR=")
	stderr, _ := c.StderrPipe()
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if ok, _ := fuse.IsMounted(mnt); ok {
			testutil.ForceUnmount(mnt)
		}
	})
	var said strings.Builder
	sc := bufio.NewScanner(stderr)
	mounted := false
	for !mounted && sc.Scan() {
		said.WriteString(sc.Text() + "\n")
		mounted = strings.Contains(sc.Text(), "msg=mounted")
	}
	if mounted {
		if ok, _ := fuse.IsMounted(mnt); !ok {
			t.Errorf("paperfs said mounted, but not on %s", mnt)
		}
		c.Process.Signal(kill)
	}
	rest, _ := io.ReadAll(stderr)
	said.Write(rest)
	if err := c.Wait(); err != nil || !mounted {
		t.Fatalf("%s (mounted: %v): %v\n%s", strings.Join(argv, " "), mounted, err, said.String())
	}
	if ok, _ := fuse.IsMounted(mnt); ok {
		t.Errorf("%s still mounted after %v", mnt, kill)
	}
}
