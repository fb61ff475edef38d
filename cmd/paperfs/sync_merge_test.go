//go:build !windows

package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/sync/synctest"
)

// pair is two devices with their mounts and fault proxies, both showing
// one paper, all/paxos.json, in sync.
type pair struct {
	srv    *synctest.Server
	db     string
	a, b   *device
	pa, pb *synctest.FaultProxy
	ma, mb *mounted
}

// newPair sets up the pair; names, if given, are the devices' names
// (set with paperfs sync --device-name before mounting).
func newPair(t *testing.T, db string, names ...string) *pair {
	t.Helper()
	testutil.SkipWithoutFUSE(t)
	p := &pair{srv: synctest.Start(t), db: db}
	p.pa, p.pb = synctest.Proxy(t, p.srv.URI), synctest.Proxy(t, p.srv.URI)
	p.a, p.b = newDevice(t, "A", p.pa.URI(), db), newDevice(t, "B", p.pb.URI(), db)
	for i, d := range []*device{p.a, p.b} {
		testutil.WritePDF(t, filepath.Join(d.lib, "paxos.pdf"), "the same paper on both devices")
		if i < len(names) {
			d.run("sync", "--device-name", names[i])
		}
	}
	p.ma = p.a.mount(t)
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "A to index and upload paxos.pdf", p.logs, func() bool {
		return exists(filepath.Join(p.ma.dir, "all", "paxos.json")) && uploaded(t, p.srv, db)
	})
	p.mb = p.b.mount(t)
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "B to show paxos.json", p.logs, func() bool { return exists(filepath.Join(p.mb.dir, "all", "paxos.json")) })
	return p
}

func (p *pair) logs() string { return "A:\n" + p.ma.log() + "B:\n" + p.mb.log() }

// sidecar is the paper's sidecar in mount m, whatever its name.
func (p *pair) sidecar(m *mounted) string {
	for _, n := range names(filepath.Join(m.dir, "all")) {
		if strings.HasSuffix(n, ".json") {
			return filepath.Join(m.dir, "all", n)
		}
	}
	return filepath.Join(m.dir, "all", "paxos.json")
}

// current reads the paper's sidecar in mount m; nil while it is being
// renamed (a title edit renames it).
func (p *pair) current(m *mounted) map[string]any {
	b, err := os.ReadFile(p.sidecar(m))
	if err != nil {
		return nil
	}
	var v map[string]any
	if json.Unmarshal(b, &v) != nil {
		return nil
	}
	return v
}

// waitField waits until the paper's field reads want in mount m.
func (p *pair) waitField(t *testing.T, m *mounted, field string, want any) {
	t.Helper()
	testutil.Eventually(t, 50*time.Millisecond, 60*time.Second, m.dir+" to show "+field, p.logs, func() bool {
		return p.current(m)[field] == want
	})
}

// waitOp waits until the server holds an op setting field to v.
func (p *pair) waitOp(t *testing.T, field string, v any) {
	t.Helper()
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "an op with "+field+" on the server", p.logs, func() bool {
		n, err := p.srv.Client(t).Database(p.db).Collection("ops").CountDocuments(context.Background(), bson.D{{Key: "set." + field, Value: v}})
		if err != nil {
			t.Fatalf("counting ops on the server: %v", err)
		}
		return n > 0
	})
}

// TestSyncEmptiedFieldKeepsConcurrentEdit is issue 15's reproduction: a
// field emptied on A (rating 0) must not be written again by A's later
// edits of other fields, which would beat B's concurrent rating.
func TestSyncEmptiedFieldKeepsConcurrentEdit(t *testing.T) {
	p := newPair(t, "emptied")
	editSidecar(t, p.sidecar(p.ma), map[string]any{"rating": 3})
	p.waitField(t, p.mb, "rating", 3.0)
	editSidecar(t, p.sidecar(p.ma), map[string]any{"rating": 0})
	p.waitField(t, p.mb, "rating", 0.0)

	p.pa.Disable(t)
	editSidecar(t, p.sidecar(p.mb), map[string]any{"rating": 4})
	p.waitOp(t, "rating", 4)
	editSidecar(t, p.sidecar(p.ma), map[string]any{"note": "n1"})
	p.pa.Enable(t)

	for _, m := range []*mounted{p.ma, p.mb} {
		p.waitField(t, m, "note", "n1")
	}
	for _, m := range []*mounted{p.ma, p.mb} {
		if got := readSidecar(t, p.sidecar(m)); got["rating"] != 4.0 {
			t.Errorf("%s: rating %v, want B's 4 (A only edited the note)", m.dir, got["rating"])
		}
	}
	for _, d := range []*device{p.a, p.b} {
		if st := d.status(); st.Sync != nil && len(st.Sync.Conflicts) > 0 {
			t.Errorf("%s reports conflicts for edits of different fields: %+v", d.name, st.Sync.Conflicts)
		}
	}
}

