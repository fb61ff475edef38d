package extract

import (
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/ledongthuc/pdf"
)

// maxStream bounds how much of one stream (a CMap, a content stream) is read,
// so a decompression bomb costs memory only up to this size.
const maxStream = 16 << 20

// font holds what text extraction needs from a font dictionary, read once:
// the library re-parses objects on every access and has no cache.
type font struct {
	name    string
	twoByte bool              // Type0: codes are split by the CMap's code space
	uni     *toUnicode        // from /ToUnicode, may be nil
	enc     pdf.TextEncoding  // the library's simple-font decoding, fallback
	cache   map[string]string // decoded codes
	first   int
	widths  []float64
	cidW    map[int]float64
	dw      float64
	scale   float64         // glyph space to text space: 0.001, or FontMatrix for Type3
	vscale  float64         // vertical glyph scale relative to 0.001, Type3 only
	diff    map[byte]string // /Differences glyph names
	std     *[95]uint16     // ASCII widths of a standard face, for fonts without /Widths
	mono    bool            // a Courier-like font without /Widths
	texText bool            // a Computer Modern text font, which uses TeX codes
	texMath bool            // a Computer Modern math italic font, which puts Greek below '('
}

func loadFont(v pdf.Value) *font {
	f := &font{
		name:   v.Key("BaseFont").Name(),
		cache:  map[string]string{},
		scale:  0.001,
		vscale: 1,
		dw:     500,
	}
	if i := strings.IndexByte(f.name, '+'); i >= 0 {
		f.name = f.name[i+1:]
	}
	if tu := v.Key("ToUnicode"); tu.Kind() == pdf.Stream {
		f.uni = parseToUnicode(readStream(tu, maxStream))
	}
	switch v.Key("Subtype").Name() {
	case "Type0":
		f.twoByte = true
		desc := v.Key("DescendantFonts").Index(0)
		if f.name == "" {
			f.name = desc.Key("BaseFont").Name()
		}
		f.dw = 1000
		if dw := desc.Key("DW"); dw.Kind() == pdf.Integer || dw.Kind() == pdf.Real {
			f.dw = dw.Float64()
		}
		f.cidW = parseCIDWidths(desc.Key("W"))
		return f
	case "Type3":
		fm := v.Key("FontMatrix")
		if fm.Len() == 6 && fm.Index(0).Float64() != 0 {
			f.scale = fm.Index(0).Float64()
			f.vscale = abs(fm.Index(3).Float64()) / 0.001
		}
		if f.name == "" {
			f.name = "Type3"
		}
	}
	f.first = int(v.Key("FirstChar").Int64())
	w := v.Key("Widths")
	n := min(w.Len(), 65536)
	f.widths = make([]float64, n)
	for i := 0; i < n; i++ {
		f.widths[i] = w.Index(i).Float64()
	}
	if f.scale != 0.001 {
		f.dw = 0 // Type3 widths are only meaningful from /Widths
		// Type3 glyph heights are unknowable without running the glyph
		// procedures, and FontMatrix and FontBBox are often nominal; the
		// advances are exact, and a typical glyph is half an em wide.
		if w := medianWidth(f.widths); w > 0 {
			f.vscale = w * abs(f.scale) / 0.5
		}
		if f.vscale <= 0 || math.IsNaN(f.vscale) || math.IsInf(f.vscale, 0) {
			f.vscale = 1
		}
	} else if n == 0 {
		f.std = standardWidths(f.name)
	}
	if n == 0 {
		low := strings.ToLower(f.name)
		f.mono = strings.Contains(low, "courier") || strings.Contains(low, "mono")
	}
	if d := v.Key("Encoding").Key("Differences"); d.Kind() == pdf.Array {
		f.diff = map[byte]string{}
		code := 0
		for i := 0; i < min(d.Len(), 1024); i++ {
			x := d.Index(i)
			switch x.Kind() {
			case pdf.Integer:
				code = int(x.Int64())
			case pdf.Name:
				if code >= 0 && code < 256 {
					f.diff[byte(code)] = x.Name()
				}
				code++
			}
		}
	}
	if low := strings.ToLower(f.name); strings.HasPrefix(low, "cm") && !strings.HasPrefix(low, "cmsy") &&
		!strings.HasPrefix(low, "cmmi") && !strings.HasPrefix(low, "cmex") && !strings.HasPrefix(low, "cmtt") {
		f.texText = v.Key("Encoding").IsNull()
	}
	f.texMath = strings.HasPrefix(strings.ToLower(f.name), "cmmi") && v.Key("Encoding").IsNull()
	lf := pdf.Font{V: v}
	f.enc = lf.Encoder()
	return f
}

