package extract

import (
	"bytes"
	"compress/lzw"
	"encoding/ascii85"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
)

// testPDF describes a PDF for tests to generate, so identifier and layout
// extraction are checked against exactly known input.
type testPDF struct {
	info   map[string]string // Info dictionary entries, as PDF text strings
	xmp    string            // XMP packet, if any
	pages  []string          // content streams; fonts /F1 (Times-Roman), /F2 (Times-Bold), /F3 (Times-Italic), /F4 (TeX math italic, no encoding)
	forms  map[string]string // Form XObjects by name, usable on every page with "/Name Do"
	header string            // default "%PDF-1.4\n"
	filter string            // page content encoding: "" plain, "LZW", "AHx" or "A85 LZW"
	prefix string            // bytes before the header
	cmap   string            // a /ToUnicode CMap for /F1, if any
}

// bytes writes the PDF with a correct cross-reference table.
func (p testPDF) bytes() []byte {
	var objs []string
	add := func(s string) int {
		objs = append(objs, s)
		return len(objs)
	}
	catalog := add("") // filled in below
	pagesObj := add("")
	toUnicode := ""
	if p.cmap != "" {
		toUnicode = fmt.Sprintf(" /ToUnicode %d 0 R", add(fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(p.cmap)+1, p.cmap)))
	}
	f1 := add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Roman /Encoding /WinAnsiEncoding" + toUnicode + " >>")
	f2 := add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Bold /Encoding /WinAnsiEncoding >>")
	f3 := add("<< /Type /Font /Subtype /Type1 /BaseFont /Times-Italic /Encoding /WinAnsiEncoding >>")
	f4 := add("<< /Type /Font /Subtype /Type1 /BaseFont /CMMI12 >>")
	fonts := fmt.Sprintf("/Font << /F1 %d 0 R /F2 %d 0 R /F3 %d 0 R /F4 %d 0 R >>", f1, f2, f3, f4)
	var xobjs []string
	names := make([]string, 0, len(p.forms))
	for n := range p.forms {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		body := p.forms[n]
		id := add(fmt.Sprintf("<< /Type /XObject /Subtype /Form /BBox [0 0 612 792] /Resources << %s >> /Length %d >>\nstream\n%s\nendstream", fonts, len(body)+1, body))
		xobjs = append(xobjs, fmt.Sprintf("/%s %d 0 R", n, id))
	}
	res := fmt.Sprintf("<< %s /XObject << %s >> >>", fonts, strings.Join(xobjs, " "))
	var kids []string
	for _, c := range p.pages {
		body, dict := encodeContent(c, p.filter)
		cid := add(fmt.Sprintf("<< /Length %d %s >>\nstream\n%s\nendstream", len(body)+1, dict, body))
		pid := add(fmt.Sprintf("<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %s /Contents %d 0 R >>", pagesObj, res, cid))
		kids = append(kids, fmt.Sprintf("%d 0 R", pid))
	}
	objs[pagesObj-1] = fmt.Sprintf("<< /Type /Pages /Kids [%s] /Count %d >>", strings.Join(kids, " "), len(kids))
	cat := fmt.Sprintf("<< /Type /Catalog /Pages %d 0 R", pagesObj)
	if p.xmp != "" {
		md := add(fmt.Sprintf("<< /Type /Metadata /Subtype /XML /Length %d >>\nstream\n%s\nendstream", len(p.xmp)+1, p.xmp))
		cat += fmt.Sprintf(" /Metadata %d 0 R", md)
	}
	objs[catalog-1] = cat + " >>"
	info := 0
	if len(p.info) > 0 {
		var b strings.Builder
		b.WriteString("<<")
		keys := make([]string, 0, len(p.info))
		for k := range p.info {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(&b, " /%s (%s)", k, pdfEscape(p.info[k]))
		}
		b.WriteString(" >>")
		info = add(b.String())
	}

	var out bytes.Buffer
	out.WriteString(p.prefix)
	header := p.header
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

func pdfEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, "(", `\(`, ")", `\)`).Replace(s)
}

// text returns content that shows s at (x, y) in font /F1 or /F2 at size.
func text(font string, size, x, y float64, s string) string {
	return fmt.Sprintf("BT /%s %g Tf 1 0 0 1 %g %g Tm (%s) Tj ET\n", font, size, x, y, pdfEscape(s))
}

// words shows each word with its own positioning and no space characters,
// as LaTeX does, so words must be rebuilt from glyph positions.
func words(size, x, y float64, s string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "BT /F1 %g Tf\n", size)
	for _, w := range strings.Fields(s) {
		fmt.Fprintf(&b, "1 0 0 1 %g %g Tm (%s) Tj\n", x, y, pdfEscape(w))
		x += float64(len(w))*size*0.5 + size*0.4
	}
	b.WriteString("ET\n")
	return b.String()
}

// sideways shows s rotated 90° counter-clockwise, like arXiv's margin stamp.
func sideways(size, x, y float64, s string) string {
	return fmt.Sprintf("BT /F1 %g Tf 0 1 -1 0 %g %g Tm (%s) Tj ET\n", size, x, y, pdfEscape(s))
}

// paperPage is a plausible first page: running head, title, authors,
// abstract, body.
func paperPage(title []string, authors, extra string) string {
	var b strings.Builder
	b.WriteString(text("F1", 8, 72, 760, "Proceedings of the Imaginary Conference on Testing, 2019"))
	y := 700.0
	for _, t := range title {
		b.WriteString(text("F2", 17, 100, y, t))
		y -= 21
	}
	b.WriteString(text("F1", 12, 150, y-10, authors))
	b.WriteString(text("F1", 10, 150, y-25, "Department of Computer Science, Example University"))
	b.WriteString(text("F2", 11, 72, 560, "Abstract"))
	b.WriteString(text("F1", 10, 72, 545, "We study how metadata can be extracted from the first page of a paper"))
	b.WriteString(text("F1", 10, 72, 533, "without any network access, and report what works on unseen papers."))
	b.WriteString(text("F2", 11, 72, 500, "1 Introduction"))
	b.WriteString(text("F1", 10, 72, 485, "Body text follows here in the usual size for quite a few lines."))
	b.WriteString(extra)
	return b.String()
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
