package library

import (
	"fmt"
	"path"
	"strings"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Trash removes a paper from the library's views without destroying
// anything: its PDF moves to the trash folder inside the library folder
// (so the cloud drive carries the move to other devices) and the record is
// marked trashed.
func (l *Library) Trash(id string) (meta.Paper, error) {
	p, err := l.store.Get(id)
	if err != nil {
		return p, err
	}
	if p.Trashed != nil {
		return p, nil
	}
	newPath := p.File.Path
	if p.File.Path != "" && l.Exists(p.File.Path) {
		dir := path.Join(TrashDir, path.Dir(p.File.Path))
		dst, err := l.moveWithin(p.File.Path, dir, strings.TrimSuffix(path.Base(p.File.Path), path.Ext(p.File.Path)))
		if err != nil {
			return p, fmt.Errorf("moving %s to the trash: %w", meta.ShowPath(p.File.Path), err)
		}
		newPath = dst
	}
	now := time.Now().UTC().Truncate(time.Second)
	return l.store.Update(id, func(p *meta.Paper) error {
		p.Trashed, p.File.Path = &now, newPath
		return nil
	})
}

// Restore brings a trashed paper back, its PDF to where it was (or beside
// it, if that name is taken meanwhile).
func (l *Library) Restore(id string) (meta.Paper, error) {
	p, err := l.store.Get(id)
	if err != nil {
		return p, err
	}
	if p.Trashed == nil {
		return p, fmt.Errorf("paper %q is not in the trash", p.Title)
	}
	newPath := p.File.Path
	if orig, ok := strings.CutPrefix(p.File.Path, TrashDir+"/"); ok && l.Exists(p.File.Path) {
		dst, err := l.moveWithin(p.File.Path, path.Dir(orig), strings.TrimSuffix(path.Base(orig), path.Ext(orig)))
		if err != nil {
			return p, fmt.Errorf("restoring %s: %w", meta.ShowPath(p.File.Path), err)
		}
		newPath = dst
	}
	p, err = l.store.Update(id, func(p *meta.Paper) error {
		p.Trashed, p.File.Path = nil, newPath
		return nil
	})
	if err == nil && p.Missing && l.Exists(newPath) {
		err = l.store.SetMissing(id, false)
	}
	return p, err
}

// InTrashDir reports whether a library-relative path is inside the trash
// folder.
func InTrashDir(rel string) bool { return strings.HasPrefix(rel, TrashDir+"/") }

// Trashed lists the papers in the trash.
func (l *Library) Trashed() ([]meta.Paper, error) {
	es, err := l.store.List(meta.View{Kind: meta.Trash})
	if err != nil {
		return nil, err
	}
	out := make([]meta.Paper, 0, len(es))
	for _, e := range es {
		p, err := l.store.Get(e.ID)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}
