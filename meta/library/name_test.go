package library

import (
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
		{DefaultNamePattern, bare, "A-B testing: why?"},
		{DefaultNamePattern, noYear, "Fox - Harvest, Yield"},
		{"{author} - {year} - {title}", noYear, "Fox - Harvest, Yield"},
		{"{author}_{year}_{title}", full, "Vaswani_2017_Attention Is All You Need"},
		{"{year}/{author} - {title}", full, "2017/Vaswani - Attention Is All You Need"},
		{"{year}/{author} - {title}", bare, "unknown/A-B testing: why?"},
		{"{citekey}", full, "vaswani2017attention"},
		{"{citekey}", bare, "A-B testing: why?"}, // nothing left: the title
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
