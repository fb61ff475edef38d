package extract

import (
	"bytes"
	"context"
	"errors"
	"math"

	"github.com/ledongthuc/pdf"
)

// glyph is one character as drawn, in a frame where its text runs left to
// right: x grows along the text direction, y grows upwards.
type glyph struct {
	s    string
	x, y float64 // origin on the baseline
	w    float64 // advance along the baseline
	size float64 // effective font size in points
	font string
	dir  int // 0 normal, 1 rotated 90° counter-clockwise, 2 upside down, 3 rotated 90° clockwise
	seq  int // drawing order
}

// Limits that keep one hostile page from taking unbounded time or memory.
const (
	maxOps      = 2_000_000 // content operators per page, forms included
	maxGlyphs   = 200_000
	maxFormUses = 300
	maxDepth    = 8
)

var errBudget = errors.New("content too large")

// abortPanic carries the reason an interpretation stopped early through
// pdf.Interpret, which offers no other way out of its loop.
type abortPanic struct{ err error }

type matrix [6]float64

var identity = matrix{1, 0, 0, 1, 0, 0}

// mul returns m×n (m applied first).
func (m matrix) mul(n matrix) matrix {
	return matrix{
		m[0]*n[0] + m[1]*n[2],
		m[0]*n[1] + m[1]*n[3],
		m[2]*n[0] + m[3]*n[2],
		m[2]*n[1] + m[3]*n[3],
		m[4]*n[0] + m[5]*n[2] + n[4],
		m[4]*n[1] + m[5]*n[3] + n[5],
	}
}

type gstate struct {
	ctm                       matrix
	tc, tw, th, tl, tfs, rise float64
	font                      *font
}

// resources is a /Resources dictionary with its fonts loaded once.
type resources struct {
	v      pdf.Value
	fonts  map[string]*font
	shared fontCache
}

// fontCache shares loaded fonts between the pages of a document. Subset
// fonts are keyed by their unique "ABCDEF+Name" base font, the only key the
// library exposes that cannot name two different fonts.
type fontCache map[string]*font

func newResources(v pdf.Value, shared fontCache) *resources {
	return &resources{v: v, fonts: map[string]*font{}, shared: shared}
}

func (r *resources) font(name string) *font {
	if f, ok := r.fonts[name]; ok {
		return f
	}
	v := r.v.Key("Font").Key(name)
	base := v.Key("BaseFont").Name()
	tagged := len(base) > 7 && base[6] == '+'
	if f, ok := r.shared[base]; ok && tagged {
		r.fonts[name] = f
		return f
	}
	f := loadFont(v)
	r.fonts[name] = f
	if tagged && r.shared != nil {
		r.shared[base] = f
	}
	return f
}

// interp interprets page content itself, because the library's Content()
// does not follow Form XObjects, ignores Type3 font matrices and cannot be
// cancelled.
type interp struct {
	ctx      context.Context
	glyphs   []glyph
	ops      int
	formUses int
	file     []byte // the PDF, to decode streams the library cannot; may be nil
}

// pageGlyphs returns the glyphs of a page. It never panics; err says why
// interpretation stopped early, in which case the glyphs found so far are
// still returned.
func pageGlyphs(ctx context.Context, page pdf.Value, fonts fontCache, file []byte) (glyphs []glyph, err error) {
	in := &interp{ctx: ctx, file: file}
	defer func() {
		if x := recover(); x != nil {
			if a, ok := x.(abortPanic); ok {
				err = a.err
			} else {
				err = panicError(x)
			}
		}
		glyphs = in.glyphs
	}()
	res := newResources(inherited(page, "Resources"), fonts)
	in.run(page.Key("Contents"), res, identity, 0)
	return in.glyphs, nil
}

// inherited looks a page attribute up the page tree, with a bound on the
// depth so a cyclic /Parent chain cannot loop forever.
func inherited(page pdf.Value, key string) pdf.Value {
	v := page
	for range 32 {
		if v.Kind() != pdf.Dict {
			break
		}
		if r := v.Key(key); !r.IsNull() {
			return r
		}
		v = v.Key("Parent")
	}
	return pdf.Value{}
}

