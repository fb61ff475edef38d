package bibtex

import (
	"strings"
	"unicode"
)

// Name is a person's name in BibTeX's parts.
type Name struct {
	First, Von, Last, Jr string
	// Literal is set for names that are not a person's (an organisation,
	// "The ATLAS Collaboration"): printed as is, never reordered.
	Literal string
}

// particles are lower-case name prefixes that belong to the family name.
var particles = map[string]bool{
	"van": true, "von": true, "de": true, "der": true, "den": true, "da": true, "di": true,
	"del": true, "della": true, "du": true, "le": true, "la": true, "dos": true, "das": true,
	"ter": true, "ten": true, "zu": true, "des": true, "dei": true, "y": true, "bin": true, "ibn": true, "al": true,
}

func isSuffix(s string) bool {
	switch strings.TrimRight(strings.ToLower(s), ".,") {
	case "jr", "sr", "ii", "iii", "iv":
		return true
	}
	return false
}

// orgWords mark a name as an organisation's.
var orgWords = []string{"collaboration", "consortium", "team", "group", "project", "committee",
	"university", "institute", "association", "society", "foundation", "inc.", "ltd", "corporation", "council"}

// ParseName splits an author as stored in a paper ("First Last",
// "Last, First", "Last, Jr., First") into its parts.
func ParseName(s string) Name {
	s = strings.Join(strings.Fields(s), " ")
	low := strings.ToLower(s)
	for _, w := range orgWords {
		if strings.Contains(" "+low+" ", " "+w+" ") || strings.HasSuffix(low, " "+w) {
			return Name{Literal: s}
		}
	}
	if strings.Contains(s, ",") {
		parts := strings.Split(s, ",")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		var n Name
		switch {
		case len(parts) >= 3:
			n = Name{Jr: parts[1], First: strings.Join(parts[2:], " ")}
		case isSuffix(parts[1]):
			n = Name{Jr: parts[1]}
		default:
			n = Name{First: parts[1]}
		}
		f := strings.Fields(parts[0])
		i := 0
		for i < len(f)-1 && isVon(f[i]) {
			i++
		}
		n.Von, n.Last = strings.Join(f[:i], " "), strings.Join(f[i:], " ")
		if n.Last == "" {
			return Name{Literal: s}
		}
		return n
	}
	f := strings.Fields(s)
	if len(f) == 0 {
		return Name{}
	}
	if len(f) == 1 {
		return Name{Last: f[0]}
	}
	var n Name
	end := len(f)
	if isSuffix(f[end-1]) && end > 2 {
		n.Jr = strings.TrimRight(f[end-1], ",")
		end--
	}
	// The family name is the last word with any particles before it: "Robbert
	// van Renesse", "Ludwig von Mises".
	j := end - 1
	for j > 1 && isVon(f[j-1]) {
		j--
	}
	n.First = strings.TrimRight(strings.Join(f[:j], " "), ",")
	last := f[j:end]
	k := 0
	for k < len(last)-1 && isVon(last[k]) {
		k++
	}
	n.Von, n.Last = strings.Join(last[:k], " "), strings.Join(last[k:], " ")
	return n
}

func isVon(w string) bool {
	if particles[w] {
		return true
	}
	r := []rune(w)
	return len(r) > 1 && unicode.IsLower(r[0]) && strings.ContainsRune(w, '\'') // d'Alembert
}

// Family is the name's family part with particles, as shown in labels.
func (n Name) Family() string {
	if n.Literal != "" {
		return n.Literal
	}
	return strings.TrimSpace(n.Von + " " + n.Last)
}

// bibtex renders a name as BibTeX reads it unambiguously: "von Last, Jr,
// First", organisations in braces so they are never split or reordered.
func (n Name) bibtex() string {
	if n.Literal != "" {
		return "{" + Escape(n.Literal) + "}"
	}
	last := Escape(n.Last)
	// A multi-word family name ("Lloyd Webber") must stay together; a lower
	// case word would otherwise be taken for a particle.
	if strings.Contains(n.Last, " ") {
		last = "{" + last + "}"
	}
	out := last
	if n.Von != "" {
		out = Escape(n.Von) + " " + out
	}
	if n.Jr != "" {
		out += ", " + Escape(n.Jr)
	}
	if n.First != "" || n.Jr != "" {
		out += ", " + Escape(n.First)
	}
	return out
}

// String is the name as paperfs stores authors: "First von Last, Jr".
func (n Name) String() string {
	if n.Literal != "" {
		return n.Literal
	}
	s := strings.TrimSpace(n.First + " " + n.Von + " " + n.Last)
	s = strings.Join(strings.Fields(s), " ")
	if n.Jr != "" {
		s += " " + n.Jr
	}
	return s
}
