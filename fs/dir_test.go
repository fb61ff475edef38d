package fs

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

// These tests drive the view's rules in-process, with a real store and
// library folder and no mount: what each operation in each view means.
// The mounted tests in fs/fuse check the same rules through the kernel.

type testView struct {
	*FS
	store *meta.Store
	lib   string
	data  string
}

func newTestView(t testing.TB) *testView {
	t.Helper()
	dir := t.TempDir()
	lib, data := filepath.Join(dir, "library"), filepath.Join(dir, "data")
	if err := os.MkdirAll(lib, 0o755); err != nil {
		t.Fatal(err)
	}
	store, err := meta.Open(filepath.Join(data, "meta.db"), meta.Options{})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	l, err := library.Open(lib, store, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	v := New(store, Options{Library: lib, Logger: log, RejectDir: filepath.Join(data, "rejected"), Folder: l})
	t.Cleanup(func() {
		v.Close()
		store.Close()
	})
	return &testView{FS: v, store: store, lib: lib, data: data}
}

// add makes a paper with a PDF in the library folder.
func (tv *testView) add(t *testing.T, p meta.Paper) meta.Paper {
	t.Helper()
	body := []byte("%PDF-1.4 " + p.Title)
	p.File = meta.File{Path: strings.ReplaceAll(p.Title, " ", "_") + ".pdf", Size: int64(len(body)),
		SHA256: fmt.Sprintf("%x", sha256.Sum256(body))}
	if err := os.WriteFile(filepath.Join(tv.lib, p.File.Path), body, 0o644); err != nil {
		t.Fatal(err)
	}
	p, err := tv.store.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (tv *testView) get(t *testing.T, id string) meta.Paper {
	t.Helper()
	p, err := tv.store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func tag(g string) meta.View    { return meta.View{Kind: meta.Tags, Group: g} }
func folder(g string) meta.View { return meta.View{Kind: meta.Folders, Group: g} }

var all = meta.View{Kind: meta.All}

// TestOperations is the table of what a file manager's and a shell's
// verbs mean in each view.
func TestOperations(t *testing.T) {
	const name = "Knuth 1968 - Art"
	start := meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}
	for _, tc := range []struct {
		what  string
		op    func(tv *testView) error
		err   error // nil: succeeds
		check func(t *testing.T, p meta.Paper, tv *testView)
	}{
		{"rm in a tag untags, and the emptied tag stays", func(tv *testView) error { return tv.Dir(tag("a")).Unlink(name + ".pdf") }, nil,
			func(t *testing.T, p meta.Paper, tv *testView) {
				if len(p.Tags) != 0 || p.Trashed != nil {
					t.Errorf("tags %v trashed %v", p.Tags, p.Trashed)
				}
				if ok, _ := tv.HasGroup(meta.Tags, "a"); !ok {
					t.Error("tags/a went with its last paper")
				}
			}},
		{"rm in all/ trashes", func(tv *testView) error { return tv.Dir(all).Unlink(name + ".pdf") }, nil,
			func(t *testing.T, p meta.Paper, tv *testView) {
				if p.Trashed == nil {
					t.Error("not trashed")
				}
			}},
		{"rm of a sidecar is refused", func(tv *testView) error { return tv.Dir(all).Unlink(name + ".json") }, ErrNotPermitted, nil},
		{"rm in authors/ is refused", func(tv *testView) error {
			return tv.Dir(meta.View{Kind: meta.Authors, Group: "Donald Knuth"}).Unlink(name + ".pdf")
		}, ErrNotPermitted, nil},
		{"rm of a name not there", func(tv *testView) error { return tv.Dir(all).Unlink("nothing.pdf") }, meta.ErrNotFound, nil},
		{"mv between tags retags", func(tv *testView) error {
			return tv.Dir(tag("a")).Rename(name+".pdf", nil, tv.Dir(tag("b")), name+".pdf", RenameFlags{})
		}, nil, func(t *testing.T, p meta.Paper, tv *testView) {
			if !slices.Equal(p.Tags, []string{"b"}) {
				t.Errorf("tags %v", p.Tags)
			}
		}},
		{"mv from all/ into a folder files", func(tv *testView) error {
			return tv.Dir(all).Rename(name+".pdf", nil, tv.Dir(folder("f")), name+".pdf", RenameFlags{})
		}, nil, func(t *testing.T, p meta.Paper, tv *testView) {
			if !slices.Equal(p.Folders, []string{"f"}) || !slices.Equal(p.Tags, []string{"a"}) {
				t.Errorf("tags %v folders %v", p.Tags, p.Folders)
			}
		}},
		{"mv from a tag to all/ untags", func(tv *testView) error {
			return tv.Dir(tag("a")).Rename(name+".pdf", nil, tv.Dir(all), name+".pdf", RenameFlags{})
		}, nil, func(t *testing.T, p meta.Paper, tv *testView) {
			if len(p.Tags) != 0 {
				t.Errorf("tags %v", p.Tags)
			}
		}},
		{"mv of a PDF within its view is refused", func(tv *testView) error {
			return tv.Dir(all).Rename(name+".pdf", nil, tv.Dir(all), "other.pdf", RenameFlags{})
		}, ErrNotPermitted, nil},
		{"mv between views that are not sets is refused", func(tv *testView) error {
			return tv.Dir(all).Rename(name+".pdf", nil, tv.Dir(meta.View{Kind: meta.Years, Group: "1968"}), name+".pdf", RenameFlags{})
		}, ErrNotPermitted, nil},
		{"exchange is refused", func(tv *testView) error {
			return tv.Dir(tag("a")).Rename(name+".pdf", nil, tv.Dir(tag("b")), name+".pdf", RenameFlags{Exchange: true})
		}, ErrNotPermitted, nil},
		{"ln into a folder files", func(tv *testView) error {
			n, _, err := tv.Dir(all).Lookup(name + ".pdf")
			if err != nil {
				return err
			}
			return tv.Dir(folder("g")).Link(n, name+".pdf")
		}, nil, func(t *testing.T, p meta.Paper, tv *testView) {
			if !slices.Equal(p.Folders, []string{"g"}) {
				t.Errorf("folders %v", p.Folders)
			}
		}},
		{"ln into all/ is refused", func(tv *testView) error {
			n, _, err := tv.Dir(tag("a")).Lookup(name + ".pdf")
			if err != nil {
				return err
			}
			return tv.Dir(all).Link(n, name+".pdf")
		}, ErrNotPermitted, nil},
		{"mkdir in a view is refused", func(tv *testView) error { return tv.Dir(all).Mkdir("sub") }, ErrNotPermitted, nil},
		{"mkdir of an author is refused", func(tv *testView) error { return tv.Mkdir(meta.Authors, "Someone") }, ErrNotPermitted, nil},
		{"mkdir of a tag makes an empty tag", func(tv *testView) error { return tv.Mkdir(meta.Tags, "new") }, nil,
			func(t *testing.T, p meta.Paper, tv *testView) {
				if ok, _ := tv.HasGroup(meta.Tags, "new"); !ok {
					t.Error("tags/new missing")
				}
			}},
		{"rmdir of a tag with papers", func(tv *testView) error { return tv.Rmdir(meta.Tags, "a") }, meta.ErrNotEmpty, nil},
		{"mv of a tag renames it on its papers", func(tv *testView) error { return tv.RenameGroup(meta.Tags, "a", "z") }, nil,
			func(t *testing.T, p meta.Paper, tv *testView) {
				if !slices.Equal(p.Tags, []string{"z"}) {
					t.Errorf("tags %v", p.Tags)
				}
			}},
		{"mv of a tag onto another never merges them", func(tv *testView) error {
			if err := tv.Mkdir(meta.Tags, "z"); err != nil {
				return err
			}
			return tv.RenameGroup(meta.Tags, "a", "z")
		}, meta.ErrExists, nil},
	} {
		t.Run(tc.what, func(t *testing.T) {
			tv := newTestView(t)
			p := tv.add(t, start)
			err := tc.op(tv)
			if tc.err == nil && err != nil || tc.err != nil && !errors.Is(err, tc.err) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if tc.check != nil {
				tc.check(t, tv.get(t, p.ID), tv)
			}
		})
	}
}

// save writes text into a handle of name in v and commits it, as an
// editor saving in place does.
func save(tv *testView, v meta.View, name, text string) error {
	n, _, err := tv.Dir(v).Lookup(name)
	if err != nil {
		return err
	}
	h, err := n.(*Sidecar).Open(os.O_WRONLY | os.O_TRUNC)
	if err != nil {
		return err
	}
	defer h.Release()
	if _, err := h.Write([]byte(text), 0); err != nil {
		return err
	}
	return h.Commit()
}

func read(t *testing.T, tv *testView, v meta.View, name string) string {
	t.Helper()
	n, _, err := tv.Dir(v).Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	h, err := n.(*Sidecar).Open(os.O_RDONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	b, err := h.Read(make([]byte, MaxSidecar), 0)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestSidecarSave(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	text := read(t, tv, all, file)
	if err := save(tv, all, file, strings.Replace(text, `"rating": 0`, `"rating": 4`, 1)); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID).Rating; got != 4 {
		t.Fatalf("rating %d after save", got)
	}

	// Refused: the store keeps its metadata, the text is kept, the
	// refusal is listed.
	err := save(tv, all, file, `{"title": `)
	if !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("invalid save: %v", err)
	}
	rs := tv.Rejections()
	if len(rs) != 1 || rs[0].Kept == "" || rs[0].File != "all/"+file {
		t.Fatalf("rejections %+v", rs)
	}
	if b, _ := os.ReadFile(rs[0].Kept); string(b) != `{"title": ` {
		t.Errorf("kept %q", b)
	}

	// Too large: refused before it takes memory.
	n, _, _ := tv.Dir(all).Lookup(file)
	h, _ := n.(*Sidecar).Open(os.O_WRONLY)
	if _, err := h.Write([]byte("x"), MaxSidecar); !errors.Is(err, ErrTooLarge) {
		t.Errorf("write past the bound: %v", err)
	}
	h.Release()
}

// TestSaveBufferTwice: an editor that saves its buffer twice, the second
// time setting a field back to what it was when it opened the file, gets
// the second save.
func TestSaveBufferTwice(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	text := read(t, tv, all, file)
	if err := save(tv, all, file, strings.Replace(text, `"rating": 0`, `"rating": 4`, 1)); err != nil {
		t.Fatal(err)
	}
	if err := save(tv, all, file, text); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID).Rating; got != 0 {
		t.Fatalf("rating %d after saving 0 again, want 0", got)
	}
}

// TestSaveKeepsConcurrentEdit: a save made from an older version changes
// only what its text changed there.
func TestSaveKeepsConcurrentEdit(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	text := read(t, tv, all, file)
	if _, err := tv.store.Update(p.ID, func(p *meta.Paper) error { p.Note = "from elsewhere"; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := save(tv, all, file, strings.Replace(text, `"rating": 0`, `"rating": 2`, 1)); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID); got.Rating != 2 || got.Note != "from elsewhere" {
		t.Fatalf("rating %d note %q", got.Rating, got.Note)
	}
}

// TestEditorRenames: vim's and sed -i's way of saving, by scratch files
// and renames.
func TestEditorRenames(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	d := tv.Dir(all)
	text := read(t, tv, all, file)

	// vim: rename the sidecar to a backup, which becomes a scratch copy;
	// the paper keeps its sidecar.
	if err := d.Rename(file, nil, d, file+"~", RenameFlags{}); err != nil {
		t.Fatal(err)
	}
	if got := read(t, tv, all, file+"~"); got != text {
		t.Errorf("backup holds %q", got)
	}
	if _, _, err := d.Lookup(file); err != nil {
		t.Errorf("the paper lost its sidecar: %v", err)
	}

	// sed -i: write a temporary, rename it onto the sidecar.
	n, err := d.Create("sedAb12Cd", 0o600)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := n.(*Sidecar).Open(os.O_WRONLY)
	h.Write([]byte(strings.Replace(text, `"Art"`, `"Art II"`, 1)), 0)
	h.Commit() // a scratch file's commit saves nothing
	h.Release()
	if err := d.Rename("sedAb12Cd", n, d, file, RenameFlags{NoReplace: true}); !errors.Is(err, meta.ErrExists) {
		t.Errorf("no-replace rename onto a sidecar: %v", err)
	}
	if err := d.Rename("sedAb12Cd", n, d, file, RenameFlags{}); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, p.ID).Title; got != "Art II" {
		t.Fatalf("title %q after the rename", got)
	}
	if n.(*Sidecar).ID() != p.ID {
		t.Error("the renamed file is not the paper's sidecar")
	}
	// A scratch file cannot replace a PDF.
	if _, err := d.Create("tmp123456", 0o600); err != nil {
		t.Fatal(err)
	}
	if err := d.Rename("tmp123456", nil, d, "1968 - Art II.pdf", RenameFlags{}); !errors.Is(err, meta.ErrExists) {
		t.Errorf("scratch onto a PDF: %v", err)
	}
}

// copyIn writes body into name in v as cp does: create, write, close.
func copyIn(tv *testView, v meta.View, name string, body []byte) error {
	n, err := tv.Dir(v).Create(name, 0o644)
	if err != nil {
		return err
	}
	in := n.(*Incoming)
	w, err := in.Open(os.O_WRONLY)
	if err != nil {
		return err
	}
	if _, err := w.Write(body); err != nil {
		return err
	}
	w.Close()
	defer in.Release(os.O_WRONLY)
	return in.Finish()
}

func TestCopyIn(t *testing.T) {
	tv := newTestView(t)
	r := recorder{make(chan string, 100)}
	tv.Start(r)
	// A new PDF into a tag: the close returns at once; the paper appears
	// tagged when the import is done, and the copy's own name is its
	// alias for a while (see TestPastedNameStays).
	if err := copyIn(tv, tag("ml"), "new paper.pdf", []byte("%PDF-1.4 new paper")); err != nil {
		t.Fatal(err)
	}
	// Told twice: the paper's name appeared (it has the copy's name: no
	// extractor here), and the copy's is its PDF's alias.
	r.waitFor(t, "tags/ml/new paper.pdf")
	r.waitFor(t, "tags/ml/new paper.pdf")
	es, _ := tv.Dir(tag("ml")).List()
	if len(es) != 1 {
		t.Fatalf("tags/ml lists %v after the import", es)
	}
	if got := scratchNames(tv.Dir(tag("ml"))); len(got) != 0 {
		t.Errorf("tags/ml lists %q besides the paper", got)
	}
	if n, _, err := tv.Dir(tag("ml")).Lookup("new paper.pdf"); err != nil {
		t.Error(err)
	} else if n != Node(PDF{fs: tv.FS, ID: es[0].ID}) {
		t.Errorf("tags/ml/new paper.pdf is a %T after the import, want the paper's PDF", n)
	}

	// The same PDF into another tag: it joins, no second paper.
	if err := copyIn(tv, tag("nlp"), "again.pdf", []byte("%PDF-1.4 new paper")); err != nil {
		t.Fatal(err)
	}
	p := tv.get(t, es[0].ID)
	if !slices.Equal(p.Tags, []string{"ml", "nlp"}) {
		t.Errorf("tags %v after copying the same PDF into tags/nlp", p.Tags)
	}
	if n, _ := tv.store.Count(all); n != 1 {
		t.Errorf("%d papers, want 1", n)
	}

	// Not a PDF: refused at close, gone from the view, kept, listed.
	err := copyIn(tv, all, "fake.pdf", []byte("<html>not a pdf</html>"))
	if !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("fake.pdf: %v", err)
	}
	if _, _, err := tv.Dir(all).Lookup("fake.pdf"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("fake.pdf still in all/: %v", err)
	}
	rs := tv.Rejections()
	if len(rs) != 1 || rs[0].File != "all/fake.pdf" || rs[0].Kept == "" {
		t.Fatalf("rejections %+v", rs)
	}
	if b, _ := os.ReadFile(rs[0].Kept); string(b) != "<html>not a pdf</html>" {
		t.Errorf("kept %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(tv.lib, ".paperfs-incoming-*")); len(left) != 0 {
		t.Errorf("left in the library folder: %v", left)
	}
}

// TestCited: the mount's tag.bib and paperfs export cite the same papers.
func TestCited(t *testing.T) {
	tv := newTestView(t)
	a := tv.add(t, meta.Paper{Title: "A", Year: 2001, Tags: []string{"ml"}})
	tv.add(t, meta.Paper{Title: "B", Year: 2002, Tags: []string{"other"}})
	c := tv.add(t, meta.Paper{Title: "C", Year: 2003, Tags: []string{"ml"}})
	if _, err := tv.opts.Folder.Trash(c.ID); err != nil {
		t.Fatal(err)
	}
	ps, err := Cited(tv.store, "ml")
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].ID != a.ID {
		t.Errorf("Cited(ml) = %v, want only A", ps)
	}
	data, _, err := tv.Bib(tag("ml")).Content()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), a.CiteKey) || strings.Count(string(data), "@") != 1 {
		t.Errorf("tag.bib:\n%s", data)
	}
	ps, _ = Cited(tv.store, "")
	if len(ps) != 2 {
		t.Errorf("library.bib cites %d papers, want 2 (not the trashed one)", len(ps))
	}
}

