//go:build !windows

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/sync/synctest"
)

// device is one paperfs installation in a test or benchmark: its own
// library folder and data dir, talking to a MongoDB server at uri.
type device struct {
	t        testing.TB
	name     string
	lib, dat string
	uri, db  string
}

func newDevice(t testing.TB, name, uri, db string) *device {
	d := t.TempDir()
	dev := &device{t: t, name: name, lib: filepath.Join(d, "lib"), dat: filepath.Join(d, "data"), uri: uri, db: db}
	os.MkdirAll(dev.lib, 0o755)
	return dev
}

// cmd is a paperfs command on this device, with the server in the
// environment unless uri is empty.
func (d *device) cmd(args ...string) *exec.Cmd {
	c := exec.Command(binary, append([]string{"--library", d.lib}, args...)...)
	c.Env = append(os.Environ(), "PAPERFS_DATA_DIR="+d.dat, "PAPERFS_CONFIG="+filepath.Join(d.dat, "none.json"), "PAPERFS_OFFLINE=1")
	if d.uri != "" {
		c.Env = append(c.Env, "PAPERFS_MONGODB_URI="+d.uri, "PAPERFS_MONGODB_DATABASE="+d.db)
	}
	return c
}

func (d *device) run(args ...string) string {
	d.t.Helper()
	out, err := d.cmd(args...).CombinedOutput()
	if err != nil {
		d.t.Fatalf("%s: paperfs %v: %v\n%s", d.name, args, err, out)
	}
	return string(out)
}

func (d *device) status() Status {
	d.t.Helper()
	var st Status
	out := d.run("status", "--json")
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		d.t.Fatalf("%s: status --json: %v\n%s", d.name, err, out)
	}
	return st
}

// uploaded reports whether the server holds any op in database db. A
// mount's status says "pending 0" from its last round until it learns of
// a new edit; a test that must know an upload happened asks the server.
func uploaded(t testing.TB, srv *synctest.Server, db string) bool {
	t.Helper()
	n, err := srv.Client(t).Database(db).Collection("ops").CountDocuments(context.Background(), bson.D{})
	if err != nil {
		t.Fatalf("counting ops on the server: %v", err)
	}
	return n > 0
}

// mounted is a `paperfs mount` process owned by a test.
type mounted struct {
	dir  string
	cmd  *exec.Cmd
	logs synctest.LogBuffer
}

func (m *mounted) Write(p []byte) (int, error) { return m.logs.Write(p) }

func (m *mounted) log() string { return m.logs.String() }

// mount starts `paperfs mount` in its own process and waits until the
// mountpoint is live. The test's cleanup stops it with SIGTERM (and
// unmounts lazily if the process fails to).
func (d *device) mount(t testing.TB) *mounted {
	t.Helper()
	return d.mountEnv(t)
}

// mountEnv is mount with more environment variables for the mount
// process only.
func (d *device) mountEnv(t testing.TB, env ...string) *mounted {
	t.Helper()
	m := &mounted{dir: filepath.Join(t.TempDir(), "mnt")}
	os.Mkdir(m.dir, 0o755)
	m.cmd = d.cmd("mount", m.dir)
	m.cmd.Env = append(m.cmd.Env, env...)
	m.cmd.Stderr = m
	if err := m.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.stop(t) })
	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, d.name+" mounted", m.log, func() bool { ok, _ := fuse.IsMounted(m.dir); return ok })
	return m
}

func (m *mounted) stop(t testing.TB) {
	if m.cmd == nil {
		return
	}
	m.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- m.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("mount %s exited with %v\n%s", m.dir, err, m.log())
		}
	case <-time.After(15 * time.Second):
		m.cmd.Process.Kill()
		<-done
		t.Errorf("mount %s did not stop within 15s of SIGTERM\n%s", m.dir, m.log())
	}
	if ok, _ := fuse.IsMounted(m.dir); ok {
		testutil.ForceUnmount(m.dir)
		t.Errorf("%s still mounted after the mount process exited", m.dir)
	}
	m.cmd = nil
}

