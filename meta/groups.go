package meta

import (
	"errors"
	"fmt"
	"slices"

	"github.com/tidwall/buntdb"
)

// Explicit groups are tags and folders created empty (mkdir tags/new). They
// are local to this device until a paper joins them.
const pExplicit = "ge:" // ge:<kind>\x00<group>

func checkEditable(k Kind) error {
	if k != Tags && k != Folders {
		return fmt.Errorf("%s are derived from papers and cannot be created, renamed or removed: %w", k, ErrReadOnly)
	}
	return nil
}

// CreateGroup creates an empty tag or folder.
func (s *Store) CreateGroup(k Kind, name string) error {
	if err := checkEditable(k); err != nil {
		return err
	}
	p := Paper{Tags: []string{name}, Type: Article}
	if err := Validate(&p); err != nil || GroupName(name) != name {
		return fmt.Errorf("%s %q: %w", k, name, ErrInvalid)
	}
	return s.write(func(tx *buntdb.Tx, _ *writer) error {
		if s.idx.hasMembers(k, name) {
			return fmt.Errorf("%s/%s: %w", k, name, ErrExists)
		}
		if _, err := tx.Get(pExplicit + string(k) + "\x00" + name); err == nil {
			return fmt.Errorf("%s/%s: %w", k, name, ErrExists)
		}
		_, _, err := tx.Set(pExplicit+string(k)+"\x00"+name, "", nil)
		return err
	})
}

// RemoveGroup removes an empty tag or folder.
func (s *Store) RemoveGroup(k Kind, name string) error {
	if err := checkEditable(k); err != nil {
		return err
	}
	return s.write(func(tx *buntdb.Tx, _ *writer) error {
		if s.idx.hasMembers(k, name) {
			return fmt.Errorf("%s/%s still has papers: %w", k, name, ErrNotEmpty)
		}
		_, err := tx.Delete(pExplicit + string(k) + "\x00" + name)
		if errors.Is(err, buntdb.ErrNotFound) {
			return fmt.Errorf("%s/%s: %w", k, name, ErrNotFound)
		}
		return err
	})
}

// RenameGroup renames a tag or folder on every paper that has it, in one
// commit, and returns how many papers changed.
func (s *Store) RenameGroup(k Kind, from, to string) (int, error) {
	if err := checkEditable(k); err != nil {
		return 0, err
	}
	es, err := s.List(View{k, from})
	if err != nil {
		return 0, err
	}
	ids := make([]string, len(es))
	for i, e := range es {
		ids[i] = e.ID
	}
	rename := func(set []string) []string {
		out := slices.DeleteFunc(slices.Clone(set), func(t string) bool { return GroupName(t) == from })
		if len(out) != len(set) {
			out = append(out, to)
		}
		return out
	}
	if _, err := s.UpdateMany(ids, func(p *Paper) error {
		if k == Tags {
			p.Tags = rename(p.Tags)
		} else {
			p.Folders = rename(p.Folders)
		}
		return nil
	}); err != nil {
		return 0, err
	}
	// An empty explicit group moves too.
	err = s.write(func(tx *buntdb.Tx, _ *writer) error {
		if _, err := tx.Delete(pExplicit + string(k) + "\x00" + from); err == nil && len(ids) == 0 {
			_, _, err := tx.Set(pExplicit+string(k)+"\x00"+to, "", nil)
			return err
		}
		return nil
	})
	return len(ids), err
}
