// Package library manages the library folder: the PDFs a user keeps in a
// (typically cloud-synced) folder. It indexes them into a meta.Store
// (Scan), copies new ones in (Import), keeps deleted ones in a trash folder
// (Trash, Restore), and follows changes made behind its back (Watch).
// It never deletes or overwrites a PDF.
package library

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
)

// TrashDir is the folder inside the library where deleted papers' PDFs go.
const TrashDir = ".paperfs-trash"

// Extractor fills in a paper's metadata from its PDF. problems lists what
// could not be read; a failed extraction still yields a usable paper.
type Extractor func(ctx context.Context, path string) (p meta.Paper, problems []string)

// Library is a library folder and the store indexing it.
type Library struct {
	Root    string // absolute, read-only after Open
	store   *meta.Store
	extract Extractor
	log     *slog.Logger
	pattern string // file name pattern of imports; set before use

	// createMu serialises creating papers (choosing a citation key and a
	// file name, then recording), so two never take the same.
	createMu sync.Mutex
}

// Open checks that root is a usable library folder. extract may be nil: the
// title then comes from the file name.
func Open(root string, store *meta.Store, extract Extractor, log *slog.Logger) (*Library, error) {
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, fmt.Errorf("library folder %s: %w", root, err)
	}
	st, err := os.Stat(abs)
	if err != nil {
		return nil, fmt.Errorf("library folder %s: %w", abs, err)
	}
	if !st.IsDir() {
		return nil, fmt.Errorf("library folder %s: not a directory", abs)
	}
	if extract == nil {
		extract = FromFileName
	}
	if log == nil {
		log = slog.Default()
	}
	l := &Library{Root: abs, store: store, extract: extract, log: log, pattern: DefaultNamePattern}
	// Papers get their citation key when created; those created by older
	// versions (or synced from them) get theirs now, once, so reading
	// library.bib never has to write.
	if n, err := bibtex.AssignKeys(store); err != nil {
		return nil, fmt.Errorf("assigning citation keys: %w", err)
	} else if n > 0 {
		log.Info("gave papers citation keys", "papers", n)
	}
	return l, nil
}

// SetNamePattern sets how imported PDFs are named in the library folder
// (see FileName; "" is DefaultNamePattern). Call it before importing.
func (l *Library) SetNamePattern(pattern string) error {
	if pattern == "" {
		pattern = DefaultNamePattern
	}
	if err := CheckNamePattern(pattern); err != nil {
		return err
	}
	l.pattern = pattern
	return nil
}

func (l *Library) namePattern() string { return l.pattern }

// newKey chooses the citation key of a paper about to be created; callers
// hold createMu.
func (l *Library) newKey(p *meta.Paper) (string, error) {
	if p.CiteKey != "" {
		return p.CiteKey, nil
	}
	return bibtex.NewKey(l.store, p)
}

// FromFileName is the Extractor of last resort: the title is the file name.
func FromFileName(_ context.Context, path string) (meta.Paper, []string) {
	name := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	name = strings.Join(strings.Fields(strings.ReplaceAll(name, "_", " ")), " ")
	return meta.Paper{Title: name}, nil
}

// Abs is the absolute path of a library-relative path.
func (l *Library) Abs(rel string) string { return filepath.Join(l.Root, filepath.FromSlash(rel)) }

// Rel turns a path inside the library into its relative, slash form.
func (l *Library) Rel(abs string) (string, error) {
	rel, err := filepath.Rel(l.Root, abs)
	if err != nil || rel == ".." || strings.HasPrefix(rel, "../") {
		return "", fmt.Errorf("%s is outside the library folder %s", abs, l.Root)
	}
	return filepath.ToSlash(rel), nil
}

// Exists reports whether a library-relative path exists; it is the
// meta.Options.FileExists hook.
func (l *Library) Exists(rel string) bool {
	_, err := os.Stat(l.Abs(rel))
	return err == nil
}

// IsPDF reports whether a file name looks like a PDF.
func IsPDF(name string) bool { return strings.EqualFold(filepath.Ext(name), ".pdf") }

// HashFile returns the hex SHA-256 of a file and its size: the content
// hash papers are matched by.
func HashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// placeFile moves or copies src to a free name in dir built from base, never
// replacing an existing file, and returns the path it took. A name is free
// when no file has it in any case (see takenNames). The data is fsynced
// before it appears under its final name.
func placeFile(src, dir, base string, move bool) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	taken, err := takenNames(dir)
	if err != nil {
		return "", err
	}
	if move {
		for i := 1; ; i++ {
			if taken[meta.NameKey(candidate(base, i))] {
				continue
			}
			dst := filepath.Join(dir, candidate(base, i))
			err := renameNoReplace(src, dst)
			if err == nil {
				return dst, nil
			}
			if errors.Is(err, os.ErrExist) {
				continue
			}
			if errors.Is(err, errCrossDevice) {
				break // copy below, then remove the source
			}
			return "", err
		}
	}
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	tmp, err := os.CreateTemp(dir, ".paperfs-import-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name()) // no-op once renamed
	if _, err := io.Copy(tmp, in); err != nil {
		tmp.Close()
		return "", fmt.Errorf("copying %s: %w", src, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return "", err
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	os.Chmod(tmp.Name(), 0o644)
	for i := 1; ; i++ {
		if taken[meta.NameKey(candidate(base, i))] {
			continue
		}
		dst := filepath.Join(dir, candidate(base, i))
		err := renameNoReplace(tmp.Name(), dst)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return "", err
		}
		if move {
			os.Remove(src)
		}
		return dst, nil
	}
}

// candidate is the i-th name tried for a file: "base.pdf", "base (2).pdf"...
func candidate(base string, i int) string {
	if i == 1 {
		return base + ".pdf"
	}
	return fmt.Sprintf("%s (%d).pdf", base, i)
}
