package lookup

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/extract/lookup/lookuptest"
	"github.com/paperfs/paperfs/meta"
)

// services are the fake services with this package's shorthands.
type services struct{ *lookuptest.Services }

func newServices(t *testing.T) *services { return &services{lookuptest.New(t)} }

func (s *services) config() Config {
	return Config{CrossrefURL: s.Crossref.URL, ArXivURL: s.ArXiv.URL, DBLPURL: s.DBLP.URL, SemanticScholarURL: s.SemanticScholar.URL,
		Email: "someone@example.org", Timeout: 5 * time.Second, Retries: 2, Backoff: time.Millisecond, MaxWait: 10 * time.Second,
		ArXivPace: -1, DBLPPace: -1, SemanticScholarPace: -1}
}

func (s *services) count(name string) int { return s.Count(name) }

func (s *services) setFault(name string, f func(w http.ResponseWriter, r *http.Request) bool) {
	s.SetFault(name, f)
}

func fixture(t *testing.T, name string) []byte { return lookuptest.Fixture(t, name) }

func resolve(t *testing.T, l *Lookup, q Query) Result {
	t.Helper()
	res, err := l.Resolve(context.Background(), q)
	if err != nil {
		t.Fatalf("resolve %q: %v", q.Title, err)
	}
	return res
}

var resnet = Query{Title: "Deep Residual Learning for Image Recognition", Authors: []string{"Kaiming He", "Xiangyu Zhang", "Shaoqing Ren", "Jian Sun"},
	Year: 2015, ArXiv: "1512.03385", TitleRead: true}

// An arXiv preprint keeps its id and fields; the published version the
// authors gave arXiv is checked at Crossref and recorded beside it.
func TestPreprintWithPublishedDOI(t *testing.T) {
	s := newServices(t)
	res := resolve(t, New(s.config()), resnet)
	if res.Main == nil || res.Main.Record.Source != meta.SourceArXiv || res.Main.By != "arxiv" {
		t.Fatalf("main: %+v", res)
	}
	if res.Published == nil || res.Published.Record.DOI != "10.1109/cvpr.2016.90" || res.Published.Record.Year != 2016 ||
		!strings.Contains(res.Published.Record.Venue, "CVPR") || res.Published.Record.Type != meta.Conference {
		t.Fatalf("published: %+v", res.Published)
	}
	p := meta.Paper{Title: "Deep Residual Learning for Image Recognitio", Authors: []string{"Kaiming He"}, ArXiv: "1512.03385", ArXivVersion: 1,
		Confidence: map[string]float64{"title": 0.7, "authors": 0.7, "arxiv": 0.7}, Provenance: map[string]string{"title": meta.SourcePDF}}
	changed := Apply(&p, res)
	if p.Title != resnet.Title || len(p.Authors) != 4 || p.Year != 2015 || p.ArXiv != "1512.03385" || p.ArXivVersion != 1 ||
		p.DOI != "" || p.Venue != "" || p.Type != meta.Preprint || p.Cite != "" {
		t.Fatalf("applied: %+v", p)
	}
	if p.Published == nil || p.Published.DOI != "10.1109/cvpr.2016.90" || p.Provenance["published"] != meta.SourceCrossref ||
		p.Provenance["title"] != meta.SourceArXiv || p.Confidence["title"] != confIdentifier {
		t.Fatalf("published version or provenance: %+v %+v", p.Published, p.Provenance)
	}
	if !slices.Contains(changed, "published") || !slices.Contains(changed, "title") {
		t.Fatalf("changed: %v", changed)
	}
}

