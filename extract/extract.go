// Package extract learns a research paper's metadata (title, authors, year,
// identifiers, abstract) from its PDF, offline. It is pure: bytes or a path
// in, a Result out. Bytes works in-process and recovers the parser's panics;
// Runner.File runs the same code in a worker process with a deadline, so a
// hostile PDF can neither crash nor hang the caller.
package extract

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/ledongthuc/pdf"
)

// Result is what extraction learned about one PDF. Zero values mean unknown.
type Result struct {
	Title        string
	Authors      []string // "First Last" order
	Year         int
	Venue        string
	DOI          string // normalised, lower-case prefix "10."
	ArXiv        string // e.g. "1706.03762" or "hep-th/9901001", no version
	ArXivVersion int    // 5 for v5, 0 unknown
	Abstract     string
	Confidence   map[string]float64 // keys "title","authors","year","doi","arxiv","abstract", 0..1
	Problems     []string           // human-readable notes of what failed, empty if all went well
}

// Confidence values. A later online lookup replaces fields below confident.
const (
	confFallback  = 0.1 // a guess: file name, file date
	confWeak      = 0.4
	confDisputed  = 0.6 // the page and the Info dictionary disagree
	confLikely    = 0.7
	confConfident = 0.9
)

// idPages is how many pages are searched for identifiers.
const idPages = 3

// Bytes extracts in-process from a PDF's bytes; name is the file name (used
// for ids in names and the title fallback). It never panics, honours ctx
// between steps, and always returns a usable Result (the title falls back to
// the cleaned file name) together with a non-nil error only when the PDF
// could not be parsed at all.
func Bytes(ctx context.Context, data []byte, name string) (res Result, err error) {
	res = fallback(name)
	defer func() {
		if x := recover(); x != nil {
			res.Problems = append(res.Problems, fmt.Sprintf("extraction stopped: parser panic: %v", x))
		}
		if res.Title == "" {
			res.Title = TitleFromFileName(name)
			res.Confidence["title"] = confFallback
		}
	}()
	if err := ctx.Err(); err != nil {
		res.Problems = append(res.Problems, "extraction cancelled: "+err.Error())
		return res, nil
	}
	r, used, note, err := openPDF(data)
	if err != nil {
		res.Problems = append(res.Problems, "cannot parse PDF: "+err.Error())
		return res, fmt.Errorf("%s: %w", name, err)
	}
	if note != "" {
		res.Problems = append(res.Problems, note)
	}
	if newDoc(ctx, r, used, &res).run() || strings.Contains(note, "rebuilt") {
		return res, nil
	}
	// The table opened but led nowhere (offsets shifted by an editor or a
	// transfer in text mode): read the file again through a rebuilt one.
	at := max(bytes.Index(data[:min(len(data), headerWindow)], []byte("%PDF-")), 0)
	rebuilt := rebuildXref(fixHeader(bytes.Clone(data[at:])))
	if rebuilt == nil || ctx.Err() != nil {
		return res, nil
	}
	r2, err := newReader(rebuilt)
	if err != nil {
		return res, nil
	}
	res2 := fallback(name)
	res2.Problems = append(res2.Problems, "repaired: rebuilt the cross-reference table")
	if newDoc(ctx, r2, rebuilt, &res2).run() {
		return res2, nil
	}
	return res, nil
}

func newDoc(ctx context.Context, r *pdf.Reader, file []byte, res *Result) *doc {
	d := &doc{ctx: ctx, r: r, res: res, file: file}
	if !r.Trailer().Key("Encrypt").IsNull() {
		d.file = nil // raw stream bytes would need decrypting
	}
	return d
}

// fallback is the Result for a file nothing can be read from.
func fallback(name string) Result {
	res := Result{
		Title:      TitleFromFileName(name),
		Confidence: map[string]float64{"title": confFallback},
	}
	if doi, arxiv, v := fileNameIDs(name); doi != "" || arxiv != "" {
		res.DOI, res.ArXiv, res.ArXivVersion = doi, arxiv, v
		if doi != "" {
			res.Confidence["doi"] = confLikely
		}
		if arxiv != "" {
			res.Confidence["arxiv"] = confLikely
			res.Year = arxivYear(arxiv)
			res.Confidence["year"] = confWeak
		}
	}
	return res
}

