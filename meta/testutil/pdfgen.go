package testutil

import (
	"bytes"
	"compress/lzw"
	"encoding/ascii85"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// PDF describes a PDF for tests to generate, so that what is extracted
// from it is checked against exactly known input.
type PDF struct {
	Info   map[string]string // Info dictionary entries, as PDF text strings
	XMP    string            // XMP packet, if any
	Pages  []string          // content streams; fonts /F1 (Times-Roman), /F2 (Times-Bold), /F3 (Times-Italic), /F4 (TeX math italic, no encoding)
	Forms  map[string]string // Form XObjects by name, usable on every page with "/Name Do"
	Header string            // default "%PDF-1.4\n"
	Filter string            // page content encoding: "" plain, "LZW", "AHx" or "A85 LZW"
	Prefix string            // bytes before the header
	CMap   string            // a /ToUnicode CMap for /F1, if any
}

// Bytes writes the PDF with a correct cross-reference table.
func (p PDF) Bytes() []byte {
	var objs []string
	add := func(s string) int {
		objs = append(objs, s)
		return len(objs)
	}
	catalog := add("") // filled in below
	pagesObj := add("")
	toUnicode := ""
	if p.CMap != "" {
		toUnicode = fmt.Sprintf(" /ToUnicode %d 0 R", add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(p.CMap)+1, p.CMap)))
	}
	f1 := add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding" + toUnicode + " >>")
	f2 := add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Bold /Encoding /WinAnsiEncoding >>")
	f3 := add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Italic /Encoding /WinAnsiEncoding >>")
	f4 := add("<< /Type /Font /Subtype /Type1 /BaseFont /CMMI12 >>")
	fonts := fmt.Sprintf("/Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R /F4 %d 0 R >>", f1, f2, f3, f4)
	var xobjs []string
	names := make([]string, 0, len(p.Forms))
	for n := range p.Forms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body := p.Forms[n]
		id := add(fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << %s >> /Length %d >>\nstream\n%s\nendstream", fonts, len(body)+1, body))
		xobjs = append(xobjs, fmt.Sprintf("/%s %d 0 R", n, id))
	}
	res := fmt.Sprintf("<< %s /XObject << %s >> >>", fonts, strings.Join(xobjs, " "))
	var kids []string
	for _, c := range p.Pages {
		body, dict := encodeContent(c, p.Filter)
		cid := add(fmt.Sprintf("<< /Length %d %s >>\nstream\n%s\nendstream", len(body)+1, dict, body))
		pid := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %s /Contents %d 0 R >>", pagesObj, res, cid))
		kids = append(kids, fmt.Sprintf("%d 0 R", pid))
	}
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	cat := fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R", pagesObj)
	if p.XMP != "" {
		md := add(fmt.Sprintf("<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream", len(p.XMP)+1, p.XMP))
		cat += fmt.Sprintf(" /Metadata %d 0 R", md)
	}
	objs[catalog-1] = cat + " >>"
	info := 0
	if len(p.Info) > 0 {
		var b strings.Builder
		b.WriteString("<<")
		keys := make([]string, 0, len(p.Info))
		for k := range p.Info {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " /%s (%s)", k, EscapePDF(p.Info[k]))
		}
		b.WriteString(" >>")
		info = add(b.String())
	}

	var out bytes.Buffer
	out.WriteString(p.Prefix)
	header := p.Header
	if header == "" {
		header = "%PDF-1.4\n"
	}
	out.WriteString(header)
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = out.Len()
		fmt.Fprintf(&out, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		// Offsets count from the start of the file, as most writers do,
		// even when junk precedes the header.
		fmt.Fprintf(&out, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root %d 0 R", len(objs)+1, catalog)
	if info != 0 {
		fmt.Fprintf(&out, " /Info %d 0 R", info)
	}
	fmt.Fprintf(&out, " >>\nstartxref\n%d\n%%%%EOF\n", xref)
	return out.Bytes()
}

// EscapePDF escapes s for a PDF string literal.
func EscapePDF(s string) string {
	return strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s)
}

// encodeContent applies the filters the pdf library cannot decode itself.
func encodeContent(c, filter string) (body, dict string) {
	lzwEnc := func(s string) string {
		var b bytes.Buffer
		w := lzw.NewWriter(&b, lzw.MSB, 8)
		w.Write([]byte(s))
		w.Close()
		return b.String()
	}
	switch filter {
	case "LZW":
		return lzwEnc(c), "/Filter /LZWDecode /DecodeParms << /EarlyChange 0 >>"
	case "AHx":
		return hex.EncodeToString([]byte(c)) + ">", "/Filter /ASCIIHexDecode"
	case "A85 LZW":
		var b bytes.Buffer
		w := ascii85.NewEncoder(&b)
		w.Write([]byte(lzwEnc(c)))
		w.Close()
		return b.String() + "~>", "/Filter [/ASCII85Decode /LZWDecode] /DecodeParms [null << /EarlyChange 0 >>]"
	}
	return c, ""
}
