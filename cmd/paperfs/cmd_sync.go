package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"go.mongodb.org/mongo-driver/v2/mongo"

	"github.com/paperfs/paperfs/meta"
	psync "github.com/paperfs/paperfs/sync"
)

type syncOptions struct {
	JSON, Compact bool
	DeviceName    string
}

func newSyncCommand(g *globalOptions) *cobra.Command {
	var opts syncOptions
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Run one sync round with the MongoDB server",
		Long: `Send this device's queued changes to the MongoDB server, apply every other
device's changes, and print what was sent and received and which concurrent
edits were resolved. A running mount does this continuously by itself; use
'paperfs status' to see its sync state.

On a new device, run it once before the first mount: it downloads the library
(with a progress bar). Papers whose PDF is not in this device's library folder
yet are listed by 'paperfs status' and appear in the mount's missing/ folder
until the PDF arrives.

When the server's change log has outgrown the library (more changes since
the last snapshot than papers, and at least 5000: after a large import), sync
also compacts it, so that a device set up next starts from a snapshot.

The server comes from $PAPERFS_MONGODB_URI or "mongodb": {"uri": ...} in the
config file (which must be chmod 600), the database from
$PAPERFS_MONGODB_DATABASE or "mongodb": {"database": ...} (default paperfs).`,
		Example: `  PAPERFS_MONGODB_URI='mongodb+srv://me:PASSWORD@cluster0.example.mongodb.net' paperfs sync`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSync(cmd.Context(), g, opts, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the report as JSON")
	cmd.Flags().StringVar(&opts.DeviceName, "device-name", "",
		"name this device (kept for later syncs and mounts; shown in status and conflicts on every device;\n"+
			"\"device_name\" in the config file does the same). Default: the host name")
	cmd.Flags().BoolVar(&opts.Compact, "compact", false,
		"after the round, upload a snapshot of the library and delete the changes it covers from the server\n"+
			"(new devices start from the snapshot; devices offline meanwhile catch up from it). A running mount does so weekly,\n"+
			"and it and sync do as soon as the log has outgrown the library")
	return cmd
}

// syncReport is what `paperfs sync --json` prints.
type syncReport struct {
	Server    string          `json:"server"`
	Database  string          `json:"database"`
	Sent      int             `json:"sent"`
	Received  int             `json:"received"`
	Conflicts []meta.Conflict `json:"conflicts"`
	Pending   int             `json:"pending"`
	Missing   int             `json:"missing"` // papers whose PDF is not here
	Merged    int             `json:"merged"`  // papers indexed here and on another device, merged
	// Compacted is set by --compact, or when the log had outgrown the
	// library and sync compacted it (CompactDue).
	Compacted *psync.CompactReport `json:"compacted,omitempty"`
	// Access says why this device sends nothing, if it may not write.
	Access string `json:"access,omitempty"`
}

// errNoURI says sync is not configured, and how to configure it.
func errNoURI() error {
	return fmt.Errorf("no MongoDB server configured: set $PAPERFS_MONGODB_URI, or put "+
		`"mongodb": {"uri": "mongodb+srv://USER:PASSWORD@HOST", "database": "paperfs"} in %s (then chmod 600 it)`, configPath())
}

// newEngine makes the sync engine for an opened library, or nil if no
// server is configured. It does not contact the server.
//
// inUse, if not nil, says when the library was last used, so that a mount
// keeps polling fast while someone works in it.
func (a *app) newEngine(progress func(done, total int), inUse func() time.Time) (*psync.Engine, error) {
	if a.cfg.MongoDB.URI == "" {
		return nil, nil
	}
	return psync.New(a.store, psync.Config{
		URI:          a.cfg.MongoDB.URI,
		Database:     a.cfg.MongoDB.Database,
		Logger:       a.log,
		Progress:     progress,
		InUse:        inUse,
		DeviceName:   a.cfg.DeviceName,
		Now:          a.now,
		Subscription: a.cfg.Subscribe.subscription(),
		// A running mount compacts the server's change log weekly, and
		// it and `paperfs sync` do as soon as the log outgrows the library
		// (an import), so the free tier's 512 MB and new devices'
		// downloads stay small.
		CompactEvery:    7 * 24 * time.Hour,
		CompactAfterOps: compactAfterOps,
	})
}

var errServingNoSync = errors.New("the paperfs process serving the library does not sync: no MongoDB server was configured when it started; stop it, configure the server, and start it again")

// roundEngine is the engine a sync command runs its round with: the
// serving process's own, running one when the command runs there (rounds
// are serialised, so there is still one writer), else a new one, which
// release closes.
func (a *app) roundEngine(progress func(done, total int)) (eng *psync.Engine, release func() error, err error) {
	if a.borrowed {
		if eng = a.syncing.Load(); eng == nil {
			return nil, nil, errServingNoSync
		}
		return eng, func() error { return nil }, nil
	}
	if eng, err = a.newEngine(progress, nil); err != nil {
		return nil, nil, err
	}
	return eng, eng.Close, nil
}

func runSync(ctx context.Context, g *globalOptions, opts syncOptions, w, errw io.Writer) error {
	cfg, _, dataDir, err := resolve(g)
	if err != nil {
		return err
	}
	if cfg.MongoDB.URI == "" && g.remote != nil {
		return errServingNoSync
	}
	if cfg.MongoDB.URI == "" {
		return errNoURI()
	}
	a, err := openApp(g)
	if errors.Is(err, meta.ErrLocked) {
		msg := "the library is mounted and the mount syncs continuously"
		if st, serr := psync.ReadStatusFile(psync.StatusPath(filepath.Join(dataDir, "meta.db"))); serr == nil && st.Running {
			msg = fmt.Sprintf("the library is mounted (pid %d) and the mount syncs continuously", st.PID)
		}
		return fmt.Errorf("%s; 'paperfs status' shows its sync state (%w)", msg, err)
	}
	if err != nil {
		return err
	}
	defer a.close()
	if opts.DeviceName != "" && a.borrowed {
		return fmt.Errorf("%w: --device-name while another paperfs process serves the library: its sync uses the name it started with; stop it, then run paperfs sync --device-name", errUsage)
	}
	if opts.DeviceName != "" {
		if err := psync.SetDeviceName(a.store, opts.DeviceName); err != nil {
			return fmt.Errorf("%w: --device-name: %w", errUsage, err)
		}
		a.cfg.DeviceName = strings.TrimSpace(opts.DeviceName)
	}

	// A first sync into an empty store is a new device's bootstrap: show
	// a progress bar for the download.
	n, err := a.store.Count(meta.View{Kind: meta.All})
	if err != nil {
		return err
	}
	bar := newProgress(errw, "downloading the library", "changes")
	progress := func(done, total int) {
		if opts.JSON || (n > 0 && total < 1000) {
			return
		}
		bar.update(done, total)
	}
	eng, release, err := a.roundEngine(progress)
	if err != nil {
		return err
	}
	rep, err := eng.Once(ctx)
	bar.finish()
	var compacted *psync.CompactReport
	if err == nil && opts.Compact {
		var crep psync.CompactReport
		if crep, err = eng.Compact(ctx); err == nil {
			compacted = &crep
		} else {
			err = fmt.Errorf("compacting: %w (nothing was deleted that a device still needs)", err)
		}
	} else if err == nil {
		// The log outgrew the library (an import): compact now, so that
		// a device set up next starts from a snapshot. The sync itself
		// succeeded whatever happens here.
		if due, n, derr := eng.CompactDue(); derr == nil && due {
			a.log.Info("compacting the server's change log", "changes", n)
			if crep, cerr := eng.Compact(ctx); cerr == nil {
				compacted = &crep
			} else {
				a.log.Warn("compaction did not run; a later sync or mount tries again", "err", cerr)
			}
		}
	}
	access := eng.Writable()
	// Once has saved the round's outcome for `paperfs status`; closing
	// must happen before the store closes.
	if cerr := release(); err == nil && cerr != nil {
		a.log.Debug("sync: disconnecting", "err", cerr)
	}
	server := psync.Redact(cfg.MongoDB.URI)
	if err != nil {
		if rep.Sent > 0 || rep.Received > 0 {
			fmt.Fprintf(w, "before the error: sent %d, received %d\n", rep.Sent, rep.Received)
		}
		hint := ""
		if mongo.IsNetworkError(err) || mongo.IsTimeout(err) {
			hint = "cannot reach the server (check the network, the host in the URI and, on Atlas, the IP access list): "
		}
		return fmt.Errorf("sync with %s (database %s) failed: %s%w\nlocal edits stay queued; the next sync or mount sends them",
			server, cfg.MongoDB.Database, hint, err)
	}
	// Papers just received may be PDFs this device indexed too before
	// the two synced: merge them (queued; the next round sends it).
	merged, err := a.lib.MergeDuplicates()
	if err != nil {
		return err
	}
	out := syncReport{Server: server, Database: cfg.MongoDB.Database, Sent: rep.Sent, Received: rep.Received,
		Conflicts: rep.Conflicts, Merged: merged, Compacted: compacted}
	if out.Conflicts == nil {
		out.Conflicts = []meta.Conflict{}
	}
	if access != nil {
		out.Access = access.Error()
	}
	if out.Pending, err = a.store.PendingCount(); err != nil {
		return err
	}
	if out.Missing, err = a.store.Count(meta.View{Kind: meta.Missing}); err != nil {
		return err
	}
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	fmt.Fprintf(w, "synced with %s (database %s): sent %d changes, received %d, %d conflicts resolved\n",
		server, cfg.MongoDB.Database, rep.Sent, rep.Received, len(rep.Conflicts))
	for _, c := range rep.Conflicts {
		fmt.Fprintf(w, "  %s\n", describeConflict(paperTitle(a.store, c.Paper), c))
	}
	if merged > 0 {
		fmt.Fprintf(w, "merged %d papers indexed both here and on another device before they synced (same PDF, same path)\n", merged)
	}
	if c := compacted; c != nil {
		fmt.Fprintf(w, "compacted: snapshot %s of %d papers (%d chunks, %.1f MB) covers %d changes; deleted %d changes from the server\n",
			c.Snapshot.ID, c.Snapshot.Papers, c.Snapshot.Chunks, float64(c.Snapshot.Bytes)/1e6, c.Snapshot.Ops, c.DeletedOps)
	}
	switch {
	case out.Access != "":
		fmt.Fprintf(w, "%s: %d local changes kept on this device, not sent ('paperfs status' lists them)\n", out.Access, out.Pending)
	case out.Pending > 0:
		fmt.Fprintf(w, "%d local changes still queued (a large backlog goes in several rounds): run paperfs sync again\n", out.Pending)
	}
	if out.Missing > 0 {
		fmt.Fprintf(w, "%d papers have no PDF in this device's library folder yet: 'paperfs status' lists them\n", out.Missing)
	}
	return nil
}

// paperTitle is the paper's title for messages, or its id.
func paperTitle(s *meta.Store, id string) string {
	if p, err := s.Get(id); err == nil && p.Title != "" {
		return fmt.Sprintf("%q", p.Title)
	}
	return id
}

// describeConflict says in one line which value of which paper won.
func describeConflict(title string, c meta.Conflict) string {
	won, lost := c.Local, c.Remote
	who := "this device's"
	if c.RemoteWins {
		won, lost = c.Remote, c.Local
		who = "device " + c.RemoteClock.Device + "'s"
		if c.RemoteName != "" {
			who = "device " + c.RemoteName + " (" + c.RemoteClock.Device + ")'s"
		}
	}
	other := ""
	if !c.RemoteWins {
		other = " from device " + c.RemoteClock.Device
		if c.RemoteName != "" {
			other = " from device " + c.RemoteName
		}
	}
	skew := ""
	if c.SkewDecided {
		skew = " (decided by clock skew: the winning device's clock runs ahead; the value kept is not the later edit)"
	}
	return fmt.Sprintf("%s %s: kept %s value %s over %s%s%s", title, c.Field, who, short(won), short(lost), other, skew)
}

func short(v json.RawMessage) string {
	s := string(v)
	if s == "" {
		s = "null"
	}
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return strings.ReplaceAll(s, "\n", " ")
}

// waitFirstRound waits until the engine's first round has ended, ctx is
// done or the timeout passes, whichever comes first.
func waitFirstRound(ctx context.Context, eng *psync.Engine, timeout time.Duration) {
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-eng.FirstRound():
	case <-ctx.Done():
	case <-t.C:
	}
}