func names(dir string) []string {
	es, _ := os.ReadDir(dir)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out
}

func exists(path string) bool { _, err := os.Stat(path); return err == nil }

// readSidecar reads a sidecar from a mount, without the fields that are
// this device's own (missing) or this device's clock (modified).
func readSidecar(t testing.TB, path string) map[string]any {
	t.Helper()
	m := readSidecarRaw(t, path)
	delete(m, "missing")
	delete(m, "modified")
	return m
}

// editSidecar saves a sidecar in a mount as an editor would: read it,
// change fields, write it back.
func editSidecar(t testing.TB, path string, set map[string]any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range set {
		m[k] = v
	}
	b, _ = json.MarshalIndent(m, "", "  ")
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatalf("saving %s: %v", path, err)
	}
}

// TestSyncMounts: two devices, each with its own data dir, library folder
// (holding the same PDF, as a cloud drive would) and mount process, sync
// through one server. Edits made through one mount show in the other's;
// offline edits on both sides converge after reconnecting.
func TestSyncMounts(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	srv := synctest.Start(t)
	pa, pb := synctest.Proxy(t, srv.URI), synctest.Proxy(t, srv.URI)
	a := newDevice(t, "A", pa.URI(), "e2e")
	b := newDevice(t, "B", pb.URI(), "e2e")
	testutil.WritePDF(t, filepath.Join(a.lib, "paxos.pdf"), "the same paper on both devices")
	testutil.WritePDF(t, filepath.Join(b.lib, "paxos.pdf"), "the same paper on both devices")

	ma := a.mount(t)
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "A to index and upload paxos.pdf", ma.log, func() bool {
		st := a.status()
		return exists(filepath.Join(ma.dir, "all", "paxos.pdf")) && st.Sync != nil && st.Sync.Connected && st.Sync.Pending == 0 &&
			uploaded(t, srv, "e2e")
	})
	// A new device: the mount's first round brings the paper's record, so
	// its scan matches the PDF to it instead of indexing it again.
	mb := b.mount(t)
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "B to show paxos.pdf", mb.log, func() bool { return exists(filepath.Join(mb.dir, "all", "paxos.pdf")) })
	// B's first scan of its folder has run (the status says so): a
	// duplicate of paxos.pdf would show now.
	testutil.Eventually(t, 50*time.Millisecond, 30*time.Second, "B's first scan", mb.log, func() bool {
		st := b.status()
		return st.Mount != nil && st.Mount.Scans > 0
	})
	if got := names(filepath.Join(mb.dir, "all")); !slices.Equal(got, []string{"paxos.json", "paxos.pdf"}) {
		t.Fatalf("B's all/ after bootstrap: %v", got)
	}
	if got := names(filepath.Join(mb.dir, "missing")); len(got) != 0 {
		t.Fatalf("B's missing/ lists %v though B has the PDF", got)
	}
	// paperfs sync while mounted runs a round of the mount's engine.
	if out, err := b.cmd("sync").CombinedOutput(); err != nil || !strings.Contains(string(out), "sent 0 changes, received 0, 0 conflicts resolved") {
		t.Fatalf("sync while mounted: %v %s", err, out)
	}
	if !strings.Contains(mb.log(), `command="paperfs --library `+b.lib+` sync"`) {
		t.Fatalf("sync did not run in the mount's process:\n%s", mb.log())
	}

	// A sidecar saved in A's mount renames the paper in B's mount.
	const newName = "Lamport 2001 - Paxos Made Simple"
	editSidecar(t, filepath.Join(ma.dir, "all", "paxos.json"), map[string]any{
		"title": "Paxos Made Simple", "authors": []string{"Leslie Lamport"}, "year": 2001})
	start := time.Now()
	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, "B to show the new name", mb.log, func() bool {
		return slices.Equal(names(filepath.Join(mb.dir, "all")), []string{newName + ".json", newName + ".pdf"})
	})
	t.Logf("sidecar save on A visible in B's mount after %s", time.Since(start).Round(time.Millisecond))
	if got := readSidecar(t, filepath.Join(mb.dir, "all", newName+".json")); got["title"] != "Paxos Made Simple" || got["year"] != 2001.0 {
		t.Fatalf("B's sidecar: %v", got)
	}
	if !exists(filepath.Join(mb.dir, "authors", "Leslie Lamport", newName+".pdf")) || !exists(filepath.Join(mb.dir, "years", "2001", newName+".pdf")) {
		t.Fatalf("B's authors/ and years/ views lack the paper: %v %v", names(filepath.Join(mb.dir, "authors")), names(filepath.Join(mb.dir, "years")))
	}

	// A retag with mv in A shows in B's tags/.
	if err := os.Mkdir(filepath.Join(ma.dir, "tags", "consensus"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(ma.dir, "all", newName+".pdf"), filepath.Join(ma.dir, "tags", "consensus", newName+".pdf")); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, "B to show tags/consensus", mb.log, func() bool {
		return exists(filepath.Join(mb.dir, "tags", "consensus", newName+".pdf"))
	})
	if exists(filepath.Join(mb.dir, "untagged", newName+".pdf")) {
		t.Fatalf("B still lists the paper in untagged/: %v", names(filepath.Join(mb.dir, "untagged")))
	}

	// Offline on both sides: the same field (B's edit is later, so it
	// wins), different fields, and a tag on each side.
	pa.Disable(t)
	pb.Disable(t)
	editSidecar(t, filepath.Join(ma.dir, "all", newName+".json"), map[string]any{"title": "Title from A", "note": "note from A"})
	aName := "Lamport 2001 - Title from A"
	if err := os.Mkdir(filepath.Join(ma.dir, "tags", "from-a"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(filepath.Join(ma.dir, "all", aName+".pdf"), filepath.Join(ma.dir, "tags", "from-a", aName+".pdf")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond) // B's edit is the later one by the clock: what is tested
	editSidecar(t, filepath.Join(mb.dir, "all", newName+".json"), map[string]any{"title": "Title from B", "rating": 4, "tags": []string{"consensus", "from-b"}})
	// The edits are committed locally at once and queued.
	bName := "Lamport 2001 - Title from B"
	if !exists(filepath.Join(ma.dir, "tags", "from-a", aName+".pdf")) || !exists(filepath.Join(mb.dir, "tags", "from-b", bName+".pdf")) {
		t.Fatalf("offline edits not visible locally: A %v, B %v", names(filepath.Join(ma.dir, "all")), names(filepath.Join(mb.dir, "all")))
	}
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "A's status to say offline with changes queued", ma.log, func() bool {
		st := a.status()
		return st.Sync != nil && !st.Sync.Connected && st.Sync.Running && st.Sync.Pending > 0 && st.Sync.LastError != ""
	})
	if out := a.run("status"); !strings.Contains(out, "offline, retrying") || !strings.Contains(out, "local changes not yet sent") {
		t.Fatalf("A's status while offline:\n%s", out)
	}

	pa.Enable(t)
	pb.Enable(t)
	// Backoff is at most a minute by default; the retries started at 1s.
	testutil.Eventually(t, 50*time.Millisecond, 60*time.Second, "A and B to converge", func() string { return ma.log() + mb.log() }, func() bool {
		return exists(filepath.Join(ma.dir, "all", bName+".json")) && exists(filepath.Join(mb.dir, "all", bName+".json")) &&
			fmt.Sprint(readSidecar(t, filepath.Join(ma.dir, "all", bName+".json"))) == fmt.Sprint(readSidecar(t, filepath.Join(mb.dir, "all", bName+".json")))
	})
	got := readSidecar(t, filepath.Join(mb.dir, "all", bName+".json"))
	if got["note"] != "note from A" || got["rating"] != 4.0 || fmt.Sprint(got["tags"]) != "[consensus from-a from-b]" {
		t.Fatalf("merged sidecar: %v", got)
	}
	for _, m := range []*mounted{ma, mb} {
		for _, tag := range []string{"consensus", "from-a", "from-b"} {
			if !exists(filepath.Join(m.dir, "tags", tag, bName+".pdf")) {
				t.Errorf("%s: tags/%s lacks the paper: %v", m.dir, tag, names(filepath.Join(m.dir, "tags", tag)))
			}
		}
		if got := names(filepath.Join(m.dir, "all")); len(got) != 2 {
			t.Errorf("%s: all/ has %v, want one paper", m.dir, got)
		}
	}
	// Both report the title conflict somewhere, resolved the same way.
	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, "a conflict in a status", ma.log, func() bool {
		for _, d := range []*device{a, b} {
			if st := d.status(); st.Sync != nil && len(st.Sync.Conflicts) > 0 {
				return true
			}
		}
		return false
	})
}

