//go:build linux || darwin

package fuse

import (
	"errors"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/bibtex"
)

// bibPapers is a small library with what trips BibTeX up: accents, TeX
// specials, math, particles, an organisation, an arXiv-only preprint.
func bibPapers(t *testing.T, s *meta.Store, lib string) []meta.Paper {
	t.Helper()
	var out []meta.Paper
	for i, p := range []meta.Paper{
		{Title: "Time, Clocks, and the Ordering of Events in a Distributed System", Authors: []string{"Leslie Lamport"},
			Year: 1978, Type: meta.Article, Venue: "Communications of the ACM", DOI: "10.1145/359545.359563", Tags: []string{"distributed"}},
		{Title: "Paxos Made Moderately Complex", Authors: []string{"Robbert van Renesse", "Deniz Altınbüken"},
			Year: 2015, Type: meta.Article, Venue: "ACM Computing Surveys", Tags: []string{"distributed"}},
		{Title: "Attention Is All You Need", Authors: []string{"Ashish Vaswani", "Noam Shazeer"}, Year: 2017,
			Type: meta.Preprint, ArXiv: "1706.03762", Tags: []string{"nlp"}},
		{Title: "Über formal unentscheidbare Sätze: 100% & $O(n^2)$ {proofs} #1_a", Authors: []string{"Kurt Gödel", "Guy L. Steele Jr."},
			Year: 1931, Type: meta.Conference, Venue: "Monatshefte für Mathematik & Physik"},
		{Title: "The TeXbook", Authors: []string{"Donald E. Knuth"}, Year: 1984, Type: meta.Book, Venue: "Addison-Wesley"},
		{Title: "A Report", Authors: []string{"The ATLAS Collaboration"}, Year: 2012, Type: meta.Thesis, Venue: "CERN",
			URL: "https://example.org/a%20b?x=1&y=2"},
		{Title: "Untitled draft", Type: meta.Other},
	} {
		p.File.Path = "p" + string(rune('a'+i)) + ".pdf"
		out = append(out, addPDF(t, s, lib, p, []byte("%PDF-1.4 "+p.Title)))
	}
	return out
}

