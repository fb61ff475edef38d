package extract

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"time"
)

// OCR reads page 1 of a PDF whose text cannot be read: a scan, or a page
// set in bitmap fonts without a text encoding (dvips' Type 3 fonts, common
// in papers from before 2005). It renders the page with poppler's pdftoppm
// and recognises it with tesseract, both separate programs, so a hostile
// PDF meets them in their own processes under a deadline, as it meets the
// extraction worker. The words tesseract finds, with their boxes, go
// through the same layout and metadata rules as a page's own text.
//
// OCR is optional: LookOCR finds the two programs, and a caller without
// them keeps the file-name title it had.
type OCR struct {
	Render    string        // pdftoppm
	Recognise string        // tesseract
	DPI       int           // rendering resolution; default 300
	Lang      string        // tesseract language; default "eng"
	Timeout   time.Duration // for both programs; default 60s
}

// ErrNoOCR says a program OCR needs is not installed.
var ErrNoOCR = errors.New("OCR needs pdftoppm (poppler-utils) and tesseract (tesseract-ocr)")

// LookOCR finds pdftoppm and tesseract on $PATH.
func LookOCR() (*OCR, error) {
	render, err := exec.LookPath("pdftoppm")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoOCR, err)
	}
	recog, err := exec.LookPath("tesseract")
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNoOCR, err)
	}
	return &OCR{Render: render, Recognise: recog}, nil
}

// Unreadable reports whether a Result found no title on page 1 and fell
// back to the file name: the case OCR is for.
func Unreadable(res Result) bool {
	return res.Confidence["title"] <= confFallback
}

// confOCR caps the confidence of what OCR read: recognition errors are
// possible, so an online lookup may replace it.
const confOCR = confWeak

// Improve returns res completed by OCR of page 1 when res is Unreadable and
// OCR found a title; otherwise res unchanged, with a Problem saying why OCR
// did not help. data is the PDF; name is its file name, for messages.
func (o *OCR) Improve(ctx context.Context, res Result, data []byte, name string) Result {
	if o == nil || !Unreadable(res) {
		return res
	}
	got, err := o.Page1(ctx, data, name)
	if err != nil {
		res.Problems = append(res.Problems, "OCR of page 1: "+err.Error())
		return res
	}
	if Unreadable(got) {
		res.Problems = append(res.Problems, "OCR of page 1 found no title")
		return res
	}
	out := res
	out.Confidence = map[string]float64{}
	for k, v := range res.Confidence {
		out.Confidence[k] = v
	}
	take := func(field string, empty bool, set func()) {
		if c, ok := got.Confidence[field]; ok && (empty || res.Confidence[field] < c) {
			set()
			out.Confidence[field] = min(c, confOCR)
		}
	}
	take("title", true, func() { out.Title = got.Title })
	take("authors", len(res.Authors) == 0, func() { out.Authors = got.Authors })
	take("year", res.Year == 0, func() { out.Year = got.Year })
	take("doi", res.DOI == "", func() { out.DOI = got.DOI })
	take("arxiv", res.ArXiv == "", func() { out.ArXiv, out.ArXivVersion = got.ArXiv, got.ArXivVersion })
	take("abstract", res.Abstract == "", func() { out.Abstract = got.Abstract })
	if out.Venue == "" {
		out.Venue = got.Venue
	}
	out.Problems = append(append([]string(nil), res.Problems...), "page 1 read by OCR (tesseract): check the title and authors")
	return out
}

