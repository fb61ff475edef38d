package bibtex

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ParseError is a problem at one place in a .bib file. Parsing goes on
// after it with the next entry.
type ParseError struct {
	Line int
	Key  string // the entry's key, when known
	Msg  string
}

func (e *ParseError) Error() string {
	if e.Key != "" {
		return fmt.Sprintf("line %d, entry %s: %s", e.Line, e.Key, e.Msg)
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// ParsedEntry is an entry read from a file, with where it started.
type ParsedEntry struct {
	Entry
	Line int
}

// maxDepth bounds brace nesting, so a hostile file cannot make the parser
// recurse or allocate without limit.
const maxDepth = 64

// Parse reads BibTeX source as BibTeX itself does: text outside entries is
// a comment; @string macros (and the month names) expand, "#"
// concatenates; @comment and @preamble are skipped. Field values come back
// as TeX source with the delimiters removed; Unescape turns them into text.
// Problems are returned alongside every entry that could be read.
func Parse(src []byte) ([]ParsedEntry, []error) {
	p := &parser{src: string(src), line: 1, macros: map[string]string{}}
	for i, m := range []string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"} {
		p.macros[m] = fmt.Sprint(i + 1)
	}
	var out []ParsedEntry
	var errs []error
	for {
		i := strings.IndexByte(p.src[p.pos:], '@')
		if i < 0 {
			break
		}
		p.advance(i + 1)
		line := p.line
		start := p.pos
		e, err := p.entry()
		if err != nil {
			errs = append(errs, err)
			// Go on at the next line that starts with "@": an unclosed
			// brace must not swallow the rest of the file.
			p.line, p.pos = line, start
			if i := strings.Index(p.src[p.pos:], "\n@"); i >= 0 {
				p.advance(i + 1)
			} else {
				p.pos = len(p.src)
			}
			continue
		}
		if e != nil {
			out = append(out, ParsedEntry{Entry: *e, Line: line})
		}
	}
	return out, errs
}

type parser struct {
	src    string
	pos    int
	line   int
	macros map[string]string
}

func (p *parser) advance(n int) {
	p.line += strings.Count(p.src[p.pos:p.pos+n], "\n")
	p.pos += n
}

func (p *parser) eof() bool { return p.pos >= len(p.src) }

func (p *parser) peek() byte {
	if p.eof() {
		return 0
	}
	return p.src[p.pos]
}

func (p *parser) skipSpace() {
	for !p.eof() && (p.peek() == ' ' || p.peek() == '\t' || p.peek() == '\n' || p.peek() == '\r') {
		p.advance(1)
	}
}

func (p *parser) errf(key, format string, args ...any) error {
	return &ParseError{Line: p.line, Key: key, Msg: fmt.Sprintf(format, args...)}
}

// ident reads a type, key part, field or macro name.
func (p *parser) ident() string {
	start := p.pos
	for !p.eof() {
		c := p.peek()
		if c <= ' ' || strings.IndexByte(`{}(),=#"@%'~\`, c) >= 0 {
			break
		}
		p.advance(1)
	}
	return p.src[start:p.pos]
}

// entry parses what follows an "@". It returns nil, nil for @comment and
// @preamble.
func (p *parser) entry() (*Entry, error) {
	p.skipSpace()
	typ := strings.ToLower(p.ident())
	if typ == "" {
		return nil, p.errf("", "@ not followed by an entry type")
	}
	p.skipSpace()
	open := p.peek()
	if open != '{' && open != '(' {
		if typ == "comment" {
			return nil, nil // "@comment" as a word in a comment
		}
		return nil, p.errf("", "@%s: expected { or ( after the entry type", typ)
	}
	close := byte('}')
	if open == '(' {
		close = ')'
	}
	p.advance(1)
	switch typ {
	case "comment":
		_, err := p.group(open, close)
		return nil, err
	case "preamble":
		_, err := p.value(close, "")
		if err == nil {
			p.skipSpace()
			if p.peek() == close {
				p.advance(1)
			}
		}
		return nil, err
	case "string":
		p.skipSpace()
		name := strings.ToLower(p.ident())
		p.skipSpace()
		if name == "" || p.peek() != '=' {
			return nil, p.errf("", "@string: expected name = value")
		}
		p.advance(1)
		v, err := p.value(close, "")
		if err != nil {
			return nil, err
		}
		p.macros[name] = v
		p.skipSpace()
		if p.peek() != close {
			return nil, p.errf("", "@string %s: expected %c", name, close)
		}
		p.advance(1)
		return nil, nil
	}
	e := &Entry{Type: typ}
	p.skipSpace()
	start := p.pos
	for !p.eof() && p.peek() != ',' && p.peek() != close && p.peek() != '\n' && p.peek() != '@' {
		if p.peek() == '}' && close == ')' || p.peek() == '{' {
			break
		}
		p.advance(1)
	}
	e.Key = strings.TrimSpace(p.src[start:p.pos])
	if e.Key == "" {
		return nil, p.errf("", "@%s without a citation key", typ)
	}
	for {
		p.skipSpace()
		switch c := p.peek(); {
		case c == close:
			p.advance(1)
			return e, nil
		case c == ',':
			p.advance(1)
			continue
		case c == 0:
			return nil, p.errf(e.Key, "file ends inside the entry (missing %c)", close)
		}
		name := strings.ToLower(p.ident())
		if name == "" {
			return nil, p.errf(e.Key, "unexpected %q where a field name should be", p.peek())
		}
		p.skipSpace()
		if p.peek() != '=' {
			return nil, p.errf(e.Key, "field %s: expected =", name)
		}
		p.advance(1)
		v, err := p.value(close, e.Key)
		if err != nil {
			return nil, err
		}
		if e.Get(name) == "" {
			e.add(name, v) // BibTeX keeps the first of repeated fields
		}
	}
}

// value reads one field value: parts joined by "#".
func (p *parser) value(close byte, key string) (string, error) {
	var b strings.Builder
	for {
		p.skipSpace()
		switch c := p.peek(); {
		case c == '{':
			p.advance(1)
			s, err := p.group('{', '}')
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		case c == '"':
			p.advance(1)
			s, err := p.quoted()
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		case c >= '0' && c <= '9':
			start := p.pos
			for !p.eof() && p.peek() >= '0' && p.peek() <= '9' {
				p.advance(1)
			}
			b.WriteString(p.src[start:p.pos])
		default:
			name := p.ident()
			if name == "" {
				return "", p.errf(key, "expected a value, found %q", c)
			}
			v, ok := p.macros[strings.ToLower(name)]
			if !ok {
				return "", p.errf(key, "undefined macro %q", name)
			}
			b.WriteString(v)
		}
		p.skipSpace()
		if p.peek() != '#' {
			return b.String(), nil
		}
		p.advance(1)
	}
}

// group reads up to the brace that closes an already consumed open brace
// and returns what is between.
func (p *parser) group(open, close byte) (string, error) {
	start, line := p.pos, p.line
	depth := 1
	for !p.eof() {
		switch p.peek() {
		case open:
			depth++
			if depth > maxDepth {
				return "", &ParseError{Line: line, Msg: "braces nested too deeply"}
			}
		case close:
			depth--
			if depth == 0 {
				s := p.src[start:p.pos]
				p.advance(1)
				return s, nil
			}
		}
		p.advance(1)
	}
	return "", &ParseError{Line: line, Msg: fmt.Sprintf("unbalanced %c: file ends before its %c", open, close)}
}

// quoted reads a "..." value; quotes inside braces do not end it.
func (p *parser) quoted() (string, error) {
	start, line := p.pos, p.line
	depth := 0
	for !p.eof() {
		switch p.peek() {
		case '{':
			depth++
			if depth > maxDepth {
				return "", &ParseError{Line: line, Msg: "braces nested too deeply"}
			}
		case '}':
			depth--
			if depth < 0 {
				return "", &ParseError{Line: line, Msg: "unbalanced } in a quoted value"}
			}
		case '"':
			if depth == 0 {
				s := p.src[start:p.pos]
				p.advance(1)
				return s, nil
			}
		}
		p.advance(1)
	}
	return "", &ParseError{Line: line, Msg: "file ends inside a quoted value"}
}

// textCommands are commands whose output is a character.
var textCommands = map[string]string{
	"textbackslash": `\`, "textbraceleft": "{", "textbraceright": "}", "textasciitilde": "~",
	"textasciicircum": "^", "textendash": "–", "textemdash": "—", "textquoteright": "’",
	"textquoteleft": "‘", "textquotedblleft": "“", "textquotedblright": "”", "ldots": "…",
	"dots": "…", "textellipsis": "…", "textregistered": "®", "texttrademark": "™", "copyright": "©",
	"S": "§", "P": "¶", "pounds": "£", "euro": "€", "textdegree": "°", "i": "ı", "j": "ȷ",
}

var letterCommands = func() map[string]rune {
	m := map[string]rune{}
	for r, s := range letters {
		m[strings.TrimPrefix(s, `\`)] = r
	}
	return m
}()

var accentMarks = func() map[string]rune {
	m := map[string]rune{}
	for r, s := range accents {
		m[s] = r
	}
	return m
}()

// Unescape turns a BibTeX field value into plain text: accents composed
// into Unicode, escaped characters unescaped, protective braces and font
// commands dropped, white space collapsed. Math ($...$) is kept as written.
func Unescape(s string) string {
	var b strings.Builder
	u := unescaper{s: s, b: &b}
	u.run()
	out := strings.Join(strings.Fields(b.String()), " ")
	return composeNFC(out)
}

type unescaper struct {
	s string
	i int
	b *strings.Builder
}

func (u *unescaper) run() {
	for u.i < len(u.s) {
		c := u.s[u.i]
		switch {
		case c == '$':
			j := strings.IndexByte(u.s[u.i+1:], '$')
			if j < 0 {
				u.b.WriteByte(c)
				u.i++
				continue
			}
			u.b.WriteString(u.s[u.i : u.i+j+2])
			u.i += j + 2
		case c == '{' || c == '}':
			u.i++
		case c == '\\':
			u.command()
		case c == '~':
			u.b.WriteByte(' ')
			u.i++
		case strings.HasPrefix(u.s[u.i:], "---"):
			u.b.WriteString("—")
			u.i += 3
		case strings.HasPrefix(u.s[u.i:], "--"):
			u.b.WriteString("–")
			u.i += 2
		case strings.HasPrefix(u.s[u.i:], "``"):
			u.b.WriteString("“")
			u.i += 2
		case strings.HasPrefix(u.s[u.i:], "''"):
			u.b.WriteString("”")
			u.i += 2
		default:
			r, n := utf8.DecodeRuneInString(u.s[u.i:])
			if r == utf8.RuneError && n == 1 {
				r = '\uFFFD'
			}
			u.b.WriteRune(r)
			u.i += n
		}
	}
}

// command handles a backslash at u.i.
func (u *unescaper) command() {
	u.i++ // the backslash
	if u.i >= len(u.s) {
		return
	}
	c := u.s[u.i]
	if !isASCIILetter(c) {
		u.i++
		if mark, ok := accentMarks[string(c)]; ok {
			u.accent(mark)
			return
		}
		switch c {
		case '\\', ' ', ',', ';', ':', '!':
			u.b.WriteByte(' ') // line breaks and spacing commands
		case '-', '/':
			// a hyphenation point or ligature break: nothing
		default:
			u.b.WriteByte(c) // \& \% \$ \# \_ \{ \}
		}
		return
	}
	start := u.i
	for u.i < len(u.s) && isASCIILetter(u.s[u.i]) {
		u.i++
	}
	name := u.s[start:u.i]
	if mark, ok := accentMarks[name]; ok && len(name) == 1 {
		u.skipBlanks()
		u.accent(mark)
		return
	}
	if r, ok := letterCommands[name]; ok {
		u.b.WriteRune(r)
		u.eatEmptyArg()
		return
	}
	if t, ok := textCommands[name]; ok {
		u.b.WriteString(t)
		u.eatEmptyArg()
		return
	}
	// Any other command (\emph, \textit, \url, \mathrm): keep its argument.
	u.skipBlanks()
}

func (u *unescaper) skipBlanks() {
	for u.i < len(u.s) && (u.s[u.i] == ' ' || u.s[u.i] == '\t' || u.s[u.i] == '\n') {
		u.i++
	}
}

// eatEmptyArg drops the "{}" or space that ends a control word.
func (u *unescaper) eatEmptyArg() {
	if strings.HasPrefix(u.s[u.i:], "{}") {
		u.i += 2
	} else if u.i < len(u.s) && u.s[u.i] == ' ' {
		u.i++
	}
}

// accent applies a combining mark to the next letter, which may be braced
// ({e}, {\i}) or bare.
func (u *unescaper) accent(mark rune) {
	braced := u.i < len(u.s) && u.s[u.i] == '{'
	if braced {
		u.i++
	}
	var base string
	if strings.HasPrefix(u.s[u.i:], `\i`) && !(u.i+2 < len(u.s) && isASCIILetter(u.s[u.i+2])) {
		base, u.i = "i", u.i+2
	} else if strings.HasPrefix(u.s[u.i:], `\j`) && !(u.i+2 < len(u.s) && isASCIILetter(u.s[u.i+2])) {
		base, u.i = "j", u.i+2
	} else if u.i < len(u.s) && u.s[u.i] == '\\' {
		// A nested accent: \'{\"u}. Unescape the inner one first.
		var inner strings.Builder
		sub := unescaper{s: u.s, i: u.i, b: &inner}
		sub.command()
		u.i = sub.i
		base = inner.String()
	} else if u.i < len(u.s) && u.s[u.i] != '}' {
		_, n := utf8.DecodeRuneInString(u.s[u.i:])
		base = u.s[u.i : u.i+n]
		u.i += n
	}
	if braced {
		for u.i < len(u.s) && u.s[u.i] == ' ' {
			u.i++
		}
		if u.i < len(u.s) && u.s[u.i] == '}' {
			u.i++
		}
	}
	if base == "" {
		u.b.WriteRune(mark) // an accent on nothing: keep the mark
		return
	}
	u.b.WriteString(composeNFC(base + string(mark)))
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// splitAuthors splits an author field on " and " outside braces.
func splitAuthors(s string) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		}
		if depth == 0 && i > 0 && unicode.IsSpace(rune(s[i-1])) && i+4 <= len(s) &&
			strings.EqualFold(s[i:i+3], "and") && unicode.IsSpace(rune(s[i+3])) {
			out = append(out, s[start:i-1])
			start = i + 4
			i += 3
		}
	}
	out = append(out, s[start:])
	var names []string
	for _, n := range out {
		if n = strings.TrimSpace(n); n != "" {
			names = append(names, n)
		}
	}
	return names
}

// parseBibName reads one BibTeX name (TeX source) into its parts: "von
// Last, First", "von Last, Jr, First" or "First von Last"; a name wholly in
// braces is an organisation's.
func parseBibName(s string) Name {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") && balanced(s[1:len(s)-1]) && topLevelWords(s) == 1 {
		return Name{Literal: Unescape(s)}
	}
	parts := splitTop(s, ',')
	words := func(x string) []string { return splitTopSpace(x) }
	if len(parts) >= 2 {
		n := Name{}
		if len(parts) >= 3 {
			n.Jr, n.First = Unescape(parts[1]), Unescape(strings.Join(parts[2:], ","))
		} else {
			n.First = Unescape(parts[1])
		}
		w := words(parts[0])
		k := 0
		for k < len(w)-1 && startsLower(w[k]) {
			k++
		}
		n.Von, n.Last = Unescape(strings.Join(w[:k], " ")), Unescape(strings.Join(w[k:], " "))
		return n
	}
	w := words(s)
	if len(w) == 0 {
		return Name{}
	}
	if len(w) == 1 {
		return Name{Last: Unescape(w[0])}
	}
	// First von Last: von starts at the first lower-case word after the
	// first, and runs to the last lower-case word before the final one.
	vs, ve := -1, -1
	for i := 1; i < len(w)-1; i++ {
		if startsLower(w[i]) {
			if vs < 0 {
				vs = i
			}
			ve = i + 1
		}
	}
	if vs < 0 {
		return Name{First: Unescape(strings.Join(w[:len(w)-1], " ")), Last: Unescape(w[len(w)-1])}
	}
	return Name{First: Unescape(strings.Join(w[:vs], " ")), Von: Unescape(strings.Join(w[vs:ve], " ")),
		Last: Unescape(strings.Join(w[ve:], " "))}
}

func topLevelWords(s string) int { return len(splitTopSpace(s)) }

// startsLower reports whether a name word is a particle by BibTeX's rule:
// its first letter at brace depth 0 is lower case.
func startsLower(w string) bool {
	for _, r := range w {
		if r == '{' || r == '\\' {
			return false
		}
		if unicode.IsLetter(r) {
			return unicode.IsLower(r)
		}
	}
	return false
}

func splitTop(s string, sep byte) []string {
	var out []string
	depth, start := 0, 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
		case sep:
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	return append(out, strings.TrimSpace(s[start:]))
}

func splitTopSpace(s string) []string {
	var out []string
	depth, start := 0, -1
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '{' {
			depth++
		} else if c == '}' {
			depth--
		}
		space := depth == 0 && (c == ' ' || c == '\t' || c == '\n' || c == '~')
		if space {
			if start >= 0 {
				out = append(out, s[start:i])
				start = -1
			}
		} else if start < 0 {
			start = i
		}
	}
	if start >= 0 {
		out = append(out, s[start:])
	}
	return out
}
