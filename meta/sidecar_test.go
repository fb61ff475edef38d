package meta

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

func testPaper() Paper {
	p := Paper{ID: "abcdef123456", Title: "Old", Authors: []string{"A B"}, Year: 2000, Type: Article,
		Tags: []string{}, Folders: []string{}, File: File{Path: "x.pdf", Size: 3, SHA256: "ab"},
		Confidence: map[string]float64{"title": 0.3}, Added: time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)}
	return p
}

func TestDecodeSidecar(t *testing.T) {
	cur := testPaper()
	good := EncodeSidecar(&cur)
	edited := strings.Replace(string(good), `"title": "Old"`, `"title": "New"`, 1)
	p, err := DecodeSidecar([]byte(edited), cur)
	if err != nil || p.Title != "New" || p.Confidence["title"] != 1 || cur.Confidence["title"] != 0.3 {
		t.Fatalf("edit: %+v %v", p, err)
	}
	// Leaving out read-only fields keeps them; leaving out editable ones clears them.
	p, err = DecodeSidecar([]byte(`{"title": "Only"}`), cur)
	if err != nil || p.File != cur.File || p.ID != cur.ID || len(p.Authors) != 0 || p.Year != 0 {
		t.Fatalf("partial: %+v %v", p, err)
	}
	cases := []struct {
		in   string
		want string
		is   error
	}{
		{"{\n  \"title\": \"x\",\n  oops\n}", "line 3, column 3", ErrInvalid},
		{`[1,2]`, "one JSON object", ErrInvalid},
		{`{"titel": "x"}`, `unknown field "titel"`, ErrInvalid},
		{`{"year": "1978"}`, "year: must be a number", ErrInvalid},
		{`{"year": 78}`, "78 is not a year", ErrInvalid},
		{`{"rating": 6}`, "out of range", ErrInvalid},
		{`{"type": "blog"}`, "not one of", ErrInvalid},
		{`{"tags": ["a/b"]}`, "cannot contain '/'", ErrInvalid},
		{`{"id": "zzzzzz999999"}`, "id: is read-only", ErrReadOnly},
		{`{"file": {"path": "../../etc/passwd", "size": 3}}`, "file: is read-only", ErrReadOnly},
		{`{"title": "a\u0000b"}`, "control character", ErrInvalid},
		{``, "", ErrInvalid},
	}
	for _, c := range cases {
		_, err := DecodeSidecar([]byte(c.in), cur)
		if err == nil || !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%q: got %v, want %q (%v)", c.in, err, c.want, c.is)
		}
	}
}

