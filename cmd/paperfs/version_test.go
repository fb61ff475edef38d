//go:build !windows

package main

import (
	"os/exec"
	"runtime/debug"
	"strings"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	vcs := func(rev, modified string) *debug.BuildInfo {
		bi := &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}
		bi.Settings = append(bi.Settings, debug.BuildSetting{Key: "vcs.revision", Value: rev},
			debug.BuildSetting{Key: "vcs.modified", Value: modified})
		return bi
	}
	for _, c := range []struct {
		name            string
		version, commit string
		bi              *debug.BuildInfo
		want            string
	}{
		{"release build", "v0.3.0", "0123abc", vcs("ffff", "false"), "paperfs v0.3.0, commit 0123abc"},
		{"git checkout", "", "", vcs("0123abc", "false"), "paperfs devel, commit 0123abc"},
		{"edited checkout", "", "", vcs("0123abc", "true"), "paperfs devel, commit 0123abc with uncommitted changes"},
		{"go install @version", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}}, "paperfs v0.3.0, commit unknown"},
		{"no build info", "", "", nil, "paperfs devel, commit unknown"},
	} {
		if got := formatVersion(c.version, c.commit, c.bi); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// The binary TestMain built says at least which Go built it.
func TestVersionFlag(t *testing.T) {
	out, err := exec.Command(binary, "--version").CombinedOutput()
	if err != nil || !strings.HasPrefix(string(out), "paperfs devel, commit ") || !strings.Contains(string(out), "(go1.") {
		t.Fatalf("paperfs --version: %v %q", err, out)
	}
}