// recorder is a Notifier that records what it is told.
type recorder struct{ c chan string }

func (r recorder) Entry(v meta.View, name string) { r.c <- v.String() + "/" + name }
func (r recorder) Content(id string)              { r.c <- "content " + id }

// waitFor waits until the recorder is told e.
func (r recorder) waitFor(t *testing.T, e string) {
	t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		select {
		case got := <-r.c:
			if got == e {
				return
			}
		case <-deadline:
			t.Fatalf("timed out waiting to be told %s", e)
		}
	}
}

// TestEvents: a change in the store reaches a frontend as the names it
// made stale.
func TestEvents(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	r := recorder{make(chan string, 100)}
	tv.Start(r)
	if _, err := tv.store.Update(p.ID, func(p *meta.Paper) error { p.Tags = []string{"new"}; return nil }); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"tags/new/1968 - Art.pdf": false, "tags/new/1968 - Art.json": false, "tags/new": false, "content " + p.ID: false}
	deadline := time.After(10 * time.Second)
	for missing := len(want); missing > 0; {
		select {
		case e := <-r.c:
			if seen, ok := want[e]; ok && !seen {
				want[e] = true
				missing--
			}
		case <-deadline:
			t.Fatalf("not told: %v", want)
		}
	}
}

// TestEscapedGroup: a tag whose name a drive would refuse has an escaped
// directory; a paper moved or copied into it gets the tag itself.
func TestEscapedGroup(t *testing.T) {
	tv := newTestView(t)
	tv.add(t, meta.Paper{Title: "A", Year: 2001, Tags: []string{`x\y`}})
	b := tv.add(t, meta.Paper{Title: "B", Year: 2002})
	dir := tag(meta.GroupName(`x\y`))
	if dir.Group == `x\y` {
		t.Fatalf("the tag's directory is not escaped: %q", dir.Group)
	}
	if err := tv.Dir(all).Rename("2002 - B.pdf", nil, tv.Dir(dir), "2002 - B.pdf", RenameFlags{}); err != nil {
		t.Fatal(err)
	}
	if got := tv.get(t, b.ID).Tags; !slices.Equal(got, []string{`x\y`}) {
		t.Errorf("tags %q after mv into %s, want [x\\y]", got, dir.Group)
	}
	ps, err := Cited(tv.store, `x\y`)
	if err != nil || len(ps) != 2 {
		t.Errorf("the .bib of x\\y cites %d papers (%v), want 2", len(ps), err)
	}
	data, _, err := tv.Bib(dir).Content()
	if err != nil || strings.Count(string(data), "@") != 2 {
		t.Errorf("tag.bib of %s (%v):\n%s", dir.Group, err, data)
	}
}