// TestSyncDeleteVsEdit: three devices, three mount processes. While all
// are offline, C deletes a paper, A retitles it and B tags it. After
// reconnecting every mount shows it in trash/ with both edits kept, and no
// PDF is gone from any library folder: C's is in its trash folder, A's and
// B's are where they were (their cloud drive would carry C's move).
func TestSyncDeleteVsEdit(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	srv := synctest.Start(t)
	var devs []*device
	var proxies []*synctest.FaultProxy
	var mounts []*mounted
	for _, n := range []string{"A", "B", "C"} {
		p := synctest.Proxy(t, srv.URI)
		d := newDevice(t, n, p.URI(), "e2e3")
		testutil.WritePDF(t, filepath.Join(d.lib, "raft.pdf"), "In Search of an Understandable Consensus Algorithm")
		devs, proxies = append(devs, d), append(proxies, p)
	}
	logs := func() string {
		var s string
		for _, m := range mounts {
			s += m.log()
		}
		return s
	}
	for i, d := range devs {
		m := d.mount(t)
		mounts = append(mounts, m)
		testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, d.name+" to index and sync raft.pdf", logs, func() bool {
			st := d.status()
			return exists(filepath.Join(m.dir, "all", "raft.pdf")) && st.Sync != nil && st.Sync.Connected && st.Sync.Pending == 0 &&
				uploaded(t, srv, "e2e3")
		})
		if i > 0 {
			// The first round matched the PDF to A's record: one paper.
			if got := names(filepath.Join(m.dir, "all")); len(got) != 2 {
				t.Fatalf("%s's all/: %v", d.name, got)
			}
		}
	}
	a, b, c := mounts[0], mounts[1], mounts[2]
	for _, p := range proxies {
		p.Disable(t)
	}
	if err := os.Remove(filepath.Join(c.dir, "all", "raft.pdf")); err != nil {
		t.Fatal(err)
	}
	editSidecar(t, filepath.Join(a.dir, "all", "raft.json"), map[string]any{"title": "Raft"})
	editSidecar(t, filepath.Join(b.dir, "all", "raft.json"), map[string]any{"tags": []string{"consensus"}})
	if !exists(filepath.Join(c.dir, "trash", "raft.pdf")) {
		t.Fatalf("C's trash/ after rm: %v", names(filepath.Join(c.dir, "trash")))
	}
	for _, p := range proxies {
		p.Enable(t)
	}
	for i, m := range mounts {
		testutil.Eventually(t, 50*time.Millisecond, 60*time.Second, devs[i].name+" to show the merged paper in trash/", logs, func() bool {
			if !exists(filepath.Join(m.dir, "trash", "Raft.json")) {
				return false
			}
			got := readSidecar(t, filepath.Join(m.dir, "trash", "Raft.json"))
			return got["trashed"] != nil && fmt.Sprint(got["tags"]) == "[consensus]"
		})
		if got := names(filepath.Join(m.dir, "all")); len(got) != 0 {
			t.Errorf("%s's all/ still lists %v", devs[i].name, got)
		}
	}
	if !exists(filepath.Join(devs[2].lib, ".paperfs-trash", "raft.pdf")) {
		t.Errorf("C's PDF is not in its trash folder: %v", names(filepath.Join(devs[2].lib, ".paperfs-trash")))
	}
	for _, d := range devs[:2] {
		if !exists(filepath.Join(d.lib, "raft.pdf")) {
			t.Errorf("%s's PDF is gone from its library folder: %v", d.name, names(d.lib))
		}
	}
}

