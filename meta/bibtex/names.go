package bibtex

import (
	"strings"

	"github.com/paperfs/paperfs/meta/person"
)

// Name is a person's name in BibTeX's parts (see person.Name).
type Name person.Name

// ParseName splits an author as stored in a paper ("First Last",
// "Last, First", "Last, Jr., First") into its parts.
func ParseName(s string) Name { return Name(person.Parse(s)) }

// Family is the name's family part with particles, as shown in labels.
func (n Name) Family() string { return person.Name(n).Family() }

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
func (n Name) String() string { return person.Name(n).String() }
