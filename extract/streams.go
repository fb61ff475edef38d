package extract

import (
	"bytes"
	"compress/zlib"
	"encoding/ascii85"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/ledongthuc/pdf"
)

// The pdf library decodes only FlateDecode (with the PNG Up predictor) and
// ASCII85Decode, and panics on the LZW, ASCIIHex and RunLength filters that
// 1990s Distiller files use for every page. For those streams this file
// decodes the raw bytes itself and hands pdf.Interpret an equivalent
// unfiltered stream from a one-object in-memory PDF.

// rawStream returns the undecoded bytes of stream v in file. The library
// keeps a stream's file offset private but prints it in String() as
// "<<header>>@offset".
func rawStream(file []byte, v pdf.Value) ([]byte, error) {
	s := v.String()
	at := strings.LastIndexByte(s, '@')
	if at < 0 {
		return nil, errors.New("no stream offset")
	}
	off, err := strconv.ParseInt(s[at+1:], 10, 64)
	if err != nil || off < 0 || off > int64(len(file)) {
		return nil, fmt.Errorf("bad stream offset %q", s[at+1:])
	}
	n := v.Key("Length").Int64()
	if n < 0 || off+n > int64(len(file)) {
		n = int64(len(file)) - off
	}
	return file[off : off+n], nil
}

// decodeStream applies v's filters to raw, keeping what was decoded before
// an error, since a partly readable page still has its title.
func decodeStream(raw []byte, v pdf.Value) ([]byte, error) {
	f := v.Key("Filter")
	p := v.Key("DecodeParms")
	var names []string
	var params []pdf.Value
	switch f.Kind() {
	case pdf.Name:
		names, params = []string{f.Name()}, []pdf.Value{p}
	case pdf.Array:
		for i := 0; i < f.Len(); i++ {
			names = append(names, f.Index(i).Name())
			params = append(params, p.Index(i))
		}
	}
	data := raw
	for i, name := range names {
		var err error
		data, err = decodeFilter(data, name, params[i])
		if err != nil {
			return data, fmt.Errorf("%s: %w", name, err)
		}
	}
	return data, nil
}

func decodeFilter(in []byte, name string, param pdf.Value) ([]byte, error) {
	var out []byte
	var err error
	switch name {
	case "FlateDecode", "Fl":
		var zr io.ReadCloser
		if zr, err = zlib.NewReader(bytes.NewReader(in)); err == nil {
			out, err = io.ReadAll(io.LimitReader(zr, maxStream))
		}
	case "LZWDecode", "LZW":
		early := param.Key("EarlyChange")
		out, err = lzwDecode(in, early.IsNull() || early.Int64() != 0)
	case "ASCII85Decode", "A85":
		if i := bytes.Index(in, []byte("~>")); i >= 0 {
			in = in[:i]
		}
		in = bytes.Map(func(r rune) rune {
			if r == ' ' || r == '\n' || r == '\r' || r == '\t' || r == '\f' || r == 0 {
				return -1
			}
			return r
		}, bytes.TrimPrefix(bytes.TrimSpace(in), []byte("<~")))
		out, err = io.ReadAll(ascii85.NewDecoder(bytes.NewReader(in)))
	case "ASCIIHexDecode", "AHx":
		var digits []byte
		for _, c := range in {
			if c == '>' {
				break
			}
			if h := unhex(c); h >= 0 {
				digits = append(digits, byte(h))
			}
		}
		if len(digits)%2 == 1 {
			digits = append(digits, 0)
		}
		for i := 0; i < len(digits); i += 2 {
			out = append(out, digits[i]<<4|digits[i+1])
		}
	case "RunLengthDecode", "RL":
		for i := 0; i < len(in) && len(out) < maxStream; {
			n := int(in[i])
			switch {
			case n == 128:
				i = len(in)
			case n < 128:
				end := min(i+1+n+1, len(in))
				out = append(out, in[i+1:end]...)
				i = end
			default:
				if i+1 < len(in) {
					out = append(out, bytes.Repeat(in[i+1:i+2], 257-n)...)
				}
				i += 2
			}
		}
	default:
		return nil, errors.New("unsupported filter")
	}
	if pred := param.Key("Predictor").Int64(); pred >= 10 && len(out) > 0 {
		out = pngUnpredict(out, int(param.Key("Columns").Int64()), int(param.Key("Colors").Int64()), int(param.Key("BitsPerComponent").Int64()))
	}
	return out, err
}

