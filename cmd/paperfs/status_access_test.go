package main

import (
	"fmt"
	"strings"
	"testing"

	psync "github.com/paperfs/paperfs/sync"
)

func TestPrintAccess(t *testing.T) {
	var held []psync.HeldPaper
	for i := range 12 {
		held = append(held, psync.HeldPaper{ID: fmt.Sprintf("p%02d", i), Title: fmt.Sprintf("Paper %d", i), Ops: 1})
	}
	for _, tc := range []struct {
		name string
		st   psync.Status
		want []string
		not  []string
	}{
		{"writable", psync.Status{Pending: 3}, nil, []string{"access"}},
		{"read-only with held edits", psync.Status{Access: "read-only: your database user may only read lab", ReadOnly: true,
			Pending: 12, Held: held, HeldPapers: 12},
			[]string{"access:     read-only: your database user may only read lab", "12 local changes to 12 papers",
				"p00  Paper 0 (1 changes)", "p09  Paper 9", "... and 2 more papers"},
			[]string{"p10"}},
		{"authentication failed", psync.Status{Access: "authentication failed: ...", AuthFailed: true, Pending: 2},
			[]string{"access:     authentication failed"}, []string{"held here"}},
	} {
		var b strings.Builder
		printAccess(&b, &tc.st)
		out := b.String()
		for _, w := range tc.want {
			if !strings.Contains(out, w) {
				t.Errorf("%s: %q missing from\n%s", tc.name, w, out)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(out, n) {
				t.Errorf("%s: %q in\n%s", tc.name, n, out)
			}
		}
	}
}
