package extract

import (
	"fmt"
	"strings"

	"github.com/paperfs/paperfs/meta/testutil"
)

// testPDF is the PDF the tests generate (one writer for every package's
// tests, in meta/testutil).
type testPDF = testutil.PDF

var pdfEscape = testutil.EscapePDF

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
