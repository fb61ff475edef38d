package extract

import (
	"net/url"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"unicode"
)

var (
	// doiRe finds a DOI; the suffix may hold almost anything, so trailing
	// punctuation is trimmed afterwards rather than excluded here.
	doiRe = regexp.MustCompile(`(?i)\b10\.\d{4,9}/[^\s"<>]+`)
	// doiBreakRe joins a DOI that a line break split after a separator.
	doiBreakRe = regexp.MustCompile(`(?i)(\b10\.\d{4,9}/(?:\S*[/._-])?)[ \t]*\r?\n[ \t]*([0-9A-Za-z])`)
	// doiPrefixBreakRe joins "10.1145/" split before the slash or after "10.".
	doiPrefixBreakRe = regexp.MustCompile(`(?i)\b(10\.\d{4,9})\s*\n\s*(/)|\b(10\.)\s*\n\s*(\d{4,9}/)`)

	// arxivNewRe matches a modern identifier after an explicit arXiv marker,
	// tolerating a line break or spaces inside the id.
	arxivNewRe = regexp.MustCompile(`(?i)(?:arxiv\s*:?\s*|arxiv\.org/(?:abs|pdf)/)(\d{4})\s*\.\s*(\d{4,5})(?:\s*v\s?(\d{1,3}))?`)
	// arxivOldRe matches pre-2007 identifiers; the archive list keeps it from
	// matching arbitrary "word/1234567" text.
	arxivOldRe = regexp.MustCompile(`\b((?:hep-th|hep-ph|hep-lat|hep-ex|astro-ph|cond-mat|gr-qc|math-ph|nucl-th|nucl-ex|quant-ph|nlin|physics|math|cs|q-bio|q-fin|stat|chao-dyn|solv-int|patt-sol|adap-org|comp-gas|chem-ph|alg-geom|dg-ga|funct-an|q-alg|mtrl-th|supr-con|acc-phys|ao-sci|atom-ph|bayes-an|plasm-ph)(?:\.[A-Z]{2})?)\s*/\s*(\d{7})(?:v(\d{1,3}))?\b`)
	// arxivBareRe matches a bare modern id, only trusted in file names.
	arxivBareRe = regexp.MustCompile(`(?:^|[^0-9.])(\d{4})\.(\d{4,5})(?:v(\d{1,3}))?(?:[^0-9]|$)`)
	// oldIDNameRe restores the slash of an old-style id in a file name
	// ("hep-th9901001.pdf", "hep-th_9901001.pdf").
	oldIDNameRe = regexp.MustCompile(`^([a-z-]+(?:\.[A-Z]{2})?)_?(\d{7})`)
	// doiNameRe finds a DOI in a file name, where "/" is often "_".
	doiNameRe = regexp.MustCompile(`(?i)\b10\.\d{4,9}[_/][^\s]+`)
)

// Identifiers finds a DOI and an arXiv identifier in free text, such as
// extracted page text or an XMP packet. The DOI is lower-cased; the arXiv id
// carries no version, which is returned separately (0 when absent).
func Identifiers(text string) (doi, arxiv string, version int) {
	arxiv, version = firstArXiv(text, false)
	return findDOI(text), arxiv, version
}

func findDOI(text string) string {
	if !strings.Contains(text, "10.") {
		return ""
	}
	text = doiPrefixBreakRe.ReplaceAllString(text, "$1$2$3$4")
	text = doiBreakRe.ReplaceAllString(text, "$1$2")
	for _, m := range doiRe.FindAllString(text, -1) {
		if d := NormalizeDOI(m); d != "" {
			return d
		}
	}
	return ""
}

// NormalizeDOI returns the DOI in canonical form (lower case, no resolver
// prefix, no trailing punctuation), or "" if s does not hold one.
func NormalizeDOI(s string) string {
	s = strings.TrimSpace(s)
	if u, err := url.PathUnescape(s); err == nil {
		s = u
	}
	i := strings.Index(s, "10.")
	if i < 0 {
		return ""
	}
	s = s[i:]
	if j := strings.IndexAny(s, " \t\r\n\"<>"); j >= 0 {
		s = s[:j]
	}
	s = trimDOITail(s)
	slash := strings.IndexByte(s, '/')
	if slash < 0 || slash == len(s)-1 || slash < 7 {
		return ""
	}
	for _, c := range s[3:slash] {
		if c < '0' || c > '9' {
			return ""
		}
	}
	return strings.ToLower(s)
}

