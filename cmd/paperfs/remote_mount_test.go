//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"
)

// startMount starts `paperfs mount` for e and waits until it serves
// commands; the test's cleanup stops it.
func startMount(t *testing.T, e *env) *mounted {
	t.Helper()
	m := &mounted{dir: filepath.Join(t.TempDir(), "mnt")}
	os.Mkdir(m.dir, 0o755)
	m.cmd = e.cmd("mount", m.dir)
	m.cmd.Stderr = m
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.stop(t) })
	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, "the mount", m.log, func() bool { return strings.Contains(m.log(), "msg=mounted") })
	return m
}

// runIn runs paperfs in dir and returns stdout, stderr and the exit status.
func (e *env) runIn(dir string, args ...string) (stdout, stderr string, code int) {
	e.t.Helper()
	c := e.cmd(args...)
	c.Dir = dir
	var o, s bytes.Buffer
	c.Stdout, c.Stderr = &o, &s
	err := c.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatal(err)
	}
	return o.String(), s.String(), code
}

// TestCLIBesideMount: while a mount holds the store, the commands that
// read or change the library run in it, with the same output as without
// a mount, and what they change is in the library afterwards.
func TestCLIBesideMount(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	e := newEnv(t)
	for _, n := range []string{"a", "b", "c"} {
		testutil.WritePDF(t, filepath.Join(e.lib, n+".pdf"), n)
	}
	e.run("scan")
	src := t.TempDir()
	testutil.WritePDF(t, filepath.Join(src, "new.pdf"), "new")
	testutil.WritePDF(t, filepath.Join(src, "sub", "deep.pdf"), "deep")
	local := map[string]string{}
	same := [][]string{{"trash", "list"}, {"export"}, {"export", "--format", "csl-json"}, {"scan"}, {"duplicates"}, {"import", "nope.pdf"}}
	for _, args := range same {
		o, s, code := e.runIn(src, args...)
		local[strings.Join(args, " ")] = fmt.Sprintf("%s|%s|%d", o, s, code)
	}

	// Papers named by the path of their PDF, relative to the caller.
	mergeOut, mergeErr, mergeCode := e.runIn(e.lib, "merge", "a.pdf", "b.pdf")

	m := startMount(t, e)
	if o, s, code := e.runIn(e.lib, "merge", "a.pdf", "b.pdf"); o != mergeOut || s != mergeErr || code != mergeCode || code != 2 {
		t.Errorf("merge a.pdf b.pdf beside a mount: %d %q %q, without: %d %q %q", code, o, s, mergeCode, mergeOut, mergeErr)
	}
	for _, args := range same {
		o, s, code := e.runIn(src, args...)
		if got, want := fmt.Sprintf("%s|%s|%d", o, s, code), local[strings.Join(args, " ")]; got != want {
			t.Errorf("paperfs %v beside a mount:\n%s\nwithout:\n%s", args, got, want)
		}
	}
	if !strings.Contains(m.log(), `msg="running a command for another process" command="paperfs --library `+e.lib+` trash list"`) {
		t.Errorf("the commands did not run in the mount's process:\n%s", m.log())
	}
	// status reads what the mount publishes.
	var st Status
	if err := json.Unmarshal([]byte(e.run("status", "--json")), &st); err != nil || st.Papers != 3 || st.Mount == nil {
		t.Errorf("status beside the mount: %+v %v", st, err)
	}
	// Import with paths relative to the caller's directory.
	o, s, code := e.runIn(src, "import", "--tag", "fresh", "new.pdf", "sub")
	if code != 0 || !strings.Contains(o, "imported 2, duplicates skipped 0, errors 0") {
		t.Fatalf("relative import beside the mount: %d\n%s%s", code, o, s)
	}
	o, s, code = e.runIn(src, "import", "new.pdf")
	if code != 0 || !strings.Contains(o, "  duplicate: new.pdf: same content as paper") {
		t.Errorf("re-import beside the mount shows the path as typed: %d\n%s%s", code, o, s)
	}
	dupMounted := o
	// The mount shows what the import did.
	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, "the imported papers in tags/fresh", m.log, func() bool {
		return exists(filepath.Join(m.dir, "tags", "fresh", "new.pdf")) && exists(filepath.Join(m.dir, "tags", "fresh", "deep.pdf"))
	})
	// Delete in the mount, list and restore with the CLI.
	if err := os.Remove(filepath.Join(m.dir, "all", "a.pdf")); err != nil {
		t.Fatal(err)
	}
	trashed := e.run("trash", "list")
	id, _, _ := strings.Cut(trashed, " ")
	if !strings.Contains(trashed, "  a  (.paperfs-trash/a.pdf)") {
		t.Fatalf("trash list beside the mount: %q", trashed)
	}
	m.stop(t)
	if got := e.run("trash", "list"); got != trashed {
		t.Errorf("trash list: %q without the mount, %q beside it", got, trashed)
	}
	if o, _, _ := e.runIn(src, "import", "new.pdf"); o != dupMounted {
		t.Errorf("re-import: %q without the mount, %q beside it", o, dupMounted)
	}

	m = startMount(t, e)
	o, s, code = e.runIn(src, "trash", "restore", id)
	if code != 0 || o != "restored "+id+"  a  (a.pdf)\n" {
		t.Fatalf("trash restore beside the mount: %d %q %s", code, o, s)
	}
	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, "a.pdf back in the mount", m.log, func() bool { return exists(filepath.Join(m.dir, "all", "a.pdf")) })
	// Commands that cannot run beside the mount say so.
	if _, s, code := e.runIn(src, "restore", "--latest"); code == 0 || !strings.Contains(s, "stop that process, then restore") {
		t.Errorf("restore of the database beside the mount: %d %s", code, s)
	}
	m.stop(t)
	if got := e.run("trash", "list"); got != "" {
		t.Errorf("trash after restoring beside the mount: %q", got)
	}
}

