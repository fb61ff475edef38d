package library

import (
	"encoding/json"
	"fmt"
	"slices"

	"github.com/paperfs/paperfs/meta"
)

// MergeDuplicates merges the papers that are one PDF indexed twice (same
// content at the same path: two devices indexed it before they synced).
// Every device does the same: the paper added first stays (then the
// smaller id), the other is hidden from every view without touching the
// PDF (meta.Store.Merge), and what the user set on it is carried over: its
// tags and folders join the kept paper's, and each field the user edited
// on it (confidence 1) replaces the kept paper's value unless the user
// edited that field on the kept paper too, which then wins. It returns how
// many papers it merged; running it again does nothing.
func (l *Library) MergeDuplicates() (int, error) {
	groups, err := l.store.Duplicates()
	if err != nil {
		return 0, err
	}
	n := 0
	for _, g := range groups {
		keep := g[0]
		for _, lose := range g[1:] {
			if err := l.store.Merge(keep.ID, lose.ID, carryOver); err != nil {
				return n, fmt.Errorf("merging paper %s into %s (both %s): %w", lose.ID, keep.ID, keep.File.Path, err)
			}
			l.log.Info("merged a paper indexed on two devices", "file", keep.File.Path, "kept", keep.ID, "merged", lose.ID)
			n++
		}
	}
	return n, nil
}

// carried are the fields a merge may carry over from the merged paper: the
// user's (the file, the dates and the merge itself are not).
var carried = []string{"title", "authors", "year", "venue", "type", "doi", "arxiv", "arxiv_version", "published", "cite", "citekey",
	"rating", "flag", "note", "url", "abstract", "supplementary"}

// carryOver copies what the user set on lose onto keep.
func carryOver(keep *meta.Paper, lose meta.Paper) error {
	for _, t := range lose.Tags {
		if !slices.Contains(keep.Tags, t) {
			keep.Tags = append(keep.Tags, t)
		}
	}
	for _, f := range lose.Folders {
		if !slices.Contains(keep.Folders, f) {
			keep.Folders = append(keep.Folders, f)
		}
	}
	var fields []string
	for _, f := range carried {
		if lose.Confidence[f] == 1 && keep.Confidence[f] != 1 {
			fields = append(fields, f)
		}
	}
	if len(fields) == 0 {
		return nil
	}
	km, err := fieldMap(keep)
	if err != nil {
		return err
	}
	lm, err := fieldMap(&lose)
	if err != nil {
		return err
	}
	for _, f := range fields {
		if v, ok := lm[f]; ok {
			km[f] = v
		} else {
			delete(km, f)
		}
	}
	b, err := json.Marshal(km)
	if err != nil {
		return err
	}
	var out meta.Paper
	if err := json.Unmarshal(b, &out); err != nil {
		return err
	}
	if out.Confidence == nil {
		out.Confidence = map[string]float64{}
	}
	for _, f := range fields {
		out.Confidence[f] = 1
		if src, ok := lose.Provenance[f]; ok {
			if out.Provenance == nil {
				out.Provenance = map[string]string{}
			}
			out.Provenance[f] = src
		}
	}
	*keep = out
	return nil
}

func fieldMap(p *meta.Paper) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}
