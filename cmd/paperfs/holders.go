//go:build !windows

package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

// holder is a process that keeps a mount busy: its working directory or
// files it has open are inside it.
type holder struct {
	PID     int
	Command string
	Cwd     string   // its working directory, if inside the mount
	Files   []string // files it has open inside the mount
}

func (h holder) String() string {
	var what []string
	if h.Cwd != "" {
		what = append(what, "working directory "+h.Cwd)
	}
	switch len(h.Files) {
	case 0:
	case 1:
		what = append(what, "open file "+h.Files[0])
	default:
		what = append(what, fmt.Sprintf("%d open files, e.g. %s", len(h.Files), h.Files[0]))
	}
	return fmt.Sprintf("PID %d (%s): %s", h.PID, h.Command, strings.Join(what, ", "))
}

// mountHolders lists the processes whose working directory, root or open
// files are under dir, from /proc (Linux; elsewhere it finds none). It
// reads only the links' text, never the mount itself.
func mountHolders(dir string) []holder {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil
	}
	under := func(p string) bool { return p == abs || strings.HasPrefix(p, abs+"/") }
	procs, _ := os.ReadDir("/proc")
	var out []holder
	for _, p := range procs {
		pid, err := strconv.Atoi(p.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		base := filepath.Join("/proc", p.Name())
		h := holder{PID: pid}
		for _, l := range []string{"cwd", "root"} {
			if t, err := os.Readlink(filepath.Join(base, l)); err == nil && under(t) && h.Cwd == "" {
				h.Cwd = t
			}
		}
		fds, _ := os.ReadDir(filepath.Join(base, "fd"))
		for _, fd := range fds {
			if t, err := os.Readlink(filepath.Join(base, "fd", fd.Name())); err == nil && under(t) {
				h.Files = append(h.Files, t)
			}
		}
		if h.Cwd == "" && len(h.Files) == 0 {
			continue
		}
		comm, _ := os.ReadFile(filepath.Join(base, "comm"))
		h.Command = strings.TrimSpace(string(comm))
		sort.Strings(h.Files)
		out = append(out, h)
	}
	return out
}

// describeHolders says who holds a mount, for the log.
func describeHolders(hs []holder) string {
	if len(hs) == 0 {
		return "no process found (a file may be mapped, or held by another user's process)"
	}
	s := make([]string, len(hs))
	for i, h := range hs {
		s[i] = h.String()
	}
	return strings.Join(s, "; ")
}
