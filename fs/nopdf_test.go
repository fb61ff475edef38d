package fs

import (
	"errors"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// TestPaperWithoutPDF: a paper with no PDF on record (from a .bib) shows
// its sidecar only, not a .pdf that cannot be read.
func TestPaperWithoutPDF(t *testing.T) {
	tv := newTestView(t)
	if _, err := tv.store.Create(meta.Paper{Title: "Only Metadata", Year: 2001, Tags: []string{"x"}}); err != nil {
		t.Fatal(err)
	}
	tv.add(t, meta.Paper{Title: "Art", Year: 1968, Tags: []string{"x"}})
	for _, v := range []meta.View{all, tag("x")} {
		es, err := tv.Dir(v).List()
		if err != nil {
			t.Fatal(err)
		}
		var shown []string
		for _, e := range es {
			for _, ext := range []string{ExtPDF, ExtJSON} {
				if Shows(e, ext) {
					shown = append(shown, e.Name+ext)
				}
			}
		}
		want := []string{"1968 - Art.pdf", "1968 - Art.json", "2001 - Only Metadata.json"}
		if len(shown) != len(want) {
			t.Fatalf("%s lists %q, want %q", v, shown, want)
		}
		for i := range want {
			if shown[i] != want[i] {
				t.Fatalf("%s lists %q, want %q", v, shown, want)
			}
		}
		if _, _, err := tv.Dir(v).Lookup("2001 - Only Metadata.pdf"); !errors.Is(err, meta.ErrNotFound) {
			t.Errorf("%s: lookup of the PDF of a paper without one: %v", v, err)
		}
		if _, _, err := tv.Dir(v).Lookup("2001 - Only Metadata.json"); err != nil {
			t.Errorf("%s: its sidecar: %v", v, err)
		}
	}
}
