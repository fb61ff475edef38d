package sync

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
)

// The server holds three collections. See docs/sync.md for the full model.
const (
	// opsColl holds every device's ops: immutable, append-only, _id
	// "<device>:<seq>", unique on {device, seq}. It is the source of truth.
	opsColl = "ops"
	// devicesColl has one document per device, written only by that
	// device: its name, when it last synced and its highest uploaded seq.
	devicesColl = "devices"
	// papersColl has one readable document per paper with its merged
	// state, for people browsing the library in Atlas, Compass or mongosh.
	// It is derived from ops and never read back by paperfs.
	papersColl = "papers"
)

// opDoc is an op as stored in the ops collection. Set values are stored
// as BSON values decoded from their JSON, so they read naturally in
// Compass; a value that would not survive the trip back to identical JSON
// (never seen in practice, but a LWW merge must compare exact bytes) is
// kept verbatim in SetJSON instead.
type opDoc struct {
	ID      string              `bson:"_id"`
	Device  string              `bson:"device"`
	Seq     int64               `bson:"seq"`
	Clock   clockDoc            `bson:"clock"`
	Paper   string              `bson:"paper"`
	Set     bson.Raw            `bson:"set,omitempty"`
	SetJSON map[string]string   `bson:"setjson,omitempty"`
	Add     map[string][]string `bson:"add,omitempty"`
	// Remove is a list rather than a map keyed by element because tag and
	// folder names may contain dots or start with $, which field names
	// may not.
	Remove []removeDoc `bson:"remove,omitempty"`
	// Base is the stamp of the value each set entry replaced (meta.Op.Base).
	Base map[string]clockDoc `bson:"base,omitempty"`
	// Member is who made the op (meta.Op.Member).
	Member string `bson:"member,omitempty"`
}

type clockDoc struct {
	Wall    int64  `bson:"w"`
	Logical int64  `bson:"l"`
	Device  string `bson:"d"`
}

type removeDoc struct {
	Field string   `bson:"field"`
	Elem  string   `bson:"elem"`
	Dots  []string `bson:"dots"`
}

// toDoc converts an op for upload.
func toDoc(op *meta.Op) (*opDoc, error) {
	d := &opDoc{
		ID: op.ID, Device: op.Device, Seq: int64(op.Seq), Paper: op.Paper, Member: op.Member,
		Clock: clockDoc{Wall: op.Clock.Wall, Logical: int64(op.Clock.Logical), Device: op.Clock.Device},
	}
	if op.Seq > math.MaxInt64 {
		return nil, fmt.Errorf("op %s: seq out of range", op.ID)
	}
	if len(op.Set) > 0 {
		// Fields in a fixed order, so one op always makes one document.
		fields := make([]string, 0, len(op.Set))
		for f := range op.Set {
			fields = append(fields, f)
		}
		slices.Sort(fields)
		var set bson.D
		for _, f := range fields {
			if v, ok := jsonToBSON(op.Set[f]); ok {
				set = append(set, bson.E{Key: f, Value: v})
			} else {
				d.keepJSON(f, op.Set[f])
			}
		}
		// Check the round trip through BSON itself, which is what the
		// other devices will read; a value that doesn't come back as the
		// same bytes is kept as JSON text instead.
		for len(set) > 0 {
			b, err := bson.Marshal(set)
			if err != nil {
				return nil, fmt.Errorf("op %s: %w", op.ID, err)
			}
			elems, err := bson.Raw(b).Elements()
			if err != nil {
				return nil, fmt.Errorf("op %s: %w", op.ID, err)
			}
			bad := -1
			var buf bytes.Buffer
			for i, e := range elems {
				buf.Reset()
				if err := writeJSON(&buf, e.Value()); err != nil || !bytes.Equal(buf.Bytes(), op.Set[e.Key()]) {
					bad = i
					break
				}
			}
			if bad < 0 {
				d.Set = b
				break
			}
			d.keepJSON(set[bad].Key, op.Set[set[bad].Key])
			set = slices.Delete(set, bad, bad+1)
		}
	}
	if len(op.Add) > 0 {
		d.Add = op.Add
	}
	for f, h := range op.Base {
		if d.Base == nil {
			d.Base = map[string]clockDoc{}
		}
		d.Base[f] = clockDoc{Wall: h.Wall, Logical: int64(h.Logical), Device: h.Device}
	}
	for _, f := range sortedKeys(op.Remove) {
		for _, e := range sortedKeys(op.Remove[f]) {
			dots := op.Remove[f][e]
			if dots == nil {
				dots = []string{}
			}
			d.Remove = append(d.Remove, removeDoc{Field: f, Elem: e, Dots: dots})
		}
	}
	return d, nil
}