func TestBibFiles(t *testing.T) {
	s, lib, mnt, _ := testMount(t, Options{})
	papers := bibPapers(t, s, lib)
	path := filepath.Join(mnt, pfs.BibLibraryName)
	if !slices.Contains(ls(t, mnt), pfs.BibLibraryName) {
		t.Fatalf("root lists no %s: %v", pfs.BibLibraryName, ls(t, mnt))
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Size() != int64(len(data)) {
		t.Errorf("stat says %d bytes, read gives %d", st.Size(), len(data))
	}
	entries, errs := bibtex.Parse(data)
	if len(errs) > 0 || len(entries) != len(papers) {
		t.Fatalf("%d entries, errors %v\n%s", len(entries), errs, data)
	}
	// The papers were created without keys (as by an older paperfs):
	// reading shows the keys they will get and writes nothing.
	shown := map[string]string{}
	for _, e := range entries {
		shown[e.Get("title")] = e.Key
	}
	keys := map[string]string{}
	for _, p := range papers {
		q, _ := s.Get(p.ID)
		if q.CiteKey != "" || !q.Modified.Equal(p.Modified) {
			t.Errorf("paper %q changed by a read: key %q, modified %v -> %v", q.Title, q.CiteKey, p.Modified, q.Modified)
		}
	}
	// A tag's file shows the same keys, resolved among the whole library.
	if te, _ := bibtex.Parse(readFile(t, filepath.Join(mnt, "tags", "distributed", pfs.BibTagName))); len(te) != 2 ||
		te[0].Key != shown[te[0].Get("title")] || te[1].Key != shown[te[1].Get("title")] {
		t.Errorf("tag.bib before keys are stored: %+v, library.bib shows %v", te, shown)
	}
	// The backfill run when a library is opened stores exactly those keys.
	if n, err := bibtex.AssignKeys(s); err != nil || n != len(papers) {
		t.Fatalf("AssignKeys: %d, %v", n, err)
	}
	for _, p := range papers {
		q, _ := s.Get(p.ID)
		if q.CiteKey == "" || !strings.Contains(string(data), "{"+q.CiteKey+",") {
			t.Errorf("paper %q: key %q not in library.bib", q.Title, q.CiteKey)
		}
		keys[p.ID] = q.CiteKey
	}
	if len(shown) != len(papers) {
		t.Errorf("keys shown: %v", shown)
	}
	if n, err := bibtex.AssignKeys(s); err != nil || n != 0 {
		t.Errorf("second AssignKeys: %d, %v", n, err)
	}

	// tag.bib holds the tag's papers only.
	if got := ls(t, filepath.Join(mnt, "tags", "distributed")); !slices.Contains(got, pfs.BibTagName) {
		t.Fatalf("tags/distributed: %v", got)
	}
	tagData, err := os.ReadFile(filepath.Join(mnt, "tags", "distributed", pfs.BibTagName))
	if err != nil {
		t.Fatal(err)
	}
	if te, _ := bibtex.Parse(tagData); len(te) != 2 || te[0].Key != keys[papers[0].ID] || te[1].Key != keys[papers[1].ID] {
		t.Errorf("tag.bib:\n%s", tagData)
	}
	// A paper whose PDF is missing on this device is listed in missing/
	// only, and still cited.
	if err := s.SetMissing(papers[1].ID, true); err != nil {
		t.Fatal(err)
	}
	if te, _ := bibtex.Parse(readFile(t, filepath.Join(mnt, "tags", "distributed", pfs.BibTagName))); len(te) != 2 {
		t.Errorf("tag.bib with a PDF missing:\n%s", tagData)
	}
	if err := s.SetMissing(papers[1].ID, false); err != nil {
		t.Fatal(err)
	}
	if slices.Contains(ls(t, filepath.Join(mnt, "all")), pfs.BibTagName) {
		t.Errorf("all/ shows a %s", pfs.BibTagName)
	}

	// It follows edits at once, keys never move, and it is read-only.
	if _, err := s.Update(papers[0].ID, func(p *meta.Paper) error {
		p.Title = "Time, Clocks, and the Ordering of Events in a Distributed System (Revised and Much Longer)"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(path)
	data2, _ := os.ReadFile(path)
	if st.Size() != int64(len(data2)) || !strings.Contains(string(data2), "Much Longer") ||
		!strings.Contains(string(data2), "{"+keys[papers[0].ID]+",") {
		t.Errorf("after an edit: size %d, read %d:\n%s", st.Size(), len(data2), data2)
	}
	if err := os.WriteFile(path, []byte("x"), 0o644); !errors.Is(err, syscall.EROFS) && !errors.Is(err, os.ErrPermission) {
		t.Errorf("writing library.bib: %v", err)
	}
	if q, _ := s.Get(papers[0].ID); q.CiteKey != keys[papers[0].ID] {
		t.Errorf("key moved: %q -> %q", keys[papers[0].ID], q.CiteKey)
	}
}

// TestBibLaTeX cites every paper from a LaTeX document whose bibliography is
// the mounted library.bib, and runs Debian's latex and bibtex on it.
func TestBibLaTeX(t *testing.T) {
	for _, tool := range []string{"latex", "bibtex"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s not installed (run scripts/test-deps: texlive-binaries, texlive-latex-base): %v", tool, err)
		}
	}
	s, lib, mnt, _ := testMount(t, Options{})
	papers := bibPapers(t, s, lib)
	if _, err := bibtex.AssignKeys(s); err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, p := range papers {
		q, _ := s.Get(p.ID)
		keys = append(keys, q.CiteKey)
	}
	work := t.TempDir()
	doc := `\documentclass{article}
\usepackage[T1]{fontenc}
\usepackage{url}
\begin{document}
Cited: \cite{` + strings.Join(keys, ",") + `}.
\bibliographystyle{plain}
\bibliography{library}
\end{document}
`
	if err := os.WriteFile(filepath.Join(work, "doc.tex"), []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) string {
		t.Helper()
		c := exec.Command(name, args...)
		c.Dir = work
		// bibtex finds library.bib in the mount, nowhere else.
		c.Env = append(os.Environ(), "BIBINPUTS="+mnt+":", "openout_any=p")
		out, err := c.CombinedOutput()
		if err != nil {
			log, _ := os.ReadFile(filepath.Join(work, "doc.log"))
			t.Fatalf("%s %v: %v\n%s\n%s", name, args, err, out, log)
		}
		return string(out)
	}
	run("latex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
	out := run("bibtex", "doc")
	if strings.Contains(out, "Warning--") || strings.Contains(out, "error message") {
		t.Errorf("bibtex complained:\n%s", out)
	}
	bbl, err := os.ReadFile(filepath.Join(work, "doc.bbl"))
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if !strings.Contains(string(bbl), `\bibitem{`+k+`}`) {
			t.Errorf("%s missing from the bibliography:\n%s", k, bbl)
		}
	}
	for _, want := range []string{`G{\"{o}}del`, `van Renesse`, `{$O(n^2)$}`, `100\%`, `\&`, `ATLAS Collaboration`} {
		if !strings.Contains(string(bbl), want) {
			t.Errorf("bibliography lacks %q:\n%s", want, bbl)
		}
	}
	run("latex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
	run("latex", "-interaction=nonstopmode", "-halt-on-error", "doc.tex")
	if log, _ := os.ReadFile(filepath.Join(work, "doc.log")); strings.Contains(string(log), "undefined") {
		t.Errorf("LaTeX reports undefined citations:\n%s", log)
	}
}

// TestBibReadWritesNothing reads library.bib and tag.bib, with stat and
// open, and checks that no paper changed and no op was made: a read must
// not bump modified times or send anything to other devices.
func TestBibReadWritesNothing(t *testing.T) {
	s, lib, mnt, _ := testMount(t, Options{})
	papers := bibPapers(t, s, lib)
	// One paper keyless (synced from an older device), two sharing a key
	// (chosen at once on two devices): the cases a read could be tempted
	// to repair.
	for i, key := range map[int]string{1: "", 2: "shared", 3: "shared"} {
		if _, err := s.Update(papers[i].ID, func(p *meta.Paper) error { p.CiteKey = key; return nil }); err != nil {
			t.Fatal(err)
		}
	}
	before := map[string]meta.Paper{}
	for _, p := range papers {
		q, _ := s.Get(p.ID)
		before[p.ID] = q
	}
	vec, _ := s.Vector()
	pending, _ := s.PendingCount()
	var seen []string
	for _, name := range []string{pfs.BibLibraryName, "tags/distributed/" + pfs.BibTagName, "tags/nlp/" + pfs.BibTagName} {
		path := filepath.Join(mnt, name)
		for range 2 {
			if _, err := os.Stat(path); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			entries, errs := bibtex.Parse(data)
			if len(errs) > 0 {
				t.Fatalf("%s: %v", name, errs)
			}
			if name == pfs.BibLibraryName {
				seen = seen[:0]
				for _, e := range entries {
					seen = append(seen, e.Key)
				}
			}
		}
	}
	for _, p := range papers {
		q, _ := s.Get(p.ID)
		if b := before[p.ID]; q.CiteKey != b.CiteKey || !q.Modified.Equal(b.Modified) {
			t.Errorf("paper %q changed by reads: key %q -> %q, modified %v -> %v", q.Title, b.CiteKey, q.CiteKey, b.Modified, q.Modified)
		}
	}
	if v, _ := s.Vector(); !maps.Equal(v, vec) {
		t.Errorf("reads made ops: vector %v -> %v", vec, v)
	}
	if n, _ := s.PendingCount(); n != pending {
		t.Errorf("reads queued ops for sync: %d -> %d", pending, n)
	}
	// The keys shown are unique, the first-added paper keeps "shared".
	uniq := map[string]bool{}
	for _, k := range seen {
		if uniq[strings.ToLower(k)] {
			t.Errorf("key %q shown twice: %v", k, seen)
		}
		uniq[strings.ToLower(k)] = true
	}
	if len(seen) != len(papers) || !uniq["shared"] {
		t.Errorf("keys shown: %v", seen)
	}
	// The backfill then stores what was shown.
	if _, err := bibtex.AssignKeys(s); err != nil {
		t.Fatal(err)
	}
	var stored []string
	for _, p := range papers {
		q, _ := s.Get(p.ID)
		stored = append(stored, q.CiteKey)
	}
	slices.Sort(stored)
	slices.Sort(seen)
	if !slices.Equal(stored, seen) {
		t.Errorf("stored keys %v, shown %v", stored, seen)
	}
}

func readFile(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}