func FuzzDecodeSidecar(f *testing.F) {
	cur := testPaper()
	f.Add(EncodeSidecar(&cur))
	seeds, _ := filepath.Glob("testdata/sidecar/*.json")
	for _, s := range seeds {
		b, _ := os.ReadFile(s)
		f.Add(b)
	}
	f.Add([]byte(`{"title": "x", "tags": ["a", "a", " b "], "year": 1999}`))
	f.Add([]byte(`{"authors": null, "rating": -1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := DecodeSidecar(data, cur)
		if err != nil {
			if !errors.Is(err, ErrInvalid) && !errors.Is(err, ErrReadOnly) {
				t.Fatalf("error not classified: %v", err)
			}
			return
		}
		if err := Validate(&p); err != nil {
			t.Fatalf("accepted an invalid paper: %v", err)
		}
		if p.ID != cur.ID || p.File != cur.File || !p.Added.Equal(cur.Added) {
			t.Fatalf("read-only field changed: %+v", p)
		}
		// What was accepted round-trips.
		q, err := DecodeSidecar(EncodeSidecar(&p), p)
		if err != nil || q.Title != p.Title || q.Year != p.Year {
			t.Fatalf("round trip: %v", err)
		}
	})
}

// TestRebase: a save made from an older version keeps what changed since,
// field by field and tag by tag.
func TestRebase(t *testing.T) {
	base := Paper{ID: "a", Title: "Old", Year: 2000, Rating: 1, Note: "n", Tags: []string{"x", "y"}}
	saved := base.Clone()
	saved.Title, saved.Note, saved.Tags = "Mine", "", []string{"x", "z"} // retitled, note cleared, y -> z
	cur := base.Clone()
	cur.Rating, cur.Year, cur.Tags = 4, 2001, []string{"x", "y", "w"} // meanwhile: rating, year, tag w
	got := Rebase(base, saved, cur)
	if got.Title != "Mine" || got.Note != "" || got.Rating != 4 || got.Year != 2001 {
		t.Errorf("rebased: %+v", got)
	}
	if want := []string{"w", "x", "z"}; !slices.Equal(got.Tags, want) {
		t.Errorf("tags %v, want %v", got.Tags, want)
	}
	if same := Rebase(cur, saved, cur); same.Title != "Mine" || same.Rating != saved.Rating {
		t.Errorf("base == cur must give saved: %+v", same)
	}
}

// TestDecodeSidecarText: text encoding/json would change without a word
// (invalid UTF-8, lone surrogates, a repeated key) or that no field may
// hold (NUL) is refused, naming the field and where it is; a byte order
// mark is not.
func TestDecodeSidecarText(t *testing.T) {
	cur := testPaper()
	for _, c := range []struct {
		name, in, want string
	}{
		{"invalid UTF-8 in note", "{\"title\": \"x\",\n \"note\": \"caf\xe9\"}", "line 2, column 14: note: byte 0xe9 is not valid UTF-8 (text must be UTF-8) (byte offset 28)"},
		{"invalid UTF-8 in a key", "{\"ti\xfftle\": \"x\"}", "byte 0xff is not valid UTF-8"},
		{"truncated UTF-8 sequence", "{\"title\": \"\xe2\x82\"}", "title: byte 0xe2 is not valid UTF-8"},
		{"lone high surrogate", `{"title": "a\ud800b"}`, `line 1, column 13: title: \ud800 is half of a UTF-16 surrogate pair, without its other half (byte offset 12)`},
		{"lone low surrogate", `{"note": "\udc00"}`, `note: \udc00 is half`},
		{"high surrogate then non-surrogate", `{"title": "\ud83d\u0041"}`, `title: \ud83d is half`},
		{"high surrogate at the end", `{"title": "\ud83d"}`, `title: \ud83d is half`},
		{"surrogate in a list", `{"tags": ["ok", "\ud800"]}`, `tags: \ud800 is half`},
		{"duplicate key", "{\"title\": \"a\",\n \"title\": \"b\"}", `line 2, column 2: title: key "title" appears twice in one object (byte offset 16)`},
		{"duplicate nested key", `{"file": {"path": "x.pdf", "path": "y.pdf", "size": 3}}`, `file: key "path" appears twice`},
		{"NUL in note", `{"title": "x", "note": "a\u0000b"}`, "note: contains NUL (U+0000) at byte 1"},
		{"NUL in abstract", `{"abstract": "\u0000"}`, "abstract: contains NUL"},
		{"NUL in title", `{"title": "\u0000"}`, "title: contains a control character (U+0000)"},
		{"NUL in a tag", `{"tags": ["a\u0000"]}`, "tags: contains a control character (U+0000)"},
		{"raw NUL", "{\"note\": \"a\x00b\"}", "invalid character"},
		{"deep nesting", `{"tags": ` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`, "nested more than 64 levels deep"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := DecodeSidecar([]byte(c.in), cur)
			if err == nil || !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), c.want) {
				t.Errorf("got %v, want %q (ErrInvalid)", err, c.want)
			}
		})
	}
	for _, c := range []struct{ name, in, title string }{
		{"surrogate pair", `{"title": "\ud83d\ude00"}`, "\U0001F600"},
		{"escaped backslash before u", `{"title": "\\ud800"}`, `\ud800`},
		{"BOM", "\xef\xbb\xbf{\"title\": \"x\"}", "x"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, err := DecodeSidecar([]byte(c.in), cur)
			if err != nil || p.Title != c.title {
				t.Errorf("got %q, %v; want %q", p.Title, err, c.title)
			}
		})
	}
	bom := append([]byte("\xef\xbb\xbf"), EncodeSidecar(&cur)...)
	if SidecarID(bom) != cur.ID {
		t.Errorf("SidecarID with a BOM: %q", SidecarID(bom))
	}
	if _, ok := SidecarModified(bom); !ok {
		t.Error("SidecarModified with a BOM: none")
	}
}

// TestSidecarSize: a sidecar past MaxSidecarBytes is refused as too large,
// not invalid, and so is a paper whose sidecar would be; messages quote a
// bounded part of a long value.
func TestSidecarSize(t *testing.T) {
	cur := testPaper()
	big := `{"note": "` + strings.Repeat("x", MaxSidecarBytes) + `"}`
	_, err := DecodeSidecar([]byte(big), cur)
	if !errors.Is(err, ErrTooLarge) || errors.Is(err, ErrInvalid) {
		t.Fatalf("oversized sidecar: %v", err)
	}
	p := testPaper()
	p.Note = strings.Repeat("\x01", maxText) // 6 bytes each in JSON
	if err := Validate(&p); !errors.Is(err, ErrTooLarge) {
		t.Fatalf("paper past the sidecar bound: %v", err)
	}
	p.Note = strings.Repeat("x", MaxSidecarBytes-4096)
	if err := Validate(&p); err != nil {
		t.Fatalf("a note of nearly the whole bound: %v", err)
	}
	if n := len(EncodeSidecar(&p)); n > MaxSidecarBytes {
		t.Fatalf("a valid paper encodes to %d bytes", n)
	}
	long := strings.Repeat("k", 1<<20)
	for _, in := range []string{
		`{"` + long + `": 1}`,
		`{"citekey": "a b` + strings.Repeat("c", 4000) + `"}`,
		`{"tags": ["a/` + strings.Repeat("b", 4000) + `"]}`,
		`{"type": "` + strings.Repeat("t", 4000) + `"}`,
		`{"year": 1` + strings.Repeat("0", 4000) + `}`,
		`{"title": "a", "title": "` + long + `"}`,
		`{"` + long + `": 1, "` + long + `": 2}`,
	} {
		_, err := DecodeSidecar([]byte(in), cur)
		if err == nil || len(err.Error()) > 400 {
			t.Errorf("%.40q...: error of %d bytes: %.500v", in, len(fmt.Sprint(err)), err)
		}
	}
}