// fromDoc converts a downloaded op back, checking it is well formed.
func fromDoc(d *opDoc) (meta.Op, error) {
	// The member is anyone's to write who may write the database, and
	// only ever shown: one too long or unprintable is cut and cleaned
	// rather than refused, which would stop that device's ops for good.
	op := meta.Op{
		ID: d.ID, Device: d.Device, Seq: uint64(d.Seq), Paper: d.Paper, Member: meta.CleanMember(d.Member),
		Clock: meta.HLC{Wall: d.Clock.Wall, Logical: uint32(d.Clock.Logical), Device: d.Clock.Device},
	}
	if d.Seq <= 0 || d.Clock.Logical < 0 || d.Clock.Logical > math.MaxUint32 {
		return op, fmt.Errorf("op %q: bad seq or clock", d.ID)
	}
	if len(d.Set) > 0 || len(d.SetJSON) > 0 {
		op.Set = map[string]json.RawMessage{}
	}
	if len(d.Set) > 0 {
		elems, err := d.Set.Elements()
		if err != nil {
			return op, fmt.Errorf("op %q: set: %w", d.ID, err)
		}
		for _, e := range elems {
			var buf bytes.Buffer
			if err := writeJSON(&buf, e.Value()); err != nil {
				return op, fmt.Errorf("op %q: set.%s: %w", d.ID, e.Key(), err)
			}
			op.Set[e.Key()] = buf.Bytes()
		}
	}
	for f, v := range d.SetJSON {
		if !json.Valid([]byte(v)) {
			return op, fmt.Errorf("op %q: setjson.%s is not JSON", d.ID, f)
		}
		op.Set[f] = json.RawMessage(v)
	}
	if len(d.Add) > 0 {
		op.Add = d.Add
	}
	for f, h := range d.Base {
		if h.Logical < 0 || h.Logical > math.MaxUint32 {
			return op, fmt.Errorf("op %q: bad base clock for %s", d.ID, f)
		}
		if op.Base == nil {
			op.Base = map[string]meta.HLC{}
		}
		op.Base[f] = meta.HLC{Wall: h.Wall, Logical: uint32(h.Logical), Device: h.Device}
	}
	for _, r := range d.Remove {
		if op.Remove == nil {
			op.Remove = map[string]map[string][]string{}
		}
		if op.Remove[r.Field] == nil {
			op.Remove[r.Field] = map[string][]string{}
		}
		op.Remove[r.Field][r.Elem] = append(op.Remove[r.Field][r.Elem], r.Dots...)
	}
	if err := op.Check(); err != nil {
		return op, err
	}
	return op, nil
}

// sameOp reports whether two ops are the same record, byte for byte in
// their canonical JSON.
func sameOp(a, b *meta.Op) bool {
	ja, err1 := json.Marshal(normOp(a))
	jb, err2 := json.Marshal(normOp(b))
	return err1 == nil && err2 == nil && bytes.Equal(ja, jb)
}

