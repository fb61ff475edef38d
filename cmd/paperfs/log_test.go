//go:build linux

package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// paperfs log beside a running mount: a paper named by the path of its
// PDF in the mount, by its citation key, and the whole library, with the
// member from the config, the old and new values, in the caller's time
// zone.
func TestLogCommand(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	e := newEnv(t)
	// e.cmd reads its config from there.
	if err := os.MkdirAll(e.dat, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(e.dat, "none.json"), []byte(`{"member": "Ada Lovelace"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	testutil.WritePDF(t, filepath.Join(e.lib, "engine.pdf"), "engine")
	e.run("scan")

	m := startMount(t, e)
	all := filepath.Join(m.dir, "all")
	ents, err := os.ReadDir(all)
	if err != nil {
		t.Fatal(err)
	}
	var sidecar string
	for _, d := range ents {
		if strings.HasSuffix(d.Name(), ".json") {
			sidecar = filepath.Join(all, d.Name())
		}
	}
	if sidecar == "" {
		t.Fatalf("no sidecar in %v", ents)
	}
	b, err := os.ReadFile(sidecar)
	if err != nil {
		t.Fatal(err)
	}
	var p map[string]any
	if err := json.Unmarshal(b, &p); err != nil {
		t.Fatal(err)
	}
	oldTitle, key := p["title"].(string), p["citekey"].(string)
	p["title"] = "Sketch of the Analytical Engine"
	p["tags"] = []string{"history"}
	b, _ = json.Marshal(p)
	if err := os.WriteFile(sidecar, b, 0o644); err != nil {
		t.Fatal(err)
	}

	testutil.Eventually(t, 50*time.Millisecond, 10*time.Second, "the edit", m.log, func() bool {
		_, err := os.Stat(filepath.Join(all, "Sketch of the Analytical Engine.pdf"))
		return err == nil
	})
	// The mount renamed the paper after its new title.
	pdf := filepath.Join(all, "Sketch of the Analytical Engine.pdf")

	tokyo, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		t.Fatal(err)
	}
	c := e.cmd("log", "--json", pdf)
	c.Env = append(c.Env, "TZ=Asia/Tokyo")
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("log --json: %v\n%s", err, out)
	}
	var es []logEntry
	if err := json.Unmarshal(out, &es); err != nil || len(es) != 2 {
		t.Fatalf("log --json: %v\n%s", err, out)
	}
	edit, created := es[0], es[1]
	if edit.Member != "Ada Lovelace" || created.Member != "Ada Lovelace" || !created.Created || edit.Created {
		t.Fatalf("entries %+v", es)
	}

	c = e.cmd("log", pdf)
	c.Env = append(c.Env, "TZ=Asia/Tokyo")
	out, err = c.CombinedOutput()
	if err != nil {
		t.Fatalf("log: %v\n%s", err, out)
	}
	text := string(out)
	t.Logf("paperfs log %s:\n%s", pdf, text)
	for _, want := range []string{
		edit.Paper + "  Sketch of the Analytical Engine\n",
		edit.Time.In(tokyo).Format("2006-01-02 15:04:05") + " JST  Ada Lovelace (this device, " + edit.Device + ")\n",
		`    title: "` + oldTitle + `" -> "Sketch of the Analytical Engine"` + "\n",
		"    tags: +history\n",
		created.Time.In(tokyo).Format("2006-01-02 15:04:05") + " JST  Ada Lovelace (this device, ",
		"    added the paper\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("log of the paper lacks %q:\n%s", want, text)
		}
	}
	if strings.Index(text, "title: ") > strings.Index(text, "added the paper") {
		t.Errorf("not newest first:\n%s", text)
	}

	// By citation key, and by the sidecar's path: the same history.
	for _, arg := range []string{key, sidecar[:len(sidecar)-len(filepath.Base(sidecar))] + "Sketch of the Analytical Engine.json"} {
		c = e.cmd("log", arg)
		c.Env = append(c.Env, "TZ=Asia/Tokyo")
		if o, err := c.CombinedOutput(); err != nil || string(o) != text {
			t.Errorf("log %s: %v\n%s\nwant\n%s", arg, err, o, text)
		}
	}

	// The library's last change names its paper.
	lib := e.run("log", "--limit", "1")
	if !strings.Contains(lib, "Ada Lovelace (this device, "+edit.Device+")  "+edit.Paper+"  Sketch of the Analytical Engine\n") ||
		strings.Contains(lib, "added the paper") {
		t.Errorf("log --limit 1:\n%s", lib)
	}

	if o, err := e.cmd("log", "nosuchpaper").CombinedOutput(); err == nil || !strings.Contains(string(o), "nosuchpaper: no such paper") {
		t.Errorf("log of no paper: %v %s", err, o)
	}
}

func TestURIUser(t *testing.T) {
	for uri, want := range map[string]string{
		"mongodb+srv://alice:s3cret@cluster0.example.net/?retryWrites=true": "alice",
		"mongodb://bob%40lab:p%40ss@h1:27017,h2:27017/db?authSource=admin":  "bob@lab",
		"mongodb://h1:27017/db":            "",
		"mongodb://carol@h1/db":            "carol",
		"mongodb://dave:x@y@h1/db":         "dave",
		"not a uri":                        "",
		"mongodb://h1/db?opt=user@example": "",
		"mongodb://%zz:pw@h1/":             "",
	} {
		if got := uriUser(uri); got != want {
			t.Errorf("uriUser(%q) = %q, want %q", uri, got, want)
		}
	}
	if got := memberName("  Ada Lovelace ", "mongodb://alice:pw@h/"); got != "Ada Lovelace" {
		t.Errorf("the display name comes first: %q", got)
	}
	if got := memberName("", "mongodb://alice:pw@h/"); got != "alice" {
		t.Errorf("then the database user: %q", got)
	}
}

// A change that lost to a later one, a value cut short and a conflict
// sync recorded, as the log shows them.
func TestLogEntryText(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	e := logEntry{Paper: "paper01", Op: "devb01:4", Member: "bob", Device: "devb01", Time: at, Remote: true,
		Changes: toLogChanges([]meta.FieldChange{
			{Field: "title", Old: `"Mine"`, New: `"Theirs"`, Lost: true},
			{Field: "abstract", Old: `""`, New: `"long`, Cut: true},
			{Field: "tags", Added: []string{"a"}, Removed: []string{"b"}},
		}),
		Conflicts: []meta.Conflict{{Paper: "paper01", Field: "title", Local: json.RawMessage(`"Mine"`),
			LocalClock: meta.HLC{Wall: at.Add(-time.Minute).UnixMilli(), Device: "deva01"}, RemoteOp: "devb01:4"}},
	}
	var b strings.Builder
	writeLogEntry(&b, e, false, "deva01", nil, time.UTC)
	want := `2026-03-01 09:30:00 UTC  bob (device devb01)
    title: "Mine" -> "Theirs" (not applied: a later change holds the field)
    abstract: (none) -> "long (cut: long values are kept in part)
    tags: +a -b
    conflict on title with this device's "Mine" (edited 2026-03-01 09:29:00 UTC): this device's value was kept and this change's discarded
`
	if b.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", b.String(), want)
	}
}
