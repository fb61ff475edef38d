//go:build !windows

package main

import (
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

// TestSyncClockSkewMounts: two mount processes, one with its clock two
// hours ahead ($PAPERFS_TEST_CLOCK_OFFSET), both cut off from the server
// by their fault proxies, edit one paper's title; the normal device's
// edit is the later one. After reconnecting, both converge on the fast
// device's value (its stamp wins, as docs/sync.md says), both report the
// conflict saying clock skew decided it, the fast device's status warns
// of its offset, and the normal device's clock is not dragged ahead:
// its later edits are stamped with its own time.
func TestSyncClockSkewMounts(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	srv := synctest.Start(t)
	pf, pn := synctest.Proxy(t, srv.URI), synctest.Proxy(t, srv.URI)
	fast := newDevice(t, "fast", pf.URI(), "skew")
	norm := newDevice(t, "norm", pn.URI(), "skew")
	for _, d := range []*device{fast, norm} {
		testutil.WritePDF(t, filepath.Join(d.lib, "paxos.pdf"), "the same paper on both devices")
		testutil.WritePDF(t, filepath.Join(d.lib, "other.pdf"), "another paper on both devices")
	}
	mn := norm.mount(t)
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "norm to index and upload", mn.log, func() bool {
		st := norm.status()
		return exists(filepath.Join(mn.dir, "all", "paxos.json")) && st.Sync != nil && st.Sync.Connected && st.Sync.Pending == 0 &&
			uploaded(t, srv, "skew")
	})
	mf := fast.mountEnv(t, testClockEnv+"=2h")
	if !strings.Contains(mf.log(), "TEST SETTING") {
		t.Errorf("the fast mount does not say its clock is shifted:\n%s", mf.log())
	}
	logs := func() string { return "fast:\n" + mf.log() + "\nnorm:\n" + mn.log() }
	testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, "fast to show the paper and measure its clock", logs, func() bool {
		st := fast.status()
		return exists(filepath.Join(mf.dir, "all", "paxos.json")) && st.Sync != nil && !st.Sync.ClockMeasured.IsZero() && st.Sync.Connected
	})

	// status shows the offset and warns of it on the fast device only.
	st := fast.status()
	if d := st.Sync.ClockOffset - 2*time.Hour; d < -2*time.Second || d > 2*time.Second || st.Sync.ClockWarning == "" {
		t.Errorf("fast device's status: offset %s, warning %q; want about 2h and a warning", st.Sync.ClockOffset, st.Sync.ClockWarning)
	}
	if out := fast.run("status"); !strings.Contains(out, "WARNING:") || !strings.Contains(out, "off the server's") {
		t.Errorf("fast device's status lacks the clock warning:\n%s", out)
	}
	if st := norm.status(); st.Sync == nil || st.Sync.ClockWarning != "" {
		t.Errorf("normal device's status warns: %+v", st.Sync)
	}

	// Cut off, both edit the title; the fast device first.
	pf.Disable(t)
	pn.Disable(t)
	editSidecar(t, filepath.Join(mf.dir, "all", "paxos.json"), map[string]any{"title": "Earlier, from the fast device"})
	fastEdit := time.Now()
	testutil.Eventually(t, 50*time.Millisecond, 20*time.Second, "both statuses to say offline with changes queued", logs, func() bool {
		for _, d := range []*device{fast, norm} {
			if st := d.status(); st.Sync == nil || st.Sync.Connected {
				return false
			}
		}
		return fast.status().Sync.Pending > 0
	})
	// Skew decides only edits more than a second apart in true time
	// (the offsets' own error); the scenario needs that much real time.
	time.Sleep(time.Until(fastEdit.Add(1500 * time.Millisecond)))
	editSidecar(t, filepath.Join(mn.dir, "all", "paxos.json"), map[string]any{"title": "Later, from the normal device"})

	pf.Enable(t)
	pn.Enable(t)
	const winner = "Earlier, from the fast device"
	testutil.Eventually(t, 50*time.Millisecond, 60*time.Second, "both to converge", logs, func() bool {
		a, b := filepath.Join(mf.dir, "all", winner+".json"), filepath.Join(mn.dir, "all", winner+".json")
		return exists(a) && exists(b) && fmt.Sprint(readSidecar(t, a)) == fmt.Sprint(readSidecar(t, b))
	})
	for _, c := range []struct {
		d     *device
		wins  bool // the remote value won
		local string
	}{{norm, true, "Later, from the normal device"}, {fast, false, winner}} {
		var cf *psync.ConflictRecord
		testutil.Eventually(t, 50*time.Millisecond, 15*time.Second, c.d.name+" to report the conflict", logs, func() bool {
			st := c.d.status()
			for i := range st.Sync.Conflicts {
				if st.Sync.Conflicts[i].Field == "title" {
					cf = &st.Sync.Conflicts[i]
					return true
				}
			}
			return false
		})
		var local string
		json.Unmarshal(cf.Local, &local)
		if cf.RemoteWins != c.wins || !cf.SkewDecided || local != c.local {
			t.Errorf("%s's conflict: remote wins %v, decided by skew %v, local %q; want %v, true, %q", c.d.name, cf.RemoteWins, cf.SkewDecided, local, c.wins, c.local)
		}
		if out := c.d.run("status"); !strings.Contains(out, "decided by clock skew") {
			t.Errorf("%s's status does not say clock skew decided the conflict:\n%s", c.d.name, out)
		}
	}

	// The normal device's clock stays its own: an edit made now is
	// stamped now, not two hours ahead.
	editSidecar(t, filepath.Join(mn.dir, "all", "other.json"), map[string]any{"note": "after hearing from the fast device"})
	edited := time.Now()
	var modified time.Time
	testutil.Eventually(t, 50*time.Millisecond, 5*time.Second, "norm's edit to show", logs, func() bool {
		m := readSidecarRaw(t, filepath.Join(mn.dir, "all", "other.json"))
		if m["note"] != "after hearing from the fast device" {
			return false
		}
		modified, _ = time.Parse(time.RFC3339Nano, fmt.Sprint(m["modified"]))
		return true
	})
	if modified.After(edited.Add(meta.MaxClockAhead)) || modified.Before(edited.Add(-time.Minute)) {
		t.Errorf("normal device stamped an edit made at %s with modified %s: its clock was dragged", edited.UTC(), modified.UTC())
	}
}

// readSidecarRaw reads a sidecar from a mount with every field.
func readSidecarRaw(t testing.TB, path string) map[string]any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v\n%s", path, err, b)
	}
	return m
}
