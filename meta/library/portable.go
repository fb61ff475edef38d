package library

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/libdir"
)

// takenNames is the set of names in the library folder dir by
// meta.NameKey: a name is free only if no file in dir has it in any case
// or normal form, since the cloud drive carries the folder to macOS and
// Windows, which take those for one name. A folder that does not exist
// holds none.
func (l *Library) takenNames(dir string) (map[string]bool, error) {
	es, err := l.dir.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return map[string]bool{}, nil
	}
	if err != nil {
		return nil, err
	}
	taken := make(map[string]bool, len(es))
	for _, e := range es {
		taken[meta.NameKey(e.Name())] = true
	}
	return taken, nil
}

// Rename is a PDF renamed, or to be renamed, to a portable name.
type Rename struct {
	ID       string // the paper's
	From, To string // library-relative paths
}

// PathProblem is why a cloud drive would refuse a library-relative path
// ("holds '?', which ...", "is in the folder \"a:b\", whose name ..."), or ""
// if none would.
func PathProblem(rel string) string {
	segs := strings.Split(rel, "/")
	for i, seg := range segs {
		if why := meta.PortableProblem(seg); why != "" {
			if i == len(segs)-1 {
				return why
			}
			return fmt.Sprintf("is in the folder %q, whose name %s", seg, why)
		}
	}
	return meta.PathTooLong(rel)
}

// Unportable lists the papers' PDF paths a cloud drive would refuse (see
// meta.CheckPortablePath), from the store alone: cheap enough for status.
// The answer is kept until a paper's PDF path changes (a mount's status
// asks every 5 s), so a record's Size and Missing are as they were when
// the list was made.
func (l *Library) Unportable() ([]meta.FileRecord, error) {
	gen := l.store.FilesGeneration()
	l.unportableMu.Lock()
	defer l.unportableMu.Unlock()
	if l.unportable.valid && l.unportable.gen == gen {
		return slices.Clone(l.unportable.files), nil
	}
	files, err := l.unportableNow()
	if err != nil {
		return nil, err
	}
	l.unportable.valid, l.unportable.gen, l.unportable.files = true, gen, files
	return slices.Clone(files), nil
}

// unportableNow is Unportable's list made now, Missing flags current.
func (l *Library) unportableNow() ([]meta.FileRecord, error) {
	files, err := l.store.Files()
	if err != nil {
		return nil, err
	}
	// A copy: the listing of every path it was cut from is garbage.
	return slices.Clone(slices.DeleteFunc(files, func(f meta.FileRecord) bool { return meta.CheckPortablePath(f.Path) == nil })), nil
}

// PortableRenames lists the papers' PDFs in this library folder whose path
// a cloud drive would refuse, each with the path paperfs rename gives it:
// its PortablePath, numbered if a file has that name in any case. It
// changes nothing.
func (l *Library) PortableRenames() ([]Rename, error) {
	files, err := l.unportableNow() // Missing as it is now
	if err != nil {
		return nil, err
	}
	taken := map[string]map[string]bool{} // folder -> names in it, by NameKey
	names := func(dir string) (map[string]bool, error) {
		if t, ok := taken[dir]; ok {
			return t, nil
		}
		t, err := l.takenNames(folderOf(dir))
		taken[dir] = t
		return t, err
	}
	var out []Rename
	for _, f := range files {
		if f.Missing || !l.Exists(f.Path) {
			continue // not here: the device that has it renames it
		}
		to := PortablePath(f.Path)
		dir, name := path.Split(to)
		fromDir, fromName := path.Split(f.Path)
		t, err := names(dir)
		if err != nil {
			return out, err
		}
		if fromDir == dir {
			delete(t, meta.NameKey(fromName)) // it leaves the name
		}
		stem := strings.TrimSuffix(name, ".pdf")
		for i := 1; ; i++ {
			if c := candidate(stem, i); !t[meta.NameKey(c)] {
				to, t[meta.NameKey(c)] = dir+c, true
				break
			}
		}
		out = append(out, Rename{ID: f.ID, From: f.Path, To: to})
	}
	return out, nil
}

