package meta

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Map fields hold one value per field of the paper they describe
// (confidence: how sure the metadata lookup was of each field;
// provenance: where each field's value came from). Each entry
// is its own last-writer-wins register, so two devices changing the
// entries of different fields both keep theirs.
//
// In an op, the entry for key k of map field f is written "f/k" in Set,
// its value null when the entry is removed. A whole-map value in Set (a
// new paper, or an op from before entries were merged one by one) sets
// every entry it holds and removes every older entry.
//
// In a record, Values[f] holds the map as the paper shows it (so a stored
// record still decodes straight into a Paper), Clocks["f/k"] is the stamp
// of entry k (kept for a removed entry too, so an older write cannot bring
// it back), and Clocks[f] is the stamp of the newest whole-map write: an
// entry older than it is gone. An entry stored without a stamp of its own
// (a record from before) has that of the whole map.

// mapFields are the scalar fields merged entry by entry. Their keys are
// names of the paper's fields.
var mapFields = []string{"confidence", "provenance"}

// keyName is the name of map field f's entry k, in ops and record stamps.
func keyName(f, k string) string { return f + "/" + k }

// splitKey splits an entry name "f/k"; ok is false for anything else.
func splitKey(name string) (f, k string, ok bool) {
	f, k, ok = strings.Cut(name, "/")
	if !ok || !slices.Contains(mapFields, f) || !validMapKey(k) {
		return "", "", false
	}
	return f, k, true
}

// validMapKey says k may be a map field's key: the name of a paper field.
func validMapKey(k string) bool {
	return slices.Contains(scalarFields, k) || slices.Contains(setFields, k)
}

// validField says name is a field an op may set: a scalar field, or one
// entry of a map field.
func validField(name string) bool {
	if slices.Contains(scalarFields, name) {
		return true
	}
	_, _, ok := splitKey(name)
	return ok
}

// entries decodes map field f's value in r; nil if absent or not a map.
func (r *record) entries(f string) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	if v, ok := r.Values[f]; ok {
		_ = json.Unmarshal(v, &m)
	}
	return m
}

// putEntries stores map field f's value; an empty map removes the field
// from the paper (its whole-map stamp stays in Clocks).
func (r *record) putEntries(f string, m map[string]json.RawMessage) {
	if len(m) == 0 {
		delete(r.Values, f)
		return
	}
	b, _ := json.Marshal(m) // sorted keys: one state, one encoding
	r.Values[f] = b
}

// setEntry applies a write of entry k of map field f at stamp c.
func (r *record) setEntry(f, k string, v json.RawMessage, c HLC) bool {
	if c.Less(r.Clocks[f]) {
		return false // a newer whole-map write removed it
	}
	name := keyName(f, k)
	if cur, ok := r.Clocks[name]; ok && !cur.Less(c) {
		return false
	}
	r.Clocks[name] = c
	if _, ok := r.Clocks[f]; !ok {
		r.Clocks[f] = HLC{} // listed when stored, so decode does not take Latest for it
	}
	m := r.entries(f)
	if m == nil {
		m = map[string]json.RawMessage{}
	}
	if isNullJSON(v) {
		delete(m, k)
	} else {
		m[k] = v
	}
	r.putEntries(f, m)
	return true
}

// setMap applies a whole-map write of map field f at stamp c: every older
// entry goes, and every entry of v is set.
func (r *record) setMap(f string, v json.RawMessage, c HLC) bool {
	changed := r.raiseMap(f, c)
	var m map[string]json.RawMessage
	_ = json.Unmarshal(v, &m)
	for _, k := range slices.Sorted(maps.Keys(m)) {
		if validMapKey(k) && r.setEntry(f, k, m[k], c) {
			changed = true
		}
	}
	return changed
}

// raiseMap moves map field f's whole-map stamp up to c, removing the
// entries older than c.
func (r *record) raiseMap(f string, c HLC) bool {
	if cur, ok := r.Clocks[f]; ok && !cur.Less(c) {
		return false
	}
	r.Clocks[f] = c
	m := r.entries(f)
	for name, h := range r.Clocks {
		mf, k, ok := strings.Cut(name, "/")
		if ok && mf == f && h.Less(c) {
			delete(r.Clocks, name)
			delete(m, k)
		}
	}
	r.putEntries(f, m)
	return true
}