// Without a DOI or journal reference at arXiv, the published version is
// found by title, leaving the search's preprint hit aside.
func TestPreprintPublishedByTitle(t *testing.T) {
	s := newServices(t)
	q := Query{Title: "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding", Authors: []string{"Jacob Devlin"},
		ArXiv: "1810.04805", TitleRead: true}
	res := resolve(t, New(s.config()), q)
	if res.Main == nil || res.Main.Record.Year != 2018 || res.Main.Record.ArXivVersion != 2 {
		t.Fatalf("main: %+v", res.Main)
	}
	if res.Published == nil || res.Published.Record.DOI != "10.18653/v1/n19-1423" || res.Published.Record.Year != 2019 || res.Published.Record.Source != meta.SourceDBLP {
		t.Fatalf("published: %+v (%v)", res.Published, res.Rejected)
	}
	if res.Main.Record.Authors[2] != "Kenton Lee" && res.Published.Record.Authors[2] != "Kenton Lee" {
		t.Fatalf("DBLP homonym number kept: %v", res.Published.Record.Authors)
	}
}

// A DOI printed in a PDF that names another paper (a reference) is not
// taken: the paper is found by title and the wrong DOI goes.
func TestCitedDOIIsNotTaken(t *testing.T) {
	s := newServices(t)
	q := Query{Title: "Chain Replication for Supporting High Throughput and Availability", Authors: []string{"Robbert van Renesse", "Fred B. Schneider"},
		Year: 2004, DOI: "10.1145/359545.359563", TitleRead: true}
	res := resolve(t, New(s.config()), q)
	if res.Main == nil || res.Main.Record.Source != meta.SourceDBLP || res.Main.By != "title" || res.Main.Record.Venue != "OSDI" {
		t.Fatalf("main: %+v %v", res.Main, res.Rejected)
	}
	if res.Refuted["doi"] != meta.SourceCrossref || !strings.Contains(strings.Join(res.Rejected, "\n"), "cited") {
		t.Fatalf("the cited DOI is not reported: %v %v", res.Refuted, res.Rejected)
	}
	p := meta.Paper{Title: q.Title, Authors: q.Authors, Year: 2004, DOI: q.DOI, Confidence: map[string]float64{"title": 0.9, "doi": 0.9}}
	Apply(&p, res)
	if p.DOI != "" || p.Venue != "OSDI" || p.Type != meta.Conference || p.Provenance["venue"] != meta.SourceDBLP {
		t.Fatalf("applied: %+v", p)
	}
	// A DOI the user typed stays, even when it names another paper.
	p = meta.Paper{Title: q.Title, DOI: q.DOI, Confidence: map[string]float64{"doi": 1}}
	Apply(&p, res)
	if p.DOI != q.DOI {
		t.Fatal("a hand-typed DOI was removed")
	}
}

// Two works answer to a title alike: neither is taken; with the first
// author known, the right one is.
func TestAmbiguousTitle(t *testing.T) {
	s := newServices(t)
	cfg := s.config()
	cfg.Services = []string{meta.SourceCrossref}
	l := New(cfg)
	res := resolve(t, l, Query{Title: "Deep Learning", TitleRead: true})
	if res.Main != nil || !strings.Contains(strings.Join(res.Rejected, "\n"), "ambiguous") {
		t.Fatalf("ambiguous answer taken: %+v %v", res.Main, res.Rejected)
	}
	res = resolve(t, l, Query{Title: "Deep learning", Authors: []string{"Y. LeCun"}, Year: 2015, TitleRead: true})
	if res.Main == nil || res.Main.Record.DOI != "10.1038/nature14539" {
		t.Fatalf("with the author: %+v %v", res.Main, res.Rejected)
	}
}

// Not found anywhere: no match and no error; unknown and malformed ids are
// not-found answers.
func TestNotFound(t *testing.T) {
	s := newServices(t)
	l := New(s.config())
	res := resolve(t, l, Query{Title: "A Paper No Service Knows", Authors: []string{"Nobody Known"}, DOI: "10.9999/nope", ArXiv: "2101.99999", TitleRead: true})
	if res.Main != nil || res.Published != nil {
		t.Fatalf("matched: %+v", res)
	}
	if s.count("crossref") != 2 || s.count("dblp") != 1 || s.count("semanticscholar") != 1 {
		t.Fatalf("requests: crossref %d dblp %d s2 %d", s.count("crossref"), s.count("dblp"), s.count("semanticscholar"))
	}
	if _, err := l.arxiv.byID(context.Background(), "1234.1234x"); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "incorrect id format") {
		t.Fatalf("bad arXiv id: %v", err)
	}
	if _, err := l.crossref.byDOI(context.Background(), "10.9999/nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown DOI: %v", err)
	}
}