// doc carries one extraction.
type doc struct {
	ctx   context.Context
	r     *pdf.Reader
	res   *Result
	info  info
	fonts fontCache
	file  []byte // the PDF as read, for streams the library cannot decode; nil if encrypted

	pages  []pdf.Value // the first idPages pages
	parsed []*pageInfo // pages read so far, by index; nil if not (yet) read
}

// pageAt returns page i (from 0) as lines, reading it if not done yet.
func (d *doc) pageAt(i int) *pageInfo {
	if i >= len(d.pages) || d.ctx.Err() != nil {
		return nil
	}
	if d.parsed[i] == nil {
		d.step(fmt.Sprintf("page %d", i+1), func() { d.parsed[i] = d.page(d.pages[i], i+1) })
	}
	return d.parsed[i]
}

type info struct {
	title, author, subject, keywords string
	created                          int // year
	xmp                              string
}

func (d *doc) problem(format string, args ...any) {
	d.res.Problems = append(d.res.Problems, fmt.Sprintf(format, args...))
}

// step runs f, turning a panic into a Problem so later steps still run.
func (d *doc) step(what string, f func()) {
	if d.ctx.Err() != nil {
		return
	}
	defer func() {
		if x := recover(); x != nil {
			d.problem("%s: parser panic: %v", what, x)
		}
	}()
	f()
}

// run extracts everything; it reports whether page 1 could be read.
func (d *doc) run() bool {
	d.step("document info", d.readInfo)
	d.step("identifiers in document info", func() {
		d.ids(d.info.xmp+"\n"+d.info.subject+"\n"+d.info.keywords+"\n"+d.info.title, confConfident)
	})
	d.step("page tree", func() { d.pages = findPages(d.r, idPages) })
	if len(d.pages) == 0 {
		d.problem("no pages found")
	}
	d.parsed = make([]*pageInfo, len(d.pages))
	var first *pageInfo
	for i := range d.pages {
		if d.ctx.Err() != nil {
			break
		}
		if i > 0 && (d.res.DOI != "" || d.res.ArXiv != "") {
			break // one identifier is enough to look the paper up later
		}
		pi := d.pageAt(i)
		if pi == nil {
			continue
		}
		if i == 0 {
			d.ids(beforeReferences(pi.lines), confConfident)
		} else {
			// Later pages cite other papers; only their running heads,
			// footers and margin stamps speak about this one.
			d.ids(pageText(furniture(pi)), confLikely)
		}
		if i == 0 {
			first = pi
		}
	}
	if err := d.ctx.Err(); err != nil {
		d.problem("extraction cancelled: %v", err)
	}
	d.step("metadata", func() { d.metadata(first) })
	return first != nil
}

// ids records identifiers found in text unless better ones are known.
func (d *doc) ids(text string, conf float64) {
	doi, arxiv, v := Identifiers(text)
	res := d.res
	if doi != "" && res.Confidence["doi"] < conf {
		res.DOI = doi
		res.Confidence["doi"] = conf
	}
	if arxiv != "" && res.Confidence["arxiv"] < conf {
		res.ArXiv, res.ArXivVersion = arxiv, v
		res.Confidence["arxiv"] = conf
	}
}

func (d *doc) readInfo() {
	tr := d.r.Trailer()
	in := tr.Key("Info")
	d.info.title = cleanInfo(in.Key("Title").Text())
	d.info.author = cleanInfo(in.Key("Author").Text())
	d.info.subject = cleanInfo(in.Key("Subject").Text())
	d.info.keywords = cleanInfo(in.Key("Keywords").Text())
	d.info.created = pdfDateYear(in.Key("CreationDate").Text())
	if d.info.created == 0 {
		d.info.created = pdfDateYear(in.Key("ModDate").Text())
	}
	if md := tr.Key("Root").Key("Metadata"); md.Kind() == pdf.Stream {
		d.info.xmp = string(readStream(md, 1<<20))
		if d.info.title == "" {
			d.info.title = cleanInfo(xmpField(d.info.xmp, "dc:title"))
		}
	}
}

var xmpTagRe = regexp.MustCompile(`<[^>]*>`)