// normOp makes empty and nil collections compare equal: the server
// cannot tell them apart.
func normOp(o *meta.Op) meta.Op {
	c := *o
	if len(c.Set) == 0 {
		c.Set = nil
	}
	if len(c.Add) == 0 {
		c.Add = nil
	}
	if len(c.Base) == 0 {
		c.Base = nil
	}
	if len(c.Remove) == 0 {
		c.Remove = nil
	} else {
		c.Remove = map[string]map[string][]string{}
		for f, elems := range o.Remove {
			c.Remove[f] = map[string][]string{}
			for e, dots := range elems {
				if len(dots) == 0 {
					dots = nil
				}
				c.Remove[f][e] = dots
			}
		}
	}
	return c
}

// jsonToBSON converts a JSON value into a BSON value for writeJSON to turn
// back into the same bytes (toDoc checks that it does); ok is false for
// JSON that has no such form, such as keys that can't be field names.
func jsonToBSON(raw json.RawMessage) (v any, ok bool) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	v, err := decodeValue(dec)
	if err != nil {
		return nil, false
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, false
	}
	return v, true
}

func (d *opDoc) keepJSON(field string, raw json.RawMessage) {
	if d.SetJSON == nil {
		d.SetJSON = map[string]string{}
	}
	d.SetJSON[field] = string(raw)
}

func decodeValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			d := bson.D{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, err
				}
				k, _ := kt.(string)
				if k == "" || strings.HasPrefix(k, "$") || strings.ContainsAny(k, ".\x00") {
					return nil, fmt.Errorf("key %q not storable as a field name", k)
				}
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				d = append(d, bson.E{Key: k, Value: v})
			}
			_, err := dec.Token()
			return d, err
		case '[':
			a := bson.A{}
			for dec.More() {
				v, err := decodeValue(dec)
				if err != nil {
					return nil, err
				}
				a = append(a, v)
			}
			_, err := dec.Token()
			return a, err
		}
		return nil, fmt.Errorf("unexpected %v", t)
	case json.Number:
		s := string(t)
		if !strings.ContainsAny(s, ".eE") {
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, err
			}
			if n >= math.MinInt32 && n <= math.MaxInt32 {
				return int32(n), nil
			}
			return n, nil
		}
		return strconv.ParseFloat(s, 64)
	case string, bool, nil:
		return t, nil
	}
	return nil, fmt.Errorf("unexpected token %v", tok)
}

// writeJSON writes a BSON value as the JSON encoding/json would produce
// for the same Go value.
func writeJSON(w *bytes.Buffer, v bson.RawValue) error {
	switch v.Type {
	case bson.TypeEmbeddedDocument:
		elems, err := v.Document().Elements()
		if err != nil {
			return err
		}
		w.WriteByte('{')
		for i, e := range elems {
			if i > 0 {
				w.WriteByte(',')
			}
			k, _ := json.Marshal(e.Key())
			w.Write(k)
			w.WriteByte(':')
			if err := writeJSON(w, e.Value()); err != nil {
				return err
			}
		}
		w.WriteByte('}')
	case bson.TypeArray:
		vals, err := v.Array().Values()
		if err != nil {
			return err
		}
		w.WriteByte('[')
		for i, e := range vals {
			if i > 0 {
				w.WriteByte(',')
			}
			if err := writeJSON(w, e); err != nil {
				return err
			}
		}
		w.WriteByte(']')
	case bson.TypeString:
		b, _ := json.Marshal(v.StringValue())
		w.Write(b)
	case bson.TypeInt32:
		w.WriteString(strconv.FormatInt(int64(v.Int32()), 10))
	case bson.TypeInt64:
		w.WriteString(strconv.FormatInt(v.Int64(), 10))
	case bson.TypeDouble:
		b, err := json.Marshal(v.Double())
		if err != nil {
			return err
		}
		w.Write(b)
	case bson.TypeBoolean:
		w.WriteString(strconv.FormatBool(v.Boolean()))
	case bson.TypeNull:
		w.WriteString("null")
	default:
		return fmt.Errorf("BSON type %v has no JSON form here", v.Type)
	}
	return nil
}

