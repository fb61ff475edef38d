package library

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/person"
)

// DefaultNamePattern names imported PDFs like the mount names papers:
// "Vaswani et al. 2017 - Attention Is All You Need.pdf".
const DefaultNamePattern = "{authors} {year} - {title}"

// NamePlaceholders are the fields a name pattern can use.
var NamePlaceholders = []string{"authors", "author", "year", "title", "venue", "doi", "arxiv", "citekey", "id"}

var placeholderRE = regexp.MustCompile(`\{([a-z]*)\}`)

// maxNameBytes leaves room under the 255-byte limit for " (99).pdf".
const maxNameBytes = meta.MaxNameBytes - len(" (99).pdf")

// maxFileName bounds the path FileName makes, in UTF-16 units: with a
// number to make it unique, ".pdf" and the trash folder, a PDF stays
// within meta.MaxLibraryPath wherever paperfs moves it.
const maxFileName = meta.MaxLibraryPath - len(TrashDir+"/") - len(" (99).pdf")

// CheckNamePattern reports what is wrong with a name pattern: an unknown
// placeholder, an absolute path, a ".." or hidden folder, or no field of the
// paper at all.
func CheckNamePattern(pattern string) error {
	if strings.TrimSpace(pattern) == "" {
		return fmt.Errorf("name pattern is empty")
	}
	if strings.HasPrefix(pattern, "/") {
		return fmt.Errorf("name pattern %q: must be relative to the library folder", pattern)
	}
	for _, m := range placeholderRE.FindAllStringSubmatch(pattern, -1) {
		known := false
		for _, k := range NamePlaceholders {
			known = known || m[1] == k
		}
		if !known {
			return fmt.Errorf("name pattern %q: unknown field {%s}; use {%s}", pattern, m[1], strings.Join(NamePlaceholders, "}, {"))
		}
	}
	if !placeholderRE.MatchString(pattern) {
		return fmt.Errorf("name pattern %q has no field such as {title}; every paper would get the same name", pattern)
	}
	for _, seg := range strings.Split(pattern, "/") {
		if seg == "" || seg == "." || seg == ".." || strings.HasPrefix(seg, ".") {
			return fmt.Errorf("name pattern %q: folder %q is empty, hidden or leaves the folder", pattern, seg)
		}
	}
	return nil
}

// FileName is where a paper's PDF goes in the library folder under a
// checked pattern: a slash-separated relative path without ".pdf". Missing
// fields vanish with the separators around them ("{authors} {year} -
// {title}" of a paper without authors or year is just the title), each
// path part is made a portable name (meta.SanitizeName), an empty folder
// part becomes "unknown", and a path too long for a cloud drive loses
// from its longest parts.
func FileName(pattern string, p *meta.Paper) string {
	if pattern == "" {
		pattern = DefaultNamePattern
	}
	segs := strings.Split(pattern, "/")
	for i, seg := range segs {
		s := placeholderRE.ReplaceAllStringFunc(seg, func(m string) string {
			return "\x00" + field(m[1:len(m)-1], p) + "\x00"
		})
		s = tidy(s)
		last := i == len(segs)-1
		switch {
		case s == "" && last:
			s = p.Title
			if s == "" {
				s = "Untitled"
			}
		case s == "":
			s = "unknown"
		}
		max := meta.MaxNameBytes
		if last {
			max = maxNameBytes
		}
		segs[i] = meta.SanitizeName(s, max)
	}
	return fitPath(segs, maxFileName)
}

// fitPath joins portable path parts, cutting the longest until the path
// is at most budget UTF-16 units long; the parts stay portable.
func fitPath(segs []string, budget int) string {
	for range 1000 { // each round cuts a part; the bound is a safeguard
		total, longest := len(segs)-1, 0
		for i, s := range segs {
			total += meta.UTF16Len(s)
			if meta.UTF16Len(s) > meta.UTF16Len(segs[longest]) {
				longest = i
			}
		}
		if total <= budget {
			break
		}
		s := segs[longest]
		segs[longest] = meta.SanitizeName(s, max(len(s)-(total-budget), 1))
	}
	return path.Join(segs...)
}

