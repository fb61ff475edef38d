package meta

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Citation keys are unique across the library, ignoring case. The store
// keeps them so: a key is chosen from its key index inside the
// transaction that stores it, which serialises every writer, so two
// papers created or keyed at once never get one key. What a key is made
// from (first author, year, title word) is meta/bibtex's BaseKey; the
// store only adds the suffix that makes it free. Keys two devices chose
// at once arrive by sync and are repaired by bibtex.EnsureKeys.

// KeySuffix is the suffix that makes the nth candidate of a base key: ""
// for 0, then a..z, aa..zz, ...
func KeySuffix(n int) string {
	var b []byte
	for n > 0 {
		n--
		b = append([]byte{byte('a' + n%26)}, b...)
		n /= 26
	}
	return string(b)
}

// freeKey is base, or base with the first suffix no paper but id holds.
// s.mu is held.
func (s *Store) freeKey(base, id string) string {
	keys := s.idx.idents["citekey"]
	for n := 0; ; n++ {
		key := base + KeySuffix(n)
		if !slices.ContainsFunc(keys.get(strings.ToLower(key)), func(e *indexed) bool { return e.id != id }) {
			return key
		}
	}
}

// FreeKey is the key CreateWithKey would give a paper with no key now:
// base, or base with the first free suffix. For a caller that needs the
// key before the paper exists (to name its file); the paper may still
// get another if a paper created meanwhile takes this one.
func (s *Store) FreeKey(base, id string) string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.freeKey(base, id)
}

// CreateWithKey creates p with a citation key no other paper holds,
// chosen in the transaction that creates it: p's own key if it has one
// and it is free, otherwise base, or base with the first free suffix.
func (s *Store) CreateWithKey(p Paper, base string) (Paper, error) {
	if strings.TrimSpace(base) == "" {
		return Paper{}, fmt.Errorf("paper %q: an empty base citation key: %w", p.Title, ErrInvalid)
	}
	out, err := s.createMany([]Paper{p}, func(p *Paper) {
		if k := strings.TrimSpace(p.CiteKey); k == "" || s.freeKey(k, p.ID) != k {
			p.CiteKey = s.freeKey(base, p.ID)
		}
	})
	if err != nil {
		return Paper{}, err
	}
	return out[0], nil
}

// errKeyKept stops GiveKey's update when the key was edited meanwhile.
var errKeyKept = errors.New("citation key changed meanwhile")

// GiveKey gives paper id a citation key no other paper holds, base or
// base with the first free suffix, chosen and stored in one transaction,
// unless the paper's key is no longer old: then the edit made meanwhile
// wins and the paper is returned as it is.
func (s *Store) GiveKey(id, old, base string) (Paper, error) {
	p, err := s.Update(id, func(p *Paper) error {
		if p.CiteKey != old {
			return errKeyKept
		}
		p.CiteKey = s.freeKey(base, id)
		return nil
	})
	if errors.Is(err, errKeyKept) {
		return s.Get(id)
	}
	return p, err
}