// fileDoc is a paper's file in its readable document. A path that is not
// valid UTF-8 can't be a BSON string: it is shown escaped, and kept byte
// for byte as path_bytes (as in the paper's JSON).
func fileDoc(f meta.File) bson.D {
	if utf8.ValidString(f.Path) {
		return bson.D{{Key: "path", Value: f.Path}, {Key: "size", Value: f.Size}, {Key: "sha256", Value: f.SHA256}}
	}
	return bson.D{{Key: "path", Value: meta.ShowPath(f.Path)}, {Key: "size", Value: f.Size}, {Key: "sha256", Value: f.SHA256},
		{Key: "path_bytes", Value: []byte(f.Path)}}
}

// paperDoc is the readable document for the papers collection: the
// paper's merged fields, who changed it last (le: the member, device and
// stamp of its newest op), BSON dates for times, a hash of them, and the
// version that keeps a stale writer from replacing a newer state (see
// writePapers). _by and _at say which device wrote the document, which
// is any device that has the paper's newest op, not who changed it.
func paperDoc(p *meta.Paper, le meta.LastEdit, version int64, device string, now time.Time) bson.D {
	d := bson.D{
		{Key: "_id", Value: p.ID},
		{Key: "title", Value: p.Title},
		{Key: "authors", Value: nonNil(p.Authors)},
		{Key: "year", Value: p.Year},
		{Key: "venue", Value: p.Venue},
		{Key: "type", Value: string(p.Type)},
		{Key: "doi", Value: p.DOI},
		{Key: "arxiv", Value: p.ArXiv},
		{Key: "citekey", Value: p.CiteKey},
		{Key: "tags", Value: nonNil(p.Tags)},
		{Key: "folders", Value: nonNil(p.Folders)},
		{Key: "rating", Value: p.Rating},
		{Key: "flag", Value: p.Flag},
		{Key: "note", Value: p.Note},
		{Key: "url", Value: p.URL},
		{Key: "abstract", Value: p.Abstract},
		{Key: "file", Value: fileDoc(p.File)},
		{Key: "supplementary", Value: nonNil(p.Supplementary)},
	}
	if len(p.Confidence) > 0 {
		var c bson.D
		for _, k := range sortedKeys(p.Confidence) {
			c = append(c, bson.E{Key: safeKey(k), Value: p.Confidence[k]})
		}
		d = append(d, bson.E{Key: "confidence", Value: c})
	}
	if p.MergedInto != "" {
		// A duplicate merged away: say so, as every device hides it.
		d = append(d, bson.E{Key: "merged_into", Value: p.MergedInto})
	}
	d = append(d, bson.E{Key: "added", Value: p.Added}, bson.E{Key: "modified", Value: p.Modified},
		bson.E{Key: "modified_by", Value: bson.D{
			{Key: "member", Value: le.Member},
			{Key: "device", Value: le.Clock.Device},
			{Key: "at", Value: le.Clock.Time()},
		}})
	if p.Trashed != nil {
		d = append(d, bson.E{Key: "trashed", Value: *p.Trashed})
	} else {
		d = append(d, bson.E{Key: "trashed", Value: nil})
	}
	return append(d,
		bson.E{Key: "_h", Value: contentHash(d)},
		bson.E{Key: "_v", Value: version},
		bson.E{Key: "_by", Value: device},
		bson.E{Key: "_at", Value: now},
	)
}

func safeKey(k string) string {
	k = strings.ReplaceAll(k, ".", "_")
	if strings.HasPrefix(k, "$") {
		k = "_" + k[1:]
	}
	return k
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func sortedKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

// contentHash identifies a paper document's content (every field before
// the writer's own), so a device need not rewrite a document that already
// says what it would write.
func contentHash(d bson.D) string {
	b, err := bson.Marshal(d)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:16])
}

// docHash is the content hash a paper document carries.
func docHash(d bson.D) string {
	for _, e := range d {
		if e.Key == "_h" {
			h, _ := e.Value.(string)
			return h
		}
	}
	return ""
}
