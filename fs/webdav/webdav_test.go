package webdav

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	pfs "github.com/paperfs/paperfs/fs"
	"github.com/paperfs/paperfs/meta"
	"github.com/paperfs/paperfs/meta/library"
)

// These tests drive the handler over real HTTP on loopback without root;
// clients_test.go drives it with real WebDAV clients.

type testServer struct {
	*httptest.Server
	view  *pfs.FS
	store *meta.Store
	lib   string
	log   *syncBuffer
}

// syncBuffer is a log that tests read while the server writes it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newTestServer(t testing.TB, auth *BasicAuth) *testServer {
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
	logs := &syncBuffer{}
	log := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	l, err := library.Open(lib, store, nil, log)
	if err != nil {
		t.Fatal(err)
	}
	view := pfs.New(store, pfs.Options{Library: lib, Logger: log, RejectDir: filepath.Join(data, "rejected"), Folder: l})
	srv := httptest.NewServer(New(view, Options{Logger: log, Auth: auth}))
	t.Cleanup(func() {
		srv.Close()
		view.Close()
		store.Close()
	})
	return &testServer{Server: srv, view: view, store: store, lib: lib, log: logs}
}

// add makes a paper with a PDF of body in the library folder.
func (ts *testServer) add(t testing.TB, p meta.Paper, body []byte) meta.Paper {
	t.Helper()
	p.File = meta.File{Path: strings.ReplaceAll(p.Title, " ", "_") + ".pdf", Size: int64(len(body))}
	if err := os.WriteFile(filepath.Join(ts.lib, p.File.Path), body, 0o644); err != nil {
		t.Fatal(err)
	}
	sum, _, err := library.HashFile(filepath.Join(ts.lib, p.File.Path))
	if err != nil {
		t.Fatal(err)
	}
	p.File.SHA256 = sum
	p, err = ts.store.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func (ts *testServer) get(t testing.TB, id string) meta.Paper {
	t.Helper()
	p, err := ts.store.Get(id)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// do sends a request and returns the status and body.
func (ts *testServer) do(t testing.TB, method, path string, body string, hdr ...string) (*http.Response, string) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.URL+path, r)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, string(b)
}

func (ts *testServer) want(t testing.TB, status int, method, path, body string, hdr ...string) string {
	t.Helper()
	resp, got := ts.do(t, method, path, body, hdr...)
	if resp.StatusCode != status {
		t.Fatalf("%s %s: %d %q, want %d", method, path, resp.StatusCode, got, status)
	}
	return got
}

// waitPaper waits until the store has a paper for which ok holds: an
// import runs in the background after the PUT returns.
func (ts *testServer) waitPaper(t testing.TB, sub *meta.Subscription, ok func(p *meta.Paper) bool) meta.Paper {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case ch := <-sub.C:
			if ch.After != nil && ok(ch.After) {
				return *ch.After
			}
		case <-timeout:
			t.Fatal("no such paper after 30 s")
		}
	}
}

const art = "Knuth 1968 - Art"

func TestGet(t *testing.T) {
	ts := newTestServer(t, nil)
	body := []byte("%PDF-1.4 " + strings.Repeat("0123456789", 1000))
	ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}, body)

	resp, got := ts.do(t, "GET", "/tags/a/"+art+".pdf", "", "Range", "bytes=9-18")
	if resp.StatusCode != http.StatusPartialContent || got != "0123456789" {
		t.Fatalf("range: %d %q", resp.StatusCode, got)
	}
	etag, lm := resp.Header.Get("ETag"), resp.Header.Get("Last-Modified")
	if etag == "" || lm == "" || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("headers %v", resp.Header)
	}
	ts.want(t, http.StatusNotModified, "GET", "/all/"+art+".pdf", "", "If-None-Match", etag)
	resp, _ = ts.do(t, "HEAD", "/all/"+art+".pdf", "")
	if resp.StatusCode != 200 || resp.ContentLength != int64(len(body)) {
		t.Fatalf("HEAD: %d length %d", resp.StatusCode, resp.ContentLength)
	}
	if got := ts.want(t, 200, "GET", "/all/"+art+".pdf", ""); got != string(body) {
		t.Fatalf("GET: %d bytes", len(got))
	}
	if got := ts.want(t, 200, "GET", "/all/"+art+".json", ""); !strings.Contains(got, `"title": "Art"`) {
		t.Fatalf("sidecar %q", got)
	}
	if got := ts.want(t, 200, "GET", "/tags/a/tag.bib", ""); !strings.Contains(got, "Art") {
		t.Fatalf("tag.bib %q", got)
	}
	ts.want(t, 200, "GET", "/library.bib", "")
	ts.want(t, 200, "GET", "/.paperfs/errors", "")
	ts.want(t, http.StatusNotFound, "GET", "/all/nothing.pdf", "")
	ts.want(t, http.StatusNotFound, "GET", "/tags/nothing/x.pdf", "")
}

