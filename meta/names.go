package meta

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes is the longest file name Linux allows.
const MaxNameBytes = 255

// maxBase leaves room in a file name for a collision suffix (" [" + id + "]")
// and the longest extension (".json"), so a name never changes length class
// when a suffix is added.
const maxBase = MaxNameBytes - len(" []") - maxIDLen - len(".json")

// SanitizeName turns arbitrary text into a single file-name component: valid
// UTF-8, no '/', NUL or control characters, white space collapsed, no leading
// dots (no hidden or "." / ".." names), at most max bytes cut on a rune
// boundary. It never returns an empty string.
func SanitizeName(s string, max int) string {
	var b strings.Builder
	space := false
	for i, r := range s {
		if r == utf8.RuneError {
			if _, size := utf8.DecodeRuneInString(s[i:]); size == 1 {
				r = '\uFFFD'
			}
		}
		switch {
		case r == '/' || r == '\\':
			r = '-'
		case unicode.IsSpace(r) || unicode.IsControl(r) || r == 0:
			space = b.Len() > 0
			continue
		case !unicode.IsPrint(r) && !unicode.Is(unicode.So, r):
			// format characters (zero-width joiners, bidi overrides) make
			// names that look alike but differ; drop them.
			if r != '\u200d' {
				continue
			}
		}
		if b.Len() == 0 && r == '.' {
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := truncate(b.String(), max)
	out = strings.TrimRight(out, " ")
	if out == "" {
		return "Untitled"
	}
	return out
}

// truncate cuts s to at most max bytes without splitting a rune.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// BaseName is a paper's readable name without extension or collision suffix,
// like "Lamport 1978 - Time, Clocks, and the Ordering of Events".
func BaseName(p *Paper) string {
	var b strings.Builder
	switch len(p.Authors) {
	case 0:
	case 1:
		b.WriteString(familyName(p.Authors[0]))
	case 2:
		b.WriteString(familyName(p.Authors[0]) + " and " + familyName(p.Authors[1]))
	default:
		b.WriteString(familyName(p.Authors[0]) + " et al.")
	}
	if p.Year != 0 {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(strconv.Itoa(p.Year))
	}
	title := p.Title
	if title == "" {
		title = "Untitled"
	}
	if b.Len() > 0 {
		b.WriteString(" - ")
	}
	b.WriteString(title)
	return SanitizeName(b.String(), maxBase)
}

// GroupName is the directory name for a tag, folder or author.
func GroupName(s string) string { return SanitizeName(s, MaxNameBytes) }

// familyName guesses the family name of "First Last" or "Last, First".
func familyName(name string) string {
	name = strings.TrimSpace(name)
	if i := strings.IndexByte(name, ','); i > 0 {
		return strings.TrimSpace(name[:i])
	}
	f := strings.Fields(name)
	if len(f) == 0 {
		return ""
	}
	i := len(f) - 1
	// "Guy L. Steele Jr." -> Steele
	if i > 0 && isSuffix(f[i]) {
		i--
	}
	// "Robbert van Renesse" -> van Renesse, "Ludwig von Mises" -> von Mises
	j := i
	for j > 1 && isParticle(f[j-1]) {
		j--
	}
	return strings.TrimRight(strings.Join(f[j:i+1], " "), ",")
}

func isParticle(s string) bool {
	switch s {
	case "van", "von", "de", "der", "den", "da", "di", "del", "della", "du", "le", "la", "dos", "das", "ter", "ten", "zu":
		return true
	}
	return false
}

func isSuffix(s string) bool {
	switch strings.TrimRight(strings.ToLower(s), ".,") {
	case "jr", "sr", "ii", "iii", "iv":
		return true
	}
	return false
}

// WithSuffix is the name a paper takes in a directory where another paper
// already holds its base name.
func WithSuffix(base, id string) string { return base + " [" + id + "]" }

// SplitSuffix undoes WithSuffix.
func SplitSuffix(name string) (base, id string, ok bool) {
	if !strings.HasSuffix(name, "]") {
		return name, "", false
	}
	i := strings.LastIndex(name, " [")
	if i < 0 {
		return name, "", false
	}
	id = name[i+2 : len(name)-1]
	if !validID(id) {
		return name, "", false
	}
	return name[:i], id, true
}
