package fs

import (
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/meta"
)

// TestTruncatedByAnotherWriter: a writer's text emptied by another
// writer's truncate (the kernel sends it without a handle) is refused
// with the reason, not as the user's mistake alone.
func TestTruncatedByAnotherWriter(t *testing.T) {
	tv := newTestView(t)
	tv.add(t, meta.Paper{Title: "Art", Year: 1968})
	const file = "1968 - Art.json"
	text := read(t, tv, all, file)
	n, _, err := tv.Dir(all).Lookup(file)
	if err != nil {
		t.Fatal(err)
	}
	sc := n.(*Sidecar)
	a, err := sc.Open(os.O_WRONLY | os.O_TRUNC)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	if _, err := a.Write([]byte(strings.Replace(text, `"rating": 0`, `"rating": 3`, 1)), 0); err != nil {
		t.Fatal(err)
	}
	// Another writer truncates the file: `: > file` or truncate -s 0.
	if err := sc.Truncate(nil, 0); err != nil {
		t.Fatal(err)
	}
	err = a.Commit()
	if !errors.Is(err, meta.ErrInvalid) || !errors.Is(err, ErrCutByOther) {
		t.Fatalf("commit of the emptied text: %v", err)
	}
	rs := tv.Rejections()
	if len(rs) != 1 || !strings.Contains(rs[0].Problem, "the file was truncated by another writer") {
		t.Fatalf("rejections %+v", rs)
	}
	// Its own truncate is no one else's: no such reason.
	b, err := sc.Open(os.O_WRONLY)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	b.Write([]byte("{"), 0)
	if err := sc.Truncate(b, 1); err != nil {
		t.Fatal(err)
	}
	if err := b.Commit(); errors.Is(err, ErrCutByOther) || !errors.Is(err, meta.ErrInvalid) {
		t.Fatalf("commit after its own truncate: %v", err)
	}
}