// Page1 renders page 1 of the PDF in data and reads its metadata from the
// words tesseract recognises.
func (o *OCR) Page1(ctx context.Context, data []byte, name string) (Result, error) {
	dpi := o.DPI
	if dpi <= 0 {
		dpi = 300
	}
	lang := o.Lang
	if lang == "" {
		lang = "eng"
	}
	timeout := o.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	var image bytes.Buffer
	// The programs' messages, the first 4 KiB: a PDF full of warnings
	// must not fail the run for its chatter (limitedBuffer never fails).
	errs := &limitedBuffer{max: 4 << 10}
	render := exec.CommandContext(ctx, o.Render, "-f", "1", "-l", "1", "-r", strconv.Itoa(dpi), "-gray", "-")
	render.Stdin = bytes.NewReader(data)
	render.Stdout = &limitWriter{w: &image, n: 256 << 20}
	render.Stderr = errs
	if err := render.Run(); err != nil {
		return Result{}, fmt.Errorf("%s: rendering page 1: %v%s", name, err, lastLine(errs.String()))
	}
	if image.Len() == 0 {
		return Result{}, fmt.Errorf("%s: rendering page 1 gave no image", name)
	}
	var tsv bytes.Buffer
	errs = &limitedBuffer{max: 4 << 10}
	recog := exec.CommandContext(ctx, o.Recognise, "stdin", "stdout", "-l", lang, "tsv")
	recog.Stdin = &image
	recog.Stdout = &limitWriter{w: &tsv, n: 16 << 20}
	recog.Stderr = errs
	// One thread: a second would only compete with the mount and the
	// other imports on a small machine.
	recog.Env = append(os.Environ(), "OMP_THREAD_LIMIT=1")
	if err := recog.Run(); err != nil {
		return Result{}, fmt.Errorf("%s: recognising page 1: %v%s", name, err, lastLine(errs.String()))
	}
	pi, err := ocrPage(&tsv, float64(dpi))
	if err != nil {
		return Result{}, fmt.Errorf("%s: reading tesseract's output: %v", name, err)
	}
	res := fallback(name)
	d := &doc{ctx: ctx, res: &res}
	d.step("identifiers", func() { d.ids(beforeReferences(pi.lines), confLikely) })
	d.step("metadata", func() { d.metadata(pi) })
	return res, nil
}

// ocrPage turns tesseract's TSV (level, page, block, paragraph, line, word,
// left, top, width, height, confidence, text; pixels from the top left)
// into a page of lines in points from the bottom left, each word's letters
// spread over its box and sized by its line's height, so the layout rules
// see sizes and gaps as a PDF's own text would give them.
func ocrPage(r io.Reader, dpi float64) (*pageInfo, error) {
	type box struct{ left, top, width, height float64 }
	type word struct {
		box
		line string
		text string
	}
	var (
		page  box
		lines = map[string]box{}
		words []word
	)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	first := true
	for sc.Scan() {
		if first {
			first = false
			if strings.HasPrefix(sc.Text(), "level") {
				continue
			}
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 11 {
			continue
		}
		var n [10]float64
		for i := range n {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("field %d of %q: %v", i+1, sc.Text(), err)
			}
			n[i] = v
		}
		b := box{n[6], n[7], n[8], n[9]}
		key := f[2] + "." + f[3] + "." + f[4]
		switch n[0] {
		case 1:
			page = b
		case 4:
			lines[key] = b
		case 5:
			text := ""
			if len(f) >= 12 {
				text = strings.TrimSpace(f[11])
			}
			if text != "" && b.width > 0 && b.height > 0 {
				words = append(words, word{box: b, line: key, text: text})
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if page.height <= 0 || page.width <= 0 {
		return nil, errors.New("no page box")
	}
	pt := 72 / dpi
	pi := &pageInfo{top: page.height * pt, right: page.width * pt}
	var glyphs []glyph
	for _, w := range words {
		lb, ok := lines[w.line]
		if !ok {
			lb = w.box
		}
		size := lb.height * pt
		base := (page.height - (lb.top + lb.height)) * pt
		rs := []rune(w.text)
		adv := w.width * pt / float64(len(rs))
		for i, c := range rs {
			glyphs = append(glyphs, glyph{
				s: string(c), x: (w.left*pt + float64(i)*adv), y: base,
				w: adv, size: size, font: "OCR", seq: len(glyphs),
			})
		}
	}
	pi.lines = buildLines(glyphs)
	pi.text = pageText(pi.lines)
	return pi, nil
}

// limitWriter keeps at most n bytes and fails past them, so a runaway
// program's output cannot fill memory (the output read; its messages go
// to a limitedBuffer, which keeps the first bytes and never fails).
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		return 0, errors.New("output too large")
	}
	l.n -= int64(len(p))
	return l.w.Write(p)
}

// lastLine is ": " and the last non-empty line of a program's stderr, or "".
func lastLine(s string) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if l := strings.TrimSpace(ls[len(ls)-1]); l != "" {
		return ": " + l
	}
	return ""
}
