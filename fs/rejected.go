package fs

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"
	"unicode/utf8"
)

// The rejected folder (Options.RejectDir) keeps what the user wrote that
// could not become metadata. It is bounded, so a stream of refused saves
// or a large file written into a view cannot fill the data dir: kept
// files older than RejectLimit.MaxAge go, then the oldest until the
// folder is within RejectLimit.MaxBytes. The file just kept is never
// dropped to make room for itself. Each drop is logged.

// RejectLimit bounds the rejected folder; zero fields take the defaults.
type RejectLimit struct {
	MaxBytes int64
	MaxAge   time.Duration
}

// Defaults of RejectLimit: a month of refusals, and room for many
// sidecars (1 MiB at most each) and a few files of the user's own.
const (
	DefaultRejectMaxBytes = 256 << 20
	DefaultRejectMaxAge   = 30 * 24 * time.Hour
)

func (l RejectLimit) withDefaults() RejectLimit {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultRejectMaxBytes
	}
	if l.MaxAge <= 0 {
		l.MaxAge = DefaultRejectMaxAge
	}
	return l
}

// trimRejected bounds the rejected folder after keep was put there
// ("" for none).
func (f *FS) trimRejected(keep string) {
	dir := f.opts.RejectDir
	if dir == "" {
		return
	}
	f.rejectMu.Lock()
	defer f.rejectMu.Unlock()
	lim := f.opts.RejectLimit.withDefaults()
	es, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	type kept struct {
		path  string
		size  int64
		mtime time.Time
	}
	var files []kept
	var total int64
	for _, e := range es {
		if !e.Type().IsRegular() {
			continue
		}
		st, err := e.Info()
		if err != nil {
			continue
		}
		files = append(files, kept{filepath.Join(dir, e.Name()), st.Size(), st.ModTime()})
		total += st.Size()
	}
	slices.SortFunc(files, func(a, b kept) int { return a.mtime.Compare(b.mtime) })
	now := time.Now()
	for _, k := range files {
		old := now.Sub(k.mtime) > lim.MaxAge
		if k.path == keep || !old && total <= lim.MaxBytes {
			continue
		}
		if err := os.Remove(k.path); err != nil {
			f.log.Warn("could not drop a file from the rejected folder", "file", k.path, "err", err)
			continue
		}
		total -= k.size
		why := fmt.Sprintf("the rejected folder keeps files for %s", lim.MaxAge)
		if !old {
			why = fmt.Sprintf("the rejected folder holds at most %d MiB; the oldest files go first", lim.MaxBytes>>20)
		}
		f.log.Warn("dropped a kept file: "+why, "file", k.path, "bytes", k.size, "kept_since", k.mtime.UTC().Format(time.RFC3339))
	}
}

// maxQuote bounds what a log line or .paperfs/errors quotes of what the
// user wrote: a refusal's problem can hold a whole value.
const maxQuote = 512

// cut shortens s to at most maxQuote bytes, at a character boundary,
// saying how much was left out.
func cut(s string) string {
	if len(s) <= maxQuote {
		return s
	}
	n := maxQuote
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return fmt.Sprintf("%s... (%d more bytes)", s[:n], len(s)-n)
}

// cutErr is err with its message cut (see cut): what the frontend logs
// and shows, still matching err's kinds.
type cutErr struct {
	err error
	msg string
}

func (e *cutErr) Error() string { return e.msg }
func (e *cutErr) Unwrap() error { return e.err }

func cutError(err error) error {
	if err == nil || len(err.Error()) <= maxQuote {
		return err
	}
	return &cutErr{err, cut(err.Error())}
}
