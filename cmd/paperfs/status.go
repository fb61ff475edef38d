package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/atomicfile"
	"github.com/paperfs/paperfs/meta/library"
	psync "github.com/paperfs/paperfs/sync"
)

// Status is what `paperfs status` reports. A running mount publishes it to
// status.json in the data dir, since it holds the database open.
type Status struct {
	Library string `json:"library"`
	// Folder is whether the library folder was there at the last scan:
	// the mount's, when one runs. A folder that vanished (a cloud drive
	// or share not mounted) keeps its papers as they were.
	Folder   folderStatus   `json:"library_folder"`
	Database string         `json:"database"`
	Device   string         `json:"device"`
	Papers   int            `json:"papers"`
	Untagged int            `json:"untagged"`
	Trashed  int            `json:"trashed"`
	Missing  []MissingPaper `json:"missing"`
	Pending  int            `json:"pending_sync_ops"`
	Mount    *mountInfo     `json:"mount,omitempty"`
	// Sync is the sync engine's state, nil when no server is configured:
	// the running mount's (from its status file) or, with no mount, what
	// the last sync round recorded.
	Sync      *psync.Status `json:"sync,omitempty"`
	Backups   backupStatus  `json:"backups"`
	UpdatedAt time.Time     `json:"updated_at"`
	// Refused are the papers' PDFs whose name or path a cloud drive would
	// refuse, so they never reach the other devices; 'paperfs rename'
	// renames them.
	Refused []RefusedPDF `json:"refused_names"`
	// Libraries are all the libraries of the config, the personal one
	// first, when it names shared ones (see libraries_status.go).
	Libraries []LibraryLine `json:"libraries,omitempty"`
}

// folderStatus is library.FolderState as status shows it.
type folderStatus struct {
	Available bool      `json:"available"`
	Since     time.Time `json:"since,omitzero"`
	Reason    string    `json:"reason,omitempty"`
}

// backupStatus sums up the database's backups (see cmd_restore.go).
type backupStatus struct {
	Dir     string    `json:"dir"`
	Count   int       `json:"count"`
	Newest  time.Time `json:"newest,omitzero"` // when the newest good one was made
	Damaged int       `json:"damaged"`         // backups that do not match their check file
}

func collectBackups(dbPath string) (backupStatus, error) {
	list, err := meta.ListBackups(dbPath, false)
	bs := backupStatus{Dir: meta.BackupDir(dbPath), Count: len(list)}
	for _, b := range list {
		switch {
		case b.Err != nil:
			bs.Damaged++
		case bs.Newest.IsZero():
			bs.Newest = b.Made
		}
	}
	return bs, err
}

// MissingPaper is a paper whose PDF is not in this device's library folder.
type MissingPaper struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Path  string `json:"path"`
}

// RefusedPDF is a paper's PDF whose path a cloud drive would refuse.
type RefusedPDF struct {
	ID      string `json:"id"`
	Path    string `json:"path"`
	Problem string `json:"problem"`
}

type mountInfo struct {
	Dir         string    `json:"dir"`
	PID         int       `json:"pid"`
	Since       time.Time `json:"since"`
	Passthrough bool      `json:"passthrough"`
	RSS         int64     `json:"rss_bytes"`  // the mount process's resident memory
	HeapLimit   int64     `json:"heap_limit"` // its soft memory limit (see memlimit.go), 0 for none
	Inodes      int       `json:"inodes"`     // inodes of papers' files and group directories the kernel holds
	MaxInodes   int       `json:"max_inodes"` // their bound (--max-inodes), 0 for none
	// Scans counts the scans of the library folder the mount has done
	// (the first one at start, then on changes and periodically).
	Scans int64 `json:"scans"`
	// Rejected are the last sidecar saves the mount refused (also in the
	// mount's .paperfs/errors), newest last.
	Rejected []fs.Rejection `json:"rejected,omitempty"`
}

const statusRejections = 5

