package meta

import (
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"
)

// fieldCase sets one field of a paper to one of two distinct non-empty
// values, or to its empty value.
type fieldCase struct {
	name  string
	set   func(p *Paper, v int) // v is 1 or 2
	empty func(p *Paper)        // nil if the field has no empty value an edit can give it
}

func fieldCases() []fieldCase {
	day := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)
	return []fieldCase{
		{"title", func(p *Paper, v int) { p.Title = fmt.Sprint("Title ", v) }, func(p *Paper) { p.Title = "" }},
		{"authors", func(p *Paper, v int) { p.Authors = []string{fmt.Sprint("Author ", v)} }, func(p *Paper) { p.Authors = nil }},
		{"year", func(p *Paper, v int) { p.Year = 2000 + v }, func(p *Paper) { p.Year = 0 }},
		{"venue", func(p *Paper, v int) { p.Venue = fmt.Sprint("Venue ", v) }, func(p *Paper) { p.Venue = "" }},
		{"type", func(p *Paper, v int) { p.Type = []Type{Book, Thesis}[v-1] }, func(p *Paper) { p.Type = Article }},
		{"doi", func(p *Paper, v int) { p.DOI = fmt.Sprint("10.1000/", v) }, func(p *Paper) { p.DOI = "" }},
		{"arxiv", func(p *Paper, v int) { p.ArXiv = fmt.Sprint("2401.0000", v) }, func(p *Paper) { p.ArXiv = "" }},
		{"citekey", func(p *Paper, v int) { p.CiteKey = fmt.Sprint("key", v) }, func(p *Paper) { p.CiteKey = "" }},
		{"tags", func(p *Paper, v int) { p.Tags = []string{fmt.Sprint("tag", v)} }, func(p *Paper) { p.Tags = nil }},
		{"folders", func(p *Paper, v int) { p.Folders = []string{fmt.Sprint("dir", v)} }, func(p *Paper) { p.Folders = nil }},
		{"rating", func(p *Paper, v int) { p.Rating = v + 2 }, func(p *Paper) { p.Rating = 0 }},
		{"flag", func(p *Paper, v int) { p.Flag = true }, func(p *Paper) { p.Flag = false }}, // one non-empty value
		{"note", func(p *Paper, v int) { p.Note = fmt.Sprint("note ", v) }, func(p *Paper) { p.Note = "" }},
		{"url", func(p *Paper, v int) { p.URL = fmt.Sprint("https://example.org/", v) }, func(p *Paper) { p.URL = "" }},
		{"abstract", func(p *Paper, v int) { p.Abstract = fmt.Sprint("abstract ", v) }, func(p *Paper) { p.Abstract = "" }},
		{"file", func(p *Paper, v int) { p.File = File{Path: fmt.Sprint("p", v, ".pdf"), Size: int64(v)} }, func(p *Paper) { p.File = File{} }},
		{"supplementary", func(p *Paper, v int) { p.Supplementary = []string{fmt.Sprint("s", v, ".zip")} }, func(p *Paper) { p.Supplementary = nil }},
		{"confidence", func(p *Paper, v int) { p.Confidence = map[string]float64{"title": float64(v) / 4} }, func(p *Paper) { p.Confidence = nil }},
		{"added", func(p *Paper, v int) { p.Added = day.AddDate(0, 0, v) }, nil}, // an empty added is replaced by now
		{"trashed", func(p *Paper, v int) { t := day.AddDate(0, 1, v); p.Trashed = &t }, func(p *Paper) { p.Trashed = nil }},
		{"merged_into", func(p *Paper, v int) { p.MergedInto = fmt.Sprint("keeper0000", v) }, func(p *Paper) { p.MergedInto = "" }},
	}
}

// opFields are the paper fields an op names (a per-key entry names the
// map field it belongs to).
func opFields(op Op) []string {
	var fs []string
	for f := range op.Set {
		f, _, _ = strings.Cut(f, "/")
		fs = append(fs, f)
	}
	for f := range op.Add {
		fs = append(fs, f)
	}
	for f := range op.Remove {
		fs = append(fs, f)
	}
	sort.Strings(fs)
	return slices.Compact(fs)
}

// TestOpNamesOnlyTheEditedField: whatever state a paper is in, in
// particular with any field emptied, an edit of field X makes an op naming
// X alone.
func TestOpNamesOnlyTheEditedField(t *testing.T) {
	cases := fieldCases()
	for _, c := range cases {
		if c.empty == nil {
			continue
		}
		t.Run("emptied "+c.name, func(t *testing.T) {
			s, err := Open(t.TempDir()+"/meta.db", Options{Device: "devprop1", NoSync: true}) // a thousand edits
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			full := Paper{}
			for _, f := range cases {
				f.set(&full, 1)
			}
			p := mustCreate(t, s, full)
			edit := func(want string, fn func(p *Paper)) {
				t.Helper()
				cur, err := s.Get(p.ID)
				if err != nil {
					t.Fatal(err)
				}
				next := cur.Clone()
				fn(&next)
				if reflect.DeepEqual(cur, next) {
					return // flag has one non-empty value: setting it twice is no edit
				}
				before, _ := s.PendingOps(1 << 20)
				if _, err := s.Update(p.ID, func(p *Paper) error { fn(p); return nil }); err != nil {
					t.Fatal(err)
				}
				after, _ := s.PendingOps(1 << 20)
				if len(after) != len(before)+1 {
					t.Fatalf("editing %s made %d ops, want 1", want, len(after)-len(before))
				}
				if got := opFields(after[len(after)-1]); !slices.Equal(got, []string{want}) {
					t.Fatalf("editing %s made an op naming %v: %+v", want, got, after[len(after)-1])
				}
			}
			c.set(&full, 2)
			edit(c.name, func(p *Paper) { c.set(p, 2) })
			edit(c.name, c.empty)
			for _, x := range cases {
				if x.name == c.name {
					continue
				}
				edit(x.name, func(p *Paper) { x.set(p, 2) })
				if x.empty != nil {
					edit(x.name, x.empty)
				}
				edit(x.name, func(p *Paper) { x.set(p, 1) })
			}
			// The emptied field comes back by an edit of its own.
			edit(c.name, func(p *Paper) { c.set(p, 1) })
		})
	}
}