// split cuts a shown string into character codes.
func (f *font) split(raw string) []string {
	if !f.twoByte {
		out := make([]string, len(raw))
		for i := range len(raw) {
			out[i] = raw[i : i+1]
		}
		return out
	}
	var out []string
	for len(raw) > 0 {
		n := 2
		if f.uni != nil {
			n = f.uni.codeLen(raw)
		}
		n = min(n, len(raw))
		out = append(out, raw[:n])
		raw = raw[n:]
	}
	return out
}

// text decodes one character code.
func (f *font) text(code string) string {
	if s, ok := f.cache[code]; ok {
		return s
	}
	var s string
	if f.uni != nil {
		s = f.uni.lookup(code)
		if controlOnly(s) {
			// Ghostscript writes maps sending a letter to a control
			// character ("c" to CR); the encoding knows better.
			s = ""
		}
	}
	if s == "" && !f.twoByte {
		if name, ok := f.diff[code[0]]; ok {
			s = glyphNameText(name)
		}
	}
	if s == "" && f.texMath && code[0] < byte(len(omlGreek)) {
		s = string(omlGreek[code[0]])
	}
	if s == "" && !f.twoByte && f.enc != nil {
		s = f.enc.Decode(code)
		// Fonts from TeX without an encoding table keep TeX's own codes:
		// ligatures below 32, and dashes where ASCII has braces.
		if r := []rune(s); len(r) == 1 && (r[0] < 0x20 || r[0] == 0x7f || r[0] == 0xfffd || f.texText && (r[0] == '{' || r[0] == '|')) {
			if t, ok := texCodes[int(code[0])]; ok {
				s = t
			}
		}
	}
	if s == "" && f.twoByte && f.uni == nil {
		s = "\ufffd"
	}
	s = cleanGlyphText(s)
	f.cache[code] = s
	return s
}

// controlOnly says s is not empty and holds only control characters.
func controlOnly(s string) bool {
	for _, r := range s {
		if r >= 0x20 && r != 0x7f {
			return false
		}
	}
	return s != ""
}

// width is the advance of code in text space units per unit font size.
func (f *font) width(code string) float64 {
	c := 0
	for i := range len(code) {
		c = c<<8 | int(code[i])
	}
	if f.twoByte {
		if w, ok := f.cidW[c]; ok {
			return w * 0.001
		}
		return f.dw * 0.001
	}
	if i := c - f.first; i >= 0 && i < len(f.widths) && f.widths[i] > 0 {
		return f.widths[i] * f.scale
	}
	if f.scale != 0.001 {
		return 0
	}
	if f.mono {
		return 0.6
	}
	if f.std != nil && c >= 32 && c <= 126 {
		return float64(f.std[c-32]) * 0.001
	}
	if c == ' ' {
		return 0.25
	}
	return f.dw * 0.001
}

