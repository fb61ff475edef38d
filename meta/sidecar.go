package meta

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"
)

// EncodeSidecar renders a paper as the indented JSON shown in its sidecar
// file. The schema is documented in docs/schema.md and only grows: fields
// are never renamed or removed.
func EncodeSidecar(p *Paper) []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		// Paper holds only types encoding/json always encodes.
		panic(err)
	}
	return b.Bytes()
}

// SidecarError says why a saved sidecar was rejected, with the position of
// a JSON syntax error when there is one.
type SidecarError struct {
	Line, Column int // 1-based; 0 when the problem is not at one place
	Err          error
}

func (e *SidecarError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d, column %d: %v", e.Line, e.Column, e.Err)
	}
	return e.Err.Error()
}

func (e *SidecarError) Unwrap() error { return e.Err }

// MaxSidecarBytes bounds a saved sidecar, and what a view lets be written
// into one. Validate keeps every paper's sidecar within it, so a paper's
// own text can always be saved back.
const MaxSidecarBytes = 1 << 20

// trimBOM drops a UTF-8 byte order mark, which some editors write: it
// carries nothing.
func trimBOM(data []byte) []byte { return bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")) }

// readOnlySidecar are the fields a save may repeat but not change.
var readOnlySidecar = []string{"id", "file", "confidence", "provenance", "added", "modified", "trashed", "missing", "merged_into"}

// DecodeSidecar parses a saved sidecar against the paper's current state
// and returns the paper it describes. It rejects, wrapping ErrInvalid or
// ErrReadOnly: invalid JSON (with line and column), unknown fields, wrong
// types, invalid values, and changes to read-only fields. Editable fields
// left out are cleared; read-only ones left out keep their value. A field
// the user changed gets confidence 1: a later metadata lookup must not
// overwrite it.
func DecodeSidecar(data []byte, cur Paper) (Paper, error) {
	if len(data) > MaxSidecarBytes {
		return cur, &SidecarError{Err: fmt.Errorf("%w: the file is %d bytes; a sidecar holds at most %d", ErrTooLarge, len(data), MaxSidecarBytes)}
	}
	data = trimBOM(data)
	if err := checkRawJSON(data); err != nil {
		return cur, err
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return cur, syntaxError(data, err)
	}
	if raw == nil {
		return cur, &SidecarError{Err: fmt.Errorf("%w: the file must hold one JSON object", ErrInvalid)}
	}
	known := map[string]bool{}
	for _, f := range sidecarFields {
		known[f] = true
	}
	for f := range raw {
		if !known[f] {
			return cur, &SidecarError{Err: fmt.Errorf("%w: unknown field %s (see docs/schema.md)", ErrInvalid, quote(f))}
		}
	}
	curRaw, _ := fieldsOf(&cur)
	for _, f := range readOnlySidecar {
		v, ok := raw[f]
		if !ok {
			continue
		}
		if !sameJSON(v, curRaw[f]) {
			return cur, &SidecarError{Err: &FieldError{Field: f, Reason: "is read-only; change it back (or leave it out)", Err: ErrReadOnly}}
		}
	}
	// Decode the editable fields onto a copy holding only read-only ones.
	next := Paper{ID: cur.ID, File: cur.File, Confidence: cur.Confidence, Provenance: cur.Provenance, Added: cur.Added,
		Modified: cur.Modified, Trashed: cur.Trashed, Missing: cur.Missing}
	for f, v := range raw {
		if slices.Contains(readOnlySidecar, f) {
			continue
		}
		one, _ := json.Marshal(map[string]json.RawMessage{f: v})
		if err := json.Unmarshal(one, &next); err != nil {
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) {
				return cur, &SidecarError{Err: invalid(f, "must be %s, not %s", jsonKind(te.Type.String()), clip(te.Value))}
			}
			return cur, &SidecarError{Err: invalid(f, "%s", clip(err.Error()))}
		}
	}
	if next.Type == "" {
		next.Type = cur.Type
	}
	next.normalize()
	if err := Validate(&next); err != nil {
		return cur, &SidecarError{Err: err}
	}
	// Mark what the user changed as certain.
	before, _ := fieldsOf(&cur)
	after, _ := fieldsOf(&next)
	next.Confidence = maps.Clone(cur.Confidence)
	next.Provenance = maps.Clone(cur.Provenance)
	for f := range after {
		if !sameJSON(before[f], after[f]) && !slices.Contains(readOnlySidecar, f) {
			next.markUser(f)
		}
	}
	return next, nil
}

