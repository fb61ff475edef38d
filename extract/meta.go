package extract

import (
	"math"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/paperfs/paperfs/meta/person"
)

var (
	// runningHeadRe marks lines that are page furniture rather than a title.
	runningHeadRe = regexp.MustCompile(`(?i)proceedings|\b(conference|symposium|workshop|journal|transactions|letters|annals|bulletin)\s+(on|of|in)\b|\bconference\b.*\b(19|20)\d\d|\bvol\.|\bvolume\s+\d|\bpp\.|\bpages?\s+\d|\bissn\b|\bisbn\b|\bdoi\b|arxiv|copyright|©|https?:|www\.|preprint|submitted to|accepted|published|received|revised|technical report|tech\. rep|\bdraft\b|to appear|in press|research article|original article|review article|\bno\.\s*\d|licen[cs]e|all rights reserved|permission|running head|downloaded from|\bsession\s+\d|\bpage\s+\d+\s+of\s+\d+`)
	// junkInfoTitleRe matches Info titles that producers fill with file names.
	junkInfoTitleRe = regexp.MustCompile(`(?i)^(microsoft\s+(word|powerpoint)|untitled|title|paper|document|main|slides?|template|presentation|article|manuscript|acrobat|print|doi:|pii:|\d+$)|\.(dvi|tex|docx?|pdf|ps|eps|rtf|indd|qxd|p65|fm|cdr)\b|^\S+\.\w{2,4}$|^[\w-]+_[\w-]+$`)
	// headingStopRe ends the author block and the abstract.
	headingStopRe = regexp.MustCompile(`(?i)^((\d+|i|1\.)\.?\s+)?(introduction|keywords|key words|index terms|categories and subject|general terms|acm reference|ccs concepts|contents|background|motivation)\b`)
	abstractRe    = regexp.MustCompile(`(?i)^a\s?b\s?s\s?t\s?r\s?a\s?c\s?t\b[\s.:—–-]*`)
	affiliationRe = regexp.MustCompile(`(?i)universi|institut|department|dept\.|\blab\b|laborator|school|college|centre|center|centro|\binc\b|corporation|\bcorp\b|research|faculty|academy|\bgmbh\b|\bltd\b|@|https?:|www\.|\bstreet\b|\broad\b|\bavenue\b|\bsquare\b|\bboulevard\b|\bblvd\b|stra(?:ss|ß)e\b|platz\b|\bcampus\b|\bfoundation\b|\bhospital\b|\bgoogle\b|\bmicrosoft\b|\bibm\b|\bfacebook\b|\bamazon\b|\bdivision\b|\bgroup\b|\bcomputer\b|\bscience|\bengineering\b|\bsystems\b|\bcalifornia\b|\busa\b|\bu\.s\.a\b|\buk\b|\bchina\b|\bgermany\b|\bfrance\b|\bjapan\b|\bcanada\b|\bitaly\b|\bemail\b|\be-mail\b|\bcorresponding\b|\bequal contribution\b|\bcontributed\b|\babstract\b|\bfigure\b|\btable\b|\bproceedings\b|\bpress\b|\bdistributed under\b|\bcitations\b|\bpublications\b|\bsee profile\b|\bimpact factor\b|\bp\.\s?o\.\s?box\b|\bnew york\b|\bnew jersey\b|\bsuite\b|\bbuilding\b|\bfloor\b`)
	institutionRe = regexp.MustCompile(`(?i)universi|institut|department|laborator|college|school of`)
	nameSplitRe   = regexp.MustCompile(`\s*(?:,|;|\^|\band\b|\bAND\b|&|·|•|\|)\s*`)
	// copyrightRe allows a short token for a © the font could not
	// encode ("Copyright cfl 1996").
	copyrightRe = regexp.MustCompile(`(?i)(?:©|\(c\)|copyright)\s*(?:\(c\)|©|[^\s\d]{1,3}\s)?\s*((?:19|20)\d\d)\b`)
	// publishedRe wants the date right after the words, not a year
	// anywhere after "the published version".
	publishedRe = regexp.MustCompile(`(?i)\b(?:publication date|date of publication|published(?:\s+online)?(?:\s+on)?)\s*:?\s*(?:\d{1,2}\s+)?(?:[a-z]+\.?\s+)?(?:\d{1,2},?\s+)?((?:19|20)\d\d)\b`)
	accessedRe  = regexp.MustCompile(`(?i)downloaded|accessed|retrieved|printed|generated|uploaded`)
	// dateLineRe is a line that holds only a date, as reports and theses
	// print under the title: "September 1996", "April 7, 2010", "12 May 2003".
	dateLineRe = regexp.MustCompile(`(?i)^(?:(?:revised|updated|last revised|this version|version of|draft of)\s*:?\s*)?(?:(?:\d{1,2}(?:st|nd|rd|th)?\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?,?\s+)?)?((?:19|20)\d\d)\.?$`)
	// dateEndRe is a line that ends in a date: "SMLI TR-94-29 November 1994",
	// "(Communicated at the meeting of May 29. 1948.)".
	dateEndRe = regexp.MustCompile(`(?i)\b(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(?:\d{1,2}(?:st|nd|rd|th)?[.,]?\s+)?((?:19|20)\d\d)[.)\s]*$`)
	// referenceFormatRe heads the citation ACM and VLDB print of the paper.
	referenceFormatRe = regexp.MustCompile(`(?i)reference format:?$`)
	// arxivStampRe is the date in arXiv's margin stamp, "arXiv:1402.3722v2
	// [cs.CL] 12 Mar 2014": the date of the version in hand.
	arxivStampRe      = regexp.MustCompile(`arXiv:\S+\s*\[[^\]]*\]\s*\d{1,2}\s*[A-Z][a-z]{2}\s*((?:19|20)\d\d)`)
	byLineRe          = regexp.MustCompile(`(?i)\bby\b|@|\b(19|20)\d\d\b`)
	yearRe            = regexp.MustCompile(`\b((?:19[4-9]|20[0-4])\d)\b`)
	venueLineRe       = regexp.MustCompile(`(?i)proceedings|conference|journal|transactions|symposium|workshop|\bvol\.|volume|letters|review|to appear|appeared in|presented at`)
	venueNameRe       = regexp.MustCompile(`(?i)proceedings of|conference on|journal of|transactions on|symposium on|workshop on`)
	infoAuthorSplitRe = regexp.MustCompile(`\s*(?:;|,|\band\b|&)\s*`)
	sectionRe         = regexp.MustCompile(`^(1|I)\.?\s+\p{Lu}`)
	monthRe           = regexp.MustCompile(`(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\b`)
)