func TestPropfind(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}, []byte("%PDF-1.4 art"))
	got := ts.want(t, http.StatusMultiStatus, "PROPFIND", "/all/", "", "Depth", "1")
	for _, want := range []string{"/all/" + strings.ReplaceAll(art, " ", "%20") + ".pdf", ".json</D:href>", "application/pdf", "<D:getetag>"} {
		if !strings.Contains(got, want) {
			t.Errorf("depth 1 of all/ lacks %q:\n%s", want, got)
		}
	}
	got = ts.want(t, http.StatusMultiStatus, "PROPFIND", "/", "", "Depth", "1")
	for _, want := range []string{"/tags/", "/library.bib", "/.paperfs/"} {
		if !strings.Contains(got, want) {
			t.Errorf("depth 1 of / lacks %q", want)
		}
	}
	got = ts.want(t, http.StatusMultiStatus, "PROPFIND", "/tags/", "", "Depth", "1")
	if !strings.Contains(got, "/tags/a/") {
		t.Errorf("tags/ lacks a/:\n%s", got)
	}
	got = ts.want(t, http.StatusMultiStatus, "PROPFIND", "/tags/a/"+art+".json", "", "Depth", "0")
	if strings.Count(got, "<D:response>") != 1 {
		t.Errorf("depth 0:\n%s", got)
	}
	for _, depth := range []string{"infinity", ""} {
		if got := ts.want(t, http.StatusForbidden, "PROPFIND", "/", "", "Depth", depth); !strings.Contains(got, "propfind-finite-depth") {
			t.Errorf("depth %q: %s", depth, got)
		}
	}
	ts.want(t, http.StatusNotFound, "PROPFIND", "/tags/none/", "", "Depth", "0")
}

func TestPutSidecar(t *testing.T) {
	ts := newTestServer(t, nil)
	p := ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968}, []byte("%PDF-1.4 art"))
	file := "/all/" + art + ".json"
	text := ts.want(t, 200, "GET", file, "")
	ts.want(t, http.StatusCreated, "PUT", file, strings.Replace(text, `"rating": 0`, `"rating": 4`, 1))
	if got := ts.get(t, p.ID).Rating; got != 4 {
		t.Fatalf("rating %d after PUT", got)
	}
	// The text was made from the version before the first PUT: only
	// what it changes applies (the merge of the mount).
	// (Through another name: the same file saved again from the same
	// version is an editor's buffer saved again, which the rule treats
	// as the user's latest word.)
	ts.want(t, http.StatusCreated, "PUT", "/years/1968/"+art+".json", strings.Replace(text, `"year": 1968`, `"year": 1969`, 1))
	if got := ts.get(t, p.ID); got.Rating != 4 || got.Year != 1969 {
		t.Fatalf("rating %d year %d after the second PUT", got.Rating, got.Year)
	}

	// Refused: 422 with the reason, nothing stored changes.
	before := ts.get(t, p.ID)
	file = "/years/1969/Knuth 1969 - Art.json"
	resp, body := ts.do(t, "PUT", file, `{"title": `)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, file[1:]) {
		t.Fatalf("invalid save: %d %q", resp.StatusCode, body)
	}
	if after := ts.get(t, p.ID); !after.Modified.Equal(before.Modified) {
		t.Fatal("a refused save changed the paper")
	}
	if len(ts.view.Rejections()) != 1 {
		t.Errorf("rejections %v", ts.view.Rejections())
	}
	// Too large: 413.
	ts.want(t, http.StatusRequestEntityTooLarge, "PUT", file, strings.Repeat(" ", pfs.MaxSidecar+1))
}

