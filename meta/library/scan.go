package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
)

// ScanReport says what a scan found.
type ScanReport struct {
	Files      int      // PDFs in the library folder
	New        []string // ids of papers created for new PDFs
	Moved      int      // papers whose PDF was found under a new path
	Changed    int      // papers whose PDF changed (size, or content at the same size)
	Missing    int      // papers whose PDF is absent (now flagged missing)
	Returned   int      // papers whose PDF came back
	Duplicates []string // files whose content is already a paper's, left alone
	// InTrash are files whose content is a trashed paper's, left alone: a
	// copy the cloud drive has yet to move into the trash after another
	// device trashed the paper (or a file put back by hand: restoring the
	// paper is how to get it back).
	InTrash []string
	// Held are PDFs a read-only library leaves alone (SetReadOnly): new
	// ones, and ones moved or changed, which only a member who may write
	// records.
	Held []string
	// Merged counts papers merged into another: one PDF indexed on two
	// devices before they synced (see MergeDuplicates).
	Merged int
	// Cleaned are leftovers of a killed import or mount that were removed
	// (a partial copy, an empty file copied into the mount).
	Cleaned []string
	// Renaming are files another device renamed to portable names (see
	// RenamePortable) that the cloud drive has yet to rename here; left
	// alone, so the rename is not undone.
	Renaming []string
	// Outside are PDFs of papers this device does not hold (it subscribes
	// to part of a shared library, see SetOutside), left alone.
	Outside int
	Errors  []error // files that could not be read
}

type found struct {
	rel   string
	size  int64
	mtime int64 // modification time, ns since the epoch
}

// stamp is what the store keeps of a file whose hash it knows: its path,
// size and modification time. A different stamp means the file may have
// changed (rsync's quick check), even at the same size.
func (f found) stamp() string { return fmt.Sprintf("%s\x00%d\x00%d", f.rel, f.size, f.mtime) }

// setStamp records the stamp of a paper's file just placed or checked.
func (l *Library) setStamp(id, rel string) {
	if fi, err := l.dir.Lstat(rel); err == nil {
		l.store.SetFileStamps(map[string]string{id: foundOf(rel, fi).stamp()})
	}
}

func foundOf(rel string, fi fs.FileInfo) found {
	return found{rel: rel, size: fi.Size(), mtime: fi.ModTime().UnixNano()}
}

// incomingPrefix starts the name of the hidden folders where the mount
// keeps a file copied into it until it is imported.
const incomingPrefix = ".paperfs-incoming-"

// listing is what a walk of the library folder found.
type listing struct {
	files    []found
	errs     []error  // files and folders that could not be read
	unread   []string // folders that could not be read: their papers are not missing
	temps    []string // copies of imports, maybe left by a killed one
	incoming []string // the mount's incoming folders, maybe left by a killed one
}

// walk lists the PDFs in the library folder, skipping hidden folders (the
// trash, .git, cloud drives' caches), unreadable ones and symlinks.
func (l *Library) walk(ctx context.Context) (listing, error) {
	var ls listing
	err := l.dir.Walk(ctx, func(rel string, d fs.DirEntry, err error) error {
		if err != nil {
			if rel == "." {
				return err
			}
			ls.errs = append(ls.errs, err)
			if d == nil {
				ls.unread = append(ls.unread, rel)
			}
			return nil
		}
		if rel == "." {
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if rel == name && strings.HasPrefix(name, incomingPrefix) {
				ls.incoming = append(ls.incoming, rel)
			}
			if strings.HasPrefix(name, ".") {
				return fs.SkipDir
			}
			return nil
		}
		if strings.HasPrefix(name, importPrefix) && d.Type().IsRegular() {
			ls.temps = append(ls.temps, rel)
			return nil
		}
		if !d.Type().IsRegular() || !IsPDF(name) || strings.HasPrefix(name, ".") {
			return nil
		}
		info, err := d.Info()
		if err != nil {
			ls.errs = append(ls.errs, err)
			return nil
		}
		ls.files = append(ls.files, foundOf(rel, info))
		return nil
	})
	if err != nil && ctx.Err() == nil {
		err = l.unavailable(fmt.Sprintf("%v", err))
	}
	return ls, err
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
	l.scanMu.Lock()
	defer l.scanMu.Unlock()
	var rep ScanReport
	ls, err := l.walk(ctx)
	rep.Errors = ls.errs
	if err != nil {
		return rep, err
	}
	known, err := l.store.Files()
	if err != nil {
		return rep, err
	}
	if err := l.checkMounted(holdsAny(ls.files, known)); err != nil {
		return rep, err
	}
	l.available()
	files := append(ls.files, l.cleanLeftovers(ctx, ls, &rep)...)
	files, outside := l.leaveOutside(ctx, files, known)
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
			if known, err = l.store.Files(); err != nil {
				return rep, err
			}
			// Split again: the round may have brought a paper of an
			// outside PDF into the subset (it is known now), or the op
			// that makes an unknown one someone else's.
			files, outside = l.leaveOutside(ctx, append(files, outside...), known)
		}
	}
	rep.Outside = len(outside)
	rep.Files = len(files) + len(outside)
	readOnly := l.mayWrite()
	stamps, err := l.store.FileStamps()
	if err != nil {
		return rep, err
	}
	newStamps := map[string]string{}
	defer func() {
		if err := l.store.SetFileStamps(newStamps); err != nil {
			l.log.Error("recording what the scan saw of the library's files", "err", err)
		}
	}()
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
		stamp, had := stamps[k.ID]
		if k.Size == f.size && (!had || stamp == f.stamp()) {
			if !had {
				// First seen by this version: its hash is taken as right.
				newStamps[k.ID] = f.stamp()
			}
			continue
		}
		if readOnly != nil {
			rep.Held = append(rep.Held, f.rel) // looked at again next time
			continue
		}
		// Changed size, or rewritten in place (another modification time).
		sum, size, err := l.Hash(f.rel)
		if err != nil {
			rep.Errors = append(rep.Errors, err)
			continue
		}
		newStamps[k.ID] = f.stamp()
		p, err := l.store.Get(k.ID)
		if err != nil {
			return rep, err
		}
		if p.File.Size == size && p.File.SHA256 == sum {
			continue // touched, not changed
		}
		if _, err := l.store.Update(k.ID, func(p *meta.Paper) error {
			p.File.Size, p.File.SHA256 = size, sum
			return nil
		}); err != nil {
			return rep, err
		}
		rep.Changed++
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
		if !present[k.Path] && !under(k.Path, ls.unread) {
			gone[k.ID] = k
		}
	}

	if readOnly != nil {
		// Moves and new files are the writers' to record; papers whose
		// file is gone are flagged missing here (a flag of this device's,
		// never sent).
		for _, f := range unknown {
			rep.Held = append(rep.Held, f.rel)
		}
		unknown = nil
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
				newStamps[id] = h.stamp()
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
		// Opened beneath the folder: a symlink swapped in since the walk
		// is refused, not followed.
		p, problems := l.extractFrom(ctx, l.Abs(fresh[i].rel))
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
			rep.Errors = append(rep.Errors, fmt.Errorf("%s: %w", meta.ShowPath(h.rel), err))
			return
		}
		if fellBack || extractionFailed(e.p) {
			l.log.Warn("no metadata found in the PDF; its file name is the title", "file", h.rel, "problems", strings.Join(e.problems, "; "))
		}
		rep.New = append(rep.New, np.ID)
		newStamps[np.ID] = h.stamp()
		done++
		if progress != nil {
			progress(done, len(fresh))
		}
	})
	if err != nil || readOnly != nil {
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
				if c, ok := cache[files[i].rel]; ok && c.err == nil && c.found == files[i] {
					results[i] = c
					continue
				}
				sum, _, err := l.Hash(files[i].rel)
				results[i] = hashed{files[i], sum, err}
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
		q, _ := FromFileName(ctx, file.Path, nil)
		q.ID, q.File, q.Tags = p.ID, file, tags
		np, err = bibtex.CreateWithKey(l.store, q)
		fellBack = true
	}
	return np, fellBack, err
}

