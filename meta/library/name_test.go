package library

import (
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

func TestFileName(t *testing.T) {
	full := meta.Paper{ID: "qz4n1c0w8h2e", Title: "Attention Is All You Need", Authors: []string{"Ashish Vaswani", "Noam Shazeer", "Niki Parmar"},
		Year: 2017, DOI: "10.5555/3295222", ArXiv: "1706.03762", CiteKey: "vaswani2017attention", Venue: "NeurIPS"}
	two := meta.Paper{Title: "Paxos Made Moderately Complex", Authors: []string{"Robbert van Renesse", "Deniz Altinbuken"}, Year: 2015}
	bare := meta.Paper{Title: "A/B testing: why?"}
	noYear := meta.Paper{Title: "Harvest, Yield", Authors: []string{"Armando Fox"}}
	for _, c := range []struct {
		pattern string
		p       meta.Paper
		want    string
	}{
		{"", full, "Vaswani et al. 2017 - Attention Is All You Need"},
		{DefaultNamePattern, two, "van Renesse and Altinbuken 2015 - Paxos Made Moderately Complex"},
		{DefaultNamePattern, bare, "A-B testing - why"},
		{DefaultNamePattern, noYear, "Fox - Harvest, Yield"},
		{"{author} - {year} - {title}", noYear, "Fox - Harvest, Yield"},
		{"{author}_{year}_{title}", full, "Vaswani_2017_Attention Is All You Need"},
		{"{year}/{author} - {title}", full, "2017/Vaswani - Attention Is All You Need"},
		{"{year}/{author} - {title}", bare, "unknown/A-B testing - why"},
		{"{citekey}", full, "vaswani2017attention"},
		{"{citekey}", bare, "A-B testing - why"}, // nothing left: the title
		{"{arxiv} {title} (draft)", full, "1706.03762 Attention Is All You Need (draft)"},
		{"{doi}", full, "10.5555_3295222"},
		{"{venue}/{id}", full, "NeurIPS/qz4n1c0w8h2e"},
	} {
		if got := FileName(c.pattern, &c.p); got != c.want {
			t.Errorf("FileName(%q, %q) = %q, want %q", c.pattern, c.p.Title, got, c.want)
		}
	}
}

func TestCheckNamePattern(t *testing.T) {
	for _, ok := range []string{DefaultNamePattern, "{year}/{title}", "{citekey}", "papers/{author} {year}"} {
		if err := CheckNamePattern(ok); err != nil {
			t.Errorf("%q: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "   ", "/abs/{title}", "../{title}", "a/../{title}", ".hidden/{title}", "{titel}", "fixed name", "{year}//{title}"} {
		if err := CheckNamePattern(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// Issue 17: every name an import writes is one a cloud drive takes, and
// the path fits OneDrive's limit even after a move into the trash.
func TestFileNamePortable(t *testing.T) {
	long := strings.Repeat("Long words in a title ", 30)
	for _, c := range []struct {
		pattern string
		p       meta.Paper
	}{
		{"", meta.Paper{Title: "Did You Notice? Experiences: a study", Authors: []string{"Antons, J.", "B", "C"}, Year: 2013}},
		{"", meta.Paper{Title: long}},
		{"{venue}/{year}/{title}", meta.Paper{Title: long, Venue: long, Year: 2020}},
		{"{venue}/{title}", meta.Paper{Title: "CON", Venue: "AUX: <proc>"}},
		{"{title}", meta.Paper{Title: "-rf ."}},
		{"{title}", meta.Paper{Title: "Cafe\u0301 \"quoted\" *star* a|b"}},
	} {
		got := FileName(c.pattern, &c.p)
		for _, rel := range []string{got + " (99).pdf", TrashDir + "/" + got + " (99).pdf"} {
			if err := meta.CheckPortablePath(rel); err != nil {
				t.Errorf("FileName(%q, %q): %v", c.pattern, c.p.Title, err)
			}
		}
		for _, seg := range strings.Split(got, "/") {
			if strings.HasPrefix(seg, "-") || strings.HasPrefix(seg, ".") {
				t.Errorf("FileName(%q, %q) = %q", c.pattern, c.p.Title, got)
			}
		}
	}
	if got := FileName("", &meta.Paper{Title: "Did You Notice? Experiences: a study", Authors: []string{"Antons, J.", "B", "C"}, Year: 2013}); got != "Antons et al. 2013 - Did You Notice Experiences - a study" {
		t.Errorf("got %q", got)
	}
}

func TestPortablePath(t *testing.T) {
	for in, want := range map[string]string{
		"Antons et al. 2013 - Did You Notice? x.pdf": "Antons et al. 2013 - Did You Notice x.pdf",
		"fine/-draft.PDF":           "fine/-draft.PDF", // a drive takes it: left alone
		"a:b/-draft.pdf":            "a-b/-draft.pdf",
		"CON.pdf":                   "CON_.pdf",
		"x./y .pdf":                 "x/y .pdf", // "y .pdf" is fine
		"Cafe\u0301.pdf":            "Café.pdf",
		TrashDir + "/why?.pdf":      TrashDir + "/why.pdf",
		"notes: 2020/trailing..pdf": "notes - 2020/trailing..pdf",
	} {
		got := PortablePath(in)
		if got != want {
			t.Errorf("PortablePath(%q) = %q, want %q", in, got, want)
		}
		if PortablePath(got) != got {
			t.Errorf("PortablePath(%q) is not its own PortablePath", got)
		}
	}
	deep := strings.Repeat("a folder: deep/", 25) + strings.Repeat("t", 200) + "?.pdf"
	got := PortablePath(deep)
	if err := meta.CheckPortablePath(TrashDir + "/" + strings.TrimSuffix(got, ".pdf") + " (99).pdf"); err != nil {
		t.Errorf("PortablePath of a %d-character path: %v", len(deep), err)
	}
}
