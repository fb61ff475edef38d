//go:build !windows

// The tests of cmd/paperfs run the built binary and share this file's
// env; many mount it and signal it. The Windows build has no mount, so
// they build on Unix only (GOOS=windows go vet ./... stays clean).

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta/testutil"
)

var binary string

// TestMain builds the real binary: the CLI is tested as users run it, in
// separate processes (the extraction worker is the same binary).
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "paperfs-cli")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "paperfs")
	if out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput(); err != nil {
		os.Stderr.Write(out)
		panic(err)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type env struct {
	t        *testing.T
	lib, dat string
}

func newEnv(t *testing.T) *env {
	d := t.TempDir()
	e := &env{t: t, lib: filepath.Join(d, "lib"), dat: filepath.Join(d, "data")}
	os.MkdirAll(e.lib, 0o755)
	return e
}

func (e *env) cmd(args ...string) *exec.Cmd {
	c := exec.Command(binary, append([]string{"--library", e.lib}, args...)...)
	c.Env = append(os.Environ(), "PAPERFS_DATA_DIR="+e.dat, "PAPERFS_CONFIG="+filepath.Join(e.dat, "none.json"), "PAPERFS_OFFLINE=1")
	return c
}

func (e *env) run(args ...string) string {
	e.t.Helper()
	out, err := e.cmd(args...).CombinedOutput()
	if err != nil {
		e.t.Fatalf("paperfs %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func TestImportScanStatus(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	testutil.WritePDF(t, filepath.Join(src, "one.pdf"), "1")
	testutil.WritePDF(t, filepath.Join(src, "two.pdf"), "2")
	out := e.run("import", src)
	if !strings.Contains(out, "imported 2, duplicates skipped 0, errors 0") {
		t.Fatalf("import: %s", out)
	}
	out = e.run("import", filepath.Join(src, "one.pdf"))
	if !strings.Contains(out, "imported 0, duplicates skipped 1") {
		t.Fatalf("re-import: %s", out)
	}
	testutil.WritePDF(t, filepath.Join(e.lib, "dropped", "three.pdf"), "3")
	if out := e.run("scan"); !strings.Contains(out, "3 PDFs: 1 new") {
		t.Fatalf("scan: %s", out)
	}
	var st Status
	if err := json.Unmarshal([]byte(e.run("status", "--json")), &st); err != nil || st.Papers != 3 || st.Pending == 0 {
		t.Fatalf("status: %+v %v", st, err)
	}
	if _, err := os.Stat(filepath.Join(e.lib, "..", "data", "meta.db")); err != nil {
		t.Fatalf("database not in the data dir: %v", err)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	c := e.cmd("status")
	c.Args[2] = filepath.Join(e.lib, "nope")
	out, err := c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "nope") {
		t.Fatalf("missing library: %v %s", err, out)
	}
	c = e.cmd("--data-dir", filepath.Join(e.lib, "db"), "status")
	out, err = c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "inside the library folder") {
		t.Fatalf("data dir inside library: %v %s", err, out)
	}
	mnt := t.TempDir()
	os.WriteFile(filepath.Join(mnt, "x"), nil, 0o644)
	out, err = e.cmd("mount", mnt).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "not empty") {
		t.Fatalf("non-empty mountpoint: %v %s", err, out)
	}
	// A mountpoint inside the library folder (the cloud drive would sync
	// the views) or holding it is refused before anything is mounted.
	inLib := filepath.Join(e.lib, "view")
	os.Mkdir(inLib, 0o755)
	out, err = e.cmd("mount", inLib).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "is inside the library folder") {
		t.Fatalf("mountpoint inside the library: %v %s", err, out)
	}
	out, err = e.cmd("mount", filepath.Dir(e.lib)).CombinedOutput()
	if err == nil || !strings.Contains(string(out), "holds the library folder") && !strings.Contains(string(out), "not empty") {
		t.Fatalf("mountpoint holding the library: %v %s", err, out)
	}
	if ok, _ := fuse.IsMounted(inLib); ok {
		t.Fatal("mounted anyway")
	}
	// Credentials in a readable config file are refused.
	cfg := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(cfg, []byte(`{"mongodb":{"uri":"mongodb://u:secret@localhost"}}`), 0o644)
	c = e.cmd("status")
	c.Env = append(c.Env, "PAPERFS_CONFIG="+cfg)
	out, err = c.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "chmod 600") || strings.Contains(string(out), "secret") {
		t.Fatalf("readable config: %v %s", err, out)
	}
}