func TestPutPDF(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/ml", "")
	sub := ts.store.Subscribe()
	defer sub.Close()
	ts.want(t, http.StatusCreated, "PUT", "/tags/ml/new paper.pdf", "%PDF-1.4 new paper")
	p := ts.waitPaper(t, sub, func(p *meta.Paper) bool { return slices.Contains(p.Tags, "ml") })
	if p.Title != "new paper" {
		t.Errorf("imported as %+v", p)
	}
	if _, err := os.Stat(filepath.Join(ts.lib, filepath.FromSlash(p.File.Path))); err != nil {
		t.Errorf("PDF not in the library folder: %v", err)
	}
	// Into all/: imported, untagged.
	ts.want(t, http.StatusCreated, "PUT", "/all/another.pdf", "%PDF-1.4 another paper")
	if p := ts.waitPaper(t, sub, func(p *meta.Paper) bool { return p.Title == "another" }); len(p.Tags) != 0 {
		t.Errorf("imported into all/ with tags %v", p.Tags)
	}
	// Not a PDF: refused with the reason, kept, nothing imported.
	resp, body := ts.do(t, "PUT", "/all/fake.pdf", "<html>not a pdf</html>")
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "all/fake.pdf") {
		t.Fatalf("fake PDF: %d %q", resp.StatusCode, body)
	}
	if n, _ := ts.store.Count(meta.View{Kind: meta.All}); n != 2 {
		t.Errorf("%d papers, want 2", n)
	}
	// PUT into a tag that is not there: 409 (no parent).
	ts.want(t, http.StatusConflict, "PUT", "/tags/none/x.pdf", "%PDF-1.4 x")
	// Nothing but junk at the root.
	resp, body = ts.do(t, "PUT", "/x.pdf", "%PDF-1.4 x")
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "top of the mount") {
		t.Fatalf("PUT at the root: %d %q", resp.StatusCode, body)
	}
}

func TestMoveDeleteMkcol(t *testing.T) {
	ts := newTestServer(t, nil)
	p := ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}, []byte("%PDF-1.4 art"))
	pdf := "/" + art + ".pdf"
	dest := func(path string) string { return ts.URL + strings.ReplaceAll(path, " ", "%20") }

	// MOVE retags; the tag must be there, as a directory must.
	ts.want(t, http.StatusConflict, "MOVE", "/tags/a"+pdf, "", "Destination", dest("/tags/b"+pdf))
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/b", "")
	ts.want(t, http.StatusCreated, "MOVE", "/tags/a"+pdf, "", "Destination", dest("/tags/b"+pdf))
	if got := ts.get(t, p.ID).Tags; !slices.Equal(got, []string{"b"}) {
		t.Fatalf("tags %v after MOVE", got)
	}
	// MOVE onto a name that is there (Overwrite: T) does not trash it.
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/c", "")
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/d", "")
	ts.want(t, http.StatusCreated, "MOVE", "/all"+pdf, "", "Destination", dest("/tags/c"+pdf))
	ts.want(t, http.StatusNoContent, "MOVE", "/tags/b"+pdf, "", "Destination", dest("/tags/c"+pdf))
	if got := ts.get(t, p.ID); !slices.Equal(got.Tags, []string{"c"}) || got.Trashed != nil {
		t.Fatalf("tags %v trashed %v", got.Tags, got.Trashed)
	}
	// COPY tags it too; a COPY onto the same paper's PDF changes nothing.
	ts.want(t, http.StatusCreated, "COPY", "/tags/c"+pdf, "", "Destination", dest("/tags/d"+pdf))
	ts.want(t, http.StatusNoContent, "COPY", "/all"+pdf, "", "Destination", dest("/tags/d"+pdf))
	if b, _ := os.ReadFile(filepath.Join(ts.lib, p.File.Path)); string(b) != "%PDF-1.4 art" {
		t.Fatalf("the PDF holds %q after a COPY onto itself", b)
	}
	if got := ts.get(t, p.ID).Tags; !slices.Equal(got, []string{"c", "d"}) {
		t.Fatalf("tags %v after COPY", got)
	}
	// MOVE of a tag renames it; MOVE of a PDF within all/ is refused.
	ts.want(t, http.StatusCreated, "MOVE", "/tags/d/", "", "Destination", dest("/tags/e/"))
	if got := ts.get(t, p.ID).Tags; !slices.Equal(got, []string{"c", "e"}) {
		t.Fatalf("tags %v after renaming d", got)
	}
	resp, body := ts.do(t, "MOVE", "/all"+pdf, "", "Destination", dest("/all/other.pdf"))
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, "edit the .json") {
		t.Fatalf("rename in all/: %d %q", resp.StatusCode, body)
	}

	// MKCOL makes a tag or folder; not inside a view, not twice.
	ts.want(t, http.StatusCreated, "MKCOL", "/folders/reading", "")
	ts.want(t, http.StatusMethodNotAllowed, "MKCOL", "/folders/reading", "")
	ts.want(t, http.StatusForbidden, "MKCOL", "/all/sub", "")
	ts.want(t, http.StatusForbidden, "MKCOL", "/authors/Someone", "")
	ts.want(t, http.StatusConflict, "MKCOL", "/tags/none/sub", "")

	// DELETE untags in a tag, trashes in all/; a tag goes with DELETE.
	ts.want(t, http.StatusNoContent, "DELETE", "/tags/c"+pdf, "")
	ts.want(t, http.StatusNoContent, "DELETE", "/tags/e/", "")
	if ok, _ := ts.view.HasGroup(meta.Tags, "e"); ok {
		t.Error("tags/e is still there")
	}
	if got := ts.get(t, p.ID); len(got.Tags) != 0 || got.Trashed != nil {
		t.Fatalf("tags %v trashed %v", got.Tags, got.Trashed)
	}
	ts.want(t, http.StatusForbidden, "DELETE", "/all/"+art+".json", "")
	ts.want(t, http.StatusForbidden, "DELETE", "/all/", "")
	ts.want(t, http.StatusNoContent, "DELETE", "/all"+pdf, "")
	if ts.get(t, p.ID).Trashed == nil {
		t.Fatal("DELETE in all/ did not trash")
	}
	ts.want(t, http.StatusNotFound, "DELETE", "/all"+pdf, "")
}