// lzwDecode decodes PDF's LZW: MSB-first codes of 9 to 12 bits, 256 clear,
// 257 end, and by default the code width grows one code early.
func lzwDecode(in []byte, early bool) ([]byte, error) {
	var out []byte
	dict := make([][]byte, 258, 4096)
	reset := func() {
		dict = dict[:258]
		for i := range 256 {
			dict[i] = []byte{byte(i)}
		}
	}
	reset()
	width := 9
	var bits, nbits uint32
	var prev []byte
	pos := 0
	for len(out) < maxStream {
		for nbits < uint32(width) && pos < len(in) {
			bits = bits<<8 | uint32(in[pos])
			nbits += 8
			pos++
		}
		if nbits < uint32(width) {
			return out, nil
		}
		code := int(bits>>(nbits-uint32(width))) & (1<<width - 1)
		nbits -= uint32(width)
		switch {
		case code == 256:
			reset()
			width, prev = 9, nil
			continue
		case code == 257:
			return out, nil
		}
		var entry []byte
		switch {
		case code < len(dict) && dict[code] != nil:
			entry = dict[code]
		case code == len(dict) && prev != nil:
			entry = append(append([]byte{}, prev...), prev[0])
		default:
			return out, errors.New("bad LZW code")
		}
		out = append(out, entry...)
		if prev != nil && len(dict) < 4096 {
			dict = append(dict, append(append([]byte{}, prev...), entry[0]))
		}
		prev = entry
		limit := len(dict)
		if early {
			limit++
		}
		switch {
		case limit >= 2048:
			width = 12
		case limit >= 1024:
			width = 11
		case limit >= 512:
			width = 10
		}
	}
	return out, nil
}

// pngUnpredict undoes the PNG predictors (10 to 15) row by row.
func pngUnpredict(in []byte, columns, colors, bpc int) []byte {
	columns, colors, bpc = max(columns, 1), max(colors, 1), max(bpc, 8)
	bpp := max(colors*bpc/8, 1)
	row := (columns*colors*bpc + 7) / 8
	if row <= 0 || row > 1<<20 {
		return in
	}
	var out []byte
	prev := make([]byte, row)
	for i := 0; i+1+row <= len(in); i += 1 + row {
		kind, cur := in[i], append([]byte{}, in[i+1:i+1+row]...)
		for j := range cur {
			var left, up, ul int
			if j >= bpp {
				left, ul = int(cur[j-bpp]), int(prev[j-bpp])
			}
			up = int(prev[j])
			switch kind {
			case 1:
				cur[j] += byte(left)
			case 2:
				cur[j] += byte(up)
			case 3:
				cur[j] += byte((left + up) / 2)
			case 4:
				cur[j] += byte(paeth(left, up, ul))
			}
		}
		out = append(out, cur...)
		prev = cur
	}
	return out
}

func paeth(a, b, c int) int {
	p := a + b - c
	pa, pb, pc := absInt(p-a), absInt(p-b), absInt(p-c)
	switch {
	case pa <= pb && pa <= pc:
		return a
	case pb <= pc:
		return b
	}
	return c
}

func absInt(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// plainStream wraps decoded content in a one-object PDF so pdf.Interpret,
// which only takes library values, can read it.
func plainStream(content []byte) (pdf.Value, error) {
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	off1 := b.Len()
	fmt.Fprintf(&b, "1 0 obj\n<< /Length %d >>\nstream\n", len(content))
	b.Write(content)
	b.WriteString("\nendstream\nendobj\n")
	off2 := b.Len()
	b.WriteString("2 0 obj\n<< /Type /Catalog /C 1 0 R >>\nendobj\n")
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 3\n0000000000 65535 f \n%010d 00000 n \n%010d 00000 n \n", off1, off2)
	fmt.Fprintf(&b, "trailer\n<< /Size 3 /Root 2 0 R >>\nstartxref\n%d\n%%%%EOF\n", xref)
	r, err := newReader(b.Bytes())
	if err != nil {
		return pdf.Value{}, err
	}
	return r.Trailer().Key("Root").Key("C"), nil
}
