package webdav

import (
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

// newLibraryServer is a server of the personal library with a shared one,
// lab, under /shared/lab/; ts is the personal library's, lab the lab's
// (its Server unused); readOnly makes the lab read-only while set.
func newLibraryServer(t *testing.T) (ts, lab *testServer, readOnly *atomic.Pointer[error]) {
	t.Helper()
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	readOnly = &atomic.Pointer[error]{}
	open := func(origin func(string) (meta.Paper, bool), ro func() error) *testServer {
		dir := t.TempDir()
		lib, data := filepath.Join(dir, "library"), filepath.Join(dir, "data")
		os.MkdirAll(lib, 0o755)
		store, err := meta.Open(filepath.Join(data, "meta.db"), meta.Options{})
		if err != nil {
			t.Fatal(err)
		}
		l, err := library.Open(lib, store, nil, log)
		if err != nil {
			t.Fatal(err)
		}
		view := pfs.New(store, pfs.Options{Library: lib, Logger: log, RejectDir: filepath.Join(data, "rejected"), Folder: l,
			Origin: origin, ReadOnly: ro})
		t.Cleanup(func() {
			view.Close()
			store.Close()
		})
		return &testServer{view: view, store: store, lib: lib, log: logs}
	}
	in := func(o **testServer) func(string) (meta.Paper, bool) {
		return func(sum string) (meta.Paper, bool) {
			if ids, _ := (*o).store.ByHash(sum); len(ids) > 0 {
				p, err := (*o).store.Get(ids[0])
				return p, err == nil
			}
			return meta.Paper{}, false
		}
	}
	ts = open(in(&lab), nil)
	lab = open(in(&ts), func() error {
		if e := readOnly.Load(); e != nil {
			return *e
		}
		return nil
	})
	h := New(ts.view, Options{Logger: log})
	if err := h.AddShared("lab", lab.view); err != nil {
		t.Fatal(err)
	}
	if err := h.AddShared("lab", lab.view); err == nil {
		t.Error("a second library named lab was taken")
	}
	ts.Server = httptest.NewServer(h)
	t.Cleanup(ts.Server.Close)
	return ts, lab, readOnly
}

// TestSharedLibraries: over WebDAV as in the mount, /shared/lab/ is the
// lab's library with its own views; COPY from it into a tag of mine
// imports the paper with its metadata; MOVE between libraries is refused
// (a client copies instead); a read-only library answers 403 to every
// write, with the reason.
func TestSharedLibraries(t *testing.T) {
	ts, lab, readOnly := newLibraryServer(t)
	src := lab.add(t, meta.Paper{Title: "Attention", Authors: []string{"Ashish Vaswani"}, Year: 2017, Tags: []string{"transformers"}},
		[]byte("%PDF-1.4 attention"))
	ts.add(t, meta.Paper{Title: "Mine", Year: 2020}, []byte("%PDF-1.4 mine"))
	const name = "Vaswani 2017 - Attention"
	esc := strings.ReplaceAll(name, " ", "%20")

	root := ts.want(t, http.StatusMultiStatus, "PROPFIND", "/", "", "Depth", "1")
	if !strings.Contains(root, "<D:href>/shared/</D:href>") {
		t.Errorf("/ lists no shared/:\n%s", root)
	}
	if got := ts.want(t, http.StatusMultiStatus, "PROPFIND", "/shared/", "", "Depth", "1"); !strings.Contains(got, "/shared/lab/") {
		t.Errorf("/shared/ lists no lab/:\n%s", got)
	}
	got := ts.want(t, http.StatusMultiStatus, "PROPFIND", "/shared/lab/all/", "", "Depth", "1")
	if !strings.Contains(got, "/shared/lab/all/"+esc+".pdf") || strings.Contains(got, "Mine") {
		t.Errorf("/shared/lab/all/:\n%s", got)
	}
	if got := ts.want(t, 200, "GET", "/shared/lab/all/"+esc+".json", ""); !strings.Contains(got, `"title": "Attention"`) {
		t.Errorf("the lab's sidecar: %s", got)
	}
	if got := ts.want(t, 200, "GET", "/shared/lab/library.bib", ""); !strings.Contains(got, "Attention") || strings.Contains(got, "Mine") {
		t.Errorf("the lab's library.bib: %s", got)
	}
	ts.want(t, http.StatusNotFound, "GET", "/shared/nolab/all/", "")
	ts.want(t, http.StatusForbidden, "MKCOL", "/shared/newlab", "")

	// COPY into my tag: imported with the lab's metadata.
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/foo", "")
	sub := ts.store.Subscribe()
	defer sub.Close()
	ts.want(t, http.StatusCreated, "COPY", "/shared/lab/all/"+esc+".pdf", "", "Destination", ts.URL+"/tags/foo/"+esc+".pdf")
	p := ts.waitPaper(t, sub, func(p *meta.Paper) bool { return p.Title == "Attention" })
	if p.ID == src.ID || p.Year != 2017 || !slices.Equal(p.Tags, []string{"foo", "transformers"}) {
		t.Errorf("imported as %+v", p)
	}
	if _, err := os.Stat(filepath.Join(ts.lib, p.File.Path)); err != nil {
		t.Errorf("not in my folder: %v", err)
	}
	// MOVE between libraries: 502, nothing moved.
	ts.want(t, http.StatusBadGateway, "MOVE", "/all/Mine.pdf", "", "Destination", ts.URL+"/shared/lab/all/Mine.pdf")

	// Read-only.
	reason := errors.New("your database user may only read labdb")
	readOnly.Store(&reason)
	for _, w := range [][]string{
		{"PUT", "/shared/lab/all/new.pdf", "%PDF-1.4 new"},
		{"PUT", "/shared/lab/all/" + esc + ".json", "{}"},
		{"DELETE", "/shared/lab/all/" + esc + ".pdf", ""},
		{"MKCOL", "/shared/lab/tags/x", ""},
		{"DELETE", "/shared/lab/tags/transformers", ""},
		{"MOVE", "/shared/lab/tags/transformers/" + esc + ".pdf", "", "Destination", ts.URL + "/shared/lab/untagged/" + esc + ".pdf"},
	} {
		resp, body := ts.do(t, w[0], w[1], w[2], w[3:]...)
		if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "may only read labdb") {
			t.Errorf("%s %s in a read-only library: %d %q", w[0], w[1], resp.StatusCode, body)
		}
	}
	if got := ts.want(t, 200, "GET", "/shared/lab/.paperfs/errors", ""); !strings.Contains(got, "may only read labdb") {
		t.Errorf("the lab's .paperfs/errors: %s", got)
	}
	if p := lab.get(t, src.ID); p.Trashed != nil || !slices.Equal(p.Tags, []string{"transformers"}) {
		t.Errorf("the read-only lab's paper changed: %+v", p)
	}
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/mine", "")
}
