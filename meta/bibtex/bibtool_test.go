package bibtex

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// The real bibtex, with the standard style, reads an export of papers with
// and without venues, years and authors without a single warning: a paper
// lacking a field its type requires ("empty journal") is cited as @misc.
func TestBibtexNoWarnings(t *testing.T) {
	if _, err := exec.LookPath("bibtex"); err != nil {
		t.Fatalf("bibtex not installed (run scripts/test-deps: texlive-binaries, texlive-latex-base): %v", err)
	}
	papers := []meta.Paper{
		{Title: "With a journal", Authors: []string{"Ada Lovelace"}, Year: 1843, Type: meta.Article, Venue: "Scientific Memoirs"},
		{Title: "No journal", Authors: []string{"Alan Turing"}, Year: 1936, Type: meta.Article},
		{Title: "No journal, no year", Authors: []string{"Alan Turing"}, Type: meta.Article},
		{Title: "No authors", Year: 2001, Type: meta.Article, Venue: "Nature"},
		{Title: "At a conference", Authors: []string{"Grace Hopper"}, Year: 1952, Type: meta.Article,
			Venue: "Proceedings of the 1952 ACM National Conference"},
		{Title: "A journal named Proceedings", Authors: []string{"Claude Shannon"}, Year: 1949, Type: meta.Article,
			Venue: "Proceedings of the IRE", DOI: "10.1109/jrproc.1949.232969"},
		{Title: "Conference without booktitle", Authors: []string{"Edsger Dijkstra"}, Year: 1968, Type: meta.Conference},
		{Title: "Book without publisher", Authors: []string{"Donald Knuth"}, Year: 1968, Type: meta.Book},
		{Title: "Thesis without school", Authors: []string{"Barbara Liskov"}, Year: 1968, Type: meta.Thesis},
		{Title: "Thesis", Authors: []string{"Barbara Liskov"}, Year: 1968, Type: meta.Thesis, Venue: "Stanford University"},
		{Title: "Preprint", Authors: []string{"Ashish Vaswani"}, Year: 2017, Type: meta.Preprint, ArXiv: "1706.03762"},
		{Title: "Other", Type: meta.Other},
	}
	for i := range papers {
		papers[i].ID = string(rune('a' + i))
		papers[i].CiteKey = "k" + papers[i].ID
	}
	dir := t.TempDir()
	var bib bytes.Buffer
	if err := Write(&bib, papers); err != nil {
		t.Fatal(err)
	}
	aux := "\\relax\n\\citation{*}\n\\bibstyle{plain}\n\\bibdata{lib}\n"
	for name, data := range map[string][]byte{"lib.bib": bib.Bytes(), "doc.aux": []byte(aux)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	c := exec.Command("bibtex", "doc")
	c.Dir = dir
	out, err := c.CombinedOutput()
	if err != nil || strings.Contains(string(out), "Warning--") {
		t.Fatalf("bibtex: %v\n%s\nof\n%s", err, out, bib.String())
	}
	bbl, err := os.ReadFile(filepath.Join(dir, "doc.bbl"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(bbl), `\bibitem`); n != len(papers) {
		t.Errorf("%d entries in the bibliography, want %d:\n%s", n, len(papers), bbl)
	}
	for _, want := range []string{"@article{ka,", "@misc{kb,", "@inproceedings{ke,", "booktitle = {Proceedings of the 1952 ACM National Conference}",
		"@article{kf,", "journal = {Proceedings of the IRE}", "@misc{kg,", "@phdthesis{kj,"} {
		if !strings.Contains(bib.String(), want) {
			t.Errorf("export lacks %q:\n%s", want, bib.String())
		}
	}
}

// Importing an export over the library keeps the type of a paper the
// export wrote as @misc for want of a field.
func TestImportMiscKeepsType(t *testing.T) {
	s := testutil.OpenStore(t)
	p, err := s.Create(meta.Paper{Title: "No journal", Authors: []string{"Alan Turing"}, Year: 1936, Type: meta.Article, CiteKey: "turing1936"})
	if err != nil {
		t.Fatal(err)
	}
	var bib bytes.Buffer
	if err := Write(&bib, []meta.Paper{p}); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(bib.String(), "@misc{") {
		t.Fatalf("export:\n%s", bib.String())
	}
	rep, err := Import(s, bib.Bytes(), ImportOptions{})
	if err != nil || len(rep.Updated) != 1 {
		t.Fatalf("import: %v %+v", err, rep)
	}
	q, err := s.Get(p.ID)
	if err != nil {
		t.Fatal(err)
	}
	if q.Type != meta.Article {
		t.Errorf("type after re-import: %s, want article", q.Type)
	}
}
