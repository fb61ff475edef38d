package fs

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// errMayOnlyRead stands for what sync says of a member whose database
// user has the read role only.
var errMayOnlyRead = errors.New("your database user may only read labdb")

// TestReadOnlyLibrary is the table of every write in a library this
// device may only read: each answers ErrReadOnlyLibrary with the reason,
// listed in .paperfs/errors, and changes nothing; reads go on.
func TestReadOnlyLibrary(t *testing.T) {
	const name = "Knuth 1968 - Art"
	start := meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}
	sidecar := func(tv *testView, v meta.View) *Sidecar {
		n, _, err := tv.Dir(v).Lookup(name + ".json")
		if err != nil {
			t.Fatal(err)
		}
		return n.(*Sidecar)
	}
	pdf := func(tv *testView) PDF {
		n, _, err := tv.Dir(all).Lookup(name + ".pdf")
		if err != nil {
			t.Fatal(err)
		}
		return n.(PDF)
	}
	for _, tc := range []struct {
		what string
		op   func(tv *testView) error
	}{
		{"a PDF copied in", func(tv *testView) error { _, err := tv.Dir(tag("a")).Create("new.pdf", 0o644); return err }},
		{"an editor's temporary", func(tv *testView) error { _, err := tv.Dir(all).Create(".x.swp", 0o644); return err }},
		{"a sidecar opened for writing", func(tv *testView) error { _, err := sidecar(tv, all).Open(os.O_WRONLY); return err }},
		{"a sidecar opened read-write", func(tv *testView) error { _, err := sidecar(tv, all).Open(os.O_RDWR); return err }},
		{"a sidecar truncated", func(tv *testView) error { return sidecar(tv, all).Truncate(nil, 0) }},
		{"rm in all/ (trash)", func(tv *testView) error { return tv.Dir(all).Unlink(name + ".pdf") }},
		{"rm in a tag (untag)", func(tv *testView) error { return tv.Dir(tag("a")).Unlink(name + ".pdf") }},
		{"mv between tags (retag)", func(tv *testView) error {
			return tv.Dir(tag("a")).Rename(name+".pdf", nil, tv.Dir(tag("b")), name+".pdf", RenameFlags{})
		}},
		{"mv into the trash", func(tv *testView) error {
			return tv.Dir(all).Rename(name+".pdf", nil, tv.Dir(meta.View{Kind: meta.Trash}), name+".pdf", RenameFlags{})
		}},
		{"a sidecar renamed to a backup", func(tv *testView) error {
			return tv.Dir(all).Rename(name+".json", nil, tv.Dir(all), name+".json~", RenameFlags{})
		}},
		{"ln into a tag", func(tv *testView) error { return tv.Dir(tag("b")).Link(pdf(tv), name+".pdf") }},
		{"ln -s", func(tv *testView) error { _, err := tv.Dir(all).Symlink("x", ".#lock"); return err }},
		{"mkdir in a view", func(tv *testView) error { return tv.Dir(all).Mkdir("x") }},
		{"mkdir tags/NAME", func(tv *testView) error { return tv.Mkdir(meta.Tags, "new") }},
		{"rmdir tags/NAME", func(tv *testView) error { return tv.Rmdir(meta.Tags, "b") }},
		{"mv tags/a tags/c", func(tv *testView) error { return tv.RenameGroup(meta.Tags, "a", "c") }},
		{"a PDF opened for writing", func(tv *testView) error { _, err := pdf(tv).Open(os.O_WRONLY); return err }},
		{"a PDF replaced", func(tv *testView) error { _, err := pdf(tv).Replace(); return err }},
	} {
		t.Run(tc.what, func(t *testing.T) {
			tv := newTestView(t)
			p := tv.add(t, start)
			if err := tv.Mkdir(meta.Tags, "b"); err != nil {
				t.Fatal(err)
			}
			var why atomic.Pointer[error]
			tv.opts.ReadOnly = func() error {
				if e := why.Load(); e != nil {
					return *e
				}
				return nil
			}
			before := tv.get(t, p.ID)
			why.Store(&errMayOnlyRead)
			err := tc.op(tv)
			if !errors.Is(err, ErrReadOnlyLibrary) || !errors.Is(err, errMayOnlyRead) {
				t.Fatalf("got %v, want ErrReadOnlyLibrary with the reason", err)
			}
			if after := tv.get(t, p.ID); !reflect.DeepEqual(before, after) {
				t.Errorf("the paper changed:\n%+v\n%+v", before, after)
			}
			if ok, _ := tv.HasGroup(meta.Tags, "b"); !ok {
				t.Error("tags/b went")
			}
			rs := tv.Rejections()
			if len(rs) != 1 || !strings.Contains(rs[0].Problem, "your database user may only read labdb") {
				t.Errorf(".paperfs/errors: %+v", rs)
			}
			// Reads go on.
			if got := read(t, tv, all, name+".json"); !strings.Contains(got, `"Art"`) {
				t.Errorf("sidecar reads %q", got)
			}
			// Writable again (the member was given readWrite): the same
			// write goes through, or fails for its own reason.
			why.Store(nil)
			if err := tc.op(tv); errors.Is(err, ErrReadOnlyLibrary) {
				t.Errorf("writable again: %v", err)
			}
		})
	}
}

// TestReadOnlySaveKept: a save whose editor opened the sidecar while the
// library was writable, committed after it turned read-only, is refused
// and its text kept, never lost and never queued.
func TestReadOnlySaveKept(t *testing.T) {
	tv := newTestView(t)
	p := tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	text := read(t, tv, all, file)
	n, _, err := tv.Dir(all).Lookup(file)
	if err != nil {
		t.Fatal(err)
	}
	h, err := n.(*Sidecar).Open(os.O_WRONLY | os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	defer h.Release()
	edited := strings.Replace(text, `"rating": 0`, `"rating": 3`, 1)
	if _, err := h.Write([]byte(edited), 0); err != nil {
		t.Fatal(err)
	}
	tv.opts.ReadOnly = func() error { return errMayOnlyRead }
	if err := h.Commit(); !errors.Is(err, ErrReadOnlyLibrary) {
		t.Fatalf("commit: %v", err)
	}
	if got := tv.get(t, p.ID); got.Rating != 0 {
		t.Errorf("rating %d stored", got.Rating)
	}
	rs := tv.Rejections()
	if len(rs) != 1 || rs[0].Kept == "" {
		t.Fatalf("rejections %+v", rs)
	}
	kept, err := os.ReadFile(rs[0].Kept)
	if err != nil || string(kept) != edited {
		t.Errorf("kept %q, %v", kept, err)
	}
}
