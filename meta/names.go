package meta

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/paperfs/paperfs/meta/person"
	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Portable names. Every name paperfs makes (a paper's name in a view, a
// group's directory, a PDF's name in the library folder) follows one rule,
// so a name is the same in the mount, in the library folder and in a WebDAV
// view, and a cloud drive syncing the library folder to Windows or macOS
// (OneDrive, SharePoint, Dropbox) accepts it:
//
//   - none of \ / : * ? " < > | and no control characters;
//   - no trailing dot or space, and no leading dot, space or '-' (no hidden
//     names, nothing a command line takes for an option);
//   - no name Windows reserves for devices (CON, PRN, AUX, NUL, COM0-9,
//     LPT0-9, in any case, with any extension), none OneDrive refuses
//     (desktop.ini, names starting with "~$" or holding "_vti_");
//   - Unicode in NFC, as macOS and Windows compare names;
//   - at most 255 bytes, so at most 255 UTF-16 units, a component, and a
//     library-relative path within MaxLibraryPath;
//   - names differing only in case are the same name when a unique one is
//     chosen (macOS and Windows folders are case-insensitive): see NameKey.

// MaxNameBytes is the longest file name Linux allows. A name within it is
// within Windows' and macOS's 255 UTF-16 units too: no character takes more
// UTF-16 units than UTF-8 bytes.
const MaxNameBytes = 255

// MaxLibraryPath bounds a library-relative path, in UTF-16 units. OneDrive
// refuses paths longer than 400 characters counted from the drive's root;
// 100 are left for where the library folder sits in the drive. The bound
// is fixed rather than computed from this device's folder so every device
// names a paper alike.
const MaxLibraryPath = 300

// maxBase leaves room in a file name for a collision suffix (" [" + id + "]")
// and the longest extension (".json"), so a name never changes length class
// when a suffix is added.
const maxBase = MaxNameBytes - len(" []") - maxIDLen - len(".json")

// SanitizeName turns arbitrary text into a single portable file-name
// component of at most max bytes (see the rule above): characters Windows
// refuses are replaced ("Title: Subtitle" reads "Title - Subtitle", '"'
// becomes an apostrophe, '?' and '*' go), white space is collapsed,
// invalid UTF-8 becomes U+FFFD and look-alike-making format characters
// are dropped. It never returns an empty string, and
// SanitizeName(SanitizeName(s)) is SanitizeName(s).
func SanitizeName(s string, max int) string {
	max = min(max, MaxNameBytes)
	var b strings.Builder
	space := false
	s = strings.ToValidUTF8(s, "\uFFFD")
	for i, r := range s {
		switch {
		case r == '/' || r == '\\' || r == '|':
			r = '-'
		case r == ':':
			// "Title: Subtitle" -> "Title - Subtitle", "10:30" -> "10-30"
			if next, _ := utf8.DecodeRuneInString(s[i+1:]); unicode.IsSpace(next) {
				space = b.Len() > 0
			}
			r = '-'
		case r == '*' || r == '?' || r == '<' || r == '>':
			continue
		case r == '"':
			r = '\''
		case unicode.IsSpace(r) || unicode.IsControl(r):
			space = b.Len() > 0
			continue
		case !unicode.IsPrint(r) && !unicode.Is(unicode.So, r):
			// format characters (zero-width joiners, bidi overrides) make
			// names that look alike but differ; drop them.
			if r != '\u200d' {
				continue
			}
		}
		if b.Len() == 0 && (r == '.' || r == '-') {
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(r)
	}
	out := norm.NFC.String(b.String())
	for range 8 { // settles in two rounds; the bound is a safeguard
		prev := out
		out = strings.TrimLeft(out, ". -")
		if strings.HasPrefix(out, "~$") {
			out = out[1:]
		}
		out = cutName(out, max)
		out = strings.TrimRight(out, ". ")
		out = fixReserved(out)
		if out == prev {
			break
		}
	}
	if out == "" {
		return "Untitled"
	}
	return out
}

// cutName cuts s, a name in NFC, to at most max bytes on a boundary that
// keeps it in NFC.
func cutName(s string, max int) string {
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	if i := norm.NFC.LastBoundary([]byte(s[:cut+1])); i >= 0 && i <= cut {
		cut = i
	}
	return s[:cut]
}

// reservedStems are the names Windows keeps for devices, with or without an
// extension.
var reservedStems = func() map[string]bool {
	m := map[string]bool{"CON": true, "PRN": true, "AUX": true, "NUL": true}
	for _, d := range []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "¹", "²", "³"} {
		m["COM"+d], m["LPT"+d] = true, true
	}
	return m
}()

// reservedStem reports whether Windows takes name for a device ("nul.txt",
// "Con .pdf") and returns the length of the device part.
func reservedStem(name string) (int, bool) {
	stem, _, _ := strings.Cut(name, ".")
	stem = strings.TrimRight(stem, " ")
	if len(stem) < 3 || len(stem) > len("COM¹") {
		return len(stem), false
	}
	return len(stem), reservedStems[strings.ToUpper(stem)]
}

// fixReserved changes a name Windows or OneDrive refuses into one it takes:
// "CON" -> "CON_", "desktop.ini" -> "desktop_.ini", "a_vti_b" -> "a_vti-b".
func fixReserved(name string) string {
	if n, ok := reservedStem(name); ok {
		return name[:n] + "_" + name[n:]
	}
	if strings.EqualFold(name, "desktop.ini") {
		return "desktop_.ini"
	}
	for {
		i := indexFold(name, "_vti_")
		if i < 0 {
			return name
		}
		name = name[:i+4] + "-" + name[i+5:]
	}
}

// indexFold is strings.Index for an ASCII needle, ignoring ASCII case.
func indexFold(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		j := strings.IndexByte(s[i:], sub[0]) // sub starts with a caseless byte
		if j < 0 || i+j+len(sub) > len(s) {
			return -1
		}
		if i += j; strings.EqualFold(s[i:i+len(sub)], sub) {
			return i
		}
	}
	return -1
}