func collectStatus(a *app) (*Status, error) {
	st := &Status{Library: a.lib.Root, Folder: folderStatus(a.lib.FolderState()), Database: a.store.Path(), Device: a.store.Device(), UpdatedAt: time.Now()}
	var err error
	count := func(k meta.Kind) int {
		n, cerr := a.store.Count(meta.View{Kind: k})
		if cerr != nil && err == nil {
			err = cerr
		}
		return n
	}
	st.Papers, st.Untagged, st.Trashed = count(meta.All), count(meta.Untagged), count(meta.Trash)
	es, lerr := a.store.List(meta.View{Kind: meta.Missing})
	if lerr != nil {
		return nil, lerr
	}
	st.Missing = []MissingPaper{}
	for _, e := range es {
		p, gerr := a.store.Get(e.ID)
		if gerr != nil {
			return nil, gerr
		}
		st.Missing = append(st.Missing, MissingPaper{ID: p.ID, Title: p.Title, Path: p.File.Path})
	}
	refused, lerr := a.lib.Unportable()
	if lerr != nil {
		return nil, lerr
	}
	st.Refused = []RefusedPDF{}
	for _, f := range refused {
		st.Refused = append(st.Refused, RefusedPDF{ID: f.ID, Path: f.Path, Problem: library.PathProblem(f.Path)})
	}
	if st.Pending, lerr = a.store.PendingCount(); lerr != nil {
		return nil, lerr
	}
	return st, err
}

func statusPath(dataDir string) string { return filepath.Join(dataDir, "status.json") }

// frontend is what the status file shows of a running mount.
type frontend interface {
	Passthrough() bool
	Inodes() (held, bound int)
}