// coverSheetRe finds the notes a repository or publisher prints on a cover
// page it adds before the paper (DSpace, PURE, USENIX, ResearchGate).
var coverSheetRe = regexp.MustCompile(`(?i)downloaded from\b|link to publication|citation \(apa\)|citable link|terms of use|general rights|this paper is included in the proceedings|open access to the proceedings|made this article openly available|see discussions, stats,? and author profiles|brought to you by|for more information,? please contact|this version is available at|deposited in`)

// textLines are a page's horizontal lines.
func textLines(pi *pageInfo) []*line {
	var lines []*line
	if pi != nil {
		for _, l := range pi.lines {
			if l.dir == 0 && l.n > 0 {
				lines = append(lines, l)
			}
		}
	}
	return lines
}

// metadata fills title, authors, year, venue and abstract from page 1, or
// from page 2 when page 1 is a cover sheet that repeats the paper's title.
func (d *doc) metadata(first *pageInfo) {
	res := d.res
	lines := textLines(first)
	coverTitle := ""
	if first != nil && coverSheetRe.MatchString(first.text) {
		next := d.pageAt(1)
		if t, ok := sameTitle(first, next); ok {
			// The cover's dates and publication lines still count.
			d.year(first, lines)
			first, lines, coverTitle = next, textLines(next), t
		}
	}
	title, tconf, titleStart, titleEnd := d.title(first, lines)
	if coverTitle != "" && len(coverTitle) > len(title) && strings.HasPrefix(normalize(coverTitle), normalize(title)) {
		title = coverTitle // the paper's page broke its title where the block ended
	}
	if title != "" {
		res.Title = title
		res.Confidence["title"] = tconf
	}
	if first == nil {
		d.infoAuthors()
		d.year(nil, nil)
		return
	}
	abstractAt := -1
	for i, l := range lines {
		if abstractRe.MatchString(l.text) {
			abstractAt = i
			break
		}
	}
	if titleEnd >= 0 {
		d.authors(first, lines, titleStart, titleEnd, abstractAt)
	}
	if len(res.Authors) == 0 {
		d.infoAuthors()
	}
	d.year(first, lines)
	d.venue(first, lines)
	d.abstract(lines, abstractAt)
}

// sameTitle says the title blocks of a cover and the next page name one
// work: the words of one hold the other's (a cover's "ELB-trees - Efficient
// Lock-free B+trees" over the paper's "Efficient Lock-free B+trees"). It
// returns the cover's title.
func sameTitle(cover, next *pageInfo) (string, bool) {
	if next == nil {
		return "", false
	}
	ta := pickTitle(cover, titleBlocks(cover, textLines(cover)), textLines(cover))
	tb := pickTitle(next, titleBlocks(next, textLines(next)), textLines(next))
	if ta == nil || tb == nil {
		return "", false
	}
	na, nb := normalize(ta.text), normalize(tb.text)
	if len(na) < 8 || len(nb) < 8 {
		return "", false
	}
	ok := strings.Contains(na, nb) || strings.Contains(nb, na) || Similarity(na, nb) >= 0.8
	return tidyTitle(ta.text), ok
}

// titleBlock is a group of lines set in one size, each close under the last.
type titleBlock struct {
	first, last int // indexes into lines
	n           int // lines in the block
	closed      bool
	size        float64
	text        string
}

