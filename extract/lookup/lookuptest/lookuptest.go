// Package lookuptest serves the APIs of the services paperfs looks papers
// up at (Crossref, arXiv, DBLP, Semantic Scholar) from local httptest
// servers answering with fixture documents written from each service's
// published API documentation (testdata/README.md). Tests configure the
// real clients with the servers' URLs.
package lookuptest

import (
	"embed"
	"net/http"
	"net/http/httptest"
	"path"
	"strings"
	"sync"
	"testing"
)

//go:embed testdata
var fixtures embed.FS

// Fixture returns a fixture file, e.g. "dblp/truncated.json".
func Fixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := fixtures.ReadFile(path.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Services are the four fake services. Each answers by the request's
// identifier or query words; SetFault injects failures.
type Services struct {
	Crossref, ArXiv, DBLP, SemanticScholar *httptest.Server

	mu       sync.Mutex // protects the following
	requests map[string][]*http.Request
	fault    map[string]func(w http.ResponseWriter, r *http.Request) bool
}

// Service names, as Count and SetFault take them.
const (
	Crossref        = "crossref"
	ArXiv           = "arxiv"
	DBLP            = "dblp"
	SemanticScholar = "semanticscholar"
)

// New starts the servers; they stop when the test ends.
func New(t testing.TB) *Services {
	s := &Services{requests: map[string][]*http.Request{}, fault: map[string]func(http.ResponseWriter, *http.Request) bool{}}
	serve := func(name string, answer func(r *http.Request) (int, string)) *httptest.Server {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			s.mu.Lock()
			s.requests[name] = append(s.requests[name], r)
			f := s.fault[name]
			s.mu.Unlock()
			if f != nil && f(w, r) {
				return
			}
			status, file := answer(r)
			if strings.HasSuffix(file, ".xml") {
				w.Header().Set("Content-Type", "application/atom+xml; charset=UTF-8")
			} else if strings.HasSuffix(file, ".json") {
				w.Header().Set("Content-Type", "application/json")
			}
			w.WriteHeader(status)
			w.Write(Fixture(t, path.Join(name, file)))
		}))
		t.Cleanup(srv.Close)
		return srv
	}
	s.Crossref = serve(Crossref, func(r *http.Request) (int, string) {
		switch {
		case r.URL.Path == "/works/10.1109/cvpr.2016.90":
			return 200, "work-resnet.json"
		case r.URL.Path == "/works/10.1145/359545.359563":
			return 200, "work-lamport.json"
		case r.URL.Path == "/works/10.18653/v1/n19-1423":
			return 200, "work-bert.json"
		case r.URL.Path == "/works" && strings.EqualFold(r.URL.Query().Get("query.bibliographic"), "deep learning"):
			return 200, "search-deep-learning.json"
		case r.URL.Path == "/works":
			return 200, "search-unrelated.json"
		}
		return 404, "not-found.txt"
	})
	s.ArXiv = serve(ArXiv, func(r *http.Request) (int, string) {
		switch r.URL.Query().Get("id_list") {
		case "1512.03385":
			return 200, "resnet.xml"
		case "1810.04805":
			return 200, "bert.xml"
		case "1234.1234x":
			return 200, "error.xml"
		}
		return 200, "empty.xml"
	})
	s.DBLP = serve(DBLP, func(r *http.Request) (int, string) {
		q := strings.ToLower(r.URL.Query().Get("q"))
		switch {
		case strings.HasPrefix(q, "chain replication"):
			return 200, "chain-replication.json"
		case strings.HasPrefix(q, "bert"):
			return 200, "bert.json"
		}
		return 200, "no-hits.json"
	})
	s.SemanticScholar = serve(SemanticScholar, func(r *http.Request) (int, string) {
		if strings.HasPrefix(strings.ToLower(r.URL.Query().Get("query")), "kelips") {
			return 200, "kelips.json"
		}
		return 200, "no-match.json"
	})
	return s
}

// Count is how many requests a service received.
func (s *Services) Count(name string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests[name])
}

// Requests are the requests a service received.
func (s *Services) Requests(name string) []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests[name]...)
}

// SetFault makes f answer a service's requests first; f returns true when
// it answered. nil removes it.
func (s *Services) SetFault(name string, f func(w http.ResponseWriter, r *http.Request) bool) {
	s.mu.Lock()
	s.fault[name] = f
	s.mu.Unlock()
}
