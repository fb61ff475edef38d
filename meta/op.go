package meta

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Op is one immutable change to one paper, made on one device. Ops are the
// unit of sync: a device uploads its own ops and applies everyone else's.
// Applying a set of ops gives the same state in any order and any number of
// times, so devices converge whatever order ops reach them in:
//   - Set fields are last-writer-wins per field, ordered by Clock;
//   - Add and Remove work on tags and folders as observed-remove sets: an add
//     is tagged with its op's ID, a remove names the add tags it saw, so an add
//     the remover had not seen survives (add wins).
type Op struct {
	ID     string                         `json:"id"` // "<device>:<seq>"
	Device string                         `json:"device"`
	Seq    uint64                         `json:"seq"`
	Clock  HLC                            `json:"clock"`
	Paper  string                         `json:"paper"`
	Set    map[string]json.RawMessage     `json:"set,omitempty"`
	Add    map[string][]string            `json:"add,omitempty"`
	Remove map[string]map[string][]string `json:"remove,omitempty"`
	// Base holds, for each Set entry that replaced a value, the stamp of
	// the value it replaced: what the editing device had seen. It lets
	// every device tell a concurrent edit from a later one, so each device
	// whose value lost says so. Ops from before it have none.
	Base map[string]HLC `json:"base,omitempty"`
	// Member is who made the op (see member.go); empty in ops from
	// before members were recorded.
	Member string `json:"member,omitempty"`
}

// OpID is the identifier of a device's seq-th op.
func OpID(device string, seq uint64) string { return device + ":" + strconv.FormatUint(seq, 10) }

// Check verifies an op received from elsewhere is well formed.
func (o *Op) Check() error {
	if !validID(o.Device) || o.Seq == 0 || o.ID != OpID(o.Device, o.Seq) {
		return fmt.Errorf("op %q: bad id/device/seq", o.ID)
	}
	if !validID(o.Paper) {
		return fmt.Errorf("op %s: bad paper id %q", o.ID, o.Paper)
	}
	if o.Clock.Device != o.Device {
		return fmt.Errorf("op %s: clock device %q differs", o.ID, o.Clock.Device)
	}
	if !validMember(o.Member) {
		return fmt.Errorf("op %s: bad member name %q (at most %d bytes of printable UTF-8)", o.ID, o.Member, MaxMemberBytes)
	}
	for f := range o.Set {
		if !validField(f) {
			return fmt.Errorf("op %s: unknown field %q", o.ID, f)
		}
	}
	for f := range o.Add {
		if !slices.Contains(setFields, f) {
			return fmt.Errorf("op %s: unknown set %q", o.ID, f)
		}
	}
	for f := range o.Remove {
		if !slices.Contains(setFields, f) {
			return fmt.Errorf("op %s: unknown set %q", o.ID, f)
		}
	}
	for f := range o.Base {
		if _, ok := o.Set[f]; !ok {
			return fmt.Errorf("op %s: base stamp for %q, which it does not set", o.ID, f)
		}
	}
	return nil
}

// scalarFields are the synced fields merged last-writer-wins. They are the
// JSON names of Paper's fields, minus the derived (id, modified), local
// (missing) and set-valued ones.
var scalarFields = []string{"title", "authors", "year", "venue", "type", "doi", "arxiv", "citekey",
	"rating", "flag", "note", "url", "abstract", "file", "supplementary", "confidence", "added", "trashed", "merged_into",
	"arxiv_version", "published", "cite", "provenance"}

// setFields are merged as observed-remove sets.
var setFields = []string{"tags", "folders"}

// record is a paper's stored state: each scalar field's value with the stamp
// that wrote it, and the add/remove tags of each set element.
//
// Stored, the values form one JSON object that decodes straight into a
// Paper, and the stamps are a small table of distinct HLCs (most fields of
// a paper share the stamp of the op that created it, and fields stamped with
// the record's latest op are not listed at all). Reads decode only the
// values; the per-field maps are built only when an op is applied.
type record struct {
	Values  map[string]json.RawMessage
	Clocks  map[string]HLC
	Sets    map[string]map[string]*setState
	Latest  HLC    // newest op applied: the paper's modified time
	By      string // the member who made the op stamped Latest
	First   HLC    // oldest op applied, its creation; zero in records from before it was kept
	FirstBy string // the member who made the op stamped First
	Missing bool   // local only

	raw     json.RawMessage // stored values object; nil once Values is the truth
	rawC    json.RawMessage // stored field -> index into rawH, for fields not stamped Latest
	rawH    json.RawMessage // stored distinct stamps
	decoded bool            // Values and Clocks are built
}

type recordJSON struct {
	V  json.RawMessage                 `json:"v"`
	C  json.RawMessage                 `json:"c,omitempty"`
	H  json.RawMessage                 `json:"h,omitempty"`
	S  map[string]map[string]*setState `json:"s,omitempty"`
	L  string                          `json:"l,omitempty"`
	B  string                          `json:"b,omitempty"`
	F  string                          `json:"f,omitempty"`
	FB string                          `json:"fb,omitempty"`
	M  bool                            `json:"m,omitempty"`
}

