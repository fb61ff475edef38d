package webdav

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// TestDuplicates: WebDAV shows duplicates/ as the mount does, and changes
// nothing there.
func TestDuplicates(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Added: time.Now().Add(-time.Hour)}, []byte("%PDF-1.4 art"))
	b := ts.add(t, meta.Paper{Title: "Art.", Authors: []string{"D. Knuth"}, Year: 1968}, []byte("%PDF-1.4 art again"))
	ts.add(t, meta.Paper{Title: "Other", Authors: []string{"Donald Knuth"}, Year: 1968}, []byte("%PDF-1.4 other"))
	esc := func(s string) string { return (&url.URL{Path: s}).EscapedPath() }
	got := ts.want(t, http.StatusMultiStatus, "PROPFIND", "/duplicates/", "", "Depth", "1")
	if !strings.Contains(got, esc("/duplicates/"+art+"/")) || strings.Contains(got, "Other") {
		t.Fatalf("duplicates/ lists:\n%s", got)
	}
	bName := art + " [" + b.ID + "]"
	got = ts.want(t, http.StatusMultiStatus, "PROPFIND", esc("/duplicates/"+art+"/"), "", "Depth", "1")
	for _, want := range []string{art + ".pdf", art + ".json", bName + ".pdf", bName + ".json"} {
		if !strings.Contains(got, esc(want)) {
			t.Errorf("duplicates/%s lacks %q:\n%s", art, want, got)
		}
	}
	if got := ts.want(t, 200, "GET", esc("/duplicates/"+art+"/"+bName+".pdf"), ""); got != "%PDF-1.4 art again" {
		t.Errorf("GET of the PDF: %q", got)
	}
	ts.want(t, http.StatusForbidden, "DELETE", esc("/duplicates/"+art+"/"+bName+".pdf"), "")
	ts.want(t, http.StatusForbidden, "MKCOL", "/duplicates/new/", "")
	if p := ts.get(t, b.ID); p.Trashed != nil {
		t.Error("DELETE in duplicates/ trashed the paper")
	}
}