// title picks the largest-font block in the upper part of page 1, skipping
// running heads, and cross-checks it with the Info title. titleEnd is the
// index of the block's last line, -1 if none was taken from the page.
func (d *doc) title(pi *pageInfo, lines []*line) (title string, conf float64, titleStart, titleEnd int) {
	infoTitle := d.info.title
	if !goodInfoTitle(infoTitle) {
		infoTitle = ""
	}
	var blocks []titleBlock
	if pi != nil {
		blocks = titleBlocks(pi, lines)
	}
	best := pickTitle(pi, blocks, lines)
	if best == nil {
		if infoTitle != "" {
			return infoTitle, confLikely, -1, -1
		}
		return "", 0, -1, -1
	}
	t := tidyTitle(best.text)
	if sub, at := subtitle(pi, lines, best); sub != "" {
		if !strings.HasSuffix(t, ":") && !strings.HasSuffix(t, "?") {
			t += ":"
		}
		t += " " + tidyTitle(sub)
		best.last = at
	}
	if infoTitle == "" {
		if garbled(best.text) {
			d.problem("page 1: the title's font has no usable text encoding")
			return "", 0, best.first, best.last
		}
		return t, confLikely, best.first, best.last
	}
	sim := Similarity(normalize(t), normalize(infoTitle))
	switch {
	case sim >= 0.8:
		return t, confConfident, best.first, best.last
	case strings.Contains(normalize(infoTitle), normalize(t)) && len(t) >= 12:
		// The page split the title and only part of it was the largest.
		return infoTitle, confConfident, best.first, best.last
	case garbled(best.text):
		return infoTitle, confLikely, best.first, best.last
	}
	// Disagreement: if another block matches the Info title, the page's
	// largest text was something else (a logo, a journal name).
	for i := range blocks {
		b := &blocks[i]
		if Similarity(normalize(tidyTitle(b.text)), normalize(infoTitle)) >= 0.8 {
			return tidyTitle(b.text), confConfident, b.first, b.last
		}
	}
	return t, confDisputed, best.first, best.last
}

// subtitle returns the line right under the title block when it is set
// smaller than the title but clearly larger than the body text, and is not
// a list of names: "Back to the Future" over "The Story of Squeak, ...".
func subtitle(pi *pageInfo, lines []*line, b *titleBlock) (string, int) {
	last := lines[b.last]
	body := bodySize(lines)
	for i := b.last + 1; i < len(lines); i++ {
		l := lines[i]
		gap := last.y - l.y
		if gap <= 0.2*b.size {
			continue // same baseline: another column or a margin note
		}
		if gap > 2.2*b.size {
			return "", 0
		}
		if !overlaps(last, l) {
			continue
		}
		if l.bold != lines[b.first].bold || l.size >= b.size*0.92 || l.size < b.size*0.6 || l.size < body*1.15 ||
			looksLikeNames(l.marked) || affiliationRe.MatchString(l.text) || runningHeadRe.MatchString(l.text) ||
			letters(l.text) < 8 || isParenthetical(l.text) || byLineRe.MatchString(l.text) {
			return "", 0
		}
		return l.text, i
	}
	return "", 0
}

// bodySize is the size most of the page's characters are set in.
func bodySize(lines []*line) float64 {
	count := map[float64]int{}
	for _, l := range lines {
		count[math.Round(l.size*2)/2] += len(l.text)
	}
	return modeSize(count, 10)
}

// pickTitle takes the block set in the largest size. Among blocks of about
// that size (typewritten papers set everything alike) it prefers bold, then
// centered, then the first.
func pickTitle(pi *pageInfo, blocks []titleBlock, lines []*line) *titleBlock {
	maxSize := 0.0
	for _, b := range blocks {
		maxSize = max(maxSize, b.size)
	}
	var best *titleBlock
	bestScore := -1
	for i := range blocks {
		b := &blocks[i]
		if b.size < maxSize*0.98 {
			continue
		}
		score := 0
		if lines[b.first].bold {
			score += 2
		}
		if isUpperText(b.text) {
			score += 2
		}
		if institutionRe.MatchString(b.text) {
			score -= 2
		}
		if len(b.text)/b.n > 70 {
			score-- // body text, not a title
		}
		center := (lines[b.first].x0 + lines[b.first].x1) / 2
		if abs(center-(pi.left+pi.right)/2) < 0.1*(pi.right-pi.left) {
			score++
		}
		if score > bestScore {
			best, bestScore = b, score
		}
	}
	return best
}

