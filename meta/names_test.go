package meta

import (
	"strings"
	"testing"
	"unicode/utf8"
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

func FuzzSanitizeName(f *testing.F) {
	for _, s := range []string{"", ".", "..", "a/b", "\x00", "é", "🦀", strings.Repeat("ü", 300), "\xff\xfe", " . x"} {
		f.Add(s, 255)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		if max < 8 || max > 255 {
			max = 255
		}
		got := SanitizeName(s, max)
		if got == "" || got == "." || got == ".." || strings.HasPrefix(got, ".") {
			t.Fatalf("bad name %q from %q", got, s)
		}
		if len(got) > max && got != "Untitled" {
			t.Fatalf("%d bytes > %d", len(got), max)
		}
		if !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		for _, r := range got {
			if r == '/' || r == 0 || r < 0x20 || r == 0x7f {
				t.Fatalf("forbidden rune %U in %q", r, got)
			}
		}
		if SanitizeName(got, max) != got {
			t.Fatalf("not idempotent: %q -> %q", got, SanitizeName(got, max))
		}
	})
}
