package bibtex

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

func TestEscape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"plain", "plain"},
		{"R&D 50% #1 a_b", `R\&D 50\% \#1 a\_b`},
		{"{x} \\ ~ ^", `\textbraceleft{}x\textbraceright{} \textbackslash{} \textasciitilde{} \textasciicircum{}`},
		{"Erdős Gödel Müller", `Erd{\H{o}}s G{\"{o}}del M{\"{u}}ller`},
		{"Çelik Señor Ångström ø ß naïve", `{\c{C}}elik Se{\~{n}}or {\AA}ngstr{\"{o}}m {\o} {\ss} na{\"{\i}}ve`},
		{"ǘ", `{\'{\"{u}}}`},
		{"a–b — “q”", "a--b --- ``q''"},
		{"a--b ``x''", "a-{}-b `{}`x'{}'"},
		{"$O(n \\log n)$ sort", `$O(n \log n)$ sort`},
		{"costs $5 and {", `costs \$5 and \textbraceleft{}`},
		{"深度学习 Ωmega", "深度学习 Ωmega"},
	} {
		if got := Escape(c.in); got != c.want {
			t.Errorf("Escape(%q) = %q, want %q", c.in, got, c.want)
		}
		if got, want := Unescape(Escape(c.in)), strings.Join(strings.Fields(c.in), " "); got != want {
			t.Errorf("Unescape(Escape(%q)) = %q", c.in, got)
		}
	}
}

