package sync

import (
	"encoding/json"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"

	"github.com/paperfs/paperfs/meta"
)

func roundTrip(t testing.TB, op *meta.Op) meta.Op {
	t.Helper()
	d, err := toDoc(op)
	if err != nil {
		t.Fatal(err)
	}
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back opDoc
	if err := bson.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	got, err := fromDoc(&back)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func TestOpRoundTrip(t *testing.T) {
	trashed := time.Date(2025, 3, 1, 12, 0, 0, 123e6, time.UTC)
	p := meta.Paper{Title: "A <b>&</b> \u2028 \"quoted\" ünï", Authors: []string{"X", "Y"}, Year: 2024, Rating: 5, Flag: true,
		Confidence: map[string]float64{"title": 0.95, "year": 1, "doi": 1e-9}, File: meta.File{Path: "a/b.pdf", Size: 1 << 40},
		Trashed: &trashed, Added: trashed}
	raw, _ := json.Marshal(p)
	var fields map[string]json.RawMessage
	json.Unmarshal(raw, &fields)
	set := map[string]json.RawMessage{}
	for _, f := range []string{"title", "authors", "year", "rating", "flag", "confidence", "file", "trashed", "added"} {
		set[f] = fields[f]
	}
	set["note"] = json.RawMessage("null")
	set["confidence/doi"] = json.RawMessage("0.5")     // one entry of a map field
	set["venue"] = json.RawMessage(`{"$weird.key":1}`) // not storable as BSON keys: kept as JSON text
	op := &meta.Op{ID: "dev001:7", Device: "dev001", Seq: 7, Paper: "paper01", Member: "Ada Lovelace",
		Clock: meta.HLC{Wall: 1700000000000, Logical: 3, Device: "dev001"}, Set: set,
		Add:    map[string][]string{"tags": {"b", "a.b", "$x"}},
		Remove: map[string]map[string][]string{"tags": {"old.tag": {"dev001:1", "dev002:4"}}, "folders": {"f": nil}},
		Base:   map[string]meta.HLC{"title": {Wall: 1690000000000, Logical: 2, Device: "dev002"}, "confidence/doi": {Wall: 1, Device: "dev001"}}}
	got := roundTrip(t, op)
	if !sameOp(op, &got) {
		a, _ := json.Marshal(op)
		b, _ := json.Marshal(got)
		t.Fatalf("round trip changed the op:\n%s\n%s", a, b)
	}
	d, _ := toDoc(op)
	if _, ok := d.SetJSON["venue"]; !ok || len(d.SetJSON) != 1 {
		t.Fatalf("setjson %v", d.SetJSON)
	}
}

func FuzzJSONValue(f *testing.F) {
	for _, s := range []string{`1`, `-0`, `1.5`, `1e21`, `"<&>"`, `[1,"a",null,true]`, `{"a":{"b":[1.25]}}`, `12345678901234`, `0.1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var v any
		if json.Unmarshal([]byte(s), &v) != nil {
			return
		}
		raw, err := json.Marshal(v) // the canonical form the store holds
		if err != nil {
			return
		}
		op := &meta.Op{ID: "dev001:1", Device: "dev001", Seq: 1, Paper: "paper01",
			Clock: meta.HLC{Wall: 1, Device: "dev001"}, Set: map[string]json.RawMessage{"note": raw}}
		got := roundTrip(t, op)
		if string(got.Set["note"]) != string(raw) {
			t.Fatalf("%s came back as %s", raw, got.Set["note"])
		}
	})
}

// A PDF path that is not valid UTF-8 reaches other devices byte for byte,
// and the readable document shows it escaped beside its bytes.
func TestFilePathNotUTF8RoundTrip(t *testing.T) {
	path := "caf\xe9/\x1b[31mx.pdf"
	raw, err := json.Marshal(meta.File{Path: path, Size: 3})
	if err != nil {
		t.Fatal(err)
	}
	op := &meta.Op{ID: "dev001:1", Device: "dev001", Seq: 1, Paper: "paper01",
		Clock: meta.HLC{Wall: 1, Device: "dev001"}, Set: map[string]json.RawMessage{"file": raw}}
	got := roundTrip(t, op)
	var f meta.File
	if err := json.Unmarshal(got.Set["file"], &f); err != nil || f.Path != path {
		t.Fatalf("path came back as %q (%v)", f.Path, err)
	}
	d := paperDoc(&meta.Paper{ID: "paper01", File: meta.File{Path: path}}, meta.LastEdit{}, 1, "dev001", time.Unix(0, 0))
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		File struct {
			Path      string `bson:"path"`
			PathBytes []byte `bson:"path_bytes"`
		} `bson:"file"`
	}
	if err := bson.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if string(back.File.PathBytes) != path || back.File.Path != `caf\xe9/\x1b[31mx.pdf` {
		t.Fatalf("readable document: %+v", back.File)
	}
}

// The readable document says who changed the paper last: the member,
// device and time of its newest op, and its hash changes with them.
func TestPaperDocLastMember(t *testing.T) {
	at := time.Date(2026, 3, 1, 9, 30, 0, 0, time.UTC)
	p := &meta.Paper{ID: "paper01", Title: "T", Modified: at}
	le := meta.LastEdit{Member: "Ada Lovelace", Clock: meta.HLC{Wall: at.UnixMilli(), Device: "deva01"}}
	d := paperDoc(p, le, 7, "devb01", at.Add(time.Hour))
	b, err := bson.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	var back struct {
		ModifiedBy struct {
			Member string    `bson:"member"`
			Device string    `bson:"device"`
			At     time.Time `bson:"at"`
		} `bson:"modified_by"`
		By string `bson:"_by"`
	}
	if err := bson.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.ModifiedBy.Member != "Ada Lovelace" || back.ModifiedBy.Device != "deva01" || !back.ModifiedBy.At.Equal(at) || back.By != "devb01" {
		t.Fatalf("document: %+v", back)
	}
	other := paperDoc(p, meta.LastEdit{Member: "bob", Clock: le.Clock}, 7, "devb01", at)
	if docHash(d) == docHash(other) {
		t.Fatal("a different last member leaves the content hash alone: the document would not be rewritten")
	}
}
