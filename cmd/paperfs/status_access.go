package main

import (
	"fmt"
	"io"

	psync "github.com/paperfs/paperfs/sync"
)

// heldShown bounds the held papers `paperfs status` lists.
const heldShown = 10

// printAccess says why this device may not send its edits, if it may
// not: its database user may only read the library (and which papers'
// edits stay here), or the server refused its credentials.
func printAccess(w io.Writer, sy *psync.Status) {
	if sy.Access == "" {
		return
	}
	fmt.Fprintf(w, "  access:     %s\n", sy.Access)
	if !sy.ReadOnly || sy.Pending == 0 {
		return
	}
	fmt.Fprintf(w, "  held here:  %d local changes to %d papers that this user may not send; kept on this device ('paperfs export' writes them out):\n",
		sy.Pending, sy.HeldPapers)
	for i, h := range sy.Held {
		if i == heldShown {
			fmt.Fprintf(w, "    ... and %d more papers\n", sy.HeldPapers-heldShown)
			break
		}
		title := h.Title
		if title == "" {
			title = "(untitled)"
		}
		fmt.Fprintf(w, "    %s  %s (%d changes)\n", h.ID, title, h.Ops)
	}
}