// under reports whether rel is inside one of the folders dirs.
func under(rel string, dirs []string) bool {
	for _, d := range dirs {
		if strings.HasPrefix(rel, d+"/") {
			return true
		}
	}
	return false
}

// cleanLeftovers removes what a killed import or mount left in the
// library folder: copies on their way in that no running process holds
// (reported in rep.Cleaned), and the mount's incoming folders untouched
// for staleAfter. A file with content in one of those is a PDF copied
// into the mount that was never imported: it moves to the library folder
// under its own name (and is returned, so this scan indexes it); nothing
// else in them is deleted.
func (l *Library) cleanLeftovers(ctx context.Context, ls listing, rep *ScanReport) []found {
	for _, rel := range ls.temps {
		f, err := l.dir.Open(rel)
		if err != nil {
			continue
		}
		if abandoned(f) {
			if err := l.dir.Remove(rel); err == nil {
				rep.Cleaned = append(rep.Cleaned, rel)
			}
		}
		f.Close()
	}
	var out []found
	for _, dir := range ls.incoming {
		if ctx.Err() != nil {
			break
		}
		es, err := l.dir.ReadDir(dir)
		if err != nil {
			continue
		}
		newest := time.Time{}
		if fi, err := l.dir.Lstat(dir); err == nil {
			newest = fi.ModTime()
		}
		infos := make([]fs.FileInfo, len(es))
		for i, e := range es {
			if fi, err := e.Info(); err == nil {
				infos[i] = fi
				if fi.ModTime().After(newest) {
					newest = fi.ModTime()
				}
			}
		}
		if time.Since(newest) < staleAfter {
			continue // perhaps a running mount's
		}
		for i, e := range es {
			rel := path.Join(dir, e.Name())
			fi := infos[i]
			switch {
			case fi == nil || !fi.Mode().IsRegular():
			case fi.Size() == 0:
				if l.dir.Remove(rel) == nil {
					rep.Cleaned = append(rep.Cleaned, rel)
				}
			case IsPDF(e.Name()) && !strings.HasPrefix(e.Name(), "."):
				dst, err := l.moveWithin(rel, ".", strings.TrimSuffix(e.Name(), path.Ext(e.Name())))
				if err != nil {
					rep.Errors = append(rep.Errors, fmt.Errorf("a PDF copied into the mount but never imported, %s: %w", meta.ShowPath(rel), err))
					continue
				}
				l.log.Info("a PDF copied into the mount was never imported; it is in the library folder now", "file", dst)
				if fi, err := l.dir.Lstat(dst); err == nil {
					out = append(out, foundOf(dst, fi))
				}
			default:
				l.log.Warn("a file copied into the mount was not imported; it is still here", "file", meta.ShowPath(l.Abs(rel)))
			}
		}
		if l.dir.Remove(dir) == nil { // only if empty
			rep.Cleaned = append(rep.Cleaned, dir)
		}
	}
	return out
}

// holdsAny reports whether some file found is at a path a paper has.
func holdsAny(files []found, known []meta.FileRecord) bool {
	paths := make(map[string]bool, len(known))
	for _, k := range known {
		paths[k.Path] = true
	}
	for _, f := range files {
		if paths[f.rel] {
			return true
		}
	}
	return false
}
