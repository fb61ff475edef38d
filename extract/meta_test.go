package extract

import (
	"slices"
	"testing"
)

func TestSplitNames(t *testing.T) {
	tests := map[string][]string{
		"Ada Lovelace":                         {"Ada Lovelace"},
		"Dan Ingalls Ted Kaehler John Maloney": {"Dan Ingalls", "Ted Kaehler", "John Maloney"},
		"Adam M. Stark Mark D. Plumbley":       {"Adam M. Stark", "Mark D. Plumbley"},
		"Rafael Pérez y Pérez":                 {"Rafael Pérez y Pérez"},
		"Maria de la Cruz Ann Lee":             {"Maria de la Cruz", "Ann Lee"},
		"Simon PEYTON JONES":                   {"Simon Peyton Jones"},
		"Ruifang Ge Raymond J. Mooney":         {"Ruifang Ge", "Raymond J. Mooney"},
		"Grace Hopper2*":                       {"Grace Hopper"},
		"Department of Computer Science":       nil,
		"TU Berlin":                            nil,
		"The Story of Squeak":                  nil,
		"a learning semantic parser":           nil,
		"Abstract":                             nil,
		"J. Smith.":                            nil,
		"London EC1V 0HB":                      nil,
		"Sheng Di":                             {"Sheng Di"},
		"Al Demers":                            {"Al Demers"},
		"Lu\u0131\u0301s Rodrigues":            {"Lu\u0131\u0301s Rodrigues"},
		"Christine van Vredendaal":             {"Christine van Vredendaal"},
	}
	for in, want := range tests {
		if got := splitNames(in); !slices.Equal(got, want) {
			t.Errorf("splitNames(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestLooksLikeNames(t *testing.T) {
	for s, want := range map[string]bool{
		"Ann Author ^ , Bob Builder ^ and Cy Coder":   true,
		"Ziv Scully | Adam Chlipala":                  true,
		"OF THE LOGICAL LAWS":                         false,
		"for Artificial Intelligence":                 false,
		"Concepts, Implementations, and Applications": false,
		"London EC1V 0HB":                             false,
		"S E Robertson S Walker":                      true,
	} {
		if got := looksLikeNames(s); got != want {
			t.Errorf("looksLikeNames(%q) = %v, want %v", s, got, want)
		}
	}
}

// TestAffiliationLines: lines of an address under the names are not names.
func TestAffiliationLines(t *testing.T) {
	for _, s := range []string{"Northampton Square", "Department of Information Science", "Ernst-Reuter-Platz 7", "Hauptstraße 5", "1 Main Street", "Universidad Nacional Autónoma de México", "Universidade Nova de Lisboa", "Centro de Instrumentos"} {
		if !affiliationRe.MatchString(s) && looksLikeNames(s) {
			t.Errorf("%q is taken for a line of names", s)
		}
	}
}

func TestGoodInfoTitle(t *testing.T) {
	for s, want := range map[string]bool{
		"Attention Is All You Need":      true,
		"Microsoft Word - paper_v3.docx": false,
		"fpca.dvi":                       false,
		"untitled":                       false,
		"Untitled Document":              false,
		"Common_Ground_Single":           false,
		"data/abortions.tex":             false,
		"Proceedings of the...":          false,
	} {
		if got := goodInfoTitle(s); got != want {
			t.Errorf("goodInfoTitle(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestGlyphNameText(t *testing.T) {
	for name, want := range map[string]string{"68": "D", "12": "fi", "123": "–", "uni00E9": "é", "u1F600": "😀", "a12": "", "200": ""} {
		if got := glyphNameText(name); got != want {
			t.Errorf("glyphNameText(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestTidyTitle(t *testing.T) {
	for in, want := range map[string]string{
		"REPRESENTING GAME DIALOGUE AS EXPRESSIONS IN FIRST-ORDER LOGIC": "Representing Game Dialogue as Expressions in First-order Logic",
		"A Title With a Footnote Mark∗":                                  "A Title With a Footnote Mark",
		"  spaced   out  ":                                               "spaced out",
	} {
		if got := tidyTitle(in); got != want {
			t.Errorf("tidyTitle(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestInitialsAreNotAcronyms(t *testing.T) {
	if got := cleanName("T. V. Lakshman"); got != "T. V. Lakshman" {
		t.Errorf("cleanName(T. V. Lakshman) = %q", got)
	}
	if got := cleanName("UC Davis"); got != "" {
		t.Errorf("cleanName(UC Davis) = %q, want no name", got)
	}
}