// cleanGlyphText drops control characters that broken encodings produce and
// expands ligatures so words compare and search normally.
func cleanGlyphText(s string) string {
	if s == "" {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == 0xFB00:
			b.WriteString("ff")
		case r == 0xFB01:
			b.WriteString("fi")
		case r == 0xFB02:
			b.WriteString("fl")
		case r == 0xFB03:
			b.WriteString("ffi")
		case r == 0xFB04:
			b.WriteString("ffl")
		case r == '\t' || r == '\n' || r == '\r' || r == 0xA0:
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7F || (r >= 0x80 && r < 0xA0) || r == 0xFFFD:
			b.WriteRune(0xFFFD)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func parseCIDWidths(w pdf.Value) map[int]float64 {
	out := map[int]float64{}
	n := min(w.Len(), 1<<16)
	for i := 0; i < n; {
		first := int(w.Index(i).Int64())
		next := w.Index(i + 1)
		if next.Kind() == pdf.Array {
			for j := 0; j < min(next.Len(), 1<<16); j++ {
				out[first+j] = next.Index(j).Float64()
			}
			i += 2
			continue
		}
		last := int(next.Int64())
		width := w.Index(i + 2).Float64()
		for c := first; c <= last && c-first < 1<<16; c++ {
			out[c] = width
		}
		i += 3
	}
	return out
}

// readStream returns up to limit decoded bytes of a stream, keeping what
// was read before a decoding error (truncated Flate data is common).
func readStream(v pdf.Value, limit int64) (data []byte) {
	defer func() {
		if recover() != nil {
			data = nil
		}
	}()
	rc := v.Reader()
	defer rc.Close()
	data, _ = io.ReadAll(io.LimitReader(rc, limit))
	return data
}

// toUnicode is a parsed /ToUnicode CMap.
type toUnicode struct {
	space  [5][]codeRange // code space ranges by byte length
	single map[string]string
	ranges []uniRange
}

type codeRange struct{ lo, hi string }

type uniRange struct {
	lo, hi string
	dst    string   // UTF-16BE of the first code, incremented along the range
	dsts   []string // or one destination per code
}

func (m *toUnicode) codeLen(raw string) int {
	for n := 1; n <= 4 && n <= len(raw); n++ {
		for _, r := range m.space[n] {
			if r.lo <= raw[:n] && raw[:n] <= r.hi {
				return n
			}
		}
	}
	return 2
}

func (m *toUnicode) lookup(code string) string {
	if s, ok := m.single[code]; ok {
		return s
	}
	for _, r := range m.ranges {
		if len(r.lo) != len(code) || code < r.lo || code > r.hi {
			continue
		}
		off := codeInt(code) - codeInt(r.lo)
		if r.dsts != nil {
			if off < len(r.dsts) {
				return utf16BE(r.dsts[off])
			}
			return ""
		}
		b := []byte(r.dst)
		if len(b) == 0 {
			return ""
		}
		// Increment the last code unit, as the CMap spec says.
		last := int(b[len(b)-1]) + off
		if len(b) >= 2 {
			last += int(b[len(b)-2]) << 8
			b[len(b)-2] = byte(last >> 8)
		}
		b[len(b)-1] = byte(last)
		return utf16BE(string(b))
	}
	return ""
}

func codeInt(s string) int {
	n := 0
	for i := range len(s) {
		n = n<<8 | int(s[i])
	}
	return n
}

func utf16BE(s string) string {
	if len(s)%2 == 1 {
		s = "\x00" + s
	}
	u := make([]uint16, len(s)/2)
	for i := range u {
		u[i] = uint16(s[2*i])<<8 | uint16(s[2*i+1])
	}
	return string(utf16.Decode(u))
}

// parseToUnicode reads the parts of a CMap that matter here. It has its own
// tiny tokenizer because pdf.Interpret needs dictionaries this package
// cannot create for the CMap's PostScript preamble.
func parseToUnicode(data []byte) *toUnicode {
	if len(data) == 0 {
		return nil
	}
	m := &toUnicode{single: map[string]string{}}
	toks := cmapTokens(data)
	var stack []cmapTok
	for _, t := range toks {
		if t.kind != tokOp {
			stack = append(stack, t)
			continue
		}
		switch t.s {
		case "endcodespacerange":
			for i := 0; i+1 < len(stack); i += 2 {
				lo, hi := stack[i].s, stack[i+1].s
				if n := len(lo); n >= 1 && n <= 4 && len(hi) == n {
					m.space[n] = append(m.space[n], codeRange{lo, hi})
				}
			}
		case "endbfchar":
			for i := 0; i+1 < len(stack); i += 2 {
				m.single[stack[i].s] = utf16BE(stack[i+1].s)
			}
		case "endbfrange":
			for i := 0; i+2 < len(stack); i += 3 {
				lo, hi, dst := stack[i].s, stack[i+1].s, stack[i+2]
				if len(lo) != len(hi) || lo > hi {
					continue
				}
				r := uniRange{lo: lo, hi: hi}
				if dst.kind == tokArray {
					r.dsts = dst.arr
				} else {
					r.dst = dst.s
				}
				m.ranges = append(m.ranges, r)
			}
		}
		stack = stack[:0]
	}
	if len(m.single) == 0 && len(m.ranges) == 0 {
		return nil
	}
	return m
}

const (
	tokOp = iota
	tokStr
	tokArray
)

type cmapTok struct {
	kind int
	s    string
	arr  []string
}

func cmapTokens(d []byte) []cmapTok {
	var out []cmapTok
	var arr []string
	inArr := false
	emit := func(t cmapTok) {
		if inArr && t.kind == tokStr {
			arr = append(arr, t.s)
			return
		}
		out = append(out, t)
	}
	for i := 0; i < len(d); {
		c := d[i]
		switch {
		case c == '%':
			for i < len(d) && d[i] != '\n' && d[i] != '\r' {
				i++
			}
		case c == '<' && i+1 < len(d) && d[i+1] == '<', c == '>' && i+1 < len(d) && d[i+1] == '>':
			i += 2
		case c == '<':
			j := i + 1
			var hex []byte
			for j < len(d) && d[j] != '>' {
				if h := unhex(d[j]); h >= 0 {
					hex = append(hex, byte(h))
				}
				j++
			}
			if len(hex)%2 == 1 {
				hex = append(hex, 0)
			}
			b := make([]byte, len(hex)/2)
			for k := range b {
				b[k] = hex[2*k]<<4 | hex[2*k+1]
			}
			emit(cmapTok{kind: tokStr, s: string(b)})
			i = j + 1
		case c == '(':
			j, depth := i+1, 1
			var b []byte
			for j < len(d) && depth > 0 {
				switch d[j] {
				case '\\':
					j++
					if j < len(d) {
						b = append(b, d[j])
					}
				case '(':
					depth++
					b = append(b, d[j])
				case ')':
					depth--
					if depth > 0 {
						b = append(b, d[j])
					}
				default:
					b = append(b, d[j])
				}
				j++
			}
			emit(cmapTok{kind: tokStr, s: string(b)})
			i = j
		case c == '[':
			inArr, arr = true, nil
			i++
		case c == ']':
			inArr = false
			out = append(out, cmapTok{kind: tokArray, arr: arr})
			i++
		case c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\f' || c == 0:
			i++
		default:
			j := i
			for j < len(d) && !strings.ContainsRune(" \n\r\t\f\x00<>[]()/%{}", rune(d[j])) {
				j++
			}
			if j == i {
				j++
			}
			word := string(d[i:j])
			if c == '/' {
				j2 := j
				if j2 == i+1 {
					for j2 < len(d) && !strings.ContainsRune(" \n\r\t\f\x00<>[]()/%{}", rune(d[j2])) {
						j2++
					}
				}
				j = j2
			} else if _, err := strconv.Atoi(word); err != nil && word != "" && !inArr {
				out = append(out, cmapTok{kind: tokOp, s: word})
			}
			i = j
		}
	}
	return out
}

func unhex(b byte) int {
	switch {
	case '0' <= b && b <= '9':
		return int(b - '0')
	case 'a' <= b && b <= 'f':
		return int(b-'a') + 10
	case 'A' <= b && b <= 'F':
		return int(b-'A') + 10
	}
	return -1
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// standardWidths picks the standard face whose metrics best match a font
// used without /Widths (the base 14 fonts and their common look-alikes).
func standardWidths(name string) *[95]uint16 {
	low := strings.ToLower(name)
	family := "times"
	if strings.Contains(low, "helvetica") || strings.Contains(low, "arial") || strings.Contains(low, "sans") {
		family = "helvetica"
	}
	bold := strings.Contains(low, "bold") || strings.Contains(low, "black") || strings.Contains(low, "heavy")
	italic := strings.Contains(low, "italic") || strings.Contains(low, "oblique")
	switch {
	case bold && italic && family == "times":
		family += "-bolditalic"
	case bold && italic:
		family += "-boldoblique"
	case bold:
		family += "-bold"
	case italic && family == "times":
		family += "-italic"
	case italic:
		family += "-oblique"
	}
	w := stdWidths[family]
	return &w
}

func medianWidth(ws []float64) float64 {
	var pos []float64
	for _, w := range ws {
		if w > 0 {
			pos = append(pos, w)
		}
	}
	if len(pos) == 0 {
		return 0
	}
	sort.Float64s(pos)
	return pos[len(pos)/2]
}

// omlGreek are the Greek letters of TeX's math italic encoding (OML), at
// codes 0 to 0x27, where ASCII has control characters and punctuation.
var omlGreek = []rune("ΓΔΘΛΞΠΣΥΦΨΩαβγδϵζηθικλμνξπρστυϕχψωεϑϖϱςφ")

// texCodes are the OT1 (TeX text) characters whose codes are not ASCII's.
var texCodes = map[int]string{11: "ff", 12: "fi", 13: "fl", 14: "ffi", 15: "ffl", 16: "ı", 18: "`", 19: "´", 20: "ˇ", 21: "˘", 22: "¯", 23: "˚", 24: "¸", 25: "ß", 26: "æ", 27: "œ", 28: "ø", 29: "Æ", 30: "Œ", 31: "Ø", 34: "”", 92: "“", 123: "–", 124: "—", 127: "¨"}

// glyphNameText handles the glyph names the library does not know: "uniXXXX",
// "uXXXX(XX)", and bare decimal codes, which dvips bitmap fonts use and which
// follow TeX's text encoding.
func glyphNameText(name string) string {
	if n, err := strconv.Atoi(name); err == nil {
		if s, ok := texCodes[n]; ok {
			return s
		}
		if n >= 32 && n < 127 {
			return string(rune(n))
		}
		return ""
	}
	for _, p := range []string{"uni", "u"} {
		if hex, ok := strings.CutPrefix(name, p); ok && len(hex) >= 4 && len(hex) <= 6 {
			if n, err := strconv.ParseUint(hex[:min(len(hex), 6)], 16, 32); err == nil && n > 0 && n < 0x110000 && (p == "u" || len(hex) == 4) {
				return string(rune(n))
			}
		}
	}
	return ""
}
