package extract

import (
	"math"
	"sort"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// line is a run of glyphs on one baseline, with words rebuilt from glyph
// positions (the library's plain text glues LaTeX words together).
type line struct {
	text   string  // the words, superscripts left out
	marked string  // the words with each superscript run replaced by " ^ "
	x0, x1 float64 // extent along the baseline
	y      float64 // baseline
	size   float64 // size of the line's main (non-superscript) glyphs
	font   string
	dir    int
	bold   bool
	n      int // glyphs, superscripts excluded
	seq    int // drawing order of the first glyph, usually reading order
}

// buildLines groups glyphs, in drawing order, into lines.
func buildLines(glyphs []glyph) []*line {
	var out []*line
	for dir := range 4 {
		var cur *lineBuilder
		for i := range glyphs {
			g := &glyphs[i]
			if g.dir != dir || g.size < 0.5 || g.size > 400 {
				continue
			}
			if cur != nil && cur.accepts(g) {
				cur.add(g)
				continue
			}
			if cur != nil {
				out = append(out, cur.finish()...)
			}
			cur = &lineBuilder{}
			cur.add(g)
		}
		if cur != nil {
			out = append(out, cur.finish()...)
		}
	}
	out = mergeLines(out)
	sort.SliceStable(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if a.dir != b.dir {
			return a.dir < b.dir
		}
		if math.Abs(a.y-b.y) > 0.2*math.Min(a.size, b.size) {
			return a.y > b.y
		}
		return a.x0 < b.x0
	})
	return out
}

type lineBuilder struct {
	gs       []*glyph
	base     float64 // baseline of the main glyphs
	size     float64
	lastX1   float64
	lastSize float64
}

func (b *lineBuilder) accepts(g *glyph) bool {
	size := math.Max(b.size, g.size)
	if math.Abs(g.y-b.base) > 0.55*size {
		return false
	}
	gap := g.x - b.lastX1
	if gap < -0.6*size || gap > 2.5*size {
		return false
	}
	// A glyph far below or above the main baseline at the same size is a
	// new line, not a sub- or superscript.
	if math.Abs(g.size-b.size) < 0.15*b.size && math.Abs(g.y-b.base) > 0.3*size {
		return false
	}
	return true
}

func (b *lineBuilder) add(g *glyph) {
	if len(b.gs) == 0 || (g.size > b.size*1.15 && strings.TrimSpace(g.s) != "") {
		b.base, b.size = g.y, g.size
	}
	if n := len(b.gs); n > 0 {
		p := b.gs[n-1]
		// Fake bold draws each glyph twice, a hair apart.
		if p.s == g.s && math.Abs(p.x-g.x) < 0.1*g.size && math.Abs(p.y-g.y) < 0.1*g.size {
			return
		}
	}
	b.gs = append(b.gs, g)
	b.lastX1 = math.Max(g.x+g.w, g.x+0.01)
	if strings.TrimSpace(g.s) == "" && g.w <= 0 {
		b.lastX1 = g.x
	}
	b.lastSize = g.size
}

func (b *lineBuilder) isSuper(g *glyph) bool {
	return g.size < 0.85*b.size && g.y > b.base+0.12*b.size
}

// spacingAccents maps the accents TeX draws as separate glyphs over a
// letter to the combining marks that compose with it.
var spacingAccents = map[string]string{
	"´": "\u0301", "`": "\u0300", "¨": "\u0308", "˜": "\u0303", "~": "\u0303", "ˆ": "\u0302", "^": "\u0302",
	"¸": "\u0327", "ˇ": "\u030C", "˚": "\u030A", "¯": "\u0304", "˙": "\u0307", "˘": "\u0306", "˝": "\u030B",
}

// composeAccents merges an accent glyph into the letter it sits on, so
// "Jo˜ao" reads "João".
func composeAccents(gs []*glyph) []*glyph {
	out := gs[:0:0]
	for i := 0; i < len(gs); i++ {
		g := gs[i]
		mark, ok := spacingAccents[g.s]
		if !ok {
			out = append(out, g)
			continue
		}
		mid := g.x + g.w/2
		over := func(l *glyph) bool {
			return l != nil && len([]rune(l.s)) == 1 && unicode.IsLetter([]rune(l.s)[0]) &&
				mid >= l.x-0.1*l.size && mid <= l.x+l.w+0.1*l.size
		}
		if i+1 < len(gs) && over(gs[i+1]) {
			n := *gs[i+1]
			n.s = norm.NFC.String(n.s + mark)
			gs[i+1] = &n
			continue
		}
		if len(out) > 0 && over(out[len(out)-1]) {
			p := *out[len(out)-1]
			p.s = norm.NFC.String(p.s + mark)
			out[len(out)-1] = &p
			continue
		}
		out = append(out, g)
	}
	return out
}

// guessLigatures names undecodable glyphs between letters by their width:
// subset fonts with a built-in encoding often leave only the ligatures
// unmapped, and "fi" (0.556 em in Times and Computer Modern) and "ffi"
// (0.75 to 0.83 em) are by far the commonest.
func guessLigatures(gs []*glyph) {
	letter := func(i int) bool {
		if i < 0 || i >= len(gs) {
			return false
		}
		r := []rune(gs[i].s)
		return len(r) > 0 && unicode.IsLetter(r[len(r)-1])
	}
	for i, g := range gs {
		if g.s != "\ufffd" || g.size <= 0 || !letter(i-1) && !letter(i+1) {
			continue
		}
		if i+1 < len(gs) && gs[i+1].x < g.x+0.8*g.w {
			continue // drawn under the next letter: an accent, not a ligature
		}
		em := g.w / g.size
		switch {
		case em > 0.48 && em < 0.62:
			c := *g
			c.s = "fi"
			gs[i] = &c
		case em > 0.7 && em < 0.9:
			c := *g
			c.s = "ffi"
			gs[i] = &c
		}
	}
}

