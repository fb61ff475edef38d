package meta

import "testing"

func TestCiteKeysUnique(t *testing.T) {
	s := openTest(t, "")
	check := func(want bool) {
		t.Helper()
		got, err := s.CiteKeysUnique()
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Fatalf("CiteKeysUnique = %v, want %v", got, want)
		}
	}
	check(true) // an empty library has nothing to assign
	a := mustCreate(t, s, Paper{Title: "A", CiteKey: "lamport1978time"})
	check(true)
	b := mustCreate(t, s, Paper{Title: "B"})
	check(false) // b has no key
	if _, err := s.Update(b.ID, func(p *Paper) error { p.CiteKey = "Lamport1978Time"; return nil }); err != nil {
		t.Fatal(err)
	}
	check(false) // shared with a, whatever the case
	if _, err := s.Update(b.ID, func(p *Paper) error { p.CiteKey = "lamport1978timeb"; return nil }); err != nil {
		t.Fatal(err)
	}
	check(true)
	if _, err := s.Update(a.ID, func(p *Paper) error { p.CiteKey = ""; return nil }); err != nil {
		t.Fatal(err)
	}
	check(false)
}
