package fs

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// TestRejectedBounded: the rejected folder drops what is older than its
// age bound, then the oldest files until it is within its size bound,
// never the file just kept, and logs each drop.
func TestRejectedBounded(t *testing.T) {
	tv := newTestView(t)
	var log bytes.Buffer
	tv.log = slog.New(slog.NewTextHandler(&log, nil))
	tv.opts.RejectLimit = RejectLimit{MaxBytes: 10 << 10, MaxAge: time.Hour}
	tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	dir := tv.opts.RejectDir
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ancient := filepath.Join(dir, "ancient.json")
	os.WriteFile(ancient, []byte("{"), 0o600)
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(ancient, old, old)

	// Each refused save keeps 4 KiB; the folder holds at most 10.
	var kept []string
	for i := range 5 {
		text := fmt.Sprintf(`{"title": %d %s`, i, strings.Repeat(" ", 4<<10))
		if err := save(tv, all, file, text); !errors.Is(err, meta.ErrInvalid) {
			t.Fatalf("save %d: %v", i, err)
		}
		rs := tv.Rejections()
		k := rs[len(rs)-1].Kept
		if k == "" {
			t.Fatalf("save %d not kept", i)
		}
		// Distinct modification times order the drops.
		at := time.Now().Add(time.Duration(i-10) * time.Minute)
		os.Chtimes(k, at, at)
		kept = append(kept, k)
	}
	if _, err := os.Stat(ancient); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a file past the age bound is still there: %v", err)
	}
	var total int64
	es, _ := os.ReadDir(dir)
	for _, e := range es {
		st, _ := e.Info()
		total += st.Size()
	}
	if total > 10<<10 {
		t.Errorf("rejected folder holds %d bytes, bound 10 KiB", total)
	}
	for i, k := range kept {
		_, err := os.Stat(k)
		if gone := errors.Is(err, os.ErrNotExist); gone != (i < 3) {
			t.Errorf("kept file %d (oldest first) gone=%v: %v", i, gone, err)
		}
	}
	if n := strings.Count(log.String(), "dropped a kept file"); n != 4 {
		t.Errorf("%d drops logged, want 4:\n%s", n, log.String())
	}

	// A file larger than the bound is kept, when it is the one just kept.
	big := fmt.Sprintf(`{"title": %s`, strings.Repeat(" ", 12<<10))
	save(tv, all, file, big)
	rs := tv.Rejections()
	if b, err := os.ReadFile(rs[len(rs)-1].Kept); err != nil || string(b) != big {
		t.Errorf("the text just refused is not kept whole: %v", err)
	}
}

// failingStore fails every update with an error quoting what it was
// given, as a store error may.
type failingStore struct {
	*meta.Store
	quote string
}

func (s failingStore) Update(id string, fn func(p *meta.Paper) error) (meta.Paper, error) {
	return meta.Paper{}, fmt.Errorf("value %q: %w", s.quote, meta.ErrInvalid)
}

// TestQuotesCut: what logs, the error and .paperfs/errors quote of what
// the user wrote is cut.
func TestQuotesCut(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	long := strings.Repeat("é", 1<<20)
	var log bytes.Buffer
	v := New(failingStore{tv.store, long}, Options{Library: tv.lib, Logger: slog.New(slog.NewTextHandler(&log, nil)),
		RejectDir: filepath.Join(tv.data, "rejected"), Folder: tv.opts.Folder})
	defer v.Close()
	text := read(t, tv, all, "1968 - Art.json")
	err := v.commitSidecar(p.ID, "all/1968 - Art.json", []byte(text))
	if !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("save: %v", err)
	}
	if len(err.Error()) > 2*maxQuote {
		t.Errorf("error of %d bytes", len(err.Error()))
	}
	rs := v.Rejections()
	if len(rs) != 1 || len(rs[0].Problem) > 2*maxQuote || !strings.Contains(rs[0].Problem, "more bytes") {
		t.Errorf("problem of %d bytes", len(rs[0].Problem))
	}
	if log.Len() > 4*maxQuote {
		t.Errorf("log of %d bytes", log.Len())
	}
	if b := v.errorsJSON(); len(b) > 4*maxQuote {
		t.Errorf(".paperfs/errors of %d bytes", len(b))
	}
}