func (in *interp) run(contents pdf.Value, res *resources, ctm matrix, depth int) {
	if contents.IsNull() {
		return
	}
	g := gstate{ctm: ctm, th: 1}
	var stack []gstate
	var tm, tlm matrix
	show := func(raw string) {
		f := g.font
		if f == nil {
			return
		}
		for _, code := range f.split(raw) {
			w := f.width(code)
			trm := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.rise}.mul(tm).mul(g.ctm)
			s := f.text(code)
			tx := w*g.tfs + g.tc
			if len(code) == 1 && code[0] == ' ' {
				tx += g.tw
			}
			tx *= g.th
			tm = matrix{1, 0, 0, 1, tx, 0}.mul(tm)
			if s == "" {
				continue
			}
			end := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.rise}.mul(tm).mul(g.ctm)
			in.add(trm, end, f, s)
		}
	}
	contents = in.readable(contents)
	pdf.Interpret(contents, func(stk *pdf.Stack, op string) {
		in.ops++
		if in.ops%4096 == 0 {
			if err := in.ctx.Err(); err != nil {
				panic(abortPanic{err})
			}
		}
		if in.ops > maxOps || len(in.glyphs) > maxGlyphs {
			panic(abortPanic{errBudget})
		}
		n := stk.Len()
		if n > 64 {
			n = 64
		}
		var argv [64]pdf.Value
		args := argv[:n]
		for i := n - 1; i >= 0; i-- {
			args[i] = stk.Pop()
		}
		for stk.Len() > 0 {
			stk.Pop()
		}
		num := func(i int) float64 {
			if i < len(args) {
				return args[i].Float64()
			}
			return 0
		}
		mat := func() matrix {
			return matrix{num(0), num(1), num(2), num(3), num(4), num(5)}
		}
		switch op {
		case "q":
			if len(stack) < 256 {
				stack = append(stack, g)
			}
		case "Q":
			if len(stack) > 0 {
				g = stack[len(stack)-1]
				stack = stack[:len(stack)-1]
			}
		case "cm":
			if n == 6 {
				g.ctm = mat().mul(g.ctm)
			}
		case "BT":
			tm, tlm = identity, identity
		case "Tc":
			g.tc = num(0)
		case "Tw":
			g.tw = num(0)
		case "Tz":
			g.th = num(0) / 100
		case "TL":
			g.tl = num(0)
		case "Ts":
			g.rise = num(0)
		case "Tf":
			if n == 2 {
				g.font = res.font(args[0].Name())
				g.tfs = num(1)
			}
		case "Td", "TD":
			if n == 2 {
				if op == "TD" {
					g.tl = -num(1)
				}
				tlm = matrix{1, 0, 0, 1, num(0), num(1)}.mul(tlm)
				tm = tlm
			}
		case "Tm":
			if n == 6 {
				tm, tlm = mat(), mat()
			}
		case "T*":
			tlm = matrix{1, 0, 0, 1, 0, -g.tl}.mul(tlm)
			tm = tlm
		case "Tj":
			if n >= 1 {
				show(args[n-1].RawString())
			}
		case "'", "\"":
			if op == "\"" && n == 3 {
				g.tw, g.tc = num(0), num(1)
			}
			tlm = matrix{1, 0, 0, 1, 0, -g.tl}.mul(tlm)
			tm = tlm
			if n >= 1 {
				show(args[n-1].RawString())
			}
		case "TJ":
			if n < 1 {
				return
			}
			a := args[n-1]
			for i := 0; i < min(a.Len(), 1<<16); i++ {
				x := a.Index(i)
				if x.Kind() == pdf.String {
					show(x.RawString())
					continue
				}
				tx := -x.Float64() / 1000 * g.tfs * g.th
				// A large negative kern is how many producers draw a word
				// space; record it so words do not run together.
				if g.font != nil && -x.Float64() > 180 {
					trm := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.rise}.mul(tm).mul(g.ctm)
					tm = matrix{1, 0, 0, 1, tx, 0}.mul(tm)
					end := matrix{g.tfs * g.th, 0, 0, g.tfs, 0, g.rise}.mul(tm).mul(g.ctm)
					in.add(trm, end, g.font, " ")
					continue
				}
				tm = matrix{1, 0, 0, 1, tx, 0}.mul(tm)
			}
		case "Do":
			if n == 1 && depth < maxDepth && in.formUses < maxFormUses {
				in.form(res.v.Key("XObject").Key(args[0].Name()), res, g.ctm, depth)
			}
		}
	})
}