// RenamePortable renames the PDFs PortableRenames lists and points their
// papers at the new paths, one PDF at a time: the file first, never
// replacing one (a name taken meanwhile gets the next number), then the
// record, which sync carries to the other devices while their cloud
// drives carry the file. Interrupted between the two, the next scan finds
// the PDF by its content, so a rerun (which scans first) finishes the
// job. Folders left empty by the renames are removed. It returns the
// renames done.
func (l *Library) RenamePortable(ctx context.Context) ([]Rename, error) {
	plan, err := l.PortableRenames()
	if err != nil {
		return nil, err
	}
	var done []Rename
	for _, r := range plan {
		if err := ctx.Err(); err != nil {
			return done, err
		}
		to, err := l.renameTo(r)
		if err != nil {
			return done, fmt.Errorf("renaming %s to %s: %w", r.From, r.To, err)
		}
		r.To = to
		done = append(done, r)
		l.log.Info("renamed to a portable name", "from", r.From, "to", r.To)
	}
	return done, nil
}

// renameTo does one rename and returns the path the PDF took.
func (l *Library) renameTo(r Rename) (string, error) {
	dir := path.Dir(r.To)
	if err := l.dir.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	rel := r.To
	err := l.dir.Rename(r.From, r.To)
	if errors.Is(err, os.ErrExist) || errors.Is(err, libdir.ErrCrossDevice) {
		stem := strings.TrimSuffix(path.Base(PortablePath(r.From)), ".pdf")
		rel, err = l.moveWithin(r.From, dir, stem)
	}
	if err != nil {
		return "", err
	}
	if _, err := l.store.Update(r.ID, func(p *meta.Paper) error {
		if p.File.Path == r.From {
			p.File.Path = rel
		}
		return nil
	}); err != nil {
		return "", fmt.Errorf("the PDF is at %s now, but its paper still says %s (the next scan follows it): %w", rel, r.From, err)
	}
	for d := path.Dir(r.From); d != "." && d != TrashDir && meta.CheckPortable(path.Base(d)) != nil; d = path.Dir(d) {
		if l.dir.Remove(d) != nil {
			break // not empty: what else is there stays
		}
	}
	return rel, nil
}

// folderOf is the library-relative folder path.Split gives ("a/b/", or
// "" for the top), as libdir names it.
func folderOf(dir string) string {
	if dir = strings.TrimSuffix(dir, "/"); dir == "" {
		return "."
	}
	return dir
}

// renamedElsewhere reports whether a paper's recorded path is the
// portable name another device gave the PDF this device still has at
// found: its cloud drive has yet to carry the rename here, and taking the
// file for a move would undo the rename on every device.
func renamedElsewhere(recorded, found string) bool {
	if meta.CheckPortablePath(found) == nil || meta.CheckPortablePath(recorded) != nil {
		return false
	}
	want := strings.TrimSuffix(PortablePath(found), ".pdf")
	got := strings.TrimSuffix(recorded, path.Ext(recorded))
	if got == want {
		return true
	}
	// numbered to be unique: "x (2)"
	i := strings.LastIndex(got, " (")
	if i < 0 || !strings.HasSuffix(got, ")") || got[:i] != want {
		return false
	}
	n, err := strconv.Atoi(got[i+2 : len(got)-1])
	return err == nil && n >= 2
}

// Refused is a name in the library folder a cloud drive would refuse.
type Refused struct {
	Path    string // library-relative
	Problem string // why, as meta.PortableProblem says it
}

func (r Refused) String() string { return fmt.Sprintf("%q %s", r.Path, r.Problem) }

// RefusedNames lists every file and folder in the library folder whose
// name or path a cloud drive would refuse, hidden folders included (the
// drive carries those too); the contents of a refused folder are not
// listed one by one.
func (l *Library) RefusedNames(ctx context.Context) ([]Refused, error) {
	var out []Refused
	err := l.dir.Walk(ctx, func(rel string, d fs.DirEntry, err error) error {
		if err != nil || rel == "." {
			return err
		}
		why := meta.PortableProblem(d.Name())
		if why == "" {
			why = meta.PathTooLong(rel)
		}
		if why == "" {
			return nil
		}
		out = append(out, Refused{Path: rel, Problem: why})
		if d.IsDir() {
			return fs.SkipDir
		}
		return nil
	})
	return out, err
}
