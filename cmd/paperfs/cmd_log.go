package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/paperfs/paperfs/meta"
	psync "github.com/paperfs/paperfs/sync"
)

type logOptions struct {
	Limit int
	JSON  bool
}

// defaultLogLimit is how many changes `paperfs log` shows of the whole
// library; a paper's log shows all this device keeps.
const defaultLogLimit = 20

func newLogCommand(g *globalOptions) *cobra.Command {
	var opts logOptions
	cmd := &cobra.Command{
		Use:   "log [PAPER]",
		Short: "Show who changed a paper, or the library, when, and what",
		Long: `Show a paper's history: for each change, who made it (the member: the
config's "member", else the MongoDB user this device syncs as, else the
device name, and the device), when (in your time zone), which fields it
changed with their old and new values, and the conflicts sync resolved in
it. Without PAPER, the library's most recent changes, newest first.

PAPER is a paper id, a citation key, or the path of its PDF or sidecar, in
the library folder or in the mount.

The history is this device's own record of the changes it applied, made
here or arriving through sync; it keeps the last 32 changes of each paper,
and none from before a paper arrived in a snapshot. A change whose value
lost to a later one (the later one is kept on every device) says so.`,
		Example: `  paperfs log
  paperfs log --limit 100
  paperfs log vaswani2017attention
  paperfs log ~/papers/all/"Vaswani 2017 - Attention Is All You Need.json"`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if opts.Limit < 0 {
				return fmt.Errorf("%w: --limit %d: give a number of changes, 0 for the default", errUsage, opts.Limit)
			}
			return runLog(g, opts, args, cmd.OutOrStdout())
		},
	}
	cmd.Flags().IntVar(&opts.Limit, "limit", 0, fmt.Sprintf("show at most this many changes (default: all of a paper's, the library's last %d)", defaultLogLimit))
	cmd.Flags().BoolVar(&opts.JSON, "json", false, "print the changes as JSON")
	return cmd
}

// logEntry is one change as `paperfs log --json` prints it.
type logEntry struct {
	Paper     string          `json:"paper"`
	Title     string          `json:"title,omitempty"`
	Op        string          `json:"op,omitempty"`
	Member    string          `json:"member,omitempty"`
	Device    string          `json:"device"`
	Time      time.Time       `json:"time"`
	Created   bool            `json:"created,omitempty"`
	Remote    bool            `json:"remote,omitempty"`
	Changes   []logChange     `json:"changes,omitempty"`
	Conflicts []meta.Conflict `json:"conflicts,omitempty"`
}

// logChange is a meta.FieldChange with its values as JSON values (a value
// cut short, no longer JSON, as a string).
type logChange struct {
	Field   string   `json:"field"`
	Old     any      `json:"old,omitempty"`
	New     any      `json:"new,omitempty"`
	Cut     bool     `json:"cut,omitempty"`
	Lost    bool     `json:"lost,omitempty"`
	Added   []string `json:"added,omitempty"`
	Removed []string `json:"removed,omitempty"`
}

func toLogChanges(cs []meta.FieldChange) []logChange {
	val := func(v string) any {
		if v == "" {
			return nil
		}
		if json.Valid([]byte(v)) {
			return json.RawMessage(v)
		}
		return v
	}
	out := make([]logChange, len(cs))
	for i, c := range cs {
		out[i] = logChange{Field: c.Field, Old: val(c.Old), New: val(c.New), Cut: c.Cut, Lost: c.Lost, Added: c.Added, Removed: c.Removed}
	}
	return out
}

func runLog(g *globalOptions, opts logOptions, args []string, w io.Writer) error {
	a, err := openApp(g)
	if err != nil {
		return err
	}
	defer a.close()
	var es []meta.HistoryEntry
	var title string
	if len(args) == 1 {
		id, err := a.findPaper(g, args[0])
		if err != nil {
			return err
		}
		if es, err = a.store.History(id); err != nil {
			return err
		}
		if opts.Limit > 0 && len(es) > opts.Limit {
			es = es[:opts.Limit]
		}
		p, err := a.store.Get(id)
		if err != nil {
			return err
		}
		title = p.Title
		if !opts.JSON {
			fmt.Fprintf(w, "%s  %s\n", id, p.Title)
		}
	} else {
		limit := opts.Limit
		if limit == 0 {
			limit = defaultLogLimit
		}
		if es, err = a.store.RecentHistory(limit); err != nil {
			return err
		}
	}
	conflicts, err := psync.RecordedConflicts(a.store)
	if err != nil {
		a.log.Warn("the conflicts sync recorded are not shown", "err", err)
	}
	out := make([]logEntry, len(es))
	for i, e := range es {
		le := logEntry{Paper: e.Paper, Title: title, Op: e.Op, Member: e.Member, Device: e.Clock.Device,
			Time: e.Clock.Time(), Created: e.Created, Remote: e.Remote, Changes: toLogChanges(e.Changes)}
		if len(args) == 0 {
			if p, err := a.store.Get(e.Paper); err == nil {
				le.Title = p.Title
			}
		}
		for _, c := range conflicts {
			if c.Paper == e.Paper && c.RemoteOp == e.Op {
				le.Conflicts = append(le.Conflicts, c)
			}
		}
		out[i] = le
	}
	if opts.JSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(out)
	}
	if len(out) == 0 {
		fmt.Fprintln(w, "no changes recorded on this device")
		return nil
	}
	loc := logLocation(g)
	self := a.store.Device()
	names := psync.PeerNames(a.store)
	for _, e := range out {
		writeLogEntry(w, e, len(args) == 0, self, names, loc)
	}
	return nil
}

