package library

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"runtime"
	"sync"

	"github.com/paperfs/paperfs/meta"
)

// ImportOptions tune Import.
type ImportOptions struct {
	Move bool     // move instead of copy
	Tags []string // tags to give every imported paper
	// Progress is called after each file.
	Progress func(done, total int)
	// Workers is how many files are extracted at once; 0 means one per
	// core, at most 4.
	Workers int
}

// ImportReport says what an import did.
type ImportReport struct {
	Imported   []string    // ids
	Duplicates []Duplicate // files not imported: the library has the paper
	// ExtractionFailed lists files imported with the file name as title
	// because their metadata could not be read (scanned, unparseable,
	// timed out); edit their sidecars, or a later lookup fills them in.
	ExtractionFailed []ExtractionFailure
	Errors           []error // files not imported, with the reason
}

// Duplicate is a file whose paper is in the library already.
type Duplicate struct {
	Path string // the file given to Import
	ID   string // the paper the library has
	By   string // what matched: "content", "DOI 10.1145/...", "arXiv 1706.03762"
	// Trashed says the paper is in the trash (`paperfs trash restore ID`).
	Trashed bool
}

// ExtractionFailure is a file imported without its metadata.
type ExtractionFailure struct {
	Path     string // the file given to Import
	ID       string
	Problems []string
}

// DuplicateError says a file's paper is in the library already.
type DuplicateError struct{ Duplicate }

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s: already in the library as paper %s (same %s)", e.Path, e.ID, e.By)
}

func (e *DuplicateError) Unwrap() error { return meta.ErrExists }

// PaperID is the paper that already has the content.
func (e *DuplicateError) PaperID() string { return e.ID }

var _ meta.DuplicateOf = (*DuplicateError)(nil)

// Import brings PDFs (files, or folders searched recursively) into the
// library folder and the store, extracting on several cores. A file whose
// content, DOI or arXiv id is a paper's already is reported, not imported
// twice; so an import can be rerun, and resumes where an interrupted one
// stopped. Cancelling ctx (Ctrl-C) stops between files: each file is
// either wholly imported (PDF in place, paper recorded) or not at all.
func (l *Library) Import(ctx context.Context, paths []string, opts ImportOptions) (ImportReport, error) {
	var rep ImportReport
	if err := l.mayWrite(); err != nil {
		return rep, err
	}
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				rep.Errors = append(rep.Errors, err)
				return nil
			}
			if d.IsDir() && path != p && len(d.Name()) > 1 && d.Name()[0] == '.' {
				return filepath.SkipDir
			}
			if d.IsDir() || (path != p && !IsPDF(path)) {
				return nil
			}
			if err := importable(path, d); err != nil {
				rep.Errors = append(rep.Errors, err)
				return nil
			}
			files = append(files, path)
			return nil
		})
		if err != nil {
			rep.Errors = append(rep.Errors, err)
		}
	}
	done := 0
	err := inParallel(ctx, len(files), opts.Workers, func(i int) *incoming {
		return l.prepare(ctx, files[i])
	}, func(_ int, in *incoming) {
		if ctx.Err() != nil {
			return // not started: the file stays out, the library as it was
		}
		p, failed, err := l.commit(ctx, in, opts.Move, opts.Tags)
		var dup *DuplicateError
		switch {
		case errors.As(err, &dup):
			rep.Duplicates = append(rep.Duplicates, dup.Duplicate)
		case err != nil:
			rep.Errors = append(rep.Errors, err)
		default:
			rep.Imported = append(rep.Imported, p.ID)
			if failed {
				problems := in.problems
				if len(problems) == 0 {
					problems = []string{"no title found in the PDF's text"}
				}
				rep.ExtractionFailed = append(rep.ExtractionFailed, ExtractionFailure{Path: in.src, ID: p.ID, Problems: problems})
			}
		}
		done++
		if opts.Progress != nil {
			opts.Progress(done, len(files))
		}
	})
	return rep, err
}