// PortablePath is the path a PDF at a library-relative path gets when the
// library folder is made portable (paperfs rename): each part a cloud
// drive would refuse is made portable, the others are kept as they are,
// and a path too long loses from its longest parts, leaving room for a
// number that makes it unique. A portable path is its own PortablePath.
// The extension becomes ".pdf".
func PortablePath(rel string) string {
	if meta.CheckPortablePath(rel) == nil {
		return rel
	}
	segs := strings.Split(rel, "/")
	last := len(segs) - 1
	segs[last] = strings.TrimSuffix(segs[last], path.Ext(segs[last]))
	for i, s := range segs {
		switch {
		case i < last && meta.CheckPortable(s) != nil:
			segs[i] = meta.SanitizeName(s, meta.MaxNameBytes)
		case i == last && (meta.CheckPortable(s+".pdf") != nil || len(s) > maxNameBytes):
			segs[i] = meta.SanitizeName(s, maxNameBytes)
		}
	}
	budget := meta.MaxLibraryPath - len(" (99).pdf")
	if !InTrashDir(rel) {
		budget -= len(TrashDir + "/") // room to move it into the trash
	}
	return fitPath(segs, budget) + ".pdf"
}

// tidy removes the separators left around empty fields (marked by NULs
// on both sides) and the markers.
func tidy(s string) string {
	parts := strings.Split(s, "\x00")
	// parts alternate literal, field, literal, ... (odd indexes are fields).
	var b strings.Builder
	pending := ""
	for i, part := range parts {
		if i%2 == 0 {
			pending += part
			continue
		}
		if part == "" {
			continue // the literal after it joins the pending one
		}
		if b.Len() > 0 {
			b.WriteString(collapse(pending))
		} else {
			b.WriteString(strings.TrimLeft(collapse(pending), " -_,.;:"))
		}
		pending = ""
		b.WriteString(part)
	}
	if b.Len() == 0 {
		return strings.TrimSpace(collapse(pending))
	}
	tail := collapse(pending)
	if strings.TrimRight(tail, " -_,;:") == "" {
		tail = ""
	}
	b.WriteString(tail)
	return strings.TrimSpace(b.String())
}

// collapse turns the separators left between two fields when a field
// vanished ("2017 -  - Title") into one ("2017 - Title"), keeping the
// spaces around it.
func collapse(sep string) string {
	if strings.Count(sep, "-") > 1 {
		sep = sep[:strings.Index(sep, "-")] + sep[strings.LastIndex(sep, "-"):]
	}
	core := strings.Join(strings.Fields(sep), " ")
	if core == "" {
		if sep != "" {
			return " "
		}
		return ""
	}
	if sep[0] == ' ' {
		core = " " + core
	}
	if sep[len(sep)-1] == ' ' {
		core += " "
	}
	return core
}

func field(name string, p *meta.Paper) string {
	switch name {
	case "authors":
		switch len(p.Authors) {
		case 0:
			return ""
		case 1:
			return person.Family(p.Authors[0])
		case 2:
			return person.Family(p.Authors[0]) + " and " + person.Family(p.Authors[1])
		default:
			return person.Family(p.Authors[0]) + " et al."
		}
	case "author":
		if len(p.Authors) == 0 {
			return ""
		}
		return person.Family(p.Authors[0])
	case "year":
		if p.Year == 0 {
			return ""
		}
		return strconv.Itoa(p.Year)
	case "title":
		return strings.ReplaceAll(p.Title, "/", "-")
	case "venue":
		return strings.ReplaceAll(p.Venue, "/", "-")
	case "doi":
		return strings.ReplaceAll(p.DOI, "/", "_")
	case "arxiv":
		return strings.ReplaceAll(p.ArXiv, "/", "_")
	case "citekey":
		return p.CiteKey
	case "id":
		return p.ID
	}
	return ""
}