// trimDOITail drops sentence punctuation after a DOI, keeping closing
// brackets that are balanced inside it (as in 10.1002/(SICI)1097-...).
func trimDOITail(s string) string {
	for len(s) > 0 {
		c := s[len(s)-1]
		switch c {
		case '.', ',', ';', ':', '\'', '!', '?', '*', '-', '/':
			s = s[:len(s)-1]
			continue
		case ')', ']', '}':
			open := map[byte]byte{')': '(', ']': '[', '}': '{'}[c]
			if strings.Count(s, string(open)) < strings.Count(s, string(c)) {
				s = s[:len(s)-1]
				continue
			}
		}
		if i := strings.LastIndexByte(s, '.'); i > 0 && sentenceWord(s[:i], s[i+1:]) {
			s = s[:i]
			continue
		}
		return s
	}
	return s
}

// wordsAfterDOI are words that begin a sentence or phrase after a DOI and
// never end one ("...10.1145/123.For more", where a line break or the text
// layer lost the space after the full stop). No single letters: Wiley
// DOIs end in ".x".
var wordsAfterDOI = map[string]bool{
	"all": true, "also": true, "an": true, "and": true, "are": true, "as": true, "at": true, "available": true,
	"by": true, "copyright": true, "doi": true, "for": true, "from": true, "html": true, "http": true, "https": true,
	"in": true, "is": true, "it": true, "more": true, "of": true, "on": true, "or": true, "pdf": true,
	"published": true, "received": true, "retrieved": true, "see": true, "that": true, "the": true, "these": true,
	"this": true, "to": true, "was": true, "we": true, "with": true, "www": true, "accessed": true,
}