// compactAfterOps is the least size of the server's change log, past the
// newest snapshots, at which sync compacts it without being asked (and
// only once it holds at least as many changes as the library has papers).
// A new device loads a snapshot far faster than it replays the changes
// it sums up (docs/sync.md), so a log this long is worth compacting.
const compactAfterOps = 5000

// pullFirstTimeout bounds the sync round that scan and import run before
// indexing. Offline, a round fails within the driver's 10 s connect and
// server-selection timeouts; this also bounds a server that accepts
// connections and never answers.
const pullFirstTimeout = 45 * time.Second

// pullFirst runs one sync round before scan or import index PDFs, when a
// server is configured, so that a PDF another device has indexed already is
// matched to the record it made rather than indexed again (see
// docs/sync.md). It never fails the command: offline, it says so on errw
// and returns, and the papers are indexed here; sync later merges a paper
// indexed on two devices.
func (a *app) pullFirst(ctx context.Context, errw io.Writer) {
	if a.borrowed {
		return // the serving process syncs by itself
	}
	eng, err := a.newEngine(nil, nil)
	if err != nil || eng == nil {
		if err != nil {
			fmt.Fprintf(errw, "not syncing first: %v\n", err)
		}
		return
	}
	rctx, cancel := context.WithTimeout(ctx, pullFirstTimeout)
	defer cancel()
	rep, err := eng.Once(rctx)
	if eng.HoldsPart() {
		// The scan asks it which PDFs are other members' papers; it is
		// closed with the app.
		a.lib.SetOutside(eng.Outside)
		a.outsideEng = eng
	} else if cerr := eng.Close(); cerr != nil {
		a.log.Debug("sync: disconnecting", "err", cerr)
	}
	server := psync.Redact(a.cfg.MongoDB.URI)
	switch {
	case ctx.Err() != nil:
		return
	case err != nil:
		fmt.Fprintf(errw, "could not sync with %s first (%v); going on offline: a PDF another device indexed meanwhile is merged with its record at the next sync\n", server, err)
	case rep.Received > 0 || rep.Sent > 0:
		fmt.Fprintf(errw, "synced with %s first: sent %d changes, received %d\n", server, rep.Sent, rep.Received)
	}
}