// TestSyncConfidencePerField: A edits the title and B the year while
// apart. Both values and both confidence markers survive everywhere, and
// no device reports a conflict on confidence.
func TestSyncConfidencePerField(t *testing.T) {
	p := newPair(t, "confidence")
	p.pa.Disable(t)
	p.pb.Disable(t)
	editSidecar(t, p.sidecar(p.ma), map[string]any{"title": "Paxos Made Simple"})
	editSidecar(t, p.sidecar(p.mb), map[string]any{"year": 2001})
	p.pa.Enable(t)
	p.pb.Enable(t)
	for _, m := range []*mounted{p.ma, p.mb} {
		testutil.Eventually(t, 50*time.Millisecond, 60*time.Second, m.dir+" to show both edits", p.logs, func() bool {
			got := p.current(m)
			conf, _ := got["confidence"].(map[string]any)
			return got["title"] == "Paxos Made Simple" && got["year"] == 2001.0 && conf["title"] == 1.0 && conf["year"] == 1.0
		})
	}
	for _, d := range []*device{p.a, p.b} {
		if st := d.status(); st.Sync != nil {
			for _, c := range st.Sync.Conflicts {
				if strings.HasPrefix(c.Field, "confidence") {
					t.Errorf("%s reports a conflict on %s: %+v", d.name, c.Field, c)
				}
			}
		}
	}
}

// TestSyncConflictOnBothDevices: A and B, named, retitle one paper while
// apart. After reconnecting, both devices report the conflict (not only
// the one that synced second), agree on who won, and name each other.
func TestSyncConflictOnBothDevices(t *testing.T) {
	p := newPair(t, "bothconflict", "desk-A", "laptop-B")
	if out := p.a.run("status"); !strings.Contains(out, "device:     desk-A (") {
		t.Fatalf("A's status does not show its name:\n%s", out)
	}
	p.pa.Disable(t)
	p.pb.Disable(t)
	editSidecar(t, p.sidecar(p.ma), map[string]any{"title": "Title from A"})
	time.Sleep(20 * time.Millisecond) // B's edit is the later one by the clock: what is tested
	editSidecar(t, p.sidecar(p.mb), map[string]any{"title": "Title from B"})
	p.pa.Enable(t)
	p.pb.Enable(t)
	for _, m := range []*mounted{p.ma, p.mb} {
		p.waitField(t, m, "title", "Title from B")
	}
	want := map[string]struct {
		d          *device
		remoteWins bool
		peer       string
	}{"A": {p.a, true, "laptop-B"}, "B": {p.b, false, "desk-A"}}
	for name, w := range want {
		testutil.Eventually(t, 50*time.Millisecond, 30*time.Second, name+" to report the title conflict", p.logs, func() bool {
			st := w.d.status()
			return st.Sync != nil && len(st.Sync.Conflicts) > 0
		})
		cs := w.d.status().Sync.Conflicts
		c := cs[len(cs)-1]
		if len(cs) != 1 || c.Field != "title" || c.RemoteWins != w.remoteWins || c.RemoteName != w.peer {
			t.Errorf("%s's conflicts: %+v; want one on title, remote wins %v, naming %s", name, cs, w.remoteWins, w.peer)
		}
		if out := w.d.run("status"); !strings.Contains(out, w.peer) {
			t.Errorf("%s's status does not name %s:\n%s", name, w.peer, out)
		}
	}
	var dev bson.M
	if err := p.srv.Client(t).Database(p.db).Collection("devices").FindOne(context.Background(), bson.D{{Key: "name", Value: "desk-A"}}).Decode(&dev); err != nil {
		t.Errorf("no devices document named desk-A: %v", err)
	}
}

// TestSyncStatusWhileCutOff: when the server stops answering, status
// says so while the round still waits, not once the driver gives up.
func TestSyncStatusWhileCutOff(t *testing.T) {
	p := newPair(t, "cutoff")
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "A's status to show a round", p.logs, func() bool {
		st := p.a.status()
		return st.Sync != nil && st.Sync.Connected && st.Sync.LastRound != nil
	})
	p.pa.Hang(t)
	editSidecar(t, p.sidecar(p.ma), map[string]any{"note": "sent into the void"})
	var st Status
	testutil.Eventually(t, 50*time.Millisecond, 30*time.Second, "A's status to say the round is waiting", p.logs, func() bool {
		st = p.a.status()
		return st.Sync != nil && st.Sync.Waiting > 0
	})
	if st.Sync.Connected || st.Sync.LastRound == nil || st.Sync.LastRound.Error != "" {
		t.Errorf("while the round waits (before it fails): connected %v, last round %+v", st.Sync.Connected, st.Sync.LastRound)
	}
	if out := p.a.run("status"); !strings.Contains(out, "no answer from the server") || !strings.Contains(out, "last round:") {
		t.Errorf("A's status while cut off:\n%s", out)
	}
}
