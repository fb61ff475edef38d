package meta

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func TestBaseName(t *testing.T) {
	long := strings.Repeat("é", 1000)
	cases := []struct {
		p    Paper
		want string
	}{
		{Paper{Title: "Time, Clocks, and the Ordering of Events", Authors: []string{"Leslie Lamport"}, Year: 1978},
			"Lamport 1978 - Time, Clocks, and the Ordering of Events"},
		{Paper{Title: "X", Authors: []string{"Lamport, Leslie", "Fischer, M."}}, "Lamport and Fischer - X"},
		{Paper{Title: "X", Authors: []string{"A B", "C D", "E F"}, Year: 2020}, "B et al. 2020 - X"},
		{Paper{Title: "X", Authors: []string{"Guy L. Steele Jr."}}, "Steele - X"},
		{Paper{Title: "X", Authors: []string{"Robbert van Renesse"}}, "van Renesse - X"},
		{Paper{Title: "X", Authors: []string{"Van Jacobson"}}, "Jacobson - X"},
		{Paper{Title: "TCP/IP over ../../etc"}, "TCP-IP over ..-..-etc"},
		{Paper{Title: "..hidden"}, "hidden"},
		{Paper{Title: "a\x00b\nc\td"}, "a b c d"},
		{Paper{Title: ""}, "Untitled"},
		{Paper{Title: "\x01\x02"}, "Untitled"},
		{Paper{Title: "ok\xffbad"}, "ok\uFFFDbad"},
		{Paper{Title: "🦀 Rust"}, "🦀 Rust"},
	}
	for _, c := range cases {
		if got := BaseName(&c.p); got != c.want {
			t.Errorf("BaseName(%q) = %q, want %q", c.p.Title, got, c.want)
		}
	}
	got := BaseName(&Paper{Title: long})
	if len(got) > maxBase || !utf8.ValidString(got) {
		t.Errorf("long title: %d bytes, valid %v", len(got), utf8.ValidString(got))
	}
	if len(WithSuffix(got, strings.Repeat("a", 24))+".json") > MaxNameBytes {
		t.Errorf("suffixed long name exceeds %d bytes", MaxNameBytes)
	}
}

func TestSplitSuffix(t *testing.T) {
	for _, c := range []struct {
		in, base, id string
		ok           bool
	}{
		{"Foo [abc123def456]", "Foo", "abc123def456", true},
		{"Foo [a b]", "Foo [a b]", "", false},
		{"Foo [ABC123]", "Foo [ABC123]", "", false},
		{"Foo", "Foo", "", false},
	} {
		b, id, ok := SplitSuffix(c.in)
		if b != c.base || id != c.id || ok != c.ok {
			t.Errorf("SplitSuffix(%q) = %q %q %v", c.in, b, id, ok)
		}
	}
}

func TestSanitizeNamePortable(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"Did You Notice? A Study", "Did You Notice A Study"},
		{"Time: Clocks, and Order", "Time - Clocks, and Order"},
		{"10:30 *draft*", "10-30 draft"},
		{`The "best" <b>tag</b> a|b a\b`, "The 'best' btag-b a-b a-b"},
		{"CON", "CON_"},
		{"con.tar.gz", "con_.tar.gz"},
		{"Aux. Methods", "Aux_. Methods"},
		{"nul .x", "nul_ .x"},
		{"COM1", "COM1_"},
		{"LPT0", "LPT0_"},
		{"com¹", "com¹_"},
		{"CONSOLE", "CONSOLE"},
		{"desktop.ini", "desktop_.ini"},
		{"~$lock", "$lock"},
		{"a_VTI_b", "a_VTI-b"},
		{"ends with dots...", "ends with dots"},
		{"ends with . ", "ends with"},
		{"-rf now", "rf now"},
		{"- - -x", "x"},
		{"...", "Untitled"},
		{"?*", "Untitled"},
		{"Cafe\u0301", "Café"},
		{"A\u030a", "Å"},
		{"e?\u0301", "é"},
		{"tab\there", "tab here"},
	} {
		got := SanitizeName(c.in, MaxNameBytes)
		if got != c.want {
			t.Errorf("SanitizeName(%q) = %q, want %q", c.in, got, c.want)
		}
		if err := CheckPortable(got + ".pdf"); err != nil {
			t.Errorf("SanitizeName(%q): %v", c.in, err)
		}
	}
}