// ErrNotPortable says a name breaks the portable rule.
var ErrNotPortable = errors.New("not a portable name")

// CheckPortable says why a cloud drive or another system would refuse a
// file-name component, or nil if none would. It checks what a drive
// refuses, not paperfs's own taste: a leading dot or '-' is accepted.
func CheckPortable(name string) error {
	if why := PortableProblem(name); why != "" {
		return fmt.Errorf("%q %s: %w", name, why, ErrNotPortable)
	}
	return nil
}

// PortableProblem is why a cloud drive or another system would refuse a
// file-name component ("holds ':', which Windows, OneDrive and Dropbox
// refuse"), or "" if none would.
func PortableProblem(name string) string {
	why := ""
	ascii, bad := scanName(name) // ASCII, the common case, skips the Unicode checks
	switch n, reserved := reservedStem(name); {
	case name == "" || name == "." || name == "..":
		why = "is not a file name"
	case !ascii && !utf8.ValidString(name):
		why = "is not valid UTF-8"
	case bad >= 0:
		why = fmt.Sprintf("holds %q, which Windows, OneDrive and Dropbox refuse", name[bad:bad+1])
	case !ascii && strings.ContainsFunc(name, unicode.IsControl):
		why = "holds a control character"
	case strings.HasSuffix(name, ".") || strings.HasSuffix(name, " "):
		why = "ends with a dot or a space, which Windows drops"
	case strings.HasPrefix(name, " "):
		why = "starts with a space, which OneDrive refuses"
	case reserved:
		why = fmt.Sprintf("is the Windows device name %s", strings.ToUpper(name[:n]))
	case strings.EqualFold(name, "desktop.ini") || strings.HasPrefix(name, "~$") || indexFold(name, "_vti_") >= 0:
		why = "is a name OneDrive refuses"
	case !ascii && !norm.NFC.IsNormalString(name):
		why = "is not in Unicode NFC; macOS and Windows may show it as another name"
	case len(name) > MaxNameBytes: // UTF-16 units are never more than bytes
		why = fmt.Sprintf("is longer than %d bytes", MaxNameBytes)
	}
	return why
}

// refusedBytes are the characters Windows, OneDrive and Dropbox refuse in
// a name, besides control characters.
var refusedBytes = func() (t [256]bool) {
	for _, c := range []byte(`\/:*?"<>|`) {
		t[c] = true
	}
	return t
}()

// scanName reports whether name is all printable ASCII, and where its
// first refused character is (-1 for none), in one pass.
func scanName(name string) (ascii bool, bad int) {
	ascii, bad = true, -1
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c >= 0x7f {
			ascii = false
		} else if refusedBytes[c] && bad < 0 {
			bad = i
		}
	}
	return ascii, bad
}

