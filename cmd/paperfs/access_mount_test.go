//go:build linux

package main

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"
	"github.com/paperfs/paperfs/sync/synctest"
)

// TestMountReadOnlyMember: two members share a lab library (one database,
// one shared PDF folder). The one whose database user has read on it
// mounts it: the other's paper is there, every write in shared/lab/
// answers EROFS with the reason in .paperfs/errors, the personal library
// stays writable, and status says read-only and lists the reader's own
// edit, kept and not sent; the writer's edits through its own mount reach
// the reader's. The server is FerretDB with SCRAM behind the role wall.
func TestMountReadOnlyMember(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	srv := synctest.StartAuth(t)
	srv.CreateUser(t, "admin", "writer", "writer-pw")
	srv.CreateUser(t, "admin", "reader", "reader-pw")
	db := "lab"
	wall := synctest.RoleWall(t, srv, "writer=readWrite@"+db, "reader=read@"+db)
	labLib := filepath.Join(t.TempDir(), "Lab papers")
	os.MkdirAll(labLib, 0o755)

	configure := func(e *env, uri string) {
		cfg, _ := json.Marshal(map[string]any{"libraries": []map[string]any{{"name": "lab", "library": labLib,
			"mongodb": map[string]string{"uri": uri, "database": db}}}})
		if err := os.WriteFile(filepath.Join(e.dat, "none.json"), cfg, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	member := func(uri string) *env {
		e := newEnv(t)
		os.MkdirAll(e.dat, 0o700)
		configure(e, uri)
		return e
	}
	w := member(wall.UserURI("writer", "writer-pw", "admin"))
	testutil.WritePDF(t, filepath.Join(labLib, "attention.pdf"), "attention")
	w.run("--library", "lab", "scan")
	w.run("--library", "lab", "sync")

	// The reader could write at first: it syncs the writer's paper, then
	// loses the role (the lab's admin changed it) before its next round,
	// and indexes a PDF it put in the shared folder meanwhile: an edit
	// made before it learned it may only read, which can never be sent.
	readerURI := wall.UserURI("reader", "reader-pw", "admin")
	r := member(readerURI)
	wall.SetRoles(t, "reader", "readWrite@"+db)
	r.run("--library", "lab", "sync")
	wall.SetRoles(t, "reader", "read@"+db)
	// Offline (the same user, a server that does not answer) the scan
	// goes by what it last knew.
	configure(r, "mongodb://reader:reader-pw@127.0.0.1:1/?authSource=admin&serverSelectionTimeoutMS=300&connectTimeoutMS=300")
	testutil.WritePDF(t, filepath.Join(labLib, "notes.pdf"), "reader's notes")
	r.run("--library", "lab", "scan")
	configure(r, readerURI)
	if out := r.run("--library", "lab", "sync"); !strings.Contains(out, "read-only: your database user may only read "+db) {
		t.Errorf("the reader's sync does not say it is read-only:\n%s", out)
	}
	// Known read-only, its scans index nothing more: a new PDF is left
	// for the members who may write, nothing is queued.
	testutil.WritePDF(t, filepath.Join(labLib, "extra.pdf"), "another")
	if out := r.run("--library", "lab", "scan"); !strings.Contains(out, "left for the members who may write") || !strings.Contains(out, "extra.pdf") {
		t.Errorf("the reader's scan once read-only:\n%s", out)
	}

	m := startMount(t, r)
	lab := filepath.Join(m.dir, "shared", "lab")
	var st Status
	testutil.Eventually(t, 100*time.Millisecond, 30*time.Second, "the reader's mount to find the lab read-only", m.log, func() bool {
		st = Status{}
		return json.Unmarshal([]byte(r.run("--library", "lab", "status", "--json")), &st) == nil &&
			st.Sync != nil && st.Sync.ReadOnly
	})
	if st.Papers != 2 {
		t.Errorf("the reader's lab holds %d papers, want the writer's and the one it indexed before it knew", st.Papers)
	}
	if st.Sync.Pending == 0 || st.Sync.HeldPapers != 1 {
		t.Errorf("held edits: pending %d, %d papers; want the reader's scan kept", st.Sync.Pending, st.Sync.HeldPapers)
	}

	err := os.Mkdir(filepath.Join(lab, "tags", "newtag"), 0o755)
	if !errors.Is(err, syscall.EROFS) {
		t.Fatalf("mkdir in the read-only lab: %v, want EROFS\n%s", err, m.log())
	}
	if b, err := os.ReadFile(filepath.Join(lab, ".paperfs", "errors")); err != nil || !strings.Contains(string(b), "may only read "+db) {
		t.Errorf(".paperfs/errors: %v\n%s", err, b)
	}
	// The personal library is not the lab: it stays writable.
	if err := os.Mkdir(filepath.Join(m.dir, "tags", "mine"), 0o755); err != nil {
		t.Errorf("mkdir in the personal library: %v", err)
	}
	out := r.run("--library", "lab", "status")
	t.Logf("the reader's status:\n%s", out)
	for _, want := range []string{"access:     read-only: your database user may only read " + db, "held here:", "notes"} {
		if !strings.Contains(out, want) {
			t.Errorf("status lacks %q:\n%s", want, out)
		}
	}
	// The writer works through a mount of its own, its personal library
	// beside the lab: an edit of a sidecar there reaches the reader's
	// mount.
	wm := startMount(t, w)
	// (Its mount indexes the PDFs the reader left in the shared folder:
	// it may write.)
	editSidecar(t, filepath.Join(wm.dir, "shared", "lab", "all", "attention.json"), map[string]any{"note": "read this before Friday"})
	readerSide := filepath.Join(lab, "all", "attention.json")
	testutil.Eventually(t, 100*time.Millisecond, 30*time.Second, "the writer's note in the reader's mount", m.log, func() bool {
		b, err := os.ReadFile(readerSide)
		var got map[string]any
		return err == nil && json.Unmarshal(b, &got) == nil && got["note"] == "read this before Friday"
	})

	// The held edit can be handed over; the writer's paper is not in it.
	if out := r.run("--library", "lab", "export", "--held"); !strings.Contains(out, "notes") || strings.Contains(out, "attention") {
		t.Errorf("export --held:\n%s", out)
	}
	if refused, _ := wall.Stats(t); refused != 0 {
		t.Errorf("the reader's mount tried %d writes", refused)
	}
}

// TestMountAuthFailureIsolated: one mount serves the personal library and
// a lab library whose password is wrong. The lab's sync stops with a
// message that says so (never the password), its views stay writable
// (a login problem is not a read-only role: the edit is kept, held like
// an offline one), and the personal library keeps syncing: a paper
// another device adds arrives.
func TestMountAuthFailureIsolated(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	srv := synctest.StartAuth(t)
	srv.CreateUser(t, "admin", "ada", "right-pw")
	labLib := filepath.Join(t.TempDir(), "Lab papers")
	os.MkdirAll(labLib, 0o755)
	personal := map[string]string{"uri": srv.UserURI("ada", "right-pw", "admin"), "database": "ada"}

	other := newEnv(t)
	os.MkdirAll(other.dat, 0o700)
	otherCfg, _ := json.Marshal(map[string]any{"mongodb": personal})
	if err := os.WriteFile(filepath.Join(other.dat, "none.json"), otherCfg, 0o600); err != nil {
		t.Fatal(err)
	}

	e := newEnv(t)
	os.MkdirAll(e.dat, 0o700)
	cfg, _ := json.Marshal(map[string]any{"mongodb": personal, "libraries": []map[string]any{{"name": "lab", "library": labLib,
		"mongodb": map[string]string{"uri": srv.UserURI("ada", "wrong-pw", "admin"), "database": "lab"}}}})
	if err := os.WriteFile(filepath.Join(e.dat, "none.json"), cfg, 0o600); err != nil {
		t.Fatal(err)
	}
	m := startMount(t, e)
	lab := filepath.Join(m.dir, "shared", "lab")
	var st Status
	testutil.Eventually(t, 100*time.Millisecond, 30*time.Second, "the lab's sync to report the refused login", m.log, func() bool {
		st = Status{}
		return json.Unmarshal([]byte(e.run("--library", "lab", "status", "--json")), &st) == nil &&
			st.Sync != nil && st.Sync.AuthFailed && strings.Contains(st.Sync.Access, "authentication failed")
	})
	if strings.Contains(m.log(), "wrong-pw") || strings.Contains(e.run("--library", "lab", "status"), "wrong-pw") {
		t.Errorf("the password shows in the log or status")
	}
	// Still writable: the edit is kept here.
	if err := os.Mkdir(filepath.Join(lab, "tags", "kept"), 0o755); err != nil {
		t.Errorf("mkdir in the lab whose login failed: %v, want it kept as an offline edit", err)
	}

	// The personal library syncs on: another device's paper arrives.
	testutil.WritePDF(t, filepath.Join(other.lib, "arrives.pdf"), "arrives")
	other.run("scan")
	other.run("sync")
	testutil.Eventually(t, 100*time.Millisecond, 30*time.Second, "the other device's paper in the personal library", m.log, func() bool {
		var mine Status
		// Its PDF is in the other device's folder: here it is missing.
		return json.Unmarshal([]byte(e.run("status", "--json")), &mine) == nil && len(mine.Missing) == 1 && mine.Missing[0].Path == "arrives.pdf"
	})
}