// titleBlocks groups the upper page's lines into candidate title blocks:
// lines of one size, each close below the previous one and overlapping it.
// Lines of other sizes may sit between them (a logo, a margin note, the
// other column), so several blocks are grown at once.
func titleBlocks(pi *pageInfo, lines []*line) []titleBlock {
	height := pi.top - pi.bottom
	limit := pi.bottom + 0.4*height
	var open []*titleBlock
	var blocks []titleBlock
	for i, l := range lines {
		if l.y < limit {
			break
		}
		if l.y > pi.top+5 || letters(l.text) < 2 {
			continue
		}
		joined := false
		for _, b := range open {
			p := lines[b.last]
			gap := p.y - l.y
			if abs(l.size-b.size) > 0.08*b.size || gap > 2.2*b.size || gap < -0.2*b.size {
				continue
			}
			if gap > 0.2*b.size && !overlaps(p, l) {
				continue
			}
			if b.closed {
				continue
			}
			if abstractRe.MatchString(l.text) || headingStopRe.MatchString(l.text) ||
				l.font != lines[b.first].font && looksLikeNames(l.marked) || b.n >= 2 && onlyNames(l.marked) {
				if gap > 0.2*b.size && overlaps(p, l) {
					b.closed = true // the names end the title; what follows is not part of it
				}
				continue
			}
			if isParenthetical(l.text) {
				joined = true // "(Thesis format: ...)" under a title is not part of it
				break
			}
			b.last = i
			b.n++
			b.text = joinTitle(b.text, l.text)
			joined = true
			break
		}
		if joined {
			continue
		}
		if runningHeadRe.MatchString(l.text) {
			continue
		}
		open = append(open, &titleBlock{first: i, last: i, n: 1, size: l.size, text: l.text})
	}
	for _, b := range open {
		if okTitle(b.text, b.n) {
			blocks = append(blocks, *b)
		}
	}
	return blocks
}

// isUpperText says s is set in capitals, as many old titles are.
func isUpperText(s string) bool {
	upper, lower := 0, 0
	for _, r := range s {
		if unicode.IsUpper(r) {
			upper++
		} else if unicode.IsLower(r) {
			lower++
		}
	}
	return upper >= 10 && lower*10 < upper
}

// looksLikeNames says every part of a line, split as author lists are, is
// a person's name.
func looksLikeNames(marked string) bool {
	parts, names := 0, 0
	for _, part := range nameSplitRe.Split(marked, -1) {
		if letters(part) == 0 {
			continue
		}
		parts++
		if len(splitNames(part)) > 0 {
			names++
		}
	}
	return names > 0 && names*2 >= parts
}

// onlyNames says every part of a line is a person's name: a title's third
// line in the title's font ("Retrieval and Symbolic Execution") may hold
// a part that reads as one.
func onlyNames(marked string) bool {
	parts := 0
	for _, part := range nameSplitRe.Split(marked, -1) {
		if letters(part) == 0 {
			continue
		}
		parts++
		if len(splitNames(part)) == 0 {
			return false
		}
	}
	return parts > 0
}

func isParenthetical(s string) bool {
	return strings.HasPrefix(s, "(") && strings.HasSuffix(s, ")")
}

func overlaps(a, b *line) bool {
	return a.x0 <= b.x1+a.size && b.x0 <= a.x1+a.size
}

func joinTitle(a, b string) string {
	if strings.HasSuffix(a, "-") {
		return a + b
	}
	return a + " " + b
}

// okTitle rejects blocks that cannot be a title.
func okTitle(s string, nlines int) bool {
	n := letters(s)
	if n < 4 || nlines > 6 || len(s) > 400 {
		return false
	}
	if len(strings.Fields(s)) < 2 && n < 6 {
		return false
	}
	low := strings.ToLower(strings.Trim(s, " .:"))
	switch low {
	case "abstract", "introduction", "contents", "article", "letter", "research", "review", "editorial", "chapter", "paper":
		return false
	}
	return !abstractRe.MatchString(s) || len(s) > 40
}

func goodInfoTitle(s string) bool {
	if letters(s) < 8 || len(strings.Fields(s)) < 2 && len(s) < 15 {
		return false
	}
	s = strings.TrimSpace(s)
	return !junkInfoTitleRe.MatchString(s) && !runningHeadRe.MatchString(s)
}

// garbled says the text came from a font without a usable encoding.
func garbled(s string) bool {
	bad, n := 0, 0
	for _, r := range s {
		if r == ' ' {
			continue
		}
		n++
		if r == 0xFFFD || r < 0x20 || (r >= 0xE000 && r <= 0xF8FF) || strings.ContainsRune("<>=@\\^_{}[]|~#$%", r) {
			bad++
		}
	}
	return n == 0 || bad*5 > n || letters(s)*10 < n*7
}

// tidyTitle trims marks around a title and turns an all-capitals title
// into title case.
func tidyTitle(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == 0xFFFD {
			return -1
		}
		return r
	}, s)
	s = strings.Trim(squeeze(s), " *†‡§¶∗,;")
	s = strings.TrimLeft(s, ":.")
	s = strings.TrimSpace(s)
	if isUpperText(s) {
		s = titleCase(s)
	}
	return s
}

var smallWords = map[string]bool{"a": true, "an": true, "and": true, "as": true, "at": true, "by": true, "for": true, "from": true, "in": true, "of": true, "on": true, "or": true, "the": true, "to": true, "with": true, "via": true, "vs": true}

func titleCase(s string) string {
	words := strings.Fields(strings.ToLower(s))
	for i, w := range words {
		if i > 0 && smallWords[w] {
			continue
		}
		r := []rune(w)
		r[0] = unicode.ToUpper(r[0])
		words[i] = string(r)
	}
	return strings.Join(words, " ")
}

