package bibtex

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// accents maps combining marks to the TeX accent commands that make them.
var accents = map[rune]string{
	'\u0300': "`", '\u0301': "'", '\u0302': "^", '\u0303': "~", '\u0304': "=",
	'\u0306': "u", '\u0307': ".", '\u0308': "\"", '\u030A': "r", '\u030B': "H",
	'\u030C': "v", '\u0323': "d", '\u0327': "c", '\u0328': "k", '\u0331': "b",
}

// letters are the non-ASCII letters TeX spells as commands of their own.
var letters = map[rune]string{
	'ø': `\o`, 'Ø': `\O`, 'ß': `\ss`, 'æ': `\ae`, 'Æ': `\AE`, 'œ': `\oe`, 'Œ': `\OE`,
	'å': `\aa`, 'Å': `\AA`, 'ł': `\l`, 'Ł': `\L`, 'ı': `\i`, 'ȷ': `\j`,
}

// punctuation maps typographic characters to their TeX ligatures, which
// every style and every engine handles.
var punctuation = map[rune]string{
	'–': "--", '—': "---", '‘': "`", '’': "'", '“': "``", '”': "''", '\u00a0': "~",
}

// specials are the ASCII characters that mean something to TeX or BibTeX.
// Braces are spelt as commands because BibTeX counts every brace, escaped
// or not, when it looks for the end of a field.
var specials = map[rune]string{
	'\\': `\textbackslash{}`, '{': `\textbraceleft{}`, '}': `\textbraceright{}`,
	'&': `\&`, '%': `\%`, '#': `\#`, '_': `\_`, '$': `\$`,
	'~': `\textasciitilde{}`, '^': `\textasciicircum{}`,
}

// texRune writes r for TeX: ASCII as is (escaped where special), accented
// Latin letters as accent commands in braces (so BibTeX sorts and
// abbreviates them as one letter), everything else as UTF-8, which LaTeX
// reads by default and biber natively.
func texRune(b *strings.Builder, r rune) {
	if s, ok := specials[r]; ok {
		b.WriteString(s)
		return
	}
	if r < utf8.RuneSelf {
		b.WriteRune(r)
		return
	}
	if s, ok := punctuation[r]; ok {
		b.WriteString(s)
		return
	}
	if s, ok := letters[r]; ok {
		b.WriteString("{" + s + "}")
		return
	}
	d := []rune(norm.NFD.String(string(r)))
	if len(d) >= 2 && d[0] < utf8.RuneSelf && unicode.IsLetter(d[0]) {
		cmds := make([]string, 0, len(d)-1)
		for _, m := range d[1:] {
			c, ok := accents[m]
			if !ok {
				cmds = nil
				break
			}
			cmds = append(cmds, c)
		}
		if cmds != nil {
			base := string(d[0])
			switch base {
			case "i":
				base = `\i`
			case "j":
				base = `\j`
			}
			// Innermost accent first: "ǘ" is \'{\"{u}}.
			s := base
			for _, c := range cmds {
				s = `\` + c + "{" + s + "}"
			}
			b.WriteString("{" + s + "}")
			return
		}
	}
	b.WriteRune(r)
}

// Escape turns plain text into a BibTeX field value that LaTeX prints as
// that text. Math between a pair of dollars ($O(n \log n)$, as Paperlib
// stores formulas in titles) is kept as TeX when its braces balance.
func Escape(s string) string {
	var b strings.Builder
	for _, seg := range segments(s) {
		if seg.math {
			b.WriteString(seg.text)
			continue
		}
		rs := []rune(seg.text)
		for i, r := range rs {
			texRune(&b, r)
			// "--", "``" and "''" are ligatures in TeX; text that has them
			// means the characters themselves.
			if (r == '-' || r == '`' || r == '\'') && i+1 < len(rs) && rs[i+1] == r {
				b.WriteString("{}")
			}
		}
	}
	return b.String()
}

type segment struct {
	text string
	math bool
}

// segments splits text into plain runs and $...$ math spans. A dollar with
// no partner, or a span whose braces do not balance, is plain text.
func segments(s string) []segment {
	var out []segment
	for {
		i := strings.IndexByte(s, '$')
		if i < 0 {
			break
		}
		j := strings.IndexByte(s[i+1:], '$')
		if j <= 0 || !balanced(s[i+1:i+1+j]) {
			out = append(out, segment{text: s[:i+1]})
			s = s[i+1:]
			continue
		}
		if i > 0 {
			out = append(out, segment{text: s[:i]})
		}
		out = append(out, segment{text: s[i : i+j+2], math: true})
		s = s[i+j+2:]
	}
	if s != "" {
		out = append(out, segment{text: s})
	}
	return out
}

func balanced(s string) bool {
	depth := 0
	for _, c := range s {
		switch c {
		case '{':
			depth++
		case '}':
			depth--
			if depth < 0 {
				return false
			}
		}
	}
	return depth == 0
}

// protectTitle escapes a title and braces the words whose capitals must
// survive a style that lower-cases titles: acronyms and mixed case (BERT,
// LaTeX, iPhone, GPUs) and formulas. Ordinary capitalised words are left
// to the style.
func protectTitle(s string) string {
	var b strings.Builder
	for _, seg := range segments(s) {
		if seg.math {
			b.WriteString("{" + seg.text + "}")
			continue
		}
		text := seg.text
		for text != "" {
			i := strings.IndexFunc(text, unicode.IsSpace)
			if i == 0 {
				_, n := utf8.DecodeRuneInString(text)
				b.WriteString(text[:n])
				text = text[n:]
				continue
			}
			word := text
			if i > 0 {
				word = text[:i]
			}
			text = text[len(word):]
			esc := Escape(word)
			if needsProtection(word) {
				esc = "{" + esc + "}"
			}
			b.WriteString(esc)
		}
	}
	return b.String()
}

func needsProtection(word string) bool {
	first := true
	for _, r := range word {
		if unicode.IsUpper(r) && !first {
			return true
		}
		if unicode.IsLetter(r) {
			first = false
		}
	}
	return false
}

// ASCIIFold reduces text to ASCII letters and digits for citation keys:
// accents dropped, TeX's special letters spelt out, anything else removed.
func ASCIIFold(s string) string {
	var b strings.Builder
	for _, r := range norm.NFD.String(s) {
		switch {
		case r < utf8.RuneSelf:
			if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
				b.WriteRune(r)
			}
		case letters[r] != "":
			b.WriteString(strings.TrimPrefix(letters[r], `\`))
		}
	}
	return b.String()
}

func composeNFC(s string) string { return norm.NFC.String(s) }
