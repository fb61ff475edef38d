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
// costs a decode of the duplicates only.
func (s *Store) Duplicates() ([][]Paper, error) {
	s.mu.RLock()
	var groups [][]string
	for sum := range s.idx.hashes.more {
		groups = append(groups, ids(s.idx.hashes.get(sum)))
	}
	s.mu.RUnlock()
	var out [][]Paper
	err := s.db.View(func(tx *buntdb.Tx) error {
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