func TestMountSignalUnmount(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	e := newEnv(t)
	testutil.WritePDF(t, filepath.Join(e.lib, "a.pdf"), "a")
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	c := e.cmd("mount", mnt)
	var logs bytes.Buffer
	c.Stderr = &logs
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if ok, _ := fuse.IsMounted(mnt); ok {
			testutil.ForceUnmount(mnt)
		}
	}()
	// The mount's own scan finds the PDF dropped in before mounting.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(filepath.Join(mnt, "all", "a.pdf")); err == nil {
			break
		}
		if time.Now().After(deadline) {
			c.Process.Kill()
			c.Wait()
			t.Fatalf("a.pdf never appeared\n%s", logs.String())
		}
		time.Sleep(50 * time.Millisecond) // polls the mount process's view; nothing signals it
	}
	// status from another process reads what the mount publishes.
	var out string
	testutil.Eventually(t, 100*time.Millisecond, 10*time.Second, "status to show the mount", logs.String, func() bool {
		out = e.run("status")
		return strings.Contains(out, "mounted:   "+mnt) && strings.Contains(out, "papers:    1")
	})
	if !strings.Contains(out, "papers:    1") {
		t.Errorf("status while mounted: %s", out)
	}
	// It says what the mount holds in memory: a.pdf was looked up. The
	// heap limit covers at least the bound's inodes.
	var mb, limit, inodes, bound int
	testutil.Eventually(t, 200*time.Millisecond, 20*time.Second, "status to show the mount's memory", logs.String, func() bool {
		if i := strings.Index(out, "memory:"); i >= 0 {
			fmt.Sscanf(out[i:], "memory:    %d MB resident (heap limit %d MB); %d inodes of papers' files and groups (at most %d",
				&mb, &limit, &inodes, &bound)
		}
		if inodes > 0 && limit > 0 {
			return true
		}
		out = e.run("status")
		return false
	})
	if mb <= 0 || inodes <= 0 || bound != fuse.DefaultMaxInodes || limit < fuse.DefaultMaxInodes*inodeBytes>>20 {
		t.Errorf("status memory line: %d MB, heap limit %d MB, %d inodes, bound %d in\n%s", mb, limit, inodes, bound, out)
	}
	// A refused save is reported by status, with the file and the problem.
	sidecar := filepath.Join(mnt, "all", "a.json")
	if err := os.WriteFile(sidecar, []byte(`{"title": "x", "rating": 9}`), 0o644); !errors.Is(err, syscall.EINVAL) {
		t.Errorf("invalid save: %v, want EINVAL", err)
	}
	testutil.Eventually(t, 200*time.Millisecond, 20*time.Second, "status to show the refused save", logs.String, func() bool {
		out = e.run("status")
		return strings.Contains(out, "refused:")
	})
	if !strings.Contains(out, "all/a.json: rating: 9 is out of range") {
		t.Errorf("status does not show the refused save:\n%s", out)
	}
	c.Process.Signal(syscall.SIGTERM)
	if err := c.Wait(); err != nil {
		t.Fatalf("mount exited with %v\n%s", err, logs.String())
	}
	if ok, _ := fuse.IsMounted(mnt); ok {
		t.Fatal("still mounted after SIGTERM")
	}
	// Mount again, unmount from outside with paperfs unmount.
	c = e.cmd("mount", mnt)
	c.Stderr = &logs
	c.Start()
	testutil.Eventually(t, 50*time.Millisecond, 5*time.Second, "the second mount", logs.String, func() bool { ok, _ := fuse.IsMounted(mnt); return ok })
	e.run("unmount", mnt)
	if err := c.Wait(); err != nil {
		t.Fatalf("mount after paperfs unmount: %v\n%s", err, logs.String())
	}
}

// TestDamagedDatabase: with meta.db cut to half, every command stops with
// the damage and how to recover, writes nothing (before, status showed
// half the papers and scan re-created the rest as new ones); restore
// brings back the day's backup.
func TestDamagedDatabase(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"a", "b", "c", "d"} {
		testutil.WritePDF(t, filepath.Join(e.lib, n+".pdf"), n)
	}
	e.run("scan") // backs up first: the day's backup is of an empty library
	db := filepath.Join(e.dat, "meta.db")
	if err := os.RemoveAll(filepath.Join(e.dat, "backups")); err != nil {
		t.Fatal(err)
	}
	e.run("status") // makes no backup
	if out := e.run("restore"); !strings.Contains(out, "no backups yet") {
		t.Fatalf("restore lists: %s", out)
	}
	e.run("scan") // backs up the four papers
	if out := e.run("restore"); !strings.Contains(out, "  4  ") || !strings.Contains(out, "ok") {
		t.Fatalf("restore lists: %s", out)
	}
	if out := e.run("status"); !strings.Contains(out, "backups:   1, newest") {
		t.Fatalf("status: %s", out)
	}
	data, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	half := data[:len(data)/2]
	os.WriteFile(db, half, 0o600)
	for _, args := range [][]string{{"status"}, {"scan"}, {"import", filepath.Join(e.lib, "a.pdf")}} {
		out, err := e.cmd(args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), "is damaged") || !strings.Contains(string(out), "paperfs restore --latest") {
			t.Fatalf("paperfs %v on a damaged database: %v\n%s", args, err, out)
		}
		if now, _ := os.ReadFile(db); !bytes.Equal(now, half) {
			t.Fatalf("paperfs %v wrote to the damaged database", args)
		}
	}
	out := e.run("restore", "--latest")
	if !strings.Contains(out, "restored meta-") || !strings.Contains(out, "4 papers") {
		t.Fatalf("restore --latest: %s", out)
	}
	var st Status
	if err := json.Unmarshal([]byte(e.run("status", "--json")), &st); err != nil || st.Papers != 4 {
		t.Fatalf("status after restore: %+v %v", st, err)
	}
	if out := e.run("scan"); !strings.Contains(out, "0 new") {
		t.Fatalf("scan after restore re-created papers: %s", out)
	}
}
