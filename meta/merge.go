package meta

import (
	"errors"
	"slices"
	"strings"

	"github.com/tidwall/buntdb"
)

// Duplicates: one PDF indexed as two papers, on two devices that had not
// synced yet (both offline, or the cloud drive faster than sync). They
// share the PDF's content (sha256) and its path in the library folder.
// Every device that has both records merges them the same way: the paper
// added first (then the smaller id) stays, the other gets MergedInto and
// disappears from every view and index, and the PDF is not touched. What
// the user set on the other paper is carried over by the caller (see
// library.MergeDuplicates). Merging writes ops like any edit; devices
// merging the same pair concurrently write the same values.

// Duplicates lists the sets of papers that are one PDF indexed more than
// once: same content and same path, none merged yet. Each set is ordered
// with the paper that stays first (added first, then the smaller id: the
// paper that keeps the name in views). It reads the content index, so it
// costs one pass over the keys and a decode of the duplicates only.
func (s *Store) Duplicates() ([][]Paper, error) {
	var out [][]Paper
	err := s.db.View(func(tx *buntdb.Tx) error {
		var groups [][]string
		var sum string
		var ids []string
		flush := func() {
			if len(ids) > 1 {
				groups = append(groups, ids)
			}
		}
		err := ascendPrefix(tx, pHash, func(rest, _ string) bool {
			sm, id, _ := strings.Cut(rest, "\x00")
			if sm != sum {
				flush()
				sum, ids = sm, nil
			}
			ids = append(ids, id)
			return true
		})
		if err != nil {
			return err
		}
		flush()
		for _, g := range groups {
			byPath := map[string][]Paper{}
			for _, id := range g {
				p, err := getPaper(tx, id)
				if err != nil {
					return err
				}
				if p.MergedInto == "" && p.File.Path != "" {
					byPath[p.File.Path] = append(byPath[p.File.Path], p)
				}
			}
			for _, ps := range byPath {
				if len(ps) > 1 {
					slices.SortFunc(ps, keeperFirst)
					out = append(out, ps)
				}
			}
		}
		return nil
	})
	slices.SortFunc(out, func(a, b []Paper) int { return strings.Compare(a[0].ID, b[0].ID) })
	return out, err
}

// keeperFirst orders duplicates: the paper added first stays.
func keeperFirst(a, b Paper) int {
	if c := a.Added.Compare(b.Added); c != 0 {
		return c
	}
	return strings.Compare(a.ID, b.ID)
}

// Merge merges the paper loser into keeper in one durable commit: loser's
// MergedInto becomes keeper and its citation key its id (so keys stay
// unique without a pass over the library), and carry may change keeper
// given loser's state before the merge. Both are ops, so the merge syncs.
// Merging an already merged loser only runs carry.
func (s *Store) Merge(keeper, loser string, carry func(keeper *Paper, loser Paper) error) error {
	if keeper == loser {
		return errors.New("merging a paper into itself")
	}
	var changes []Change
	err := s.write(func(tx *buntdb.Tx, w *writer) error {
		rl, lp, err := loadForWrite(tx, loser)
		if err != nil {
			return err
		}
		if lp.MergedInto == "" {
			p := lp.Clone()
			p.MergedInto, p.CiteKey = keeper, loser
			_, ch, err := w.update(tx, loser, rl, lp, &p)
			if err != nil {
				return err
			}
			if ch.After != nil {
				changes = append(changes, ch)
			}
		}
		rk, old, err := loadForWrite(tx, keeper)
		if err != nil {
			return err
		}
		p := old.Clone()
		if carry != nil {
			if err := carry(&p, lp); err != nil {
				return err
			}
		}
		p.MergedInto = old.MergedInto
		_, ch, err := w.update(tx, keeper, rk, old, &p)
		if err != nil {
			return err
		}
		if ch.After != nil {
			changes = append(changes, ch)
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.feed.publish(changes...)
	return nil
}

// mergedEntries are the index entries of a merged paper: its listing entry
// and its citation key (so every paper has one, see CiteKeysUnique).
func mergedEntries(p *Paper, m map[string]string) map[string]string {
	if p.CiteKey != "" {
		m[pIdent+"citekey:"+strings.ToLower(p.CiteKey)+"\x00"+p.ID] = ""
	}
	return m
}

// releasePath removes a paper's claim on a path in the path index. Until
// they are merged, duplicates claim one path, and the index holds one of
// them: remove the entry only if it is this paper's, and then hand the
// path to another paper with the same PDF at that path.
func releasePath(tx *buntdb.Tx, key, val string, before *Paper) error {
	cur, err := tx.Get(key)
	if errors.Is(err, buntdb.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	curID, _, _ := strings.Cut(cur, "\x00")
	ourID, _, _ := strings.Cut(val, "\x00")
	if curID != ourID {
		return nil
	}
	if _, err := tx.Delete(key); err != nil {
		return err
	}
	if before == nil || before.File.SHA256 == "" {
		return nil
	}
	var others []string
	err = ascendPrefix(tx, pHash+before.File.SHA256+"\x00", func(id, _ string) bool {
		if id != ourID {
			others = append(others, id)
		}
		return true
	})
	if err != nil {
		return err
	}
	for _, id := range others {
		p, err := getPaper(tx, id)
		if err != nil {
			return err
		}
		if p.MergedInto == "" && p.File.Path == before.File.Path {
			_, _, err := tx.Set(key, indexEntries(&p)[key], nil)
			return err
		}
	}
	return nil
}