// authors reads names from the lines between the title and the abstract.
func (d *doc) authors(pi *pageInfo, lines []*line, titleStart, titleEnd, abstractAt int) {
	title := lines[titleEnd]
	// Authors sit within the next third of the page; the abstract may share
	// their rows in another column, so its column is skipped, not a stop.
	floor := title.y - 0.35*(pi.top-pi.bottom)
	var abs *line
	if abstractAt > titleEnd {
		abs = lines[abstractAt]
	}
	var names []string
	seen := map[string]bool{}
	nameSize, nameBold, nameItalic := 0.0, false, false
	broken := false // a line other than names came since the last names
	lastY := 0.0    // baseline of the last line of names
	carry := ""     // a given name ending the last line of names
	for i := titleEnd + 1; i < len(lines) && i <= titleEnd+40; i++ {
		l := lines[i]
		if l.y < floor || headingStopRe.MatchString(l.text) || len(l.text) > 200 && len(names) > 0 {
			break
		}
		if abs != nil && l.y <= abs.y+0.3*abs.size && (math.Abs(l.x0-abs.x0) < 2*abs.size || l.x0 < abs.x0 && l.x1 > abs.x1) {
			if len(names) > 0 && abs.x0 < pi.left+0.2*(pi.right-pi.left) {
				break // a full-width or left-column abstract: the author block is over
			}
			continue
		}
		found := false
		if l.size <= title.size*1.02 && !runningHeadRe.MatchString(l.text) &&
			!numberedHeadingRe.MatchString(l.text) && // a heading may sit beside the names in the other column
			// Affiliations and addresses below the names are set smaller;
			// past them, more names are set like the first.
			(nameSize == 0 || math.Abs(l.size-nameSize) <= 0.05*nameSize && (!broken || l.bold == nameBold && italic(l.font) == nameItalic)) {
			ll := l
			if carry != "" && loneWord(firstPart(l.marked)) {
				// "..., Avinash" over "Lakshman, Alex Pilchin, ...": a
				// name broken across the lines.
				joined := *l
				joined.marked, joined.text = carry+" "+l.marked, carry+" "+l.text
				ll = &joined
			}
			// Below the abstract's heading only plain lists of names count.
			for _, n := range lineNames(ll, abs == nil || l.y > abs.y) {
				if seen[n] {
					continue
				}
				seen[n] = true
				names = append(names, n)
				found = true
			}
		}
		carry = ""
		if last := lastPart(l.marked); found && loneWord(last) {
			carry = last
		}
		switch {
		case found && nameSize == 0:
			nameSize, nameBold, nameItalic = l.size, l.bold, italic(l.font)
			lastY = l.y
		case found:
			broken, lastY = false, l.y
		case nameSize > 0 && l.y < lastY-0.3*nameSize && letters(l.text) > 0:
			broken = true
		}
		if len(names) >= 40 {
			break
		}
	}
	if len(names) == 0 {
		names = namesAbove(pi, lines, titleStart)
	}
	if len(names) > 0 {
		d.res.Authors = names
		d.res.Confidence["authors"] = confLikely
		if ia := d.infoAuthorList(); len(ia) > 0 && sameFamilies(ia, names) {
			d.res.Confidence["authors"] = confConfident
		}
	}
}

// italic says a font's name marks it italic or slanted.
func italic(font string) bool {
	f := strings.ToLower(font)
	return strings.Contains(f, "italic") || strings.Contains(f, "oblique") || strings.HasPrefix(f, "cmti") ||
		strings.HasPrefix(f, "cmsl") || strings.HasSuffix(f, "-it") || strings.HasSuffix(f, "-ital")
}

// memberGradeRe matches the membership grades IEEE papers print after each
// name ("Murali Kodialam, Associate Member, IEEE,"), which are no names.
var memberGradeRe = regexp.MustCompile(`(?i),?\s*\b(?:(?:life|senior|associate|student)\s+)?(?:member|fellow)\s*,?\s*(?:ieee|acm|siam)\b`)

// firstPart and lastPart are the first and last pieces of a line split as
// author lists are.
func firstPart(marked string) string {
	return strings.TrimSpace(nameSplitRe.Split(marked, 2)[0])
}

func lastPart(marked string) string {
	parts := nameSplitRe.Split(marked, -1)
	return strings.TrimSpace(parts[len(parts)-1])
}

// loneWord says s is one capitalised word, half of a name.
func loneWord(s string) bool {
	r := []rune(s)
	if len(r) < 2 || !unicode.IsUpper(r[0]) || titleWords[strings.ToLower(s)] {
		return false
	}
	for _, c := range r {
		if !unicode.IsLetter(c) && c != '-' {
			return false
		}
	}
	return true
}

// namesAbove reads the names some papers set over the title, in the few
// lines right above it.
func namesAbove(pi *pageInfo, lines []*line, titleStart int) []string {
	first := lines[titleStart]
	seen := 0
	for i := titleStart - 1; i >= 0 && seen < 4; i-- {
		l := lines[i]
		if !overlaps(l, first) || l.y <= first.y {
			continue // the other column
		}
		if l.y-first.y > 0.15*(pi.top-pi.bottom) {
			break
		}
		seen++
		if runningHeadRe.MatchString(l.text) {
			continue
		}
		if names := lineNames(l, false); len(names) > 0 {
			return names
		}
	}
	return nil
}

