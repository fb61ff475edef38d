package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/paperfs/paperfs/meta"
)

// ImportOptions tune Import.
type ImportOptions struct {
	Move bool     // move instead of copy
	Tags []string // tags to give every imported paper
	// Progress is called after each file.
	Progress func(done, total int)
}

// ImportReport says what an import did.
type ImportReport struct {
	Imported   []string // ids
	Duplicates []string // source files whose content is already in the library
	Errors     []error
}

// Import brings PDFs (files, or folders searched recursively) into the
// library folder and the store. Files already in the library (same content)
// are reported, not imported twice. Interrupting it leaves a consistent
// library: a PDF copied in but not yet recorded is indexed by the next scan.
func (l *Library) Import(ctx context.Context, paths []string, opts ImportOptions) (ImportReport, error) {
	var rep ImportReport
	var files []string
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				rep.Errors = append(rep.Errors, err)
				return nil
			}
			if d.Type().IsRegular() && (IsPDF(path) || path == p) {
				files = append(files, path)
			}
			return nil
		})
		if err != nil {
			rep.Errors = append(rep.Errors, err)
		}
	}
	for i, src := range files {
		if err := ctx.Err(); err != nil {
			return rep, err
		}
		p, err := l.ImportFile(ctx, src, opts.Move, opts.Tags)
		switch {
		case errors.Is(err, meta.ErrExists):
			rep.Duplicates = append(rep.Duplicates, src)
		case err != nil:
			rep.Errors = append(rep.Errors, err)
		default:
			rep.Imported = append(rep.Imported, p.ID)
		}
		if opts.Progress != nil {
			opts.Progress(i+1, len(files))
		}
	}
	return rep, nil
}

// ImportFile brings one PDF into the library. It returns an error wrapping
// meta.ErrExists if the same content is already there.
func (l *Library) ImportFile(ctx context.Context, src string, move bool, tags []string) (meta.Paper, error) {
	if err := checkPDF(src); err != nil {
		return meta.Paper{}, err
	}
	sum, size, err := hashFile(src)
	if err != nil {
		return meta.Paper{}, err
	}
	if ids, err := l.store.ByHash(sum); err != nil {
		return meta.Paper{}, err
	} else if len(ids) > 0 {
		return meta.Paper{}, &DuplicateError{Path: src, ID: ids[0]}
	}
	// Extract from the source first so the library file gets a readable name.
	p, problems := l.extract(ctx, src)
	base := meta.BaseName(&p)
	dst, err := placeFile(src, l.Root, base, move)
	if err != nil {
		return meta.Paper{}, fmt.Errorf("importing %s: %w", src, err)
	}
	rel, err := l.Rel(dst)
	if err != nil {
		return meta.Paper{}, err
	}
	np, err := l.record(ctx, p, problems, meta.File{Path: rel, Size: size, SHA256: sum}, tags)
	if err != nil {
		return meta.Paper{}, fmt.Errorf("importing %s (file kept at %s): %w", src, dst, err)
	}
	return np, nil
}

// DuplicateError says a file's content is already a paper's.
type DuplicateError struct {
	Path string
	ID   string // the paper that has it
}

func (e *DuplicateError) Error() string {
	return fmt.Sprintf("%s: same content as paper %s", e.Path, e.ID)
}

func (e *DuplicateError) Unwrap() error { return meta.ErrExists }

// PaperID is the paper that already has the content.
func (e *DuplicateError) PaperID() string { return e.ID }

// checkPDF refuses files that are not PDFs, naming the file and the problem.
func checkPDF(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	head := make([]byte, 1024)
	n, _ := f.Read(head)
	for i := 0; i+5 <= n; i++ {
		if string(head[i:i+5]) == "%PDF-" {
			return nil
		}
	}
	return fmt.Errorf("%s: not a PDF (no %%PDF- header in its first 1024 bytes): %w", path, meta.ErrInvalid)
}
