package extract

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"

	"github.com/ledongthuc/pdf"
)

// headerWindow is how far into a file a misplaced "%PDF-" header is looked
// for; Acrobat accepts junk in the first kilobyte.
const headerWindow = 1024

var startxrefRe = regexp.MustCompile(`startxref\s+(\d+)`)

// openPDF opens data with the pdf library, retrying with repaired copies of
// the file when the library's strict checks reject a file that viewers open:
// a space or other byte after "%PDF-1.x", a PDF 2.0 header, bytes before the
// header, and junk or a missing "%%EOF" after the last startxref.
// It also returns the bytes the reader reads, which may be a repaired copy.
func openPDF(data []byte) (r *pdf.Reader, used []byte, note string, err error) {
	r, err = newReader(data)
	if err == nil {
		return r, data, "", nil
	}
	first := err
	for _, c := range repairs(data) {
		if r, err := newReader(c.data); err == nil {
			return r, c.data, c.note, nil
		}
	}
	return nil, nil, "", first
}

type repaired struct {
	data []byte
	note string
}

func repairs(data []byte) []repaired {
	var out []repaired
	at := bytes.Index(data[:min(len(data), headerWindow)], []byte("%PDF-"))
	if at < 0 {
		return nil
	}
	tail := fixTail(data)
	// Offsets are usually counted from the start of the file, so the first
	// choice keeps every byte in place and rewrites the header at offset 0.
	if at >= 9 {
		d := bytes.Clone(tail)
		copy(d, "%PDF-1.7\n")
		out = append(out, repaired{d, "repaired: bytes before the %PDF header"})
	}
	if at > 0 {
		d := fixHeader(bytes.Clone(tail[at:]))
		out = append(out, repaired{d, "repaired: bytes before the %PDF header"})
	}
	if at == 0 {
		out = append(out, repaired{fixHeader(bytes.Clone(tail)), "repaired: non-standard %PDF header or trailer"})
	}
	return out
}

// fixHeader makes the first line exactly "%PDF-1.d\n" as the library wants.
func fixHeader(d []byte) []byte {
	if len(d) < 9 {
		return d
	}
	if d[5] != '1' || d[6] != '.' || d[7] < '0' || d[7] > '7' {
		copy(d[5:], "1.7")
	}
	if d[8] != '\r' && d[8] != '\n' {
		d[8] = '\n'
	}
	return d
}

// fixTail cuts anything after the last "%%EOF", or supplies one after the
// last startxref when it is missing.
func fixTail(data []byte) []byte {
	if i := bytes.LastIndex(data, []byte("%%EOF")); i >= 0 {
		return data[:i+5]
	}
	locs := startxrefRe.FindAllIndex(data, -1)
	if len(locs) == 0 {
		return data
	}
	last := locs[len(locs)-1]
	d := append(bytes.Clone(data[:last[1]]), "\n%%EOF\n"...)
	return d
}

// newReader calls the library, turning its panics into errors.
func newReader(data []byte) (r *pdf.Reader, err error) {
	defer func() {
		if x := recover(); x != nil {
			r, err = nil, fmt.Errorf("malformed PDF: %v", x)
		}
	}()
	if len(data) < 16 {
		return nil, errors.New("not a PDF file: too short")
	}
	return pdf.NewReader(bytes.NewReader(data), int64(len(data)))
}