// A title only Semantic Scholar knows is found there, with the key sent;
// Crossref gets the contact e-mail.
func TestSearchFallsThroughToSemanticScholar(t *testing.T) {
	s := newServices(t)
	cfg := s.config()
	cfg.SemanticScholarKey = "test-key"
	q := Query{Title: "Kelips: Building an Efficient and Stable P2P DHT Through Increased Memory and Background Overhead",
		Authors: []string{"Indranil Gupta", "Ken Birman"}, Year: 2003, TitleRead: true}
	res := resolve(t, New(cfg), q)
	if res.Main == nil || res.Main.Record.Source != meta.SourceSemanticScholar || res.Main.Record.Type != meta.Conference {
		t.Fatalf("main: %+v %v", res.Main, res.Rejected)
	}
	if got := s.Requests("semanticscholar")[0].Header.Get("X-Api-Key"); got != "test-key" {
		t.Errorf("x-api-key %q", got)
	}
	cr := s.Requests("crossref")[0]
	if cr.URL.Query().Get("mailto") != "someone@example.org" || !strings.Contains(cr.Header.Get("User-Agent"), "mailto:someone@example.org") {
		t.Errorf("crossref request without contact: %s %q", cr.URL, cr.Header.Get("User-Agent"))
	}
	if cr.URL.Query().Get("query.author") != "gupta" {
		t.Errorf("crossref query.author %q", cr.URL.Query().Get("query.author"))
	}
}

// 429 and 5xx are retried, waiting what Retry-After says; a wait beyond
// MaxWait gives up at once, to be tried later.
func TestRetryAfter429And5xx(t *testing.T) {
	s := newServices(t)
	l := New(s.config())
	n := 0
	s.setFault("crossref", func(w http.ResponseWriter, r *http.Request) bool {
		n++
		switch n {
		case 1:
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return true
		case 2:
			w.WriteHeader(http.StatusServiceUnavailable)
			return true
		}
		return false
	})
	if _, err := l.crossref.byDOI(context.Background(), "10.1109/cvpr.2016.90"); err != nil || s.count("crossref") != 3 {
		t.Fatalf("after a 429 and a 503: %v, %d requests", err, s.count("crossref"))
	}
	s.setFault("crossref", func(w http.ResponseWriter, r *http.Request) bool {
		w.Header().Set("Retry-After", "3600")
		w.WriteHeader(http.StatusTooManyRequests)
		return true
	})
	before := s.count("crossref")
	if _, err := l.crossref.byDOI(context.Background(), "10.1145/359545.359563"); !errors.Is(err, ErrUnavailable) || s.count("crossref") != before+1 {
		t.Fatalf("a long Retry-After: %v, %d requests", err, s.count("crossref")-before)
	}
	// A service that keeps failing is asked Retries+1 times.
	s.setFault("dblp", func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusBadGateway)
		return true
	})
	if _, err := l.dblp.searchTitle(context.Background(), "Chain Replication", ""); !errors.Is(err, ErrUnavailable) || s.count("dblp") != 3 {
		t.Fatalf("5xx: %v, %d requests", err, s.count("dblp"))
	}
}

// A request a service refuses (a wrong key: 403) skips that service.
func TestRefusedRequest(t *testing.T) {
	s := newServices(t)
	s.setFault("dblp", func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusForbidden)
		w.Write([]byte(`{"error": "forbidden"}`))
		return true
	})
	q := Query{Title: "Kelips: Building an Efficient and Stable P2P DHT Through Increased Memory and Background Overhead", Authors: []string{"Indranil Gupta"}, TitleRead: true}
	res := resolve(t, New(s.config()), q)
	if res.Main == nil || s.count("dblp") != 1 || !strings.Contains(strings.Join(res.Rejected, "\n"), "dblp: request refused: answered 403") {
		t.Fatalf("after a 403: %+v %v, %d dblp requests", res.Main, res.Rejected, s.count("dblp"))
	}
}

