package extract

import (
	"bufio"
	"bytes"
	"compress/zlib"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// needOCR returns the OCR programs; scripts/test-deps installs them, so
// their absence fails the test rather than skipping it.
func needOCR(t *testing.T) *OCR {
	t.Helper()
	o, err := LookOCR()
	if err != nil {
		t.Fatalf("%v: run scripts/test-deps", err)
	}
	return o
}

// scanOf returns a PDF whose only page is an image of the first page of
// text, as a scanner or a bitmap-font PDF gives: no text to extract.
func scanOf(t *testing.T, o *OCR, text []byte) []byte {
	t.Helper()
	cmd := exec.Command(o.Render, "-f", "1", "-l", "1", "-r", "150", "-gray", "-")
	cmd.Stdin = bytes.NewReader(text)
	pgm, err := cmd.Output()
	if err != nil {
		t.Fatalf("rendering the test page: %v", err)
	}
	// A binary PGM: "P5\n<w> <h>\n<max>\n" then one byte per pixel.
	br := bufio.NewReader(bytes.NewReader(pgm))
	var w, h, maxv int
	if _, err := fmt.Fscanf(br, "P5\n%d %d\n%d\n", &w, &h, &maxv); err != nil || maxv != 255 {
		t.Fatalf("pdftoppm output is not an 8-bit PGM: %v", err)
	}
	pixels := pgm[len(pgm)-w*h:]
	var z bytes.Buffer
	zw := zlib.NewWriter(&z)
	zw.Write(pixels)
	zw.Close()
	var out bytes.Buffer
	var offs []int
	obj := func(body string, stream []byte) {
		offs = append(offs, out.Len())
		fmt.Fprintf(&out, "%d 0 obj\n%s", len(offs), body)
		if stream != nil {
			out.WriteString("\nstream\n")
			out.Write(stream)
			out.WriteString("\nendstream")
		}
		out.WriteString("\nendobj\n")
	}
	out.WriteString("%PDF-1.4\n")
	obj("<< /Type /Catalog /Pages 2 0 R >>", nil)
	obj("<< /Type /Pages /Kids [3 0 R] /Count 1 >>", nil)
	obj("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /XObject << /Im1 4 0 R >> >> /Contents 5 0 R >>", nil)
	obj(fmt.Sprintf("<< /Type /XObject /Subtype /Image /Width %d /Height %d /ColorSpace /DeviceGray /BitsPerComponent 8 /Filter /FlateDecode /Length %d >>", w, h, z.Len()), z.Bytes())
	content := []byte("q 612 0 0 792 0 0 cm /Im1 Do Q")
	obj(fmt.Sprintf("<< /Length %d >>", len(content)), content)
	xref := out.Len()
	fmt.Fprintf(&out, "xref\n0 %d\n0000000000 65535 f \n", len(offs)+1)
	for _, o := range offs {
		fmt.Fprintf(&out, "%010d 00000 n \n", o)
	}
	fmt.Fprintf(&out, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(offs)+1, xref)
	return out.Bytes()
}

const scanTitle = "Recovering Titles From Scanned Conference Papers"

func scannedPaper(t *testing.T, o *OCR) []byte {
	t.Helper()
	page := paperPage([]string{"Recovering Titles From Scanned", "Conference Papers"}, "Ada Lovelace and Alan Turing", "")
	return scanOf(t, o, testPDF{Pages: []string{page}}.Bytes())
}

// TestOCRReadsAScan: a page that is only an image gives the PDF reader
// nothing, and OCR gives the title and authors, marked as read by OCR and
// no more than weakly sure, so an online lookup may correct them.
func TestOCRReadsAScan(t *testing.T) {
	o := needOCR(t)
	scan := scannedPaper(t, o)
	res, err := Bytes(context.Background(), scan, "scan0042.pdf")
	if err != nil {
		t.Fatal(err)
	}
	if !Unreadable(res) {
		t.Fatalf("an image-only page gave a title %q: the test PDF is not a scan", res.Title)
	}
	got := o.Improve(context.Background(), res, scan, "scan0042.pdf")
	if normalize(got.Title) != normalize(scanTitle) {
		t.Errorf("title %q, want %q (problems %q)", got.Title, scanTitle, got.Problems)
	}
	var fams []string
	for _, a := range got.Authors {
		fams = append(fams, family(a))
	}
	if !slices.Contains(fams, "lovelace") || !slices.Contains(fams, "turing") {
		t.Errorf("authors %q, want Ada Lovelace and Alan Turing", got.Authors)
	}
	if c := got.Confidence["title"]; c <= confFallback || c > confOCR {
		t.Errorf("title confidence %v, want above the fallback and at most %v", c, confOCR)
	}
	if !slices.ContainsFunc(got.Problems, func(p string) bool { return strings.Contains(p, "OCR") }) {
		t.Errorf("problems %q do not say the page was read by OCR", got.Problems)
	}
}

// TestOCRLeavesReadablePDFs: a PDF whose text reads is not sent to OCR.
func TestOCRLeavesReadablePDFs(t *testing.T) {
	o := &OCR{Render: "/nonexistent/pdftoppm", Recognise: "/nonexistent/tesseract"}
	pdf := testPDF{Pages: []string{paperPage([]string{"A Readable Title"}, "Ann Author", "")}}.Bytes()
	res, err := Bytes(context.Background(), pdf, "x.pdf")
	if err != nil {
		t.Fatal(err)
	}
	got := o.Improve(context.Background(), res, pdf, "x.pdf")
	if got.Title != "A Readable Title" || len(got.Problems) != len(res.Problems) {
		t.Errorf("got %q %q, want the reader's own result", got.Title, got.Problems)
	}
}

// TestOCRFailureNamesTheFile: bytes the renderer cannot read leave the
// fallback title and a problem naming the file and what failed.
func TestOCRFailureNamesTheFile(t *testing.T) {
	o := needOCR(t)
	res := fallback("broken.pdf")
	got := o.Improve(context.Background(), res, []byte("%PDF-1.4\nnot really a PDF"), "broken.pdf")
	if got.Title != res.Title {
		t.Errorf("title %q, want the fallback %q", got.Title, res.Title)
	}
	if len(got.Problems) == 0 || !strings.Contains(got.Problems[len(got.Problems)-1], "broken.pdf: rendering page 1") {
		t.Errorf("problems %q, want one naming broken.pdf and the rendering", got.Problems)
	}
}

// TestPoolOCR: import's path, a pool of workers with OCR configured,
// reads a scan handed over as an open file.
func TestPoolOCR(t *testing.T) {
	t.Setenv("EXTRACT_TEST_WORKER", "1")
	o := needOCR(t)
	path := filepath.Join(t.TempDir(), "scan.pdf")
	if err := os.WriteFile(path, scannedPaper(t, o), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	p := &Pool{Runner: Runner{Exe: os.Args[0], OCR: o}}
	defer p.Close()
	res, err := p.Open(context.Background(), "scan.pdf", f)
	if err != nil {
		t.Fatal(err)
	}
	if normalize(res.Title) != normalize(scanTitle) {
		t.Errorf("title %q, want %q (problems %q)", res.Title, scanTitle, res.Problems)
	}
}

// TestOCRPage: tesseract's TSV becomes lines with sizes from the line
// boxes, in points from the bottom, so the layout rules pick the title.
func TestOCRPage(t *testing.T) {
	tsv := "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n" +
		"1\t1\t0\t0\t0\t0\t0\t0\t1275\t1650\t-1\t\n" +
		"4\t1\t1\t1\t1\t0\t200\t150\t800\t50\t-1\t\n" +
		"5\t1\t1\t1\t1\t1\t200\t150\t300\t50\t96\tBig\n" +
		"5\t1\t1\t1\t1\t2\t540\t150\t460\t50\t96\tTitle\n" +
		"4\t1\t1\t1\t2\t0\t300\t260\t400\t25\t-1\t\n" +
		"5\t1\t1\t1\t2\t1\t300\t260\t400\t25\t91\tSmaller\n"
	pi, err := ocrPage(strings.NewReader(tsv), 150)
	if err != nil {
		t.Fatal(err)
	}
	if len(pi.lines) != 2 {
		t.Fatalf("lines %d, want 2: %q", len(pi.lines), pi.text)
	}
	if pi.lines[0].text != "Big Title" || pi.lines[1].text != "Smaller" {
		t.Errorf("lines %q, %q", pi.lines[0].text, pi.lines[1].text)
	}
	if pi.lines[0].size != 24 || pi.lines[1].size != 12 {
		t.Errorf("sizes %v, %v, want 24 and 12 points", pi.lines[0].size, pi.lines[1].size)
	}
	if pi.top != 792 || pi.lines[0].y != 792-200*72.0/150 {
		t.Errorf("page top %v, first baseline %v", pi.top, pi.lines[0].y)
	}
	if _, err := ocrPage(strings.NewReader("5\t1\t1\t1\t1\t1\tx\t0\t1\t1\t9\tbad\n"), 150); err == nil {
		t.Error("a malformed row was accepted")
	}
}