// TestSyncCommand: paperfs sync on a new device downloads the library with
// a progress bar and status lists the papers whose PDF has not arrived;
// a missing or unreachable server gives an error naming the problem and
// never the password.
func TestSyncCommand(t *testing.T) {
	srv := synctest.Start(t)
	a := newDevice(t, "A", srv.URI, "cli")
	for _, n := range []string{"one", "two", "three"} {
		testutil.WritePDF(t, filepath.Join(a.lib, n+".pdf"), n)
	}
	a.run("scan")
	out := a.run("sync")
	if !strings.Contains(out, "sent 3 changes, received 0, 0 conflicts") || !strings.Contains(out, "database cli") {
		t.Fatalf("A's first sync: %s", out)
	}
	if out := a.run("sync"); !strings.Contains(out, "sent 0 changes, received 0") {
		t.Fatalf("idle sync: %s", out)
	}

	// A new device has one of the three PDFs so far.
	c := newDevice(t, "C", srv.URI, "cli")
	testutil.WritePDF(t, filepath.Join(c.lib, "two.pdf"), "two")
	cmd := c.cmd("sync")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("C's sync: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stdout.String(), "received 3") || !strings.Contains(stdout.String(), "2 papers have no PDF") {
		t.Fatalf("C's sync: %s", stdout.String())
	}
	if !strings.Contains(stderr.String(), "downloading the library") {
		t.Fatalf("no progress bar on C's bootstrap: %q", stderr.String())
	}
	st := c.status()
	var missing []string
	for _, m := range st.Missing {
		missing = append(missing, m.Path)
	}
	slices.Sort(missing)
	// Papers counts those whose PDF is here, as all/ shows them.
	if st.Papers != 1 || !slices.Equal(missing, []string{"one.pdf", "three.pdf"}) {
		t.Fatalf("C's status: %d papers, missing %v", st.Papers, missing)
	}
	text := c.run("status")
	if !strings.Contains(text, "missing:   2 papers") || !strings.Contains(text, "last sync:  20") || strings.Contains(text, "last sync:  never") {
		t.Fatalf("C's status:\n%s", text)
	}
	// The scan of C's folder matches two.pdf to its record.
	if out := c.run("scan"); !strings.Contains(out, "1 PDFs: 0 new") {
		t.Fatalf("C's scan: %s", out)
	}

	// A device that has never synced: scan and import pull first, so a
	// PDF A indexed is matched to A's record, not indexed again.
	e := newDevice(t, "E", srv.URI, "cli")
	testutil.WritePDF(t, filepath.Join(e.lib, "one.pdf"), "one")
	dl := filepath.Join(t.TempDir(), "download.pdf")
	testutil.WritePDF(t, dl, "three")
	stdout.Reset()
	stderr.Reset()
	cmd = e.cmd("scan")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil || !strings.Contains(stdout.String(), "1 PDFs: 0 new") || !strings.Contains(stderr.String(), "received 3") {
		t.Fatalf("E's scan before any sync: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	f := newDevice(t, "F", srv.URI, "cli")
	if out := f.run("import", dl); !strings.Contains(out, "imported 0, duplicates skipped 1") {
		t.Fatalf("F's import before any sync: %s", out)
	}

	// --compact leaves a snapshot in place of the changes, and a new
	// device starts from it.
	if out := a.run("sync", "--compact"); !strings.Contains(out, "compacted: snapshot") || !strings.Contains(out, "of 3 papers") || strings.Contains(out, "deleted 0 changes") {
		t.Fatalf("A's sync --compact: %s", out)
	}
	g := newDevice(t, "G", srv.URI, "cli")
	g.run("sync")
	if st := g.status(); len(st.Missing) != 3 {
		t.Fatalf("G after compaction knows %d papers (missing PDFs %v), want 3", len(st.Missing), st.Missing)
	}

	// No server configured.
	c.uri = ""
	out2, err := c.cmd("sync").CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "no MongoDB server configured") || !strings.Contains(string(out2), "PAPERFS_MONGODB_URI") {
		t.Fatalf("sync without a URI: %v %s", err, out2)
	}
	// Unreachable, with credentials in the URI.
	down := newDevice(t, "D", "mongodb://alice:Sup3rSecretPw@127.0.0.1:9/?connectTimeoutMS=500", "cli")
	out2, err = down.cmd("sync").CombinedOutput()
	if err == nil || !strings.Contains(string(out2), "cannot reach the server") || !strings.Contains(string(out2), "mongodb://***@127.0.0.1:9/") ||
		strings.Contains(string(out2), "Sup3rSecretPw") || strings.Contains(string(out2), "alice") {
		t.Fatalf("sync with an unreachable server: %v %s", err, out2)
	}
	// Offline, scan says so and indexes anyway.
	testutil.WritePDF(t, filepath.Join(down.lib, "four.pdf"), "four")
	if out := down.run("scan"); !strings.Contains(out, "going on offline") || !strings.Contains(out, "1 new") ||
		strings.Contains(out, "Sup3rSecretPw") || strings.Contains(out, "alice") {
		t.Fatalf("scan with an unreachable server:\n%s", out)
	}
	text = down.run("status")
	if !strings.Contains(text, "last error:") || strings.Contains(text, "Sup3rSecretPw") || strings.Contains(text, "alice") {
		t.Fatalf("status after a failed sync:\n%s", text)
	}
}

// BenchmarkMountEditLatency measures what a user sees: a sidecar saved in
// device A's mount until the change reads back from device B's mount,
// both mounts running with default settings against the local test
// server, each a separate `paperfs mount` process. The library has
// PAPERFS_BENCH_LIB papers (default 1000, the same PDFs on both
// devices); it reports the median, 95th percentile and maximum over
// PAPERFS_BENCH_EDITS edits (default 30), made at random moments.
//
//	go test -run '^$' -bench MountEditLatency -benchtime 1x ./cmd/paperfs
func BenchmarkMountEditLatency(b *testing.B) {
	testutil.SkipWithoutFUSE(b)
	lib, edits := 1000, 30
	if n, err := strconv.Atoi(os.Getenv("PAPERFS_BENCH_LIB")); err == nil && n > 0 {
		lib = n
	}
	if n, err := strconv.Atoi(os.Getenv("PAPERFS_BENCH_EDITS")); err == nil && n > 0 {
		edits = n
	}
	srv := synctest.Start(b)
	da := newDevice(b, "A", srv.URI, "bench")
	db := newDevice(b, "B", srv.URI, "bench")
	for i := 0; i < lib; i++ {
		for _, d := range []*device{da, db} {
			if err := os.WriteFile(filepath.Join(d.lib, fmt.Sprintf("p%05d.pdf", i)), fmt.Appendf(nil, "%%PDF-1.4\npaper %d", i), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	da.run("scan")
	da.run("sync")
	db.run("sync")
	ma, mb := da.mount(b), db.mount(b)
	var files []string
	for _, n := range names(filepath.Join(ma.dir, "all")) {
		if strings.HasSuffix(n, ".json") && len(files) < 100 {
			files = append(files, n)
		}
	}
	if len(files) == 0 {
		b.Fatalf("A's mount shows no papers")
	}
	testutil.Eventually(b, 50*time.Millisecond, 30*time.Second, "B's mount to show A's papers", mb.log, func() bool { return exists(filepath.Join(mb.dir, "all", files[0])) })
	rng := rand.New(rand.NewPCG(1, 2))
	var lat []time.Duration
	b.ResetTimer()
	for i := 0; i < edits; i++ {
		time.Sleep(time.Duration(300+rng.IntN(1200)) * time.Millisecond) // a user's pause between edits: the benchmark's load
		name := files[rng.IntN(len(files))]
		note := fmt.Sprint("edit ", i)
		start := time.Now()
		editSidecar(b, filepath.Join(ma.dir, "all", name), map[string]any{"note": note})
		want := []byte(fmt.Sprintf("%q", note))
		testutil.Eventually(b, 5*time.Millisecond, 30*time.Second, fmt.Sprintf("edit %d in B's mount", i), mb.log, func() bool {
			got, err := os.ReadFile(filepath.Join(mb.dir, "all", name))
			return err == nil && bytes.Contains(got, want)
		})
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	synctest.ReportLatency(b, lat)
}

// Two devices index the same PDF offline; once both have synced, both
// show one paper, and the merge is reported.
func TestSyncMergesDuplicates(t *testing.T) {
	srv := synctest.Start(t)
	g, h := newDevice(t, "G", "", "dup"), newDevice(t, "H", "", "dup")
	for _, d := range []*device{g, h} {
		testutil.WritePDF(t, filepath.Join(d.lib, "same.pdf"), "same")
		if out := d.run("scan"); !strings.Contains(out, "1 new") {
			t.Fatalf("%s: offline scan: %s", d.name, out)
		}
		d.uri = srv.URI
	}
	g.run("sync")
	if out := h.run("sync"); !strings.Contains(out, "received 1") || !strings.Contains(out, "merged 1 papers") {
		t.Fatalf("H's sync: %s", out)
	}
	h.run("sync")
	g.run("sync")
	for _, d := range []*device{g, h} {
		if st := d.status(); st.Papers != 1 {
			t.Fatalf("%s after merging: %d papers", d.name, st.Papers)
		}
	}
}

// TestRestoreFromServer: a damaged database is rebuilt from the sync
// server, which holds every edit this device sent, tags included; restoring
// a backup instead is refused, since the device would reuse op numbers.
func TestRestoreFromServer(t *testing.T) {
	srv := synctest.Start(t)
	a := newDevice(t, "A", srv.URI, "restore")
	src := t.TempDir()
	for _, n := range []string{"one", "two", "three"} {
		testutil.WritePDF(t, filepath.Join(src, n+".pdf"), n)
	}
	a.run("import", "--tag", "kept", filepath.Join(src, "one.pdf"), filepath.Join(src, "two.pdf"), filepath.Join(src, "three.pdf"))
	a.run("sync")
	before := a.status()
	db := filepath.Join(a.dat, "meta.db")
	data, _ := os.ReadFile(db)
	os.WriteFile(db, data[:len(data)/3], 0o600)

	if out, err := a.cmd("restore", "--latest").CombinedOutput(); err == nil || !strings.Contains(string(out), "--from-server") {
		t.Fatalf("backup restored with sync configured: %v\n%s", err, out)
	}
	out := a.run("restore", "--from-server")
	if !strings.Contains(out, "kept as") || !strings.Contains(out, "received 3") {
		t.Fatalf("restore --from-server: %s", out)
	}
	after := a.status()
	if after.Papers != 3 || after.Device == before.Device {
		t.Fatalf("rebuilt: %d papers, device %s (was %s)", after.Papers, after.Device, before.Device)
	}
	bib := a.run("export", "--tag", "kept")
	if strings.Count(bib, "@") != 3 {
		t.Fatalf("tags lost in the rebuild:\n%s", bib)
	}
	if out := a.run("scan"); !strings.Contains(out, "0 new") {
		t.Fatalf("scan after the rebuild re-created papers: %s", out)
	}
}
