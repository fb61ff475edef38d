package fs

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// TestCarried is the table of what a paper copied from another library
// takes with it.
func TestCarried(t *testing.T) {
	added := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	trashed := added.Add(time.Hour)
	from := meta.Paper{ID: "lab1", Title: "Attention", Authors: []string{"A. Vaswani"}, Year: 2017, Venue: "NeurIPS",
		DOI: "10.1/x", ArXiv: "1706.03762", Tags: []string{"transformers", "ml"}, Folders: []string{"reading group"},
		Rating: 4, Note: "read in week 3", CiteKey: "vaswani2017", Abstract: "abs",
		File: meta.File{Path: "lab/attention.pdf", SHA256: "aa"}, Added: added, Modified: added, Trashed: &trashed,
		Supplementary: []string{"lab/code.zip"}, Provenance: map[string]string{"title": meta.SourceCrossref}}
	into := meta.Paper{ID: "me1", Title: "attention.pdf", Tags: []string{"ml", "todo"}, Folders: []string{"inbox"},
		CiteKey: "attention", File: meta.File{Path: "attention.pdf", SHA256: "aa"}, Added: added.Add(48 * time.Hour)}
	got := carried(from, into)
	want := from.Clone()
	want.ID, want.File, want.Added, want.Modified, want.Trashed = "me1", into.File, into.Added, into.Modified, nil
	want.CiteKey, want.Folders, want.Supplementary = "attention", []string{"inbox"}, nil
	want.Tags = []string{"ml", "todo", "transformers"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("carried:\n got %+v\nwant %+v", got, want)
	}
	if from.Tags[0] != "transformers" || !slices.Equal(into.Tags, []string{"ml", "todo"}) {
		t.Error("carried changed its arguments")
	}
}

// TestCopyFromAnotherLibrary: a PDF copied in whose content is a paper of
// another library (Options.Origin) is imported with that paper's
// metadata, tagged as where it was put.
func TestCopyFromAnotherLibrary(t *testing.T) {
	lab, me := newTestView(t), newTestView(t)
	src := lab.add(t, meta.Paper{Title: "Attention Is All You Need", Authors: []string{"Ashish Vaswani"}, Year: 2017,
		Tags: []string{"transformers"}, Note: "read in week 3"})
	me.opts.Origin = func(sum string) (meta.Paper, bool) {
		ids, _ := lab.store.ByHash(sum)
		if len(ids) == 0 {
			return meta.Paper{}, false
		}
		p, err := lab.store.Get(ids[0])
		return p, err == nil
	}
	sub := me.store.Subscribe()
	defer sub.Close()
	body := []byte("%PDF-1.4 " + src.Title) // what lab.add wrote
	if err := copyIn(me, tag("foo"), "Vaswani 2017 - Attention Is All You Need.pdf", body); err != nil {
		t.Fatal(err)
	}
	timeout := time.After(20 * time.Second)
	for {
		select {
		case c := <-sub.C:
			if c.After == nil || c.After.Title != src.Title {
				continue
			}
			p := *c.After
			if p.Year != 2017 || !slices.Equal(p.Authors, src.Authors) || p.Note != src.Note ||
				!slices.Equal(p.Tags, []string{"foo", "transformers"}) || p.File.SHA256 != src.File.SHA256 || p.ID == src.ID {
				t.Fatalf("imported as %+v", p)
			}
			return
		case <-timeout:
			t.Fatal("the copy was not imported with the other library's metadata")
		}
	}
}