func (r *record) MarshalJSON() ([]byte, error) {
	if err := r.decode(); err != nil {
		return nil, err
	}
	v, err := json.Marshal(r.Values)
	if err != nil {
		return nil, err
	}
	// A field whose stamp is the record's latest is left out of the table:
	// decode gives it Latest. A new or imported paper has only such fields.
	idx := map[HLC]int{}
	var hs []string
	cs := make(map[string]int, len(r.Clocks))
	for f, h := range r.Clocks {
		if _, ok := r.Values[f]; ok && h == r.Latest {
			continue
		}
		if mf, k, ok := splitKey(f); ok && h == r.Clocks[mf] {
			if _, live := r.entries(mf)[k]; live {
				continue // decode gives it the whole map's stamp
			}
		}
		i, ok := idx[h]
		if !ok {
			i = len(hs)
			idx[h] = i
			hs = append(hs, h.encode())
		}
		cs[f] = i
	}
	var c, hb []byte
	if len(cs) > 0 {
		c, _ = json.Marshal(cs)
		hb, _ = json.Marshal(hs)
	}
	sets := map[string]map[string]*setState{}
	for f, m := range r.Sets {
		if len(m) > 0 {
			sets[f] = m
		}
	}
	return json.Marshal(recordJSON{V: v, C: c, H: hb, S: sets, L: r.Latest.encode(), B: r.By,
		F: r.First.encode(), FB: r.FirstBy, M: r.Missing})
}

func (r *record) UnmarshalJSON(b []byte) error {
	var j recordJSON
	if err := json.Unmarshal(b, &j); err != nil {
		return err
	}
	latest, err := decodeHLC(j.L)
	if err != nil {
		return err
	}
	first, err := decodeHLC(j.F)
	if err != nil {
		return err
	}
	*r = record{Sets: j.S, Latest: latest, By: j.B, First: first, FirstBy: j.FB, Missing: j.M, raw: j.V, rawC: j.C, rawH: j.H}
	if r.Sets == nil {
		r.Sets = map[string]map[string]*setState{}
	}
	return nil
}

// decode builds Values and Clocks from the stored form.
func (r *record) decode() error {
	if r.decoded {
		return nil
	}
	r.Values, r.Clocks = map[string]json.RawMessage{}, map[string]HLC{}
	if len(r.raw) > 0 {
		if err := json.Unmarshal(r.raw, &r.Values); err != nil {
			return err
		}
	}
	if len(r.rawC) > 0 {
		var cs map[string]int
		var hs []string
		if err := json.Unmarshal(r.rawC, &cs); err != nil {
			return err
		}
		if err := json.Unmarshal(r.rawH, &hs); err != nil {
			return err
		}
		for f, i := range cs {
			if i < 0 || i >= len(hs) {
				return fmt.Errorf("clock index %d out of range", i)
			}
			h, err := decodeHLC(hs[i])
			if err != nil {
				return err
			}
			r.Clocks[f] = h
		}
	}
	for f := range r.Values {
		if _, ok := r.Clocks[f]; !ok {
			r.Clocks[f] = r.Latest
		}
	}
	r.fillEntryStamps()
	r.raw, r.rawC, r.rawH, r.decoded = nil, nil, nil, true
	return nil
}

type setState struct {
	Adds    []string `json:"a,omitempty"`
	Removed []string `json:"r,omitempty"`
}

func (s *setState) live() bool {
	for _, a := range s.Adds {
		if !slices.Contains(s.Removed, a) {
			return true
		}
	}
	return false
}

func (s *setState) liveDots() []string {
	var out []string
	for _, a := range s.Adds {
		if !slices.Contains(s.Removed, a) {
			out = append(out, a)
		}
	}
	return out
}

func newRecord() *record {
	return &record{Values: map[string]json.RawMessage{}, Clocks: map[string]HLC{}, Sets: map[string]map[string]*setState{}, decoded: true}
}

// apply merges op into r. It is commutative, associative and idempotent.
// It reports whether anything changed.
// r must be decoded (getRecordForWrite).
func (r *record) apply(op *Op) bool {
	changed := false
	for _, f := range slices.Sorted(maps.Keys(op.Set)) {
		if r.setField(f, op.Set[f], op.Clock) {
			changed = true
		}
	}
	for f, elems := range op.Add {
		for _, e := range elems {
			st := r.elem(f, e)
			switch {
			case slices.Contains(st.Removed, op.ID):
				// Removed before its add arrived: both are done with.
				st.Removed = slices.DeleteFunc(st.Removed, func(d string) bool { return d == op.ID })
				changed = true
			case !slices.Contains(st.Adds, op.ID):
				st.Adds = append(st.Adds, op.ID)
				slices.Sort(st.Adds)
				changed = true
			}
		}
	}
	for f, elems := range op.Remove {
		for e, dots := range elems {
			st := r.elem(f, e)
			for _, d := range dots {
				switch {
				case slices.Contains(st.Adds, d):
					// An add and its remove cancel out. Each op is applied
					// once (ApplyRemote skips what the version vector has
					// seen), so the add cannot come back: keeping both as
					// a tombstone would only grow the record with every
					// retag.
					st.Adds = slices.DeleteFunc(st.Adds, func(a string) bool { return a == d })
					changed = true
				case !slices.Contains(st.Removed, d):
					st.Removed = append(st.Removed, d)
					slices.Sort(st.Removed)
					changed = true
				}
			}
			if len(st.Adds) == 0 && len(st.Removed) == 0 {
				delete(r.Sets[f], e)
			}
		}
	}
	// Latest (the paper's "modified") is the newest op applied, whether
	// or not it won anything: the newest op that changed something would
	// depend on the order ops arrived in, and devices would disagree.
	// By goes with it: the newest op's member, the same on every device.
	// First is the oldest op, known from the paper's first op on; a
	// record from before it was kept never learns it.
	if r.Latest.IsZero() || !r.First.IsZero() && op.Clock.Less(r.First) {
		r.First, r.FirstBy = op.Clock, op.Member
		changed = true
	}
	if r.Latest.Less(op.Clock) {
		r.Latest = op.Clock
		r.By = op.Member
		changed = true
	}
	return changed
}

