package meta

import (
	"errors"
	"strings"
	"testing"
)

// The lookup fields are stored and synced like the others, a hand edit
// marks its field as the user's, and provenance cannot be edited.
func TestProvenanceAndPublishedVersion(t *testing.T) {
	s := openTest(t, "deva01")
	p := mustCreate(t, s, Paper{Title: "Attention", Authors: []string{"A Vaswani"}, ArXiv: "1706.03762", ArXivVersion: 5,
		Published:  &Published{Venue: "NeurIPS", Year: 2017, Type: Conference},
		Confidence: map[string]float64{"title": 0.9}, Provenance: map[string]string{"title": SourcePDF, "published": SourceArXiv}})
	got, err := s.Get(p.ID)
	if err != nil || got.ArXivVersion != 5 || got.Published == nil || got.Published.Venue != "NeurIPS" || got.Provenance["published"] != SourceArXiv {
		t.Fatalf("stored: %+v %v", got, err)
	}
	// Another device receives them through ops.
	s2 := openTest(t, "devb01")
	ops, err := s.PendingOps(100)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s2.ApplyRemote(ops); err != nil {
		t.Fatal(err)
	}
	if q, err := s2.Get(p.ID); err != nil || q.Published == nil || q.Published.Year != 2017 || q.Provenance["title"] != SourcePDF {
		t.Fatalf("synced: %+v %v", q, err)
	}

	side := string(EncodeSidecar(&got))
	edited := strings.Replace(side, `"title": "Attention"`, `"title": "Attention Is All You Need"`, 1)
	edited = strings.Replace(edited, `"arxiv_version": 5,`, `"arxiv_version": 5, "cite": "published",`, 1)
	np, err := DecodeSidecar([]byte(edited), got)
	if err != nil {
		t.Fatal(err)
	}
	if np.Provenance["title"] != SourceUser || np.Confidence["title"] != 1 || np.Cite != CitePublished || np.Confidence["cite"] != 1 {
		t.Fatalf("hand edit: %+v", np)
	}
	if got.Provenance["title"] != SourcePDF {
		t.Fatal("DecodeSidecar changed the current paper's provenance")
	}
	bad := strings.Replace(side, `"title": "pdf"`, `"title": "user"`, 1)
	if _, err := DecodeSidecar([]byte(bad), got); !errors.Is(err, ErrReadOnly) {
		t.Fatalf("editing provenance: %v", err)
	}
	bad = strings.Replace(side, `"arxiv_version": 5,`, `"arxiv_version": 5, "cite": "newest",`, 1)
	if _, err := DecodeSidecar([]byte(bad), got); !errors.Is(err, ErrInvalid) {
		t.Fatalf("bad cite: %v", err)
	}
}