// sentenceWord reports whether word, after "before." at the end of a DOI,
// is the start of the next sentence rather than part of the DOI: one of
// wordsAfterDOI in any case, or a capitalised word after a DOI that ended
// in a digit (DOI suffixes that end in a word are lower case).
func sentenceWord(before, word string) bool {
	if wordsAfterDOI[strings.ToLower(word)] {
		return true
	}
	if len(word) < 2 || before == "" || !unicode.IsUpper(rune(word[0])) {
		return false
	}
	if last := before[len(before)-1]; last < '0' || last > '9' {
		return false
	}
	for _, c := range word[1:] {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// firstArXiv returns the first arXiv id in text. With bare set, modern ids
// need no "arXiv:" marker (for file names).
func firstArXiv(text string, bare bool) (string, int) {
	type hit struct {
		at      int
		id      string
		version int
	}
	var best *hit
	consider := func(at int, id string, v string) {
		if best != nil && best.at <= at {
			return
		}
		n, _ := strconv.Atoi(v)
		best = &hit{at, id, n}
	}
	var newIDs, oldIDs [][]int
	if containsFold(text, "arxiv") {
		newIDs = arxivNewRe.FindAllStringSubmatchIndex(text, -1)
	}
	if hasOldIDShape(text) {
		oldIDs = arxivOldRe.FindAllStringSubmatchIndex(text, -1)
	}
	for _, m := range newIDs {
		yymm, num := text[m[2]:m[3]], text[m[4]:m[5]]
		v := ""
		if m[6] >= 0 {
			v = text[m[6]:m[7]]
		}
		if validNewArXiv(yymm, num) {
			consider(m[0], yymm+"."+num, v)
			break
		}
	}
	for _, m := range oldIDs {
		v := ""
		if m[6] >= 0 {
			v = text[m[6]:m[7]]
		}
		yymm := text[m[4] : m[4]+4]
		if mm, _ := strconv.Atoi(yymm[2:]); mm >= 1 && mm <= 12 {
			consider(m[0], text[m[2]:m[3]]+"/"+text[m[4]:m[5]], v)
			break
		}
	}
	if bare && best == nil {
		for _, m := range arxivBareRe.FindAllStringSubmatchIndex(text, -1) {
			yymm, num := text[m[2]:m[3]], text[m[4]:m[5]]
			v := ""
			if m[6] >= 0 {
				v = text[m[6]:m[7]]
			}
			if validNewArXiv(yymm, num) {
				consider(m[0], yymm+"."+num, v)
				break
			}
		}
	}
	if best == nil {
		return "", 0
	}
	return best.id, best.version
}

// validNewArXiv checks the YYMM.NNNN(N) scheme: April 2007 onwards, five
// digits from January 2015.
func validNewArXiv(yymm, num string) bool {
	yy, _ := strconv.Atoi(yymm[:2])
	mm, _ := strconv.Atoi(yymm[2:])
	if mm < 1 || mm > 12 || yy < 7 || (yy == 7 && mm < 4) {
		return false
	}
	if yy >= 15 {
		return len(num) == 5
	}
	return len(num) == 4
}

// arxivYear is the submission year encoded in an arXiv id.
func arxivYear(id string) int {
	digits := id
	if i := strings.IndexByte(id, '/'); i >= 0 {
		digits = id[i+1:]
	}
	if len(digits) < 2 {
		return 0
	}
	yy, err := strconv.Atoi(digits[:2])
	if err != nil {
		return 0
	}
	if yy >= 91 {
		return 1900 + yy
	}
	return 2000 + yy
}

// fileNameIDs finds identifiers in a file name, where a bare "1706.03762v5"
// is trusted and DOIs often have "/" replaced by "_".
func fileNameIDs(name string) (doi, arxiv string, version int) {
	base := filepath.Base(name)
	arxiv, version = firstArXiv(base, true)
	if arxiv == "" {
		// Old-style ids lose their slash in file names: hep-th9901001.
		fixed := oldIDNameRe.ReplaceAllString(base, "$1/$2")
		arxiv, version = firstArXiv(fixed, false)
	}
	if m := doiNameRe.FindString(base); m != "" {
		m = strings.TrimSuffix(m, filepath.Ext(m))
		m = strings.Replace(m, "_", "/", 1)
		doi = NormalizeDOI(m)
	}
	return doi, arxiv, version
}

// TitleFromFileName turns a file name into a display title: directory and
// ".pdf" dropped, underscores to spaces, white space collapsed. Identifiers in
// the name are kept, since they are the only description of such a file.
func TitleFromFileName(name string) string {
	base := name
	if i := strings.LastIndexAny(base, `/\`); i >= 0 {
		base = base[i+1:]
	}
	if u, err := url.PathUnescape(base); err == nil {
		base = u
	}
	if ext := filepath.Ext(base); strings.EqualFold(ext, ".pdf") {
		base = base[:len(base)-len(ext)]
	}
	base = strings.ReplaceAll(base, "_", " ")
	base = strings.Join(strings.Fields(base), " ")
	if base == "" {
		return "untitled"
	}
	return base
}

// containsFold reports whether s contains the lower-case ASCII word sub in
// any case, without copying s.
func containsFold(s, sub string) bool {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := 0
		for j < len(sub) && s[i+j]|0x20 == sub[j] {
			j++
		}
		if j == len(sub) {
			return true
		}
	}
	return false
}

// hasOldIDShape is a cheap test for "/" followed by seven digits, which
// every old-style arXiv id has, to spare the regular expression most text.
func hasOldIDShape(s string) bool {
	for i := strings.IndexByte(s, '/'); i >= 0; {
		j := i + 1
		for j < len(s) && (s[j] == ' ' || s[j] == '\n') {
			j++
		}
		n := 0
		for j+n < len(s) && n < 7 && s[j+n] >= '0' && s[j+n] <= '9' {
			n++
		}
		if n == 7 {
			return true
		}
		k := strings.IndexByte(s[i+1:], '/')
		if k < 0 {
			break
		}
		i += 1 + k
	}
	return false
}
