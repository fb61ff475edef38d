// Package person reads people's names: which words are particles
// ("van", "ibn"), which are generational suffixes ("Jr."), and what a
// name's family part is. It is the one copy of these rules, used for file
// names (meta), citation keys and BibTeX names (meta/bibtex), naming
// patterns (meta/library) and reading author lines from PDFs (extract), so
// a file name and a citation key never disagree on a family name. It
// imports nothing of paperfs: extract, which is pure, can use it.
package person

import (
	"strings"
	"unicode"
)

// particles are lower-case name prefixes that belong to the family name:
// "Robbert van Renesse", "Pérez y Pérez", "Ibn Khaldun" as "ibn Khaldun".
var particles = map[string]bool{
	"van": true, "von": true, "de": true, "der": true, "den": true, "da": true, "di": true,
	"del": true, "della": true, "du": true, "le": true, "la": true, "dos": true, "das": true,
	"ter": true, "ten": true, "zu": true, "des": true, "dei": true, "y": true, "bin": true,
	"ibn": true, "al": true, "el": true,
}

// IsParticle reports whether w, as written, is a name particle. Case
// matters: a capitalised "Di" or "Al" is a given or family name.
func IsParticle(w string) bool { return particles[w] }

// IsSuffix reports whether w is a generational suffix ("Jr.", "III,").
func IsSuffix(w string) bool {
	switch strings.TrimRight(strings.ToLower(w), ".,") {
	case "jr", "sr", "ii", "iii", "iv":
		return true
	}
	return false
}

// isVon is IsParticle, and also takes an elided lower-case prefix
// ("d'Alembert") for one.
func isVon(w string) bool {
	if particles[w] {
		return true
	}
	r := []rune(w)
	return len(r) > 1 && unicode.IsLower(r[0]) && strings.ContainsRune(w, '\'')
}

// Name is a person's name in BibTeX's parts.
type Name struct {
	First, Von, Last, Jr string
	// Literal is set for names that are not a person's (an organisation,
	// "The ATLAS Collaboration"): printed as is, never reordered.
	Literal string
}

// orgWords mark a name as an organisation's.
var orgWords = []string{"collaboration", "consortium", "team", "group", "project", "committee",
	"university", "institute", "association", "society", "foundation", "inc.", "ltd", "corporation", "council"}

// Parse splits an author as stored in a paper ("First Last",
// "Last, First", "Last, Jr., First") into its parts.
func Parse(s string) Name {
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
		case IsSuffix(parts[1]):
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
	// "Guy L. Steele Jr." -> Steele; "Steele Jr." too.
	if IsSuffix(f[end-1]) {
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

// Family is the name's family part with particles ("van Renesse"), as file
// names and labels show it; an organisation's name whole.
func (n Name) Family() string {
	if n.Literal != "" {
		return n.Literal
	}
	return strings.TrimSpace(n.Von + " " + n.Last)
}

// Family is the family name of an author as stored in a paper ("Robbert
// van Renesse", "van Renesse, Robbert", "Guy L. Steele Jr.").
func Family(author string) string { return Parse(author).Family() }

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
