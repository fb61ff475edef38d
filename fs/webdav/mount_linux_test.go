package webdav

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/paperfs/paperfs/fs/fuse"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/testutil"
)

// TestBesideMount serves WebDAV and a FUSE mount from one view, as
// paperfs mount --webdav does (one process owns the store): what one
// changes, the other shows.
func TestBesideMount(t *testing.T) {
	testutil.SkipWithoutFUSE(t)
	ts := newTestServer(t, nil)
	p := ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}, pdf("art"))
	mnt := filepath.Join(t.TempDir(), "mnt")
	os.Mkdir(mnt, 0o755)
	m, err := fuse.New(ts.view, fuse.Options{}).Mount(mnt, fuse.MountOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := m.Unmount(); err != nil {
			t.Errorf("unmount: %v", err)
		}
	})

	// WebDAV makes a tag and moves the paper there: the mount lists it.
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/b", "")
	ts.want(t, http.StatusCreated, "MOVE", "/tags/a/"+art+".pdf", "", "Destination", ts.URL+"/tags/b/"+strings.ReplaceAll(art, " ", "%20")+".pdf")
	names, err := os.ReadDir(filepath.Join(mnt, "tags", "b"))
	if err != nil || len(names) < 2 || names[0].Name() != art+".json" {
		t.Fatalf("tags/b in the mount: %v %v", names, err)
	}
	// The mount saves a sidecar: WebDAV serves the saved text.
	file := filepath.Join(mnt, "all", art+".json")
	text, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, bytes.Replace(text, []byte(`"rating": 0`), []byte(`"rating": 4`), 1), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := ts.want(t, 200, "GET", "/all/"+art+".json", ""); !strings.Contains(got, `"rating": 4`) {
		t.Fatalf("WebDAV serves %s", got)
	}
	// rm in the mount's all/ trashes: WebDAV no longer has it there.
	if err := os.Remove(filepath.Join(mnt, "all", art+".pdf")); err != nil {
		t.Fatal(err)
	}
	ts.want(t, http.StatusNotFound, "GET", "/all/"+art+".pdf", "")
	if ts.get(t, p.ID).Trashed == nil {
		t.Fatal("not trashed")
	}
}