// ImportFile brings one PDF into the library (a file copied into the
// mount). It returns a *DuplicateError (wrapping meta.ErrExists) if the
// library has the same content already. Unlike Import it does not refuse
// another file of a paper it has (same DOI or arXiv id): its caller drops
// duplicates, and a file moved into the mount has no other copy.
func (l *Library) ImportFile(ctx context.Context, src string, move bool, tags []string) (meta.Paper, error) {
	if err := l.mayWrite(); err != nil {
		return meta.Paper{}, err
	}
	in := l.prepare(ctx, src)
	in.contentOnly = true
	p, _, err := l.commit(ctx, in, move, tags)
	return p, err
}

// incoming is a file on its way into the library: checked, hashed and
// extracted, not yet placed.
type incoming struct {
	src      string
	sum      string
	size     int64
	paper    meta.Paper
	problems []string
	err      error // the file cannot be imported
	// contentOnly: only the same content makes a duplicate, not the same
	// DOI or arXiv id.
	contentOnly bool
}

// prepare does the slow, parallel part of an import: it reads the file,
// hashes it and extracts its metadata. It changes nothing.
func (l *Library) prepare(ctx context.Context, src string) *incoming {
	in := &incoming{src: src}
	if in.sum, in.size, in.err = l.checkAndHash(src); in.err != nil {
		return in
	}
	if in.err = l.duplicate(in); in.err != nil {
		return in // no need to extract
	}
	in.paper, in.problems = l.extractFrom(ctx, src)
	if err := ctx.Err(); err != nil {
		in.err = fmt.Errorf("importing %s: %w", src, err)
	}
	return in
}

// duplicate returns a *DuplicateError if the library has the file's
// content, DOI or arXiv id already.
func (l *Library) duplicate(in *incoming) error {
	type key struct{ kind, value, by string }
	keys := []key{{"hash", in.sum, "content"}}
	if !in.contentOnly && in.paper.DOI != "" {
		keys = append(keys, key{"doi", in.paper.DOI, "DOI " + in.paper.DOI})
	}
	if !in.contentOnly && in.paper.ArXiv != "" {
		keys = append(keys, key{"arxiv", in.paper.ArXiv, "arXiv " + in.paper.ArXiv})
	}
	for _, k := range keys {
		var ids []string
		var err error
		if k.kind == "hash" {
			ids, err = l.store.ByHash(k.value)
		} else {
			ids, err = l.store.ByIdentifier(k.kind, k.value)
		}
		if err != nil {
			return err
		}
		if len(ids) == 0 {
			continue
		}
		d := Duplicate{Path: in.src, ID: ids[0], By: k.by}
		if p, err := l.store.Get(ids[0]); err == nil {
			d.Trashed = p.Trashed != nil
		}
		return &DuplicateError{d}
	}
	return nil
}

// commit does the quick, serial part of an import: it checks for
// duplicates again (the library may have changed while extracting), puts
// the PDF in the library folder under the name pattern's name and records
// the paper with its citation key. failed says the metadata came from the
// file name because extraction failed.
func (l *Library) commit(ctx context.Context, in *incoming, move bool, tags []string) (meta.Paper, bool, error) {
	if in.err != nil {
		return meta.Paper{}, false, in.err
	}
	l.createMu.Lock()
	defer l.createMu.Unlock()
	if err := l.duplicate(in); err != nil {
		return meta.Paper{}, false, err
	}
	p := in.paper
	p.ID = meta.NewID()
	p.CiteKey = l.newKey(&p)
	name := FileName(l.namePattern(), &p)
	dir := path.Dir(name)
	rel, err := l.adopt(dir, path.Base(name), in, move)
	if err == nil && rel == "" {
		rel, err = l.bringIn(in.src, dir, path.Base(name), move)
	}
	if err != nil {
		return meta.Paper{}, false, fmt.Errorf("importing %s: %w", meta.ShowPath(in.src), err)
	}
	np, fellBack, err := l.record(ctx, p, in.problems, meta.File{Path: rel, Size: in.size, SHA256: in.sum}, tags)
	if err != nil {
		return meta.Paper{}, false, fmt.Errorf("importing %s (file kept at %s): %w", meta.ShowPath(in.src), meta.ShowPath(l.Abs(rel)), err)
	}
	l.setStamp(np.ID, rel)
	return np, fellBack || extractionFailed(p), nil
}