// logLocation is the time zone to show times in: the caller's, when the
// command runs in the process serving the library for another.
func logLocation(g *globalOptions) *time.Location {
	if g.remote != nil {
		if tz := g.getenv("TZ"); tz != "" {
			if loc, err := time.LoadLocation(strings.TrimPrefix(tz, ":")); err == nil {
				return loc
			}
		}
	}
	return time.Local
}

// writeLogEntry writes one change; names are other devices' names by id
// (psync.PeerNames).
func writeLogEntry(w io.Writer, e logEntry, withPaper bool, self string, names map[string]string, loc *time.Location) {
	who := e.Member
	if who == "" {
		who = "(no member recorded)"
	}
	dev := "device " + e.Device
	if n := names[e.Device]; n != "" {
		dev = "device " + n + ", " + e.Device
	}
	if e.Device == self {
		dev = "this device, " + e.Device
	}
	fmt.Fprintf(w, "%s  %s (%s)", e.Time.In(loc).Format("2006-01-02 15:04:05 MST"), who, dev)
	if withPaper {
		fmt.Fprintf(w, "  %s  %s", e.Paper, e.Title)
	}
	fmt.Fprintln(w)
	if e.Created {
		fmt.Fprintln(w, "    added the paper")
	}
	for _, c := range e.Changes {
		if c.Added != nil || c.Removed != nil {
			fmt.Fprintf(w, "    %s:%s\n", c.Field, setChange(c))
			continue
		}
		line := fmt.Sprintf("    %s: %s -> %s", c.Field, logValue(c.Old), logValue(c.New))
		if c.Cut {
			line += " (cut: long values are kept in part)"
		}
		if c.Lost {
			line += " (not applied: a later change holds the field)"
		}
		fmt.Fprintln(w, line)
	}
	for _, c := range e.Conflicts {
		what := "this device's value was replaced"
		if !c.RemoteWins {
			what = "this device's value was kept and this change's discarded"
		}
		fmt.Fprintf(w, "    conflict on %s with this device's %s (edited %s): %s\n",
			c.Field, logValue(c.Local), c.LocalClock.Time().In(loc).Format("2006-01-02 15:04:05 MST"), what)
	}
}

// setChange shows the elements a change added to and removed from a set
// field, " +a -b".
func setChange(c logChange) string {
	var b strings.Builder
	for _, x := range c.Added {
		b.WriteString(" +" + x)
	}
	for _, x := range c.Removed {
		b.WriteString(" -" + x)
	}
	return b.String()
}

// logValue shows a value as JSON, "(none)" for an empty one.
func logValue(v any) string {
	var s string
	switch v := v.(type) {
	case json.RawMessage:
		s = string(v)
	case string:
		s = v
	}
	switch s {
	case "", "null", `""`, "[]", "{}":
		return "(none)"
	}
	return s
}

// findPaper finds a paper by id, citation key, or the path of its PDF or
// sidecar in the library folder or the mount.
func (a *app) findPaper(g *globalOptions, arg string) (string, error) {
	if id, err := a.paperArg(g, arg); err == nil {
		return id, nil
	}
	ids, err := a.store.ByIdentifier("citekey", arg)
	if err != nil {
		return "", err
	}
	switch len(ids) {
	case 1:
		return ids[0], nil
	case 0:
	default:
		return "", fmt.Errorf("%s: %d papers have this citation key (%s): give a paper id", arg, len(ids), strings.Join(ids, ", "))
	}
	if id := mountedID(g.path(arg)); id != "" {
		if _, err := a.store.Get(id); err == nil {
			return id, nil
		} else if !errors.Is(err, meta.ErrNotFound) {
			return "", err
		}
	}
	return "", fmt.Errorf("%s: no such paper (give a paper id, a citation key, or the path of its PDF or sidecar in the library folder or the mount)", arg)
}

// mountedID is the id in the sidecar at path, or beside the PDF at path,
// as the mount shows them; "" if there is none.
func mountedID(path string) string {
	if ext := filepath.Ext(path); strings.EqualFold(ext, ".pdf") {
		path = strings.TrimSuffix(path, ext) + ".json"
	}
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil || !st.Mode().IsRegular() {
		return ""
	}
	b, err := io.ReadAll(io.LimitReader(f, meta.MaxSidecarBytes))
	if err != nil {
		return ""
	}
	return meta.SidecarID(b)
}
