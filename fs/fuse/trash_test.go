//go:build linux

package fuse

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// gio runs GIO's command line in a D-Bus session of its own, as a file
// manager's desktop session has, so trash:// (gvfsd-trash) works.
//
// gvfsd-trash looks at every mount on the machine for a trash directory;
// one that hangs (another test's, a dead network share) hangs it. So, as
// root (CI), GIO runs in a mount namespace of its own where the other FUSE
// mounts are detached and only the mount under test (mnt) is left.
func gio(t *testing.T, mnt string, args ...string) string {
	t.Helper()
	testutil.Need(t, "gio", "dbus-run-session")
	name, argv := "dbus-run-session", append([]string{"--", "gio"}, args...)
	if os.Geteuid() == 0 {
		testutil.Need(t, "unshare")
		hide := otherFUSEMounts(t, mnt)
		script := `n=$1; shift; while [ "$n" -gt 0 ]; do umount -l "$1" 2>/dev/null; shift; n=$((n-1)); done; exec dbus-run-session -- gio "$@"`
		name = "unshare"
		argv = append(append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", script, "sh", strconv.Itoa(len(hide))}, hide...), args...)
	}
	// commandIn, not cmd.Dir: a chdir into the mount between vfork and
	// exec deadlocks this process (see commandIn).
	cmd := commandIn(mnt, name, argv...)
	cmd.Env = append(os.Environ(), "HOME="+t.TempDir(), "XDG_RUNTIME_DIR="+t.TempDir())
	// The session's daemons (gvfsd-trash) outlive dbus-run-session: they
	// run in its process group, which is ended after gio, and write to a
	// file, not a pipe, whose end they would hold open, leaving Wait
	// waiting for them forever.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	outFile, err := os.CreateTemp(t.TempDir(), "gio")
	if err != nil {
		t.Fatal(err)
	}
	defer outFile.Close()
	cmd.Stdout, cmd.Stderr = outFile, outFile
	if err = cmd.Start(); err == nil {
		// A GIO that never answers fails the test, and its session goes.
		stop := time.AfterFunc(2*time.Minute, func() { syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) })
		err = cmd.Wait()
		stop.Stop()
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
	}
	out, _ := os.ReadFile(outFile.Name())
	if err != nil {
		t.Fatalf("gio %v: %v\n%s", args, err, out)
	}
	return string(out)
}

// otherFUSEMounts lists the FUSE mounts on the machine but mnt.
func otherFUSEMounts(t *testing.T, mnt string) []string {
	t.Helper()
	b, err := os.ReadFile("/proc/self/mounts")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) > 2 && strings.HasPrefix(f[2], "fuse") && f[2] != "fusectl" {
			if dir := unescapeMountinfo(f[1]); dir != mnt {
				out = append(out, dir)
			}
		}
	}
	return out
}

// TestFileManagerTrash deletes, lists and restores the way file managers
// do, through GIO: the freedesktop.org trash at the mount's root is
// paperfs' trash.
func TestFileManagerTrash(t *testing.T) {
	s, lib, mnt, _ := testMount(t, Options{})
	p := addPDF(t, s, lib, meta.Paper{Title: "Art", Year: 1968, Tags: []string{"ml"}, File: meta.File{Path: "art.pdf"}}, []byte("%PDF-1.4 art"))
	const name = "1968 - Art.pdf"

	// Delete (Nautilus, Thunar and Dolphin call the same thing).
	gio(t, mnt, "trash", filepath.Join(mnt, "tags/ml", name))
	got, _ := s.Get(p.ID)
	if got.Trashed == nil || !slices.Equal(got.Tags, []string{"ml"}) {
		t.Fatalf("after gio trash: trashed %v, tags %v", got.Trashed, got.Tags)
	}
	trash := filepath.Join(mnt, ".Trash-"+uidString())
	if names := ls(t, filepath.Join(trash, "files")); !slices.Equal(names, []string{name}) {
		t.Errorf(".Trash/files lists %v", names)
	}
	info, err := os.ReadFile(filepath.Join(trash, "info", name+".trashinfo"))
	if err != nil || !strings.Contains(string(info), "Path=tags/ml/1968%20-%20Art.pdf") {
		t.Errorf("trashinfo %v:\n%s", err, info)
	}
	if _, err := os.Stat(filepath.Join(mnt, "trash", name)); err != nil {
		t.Errorf("not in trash/: %v", err)
	}

	// The Trash window lists it with where it came from; Restore puts it
	// back there, with its tags.
	var uri string
	for _, line := range strings.Split(gio(t, mnt, "trash", "--list"), "\n") {
		if f := strings.Split(line, "\t"); len(f) == 2 && f[1] == filepath.Join(mnt, "tags/ml", name) {
			uri = f[0]
		}
	}
	if uri == "" {
		t.Fatalf("gio trash --list does not show %s from tags/ml", name)
	}
	gio(t, mnt, "trash", "--restore", uri)
	got, _ = s.Get(p.ID)
	if got.Trashed != nil || !slices.Equal(got.Tags, []string{"ml"}) {
		t.Fatalf("after restore: trashed %v, tags %v", got.Trashed, got.Tags)
	}
	if _, err := os.Stat(filepath.Join(mnt, "tags/ml", name)); err != nil {
		t.Errorf("not back in tags/ml: %v", err)
	}

	// mv out of trash/ restores too.
	sh(t, mnt, "rm 'all/"+name+"' && mv 'trash/"+name+"' all/")
	if got, _ = s.Get(p.ID); got.Trashed != nil {
		t.Errorf("mv trash/X.pdf all/ did not restore")
	}
}

func uidString() string { return strconv.Itoa(os.Getuid()) }