// When no service answers, Resolve says to try later rather than "no
// match", so the paper is looked up again.
func TestAllUnavailableIsRetryLater(t *testing.T) {
	s := newServices(t)
	down := func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	for _, n := range []string{"crossref", "dblp", "semanticscholar"} {
		s.setFault(n, down)
	}
	_, err := New(s.config()).Resolve(context.Background(), Query{Title: "Chain Replication for Supporting High Throughput and Availability", TitleRead: true})
	if !errors.Is(err, ErrUnavailable) {
		t.Fatalf("got %v", err)
	}
	// arXiv down: the same.
	s.setFault("arxiv", down)
	if _, err := New(s.config()).Resolve(context.Background(), resnet); !errors.Is(err, ErrUnavailable) {
		t.Fatalf("arXiv down: %v", err)
	}
}

// A service that does not answer in time is given up on after its
// retries; the next service is asked.
func TestTimeout(t *testing.T) {
	s := newServices(t)
	cfg := s.config()
	cfg.Timeout = 100 * time.Millisecond
	cfg.Retries = 1
	s.setFault("dblp", func(w http.ResponseWriter, r *http.Request) bool {
		<-r.Context().Done() // hangs until the client gives up
		return true
	})
	q := Query{Title: "Kelips: Building an Efficient and Stable P2P DHT Through Increased Memory and Background Overhead", Authors: []string{"Indranil Gupta"}, TitleRead: true}
	res := resolve(t, New(cfg), q)
	if res.Main == nil || res.Main.Record.Source != meta.SourceSemanticScholar || s.count("dblp") != 2 {
		t.Fatalf("after a timeout: %+v, %d dblp requests", res.Main, s.count("dblp"))
	}
	if !strings.Contains(strings.Join(res.Rejected, "\n"), "no answer within") {
		t.Fatalf("the timeout is not reported: %v", res.Rejected)
	}
}

// Malformed answers are reported and skipped, never taken as matches.
func TestMalformedAnswers(t *testing.T) {
	s := newServices(t)
	s.setFault("dblp", func(w http.ResponseWriter, r *http.Request) bool {
		w.Write(fixture(t, "dblp/truncated.json"))
		return true
	})
	s.setFault("semanticscholar", func(w http.ResponseWriter, r *http.Request) bool {
		w.Write(fixture(t, "semanticscholar/html-error.txt"))
		return true
	})
	s.setFault("arxiv", func(w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte("<feed><entry><id>"))
		return true
	})
	s.setFault("crossref", func(w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte(`{"status": "ok", "message": {"DOI": "10.1/x"}}`))
		return true
	})
	q := resnet
	q.DOI = "10.1109/cvpr.2016.90"
	res := resolve(t, New(s.config()), q)
	if res.Main != nil {
		t.Fatalf("matched a malformed answer: %+v", res.Main)
	}
	all := strings.Join(res.Rejected, "\n")
	for _, want := range []string{"arXiv 1512.03385: malformed", "crossref: DOI 10.1109/cvpr.2016.90: malformed", "dblp: search: malformed", "semanticscholar: search: malformed"} {
		if !strings.Contains(all, want) {
			t.Errorf("missing %q in %s", want, all)
		}
	}
}

// Answers are cached in the data dir: a second lookup asks nothing, a
// not-found answer included.
func TestCache(t *testing.T) {
	s := newServices(t)
	cfg := s.config()
	cfg.CacheDir = t.TempDir()
	q := Query{Title: "Chain Replication for Supporting High Throughput and Availability", Authors: []string{"Robbert van Renesse"},
		DOI: "10.9999/nope", TitleRead: true}
	first := resolve(t, New(cfg), q)
	n := s.count("crossref") + s.count("dblp")
	second := resolve(t, New(cfg), q)
	if s.count("crossref")+s.count("dblp") != n || first.Main == nil || second.Main == nil || second.Main.Record.Title != first.Main.Record.Title {
		t.Fatalf("second lookup asked again (%d -> %d requests) or differs: %+v", n, s.count("crossref")+s.count("dblp"), second.Main)
	}
}