func TestUnescape(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{\"u}ber \"{o} \'e \c c \c{s} {\o}rsted \ss{} \aa`, "über ö é ç ş ørsted ß å"},
		{`G{\"o}del's {BERT}: \emph{Deep} \textit{nets}`, "Gödel's BERT: Deep nets"},
		{"pages 1--2 --- ``quoted''", "pages 1–2 — “quoted”"},
		{`\&\%\$\#\_ a~b`, "&%$#_ a b"},
		{`{\'\i}ndice \v{S}koda \u{a}`, "índice Škoda ă"},
		{"multi\n   line", "multi line"},
		{`$\alpha$-stable {$\mathcal{O}(1)$}`, `$\alpha$-stable $\mathcal{O}(1)$`},
	} {
		if got := Unescape(c.in); got != c.want {
			t.Errorf("Unescape(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParseName(t *testing.T) {
	for _, c := range []struct {
		in   string
		want Name
		bib  string
	}{
		{"Leslie Lamport", Name{First: "Leslie", Last: "Lamport"}, "Lamport, Leslie"},
		{"Robbert van Renesse", Name{First: "Robbert", Von: "van", Last: "Renesse"}, "van Renesse, Robbert"},
		{"Guy L. Steele Jr.", Name{First: "Guy L.", Last: "Steele", Jr: "Jr."}, "Steele, Jr., Guy L."},
		{"Lamport, Leslie", Name{First: "Leslie", Last: "Lamport"}, "Lamport, Leslie"},
		{"van der Aalst, Wil", Name{First: "Wil", Von: "van der", Last: "Aalst"}, "van der Aalst, Wil"},
		{"Plato", Name{Last: "Plato"}, "Plato"},
		{"Kurt Gödel", Name{First: "Kurt", Last: "Gödel"}, `G{\"{o}}del, Kurt`},
		{"The ATLAS Collaboration", Name{Literal: "The ATLAS Collaboration"}, "{The ATLAS Collaboration}"},
	} {
		n := ParseName(c.in)
		if n != c.want {
			t.Errorf("ParseName(%q) = %+v, want %+v", c.in, n, c.want)
		}
		if got := n.bibtex(); got != c.bib {
			t.Errorf("bibtex(%q) = %q, want %q", c.in, got, c.bib)
		}
		// BibTeX's own reading of what we write gives the name back.
		if got := parseBibName(n.bibtex()).String(); got != n.String() {
			t.Errorf("parseBibName(%q) = %q, want %q", n.bibtex(), got, n.String())
		}
	}
}

func TestFromPaper(t *testing.T) {
	p := meta.Paper{ID: "abc123", CiteKey: "vaswani2017attention", Title: "Attention Is All You Need",
		Authors: []string{"Ashish Vaswani", "Noam Shazeer"}, Year: 2017, Type: meta.Preprint, ArXiv: "1706.03762",
		Note: "private", Rating: 5}
	got := FromPaper(&p)
	want := `@misc{vaswani2017attention,
  author = {Vaswani, Ashish and Shazeer, Noam},
  title = {Attention Is All You Need},
  year = {2017},
  eprint = {1706.03762},
  archiveprefix = {arXiv},
  howpublished = {arXiv preprint arXiv:1706.03762},
}
`
	if s := got.Format(); s != want {
		t.Errorf("preprint:\n%s\nwant:\n%s", s, want)
	}
	for _, c := range []struct {
		typ         meta.Type
		entry, vfld string
	}{
		{meta.Article, "article", "journal"}, {meta.Conference, "inproceedings", "booktitle"},
		{meta.Book, "book", "publisher"}, {meta.Thesis, "phdthesis", "school"}, {meta.Other, "misc", "howpublished"},
	} {
		p := meta.Paper{CiteKey: "k", Title: "BERT and GPUs", Authors: []string{"A. Author"}, Year: 2020, Type: c.typ, Venue: "Proc. R&D", DOI: "10.1/x_y", URL: "https://e.org/a%20b"}
		e := FromPaper(&p)
		if e.Type != c.entry || e.Get(c.vfld) != `Proc. R\&D` || e.Get("title") != "{BERT} and {GPUs}" ||
			e.Get("doi") != `10.1/x\_y` || e.Get("url") != `https://e.org/a\%20b` {
			t.Errorf("%s: %s", c.typ, e.Format())
		}
	}
}

func TestRoundTrip(t *testing.T) {
	added := time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)
	papers := []meta.Paper{
		{ID: "p1", CiteKey: "lamport1978time", Title: "Time, Clocks, and the Ordering of Events in a Distributed System",
			Authors: []string{"Leslie Lamport"}, Year: 1978, Type: meta.Article, Venue: "Communications of the ACM",
			DOI: "10.1145/359545.359563", Added: added},
		{ID: "p2", CiteKey: "vanrenesse2015paxos", Title: "Paxos Made Moderately Complex", Authors: []string{"Robbert van Renesse", "Deniz Altınbüken"},
			Year: 2015, Type: meta.Article, Venue: "ACM Computing Surveys", Added: added},
		{ID: "p3", CiteKey: "erdos1947some", Title: "Some remarks on the theory of graphs: 50% & $\\alpha$ {braces}", Authors: []string{"Paul Erdős", "Guy L. Steele Jr."},
			Year: 1947, Type: meta.Conference, Venue: "Bull. Amer. Math. Soc.", URL: "https://example.org/x?a=1&b=2", Added: added},
		{ID: "p4", CiteKey: "vaswani2017attention", Title: "Attention Is All You Need", Authors: []string{"Ashish Vaswani"},
			Year: 2017, Type: meta.Preprint, ArXiv: "1706.03762", Added: added},
		{ID: "p5", CiteKey: "knuth1984texbook", Title: "The TeXbook", Authors: []string{"Donald E. Knuth"}, Year: 1984,
			Type: meta.Book, Venue: "Addison-Wesley", Added: added},
		{ID: "p6", CiteKey: "x-1:2", Title: "A thesis", Authors: []string{"The ATLAS Collaboration"}, Year: 2010, Type: meta.Thesis, Venue: "MIT", Added: added},
	}
	var b bytes.Buffer
	if err := Write(&b, papers); err != nil {
		t.Fatal(err)
	}
	entries, errs := Parse(b.Bytes())
	if len(errs) > 0 || len(entries) != len(papers) {
		t.Fatalf("parse: %d entries, %v\n%s", len(entries), errs, b.String())
	}
	byKey := map[string]meta.Paper{}
	for _, e := range entries {
		p, unmapped := ToPaper(&e.Entry)
		if len(unmapped) > 0 {
			t.Errorf("%s: unmapped %v", e.Key, unmapped)
		}
		byKey[p.CiteKey] = p
	}
	for _, want := range papers {
		got := byKey[want.CiteKey]
		got.ID, got.Added = want.ID, want.Added
		if g, w := meta.EncodeSidecar(&got), meta.EncodeSidecar(&want); !bytes.Equal(g, w) {
			t.Errorf("round trip of %s:\n%s\nwant\n%s", want.CiteKey, g, w)
		}
	}
}

func TestParse(t *testing.T) {
	src := `This is a comment. @comment{ignored {nested} }
@string{acm = "Comm. ACM"}
@preamble{"\newcommand{\noop}[1]{}"}
% Paperlib's export
@article{Lamport1978,
  title = {Time, Clocks, and the Ordering of Events in a Distributed System},
  author = {Lamport, Leslie},
  journal = acm # { 21(7)},
  year = 1978,
  month = jul,
  doi = {https://doi.org/10.1145/359545.359563},
  pages = {558--565},
}
@inproceedings(Key2,
  author = "Ann {\"O}z and Bob {Smith and Sons} and others",
  title = "Quoted {"inner"} title",
  booktitle = {NSDI},
)
@article{broken, title = {unclosed
@misc{ok3, title = {Next entry still read}, eprint = {arXiv:2101.00001v2}, archivePrefix = {arXiv}}
@article{gs2017, title={Attention is all you need}, author={Vaswani, Ashish and others},
  journal={arXiv preprint arXiv:1706.03762}, year={2017}}
@article{undef, journal = nomacro}
`
	entries, errs := Parse([]byte(src))
	keys := []string{}
	for _, e := range entries {
		keys = append(keys, e.Key)
	}
	if !slices.Equal(keys, []string{"Lamport1978", "Key2", "ok3", "gs2017"}) {
		t.Fatalf("keys %v, errors %v", keys, errs)
	}
	if len(errs) != 2 || !strings.Contains(errs[0].Error(), "line 19") || !strings.Contains(errs[1].Error(), "undefined macro") {
		t.Errorf("errors: %v", errs)
	}
	p, unmapped := ToPaper(&entries[0].Entry)
	if p.Venue != "Comm. ACM 21(7)" || p.Year != 1978 || p.DOI != "10.1145/359545.359563" || p.CiteKey != "Lamport1978" ||
		!slices.Equal(p.Authors, []string{"Leslie Lamport"}) || p.Type != meta.Article {
		t.Errorf("entry 1: %+v", p)
	}
	if !slices.Equal(unmapped, []string{"month", "pages"}) {
		t.Errorf("unmapped: %v", unmapped)
	}
	p, _ = ToPaper(&entries[1].Entry)
	if !slices.Equal(p.Authors, []string{"Ann Öz", "Bob Smith and Sons"}) || p.Title != `Quoted "inner" title` || p.Type != meta.Conference || p.Venue != "NSDI" {
		t.Errorf("entry 2: %+v", p)
	}
	p, _ = ToPaper(&entries[2].Entry)
	if p.ArXiv != "2101.00001" || p.Type != meta.Preprint {
		t.Errorf("entry 3: %+v", p)
	}
	p, _ = ToPaper(&entries[3].Entry)
	if p.ArXiv != "1706.03762" || p.Venue != "" || p.Type != meta.Preprint || !slices.Equal(p.Authors, []string{"Ashish Vaswani"}) {
		t.Errorf("Google Scholar style preprint: %+v", p)
	}
}

func all(t *testing.T, s *meta.Store) []meta.Paper {
	var ps []meta.Paper
	if err := s.ForEach(func(p meta.Paper) bool { ps = append(ps, p); return true }); err != nil {
		t.Fatal(err)
	}
	return ps
}

func TestEnsureKeys(t *testing.T) {
	s := testutil.OpenStore(t)
	mk := func(title string, authors []string, year int, key string, added int) meta.Paper {
		p, err := s.Create(meta.Paper{Title: title, Authors: authors, Year: year, CiteKey: key,
			Added: time.Unix(int64(added), 0)})
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	a := mk("Attention Is All You Need", []string{"Ashish Vaswani"}, 2017, "", 1)
	b := mk("Attention is not all you need", []string{"Vaswani, A."}, 2017, "", 2)
	c := mk("The Art of Programming", []string{"Kurt Gödel"}, 0, "", 3)
	d := mk("Mine", nil, 0, "my:key", 4)
	e := mk("Dup", nil, 0, "My:Key", 5) // same key, by hand or from two devices
	ps, err := EnsureKeys(s, all(t, s))
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, p := range ps {
		keys[p.ID] = p.CiteKey
	}
	want := map[string]string{a.ID: "vaswani2017attention", b.ID: "vaswani2017attentiona", c.ID: "godelart", d.ID: "my:key", e.ID: "dup"}
	for id, k := range want {
		if keys[id] != k {
			t.Errorf("key of %s = %q, want %q", id, keys[id], k)
		}
		if p, _ := s.Get(id); p.CiteKey != k {
			t.Errorf("key of %s not stored: %q", id, p.CiteKey)
		}
	}
	// Keys never move: editing the title, or a new paper that would have
	// taken the key first, changes nothing.
	s.Update(a.ID, func(p *meta.Paper) error { p.Title = "Renamed"; p.Year = 2018; return nil })
	mk("Attention Is All You Need", []string{"Ashish Vaswani"}, 2017, "", 0)
	ps, _ = EnsureKeys(s, all(t, s))
	seen := map[string]bool{}
	for _, p := range ps {
		if w, ok := want[p.ID]; ok && p.CiteKey != w {
			t.Errorf("key of %s moved to %q", p.ID, p.CiteKey)
		}
		if seen[strings.ToLower(p.CiteKey)] {
			t.Errorf("duplicate key %s", p.CiteKey)
		}
		seen[strings.ToLower(p.CiteKey)] = true
	}
	if !seen["vaswani2017attentionb"] {
		t.Errorf("new paper's key: %v", seen)
	}
}

func TestImport(t *testing.T) {
	s := testutil.OpenStore(t)
	other, _ := s.Create(meta.Paper{Title: "Something else", CiteKey: "smith2020", DOI: "10.9/other"})
	src := []byte(`@article{lamport1978time, title = {Time, Clocks}, author = {Lamport, Leslie}, year = {1978},
  doi = {10.1145/359545.359563}, keywords = {clocks}}
@misc{smith2020, title = {A different paper}, author = {Smith, J}}
@misc{bad key, title = {Spaces in keys}}
`)
	rep, err := Import(s, src, ImportOptions{Tags: []string{"imported"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 3 || len(rep.Updated) != 0 || rep.Unmapped["keywords"] != 1 || rep.Unmapped["key"] != 1 ||
		rep.Renamed["smith2020"] != "smith2020a" || len(rep.Errors) != 0 {
		t.Fatalf("first import: %+v", rep)
	}
	p, _ := s.Get(rep.Keys["lamport1978time"])
	if p.CiteKey != "lamport1978time" || p.Title != "Time, Clocks" || !slices.Equal(p.Tags, []string{"imported"}) {
		t.Errorf("imported paper: %+v", p)
	}
	if o, _ := s.Get(other.ID); o.Title != "Something else" {
		t.Errorf("key collision overwrote another paper: %+v", o)
	}
	// Again, with an edit in the file: updates, no duplicates.
	src = bytes.Replace(src, []byte("Time, Clocks}"), []byte("Time, Clocks, and the Ordering of Events}"), 1)
	rep, err = Import(s, src, ImportOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Imported) != 1 || len(rep.Updated) != 2 { // the keyless entry has nothing to match by
		t.Fatalf("second import: %+v", rep)
	}
	if p, _ := s.Get(p.ID); p.Title != "Time, Clocks, and the Ordering of Events" {
		t.Errorf("not updated: %q", p.Title)
	}
	if n := len(all(t, s)); n != 5 {
		t.Errorf("%d papers after two imports", n)
	}
}

func TestCSL(t *testing.T) {
	var b bytes.Buffer
	err := WriteCSL(&b, []meta.Paper{
		{CiteKey: "b", Title: "T", Authors: []string{"Robbert van Renesse", "ACME Consortium"}, Year: 2011, Type: meta.Conference, Venue: "SOSP", DOI: "10.1/2"},
		{CiteKey: "a", Title: "P", Type: meta.Preprint, ArXiv: "1706.03762"},
	})
	if err != nil {
		t.Fatal(err)
	}
	var items []map[string]any
	if err := json.Unmarshal(b.Bytes(), &items); err != nil || len(items) != 2 {
		t.Fatalf("%v %s", err, b.String())
	}
	if items[0]["id"] != "a" || items[0]["type"] != "article" || items[0]["number"] != "arXiv:1706.03762" {
		t.Errorf("preprint: %v", items[0])
	}
	want := `[{"family":"Renesse","given":"Robbert","non-dropping-particle":"van"},{"literal":"ACME Consortium"}]`
	if got, _ := json.Marshal(items[1]["author"]); string(got) != want || items[1]["type"] != "paper-conference" ||
		items[1]["container-title"] != "SOSP" || items[1]["DOI"] != "10.1/2" {
		t.Errorf("conference: %v", items[1])
	}
}
