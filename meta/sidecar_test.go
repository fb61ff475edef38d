package meta

import (
	"errors"
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