// The off switch sends nothing.
func TestOff(t *testing.T) {
	s := newServices(t)
	cfg := s.config()
	cfg.Off = true
	if _, err := New(cfg).Resolve(context.Background(), resnet); !errors.Is(err, ErrOff) {
		t.Fatalf("got %v", err)
	}
	if s.count("arxiv")+s.count("crossref")+s.count("dblp")+s.count("semanticscholar") != 0 {
		t.Fatal("a request was sent with lookups off")
	}
}

// Apply never overwrites what the user set or what has no known origin,
// replaces only what it is surer of, and fills what is empty.
func TestApplyKeepsHandEdits(t *testing.T) {
	res := Result{Main: &Match{Confidence: 0.9, Record: Record{Source: meta.SourceCrossref, Title: "Right Title", Authors: []string{"Ann Author"},
		Year: 2001, Venue: "VLDB", Type: meta.Conference, DOI: "10.1/abc"}}}
	p := meta.Paper{Title: "My Title", Authors: []string{"A. Author"}, Year: 2000, Type: meta.Article, Note: "n",
		Confidence: map[string]float64{"title": 1, "authors": 0.7, "year": 0.95},
		Provenance: map[string]string{"title": meta.SourceUser, "authors": meta.SourcePDF, "year": meta.SourcePDF}}
	changed := Apply(&p, res)
	if p.Title != "My Title" || p.Provenance["title"] != meta.SourceUser || p.Confidence["title"] != 1 {
		t.Errorf("hand-edited title overwritten: %+v", p)
	}
	if p.Authors[0] != "Ann Author" || p.Provenance["authors"] != meta.SourceCrossref || p.Confidence["authors"] != 0.9 {
		t.Errorf("less sure authors kept: %+v", p)
	}
	if p.Year != 2000 {
		t.Errorf("surer year replaced: %d", p.Year)
	}
	if p.Venue != "VLDB" || p.DOI != "10.1/abc" || p.Type != meta.Conference || p.Provenance["doi"] != meta.SourceCrossref {
		t.Errorf("empty fields not filled: %+v", p)
	}
	slices.Sort(changed)
	if !slices.Equal(changed, []string{"authors", "doi", "type", "venue"}) {
		t.Errorf("changed %v", changed)
	}
	// Migrated from another program: values without confidence are kept.
	q := meta.Paper{Title: "Their Title", Year: 1999, Type: meta.Article}
	Apply(&q, res)
	if q.Title != "Their Title" || q.Year != 1999 || q.Venue != "VLDB" {
		t.Errorf("values of unknown origin overwritten: %+v", q)
	}
}

// A PDF whose title could not be read (the file name stands in for it)
// takes the record its arXiv id names, but only as sure as a guess
// replaced: fields read surely are kept.
func TestUncheckedIdentifier(t *testing.T) {
	s := newServices(t)
	q := Query{Title: "1512.03385v1", ArXiv: "1512.03385"}
	res := resolve(t, New(s.config()), q)
	if res.Main == nil || res.Main.Confidence != confUnchecked || s.count("dblp") != 0 {
		t.Fatalf("main: %+v, %d title searches", res.Main, s.count("dblp"))
	}
	p := meta.Paper{Title: "1512.03385v1", Year: 2014, ArXiv: "1512.03385", Confidence: map[string]float64{"title": 0.1, "year": 0.7, "arxiv": 0.7}}
	Apply(&p, res)
	if p.Title != resnet.Title || p.Year != 2014 || p.Confidence["title"] != confUnchecked {
		t.Fatalf("applied: %+v", p)
	}
}