// xmpField returns the text inside the first <tag>...</tag> of an XMP packet.
func xmpField(xmp, tag string) string {
	i := strings.Index(xmp, "<"+tag)
	if i < 0 {
		return ""
	}
	j := strings.Index(xmp[i:], "</"+tag+">")
	if j < 0 {
		return ""
	}
	s := xmpTagRe.ReplaceAllString(xmp[i:i+j], " ")
	s = strings.NewReplacer("&amp;", "&", "&lt;", "<", "&gt;", ">", "&quot;", `"`, "&apos;", "'").Replace(s)
	return squeeze(s)
}

func cleanInfo(s string) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0xFFFD || r == 0xFEFF {
			return ' '
		}
		return r
	}, s)
	return squeeze(s)
}

var pdfDateRe = regexp.MustCompile(`^(?:D:)?\s*((?:19|20)\d\d)`)

func pdfDateYear(s string) int {
	m := pdfDateRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0
	}
	y, _ := strconv.Atoi(m[1])
	if y < 1980 || y > time.Now().Year()+1 {
		return 0
	}
	return y
}

// findPages returns up to n leaf pages in order. It bounds the walk, since a
// hostile page tree can be cyclic or huge.
func findPages(r *pdf.Reader, n int) []pdf.Value {
	var out []pdf.Value
	visits := 0
	var walk func(v pdf.Value, depth int)
	walk = func(v pdf.Value, depth int) {
		if len(out) >= n || depth > 32 || visits > 2000 {
			return
		}
		visits++
		kids := v.Key("Kids")
		if kids.Kind() != pdf.Array {
			if v.Key("Type").Name() == "Page" || v.Key("Contents").Kind() != pdf.Null {
				out = append(out, v)
			}
			return
		}
		for i := 0; i < kids.Len() && len(out) < n; i++ {
			walk(kids.Index(i), depth+1)
		}
	}
	walk(r.Trailer().Key("Root").Key("Pages"), 0)
	return out
}

// pageInfo is one page's text as lines.
type pageInfo struct {
	lines  []*line // all directions, top to bottom within each
	text   string
	top    float64 // page box
	bottom float64
	left   float64
	right  float64
}

func (d *doc) page(p pdf.Value, num int) *pageInfo {
	if d.fonts == nil {
		d.fonts = fontCache{}
	}
	glyphs, err := pageGlyphs(d.ctx, p, d.fonts, d.file)
	if err != nil {
		d.problem("page %d: %v", num, err)
	}
	pi := &pageInfo{top: 792, right: 612}
	if mb := inherited(p, "MediaBox"); mb.Len() == 4 {
		x0, y0, x1, y1 := mb.Index(0).Float64(), mb.Index(1).Float64(), mb.Index(2).Float64(), mb.Index(3).Float64()
		if x1-x0 > 50 && y1-y0 > 50 {
			pi.left, pi.bottom, pi.right, pi.top = x0, y0, x1, y1
		}
	}
	pi.lines = buildLines(glyphs)
	pi.text = pageText(pi.lines)
	return pi
}

// furniture returns a page's header and footer lines and its sideways text.
func furniture(pi *pageInfo) []*line {
	h := pi.top - pi.bottom
	var out []*line
	for _, l := range pi.lines {
		if l.dir != 0 || l.y > pi.top-0.12*h || l.y < pi.bottom+0.12*h {
			out = append(out, l)
		}
	}
	return out
}

var referencesRe = regexp.MustCompile(`(?i)^(\d+\.?\s*)?(references|bibliography|literature cited)$`)

// beforeReferences is the page's text up to a references heading, whose
// entries carry other papers' identifiers; margin stamps are kept.
func beforeReferences(ls []*line) string {
	var keep []*line
	cut := false
	for _, l := range ls {
		if l.dir == 0 && referencesRe.MatchString(l.text) {
			cut = true
		}
		if !cut || l.dir != 0 {
			keep = append(keep, l)
		}
	}
	return pageText(keep)
}

func panicError(x any) error {
	if e, ok := x.(error); ok {
		return fmt.Errorf("parser panic: %w", e)
	}
	return fmt.Errorf("parser panic: %v", x)
}
