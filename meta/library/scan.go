package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
)

// ScanReport says what a scan found.
type ScanReport struct {
	Files      int      // PDFs in the library folder
	New        []string // ids of papers created for new PDFs
	Moved      int      // papers whose PDF was found under a new path
	Changed    int      // papers whose PDF changed size
	Missing    int      // papers whose PDF is absent (now flagged missing)
	Returned   int      // papers whose PDF came back
	Duplicates []string // files whose content is already a paper's, left alone
	// InTrash are files whose content is a trashed paper's, left alone: a
	// copy the cloud drive has yet to move into the trash after another
	// device trashed the paper (or a file put back by hand: restoring the
	// paper is how to get it back).
	InTrash []string
	// Merged counts papers merged into another: one PDF indexed on two
	// devices before they synced (see MergeDuplicates).
	Merged int
	// Renaming are files another device renamed to portable names (see
	// RenamePortable) that the cloud drive has yet to rename here; left
	// alone, so the rename is not undone.
	Renaming []string
	Errors   []error // files that could not be read
}

type found struct {
	rel  string
	size int64
}

// walk lists the PDFs in the library folder, skipping hidden folders (the
// trash, .git, cloud drives' caches) and unreadable ones.
func (l *Library) walk(ctx context.Context) ([]found, []error, error) {
	if _, err := os.Stat(l.Root); err != nil {
		return nil, nil, fmt.Errorf("library folder %s is not available (%w); keeping the library as it was", l.Root, err)
	}
	var out []found
	var errs []error
	err := filepath.WalkDir(l.Root, func(path string, d fs.DirEntry, err error) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err != nil {
			if path == l.Root {
				return err
			}
			errs = append(errs, err)
			return nil
		}
		if d.IsDir() {
			if path != l.Root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !IsPDF(d.Name()) || strings.HasPrefix(d.Name(), ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			errs = append(errs, err)
			return nil
		}
		rel, err := l.Rel(path)
		if err != nil {
			return nil
		}
		out = append(out, found{rel: rel, size: info.Size()})
		return nil
	})
	return out, errs, err
}

// Scan brings the store in line with the library folder: new PDFs become
// papers (extracted on both cores), moved PDFs are followed by content hash,
// absent ones are flagged missing (never deleted), returning ones unflagged.
// It is idempotent, and safe to interrupt: every step is its own commit.
func (l *Library) Scan(ctx context.Context, progress func(done, total int)) (ScanReport, error) {
	return l.scan(ctx, progress, nil)
}

// scan is Scan. If beforeNew is set and the folder holds a PDF that no
// paper has (by path or content), it is called once before anything is
// recorded, and the folder is then matched against the store as it is
// after the call: a running mount waits there for a sync round, so a PDF
// that arrived through the cloud drive before its record is matched to
// that record, not indexed a second time.
func (l *Library) scan(ctx context.Context, progress func(done, total int), beforeNew func(context.Context)) (ScanReport, error) {
	var rep ScanReport
	files, errs, err := l.walk(ctx)
	rep.Errors = errs
	if err != nil {
		return rep, err
	}
	sums := map[string]hashed{}
	if beforeNew != nil {
		fresh, err := l.anyFresh(ctx, files, sums)
		if err != nil {
			return rep, err
		}
		if fresh {
			beforeNew(ctx)
			if err := ctx.Err(); err != nil {
				return rep, err
			}
		}
	}
	rep.Files = len(files)
	known, err := l.store.Files()
	if err != nil {
		return rep, err
	}
	byPath := make(map[string]meta.FileRecord, len(known))
	for _, k := range known {
		byPath[k.Path] = k
	}
	present := make(map[string]bool, len(files))
	var unknown []found
	for _, f := range files {
		present[f.rel] = true
		k, ok := byPath[f.rel]
		if !ok {
			unknown = append(unknown, f)
			continue
		}
		if k.Missing {
			if err := l.store.SetMissing(k.ID, false); err != nil {
				return rep, err
			}
			rep.Returned++
		}
		if k.Size != f.size {
			sum, size, err := HashFile(l.Abs(f.rel))
			if err != nil {
				rep.Errors = append(rep.Errors, err)
				continue
			}
			if _, err := l.store.Update(k.ID, func(p *meta.Paper) error {
				p.File.Size, p.File.SHA256 = size, sum
				return nil
			}); err != nil {
				return rep, err
			}
			rep.Changed++
		}
	}

	// Papers whose file is gone: flag them, but first let unknown files
	// claim them by content (a move or rename). Papers in the trash folder
	// are not walked and never claimed: when another device trashes a
	// paper, its record here points into the trash before the cloud drive
	// has moved this device's copy, and taking that copy for a move would
	// send the paper's path back out of the trash on every device. Their
	// missing flag just follows whether the file is in the trash here.
	gone := map[string]meta.FileRecord{}
	inTrash := map[string]bool{}
	for _, k := range known {
		if InTrashDir(k.Path) {
			inTrash[k.ID] = true
			if there := l.Exists(k.Path); there == k.Missing {
				if err := l.store.SetMissing(k.ID, !there); err != nil {
					return rep, err
				}
			}
			continue
		}
		if !present[k.Path] {
			gone[k.ID] = k
		}
	}

	results, err := l.hashAll(ctx, unknown, sums)
	if err != nil {
		return rep, err
	}

	var fresh []hashed
	seen := map[string]bool{}
	for _, h := range results {
		if h.err != nil {
			rep.Errors = append(rep.Errors, h.err)
			continue
		}
		ids, err := l.store.ByHash(h.sum)
		if err != nil {
			return rep, err
		}
		claimed := false
		for _, id := range ids {
			if k, ok := gone[id]; ok {
				if renamedElsewhere(k.Path, h.rel) {
					rep.Renaming = append(rep.Renaming, h.rel)
					claimed = true
					break
				}
				if _, err := l.store.Update(id, func(p *meta.Paper) error { p.File.Path = h.rel; return nil }); err != nil {
					return rep, err
				}
				if k.Missing {
					l.store.SetMissing(id, false)
				}
				delete(gone, id)
				rep.Moved++
				claimed = true
				break
			}
		}
		if claimed {
			continue
		}
		if len(ids) > 0 && !seen[h.sum] && !slices.ContainsFunc(ids, func(id string) bool { return !inTrash[id] }) {
			rep.InTrash = append(rep.InTrash, h.rel)
			continue
		}
		if len(ids) > 0 || seen[h.sum] {
			rep.Duplicates = append(rep.Duplicates, h.rel)
			continue
		}
		seen[h.sum] = true
		fresh = append(fresh, h)
	}
	for id, k := range gone {
		if k.Missing {
			continue
		}
		if err := l.store.SetMissing(id, true); err != nil {
			return rep, err
		}
		rep.Missing++
	}

	type extracted struct {
		p        meta.Paper
		problems []string
	}
	done := 0
	err = inParallel(ctx, len(fresh), 0, func(i int) extracted {
		p, problems := l.extract(ctx, l.Abs(fresh[i].rel))
		return extracted{p, problems}
	}, func(i int, e extracted) {
		if ctx.Err() != nil {
			return // extraction was cut short: indexed next time
		}
		h := fresh[i]
		l.createMu.Lock()
		np, fellBack, err := l.record(ctx, e.p, e.problems, meta.File{Path: h.rel, Size: h.size, SHA256: h.sum}, nil)
		l.createMu.Unlock()
		if err != nil {
			rep.Errors = append(rep.Errors, fmt.Errorf("%s: %w", h.rel, err))
			return
		}
		if fellBack || extractionFailed(e.p) {
			l.log.Warn("no metadata found in the PDF; its file name is the title", "file", h.rel, "problems", strings.Join(e.problems, "; "))
		}
		rep.New = append(rep.New, np.ID)
		done++
		if progress != nil {
			progress(done, len(fresh))
		}
	})
	if err != nil {
		return rep, err
	}
	rep.Merged, err = l.MergeDuplicates()
	return rep, err
}

