package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

// Set by release builds (scripts/release):
//
//	go build -ldflags "-X main.version=v0.3.0 -X main.commit=<git hash>"
var version, commit string

// versionString is what `paperfs --version` prints: the version and commit
// given at link time, else what the go command recorded (the module
// version of `go install ...@v0.3.0`, the VCS revision of a build in a
// git checkout).
func versionString() string {
	bi, _ := debug.ReadBuildInfo()
	return formatVersion(version, commit, bi) + fmt.Sprintf(" (%s %s/%s)", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}

func formatVersion(version, commit string, bi *debug.BuildInfo) string {
	modified := false
	if bi != nil {
		if version == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if commit == "" {
					commit = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if version == "" {
		version = "devel"
	}
	switch {
	case commit == "":
		commit = "unknown"
	case modified:
		commit += " with uncommitted changes"
	}
	return "paperfs " + version + ", commit " + commit
}
