//go:build linux

package main

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta/testutil"
)

// mountProc is a paperfs mount process whose log lines a test can wait on.
type mountProc struct {
	t     *testing.T
	cmd   *exec.Cmd
	lines chan string
	log   strings.Builder
}

func startSignalMount(t *testing.T, e *env, mnt string) *mountProc {
	t.Helper()
	m := &mountProc{t: t, cmd: e.cmd("mount", mnt), lines: make(chan string, 1000)}
	r, w := io.Pipe()
	m.cmd.Stderr = w
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		s := bufio.NewScanner(r)
		for s.Scan() {
			m.lines <- s.Text()
		}
		close(m.lines)
	}()
	t.Cleanup(func() {
		if ok, _ := fuse.IsMounted(mnt); ok {
			syscall.Unmount(mnt, syscall.MNT_DETACH)
		}
		m.cmd.Process.Kill()
		m.cmd.Wait()
		w.Close()
	})
	m.waitLog("msg=mounted")
	return m
}

// waitLog waits for a log line holding every one of want and returns it.
func (m *mountProc) waitLog(want ...string) string {
	m.t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case l, ok := <-m.lines:
			if !ok {
				m.t.Fatalf("the mount exited before logging %q:\n%s", want, m.log.String())
			}
			m.log.WriteString(l + "\n")
			found := true
			for _, w := range want {
				found = found && strings.Contains(l, w)
			}
			if found {
				return l
			}
		case <-timeout:
			m.t.Fatalf("no log line with %q:\n%s", want, m.log.String())
		}
	}
}

// holdIn starts a shell whose working directory is dir and which holds
// file open; it prints the file when sent a line, then exits.
func holdIn(t *testing.T, dir, file string) (*exec.Cmd, io.WriteCloser, *strings.Builder) {
	t.Helper()
	c := exec.Command("bash", "-c", `exec 3< "$0"; echo ready; read line; cat <&3`, file)
	c.Dir = dir
	in, _ := c.StdinPipe()
	out, _ := c.StdoutPipe()
	var got strings.Builder
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Process.Kill(); c.Wait() })
	br := bufio.NewReader(out)
	if l, err := br.ReadString('\n'); err != nil || l != "ready\n" {
		t.Fatalf("holder: %q %v", l, err)
	}
	go io.Copy(&got, br)
	return c, in, &got
}

// TestSignalWhileInUse: Ctrl-C (SIGTERM) while a shell is inside the
// mount and holds a file open. The mount keeps serving, says who holds
// it, and unmounts when they let go; a second signal detaches it, still
// serving the open file. Nothing is left dead, and what the user wrote in
// a view is kept.
func TestSignalWhileInUse(t *testing.T) {
	if os.Getenv("PAPERFS_SKIP_FUSE") == "1" {
		t.Skip("PAPERFS_SKIP_FUSE=1: SKIPPING REAL-MOUNT TEST")
	}
	e := newEnv(t)
	testutil.WritePDF(t, filepath.Join(e.lib, "a.pdf"), "a")
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	all := filepath.Join(mnt, "all")

	// Free when the holder goes.
	m := startSignalMount(t, e, mnt)
	m.waitLog("library changed", "new=1")
	if err := os.WriteFile(filepath.Join(all, "notes.md"), []byte("my notes"), 0o644); err != nil {
		t.Fatal(err)
	}
	h, _, _ := holdIn(t, all, "a.pdf")
	m.cmd.Process.Signal(syscall.SIGTERM)
	l := m.waitLog("the mount is in use")
	if !strings.Contains(l, "PID "+strconv.Itoa(h.Process.Pid)+" (bash): working directory "+all+", open file "+filepath.Join(all, "a.pdf")) {
		t.Errorf("the log does not say what holds the mount: %s", l)
	}
	if b, err := os.ReadFile(filepath.Join(all, "a.pdf")); err != nil || string(b) != "%PDF-1.4\na" {
		t.Errorf("the mount stopped serving: %q %v", b, err)
	}
	h.Process.Kill() // our own holder, by PID
	h.Wait()
	if err := m.cmd.Wait(); err != nil {
		t.Fatalf("mount exited with %v\n%s", err, m.log.String())
	}
	if ok, _ := fuse.IsMounted(mnt); ok {
		t.Fatal("still mounted after the holder went")
	}
	kept, _ := filepath.Glob(filepath.Join(e.dat, "rejected", "*notes.md"))
	if len(kept) != 1 {
		t.Errorf("notes.md written in all/ was not kept: %v", kept)
	}

	// A second signal detaches; the open file is still served.
	m = startSignalMount(t, e, mnt)
	h, in, got := holdIn(t, all, "a.pdf")
	m.cmd.Process.Signal(syscall.SIGTERM)
	m.waitLog("the mount is in use")
	m.cmd.Process.Signal(syscall.SIGTERM)
	m.waitLog("detached the mount")
	if ok, _ := fuse.IsMounted(mnt); ok {
		t.Error("still mounted after the second signal")
	}
	in.Write([]byte("go\n"))
	if err := h.Wait(); err != nil || got.String() != "%PDF-1.4\na" {
		t.Errorf("the open file after detaching: %q %v", got.String(), err)
	}
	if err := m.cmd.Wait(); err != nil {
		t.Fatalf("mount exited with %v\n%s", err, m.log.String())
	}
	if left, _ := filepath.Glob(filepath.Join(e.lib, ".paperfs-incoming-*")); len(left) != 0 {
		t.Errorf("left in the library folder: %v", left)
	}
}
