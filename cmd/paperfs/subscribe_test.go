//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
	psync "github.com/paperfs/paperfs/sync"
	"github.com/paperfs/paperfs/sync/synctest"
)

// TestSubscribeCommand: `paperfs subscribe` saves the subscription in the
// config, `paperfs sync` then holds only its papers, `status` shows it,
// and `--all` brings the whole library back.
func TestSubscribeCommand(t *testing.T) {
	srv := synctest.Start(t)
	db := fmt.Sprintf("subscribe%d", time.Now().UnixNano()%1e6)
	// Another member's device, holding the whole library.
	other, err := meta.Open(filepath.Join(t.TempDir(), "meta.db"), meta.Options{Device: "memberone", NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	for i := range 10 {
		p := meta.Paper{Title: fmt.Sprintf("paper %d", i), File: meta.File{Path: fmt.Sprintf("shared/p%d.pdf", i), Size: 1}}
		if i%5 == 0 {
			p.Tags = []string{"reading-group"}
		}
		if _, err := other.Create(p); err != nil {
			t.Fatal(err)
		}
	}
	eng, err := psync.New(other, psync.Config{URI: srv.URI, Database: db, StatusFile: "-"})
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := eng.Once(ctx); err != nil {
		t.Fatal(err)
	}

	d := newDevice(t, "subscriber", srv.URI, db)
	for i := range 10 {
		testutil.WritePDF(t, filepath.Join(d.lib, "shared", fmt.Sprintf("p%d.pdf", i)), fmt.Sprintf("paper %d", i))
	}
	if out := d.run("subscribe"); !strings.Contains(out, "the whole library") {
		t.Fatalf("subscribe shows %q", out)
	}
	if out := d.run("subscribe", "--tag", "reading-group"); !strings.Contains(out, "tags reading-group") {
		t.Fatalf("subscribe says %q", out)
	}
	if out, err := d.cmd("subscribe", "--all", "--tag", "x").CombinedOutput(); err == nil {
		t.Fatalf("--all with --tag accepted: %s", out)
	}
	d.run("sync")
	st := stdoutStatus(t, d)
	if st.Papers != 2 || st.Sync == nil || st.Sync.Subscription == nil || st.Sync.SubscribedPapers != 2 {
		t.Fatalf("after subscribing: %d papers, sync status %+v", st.Papers, st.Sync)
	}
	if out := d.run("status"); !strings.Contains(out, "subscribed: papers with tags reading-group (2 papers held here)") {
		t.Fatalf("status does not show the subscription:\n%s", out)
	}
	// The shared folder holds everyone's PDFs: a scan indexes only the
	// one that is nobody's paper yet.
	testutil.WritePDF(t, filepath.Join(d.lib, "mine.pdf"), "mine")
	if out := d.run("scan"); !strings.Contains(out, "11 PDFs: 1 new") || !strings.Contains(out, "8 PDFs of papers outside this device's subscription left alone") {
		t.Fatalf("scan of the shared folder:\n%s", out)
	}
	d.run("subscribe", "--all")
	d.run("sync")
	if st := stdoutStatus(t, d); st.Papers != 11 || st.Sync.Subscription != nil {
		t.Fatalf("after --all: %d papers, subscription %+v", st.Papers, st.Sync.Subscription)
	}

	// The same library as a shared one in the "libraries" list: its own
	// entry holds its subscription; the rest of the entry stays.
	shared := newDevice(t, "member", "", "")
	conf := filepath.Join(shared.dat, "none.json")
	lab := filepath.Join(t.TempDir(), "lab")
	os.MkdirAll(lab, 0o755)
	entry := fmt.Sprintf(`{"libraries": [{"name": "lab", "library": %q, "mongodb": {"uri": %q, "database": %q}, "member": "Ada"}]}`, lab, srv.URI, db)
	os.MkdirAll(shared.dat, 0o700)
	if err := os.WriteFile(conf, []byte(entry), 0o600); err != nil {
		t.Fatal(err)
	}
	if out := shared.run("--library", "lab", "subscribe", "--folder", "none", "--tag", "reading-group"); !strings.Contains(out, "of the library lab") {
		t.Fatalf("subscribe --library lab says %q", out)
	}
	shared.run("--library", "lab", "sync")
	out, err := shared.cmd("--library", "lab", "status", "--json").Output()
	var st2 Status
	if err != nil || json.Unmarshal(out, &st2) != nil || st2.Sync == nil || st2.Sync.SubscribedPapers != 2 {
		t.Fatalf("shared library after subscribing (%v): %s", err, out)
	}
	b, _ := os.ReadFile(conf)
	if !strings.Contains(string(b), `"member": "Ada"`) || !strings.Contains(string(b), `"reading-group"`) {
		t.Fatalf("config after subscribe --library:\n%s", b)
	}
	if out := shared.run("subscribe"); !strings.Contains(out, "of the personal library, this device holds the whole library") {
		t.Fatalf("the personal library's subscription: %q", out)
	}
}

// stdoutStatus is `status --json` read from stdout alone (the store's
// opening may log on stderr).
func stdoutStatus(t *testing.T, d *device) Status {
	t.Helper()
	out, err := d.cmd("status", "--json").Output()
	if err != nil {
		t.Fatalf("status --json: %v", err)
	}
	var st Status
	if err := json.Unmarshal(out, &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return st
}