// markUser records that the user set field f: confidence 1, so no lookup
// overwrites it, and provenance "user".
func (p *Paper) markUser(f string) {
	if p.Confidence == nil {
		p.Confidence = map[string]float64{}
	}
	p.Confidence[f] = 1
	if f == "cite" || f == "tags" || f == "folders" || f == "rating" || f == "flag" || f == "note" {
		return // only the user sets these
	}
	if p.Provenance == nil {
		p.Provenance = map[string]string{}
	}
	p.Provenance[f] = SourceUser
}

// sidecarFields are the JSON names of Paper's fields.
var sidecarFields = func() []string {
	var out []string
	t := reflect.TypeOf(Paper{})
	for i := 0; i < t.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("json"), ",")
		out = append(out, name)
	}
	return out
}()

func fieldsOf(p *Paper) (map[string]json.RawMessage, error) {
	b, err := json.Marshal(p)
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	return m, json.Unmarshal(b, &m)
}

// sameJSON compares two JSON values by meaning, not spelling.
func sameJSON(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return isEmptyJSON(a) && isEmptyJSON(b) || len(a) == 0 && len(b) == 0
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

func jsonKind(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "bool":
		return "true or false"
	case goType == "string", goType == "meta.Type":
		return "a string"
	}
	return goType
}

// syntaxError turns a JSON error into one with a line and column.
func syntaxError(data []byte, err error) error {
	var se *json.SyntaxError
	var off int64 = -1
	if errors.As(err, &se) {
		off = se.Offset
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return &SidecarError{Err: fmt.Errorf("%w: the file must hold one JSON object, not %s", ErrInvalid, clip(te.Value))}
	}
	if off < 0 {
		return &SidecarError{Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
	}
	// Offset counts the bytes read, including the offending one.
	line, col := lineCol(data, int(off)-1)
	return &SidecarError{Line: line, Column: col, Err: fmt.Errorf("%w: %v", ErrInvalid, err)}
}

// SidecarModified returns the "modified" time a sidecar's text carries,
// which names the version of the paper the editor read. ok is false when
// the text has none (or is not JSON; DecodeSidecar reports that).
func SidecarModified(data []byte) (t time.Time, ok bool) {
	var v struct {
		Modified *time.Time `json:"modified"`
	}
	if json.Unmarshal(trimBOM(data), &v) != nil || v.Modified == nil {
		return time.Time{}, false
	}
	return *v.Modified, true
}

// Rebase applies the edits that saved makes to base, the version the
// editor read, onto cur, the paper as it is now. A field the user left as
// it was in base keeps cur's value, so a change that arrived while the
// file was open in an editor (from sync, another view, a lookup) is kept;
// tags and folders merge item by item. With base equal to cur it returns
// saved.
func Rebase(base, saved, cur Paper) Paper {
	b, _ := fieldsOf(&base)
	s, _ := fieldsOf(&saved)
	out := cur.Clone()
	src, dst := reflect.ValueOf(saved.Clone()), reflect.ValueOf(&out).Elem()
	for i, f := range sidecarFields {
		if slices.Contains(readOnlySidecar, f) || sameJSON(b[f], s[f]) {
			continue
		}
		dst.Field(i).Set(src.Field(i))
	}
	out.Tags = mergeSet(base.Tags, saved.Tags, cur.Tags)
	out.Folders = mergeSet(base.Folders, saved.Folders, cur.Folders)
	out.Confidence = maps.Clone(cur.Confidence)
	out.Provenance = maps.Clone(cur.Provenance)
	for f, v := range saved.Confidence {
		if v == 1 && base.Confidence[f] != 1 {
			out.markUser(f)
		}
	}
	out.normalize()
	return out
}

// mergeSet is cur with the items saved added to and removed from base.
func mergeSet(base, saved, cur []string) []string {
	out := slices.Clone(cur)
	for _, x := range saved {
		if !slices.Contains(base, x) && !slices.Contains(out, x) {
			out = append(out, x)
		}
	}
	return slices.DeleteFunc(out, func(x string) bool {
		return slices.Contains(base, x) && !slices.Contains(saved, x)
	})
}

// SidecarID returns the "id" a sidecar's text carries, or "" when it has
// none or is not JSON.
func SidecarID(data []byte) string {
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(trimBOM(data), &v) != nil {
		return ""
	}
	return v.ID
}
