package lookup

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

func create(t *testing.T, s *meta.Store, p meta.Paper) meta.Paper {
	t.Helper()
	p, err := s.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func pdfPaper(title string, authors []string, arxiv string) meta.Paper {
	conf := map[string]float64{"title": 0.9, "authors": 0.7}
	prov := map[string]string{"title": meta.SourcePDF, "authors": meta.SourcePDF}
	if arxiv != "" {
		conf["arxiv"], prov["arxiv"] = 0.7, meta.SourcePDF
	}
	return meta.Paper{Title: title, Authors: authors, ArXiv: arxiv, Confidence: conf, Provenance: prov}
}

// Each paper is looked up once; a hand edit of its title makes it due
// again, and the lookup keeps the edit.
func TestRunnerOnceAndHandEdits(t *testing.T) {
	svc := newServices(t)
	st := testutil.OpenStore(t)
	a := create(t, st, pdfPaper("Deep Residual Learning for Image Recognition", []string{"Kaiming He"}, "1512.03385"))
	b := create(t, st, pdfPaper("A Paper No Service Knows", []string{"Nobody Known"}, ""))
	r := &Runner{Store: st, Resolver: New(svc.config()), StateFile: filepath.Join(t.TempDir(), "lookup", "state.json")}
	ids, err := r.Pending(false)
	if err != nil || len(ids) != 2 {
		t.Fatalf("pending %v %v", ids, err)
	}
	var calls []int
	rep, err := r.Lookup(context.Background(), ids, func(done, total int) { calls = append(calls, done) })
	if err != nil || rep.Matched != 1 || rep.NoMatch != 1 || len(calls) != 2 {
		t.Fatalf("report %+v %v progress %v", rep, err, calls)
	}
	got, _ := st.Get(a.ID)
	if got.Published == nil || got.Published.DOI != "10.1109/cvpr.2016.90" || got.Provenance["authors"] != meta.SourceArXiv || got.Cite != "" {
		t.Fatalf("applied: %+v", got)
	}
	// A new runner reads the state file: nothing is pending.
	r2 := &Runner{Store: st, Resolver: New(svc.config()), StateFile: r.StateFile}
	if ids, err := r2.Pending(false); err != nil || len(ids) != 0 {
		t.Fatalf("pending after a pass: %v %v", ids, err)
	}
	if ids, _ := r2.Pending(true); len(ids) != 2 {
		t.Fatalf("--all: %v", ids)
	}
	// The user renames b by saving its sidecar.
	cur, _ := st.Get(b.ID)
	text := strings.Replace(string(meta.EncodeSidecar(&cur)), "A Paper No Service Knows", "Chain Replication for Supporting High Throughput and Availability", 1)
	text = strings.Replace(text, `"Nobody Known"`, `"Robbert van Renesse"`, 1)
	edited, err := meta.DecodeSidecar([]byte(text), cur)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Update(b.ID, func(p *meta.Paper) error { *p = edited; return nil }); err != nil {
		t.Fatal(err)
	}
	ids, _ = r2.Pending(false)
	if len(ids) != 1 || ids[0] != b.ID {
		t.Fatalf("pending after an edit: %v", ids)
	}
	if o, changed, err := r2.One(context.Background(), b.ID); err != nil || o != Matched || strings.Contains(strings.Join(changed, ","), "title") {
		t.Fatalf("after the edit: %v %v %v", o, changed, err)
	}
	got, _ = st.Get(b.ID)
	if got.Title != "Chain Replication for Supporting High Throughput and Availability" || got.Provenance["title"] != meta.SourceUser ||
		got.Provenance["authors"] != meta.SourceUser || got.Venue != "OSDI" || got.Provenance["venue"] != meta.SourceDBLP {
		t.Fatalf("hand edit not kept or lookup not applied: %+v", got)
	}
}

// In the background, a paper added while the services are unreachable is
// looked up once they answer again.
func TestRunnerRetriesWhenOffline(t *testing.T) {
	svc := newServices(t)
	st := testutil.OpenStore(t)
	asked := make(chan struct{}, 100)
	down := func(w http.ResponseWriter, r *http.Request) bool {
		select {
		case asked <- struct{}{}:
		default:
		}
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}
	for _, n := range []string{"arxiv", "crossref", "dblp", "semanticscholar"} {
		svc.setFault(n, down)
	}
	cfg := svc.config()
	cfg.Retries = 0
	r := &Runner{Store: st, Resolver: New(cfg), RetryAfter: 10 * time.Millisecond, MaxRetryAfter: 20 * time.Millisecond}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- r.Run(ctx) }()
	sub := st.Subscribe()
	defer sub.Close()
	p := create(t, st, pdfPaper("Deep Residual Learning for Image Recognition", []string{"Kaiming He"}, "1512.03385"))
	select {
	case <-asked:
	case <-ctx.Done():
		t.Fatal("the new paper was not looked up")
	}
	for _, n := range []string{"arxiv", "crossref", "dblp", "semanticscholar"} {
		svc.setFault(n, nil)
	}
	for {
		select {
		case ch := <-sub.C:
			if ch.ID == p.ID && ch.After != nil && ch.After.Published != nil {
				cancel()
				if err := <-done; err != nil {
					t.Fatal(err)
				}
				return
			}
		case <-ctx.Done():
			t.Fatal("the paper was not looked up once the services answered")
		}
	}
}