// lineNames reads the names on a line of the author block, or none if it
// is not one; withAffiliations also reads names followed by affiliations.
func lineNames(l *line, withAffiliations bool) []string {
	marked := memberGradeRe.ReplaceAllString(l.marked, ",")
	text := memberGradeRe.ReplaceAllString(l.text, ",")
	if spaced := strings.Split(marked, " | "); len(spaced) >= 2 && !slices.ContainsFunc(spaced, func(w string) bool { return strings.Contains(strings.TrimSpace(w), " ") }) {
		// Letter-spaced capitals ("CYNTHIA  DWORK  AND  NANCY  LYNCH")
		// leave a wide gap after every word, not only between names.
		marked = strings.Join(spaced, " ")
	}
	if !affiliationRe.MatchString(text) && looksLikeNames(marked) {
		var out []string
		for _, part := range nameSplitRe.Split(marked, -1) {
			out = append(out, splitNames(part)...)
		}
		return out
	}
	if !withAffiliations {
		return nil
	}
	return namesBeforeAffiliations(marked)
}

// namesBeforeAffiliations reads lines where each name, or group of names
// joined by "and", is followed by its affiliation: "Mike Burrows, Google
// Inc." or "Qi Chen, Peking University; Zhaoguo Wang and Russell Power, New
// York University;".
func namesBeforeAffiliations(marked string) []string {
	var out []string
	segs := strings.Split(marked, ";")
	for i, seg := range segs {
		head, tail, ok := strings.Cut(seg, ",")
		tail = strings.TrimSpace(tail)
		// The last group's affiliation may follow on the next line.
		last := !ok && i == len(segs)-1 && len(out) > 0
		if !last && (!ok || !affiliationRe.MatchString(tail) || usStateRe.MatchString(tail)) || affiliationRe.MatchString(head) {
			continue
		}
		var names []string
		for _, part := range nameSplitRe.Split(head, -1) {
			if letters(part) == 0 {
				continue
			}
			n := splitNames(part)
			if len(n) == 0 {
				names = nil
				break
			}
			names = append(names, n...)
		}
		out = append(out, names...)
	}
	return out
}

// numberedHeadingRe matches a section heading: "2. Related Work", "3.1 Model".
var numberedHeadingRe = regexp.MustCompile(`^\d{1,2}(?:\.\d{1,2})*\.?\s+\p{Lu}`)

// usStateRe matches an address's "CA" or "NY 10001" after a city.
var usStateRe = regexp.MustCompile(`^[A-Z]{2}\b`)

// splitNames reads one or more names from a part of an author line. Names
// set side by side with no separator ("Dan Ingalls Ted Kaehler") are split
// as given name, initials, particles, family name.
func splitNames(part string) []string {
	if postcodeRe.MatchString(part) {
		return nil // "London EC1V 0HB": a footnote marker follows a name, a letter never follows a digit in one
	}
	words := strings.Fields(nameNoiseRe.ReplaceAllString(part, " "))
	if len(words) < 4 {
		if n := cleanName(part); n != "" {
			return []string{n}
		}
		return nil
	}
	var out []string
	for i := 0; i < len(words); {
		j := i + 1
		for j < len(words) && isInitial(words[j]) {
			j++
		}
		for j < len(words) && person.IsParticle(strings.ToLower(words[j])) {
			j++
		}
		if j >= len(words) {
			return wholeName(part)
		}
		j++ // the family name
		for j+1 < len(words) && person.IsParticle(strings.ToLower(words[j])) {
			j += 2 // "Pérez y Pérez"
		}
		n := cleanName(strings.Join(words[i:j], " "))
		if n == "" {
			return wholeName(part)
		}
		out = append(out, n)
		i = j
	}
	return out
}

func wholeName(part string) []string {
	if n := cleanName(part); n != "" {
		return []string{n}
	}
	return nil
}

func isInitial(w string) bool {
	r := []rune(w)
	return len(r) >= 2 && len(r) <= 4 && unicode.IsUpper(r[0]) && strings.HasSuffix(w, ".")
}

// titleWords occur in titles and headings but not in names.
var titleWords = map[string]bool{"the": true, "of": true, "and": true, "for": true, "in": true, "on": true, "with": true, "to": true, "a": true, "an": true, "from": true, "by": true, "via": true, "using": true, "towards": true, "at": true, "is": true, "are": true, "how": true, "what": true, "why": true, "abstract": true, "introduction": true, "university": true, "institute": true}

// postcodeRe finds a digit followed by a letter, as in a postcode's
// "EC1V 0HB" or "D-10623": the digits are not footnote markers then.
var postcodeRe = regexp.MustCompile(`\d\p{L}`)

var nameNoiseRe = regexp.MustCompile(`[\d_*†‡§¶∗⋆♯♮♭#⊥♣♦♥♠◦○•∘⋄◇✝✉]+`)