// TestCLIBesideMountInterrupt: Ctrl-C of an import running in the mount's
// process stops it there; the mount goes on.
func TestCLIBesideMountInterrupt(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	e := newEnv(t)
	src := t.TempDir()
	const n = 2000
	for i := range n {
		testutil.WritePDF(t, filepath.Join(src, fmt.Sprintf("%04d.pdf", i)), fmt.Sprint(i))
	}
	m := startMount(t, e)
	c := e.cmd("import", src)
	stdout, err := c.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	c.Stderr = &stderr
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// The first progress line says the import runs; interrupt it then.
	var out bytes.Buffer
	buf := make([]byte, 4096)
	for !strings.Contains(out.String(), "importing ") {
		k, err := stdout.Read(buf)
		out.Write(buf[:k])
		if err != nil {
			t.Fatalf("import ended before its progress: %v\n%s%s", err, out.String(), stderr.String())
		}
	}
	c.Process.Signal(os.Interrupt)
	rest, _ := io.ReadAll(stdout)
	out.Write(rest)
	err = c.Wait()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(stderr.String(), "import interrupted") {
		t.Fatalf("interrupted import: %v\n%s%s", err, out.String(), stderr.String())
	}
	if !strings.Contains(m.log(), "running a command for another process") {
		t.Fatalf("the import did not run in the mount's process:\n%s", m.log())
	}
	var imported int
	fmt.Sscanf(out.String()[strings.Index(out.String(), "imported "):], "imported %d", &imported)
	if imported >= n {
		t.Fatalf("all %d files imported despite the interrupt", imported)
	}
	// The mount still serves, and nothing runs on: the count stays.
	all := len(names(filepath.Join(m.dir, "all")))
	if e.run("trash", "list") != "" || len(names(filepath.Join(m.dir, "all"))) != all {
		t.Errorf("the mount after an interrupted import: %d then %d entries in all/", all, len(names(filepath.Join(m.dir, "all"))))
	}
	t.Logf("interrupted after %d of %d files", imported, n)
}

// TestCLIBesideMountOtherUser: another user can neither reach the
// mount's socket nor, if its directory were opened to all, use it.
func TestCLIBesideMountOtherUser(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	if os.Geteuid() != 0 {
		t.Fatalf("the second-user test needs root to switch users (run the suite as CI does, as root)")
	}
	const other = "paperfs-other"
	u, err := user.Lookup(other)
	if err != nil {
		if out, err := exec.Command("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", other).CombinedOutput(); err != nil {
			t.Fatalf("making the test user %s: %v: %s", other, err, out)
		}
		if u, err = user.Lookup(other); err != nil {
			t.Fatal(err)
		}
	}
	e := newEnv(t)
	testutil.WritePDF(t, filepath.Join(e.lib, "a.pdf"), "a")
	e.run("scan")
	m := startMount(t, e)
	os.Remove(filepath.Join(m.dir, "all", "a.pdf"))
	id, _, _ := strings.Cut(e.run("trash", "list"), " ")
	// Let the other user reach the binary, the library and the data dir.
	for _, d := range []string{filepath.Dir(binary), e.lib, e.dat} {
		for ; d != "/" && d != os.TempDir(); d = filepath.Dir(d) {
			os.Chmod(d, 0o755)
		}
	}
	as := func() (string, error) {
		c := exec.Command("setpriv", "--reuid="+u.Uid, "--regid="+u.Gid, "--clear-groups",
			binary, "--library", e.lib, "trash", "restore", id)
		c.Env = []string{"PAPERFS_DATA_DIR=" + e.dat, "PAPERFS_CONFIG=/nonexistent/config.json", "PAPERFS_OFFLINE=1", "HOME=/nonexistent"}
		out, err := c.CombinedOutput()
		return string(out), err
	}
	if out, err := as(); err == nil || strings.Contains(out, "restored") {
		t.Errorf("another user restored through the mount: %v %s", err, out)
	}
	// Even with the socket open to all, the mount refuses another user.
	sock := remoteSocket(e.dat)
	os.Chmod(filepath.Dir(sock), 0o777)
	os.Chmod(sock, 0o777)
	out, err := as()
	if err == nil || !strings.Contains(out, "refused by the process serving this library: it serves only its own user (uid 0), not uid "+u.Uid) {
		t.Errorf("another user on an open socket: %v %s", err, out)
	}
	if !strings.Contains(e.run("trash", "list"), id) {
		t.Error("the paper left the trash")
	}

}
