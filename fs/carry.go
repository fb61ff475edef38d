package fs

import (
	"slices"

	"github.com/paperfs/paperfs/meta"
)

// carryOver gives a paper just imported from a PDF copied into this
// library the metadata the same PDF has in another library of the mount
// (Options.Origin): copying a paper from shared/lab/ into your own views
// brings its title, authors, tags, notes..., not a fresh extraction.
// Failing that the extraction stays: the import is done either way.
func (f *FS) carryOver(p meta.Paper, file string) meta.Paper {
	if f.opts.Origin == nil || p.File.SHA256 == "" {
		return p
	}
	from, ok := f.opts.Origin(p.File.SHA256)
	if !ok {
		return p
	}
	np, err := f.store.Update(p.ID, func(q *meta.Paper) error { *q = carried(from, *q); return nil })
	if err != nil {
		f.log.Warn("a paper copied from another library keeps the metadata extracted from its PDF: its own could not be stored",
			"file", file, "paper", p.ID, "err", err)
		return p
	}
	f.log.Info("imported with its metadata from another library", "file", file, "paper", p.ID, "title", np.Title)
	return np
}

// carried is into with the metadata of from, the same PDF's paper in
// another library. What belongs to the library or the device stays
// into's: id, file, dates, trash, merges, citation key (unique within a
// library) and folders (a library's own filing); tags are both papers'.
func carried(from, into meta.Paper) meta.Paper {
	out := from.Clone()
	out.ID, out.File, out.Added, out.Modified = into.ID, into.File, into.Added, into.Modified
	out.Trashed, out.MergedInto, out.Missing = into.Trashed, into.MergedInto, into.Missing
	out.CiteKey, out.Folders = into.CiteKey, into.Folders
	out.Supplementary = into.Supplementary // files in the other library's folder
	out.Tags = append(slices.Clone(into.Tags), from.Tags...)
	slices.Sort(out.Tags)
	out.Tags = slices.Compact(out.Tags)
	return out
}
