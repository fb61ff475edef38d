package sync

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/paperfs/paperfs/meta"
)

// stOutside keeps the library-relative paths known to be the PDFs of
// papers this subset device does not hold (JSON list), so that a scan of
// the shared folder asks the server only about paths it has not seen.
const stOutside = "outsidePaths"

// HoldsPart says this device holds only part of the library (a
// subscription, or one just removed whose other papers are still coming).
func (e *Engine) HoldsPart() bool { return e.subsetMode() }

// Outside is the library scan's OutsideFunc (meta/library.SetOutside) for
// a device holding part of the library: of paths, PDFs at no path of a
// paper held here, those that are the PDF of a paper the library has on
// the server (its readable papers document names the path) and this
// device does not hold. A device holding the whole library has none.
// Offline, every path not known to be new is taken as outside: better a
// new PDF indexed one scan late than someone else's indexed as a paper of
// this device's own.
func (e *Engine) Outside(ctx context.Context, paths []string) map[string]bool {
	if !e.subsetMode() || len(paths) == 0 {
		return nil
	}
	cached := map[string]bool{}
	if v, err := e.store.SyncState(stOutside); err == nil && v != "" {
		var ps []string
		if json.Unmarshal([]byte(v), &ps) == nil {
			for _, p := range ps {
				cached[p] = true
			}
		}
	}
	out := map[string]bool{}
	var ask []string
	for _, p := range paths {
		if cached[p] {
			out[p] = true
		} else {
			ask = append(ask, p)
		}
	}
	found, err := e.outsideOnServer(ctx, ask)
	if err != nil {
		e.log.Warn("sync: cannot tell which new PDFs are other members' papers; not indexing them until it can",
			"pdfs", len(ask), "err", e.red.wrap(err))
		for _, p := range ask {
			out[p] = true
		}
		return out
	}
	for p := range found {
		out[p] = true
	}
	// Keep what this scan saw: paths gone from the folder, or now a
	// held paper's, drop out.
	if !maps.Equal(out, cached) {
		b, _ := json.Marshal(slices.Sorted(maps.Keys(out)))
		if err := e.store.SetSyncState(stOutside, string(b)); err != nil {
			e.log.Warn("sync: remembering other members' PDFs", "err", err)
		}
	}
	return out
}

// outsideOnServer is the subset of paths that some paper this device
// does not hold has (or had) on the server: an op setting its file there
// (uploaded before its paper's readable document is written), or its
// readable document (which outlives compacted ops).
func (e *Engine) outsideOnServer(ctx context.Context, paths []string) (map[string]bool, error) {
	out := map[string]bool{}
	for chunk := range slices.Chunk(paths, e.cfg.BatchSize) {
		for _, q := range []struct {
			what, paper, path string
			find              func(context.Context, any, ...options.Lister[options.FindOptions]) (*mongo.Cursor, error)
		}{
			{"ops", "paper", "set.file.path", e.ops.Find},
			{"papers", "_id", "file.path", e.papers.Find},
		} {
			// Only the documents of paths the ops did not settle.
			ask := slices.DeleteFunc(slices.Clone(chunk), func(p string) bool { return out[p] })
			if len(ask) == 0 {
				break
			}
			octx, cancel := context.WithTimeout(ctx, e.cfg.OpTimeout)
			cur, err := q.find(octx, bson.D{{Key: q.path, Value: bson.D{{Key: "$in", Value: ask}}}},
				options.Find().SetProjection(projection(q.paper, q.path)))
			var docs []bson.Raw
			if err == nil {
				err = cur.All(octx, &docs)
			}
			cancel()
			if err != nil {
				return nil, fmt.Errorf("looking up PDFs in the %s collection: %w", q.what, err)
			}
			for _, d := range docs {
				id, _ := d.Lookup(q.paper).StringValueOK()
				path, _ := d.Lookup(strings.Split(q.path, ".")...).StringValueOK()
				if id == "" || path == "" || out[path] {
					continue
				}
				_, err := e.store.Get(id)
				switch {
				case errors.Is(err, meta.ErrNotFound):
					out[path] = true
				case err != nil:
					return nil, err
				}
			}
		}
	}
	return out, nil
}

// projection keeps only the fields paper and path of a document.
func projection(paper, path string) bson.D {
	p := bson.D{{Key: paper, Value: 1}, {Key: path, Value: 1}}
	if paper != "_id" {
		p = append(p, bson.E{Key: "_id", Value: 0})
	}
	return p
}