// TestJunk: Finder's and Explorer's files are accepted anywhere and
// become nothing.
func TestJunk(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/a", "")
	for _, path := range []string{"/.DS_Store", "/._all", "/tags/._a", "/tags/Thumbs.db", "/all/desktop.ini", "/tags/a/~$notes.pdf", "/tags/a/._x.pdf"} {
		ts.want(t, http.StatusCreated, "PUT", path, "junk")
		if got := ts.want(t, 200, "GET", path, ""); got != "junk" {
			t.Errorf("%s holds %q", path, got)
		}
		ts.want(t, http.StatusNoContent, "DELETE", path, "")
	}
	if n, _ := ts.store.Count(meta.View{Kind: meta.All}); n != 0 || len(ts.view.Rejections()) != 0 {
		t.Errorf("%d papers, rejections %v", n, ts.view.Rejections())
	}
}

// TestLock: class 2, as Finder and Explorer need before they write.
func TestLock(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968}, []byte("%PDF-1.4 art"))
	resp, _ := ts.do(t, "OPTIONS", "/", "")
	if dav := resp.Header.Get("DAV"); !strings.Contains(dav, "2") {
		t.Fatalf("DAV: %q", dav)
	}
	file := "/all/" + art + ".json"
	lockBody := `<?xml version="1.0" encoding="utf-8"?><D:lockinfo xmlns:D="DAV:"><D:lockscope><D:exclusive/></D:lockscope><D:locktype><D:write/></D:locktype><D:owner>test</D:owner></D:lockinfo>`
	resp, _ = ts.do(t, "LOCK", file, lockBody, "Timeout", "Second-60")
	token := resp.Header.Get("Lock-Token")
	if resp.StatusCode != 200 || token == "" {
		t.Fatalf("LOCK: %d token %q", resp.StatusCode, token)
	}
	text := ts.want(t, 200, "GET", file, "")
	ts.want(t, http.StatusLocked, "PUT", file, text)
	ts.want(t, http.StatusCreated, "PUT", file, text, "If", "("+token+")")
	ts.want(t, http.StatusNoContent, "UNLOCK", file, "", "Lock-Token", token)
	ts.want(t, http.StatusCreated, "PUT", file, text)
}

func TestAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret-pass"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	ts := newTestServer(t, NewBasicAuth("ada", hash))
	for _, tc := range []struct {
		user, pass string
		status     int
	}{{"ada", "wrong-guess", 401}, {"bob", "s3cret-pass", 401}, {"", "", 401}, {"ada", "s3cret-pass", 207}, {"ada", "s3cret-pass", 207}} {
		req, _ := http.NewRequest("PROPFIND", ts.URL+"/", nil)
		req.Header.Set("Depth", "0")
		if tc.user != "" {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.status {
			t.Errorf("%s/%s: %d, want %d", tc.user, tc.pass, resp.StatusCode, tc.status)
		}
		if tc.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
	}
	logs := ts.log.String()
	if !strings.Contains(logs, "wrong user name or password") || strings.Contains(logs, "wrong-guess") || strings.Contains(logs, "s3cret") {
		t.Errorf("log:\n%s", logs)
	}
}