// TestJunk: what Finder and Explorer write beside what they show is
// scratch everywhere, never a paper, an import or an error; anything else
// made at the root or in tags/ is refused.
func TestJunk(t *testing.T) {
	tv := newTestView(t)
	tv.add(t, meta.Paper{Title: "Art", Year: 1968, Tags: []string{"a"}})
	root, tags := tv.Dir(meta.View{}), tv.Dir(meta.View{Kind: meta.Tags})
	for _, tc := range []struct {
		d    Dir
		name string
	}{
		{root, ".DS_Store"}, {root, "._all"}, {root, "desktop.ini"}, {tags, "Thumbs.db"}, {tags, "._a"},
		{tv.Dir(all), "._1968 - Art.pdf"}, {tv.Dir(all), "~$notes.pdf"}, {tv.Dir(tag("a")), "thumbs.db"},
	} {
		n, err := tc.d.Create(tc.name, 0o644)
		if err != nil {
			t.Errorf("%s/%s: %v", tc.d.View, tc.name, err)
			continue
		}
		sc, ok := n.(*Sidecar)
		if !ok || sc.ID() != "" {
			t.Errorf("%s/%s is a %T, want a scratch file", tc.d.View, tc.name, n)
			continue
		}
		h, _ := sc.Open(os.O_WRONLY)
		h.Write([]byte("junk"), 0)
		if err := h.Commit(); err != nil {
			t.Errorf("%s/%s: close: %v", tc.d.View, tc.name, err)
		}
		h.Release()
		if got, _, err := tc.d.Lookup(tc.name); err != nil || got != n {
			t.Errorf("%s/%s: lookup %v %v", tc.d.View, tc.name, got, err)
		}
		if err := tc.d.Unlink(tc.name); err != nil {
			t.Errorf("%s/%s: unlink: %v", tc.d.View, tc.name, err)
		}
	}
	if len(tv.Rejections()) != 0 {
		t.Errorf("junk made rejections: %v", tv.Rejections())
	}
	for _, tc := range []struct {
		d    Dir
		name string
	}{{root, "notes.txt"}, {root, "x.pdf"}, {tags, "x.pdf"}} {
		if _, err := tc.d.Create(tc.name, 0o644); !errors.Is(err, ErrNotPermitted) {
			t.Errorf("%s/%s: %v, want ErrNotPermitted", tc.d.View, tc.name, err)
		}
	}
	if _, _, err := root.Lookup("1968 - Art.pdf"); !errors.Is(err, meta.ErrNotFound) {
		t.Errorf("a paper's file at the root: %v", err)
	}
}

// TestReplacePDF: new content for a PDF takes its place only when
// complete; an abandoned one leaves it as it was, and nothing behind.
func TestReplacePDF(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	n, _, err := tv.Dir(all).Lookup("1968 - Art.pdf")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(tv.lib, p.File.Path)
	r, err := n.(PDF).Replace()
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("%PDF-1.4 cut off"))
	r.Abort()
	if b, _ := os.ReadFile(path); string(b) != "%PDF-1.4 Art" {
		t.Fatalf("after an abandoned replacement the PDF holds %q", b)
	}
	r, err = n.(PDF).Replace()
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("%PDF-1.4 annotated"))
	if err := r.Commit(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(path); string(b) != "%PDF-1.4 annotated" {
		t.Fatalf("after the replacement the PDF holds %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(tv.lib, ".paperfs-incoming-*")); len(left) != 0 {
		t.Errorf("left in the library folder: %v", left)
	}
}
