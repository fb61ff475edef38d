package bibtex

import (
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

func entryText(p *meta.Paper) string {
	e := FromPaper(p)
	return e.Format()
}

// A preprint is cited as the preprint until the user sets "cite":
// "published"; then as its published version, eprint kept.
func TestCitePublishedVersion(t *testing.T) {
	p := meta.Paper{CiteKey: "he2015deep", Title: "Deep Residual Learning for Image Recognition", Authors: []string{"Kaiming He"}, Year: 2015,
		Type: meta.Preprint, ArXiv: "1512.03385",
		Published: &meta.Published{Venue: "CVPR", Year: 2016, DOI: "10.1109/cvpr.2016.90", Type: meta.Conference}}
	pre := entryText(&p)
	if !strings.HasPrefix(pre, "@misc{") || strings.Contains(pre, "CVPR") || !strings.Contains(pre, "2015") {
		t.Fatalf("preprint:\n%s", pre)
	}
	p.Cite = meta.CitePreprint
	if entryText(&p) != pre {
		t.Fatal(`"cite": "preprint" differs from the default`)
	}
	p.Cite = meta.CitePublished
	pub := entryText(&p)
	for _, want := range []string{"@inproceedings{he2015deep,", "booktitle = {CVPR}", "year = {2016}", "doi = {10.1109/cvpr.2016.90}", "eprint = {1512.03385}"} {
		if !strings.Contains(pub, want) {
			t.Errorf("published: no %q in\n%s", want, pub)
		}
	}
	if p.Year != 2015 || p.Type != meta.Preprint {
		t.Fatal("FromPaper changed the paper")
	}
}
