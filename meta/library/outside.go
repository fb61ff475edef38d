package library

import (
	"context"
	"sync/atomic"

	"github.com/paperfs/paperfs/meta"
)

// OutsideFunc says which of the given library-relative paths, none of
// them a path of a paper the store holds, are PDFs of papers the library
// has elsewhere: a device subscribed to part of a shared library (see
// sync.Subscription) shares the folder of PDFs with everyone, and must not
// index the others' PDFs as new papers of its own. It must return when ctx
// ends; when it cannot tell (offline), it should name every path, so that
// nothing is indexed that may be someone else's.
type OutsideFunc func(ctx context.Context, paths []string) map[string]bool

// outsideHook is the library's OutsideFunc, if any.
type outsideHook struct{ fn atomic.Pointer[OutsideFunc] }

// SetOutside makes scans leave alone the PDFs fn says belong to papers
// outside what this device holds (nil: none).
func (l *Library) SetOutside(fn OutsideFunc) {
	if fn == nil {
		l.outside.fn.Store(nil)
		return
	}
	l.outside.fn.Store(&fn)
}

// leaveOutside splits files into those the scan considers and those that
// are outside PDFs (see OutsideFunc), asking only about files at no known
// path.
func (l *Library) leaveOutside(ctx context.Context, files []found, known []meta.FileRecord) (kept, outside []found) {
	fn := l.outside.fn.Load()
	if fn == nil {
		return files, nil
	}
	paths := make(map[string]bool, len(known))
	for _, k := range known {
		paths[k.Path] = true
	}
	var ask []string
	for _, f := range files {
		if !paths[f.rel] {
			ask = append(ask, f.rel)
		}
	}
	if len(ask) == 0 {
		return files, nil
	}
	out := (*fn)(ctx, ask)
	if len(out) == 0 {
		return files, nil
	}
	kept = make([]found, 0, len(files))
	for _, f := range files {
		if out[f.rel] && !paths[f.rel] {
			outside = append(outside, f)
		} else {
			kept = append(kept, f)
		}
	}
	return kept, outside
}
