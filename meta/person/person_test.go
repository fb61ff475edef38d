package person

import "testing"

// TestFamily is the one test of the family-name rule that file names,
// citation keys, naming patterns and PDF author lines share.
func TestFamily(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Leslie Lamport", "Lamport"},
		{"Lamport, Leslie", "Lamport"},
		{"Robbert van Renesse", "van Renesse"},
		{"van Renesse, Robbert", "van Renesse"},
		{"van der Aalst, Wil", "van der Aalst"},
		{"Ludwig von Mises", "von Mises"},
		{"Charles de la Vallée", "de la Vallée"},
		{"Guy L. Steele Jr.", "Steele"},
		{"Steele Jr.", "Steele"},
		{"Martin Luther King III", "King"},
		{"Abd al Rahman ibn Khaldun", "ibn Khaldun"},
		{"Jean le Rond d'Alembert", "d'Alembert"},
		{"Gabriel García y Márquez", "y Márquez"},
		{"Marie des Rosiers", "des Rosiers"},
		{"Marco Di Pierro", "Pierro"}, // a capitalised "Di" is a given name's part
		{"Plato", "Plato"},
		{"The ATLAS Collaboration", "The ATLAS Collaboration"},
		{"  ", ""},
	} {
		if got := Family(c.in); got != c.want {
			t.Errorf("Family(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestParticleAndSuffix(t *testing.T) {
	for _, w := range []string{"van", "von", "de", "ibn", "des", "y", "al", "el"} {
		if !IsParticle(w) {
			t.Errorf("IsParticle(%q) = false", w)
		}
	}
	for _, w := range []string{"Van", "Di", "Al", "Smith"} {
		if IsParticle(w) {
			t.Errorf("IsParticle(%q) = true", w)
		}
	}
	for _, w := range []string{"Jr.", "jr", "Sr.", "III,", "iv"} {
		if !IsSuffix(w) {
			t.Errorf("IsSuffix(%q) = false", w)
		}
	}
	if IsSuffix("Junior") || IsSuffix("V.") {
		t.Error("IsSuffix takes a given name or an initial")
	}
}
