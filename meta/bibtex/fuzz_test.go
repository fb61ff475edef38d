package bibtex

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"github.com/paperfs/paperfs/meta"
)

// FuzzParse feeds the parser arbitrary input (seeds: testdata/*.bib and
// testdata/fuzz/FuzzParse). It must never panic, every paper it yields must
// be valid UTF-8, and whatever it reads must survive being written as
// BibTeX and read again.
func FuzzParse(f *testing.F) {
	for _, name := range []string{"testdata/paperlib-export.bib"} {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`@string{a="x"} @misc(k, title = a # "y" # {z}, author = "{\"O}z, A and B, C, Jr")`))
	f.Add([]byte(`@article{k, title={$x^{2}$ \emph{and} {\'{\i}}}, year=1999, url={http://a.b/%7Bc}}`))
	f.Fuzz(func(t *testing.T, src []byte) {
		entries, _ := Parse(src)
		for _, e := range entries {
			p, _ := ToPaper(&e.Entry)
			for _, s := range append([]string{p.Title, p.Venue, p.Note, p.Abstract, p.URL, p.DOI}, p.Authors...) {
				if !utf8.ValidString(s) {
					t.Fatalf("entry %s: invalid UTF-8 %q", e.Key, s)
				}
			}
			p.CiteKey = "k"
			var b bytes.Buffer
			if err := Write(&b, []meta.Paper{p}); err != nil {
				t.Fatal(err)
			}
			again, errs := Parse(b.Bytes())
			if len(errs) > 0 || len(again) != 1 {
				t.Fatalf("our own output does not parse: %v\n%s", errs, b.String())
			}
			q, _ := ToPaper(&again[0].Entry)
			if q.Title != p.Title {
				t.Fatalf("title %q came back as %q\n%s", p.Title, q.Title, b.String())
			}
		}
	})
}

// FuzzEscape checks that escaping any text and unescaping it gives the
// text back (white space collapsed, composed), and that the escaped form
// never unbalances BibTeX's braces.
func FuzzEscape(f *testing.F) {
	for _, s := range []string{"Gödel & Erdős: 50% of {x}", "$a$ and $", "a--b ``c''", `\emph{x} ~^_#`, "ǘ ı ß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !utf8.ValidString(s) || strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r == 0x7f }) {
			return
		}
		esc := Escape(s)
		if !balanced(esc) {
			t.Fatalf("Escape(%q) = %q: unbalanced braces", s, esc)
		}
		want := norm.NFC.String(strings.Join(strings.Fields(s), " "))
		if got := Unescape(esc); got != want {
			t.Fatalf("Unescape(Escape(%q)) = %q via %q", s, got, esc)
		}
	})
}