type hashed struct {
	found
	sum string
	err error
}

// hashAll hashes files on both cores, taking the sums already in cache
// (for a file of the same size) and adding the new ones to it.
func (l *Library) hashAll(ctx context.Context, files []found, cache map[string]hashed) ([]hashed, error) {
	results := make([]hashed, len(files))
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				if c, ok := cache[files[i].rel]; ok && c.err == nil && c.size == files[i].size {
					results[i] = c
					continue
				}
				sum, size, err := HashFile(l.Abs(files[i].rel))
				results[i] = hashed{found{files[i].rel, size}, sum, err}
			}
		}()
	}
	for i := range files {
		select {
		case next <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(next)
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	for _, h := range results {
		if h.err == nil {
			cache[h.rel] = h
		}
	}
	return results, nil
}

// anyFresh reports whether some file in the folder is no paper's, by path
// or by content; the sums it computes go in cache.
func (l *Library) anyFresh(ctx context.Context, files []found, cache map[string]hashed) (bool, error) {
	known, err := l.store.Files()
	if err != nil {
		return false, err
	}
	paths := make(map[string]bool, len(known))
	for _, k := range known {
		paths[k.Path] = true
	}
	var unknown []found
	for _, f := range files {
		if !paths[f.rel] {
			unknown = append(unknown, f)
		}
	}
	if len(unknown) == 0 {
		return false, nil
	}
	hs, err := l.hashAll(ctx, unknown, cache)
	if err != nil {
		return false, err
	}
	for _, h := range hs {
		if h.err != nil {
			continue
		}
		ids, err := l.store.ByHash(h.sum)
		if err != nil {
			return false, err
		}
		if len(ids) == 0 {
			return true, nil
		}
	}
	return false, nil
}

// record makes the paper for a PDF now in the library folder from its
// extracted metadata, with its citation key. Metadata that fails
// validation (extraction can produce odd text) gives way to the file name
// rather than leave the PDF unindexed; fellBack says so. Callers hold
// createMu.
func (l *Library) record(ctx context.Context, p meta.Paper, problems []string, file meta.File, tags []string) (np meta.Paper, fellBack bool, err error) {
	for _, pr := range problems {
		l.log.Debug("metadata extraction", "file", file.Path, "problem", pr)
	}
	p.File, p.Tags = file, append(p.Tags, tags...)
	np, err = bibtex.CreateWithKey(l.store, p)
	if errors.Is(err, meta.ErrInvalid) {
		l.log.Warn("extracted metadata rejected; using the file name", "file", file.Path, "err", err)
		q, _ := FromFileName(ctx, file.Path)
		q.ID, q.File, q.Tags = p.ID, file, tags
		np, err = bibtex.CreateWithKey(l.store, q)
		fellBack = true
	}
	return np, fellBack, err
}