// CheckPortablePath checks every component of a slash-separated
// library-relative path, and its length.
func CheckPortablePath(rel string) error {
	for seg := range strings.SplitSeq(rel, "/") {
		if err := CheckPortable(seg); err != nil {
			return err
		}
	}
	if why := PathTooLong(rel); why != "" {
		return fmt.Errorf("%q %s: %w", rel, why, ErrNotPortable)
	}
	return nil
}

// PathTooLong says why a library-relative path is too long for OneDrive,
// or "" if it is not.
func PathTooLong(rel string) string {
	if len(rel) <= MaxLibraryPath {
		return "" // UTF-16 units are never more than bytes
	}
	if n := utf16Len(rel); n > MaxLibraryPath {
		return fmt.Sprintf("is %d characters long, over the %d paperfs keeps to for OneDrive's 400", n, MaxLibraryPath)
	}
	return ""
}

// utf16Len is the length of s in UTF-16 units, as Windows and OneDrive
// count it.
func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// UTF16Len is the length of s in UTF-16 units, as Windows and OneDrive
// count names and paths.
func UTF16Len(s string) int { return utf16Len(s) }

var folder = cases.Fold()

// NameKey is what names are compared by when a unique one is chosen: two
// names with the same key are one name on macOS and Windows, which ignore
// case. Full case folding counts a few more names as equal than they do
// ("ß" and "ss"), which only ever adds a suffix. Names in other
// normal forms than NFC are keyed as their NFC form.
func NameKey(name string) string {
	for i := 0; i < len(name); i++ {
		if name[i] >= utf8.RuneSelf {
			// macOS also takes "é" and "e\u0301" for one name.
			return folder.String(norm.NFC.String(name))
		}
	}
	return strings.ToLower(name)
}

// BaseName is a paper's readable name without extension or collision suffix,
// like "Lamport 1978 - Time, Clocks, and the Ordering of Events". It never
// looks like a name with a collision suffix (see WithSuffix): a title that
// does ("Foo [cc8mgk3jaa2n]") has its brackets made round, so no paper's
// name can be another's suffixed one.
func BaseName(p *Paper) string {
	var b strings.Builder
	switch len(p.Authors) {
	case 0:
	case 1:
		b.WriteString(person.Family(p.Authors[0]))
	case 2:
		b.WriteString(person.Family(p.Authors[0]) + " and " + person.Family(p.Authors[1]))
	default:
		b.WriteString(person.Family(p.Authors[0]) + " et al.")
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
	return unsuffixed(SanitizeName(b.String(), maxBase))
}

// hasSuffix reports whether a name is taken for one with a collision
// suffix, ignoring case as NameKey does.
func hasSuffix(name string) bool {
	_, _, ok := SplitSuffix(NameKey(name))
	return ok
}

// unsuffixed makes a name that looks suffixed ("Foo [abc123]") into one
// that does not ("Foo (abc123)").
func unsuffixed(name string) string {
	if !hasSuffix(name) {
		return name
	}
	i := strings.LastIndex(name, " [")
	if i < 0 || !strings.HasSuffix(name, "]") {
		return name + "_" // unreachable: folding makes ' ', '[' and ']' only of themselves
	}
	return name[:i] + " (" + name[i+2:len(name)-1] + ")"
}

// GroupName is the directory name of a tag, folder, author or year. It is
// injective, so two groups never share a directory: a name that is
// already portable (and does not look suffixed) is its own directory name;
// any other gets its portable form with a hash of the name as a suffix
// ("x\y" -> "x-y [dg1y9g5hxcr3]", ".hidden" -> "hidden [pj1g68abkjf5]"),
// which no portable name has. Groups whose names differ only in case keep
// directories differing only in case.
func GroupName(s string) string {
	if SanitizeName(s, MaxNameBytes) == s && !hasSuffix(s) {
		return s
	}
	return WithSuffix(SanitizeName(s, MaxNameBytes-len(" []")-idLen), nameHash(s))
}

// nameHash is an id-like hash of a name: 60 bits, the same on every device.
func nameHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	b := make([]byte, idLen)
	for i := range b {
		b[i] = idAlphabet[sum[i]&31]
	}
	return string(b)
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