// cleanName returns a person's name in "First Last" order, or "" if part
// does not look like one.
func cleanName(part string) string {
	if postcodeRe.MatchString(part) {
		return ""
	}
	s := nameNoiseRe.ReplaceAllString(part, " ")
	s = squeeze(s)
	if strings.HasSuffix(s, ".") && !isInitial(s[strings.LastIndex(s, " ")+1:]) {
		return "" // "J. Smith.": a sentence or a reference, not an author line
	}
	s = strings.Trim(s, " .,:;()[]{}'\"")
	if s == "" {
		return ""
	}
	// "Last, First" never reaches here (commas split), but "by Name" does.
	s = strings.TrimPrefix(s, "by ")
	s = strings.TrimPrefix(s, "By ")
	words := strings.Fields(s)
	if len(words) < 2 || len(words) > 5 {
		return ""
	}
	if r := []rune(words[0]); len(r) == 2 && r[1] != '.' && strings.ToUpper(words[0]) == words[0] {
		return "" // "TU Berlin", "UC Davis": an acronym, not a given name
	}
	caps := 0
	for _, w := range words {
		r := []rune(w)
		switch {
		case titleWords[strings.ToLower(w)]:
			return ""
		case person.IsParticle(w): // "van", "de"; a capitalised "Di" or "Al" is a name
		case unicode.IsUpper(r[0]):
			caps++
			for _, c := range r {
				if !unicode.IsLetter(c) && !unicode.IsMark(c) && c != '.' && c != '-' && c != '\'' && c != '’' {
					return ""
				}
			}
		default:
			return ""
		}
	}
	if caps < 2 {
		return ""
	}
	last := []rune(words[len(words)-1])
	if len(last) < 2 || strings.HasSuffix(words[len(words)-1], ".") {
		return ""
	}
	for i, w := range words {
		if len([]rune(w)) > 2 && strings.ToUpper(w) == w && strings.ToLower(w) != w && !strings.HasSuffix(w, ".") {
			words[i] = titleCase(w)
		}
	}
	return strings.Join(words, " ")
}

func (d *doc) infoAuthorList() []string {
	a := d.info.author
	if a == "" || junkInfoTitleRe.MatchString(a) {
		return nil
	}
	var out []string
	for _, p := range infoAuthorSplitRe.Split(a, -1) {
		if n := cleanName(p); n != "" {
			out = append(out, n)
		}
	}
	return out
}

func (d *doc) infoAuthors() {
	if names := d.infoAuthorList(); len(names) > 0 {
		d.res.Authors = names
		d.res.Confidence["authors"] = confWeak
	}
}

func family(name string) string { return strings.ToLower(person.Family(name)) }

func sameFamilies(a, b []string) bool {
	set := map[string]bool{}
	for _, n := range a {
		set[family(n)] = true
	}
	hit := 0
	for _, n := range b {
		if set[family(n)] {
			hit++
		}
	}
	return hit*2 >= len(b)
}

// year prefers a copyright line, then a publication date, then a line
// holding only a date in the upper page, then a venue line or date at the
// page's top or bottom or in its footnotes, then arXiv's stamp and id, then
// the file's creation date.
func (d *doc) year(pi *pageInfo, lines []*line) {
	res := d.res
	maxYear := time.Now().Year() + 1
	set := func(y int, c float64) bool {
		if y < 1900 || y > maxYear || res.Confidence["year"] >= c {
			return false
		}
		res.Year = y
		res.Confidence["year"] = c
		return true
	}
	if pi != nil {
		pageYear(pi, lines, set)
		for _, l := range pi.lines {
			if m := arxivStampRe.FindStringSubmatch(l.text); m != nil {
				y, _ := strconv.Atoi(m[1])
				set(y, confLikely) // after venue lines, before the id's year
				break
			}
		}
	}
	if res.ArXiv != "" {
		set(arxivYear(res.ArXiv), confLikely)
	}
	// The first three pages may print it where page 1 does not: a copyright
	// or venue line in a footer. Only their edges count; their body cites.
	for i := 1; i < idPages && pi != nil && res.Confidence["year"] < confLikely; i++ {
		if next := d.pageAt(i); next != nil && next != pi {
			edge := edgeLines(next, textLines(next))
			pageYear(&pageInfo{lines: edge, text: pageText(edge), top: next.top, bottom: next.bottom}, edge, func(y int, c float64) bool {
				return set(y, c-0.1)
			})
		}
	}
	if d.info.created != 0 {
		set(d.info.created, confFallback)
	}
}