func TestCheckPortable(t *testing.T) {
	for name, ok := range map[string]bool{
		"Lamport 1978 - Time.pdf": true,
		".paperfs-trash":          true,
		"-x.pdf":                  true, // drives take it; paperfs makes none
		"a:b.pdf":                 false,
		"a?.pdf":                  false,
		"a\x01b":                  false,
		"trailing.":               false,
		"trailing ":               false,
		" leading":                false,
		"CON.pdf":                 false,
		"lpt9":                    false,
		"Cafe\u0301.pdf":          false,
		"Café.pdf":                true,
		strings.Repeat("a", 256):  false,
		strings.Repeat("é", 127):  true,
		strings.Repeat("é", 128):  false,
		"~$temp.docx":             false,
		"":                        false,
		"..":                      false,
	} {
		err := CheckPortable(name)
		if (err == nil) != ok || err != nil && !errors.Is(err, ErrNotPortable) {
			t.Errorf("CheckPortable(%q) = %v", name, err)
		}
	}
	if err := CheckPortablePath(strings.Repeat("folder/", 50) + "x.pdf"); !errors.Is(err, ErrNotPortable) {
		t.Errorf("a %d-character path: %v", 7*50+5, err)
	}
	if err := CheckPortablePath("a/b:c/x.pdf"); !errors.Is(err, ErrNotPortable) {
		t.Errorf("a folder with ':': %v", err)
	}
}

// A title that looks like another paper's suffixed name is not one.
func TestBaseNameNeverSuffixed(t *testing.T) {
	for in, want := range map[string]string{
		"Foo [cc8mgk3jaa2n]": "Foo (cc8mgk3jaa2n)",
		"Foo [CC8MGK3JAA2N]": "Foo (CC8MGK3JAA2N)",
		"Foo [a b]":          "Foo [a b]",
		"Foo [ab]":           "Foo [ab]", // too short for an id
		"[cc8mgk3jaa2n]":     "[cc8mgk3jaa2n]",
	} {
		if got := BaseName(&Paper{Title: in}); got != want {
			t.Errorf("BaseName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNameKey(t *testing.T) {
	for _, c := range [][2]string{{"Foo", "fOO"}, {"Straße", "STRASSE"}, {"\u212Aelvin", "kelvin"}, {"ÉTÉ", "été"}, {"Cafe\u0301", "CAFÉ"}} {
		if NameKey(c[0]) != NameKey(c[1]) {
			t.Errorf("%q and %q differ: %q %q", c[0], c[1], NameKey(c[0]), NameKey(c[1]))
		}
	}
	if NameKey("a") == NameKey("b") || NameKey("Cafe") == NameKey("Café") {
		t.Error("different names have one key")
	}
}

// Tags, folders and authors that differ get different directories: the
// directory name stands for one group only.
func TestGroupNameInjective(t *testing.T) {
	groups := []string{"x\\y", "x-y", ".hidden", "hidden", "A/B", "A-B", ".", "..", "Untitled",
		"a:b", "a-b", "a - b", "CON", "CON_", "Foo [cc8mgk3jaa2n]", "Foo (cc8mgk3jaa2n)", "-x", "x", "x.", "x ", " x"}
	seen := map[string]string{}
	for _, g := range groups {
		n := GroupName(g)
		if prev, ok := seen[n]; ok {
			t.Errorf("%q and %q share the directory %q", prev, g, n)
		}
		seen[n] = g
		if err := CheckPortable(n); err != nil || strings.HasPrefix(n, "-") || strings.HasPrefix(n, ".") {
			t.Errorf("GroupName(%q) = %q: %v", g, n, err)
		}
	}
	for _, clean := range []string{"x-y", "hidden", "A-B", "machine learning", "Lamport, Leslie", "2019"} {
		if GroupName(clean) != clean {
			t.Errorf("GroupName(%q) = %q, want it unchanged", clean, GroupName(clean))
		}
	}
}

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a/b", "\x00", "é", "🦀", strings.Repeat("ü", 300), "\xff\xfe", " . x",
		"CON", "a: b?", "e\u0301", "~$x", "x_vti_y", "- x .", strings.Repeat("\u0958", 90)} {
		f.Add(s, 255)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 8 || max > 255 {
			max = 255
		}
		got := SanitizeName(s, max)
		if strings.HasPrefix(got, ".") || strings.HasPrefix(got, "-") {
			t.Fatalf("bad name %q from %q", got, s)
		}
		if err := CheckPortable(got); err != nil {
			t.Fatalf("from %q: %v", s, err)
		}
		if len(got) > max && got != "Untitled" {
			t.Fatalf("%d bytes > %d", len(got), max)
		}
		if !norm.NFC.IsNormalString(got) || UTF16Len(got) > MaxNameBytes {
			t.Fatalf("%q: not NFC or too long", got)
		}
		if SanitizeName(got, max) != got {
			t.Fatalf("not idempotent: %q -> %q", got, SanitizeName(got, max))
		}
		if g := GroupName(s); g != GroupName(s) || CheckPortable(g) != nil || strings.HasPrefix(g, "-") || strings.HasPrefix(g, ".") {
			t.Fatalf("GroupName(%q) = %q", s, g)
		}
	})
}