// publishStatus rewrites the status file when the library changes (at most
// every 200ms) and every few seconds, until ctx ends.
func publishStatus(ctx context.Context, a *app, mi *mountInfo, view *fs.FS, fsys frontend) {
	tick := time.NewTicker(5 * time.Second)
	defer tick.Stop()
	sub := a.store.Subscribe()
	defer sub.Close()
	for {
		st, err := collectStatus(a)
		if err != nil {
			a.log.Warn("collecting status", "err", err)
		} else {
			mi.Passthrough = fsys.Passthrough()
			mi.RSS, mi.HeapLimit = selfRSS(), heapLimit()
			mi.Inodes, mi.MaxInodes = fsys.Inodes()
			mi.MaxInodes = max(mi.MaxInodes, 0)
			mi.Scans = a.scans.Load()
			mi.Rejected = view.Rejections()
			if n := len(mi.Rejected); n > statusRejections {
				mi.Rejected = mi.Rejected[n-statusRejections:]
			}
			st.Mount = mi
			if err := atomicfile.WriteJSON(statusPath(a.dataDir), st); err != nil {
				a.log.Warn("writing status file", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-sub.C:
			// let a burst of changes settle, draining what queued meanwhile
			for t := time.After(200 * time.Millisecond); ; {
				select {
				case <-sub.C:
					continue
				case <-t:
				case <-ctx.Done():
					return
				}
				break
			}
		}
	}
}

func removeStatus(a *app) { os.Remove(statusPath(a.dataDir)) }

// selfRSS is this process's resident memory in bytes, 0 if unknown.
func selfRSS() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, _ := strconv.ParseInt(f[1], 10, 64)
	return pages * int64(os.Getpagesize())
}

func printStatus(w io.Writer, st *Status) {
	fmt.Fprintf(w, "library:   %s\n", st.Library)
	printFolder(w, st)
	fmt.Fprintf(w, "database:  %s (device %s)\n", st.Database, st.Device)
	if st.Mount != nil {
		mode := "FUSE reads"
		if st.Mount.Passthrough {
			mode = "kernel passthrough"
		}
		fmt.Fprintf(w, "mounted:   %s (pid %d, since %s, PDFs via %s)\n", st.Mount.Dir, st.Mount.PID,
			st.Mount.Since.Format(time.DateTime), mode)
		bound := "no bound"
		if st.Mount.MaxInodes > 0 {
			bound = fmt.Sprintf("at most %d", st.Mount.MaxInodes)
		}
		limit := "no heap limit"
		if st.Mount.HeapLimit > 0 {
			limit = fmt.Sprintf("heap limit %d MB", st.Mount.HeapLimit>>20)
		}
		fmt.Fprintf(w, "memory:    %d MB resident (%s); %d inodes of papers' files and groups (%s, --max-inodes)\n",
			st.Mount.RSS>>20, limit, st.Mount.Inodes, bound)
		if len(st.Mount.Rejected) > 0 {
			fmt.Fprintf(w, "refused:   %d recent sidecar saves (metadata unchanged; the text is kept; all in %s/.paperfs/errors):\n",
				len(st.Mount.Rejected), st.Mount.Dir)
			for _, r := range st.Mount.Rejected {
				fmt.Fprintf(w, "  %s  %s: %s\n    kept in %s\n", r.Time.Local().Format(time.DateTime), r.File, r.Problem, r.Kept)
			}
		}
	} else {
		fmt.Fprintf(w, "mounted:   no\n")
	}
	fmt.Fprintf(w, "papers:    %d (%d untagged, %d in trash)\n", st.Papers, st.Untagged, st.Trashed)
	printBackups(w, st.Backups)
	printSync(w, st)
	printRefusedPDFs(w, st.Refused)
	if len(st.Missing) == 0 {
		fmt.Fprintf(w, "missing:   none: every PDF is in the library folder\n")
		return
	}
	fmt.Fprintf(w, "missing:   %d papers whose PDF is not in the library folder on this device:\n", len(st.Missing))
	for _, m := range st.Missing {
		fmt.Fprintf(w, "  %s  %s  (%s)\n", m.ID, m.Title, m.Path)
	}
}

// printFolder says when the library folder is not there. A status file
// from before the field existed has no state: nothing is said.
func printFolder(w io.Writer, st *Status) {
	f := st.Folder
	if f.Available || f.Since.IsZero() && f.Reason == "" {
		return
	}
	fmt.Fprintf(w, "  UNAVAILABLE since %s: %s\n", f.Since.Local().Format(time.DateTime), f.Reason)
	fmt.Fprintf(w, "  The papers are kept as they were (none is marked missing); PDFs cannot be opened until the folder is back.\n")
	if st.Mount != nil {
		fmt.Fprintf(w, "  The mount rescans as soon as it is back: mount the drive or reconnect the share.\n")
	} else {
		fmt.Fprintf(w, "  Mount the drive or reconnect the share, then run 'paperfs scan' or mount the library.\n")
	}
}

// printSync shows the connection, the queue, the last successful sync and
// recent conflicts. Everything in st.Sync is already free of credentials.
func printSync(w io.Writer, st *Status) {
	sy := st.Sync
	if sy == nil {
		fmt.Fprintf(w, "sync:      off (no MongoDB server configured); %d local changes recorded for when it is\n", st.Pending)
		return
	}
	fmt.Fprintf(w, "sync:      %s (database %s)\n", sy.Server, sy.Database)
	if sy.DeviceName != "" {
		fmt.Fprintf(w, "  device:     %s (%s)\n", sy.DeviceName, sy.Device)
	}
	printSubscription(w, sy)
	switch {
	case sy.Running && sy.AuthFailed:
		fmt.Fprintf(w, "  connection: the server refused this device's credentials; retrying with backoff (mount pid %d); edits are kept\n", sy.PID)
	case sy.Running && sy.Waiting > 0:
		fmt.Fprintf(w, "  connection: no answer from the server for %s (mount pid %d); edits are kept and sent later\n", sy.Waiting, sy.PID)
	case sy.Running && sy.Connected:
		fmt.Fprintf(w, "  connection: connected (mount pid %d syncs continuously)\n", sy.PID)
	case sy.Running && sy.LastError == "":
		fmt.Fprintf(w, "  connection: connecting (mount pid %d)\n", sy.PID)
	case sy.Running:
		fmt.Fprintf(w, "  connection: offline, retrying with backoff (mount pid %d); edits are kept and sent later\n", sy.PID)
	default:
		fmt.Fprintf(w, "  connection: not syncing (no mount running; 'paperfs sync' runs one round)\n")
	}
	printAccess(w, sy)
	if sy.LastError != "" && sy.LastError != sy.Access {
		fmt.Fprintf(w, "  last error: %s\n", sy.LastError)
	}
	if r := sy.LastRound; r != nil {
		what := fmt.Sprintf("sent %d, received %d, %d conflicts", r.Sent, r.Received, r.Conflicts)
		if r.Error != "" {
			what = "failed: " + r.Error
		}
		fmt.Fprintf(w, "  last round: %s (%s ago, took %s): %s\n", r.At.Local().Format(time.DateTime),
			time.Since(r.At).Round(time.Second), r.Took, what)
	}
	if !sy.ClockMeasured.IsZero() {
		fmt.Fprintf(w, "  clock:      %s off the server's (measured %s)\n", sy.ClockOffset, sy.ClockMeasured.Local().Format(time.DateTime))
	}
	if sy.ClockWarning != "" {
		fmt.Fprintf(w, "  WARNING:    %s\n", sy.ClockWarning)
	}
	fmt.Fprintf(w, "  pending:    %d local changes not yet sent\n", sy.Pending)
	if sy.LastSync.IsZero() {
		fmt.Fprintf(w, "  last sync:  never\n")
	} else {
		fmt.Fprintf(w, "  last sync:  %s (%s ago)\n", sy.LastSync.Local().Format(time.DateTime), time.Since(sy.LastSync).Round(time.Second))
	}
	if len(sy.Conflicts) == 0 {
		fmt.Fprintf(w, "  conflicts:  none recently\n")
		return
	}
	const show = 10
	cs := sy.Conflicts
	fmt.Fprintf(w, "  conflicts:  %d recent, resolved (most recent last):\n", len(cs))
	if len(cs) > show {
		cs = cs[len(cs)-show:]
	}
	for _, c := range cs {
		fmt.Fprintf(w, "    %s  %s\n", c.At.Local().Format(time.DateTime), describeConflict(c.Paper, c.Conflict))
	}
}

func printBackups(w io.Writer, bs backupStatus) {
	if bs.Newest.IsZero() {
		fmt.Fprintf(w, "backups:   none yet (a mount, scan or import makes one a day, in %s)\n", bs.Dir)
	} else {
		fmt.Fprintf(w, "backups:   %d, newest %s, in %s ('paperfs restore' lists them)\n", bs.Count, bs.Newest.Local().Format(time.DateTime), bs.Dir)
	}
	if bs.Damaged > 0 {
		fmt.Fprintf(w, "  %d backups do not match their check file and cannot be restored\n", bs.Damaged)
	}
}

// printRefusedPDFs lists the first PDFs whose names a cloud drive refuses.
func printRefusedPDFs(w io.Writer, rs []RefusedPDF) {
	if len(rs) == 0 {
		fmt.Fprintf(w, "names:     every PDF's name is one OneDrive and Dropbox accept\n")
		return
	}
	fmt.Fprintf(w, "names:     %d PDFs have names a cloud drive refuses, so they never reach your other devices; 'paperfs rename --dry-run' shows the fix:\n", len(rs))
	const show = 10
	for _, r := range rs[:min(len(rs), show)] {
		fmt.Fprintf(w, "  %s  %q %s\n", r.ID, r.Path, r.Problem)
	}
	if len(rs) > show {
		fmt.Fprintf(w, "  ... and %d more ('paperfs status --json' lists them all)\n", len(rs)-show)
	}
}
