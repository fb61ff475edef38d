package library

import (
	"context"
	"errors"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// byName is an Extractor that reads metadata from a table keyed by file
// name, as if the PDFs said so.
func byName(table map[string]meta.Paper) Extractor {
	return func(ctx context.Context, path string, f *os.File) (meta.Paper, []string) {
		if p, ok := table[filepath.Base(path)]; ok {
			return p, nil
		}
		return FromFileName(ctx, path, f)
	}
}

func setupWith(t *testing.T, ex Extractor) (*Library, *meta.Store) {
	t.Helper()
	l, s := setup(t)
	l2, err := Open(l.Root, s, ex, nil)
	if err != nil {
		t.Fatal(err)
	}
	return l2, s
}

func TestImportDuplicateByIdentifier(t *testing.T) {
	l, s := setupWith(t, byName(map[string]meta.Paper{
		"attention.pdf":       {Title: "Attention Is All You Need", ArXiv: "1706.03762", Year: 2017},
		"1706.03762v1.pdf":    {Title: "Attention Is All You Need (v1)", ArXiv: "1706.03762"},
		"lamport.pdf":         {Title: "Time, Clocks", DOI: "10.1145/359545.359563"},
		"lamport-journal.pdf": {Title: "Time, Clocks, and the Ordering", DOI: "10.1145/359545.359563"},
		"other.pdf":           {Title: "Other", DOI: "10.1145/1"},
	}))
	src := t.TempDir()
	for _, n := range []string{"attention.pdf", "lamport.pdf"} {
		testutil.WritePDF(t, filepath.Join(src, "first", n), n)
	}
	for _, n := range []string{"1706.03762v1.pdf", "lamport-journal.pdf", "other.pdf"} {
		testutil.WritePDF(t, filepath.Join(src, "second", n), n) // other content
	}
	rep, err := l.Import(context.Background(), []string{filepath.Join(src, "first")}, ImportOptions{})
	if err != nil || len(rep.Imported) != 2 {
		t.Fatalf("first import: %+v, %v", rep, err)
	}
	rep, err = l.Import(context.Background(), []string{filepath.Join(src, "second")}, ImportOptions{Move: true})
	if err != nil || len(rep.Imported) != 1 || len(rep.Duplicates) != 2 {
		t.Fatalf("second import: %+v, %v", rep, err)
	}
	by := map[string]Duplicate{}
	for _, d := range rep.Duplicates {
		by[filepath.Base(d.Path)] = d
	}
	if d := by["1706.03762v1.pdf"]; d.By != "arXiv 1706.03762" || d.ID != rep2id(t, s, "Attention Is All You Need") {
		t.Errorf("arXiv duplicate: %+v", d)
	}
	if d := by["lamport-journal.pdf"]; d.By != "DOI 10.1145/359545.359563" || d.ID != rep2id(t, s, "Time, Clocks") {
		t.Errorf("DOI duplicate: %+v", d)
	}
	// A duplicate is left where it was, even with --move.
	if _, err := os.Stat(filepath.Join(src, "second", "lamport-journal.pdf")); err != nil {
		t.Errorf("duplicate source moved: %v", err)
	}
	if n := count(t, s, meta.All); n != 3 {
		t.Errorf("%d papers, want 3", n)
	}
	// A paper in the trash still counts, and says so.
	if _, err := l.Trash(by["lamport-journal.pdf"].ID); err != nil {
		t.Fatal(err)
	}
	rep, _ = l.Import(context.Background(), []string{filepath.Join(src, "second", "lamport-journal.pdf")}, ImportOptions{})
	if len(rep.Duplicates) != 1 || !rep.Duplicates[0].Trashed {
		t.Errorf("trashed duplicate: %+v", rep)
	}
	// ImportFile (a PDF copied into the mount, whose caller drops
	// duplicates) refuses only the same content: a file moved into the
	// mount must never be lost.
	_, err = l.ImportFile(context.Background(), filepath.Join(src, "first", "lamport.pdf"), false, nil)
	var dup *DuplicateError
	if !errors.As(err, &dup) || !errors.Is(err, meta.ErrExists) || !strings.Contains(err.Error(), "same content") {
		t.Errorf("ImportFile of the same content: %v", err)
	}
	if p, err := l.ImportFile(context.Background(), filepath.Join(src, "second", "lamport-journal.pdf"), false, nil); err != nil || p.DOI != "10.1145/359545.359563" {
		t.Errorf("ImportFile of another file with the DOI: %+v, %v", p, err)
	}
}

func TestImportNamesKeysAndNeverOverwrites(t *testing.T) {
	vaswani := meta.Paper{Title: "Attention Is All You Need", Authors: []string{"Ashish Vaswani", "Noam Shazeer", "Niki Parmar"}, Year: 2017}
	l, s := setupWith(t, byName(map[string]meta.Paper{"a.pdf": vaswani, "b.pdf": vaswani, "c.pdf": {Title: "Bare"}}))
	if err := l.SetNamePattern("{year}/{author} - {title}"); err != nil {
		t.Fatal(err)
	}
	if err := l.SetNamePattern("{nope}"); err == nil {
		t.Error("unknown field accepted")
	}
	// Something already sits where the first import goes.
	testutil.WritePDF(t, filepath.Join(l.Root, "2017", "Vaswani - Attention Is All You Need.pdf"), "mine")
	src := t.TempDir()
	for _, n := range []string{"a.pdf", "b.pdf", "c.pdf"} {
		testutil.WritePDF(t, filepath.Join(src, n), n)
	}
	rep, err := l.Import(context.Background(), []string{src}, ImportOptions{})
	if err != nil || len(rep.Imported) != 3 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	var paths, keys []string
	for _, id := range rep.Imported {
		p, _ := s.Get(id)
		paths = append(paths, p.File.Path)
		keys = append(keys, p.CiteKey)
	}
	slices.Sort(paths)
	slices.Sort(keys)
	want := []string{"2017/Vaswani - Attention Is All You Need (2).pdf", "2017/Vaswani - Attention Is All You Need (3).pdf", "unknown/Bare.pdf"}
	if !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q", paths, want)
	}
	// Keys are given on import, unique.
	if !slices.Equal(keys, []string{"bare", "vaswani2017attention", "vaswani2017attentiona"}) {
		t.Errorf("keys %q", keys)
	}
	if b, _ := os.ReadFile(filepath.Join(l.Root, "2017", "Vaswani - Attention Is All You Need.pdf")); string(b) != "%PDF-1.4\nmine" {
		t.Error("existing file overwritten")
	}
}