// readable returns a stream pdf.Interpret can read safely. When the file's
// bytes are at hand the content is decoded here, which also covers filters
// the library lacks, and an unterminated hex string at the end is closed:
// the library's lexer spins forever on one. Encrypted files keep the
// library's own decoding.
func (in *interp) readable(contents pdf.Value) pdf.Value {
	if in.file == nil {
		return contents
	}
	streams := []pdf.Value{contents}
	if contents.Kind() == pdf.Array {
		streams = streams[:0]
		for i := 0; i < min(contents.Len(), 10000); i++ {
			streams = append(streams, contents.Index(i))
		}
	}
	var all []byte
	for _, s := range streams {
		if s.Kind() != pdf.Stream {
			continue
		}
		raw, err := rawStream(in.file, s)
		if err != nil {
			continue
		}
		data, _ := decodeStream(raw, s)
		all = append(append(all, data...), '\n')
		if len(all) > maxStream {
			all = all[:maxStream]
			break
		}
	}
	if openHexString(all) {
		all = append(all, '>')
	}
	v, err := plainStream(all)
	if err != nil {
		return contents
	}
	return v
}

// openHexString says whether content ends inside a <hex string>, skipping
// literal strings, comments and inline image data.
func openHexString(d []byte) bool {
	for i := 0; i < len(d); i++ {
		switch d[i] {
		case '%':
			for i < len(d) && d[i] != '\n' && d[i] != '\r' {
				i++
			}
		case '(':
			depth := 1
			for i++; i < len(d) && depth > 0; i++ {
				switch d[i] {
				case '\\':
					i++
				case '(':
					depth++
				case ')':
					depth--
				}
			}
			i--
		case '<':
			if i+1 < len(d) && d[i+1] == '<' {
				i++
				continue
			}
			j := bytes.IndexByte(d[i:], '>')
			if j < 0 {
				return true
			}
			i += j
		case 'I':
			// Inline image data runs from "ID" to "EI" and may hold anything.
			if i+2 < len(d) && d[i+1] == 'D' && (i == 0 || isWhite(d[i-1])) && isWhite(d[i+2]) {
				j := bytes.Index(d[i+2:], []byte("EI"))
				if j < 0 {
					return false
				}
				i += 2 + j + 1
			}
		}
	}
	return false
}

func isWhite(c byte) bool {
	return c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0
}

// form follows a Form XObject, which the library's Content() skips; many
// publishers put the whole page text in one.
func (in *interp) form(x pdf.Value, parent *resources, ctm matrix, depth int) {
	if x.Kind() != pdf.Stream || x.Key("Subtype").Name() != "Form" {
		return
	}
	in.formUses++
	m := identity
	if a := x.Key("Matrix"); a.Len() == 6 {
		for i := range 6 {
			m[i] = a.Index(i).Float64()
		}
	}
	res := parent
	if r := x.Key("Resources"); r.Kind() == pdf.Dict {
		res = newResources(r, parent.shared)
	}
	in.run(x, res, m.mul(ctm), depth+1)
}

// add records a glyph drawn with text rendering matrix trm; end is the
// matrix after its advance.
func (in *interp) add(trm, end matrix, f *font, s string) {
	scale := f.vscale
	// The glyph's up vector gives its size; its baseline vector its direction.
	size := math.Hypot(trm[2], trm[3]) * scale
	bx, by := trm[0], trm[1]
	dir := 0
	switch {
	case abs(bx) >= abs(by) && bx >= 0:
		dir = 0
	case abs(by) > abs(bx) && by > 0:
		dir = 1
	case abs(bx) >= abs(by):
		dir = 2
	default:
		dir = 3
	}
	x0, y0 := rotate(dir, trm[4], trm[5])
	x1, _ := rotate(dir, end[4], end[5])
	if math.IsNaN(size) || math.IsInf(size, 0) || math.IsNaN(x0+y0+x1) || math.IsInf(x0+y0+x1, 0) {
		return
	}
	in.glyphs = append(in.glyphs, glyph{
		s: s, x: x0, y: y0, w: x1 - x0, size: size, font: f.name, dir: dir,
		seq: len(in.glyphs),
	})
}

func rotate(dir int, x, y float64) (float64, float64) {
	switch dir {
	case 1:
		return y, -x
	case 2:
		return -x, -y
	case 3:
		return -y, x
	}
	return x, y
}
