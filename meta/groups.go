package meta

import (
	"errors"
	"fmt"
	"slices"
	"strings"

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

// CreateGroup creates an empty tag or folder. Its name must be its own
// directory name (see GroupName).
func (s *Store) CreateGroup(k Kind, name string) error {
	if err := checkEditable(k); err != nil {
		return err
	}
	if err := checkGroupName(k, name); err != nil {
		return err
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

// checkGroupName accepts a name a user gives a new tag or folder: valid
// in a paper, and its own directory name.
func checkGroupName(k Kind, name string) error {
	p := Paper{Tags: []string{name}, Type: Article}
	if err := Validate(&p); err != nil || GroupName(name) != name {
		return fmt.Errorf("%s %q: not a portable name (no \\ / : * ? \" < > |, no leading dot or '-', no trailing dot or space): %w", k, name, ErrInvalid)
	}
	return nil
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
// commit, and returns how many papers changed. from is a directory name:
// GroupName is injective, so it names one tag or folder, and only that one
// is renamed. to must be its own directory name.
func (s *Store) RenameGroup(k Kind, from, to string) (int, error) {
	if err := checkEditable(k); err != nil {
		return 0, err
	}
	if err := checkGroupName(k, to); err != nil {
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
	if _, err := s.UpdateMany(ids, func(p *Paper) error {
		set := groupSet(p, k)
		*set = slices.DeleteFunc(*set, func(t string) bool { return GroupName(t) == from })
		*set = append(*set, to)
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

// groupSet is the list of a paper's groups of a kind (years aside).
func groupSet(p *Paper, k Kind) *[]string {
	switch k {
	case Folders:
		return &p.Folders
	case Authors:
		return &p.Authors
	}
	return &p.Tags
}

// Join puts a paper in the tag or folder a view stands for (tags/x is the
// tag x), or takes it out (in false); for other views it does nothing,
// as they are not sets one joins. The value joined is the group's own,
// which its directory name may only stand for (see GroupName). A group
// the paper leaves empty stays, as a directory stays when its last file
// leaves, until it is removed.
func (s *Store) Join(id string, v View, in bool) error {
	if v.Kind != Tags && v.Kind != Folders {
		return nil
	}
	value, err := s.GroupValue(v)
	if err != nil {
		return err
	}
	if _, err := s.Update(id, func(p *Paper) error {
		set := groupSet(p, v.Kind)
		*set = slices.DeleteFunc(*set, func(t string) bool { return GroupName(t) == v.Group })
		if in {
			*set = append(*set, value)
		}
		return nil
	}); err != nil || in {
		return err
	}
	return s.write(func(tx *buntdb.Tx, _ *writer) error {
		if s.idx.hasMembers(v.Kind, v.Group) {
			return nil
		}
		_, _, err := tx.Set(pExplicit+string(v.Kind)+"\x00"+v.Group, value, nil)
		return err
	})
}

// GroupValue is the tag, folder, author or year a directory name stands
// for: the name itself when it is its own directory name, else the value
// of a paper's group (or an emptied group's, kept with it) that has this
// name. A frontend that passes a group on (a tag for an import, the tag of
// a tag.bib) passes this, not the directory name.
func (s *Store) GroupValue(v View) (string, error) {
	if GroupName(v.Group) == v.Group {
		return v.Group, nil
	}
	s.mu.RLock()
	var id string
	if set := s.idx.set(v); set != nil {
		id = set.members()[0].id
	}
	s.mu.RUnlock()
	if id != "" {
		p, err := s.Get(id)
		if err != nil {
			return "", err
		}
		for _, t := range *groupSet(&p, v.Kind) {
			if GroupName(t) == v.Group {
				return t, nil
			}
		}
	}
	var value string
	err := s.db.View(func(tx *buntdb.Tx) error {
		var err error
		value, err = tx.Get(pExplicit + string(v.Kind) + "\x00" + v.Group)
		return err
	})
	if err == nil && value != "" {
		return value, nil
	}
	if err == nil || errors.Is(err, buntdb.ErrNotFound) {
		return "", fmt.Errorf("%s: %w", v, ErrNotFound)
	}
	return "", err
}

// toPortableNames migrates a store of schema 5 to the portable names of
// schema 6: every paper's entry anew (it holds the paper's names), and
// each empty group made before under a name that is not its own directory
// name moved to that directory name, keeping the group's value.
func toPortableNames(tx *buntdb.Tx) error {
	if err := rebuildEntries(tx); err != nil {
		return err
	}
	moved := map[string]string{} // old key -> value
	if err := tx.AscendRange("", pExplicit, prefixEnd(pExplicit), func(k, v string) bool {
		_, name, _ := strings.Cut(strings.TrimPrefix(k, pExplicit), "\x00")
		if v == "" && GroupName(name) != name {
			moved[k] = name
		}
		return true
	}); err != nil {
		return err
	}
	for k, value := range moved {
		kind, _, _ := strings.Cut(strings.TrimPrefix(k, pExplicit), "\x00")
		if _, err := tx.Delete(k); err != nil {
			return err
		}
		if _, _, err := tx.Set(pExplicit+kind+"\x00"+GroupName(value), value, nil); err != nil {
			return err
		}
	}
	return nil
}