// TestImportAdoptsInterruptedCopy is an import killed after putting a PDF
// into the library and before recording it: the rerun records that copy
// rather than making a second one, and a move removes its source.
func TestImportAdoptsInterruptedCopy(t *testing.T) {
	l, s := setupWith(t, byName(map[string]meta.Paper{"x.pdf": {Title: "Killed Midway", Year: 2020}}))
	src := t.TempDir()
	testutil.WritePDF(t, filepath.Join(src, "x.pdf"), "x")
	// Someone else's file under the target name, then the orphaned copy.
	testutil.WritePDF(t, filepath.Join(l.Root, "2020 - Killed Midway.pdf"), "someone else's")
	testutil.WritePDF(t, filepath.Join(l.Root, "2020 - Killed Midway (2).pdf"), "x")
	p, err := l.ImportFile(context.Background(), filepath.Join(src, "x.pdf"), true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.File.Path != "2020 - Killed Midway (2).pdf" {
		t.Errorf("recorded at %q", p.File.Path)
	}
	ents, _ := os.ReadDir(l.Root)
	if len(ents) != 2 {
		t.Errorf("library folder has %d files, want 2", len(ents))
	}
	if _, err := os.Stat(filepath.Join(src, "x.pdf")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("moved source still there: %v", err)
	}
	if b, _ := os.ReadFile(filepath.Join(l.Root, "2020 - Killed Midway.pdf")); string(b) != "%PDF-1.4\nsomeone else's" {
		t.Error("someone else's file changed")
	}
	if n := count(t, s, meta.All); n != 1 {
		t.Errorf("%d papers", n)
	}
}

// TestImportCancelled cancels an import midway, as Ctrl-C does: every PDF
// that reached the library folder is recorded, none is half there, and a
// rerun imports exactly the rest.
func TestImportCancelled(t *testing.T) {
	l, s := setup(t)
	src := t.TempDir()
	const n = 40
	for i := range n {
		testutil.WritePDF(t, filepath.Join(src, "p"+string(rune('A'+i))+".pdf"), string(rune('A'+i)))
	}
	ctx, cancel := context.WithCancel(context.Background())
	rep, err := l.Import(ctx, []string{src}, ImportOptions{Workers: 2, Progress: func(done, total int) {
		if done == 10 {
			cancel()
		}
	}})
	if !errors.Is(err, context.Canceled) || len(rep.Imported) != 10 {
		t.Fatalf("cancelled import: %d imported, %v", len(rep.Imported), err)
	}
	ents, _ := os.ReadDir(l.Root)
	if len(ents) != 10 || count(t, s, meta.All) != 10 {
		t.Fatalf("after cancel: %d files, %d papers", len(ents), count(t, s, meta.All))
	}
	if sr, _ := l.Scan(context.Background(), nil); len(sr.New) != 0 {
		t.Errorf("a file was left unrecorded: %+v", sr)
	}
	rep, err = l.Import(context.Background(), []string{src}, ImportOptions{})
	if err != nil || len(rep.Imported) != n-10 || len(rep.Duplicates) != 10 {
		t.Fatalf("rerun: %d imported, %d duplicates, %v", len(rep.Imported), len(rep.Duplicates), err)
	}
	if ents, _ := os.ReadDir(l.Root); len(ents) != n || count(t, s, meta.All) != n {
		t.Errorf("after rerun: %d files, %d papers", len(ents), count(t, s, meta.All))
	}
}

// TestOpenAssignsKeys: papers created without a key (by an older version,
// or synced from one) get theirs when the library is opened, once.
func TestOpenAssignsKeys(t *testing.T) {
	l, s := setup(t)
	a, _ := s.Create(meta.Paper{Title: "Keyless", Authors: []string{"Ann Smith"}, Year: 2001})
	b, _ := s.Create(meta.Paper{Title: "Keyless", Authors: []string{"Ann Smith"}, Year: 2001})
	c, _ := s.Create(meta.Paper{Title: "Kept", CiteKey: "mine"})
	if _, err := Open(l.Root, s, nil, nil); err != nil {
		t.Fatal(err)
	}
	keys := map[string]string{}
	for _, id := range []string{a.ID, b.ID, c.ID} {
		p, _ := s.Get(id)
		keys[id] = p.CiteKey
	}
	if keys[c.ID] != "mine" || keys[a.ID] == keys[b.ID] || !strings.HasPrefix(keys[a.ID], "smith2001keyless") || !strings.HasPrefix(keys[b.ID], "smith2001keyless") {
		t.Errorf("keys: %v", keys)
	}
	v, _ := s.Vector()
	if _, err := Open(l.Root, s, nil, nil); err != nil {
		t.Fatal(err)
	}
	if v2, _ := s.Vector(); !maps.Equal(v, v2) {
		t.Errorf("second Open wrote: %v -> %v", v, v2)
	}
}

// A name taken in another case is taken: the cloud drive carries the
// folder to macOS and Windows, which hold one of the two.
func TestImportNameIgnoresCase(t *testing.T) {
	l, s := setupWith(t, byName(map[string]meta.Paper{"a.pdf": {Title: "Same Name"}, "b.pdf": {Title: "same NAME"}}))
	if err := l.SetNamePattern("{title}"); err != nil {
		t.Fatal(err)
	}
	testutil.WritePDF(t, filepath.Join(l.Root, "SAME NAME.pdf"), "someone else's")
	src := t.TempDir()
	for _, n := range []string{"a.pdf", "b.pdf"} {
		testutil.WritePDF(t, filepath.Join(src, n), n)
	}
	rep, err := l.Import(context.Background(), []string{src}, ImportOptions{})
	if err != nil || len(rep.Imported) != 2 {
		t.Fatalf("import: %+v, %v", rep, err)
	}
	var paths []string
	for _, id := range rep.Imported {
		p, _ := s.Get(id)
		paths = append(paths, meta.NameKey(p.File.Path))
	}
	slices.Sort(paths)
	if want := []string{"same name (2).pdf", "same name (3).pdf"}; !slices.Equal(paths, want) {
		t.Errorf("paths %q, want %q in some case", paths, want)
	}

	// An interrupted import's copy sits beyond a name taken in another case.
	l2, s2 := setupWith(t, byName(map[string]meta.Paper{"x.pdf": {Title: "Killed Midway"}}))
	l2.SetNamePattern("{title}")
	testutil.WritePDF(t, filepath.Join(l2.Root, "killed midway.pdf"), "someone else's")
	testutil.WritePDF(t, filepath.Join(l2.Root, "Killed Midway (2).pdf"), "x")
	testutil.WritePDF(t, filepath.Join(src, "x.pdf"), "x")
	p, err := l2.ImportFile(context.Background(), filepath.Join(src, "x.pdf"), false, nil)
	if err != nil || p.File.Path != "Killed Midway (2).pdf" {
		t.Fatalf("recorded at %q: %v", p.File.Path, err)
	}
	if n := count(t, s2, meta.All); n != 1 {
		t.Errorf("%d papers", n)
	}
}
