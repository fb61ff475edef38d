//go:build !windows

package main

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta/testutil"
)

func TestProgressText(t *testing.T) {
	for _, c := range []struct {
		done, total int
		elapsed     time.Duration
		want        string
	}{
		// The first file after microseconds: no rate, no ETA.
		{1, 94, 28 * time.Microsecond, "importing 1/94 files (1%)"},
		{30, 94, 900 * time.Millisecond, "importing 30/94 files (31%)"},
		{47, 94, 4 * time.Second, "importing 47/94 files (50%), 12 files/s, 4s left"},
		{3, 94, 2 * time.Second, "importing 3/94 files (3%), 1.5 files/s, 1m1s left"},
		{1, 94, 10 * time.Second, "importing 1/94 files (1%), 6 files/min, 15m30s left"},
		{94, 94, 8 * time.Second, "importing 94/94 files (100%), 12 files/s"},
	} {
		if got := progressText("importing", "files", c.done, c.total, c.elapsed); got != c.want {
			t.Errorf("%d/%d after %v: %q, want %q", c.done, c.total, c.elapsed, got, c.want)
		}
	}
}

func TestProgressBar(t *testing.T) {
	got := progressBar("importing", "files", 47, 94, 4*time.Second, 100)
	want := "importing [====================                    ] 47/94 files (50%), 12 files/s, 4s left"
	if strings.TrimRight(got, " ") != want || len(got) != 99 {
		t.Errorf("bar at 100 columns:\n%q\nwant\n%q padded to 99", got, want)
	}
	// Too narrow for a bar: the text alone.
	if got := progressBar("importing", "files", 47, 94, time.Second, 40); !strings.HasPrefix(got, "importing 47/94") {
		t.Errorf("narrow terminal: %q", got)
	}
}

// Not a terminal: a plain line at each tenth, and nothing for one file.
func TestProgressPlainLines(t *testing.T) {
	var out bytes.Buffer
	p := newProgress(&out, "importing", "files")
	clock := p.start
	p.now = func() time.Time { return clock }
	for i := 1; i <= 20; i++ {
		clock = clock.Add(100 * time.Millisecond)
		p.update(i, 20)
	}
	p.finish()
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 11 || lines[0] != "importing 1/20 files (5%)" || lines[10] != "importing 20/20 files (100%), 10 files/s" {
		t.Errorf("plain progress: %d lines:\n%s", len(lines), out.String())
	}
	if strings.ContainsAny(out.String(), "\r[") {
		t.Errorf("a bar in plain output:\n%q", out.String())
	}
	out.Reset()
	p = newProgress(&out, "importing", "files")
	p.update(1, 1)
	p.finish()
	if out.Len() != 0 {
		t.Errorf("progress for one file: %q", out.String())
	}
}

// paperfs import into a pipe prints plain lines, no bar.
func TestImportProgressNotATerminal(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	for _, n := range []string{"1", "2", "3"} {
		testutil.WritePDF(t, filepath.Join(src, n+".pdf"), n)
	}
	var stdout bytes.Buffer
	c := e.cmd("import", src)
	c.Stdout = &stdout
	if err := c.Run(); err != nil {
		t.Fatalf("import: %v", err)
	}
	out := stdout.String()
	if !strings.Contains(out, "importing 3/3 files (100%)\n") || strings.ContainsAny(out, "\r[") {
		t.Errorf("import output into a pipe:\n%q", out)
	}
}

// On a terminal (script(1) gives it one) the bar is drawn in place.
func TestImportProgressOnATerminal(t *testing.T) {
	e := newEnv(t)
	src := t.TempDir()
	for _, n := range []string{"1", "2", "3"} {
		testutil.WritePDF(t, filepath.Join(src, n+".pdf"), n)
	}
	c := exec.Command("script", "-qec", shellQuote(binary)+" --library "+shellQuote(e.lib)+" import "+shellQuote(src), "/dev/null")
	c.Env = e.cmd().Env
	out, err := c.CombinedOutput()
	if err != nil {
		t.Fatalf("import under script(1): %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "\rimporting [") || !strings.Contains(string(out), "] 3/3 files (100%)") {
		t.Errorf("no bar on a terminal:\n%q", out)
	}
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