// pageYear offers the years printed on one page to set, with confidences.
func pageYear(pi *pageInfo, lines []*line, set func(y int, conf float64) bool) {
	if m := copyrightRe.FindStringSubmatch(pi.text); m != nil {
		y, _ := strconv.Atoi(m[1])
		set(y, confConfident)
	}
	// ACM's and VLDB's "Reference Format:" cites the paper itself.
	for i, l := range lines {
		if !referenceFormatRe.MatchString(l.text) {
			continue
		}
		for _, next := range lines[i+1 : min(i+5, len(lines))] {
			if m := yearRe.FindStringSubmatch(next.text); m != nil && overlaps(l, next) {
				y, _ := strconv.Atoi(m[1])
				set(y, 0.85)
				break
			}
		}
		break
	}
	if m := publishedRe.FindStringSubmatch(pi.text); m != nil {
		y, _ := strconv.Atoi(m[1])
		set(y, 0.8)
	}
	// Of several date lines ("31 October 1984", "revised: 24 February
	// 2012") the latest dates the version in hand. A year alone on a line
	// counts where a title page centres it; a line ending in a date
	// ("SMLI TR-94-29 November 1994") above the abstract or first heading.
	h := pi.top - pi.bottom
	floor := pi.bottom + h/2
	for _, l := range lines {
		if abstractRe.MatchString(l.text) || headingStopRe.MatchString(l.text) {
			floor = l.y
			break
		}
	}
	latest := 0
	for _, l := range lines {
		m := dateLineRe.FindStringSubmatch(l.text)
		switch {
		case m != nil && letters(l.text) > 0 && l.y > pi.bottom+h/4:
		case m != nil && letters(l.text) == 0 && abs((l.x0+l.x1)/2-(pi.left+pi.right)/2) < 0.05*(pi.right-pi.left):
		default:
			m = nil
			if l.y > floor && len(l.text) < 100 && !accessedRe.MatchString(l.text) {
				m = dateEndRe.FindStringSubmatch(l.text)
			}
		}
		if m != nil {
			y, _ := strconv.Atoi(m[1])
			latest = max(latest, y)
		}
	}
	if latest > 0 {
		set(latest, 0.8)
	}
	edge := edgeLines(pi, lines)
	for i, l := range edge {
		// A date in a footnote is as likely the date of a visit or a grant.
		dated := monthRe.MatchString(l.text) && (l.y > pi.top-h/8 || l.y < pi.bottom+h/8)
		if !venueLineRe.MatchString(l.text) && !dated || accessedRe.MatchString(l.text) {
			continue
		}
		t := l.text
		for j := i + 1; j < len(edge) && j <= i+3 && !yearRe.MatchString(t); j++ {
			if below(l, edge[j]) {
				// "Proceedings of the 20th VLDB Conference" over "Santiago, Chile, 1994"
				t += " " + edge[j].text
				break
			}
		}
		if m := yearRe.FindStringSubmatch(t); m != nil {
			y, _ := strconv.Atoi(m[1])
			if set(y, confLikely) {
				break
			}
		}
	}
}

// below says b is the line right under a, in the same column.
func below(a, b *line) bool {
	gap := a.y - b.y
	return gap > 0 && gap < 1.8*a.size && overlaps(a, b)
}

// edgeLines are the lines in the top and bottom eighth of the page, where
// running heads and footers name the venue and date, and the footnotes of
// the lower half, set smaller than the body, where a first page's
// permission block does.
func edgeLines(pi *pageInfo, lines []*line) []*line {
	h := pi.top - pi.bottom
	body := bodySize(lines)
	var out []*line
	for _, l := range lines {
		if l.y > pi.top-h/8 || l.y < pi.bottom+h/8 || l.y < pi.bottom+h/2 && l.size < 0.95*body {
			out = append(out, l)
		}
	}
	return out
}

func (d *doc) venue(pi *pageInfo, lines []*line) {
	for _, l := range edgeLines(pi, lines) {
		if len(l.text) < 200 && venueNameRe.MatchString(l.text) {
			d.res.Venue = strings.Trim(l.text, " ,.")
			return
		}
	}
}

// abstract collects the paragraph after an "Abstract" heading, in drawing
// order, which follows the column.
func (d *doc) abstract(lines []*line, at int) {
	if at < 0 {
		return
	}
	head := lines[at]
	var rest []*line
	for _, l := range lines {
		if l.seq > head.seq {
			rest = append(rest, l)
		}
	}
	sort.Slice(rest, func(i, j int) bool { return rest[i].seq < rest[j].seq })
	var b strings.Builder
	b.WriteString(abstractRe.ReplaceAllString(head.text, ""))
	size := 0.0
	for _, l := range rest {
		if headingStopRe.MatchString(l.text) || b.Len() > 4000 ||
			len(l.text) < 60 && (sectionRe.MatchString(l.text) || l.bold && !head.bold && b.Len() > 100) {
			break
		}
		if size == 0 {
			size = l.size
		} else if abs(l.size-size) > 0.2*size {
			break
		}
		s := b.String()
		if strings.HasSuffix(s, "-") {
			b.Reset()
			b.WriteString(strings.TrimSuffix(s, "-"))
		} else if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(l.text)
	}
	if a := squeeze(strings.ReplaceAll(b.String(), "\ufffd", "")); letters(a) > 40 {
		d.res.Abstract = a
		d.res.Confidence["abstract"] = confLikely
	}
}

// normalize lower-cases s and keeps letters and digits separated by single
// spaces, the form in which titles are compared.
func normalize(s string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		} else {
			space = true
		}
	}
	return b.String()
}

// Similarity is 1 - edit distance / longer length, over runes.
func Similarity(a, b string) float64 { return SimilarityRunes([]rune(a), []rune(b)) }

// SimilarityRunes is Similarity of strings already made runes, for callers
// that compare one string with many.
func SimilarityRunes(ra, rb []rune) float64 {
	if len(ra) == 0 && len(rb) == 0 {
		return 1
	}
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return 1 - float64(prev[len(rb)])/float64(max(len(ra), len(rb)))
}