func (r *record) elem(field, e string) *setState {
	m := r.Sets[field]
	if m == nil {
		m = map[string]*setState{}
		r.Sets[field] = m
	}
	st := m[e]
	if st == nil {
		st = &setState{}
		m[e] = st
	}
	return st
}

// paper materializes the record as a Paper.
func (r *record) paper(id string) (Paper, error) {
	var p Paper
	raw := r.raw
	if r.decoded && len(r.Values) > 0 {
		var err error
		if raw, err = json.Marshal(r.Values); err != nil {
			return p, err
		}
	}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, &p); err != nil {
			return p, fmt.Errorf("paper %s: decoding stored fields: %w", id, err)
		}
	}
	p.ID = id
	p.Tags = r.members("tags")
	p.Folders = r.members("folders")
	if p.Authors == nil {
		p.Authors = []string{}
	}
	if p.Type == "" {
		p.Type = Article
	}
	p.Modified = r.Latest.Time()
	p.Missing = r.Missing
	return p, nil
}

func (r *record) members(field string) []string {
	out := []string{}
	for e, st := range r.Sets[field] {
		if st.live() {
			out = append(out, e)
		}
	}
	slices.Sort(out)
	return out
}

// diff builds the op that turns oldP (the paper old holds) into newP: it
// names exactly the fields whose value differs between the two papers,
// whatever the values are. old and oldP are nil for a new paper. It
// returns nil if nothing changed.
//
// Fields are compared as the papers show them, never against the stored
// values: an emptied field is stored as null, and comparing that null with
// the paper's empty value would make every later edit rewrite the field
// with a fresh stamp, overwriting concurrent edits made elsewhere.
func diff(old *record, oldP, newP *Paper) (*Op, error) {
	newVals, err := fieldValues(newP)
	if err != nil {
		return nil, err
	}
	oldVals := map[string]json.RawMessage{}
	if oldP != nil {
		if oldVals, err = fieldValues(oldP); err != nil {
			return nil, err
		}
	}
	op := &Op{Paper: newP.ID, Set: map[string]json.RawMessage{}}
	diffEntries(op, oldVals, newVals, oldP == nil)
	for _, f := range scalarFields {
		if slices.Contains(mapFields, f) {
			continue
		}
		ov, had := oldVals[f]
		nv, has := newVals[f]
		switch {
		case !had && !has:
		case !has:
			op.Set[f] = json.RawMessage("null")
		case !had || string(ov) != string(nv):
			op.Set[f] = nv
		}
	}
	for _, f := range setFields {
		var before, after []string
		if oldP != nil {
			before = setOf(oldP, f)
		}
		after = setOf(newP, f)
		for _, e := range after {
			if !slices.Contains(before, e) {
				if op.Add == nil {
					op.Add = map[string][]string{}
				}
				op.Add[f] = append(op.Add[f], e)
			}
		}
		for _, e := range before {
			if slices.Contains(after, e) {
				continue
			}
			if op.Remove == nil {
				op.Remove = map[string]map[string][]string{}
			}
			if op.Remove[f] == nil {
				op.Remove[f] = map[string][]string{}
			}
			op.Remove[f][e] = old.Sets[f][e].liveDots()
		}
	}
	if len(op.Set) == 0 && op.Add == nil && op.Remove == nil {
		return nil, nil
	}
	return op, nil
}

func setOf(p *Paper, field string) []string {
	if field == "tags" {
		return p.Tags
	}
	return p.Folders
}

// fieldValues is the JSON of each non-empty scalar field of p.
func fieldValues(p *Paper) (map[string]json.RawMessage, error) {
	raw, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(raw, &all); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(scalarFields))
	for _, f := range scalarFields {
		v, ok := all[f]
		if !ok || isEmptyJSON(v) {
			continue
		}
		out[f] = v
	}
	return out, nil
}

func isEmptyJSON(v json.RawMessage) bool {
	switch strings.TrimSpace(string(v)) {
	case "null", `""`, "0", "false", "[]", "{}":
		return true
	}
	return false
}