// TestParse: the paths of the view.
func TestParse(t *testing.T) {
	for _, tc := range []struct {
		path string
		want string // place as dir/control/view/name, or "missing"
	}{
		{"/", "dir  "},
		{"/all", "dir all "},
		{"/tags/", "dir tags "},
		{"/tags/ml", "dir tags/ml "},
		{"/tags/.DS_Store", "file tags .DS_Store"},
		{"/tags/ml/x.pdf", "file tags/ml x.pdf"},
		{"/all/x.pdf", "file all x.pdf"},
		{"/library.bib", "file  library.bib"},
		{"/.paperfs/errors", "control  errors"},
		{"/all/x/y", "missing"},
		{"/nothing/x", "missing"},
	} {
		p, err := parse(tc.path)
		got := "missing"
		if err == nil {
			kind := "file"
			if p.dir {
				kind = "dir"
			} else if p.control {
				kind = "control"
			}
			got = fmt.Sprintf("%s %s %s", kind, p.view, p.name)
		}
		if got != tc.want {
			t.Errorf("%s: %q, want %q", tc.path, got, tc.want)
		}
	}
}

// TestDeadProps: Windows Explorer's PROPPATCH after an upload is kept
// (in memory) and follows the file's MOVE.
func TestDeadProps(t *testing.T) {
	ts := newTestServer(t, nil)
	ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}, []byte("%PDF-1.4 art"))
	ts.want(t, http.StatusCreated, "MKCOL", "/tags/b", "")
	patch := `<?xml version="1.0" encoding="utf-8"?><D:propertyupdate xmlns:D="DAV:" xmlns:Z="urn:schemas-microsoft-com:"><D:set><D:prop>` +
		`<Z:Win32LastModifiedTime>Thu, 09 Oct 2025 17:54:43 GMT</Z:Win32LastModifiedTime></D:prop></D:set></D:propertyupdate>`
	from, to := "/tags/a/"+art+".pdf", "/tags/b/"+art+".pdf"
	if got := ts.want(t, http.StatusMultiStatus, "PROPPATCH", from, patch); !strings.Contains(got, "200 OK") {
		t.Fatalf("PROPPATCH: %s", got)
	}
	ts.want(t, http.StatusCreated, "MOVE", from, "", "Destination", ts.URL+strings.ReplaceAll(to, " ", "%20"))
	got := ts.want(t, http.StatusMultiStatus, "PROPFIND", to, "", "Depth", "0")
	if !strings.Contains(got, "Thu, 09 Oct 2025 17:54:43 GMT") {
		t.Fatalf("after MOVE: %s", got)
	}
}

// TestCopyTag: COPY of a tag's directory is cp -r: a new tag with the
// same papers, and onto an existing tag, its papers join it.
func TestCopyTag(t *testing.T) {
	ts := newTestServer(t, nil)
	p := ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968, Tags: []string{"a"}}, []byte("%PDF-1.4 art"))
	q := ts.add(t, meta.Paper{Title: "Other", Year: 1970, Tags: []string{"c"}}, []byte("%PDF-1.4 other"))
	ts.want(t, http.StatusCreated, "COPY", "/tags/a/", "", "Destination", ts.URL+"/tags/b/")
	ts.want(t, http.StatusNoContent, "COPY", "/tags/a/", "", "Destination", ts.URL+"/tags/c/")
	if got := ts.get(t, p.ID).Tags; !slices.Equal(got, []string{"a", "b", "c"}) {
		t.Fatalf("tags %v", got)
	}
	if got := ts.get(t, q.ID).Tags; !slices.Equal(got, []string{"c"}) {
		t.Fatalf("the other paper's tags %v", got)
	}
}

// TestPutOverPDF: a PUT over a paper's PDF replaces it when the upload is
// whole; one cut off leaves it as it was.
func TestPutOverPDF(t *testing.T) {
	ts := newTestServer(t, nil)
	p := ts.add(t, meta.Paper{Title: "Art", Authors: []string{"Donald Knuth"}, Year: 1968}, []byte("%PDF-1.4 art"))
	path := filepath.Join(ts.lib, p.File.Path)
	file := "/all/" + strings.ReplaceAll(art, " ", "%20") + ".pdf"

	// Cut off: the body is shorter than its Content-Length.
	conn, err := net.Dial("tcp", ts.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(conn, "PUT %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n%%PDF-1.4 cut", file)
	conn.(*net.TCPConn).CloseWrite()
	io.ReadAll(conn) // the server answers (or closes) once it has seen the end
	conn.Close()
	if b, _ := os.ReadFile(path); string(b) != "%PDF-1.4 art" {
		t.Fatalf("after a cut-off PUT the PDF holds %q", b)
	}

	ts.want(t, http.StatusCreated, "PUT", "/all/"+art+".pdf", "%PDF-1.4 annotated art")
	if b, _ := os.ReadFile(path); string(b) != "%PDF-1.4 annotated art" {
		t.Fatalf("after the PUT the PDF holds %q", b)
	}
}
