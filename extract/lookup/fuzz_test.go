package lookup

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/paperfs/paperfs/extract/lookup/lookuptest"
)

// FuzzAnswers feeds arbitrary answers to every client: none may panic,
// and an answer is either a record, not found, or an error.
func FuzzAnswers(f *testing.F) {
	for _, name := range []string{"crossref/work-resnet.json", "crossref/search-deep-learning.json", "arxiv/resnet.xml", "arxiv/error.xml",
		"dblp/bert.json", "dblp/truncated.json", "semanticscholar/kelips.json", "semanticscholar/html-error.txt"} {
		f.Add(lookuptest.Fixture(f, name))
	}
	var mu sync.Mutex
	var answer []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Write(answer)
	}))
	defer srv.Close()
	l := New(Config{CrossrefURL: srv.URL, ArXivURL: srv.URL, DBLPURL: srv.URL, SemanticScholarURL: srv.URL,
		Retries: -1, Timeout: 5 * time.Second, ArXivPace: -1, DBLPPace: -1, SemanticScholarPace: -1})
	f.Fuzz(func(t *testing.T, body []byte) {
		mu.Lock()
		answer = body
		mu.Unlock()
		ctx := context.Background()
		if r, err := l.crossref.byDOI(ctx, "10.1/x"); err == nil && r.Title == "" {
			t.Fatal("crossref: a record without a title")
		}
		if r, err := l.arxiv.byID(ctx, "1512.03385"); err == nil && r.ArXiv != "1512.03385" {
			t.Fatalf("arXiv: a record of another id: %q", r.ArXiv)
		}
		for _, s := range l.search {
			recs, err := s.searchTitle(ctx, "a title", "author")
			for _, r := range recs {
				if err != nil || r.Title == "" {
					t.Fatalf("%s: %+v %v", s.name(), r, err)
				}
			}
		}
	})
}