// setField applies one Set entry of an op: a scalar field's register, a
// map entry's register, or a whole map.
func (r *record) setField(name string, v json.RawMessage, c HLC) bool {
	if f, k, ok := splitKey(name); ok {
		return r.setEntry(f, k, v, c)
	}
	if slices.Contains(mapFields, name) {
		return r.setMap(name, v, c)
	}
	if cur, ok := r.Clocks[name]; ok && !cur.Less(c) {
		return false
	}
	r.Values[name] = v
	r.Clocks[name] = c
	return true
}

// join merges another state of the same paper (values and stamps, as a
// decoded record holds them) into r.
func (r *record) join(values map[string]json.RawMessage, clocks map[string]HLC) {
	for f, v := range values {
		if !slices.Contains(mapFields, f) {
			r.setField(f, v, clocks[f])
		}
	}
	for _, f := range mapFields {
		if c, ok := clocks[f]; ok {
			r.raiseMap(f, c)
		}
		var m map[string]json.RawMessage
		_ = json.Unmarshal(values[f], &m)
		for k, v := range m {
			if _, ok := clocks[keyName(f, k)]; !ok && validMapKey(k) {
				r.setEntry(f, k, v, clocks[f]) // stored before entries had stamps
			}
		}
		for name, c := range clocks {
			if mf, k, ok := splitKey(name); ok && mf == f {
				v, live := m[k]
				if !live {
					v = json.RawMessage("null")
				}
				r.setEntry(f, k, v, c)
			}
		}
	}
}

// newestOf is the newest stamp among the values op's Set replaces in r.
func (r *record) newestOf(op *Op) HLC {
	var h HLC
	for name := range op.Set {
		if c, ok := r.Clocks[name]; ok && h.Less(c) {
			h = c
		}
		if slices.Contains(mapFields, name) {
			for k := range r.entries(name) {
				if c := r.Clocks[keyName(name, k)]; h.Less(c) {
					h = c
				}
			}
		}
	}
	return h
}

// replaced is the stamp of each value op's Set replaces in r (Op.Base).
func (r *record) replaced(op *Op) map[string]HLC {
	var out map[string]HLC
	for name := range op.Set {
		if c, ok := r.Clocks[name]; ok && !c.IsZero() && !slices.Contains(mapFields, name) {
			if out == nil {
				out = map[string]HLC{}
			}
			out[name] = c
		}
	}
	return out
}

// fillEntryStamps gives the entries of each map field stored without a
// stamp of their own (records from before) the whole map's stamp.
func (r *record) fillEntryStamps() {
	for _, f := range mapFields {
		for k := range r.entries(f) {
			if _, ok := r.Clocks[keyName(f, k)]; !ok {
				r.Clocks[keyName(f, k)] = r.Clocks[f]
			}
		}
	}
}

// diffEntries adds to op the entries of each map field that differ
// between the two papers. A new paper (old nil) sets whole maps instead.
func diffEntries(op *Op, oldVals, newVals map[string]json.RawMessage, isNew bool) {
	for _, f := range mapFields {
		if isNew {
			if v, ok := newVals[f]; ok {
				op.Set[f] = v
			}
			continue
		}
		var om, nm map[string]json.RawMessage
		_ = json.Unmarshal(oldVals[f], &om)
		_ = json.Unmarshal(newVals[f], &nm)
		for k, nv := range nm {
			if !validMapKey(k) {
				continue // not a field's entry: not kept (apply drops it from whole maps too)
			}
			if ov, ok := om[k]; !ok || string(ov) != string(nv) {
				op.Set[keyName(f, k)] = nv
			}
		}
		for k := range om {
			if _, ok := nm[k]; !ok && validMapKey(k) {
				op.Set[keyName(f, k)] = json.RawMessage("null")
			}
		}
	}
}

func isNullJSON(v json.RawMessage) bool { return strings.TrimSpace(string(v)) == "null" || len(v) == 0 }
