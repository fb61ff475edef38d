package library

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

func TestProbableDuplicates(t *testing.T) {
	_, s := setup(t)
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	add := func(p meta.Paper) string {
		t.Helper()
		at = at.Add(time.Minute)
		p.Added = at
		return mustCreate(t, s, p).ID
	}
	vaswani := []string{"Ashish Vaswani", "Noam Shazeer"}
	// A preprint and the published version it names.
	pre := add(meta.Paper{Title: "Attention Is All You Need", Authors: vaswani, Year: 2017, ArXiv: "1706.03762", Type: meta.Preprint,
		Published: &meta.Published{Venue: "NeurIPS", Year: 2017, DOI: "10.5555/3295222.3295349"}})
	pub := add(meta.Paper{Title: "Attention is all you need", Authors: []string{"A. Vaswani"}, Year: 2017, DOI: "10.5555/3295222.3295349", Venue: "NeurIPS"})
	// Two downloads of one paper, titles read a little differently.
	d1 := add(meta.Paper{Title: "Chain Replication for Supporting High Throughput and Availability", Authors: []string{"Robbert van Renesse"}, Year: 2004})
	d2 := add(meta.Paper{Title: "Chain replication for supporting high throughput and availabilty", Authors: []string{"van Renesse, Robbert", "Fred B. Schneider"}, Year: 2004})
	// Same DOI, titles unreadable.
	x1 := add(meta.Paper{Title: "scan0001", DOI: "10.1145/359545.359563"})
	x2 := add(meta.Paper{Title: "lamport78", DOI: "10.1145/359545.359563"})
	// Not duplicates: the same group's other paper, a reply, the same
	// title by someone else, the same title years apart.
	add(meta.Paper{Title: "Chain Replication for Supporting High Throughput and Paxos", Authors: []string{"Robbert van Renesse"}, Year: 2004})
	add(meta.Paper{Title: "Attention Is Not All You Need", Authors: []string{"Yihe Dong"}, Year: 2021})
	add(meta.Paper{Title: "Attention Is All You Need", Authors: []string{"Jane Smith"}, Year: 2017})
	add(meta.Paper{Title: "Attention Is All You Need", Authors: vaswani, Year: 2023})
	// A paper in the trash is nobody's duplicate.
	tr := add(meta.Paper{Title: "Attention Is All You Need", Authors: vaswani, Year: 2017})
	now := time.Now()
	if _, err := s.Update(tr, func(p *meta.Paper) error { p.Trashed = &now; return nil }); err != nil {
		t.Fatal(err)
	}

	groups, err := ProbableDuplicates(s)
	if err != nil {
		t.Fatal(err)
	}
	var got [][]string
	for _, g := range groups {
		var ids []string
		for _, p := range g.Papers {
			ids = append(ids, p.ID)
		}
		got = append(got, ids)
	}
	want := [][]string{{pre, pub}, {d1, d2}, {x1, x2}}
	slices.SortFunc(want, func(a, b []string) int { return strings.Compare(a[0], b[0]) })
	if !slices.EqualFunc(got, want, slices.Equal[[]string]) {
		t.Fatalf("groups %v, want %v\n%+v", got, want, groups)
	}
	reasons := map[string]string{}
	for _, g := range groups {
		reasons[g.Papers[0].ID] = strings.Join(g.Reasons, "; ")
	}
	if !strings.Contains(reasons[pre], PreprintOf) || !strings.Contains(reasons[d1], SameTitle) || !strings.Contains(reasons[x1], SameDOI) {
		t.Fatalf("reasons: %v", reasons)
	}
}