// extractionFailed says the extractor found no title in the PDF and fell
// back to the file name.
func extractionFailed(p meta.Paper) bool {
	c, ok := p.Confidence["title"]
	return ok && c < 0.2
}

// adopt finds the copy an interrupted import left (killed between copying
// the PDF and recording it): a file under one of the names the file would
// get, with its content, that no paper has. It returns "" if there is none.
// A move then removes its source, as the interrupted one would have.
func (l *Library) adopt(dir, base string, in *incoming, move bool) (string, error) {
	taken, err := l.takenNames(dir)
	if err != nil {
		return "", err
	}
	for i := 1; ; i++ {
		rel := path.Join(dir, candidate(base, i))
		st, err := l.dir.Lstat(rel)
		if errors.Is(err, fs.ErrNotExist) {
			if taken[meta.NameKey(candidate(base, i))] {
				continue // another case of it is there: the import went on
			}
			return "", nil
		}
		if err != nil {
			return "", err
		}
		if st.Size() != in.size || !st.Mode().IsRegular() {
			continue
		}
		if _, err := l.store.ByPath(rel); !errors.Is(err, meta.ErrNotFound) {
			continue // a paper's, or the store failed: not ours to take
		}
		if sum, _, err := l.Hash(rel); err == nil && sum == in.sum {
			if move && l.Abs(rel) != in.src {
				l.removeSource(in.src)
			}
			return rel, nil
		}
	}
}

// inParallel runs work for 0..n-1 on workers goroutines and hands each
// result to done on the calling goroutine, in the order they finish. After
// ctx is cancelled no new work starts; the running ones finish (work sees
// ctx) and are handed to done, and inParallel returns ctx's error.
func inParallel[T any](ctx context.Context, n, workers int, work func(int) T, done func(int, T)) error {
	if workers <= 0 {
		workers = min(runtime.NumCPU(), 4)
	}
	workers = max(1, min(workers, n))
	type result struct {
		i int
		r T
	}
	jobs := make(chan int)
	results := make(chan result)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				results <- result{i, work(i)}
			}
		}()
	}
	go func() {
		defer close(jobs)
		for i := range n {
			select {
			case jobs <- i:
			case <-ctx.Done():
				return
			}
		}
	}()
	go func() {
		wg.Wait()
		close(results)
	}()
	for r := range results {
		done(r.i, r.r)
	}
	return ctx.Err()
}

// importable says why a file found by Import is skipped: it is a symlink
// (import copies files, never links, and does not follow them: name the
// file it points to), or not a regular file at all.
func importable(path string, d fs.DirEntry) error {
	switch {
	case d.Type()&fs.ModeSymlink != 0:
		target, _ := os.Readlink(path)
		return fmt.Errorf("%s: skipped: a symbolic link (to %s); import the file it points to instead: %w",
			meta.ShowPath(path), meta.ShowPath(target), meta.ErrInvalid)
	case !d.Type().IsRegular():
		return fmt.Errorf("%s: skipped: not a regular file: %w", meta.ShowPath(path), meta.ErrInvalid)
	}
	return nil
}

// checkAndHash refuses a file that is not a PDF, naming it and the
// problem, and hashes one that is.
func (l *Library) checkAndHash(src string) (string, int64, error) {
	f, err := l.openSource(src)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	if err := checkPDF(f, src); err != nil {
		return "", 0, err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return "", 0, err
	}
	return hashOpen(f)
}

// checkPDF refuses files that are not PDFs, naming the file and the problem.
func checkPDF(f *os.File, path string) error {
	if st, err := f.Stat(); err != nil {
		return err
	} else if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: not a regular file: %w", meta.ShowPath(path), meta.ErrInvalid)
	}
	head := make([]byte, 1024)
	n, _ := io.ReadFull(f, head)
	for i := 0; i+5 <= n; i++ {
		if string(head[i:i+5]) == "%PDF-" {
			return nil
		}
	}
	return fmt.Errorf("%s: not a PDF (no %%PDF- header in its first 1024 bytes): %w", meta.ShowPath(path), meta.ErrInvalid)
}
