package bibtex

import (
	"cmp"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/paperfs/paperfs/meta"
)

// KeyStore is what key assignment needs of the store (*meta.Store), which
// keeps keys unique: it chooses the free suffix for a base key inside the
// transaction that stores it (see meta.Store.GiveKey).
type KeyStore interface {
	Get(id string) (meta.Paper, error)
	FreeKey(base, id string) string
	GiveKey(id, old, base string) (meta.Paper, error)
}

// KeyLibrary is what AssignKeys needs of the store (*meta.Store): every
// paper, and whether there is anything to do (CiteKeysUnique answers from
// the store's key index, without decoding every paper: what makes opening
// a large library fast).
type KeyLibrary interface {
	KeyStore
	ForEach(fn func(p meta.Paper) bool) error
	CiteKeysUnique() (bool, error)
}

// stopwords are skipped when a key takes the first word of a title.
var stopwords = map[string]bool{
	"a": true, "an": true, "the": true, "on": true, "of": true, "in": true, "for": true,
	"to": true, "and": true, "towards": true, "toward": true, "with": true, "from": true,
	"at": true, "by": true, "is": true, "are": true, "how": true, "what": true, "why": true,
	"do": true, "does": true, "can": true, "when": true, "via": true,
}

// BaseKey is the key a paper would get with no other paper around, in the
// style Google Scholar made familiar: first author's family name, year,
// first significant word of the title, "vaswani2017attention". ASCII
// letters and digits only, so every BibTeX and biber accepts it.
func BaseKey(p *meta.Paper) string {
	var b strings.Builder
	if len(p.Authors) > 0 {
		n := ParseName(p.Authors[0])
		fam := n.Last
		if n.Literal != "" {
			fam = strings.Fields(n.Literal)[0]
		}
		b.WriteString(strings.ToLower(ASCIIFold(fam)))
	}
	if p.Year != 0 {
		b.WriteString(strconv.Itoa(p.Year))
	}
	words := strings.FieldsFunc(p.Title, func(r rune) bool {
		return r == ' ' || r == '-' || r == ':' || r == '/' || r == '\u2013' || r == '\u2014'
	})
	for _, w := range words {
		f := strings.ToLower(ASCIIFold(w))
		if f != "" && !stopwords[f] {
			b.WriteString(f)
			break
		}
	}
	key := b.String()
	if key == "" || key[0] >= '0' && key[0] <= '9' {
		key = "paper" + key
	}
	if len(key) > 48 {
		key = key[:48]
	}
	return key
}

// EnsureKeys gives every paper without a citation key a unique one and
// stores it in the paper's citekey field, where it stays: later edits to
// the title or authors never change it; only the user does, by editing the
// sidecar. Papers that share a key (two devices assigned one concurrently,
// or a hand edit) are repaired: the paper added first keeps it, the others
// get a fresh one. It returns the papers as stored, in the same order.
func EnsureKeys(s KeyStore, papers []meta.Paper) ([]meta.Paper, error) {
	out := slices.Clone(papers)
	taken := map[string]string{} // lower-case key -> id, of the papers given
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(out[a].Added.Compare(out[b].Added), strings.Compare(out[a].ID, out[b].ID))
	})
	var todo []int
	for _, i := range order {
		k := strings.ToLower(out[i].CiteKey)
		if k == "" {
			todo = append(todo, i)
			continue
		}
		if id, dup := taken[k]; dup && id != out[i].ID {
			todo = append(todo, i)
			continue
		}
		taken[k] = out[i].ID
	}
	for _, i := range todo {
		p := &out[i]
		np, err := s.GiveKey(p.ID, p.CiteKey, BaseKey(p))
		if err != nil {
			return nil, fmt.Errorf("citation key for paper %s (%q): %w", p.ID, p.Title, err)
		}
		*p = np
	}
	return out, nil
}

// AssignKeys stores a citation key for every paper that has none, and
// repairs keys two papers share (see EnsureKeys). Papers get their key when
// created; this is the one-time backfill for papers created by older
// versions or synced from them, run when a library is opened. It writes
// nothing when every paper has a key of its own, and returns how many
// papers it changed.
func AssignKeys(s KeyLibrary) (int, error) {
	if done, err := s.CiteKeysUnique(); err != nil {
		return 0, err
	} else if done {
		return 0, nil
	}
	var all []meta.Paper
	seen := map[string]bool{}
	need := 0
	if err := s.ForEach(func(p meta.Paper) bool {
		all = append(all, p)
		k := strings.ToLower(p.CiteKey)
		if k == "" || seen[k] {
			need++
		}
		seen[k] = true
		return true
	}); err != nil {
		return 0, err
	}
	if need == 0 {
		return 0, nil
	}
	out, err := EnsureKeys(s, all)
	if err != nil {
		return 0, err
	}
	n := 0
	for i := range out {
		if out[i].CiteKey != all[i].CiteKey {
			n++
		}
	}
	return n, nil
}

// KeyCreator is what CreateWithKey needs of the store (*meta.Store).
type KeyCreator interface {
	CreateWithKey(p meta.Paper, base string) (meta.Paper, error)
}

// CreateWithKey creates p with a citation key of its own, chosen in the
// store's transaction that creates it: p's key if it has one no other
// paper holds, otherwise BaseKey (or p's key) with the first free
// suffix. So a paper is stored with its key, and reading library.bib
// never has to assign one.
func CreateWithKey(s KeyCreator, p meta.Paper) (meta.Paper, error) {
	base := strings.TrimSpace(p.CiteKey)
	if base == "" {
		base = BaseKey(&p)
	}
	np, err := s.CreateWithKey(p, base)
	if err != nil {
		return meta.Paper{}, fmt.Errorf("creating %q with citation key %s: %w", p.Title, base, err)
	}
	return np, nil
}

// NewKey returns the key CreateWithKey would give p now, for callers that
// need it before the paper exists (to name its file). A paper created
// meanwhile may take it; then CreateWithKey gives p the next free one.
func NewKey(s KeyStore, p *meta.Paper) string { return s.FreeKey(BaseKey(p), p.ID) }

// ResolveKeys returns the papers with the keys a BibTeX file shows for
// them, without writing anything: a read of library.bib must not change the
// library. Papers keep their stored keys; a paper with none (one synced
// from a device running an older paperfs) or whose key an earlier-added
// paper holds too (two devices chose it at once) shows the key EnsureKeys
// would store for it, which AssignKeys stores when the library is next
// opened. all is every paper of the library, trashed ones included, so a
// shown key never collides with a stored one.
func ResolveKeys(all []meta.Paper) []meta.Paper {
	out := slices.Clone(all)
	order := make([]int, len(out))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(out[a].Added.Compare(out[b].Added), strings.Compare(out[a].ID, out[b].ID))
	})
	stored := map[string]bool{} // lower-case keys any paper stores
	for _, p := range out {
		if p.CiteKey != "" {
			stored[strings.ToLower(p.CiteKey)] = true
		}
	}
	taken := map[string]bool{} // lower-case keys given so far
	var todo []int
	for _, i := range order {
		k := strings.ToLower(out[i].CiteKey)
		if k == "" || taken[k] {
			todo = append(todo, i)
			continue
		}
		taken[k] = true
	}
	for _, i := range todo {
		base := BaseKey(&out[i])
		for n := 0; ; n++ {
			k := base + meta.KeySuffix(n)
			if !taken[strings.ToLower(k)] && !stored[strings.ToLower(k)] {
				out[i].CiteKey = k
				taken[strings.ToLower(k)] = true
				break
			}
		}
	}
	return out
}