func mustCreate(t *testing.T, s *meta.Store, p meta.Paper) meta.Paper {
	t.Helper()
	p, err := s.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// paperfs merge: the first stays with the other's tags, folders and hand
// edits; the other's PDF goes to the trash folder; papers that are not
// one work are refused unless forced.
func TestMergeByHand(t *testing.T) {
	l, s := setup(t)
	testutil.WritePDF(t, l.Abs("a.pdf"), "a")
	testutil.WritePDF(t, l.Abs("sub/b.pdf"), "b")
	testutil.WritePDF(t, l.Abs("c.pdf"), "c")
	if _, err := l.Scan(t.Context(), nil); err != nil {
		t.Fatal(err)
	}
	a, b, c := must(s.ByPath("a.pdf")), must(s.ByPath("sub/b.pdf")), must(s.ByPath("c.pdf"))
	set := func(id string, fn func(p *meta.Paper)) {
		if _, err := s.Update(id, func(p *meta.Paper) error { fn(p); return nil }); err != nil {
			t.Fatal(err)
		}
	}
	set(a, func(p *meta.Paper) {
		p.Title, p.Authors, p.Year, p.Tags = "Paxos Made Moderately Complex", []string{"Robbert van Renesse"}, 2015, []string{"paxos"}
		p.DOI = "10.1145/2673577"
	})
	set(b, func(p *meta.Paper) {
		p.Title, p.Authors, p.Year = "Paxos made moderately complex", []string{"Robbert van Renesse", "Deniz Altinbuken"}, 2015
		p.Tags, p.Folders, p.Note, p.Rating = []string{"consensus"}, []string{"reading"}, "read twice", 5
		p.ArXiv = "1234.56789"
		p.Confidence = map[string]float64{"note": 1, "rating": 1, "authors": 1}
		p.Provenance = map[string]string{"authors": meta.SourceUser}
	})
	set(c, func(p *meta.Paper) {
		p.Title, p.Authors, p.Year = "Something Else Entirely", []string{"Jane Smith"}, 2015
	})

	if _, err := l.Merge(a, c, MergeOptions{}); !errors.Is(err, ErrNotSame) {
		t.Fatalf("merging different papers: %v", err)
	}
	if _, err := l.Merge(a, a, MergeOptions{}); err == nil {
		t.Fatal("merged a paper into itself")
	}
	p, err := l.Merge(a, b, MergeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(p.Tags, []string{"consensus", "paxos"}) || !slices.Equal(p.Folders, []string{"reading"}) || p.Note != "read twice" ||
		p.Rating != 5 || len(p.Authors) != 2 || p.Provenance["authors"] != meta.SourceUser || p.Title != "Paxos Made Moderately Complex" ||
		p.ArXiv != "1234.56789" || p.DOI != "10.1145/2673577" || p.File.Path != "a.pdf" {
		t.Fatalf("kept paper: %+v", p)
	}
	lost, _ := s.Get(b)
	if lost.MergedInto != a || !InTrashDir(lost.File.Path) {
		t.Fatalf("merged paper: %+v", lost)
	}
	if _, err := os.Stat(l.Abs(lost.File.Path)); err != nil {
		t.Fatalf("the merged paper's PDF is not in the trash folder: %v", err)
	}
	if _, err := os.Stat(l.Abs("sub/b.pdf")); !os.IsNotExist(err) {
		t.Fatalf("the merged paper's PDF is still in place: %v", err)
	}
	if n := count(t, s, meta.All); n != 2 {
		t.Fatalf("%d papers in all/", n)
	}
	if n := count(t, s, meta.Trash); n != 0 {
		t.Fatalf("the merged paper shows in trash/: %d", n)
	}
	// A scan does not bring the merged PDF back as a new paper.
	if rep, err := l.Scan(t.Context(), nil); err != nil || len(rep.New) != 0 {
		t.Fatalf("scan after merge: %+v %v", rep, err)
	}
	// The change is ops, synced like any edit.
	if n, err := s.PendingCount(); err != nil || n == 0 {
		t.Fatalf("no ops queued: %d %v", n, err)
	}
	if _, err := l.Merge(a, b, MergeOptions{}); err == nil {
		t.Fatal("merged a merged paper again")
	}
	if _, err := l.Merge(a, c, MergeOptions{Force: true}); err != nil {
		t.Fatalf("forced: %v", err)
	}
}

// BenchmarkProbableDuplicates lists the groups of a library of 20,000
// papers (1% of them pairs): the cost of refreshing the duplicates/ view.
func BenchmarkProbableDuplicates(b *testing.B) {
	s, err := meta.Open(b.TempDir()+"/meta.db", meta.Options{NoSync: true})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var ps []meta.Paper
	for i := range 20000 {
		p := meta.Paper{Title: fmt.Sprintf("A study of problem %d in distributed systems", i),
			Authors: []string{fmt.Sprintf("Author%d Family%d", i%500, i%500)}, Year: 1990 + i%30}
		if i%100 == 0 {
			p.DOI = fmt.Sprintf("10.1000/%d", i)
			ps = append(ps, p)
		}
		ps = append(ps, p)
	}
	if _, err := s.CreateMany(ps); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for b.Loop() {
		gs, err := ProbableDuplicates(s)
		if err != nil || len(gs) != 200 {
			b.Fatalf("%d groups, %v", len(gs), err)
		}
	}
}