// finish renders the glyphs into one line.
func (b *lineBuilder) finish() []*line {
	b.gs = composeAccents(b.gs)
	guessLigatures(b.gs)
	l := &line{dir: b.gs[0].dir, y: b.base, size: b.size, x0: math.Inf(1), x1: math.Inf(-1), seq: b.gs[0].seq}
	var text, marked strings.Builder
	fonts := map[string]int{}
	sizes := map[float64]int{}
	prevEnd := math.NaN()
	prevSuper := false
	for _, g := range b.gs {
		sp := strings.TrimSpace(g.s) == ""
		if sp && g.w > 0 && g.w < 0.1*b.size {
			// A hair-width glyph that decodes as a space is a kern in a
			// TeX bitmap font, not a word break.
			prevEnd = g.x + g.w
			continue
		}
		sup := !sp && b.isSuper(g) && !raisedGreek(g, prevEnd, b.size)
		if !math.IsNaN(prevEnd) && !sp {
			gap := g.x - prevEnd
			switch {
			case gap > 1.0*b.size:
				// A wide gap separates names set side by side.
				text.WriteByte(' ')
				marked.WriteString(" | ")
			case gap > 0.15*math.Min(g.size, b.size) || gap < -0.8*b.size:
				text.WriteByte(' ')
				marked.WriteByte(' ')
			}
		}
		switch {
		case sp:
			text.WriteByte(' ')
			marked.WriteByte(' ')
		case sup:
			if !prevSuper {
				marked.WriteString(" ^ ")
			}
		default:
			text.WriteString(g.s)
			marked.WriteString(g.s)
			l.n++
			fonts[g.font]++
			sizes[math.Round(g.size*10)/10] += len(g.s)
			l.x0 = math.Min(l.x0, g.x)
			l.x1 = math.Max(l.x1, g.x+g.w)
		}
		if !sp {
			prevSuper = sup
		}
		if sp && g.w <= 0 {
			continue
		}
		prevEnd = g.x + g.w
	}
	l.size = modeSize(sizes, b.size)
	l.text = squeeze(text.String())
	l.marked = squeeze(marked.String())
	if l.n == 0 {
		return nil
	}
	best := 0
	for f, n := range fonts {
		if n > best || (n == best && f < l.font) {
			l.font, best = f, n
		}
	}
	lf := strings.ToLower(l.font)
	l.bold = strings.Contains(lf, "bold") || strings.Contains(lf, "black") || strings.Contains(lf, "heavy") ||
		strings.HasPrefix(lf, "cmbx") || strings.Contains(lf, "semibold") || strings.Contains(lf, "medi") || strings.HasSuffix(lf, "-bd") || strings.Contains(lf, ",bold")
	return []*line{l}
}

// raisedGreek says g is a Greek letter raised against the glyph before it,
// as in "Bε-trees": part of the word, since footnote markers are not Greek.
func raisedGreek(g *glyph, prevEnd, size float64) bool {
	if math.IsNaN(prevEnd) || math.Abs(g.x-prevEnd) > 0.1*size {
		return false
	}
	for _, r := range g.s {
		if !unicode.Is(unicode.Greek, r) {
			return false
		}
	}
	return g.s != ""
}

// mergeLines joins fragments that a producer drew out of order but that sit
// on one baseline next to each other.
func mergeLines(ls []*line) []*line {
	sort.SliceStable(ls, func(i, j int) bool {
		if ls[i].dir != ls[j].dir {
			return ls[i].dir < ls[j].dir
		}
		if ls[i].y != ls[j].y {
			return ls[i].y > ls[j].y
		}
		return ls[i].x0 < ls[j].x0
	})
	var out []*line
	for _, l := range ls {
		merged := false
		for k := len(out) - 1; k >= 0 && k >= len(out)-8; k-- {
			p := out[k]
			if p.dir != l.dir || math.Abs(p.y-l.y) > 0.2*l.size || math.Abs(p.size-l.size) > 0.1*l.size {
				continue
			}
			gap := l.x0 - p.x1
			if gap < -0.3*l.size || gap > 1.0*l.size {
				continue
			}
			sep := ""
			if gap > 0.15*l.size {
				sep = " "
			}
			p.text = squeeze(p.text + sep + l.text)
			p.marked = squeeze(p.marked + sep + l.marked)
			p.x1 = math.Max(p.x1, l.x1)
			p.n += l.n
			merged = true
			break
		}
		if !merged {
			out = append(out, l)
		}
	}
	return out
}

func squeeze(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// letters counts the letters in s.
func letters(s string) int {
	n := 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			n++
		}
	}
	return n
}

// pageText renders lines as plain text for identifier and keyword search.
func pageText(ls []*line) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.text)
		b.WriteByte('\n')
	}
	return b.String()
}

// modeSize is the size most of a line's characters are set in.
func modeSize(sizes map[float64]int, def float64) float64 {
	best, n := def, 0
	for s, k := range sizes {
		if k > n || k == n && s > best {
			best, n = s, k
		}
	}
	return best
}
