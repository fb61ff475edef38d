// Package webdav serves a library's view (package fs) over WebDAV, for
// Finder, Explorer, GNOME and KDE, davfs2, rclone and tablet apps. Like
// fs/fuse it only translates: paths become fs calls (paths.go), fs nodes
// become golang.org/x/net/webdav files (files.go), and fs errors become
// HTTP statuses in one place (status.go). What an operation means (DELETE
// trashes or untags, MOVE retags, PUT of a sidecar saves it with its
// merge, PUT of a PDF imports it) is decided by fs, as for the mount.
//
// golang.org/x/net/webdav does the protocol (PROPFIND, LOCK, COPY, MOVE,
// conditional and range GETs through net/http's ServeContent); its
// in-memory lock system gives the class 2 locks Finder and Explorer need
// before they write.
package webdav

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"

	"golang.org/x/crypto/bcrypt"
	"golang.org/x/net/webdav"

	pfs "github.com/paperfs/paperfs/fs"
)

// Options configure a Handler.
type Options struct {
	Logger *slog.Logger
	// Auth, when set, is required of every request (HTTP basic
	// authentication: serve it over TLS).
	Auth *BasicAuth
}

// Handler is the WebDAV server of one view.
type Handler struct {
	log  *slog.Logger
	auth *BasicAuth
	dav  *webdav.Handler
}

// New serves view. The view's owner closes it after the server stops.
func New(view *pfs.FS, opts Options) *Handler {
	log := opts.Logger
	if log == nil {
		log = view.Logger()
	}
	h := &Handler{log: log, auth: opts.Auth}
	h.dav = &webdav.Handler{
		FileSystem: &fileSystem{view: view},
		LockSystem: webdav.NewMemLS(),
		Logger:     h.logRequest,
	}
	return h
}

func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.auth != nil {
		user, pass, ok := r.BasicAuth()
		if !ok || !h.auth.Check(user, pass) {
			if ok {
				h.log.Warn("webdav: wrong user name or password", "user", user, "remote", r.RemoteAddr)
			}
			w.Header().Set("WWW-Authenticate", `Basic realm="paperfs", charset="UTF-8"`)
			http.Error(w, "paperfs: user name and password required", http.StatusUnauthorized)
			return
		}
	}
	if r.Method == "PROPFIND" {
		// A library has hundreds of thousands of names in every view:
		// a listing of everything is refused, as RFC 4918 (9.1) allows.
		// No Depth header means infinity.
		if d := r.Header.Get("Depth"); d != "0" && d != "1" {
			w.Header().Set("Content-Type", "application/xml; charset=utf-8")
			w.WriteHeader(http.StatusForbidden)
			io.WriteString(w, `<?xml version="1.0" encoding="utf-8"?>`+"\n"+
				`<D:error xmlns:D="DAV:"><D:propfind-finite-depth/></D:error>`+"\n")
			return
		}
	}
	rq := &request{method: r.Method}
	if r.Method == "COPY" || r.Method == "MOVE" {
		if r.Header.Get("Overwrite") == "" {
			// RFC 4918 (10.6): no header means T; x/net/webdav takes
			// it as F for a MOVE.
			r.Header.Set("Overwrite", "T")
		}
		rq.src = cleanPath(r.URL.Path)
		rq.overwrite = r.Header.Get("Overwrite") != "F"
		if u, err := url.Parse(r.Header.Get("Destination")); err == nil {
			rq.dst = cleanPath(u.Path)
		}
	}
	if r.Body != nil {
		r.Body = &body{ReadCloser: r.Body, rq: rq}
	}
	sw := &statusWriter{ResponseWriter: w, rq: rq, h: h}
	h.dav.ServeHTTP(sw, r.WithContext(context.WithValue(r.Context(), requestKey{}, rq)))
}

func (h *Handler) logRequest(r *http.Request, err error) {
	if err != nil {
		h.log.Debug("webdav", "method", r.Method, "path", r.URL.Path, "err", err)
		return
	}
	h.log.Debug("webdav", "method", r.Method, "path", r.URL.Path)
}

// request is what one HTTP request's file system calls share.
type request struct {
	method    string
	src, dst  string // COPY and MOVE
	overwrite bool   // COPY and MOVE: Overwrite: T

	mu     sync.Mutex // protects the following
	cutOff bool       // the request's body did not arrive whole
	err    error      // what a file system call returned (see note)
	list   *listing   // the last directory listed (see fileSystem.Stat)
}

type requestKey struct{}

func requestOf(ctx context.Context) *request {
	if rq, ok := ctx.Value(requestKey{}).(*request); ok {
		return rq
	}
	return &request{}
}

// note records err, the outcome of a call on path, as the request's error,
// which an error status answers with (see statusWriter), and returns it.
// The first error stays, as x/net/webdav answers with the first (a PUT's
// body that was too large, not the save of what was cut), except a missing
// name: x/net/webdav probes names that are not there.
// x/net/webdav tells a missing name by os.IsNotExist, which sees only an
// *fs.PathError: a missing name is returned as one.
func (rq *request) note(path string, err error) error {
	if err == nil {
		return nil
	}
	if isNotExist(err) && !os.IsNotExist(err) {
		err = &fs.PathError{Op: "find", Path: path, Err: fs.ErrNotExist}
	}
	rq.mu.Lock()
	if rq.err == nil || os.IsNotExist(rq.err) {
		rq.err = err
	}
	rq.mu.Unlock()
	return err
}

// replacing reports whether name is, or is below, the destination of a
// COPY or MOVE that may replace what is there.
func (rq *request) replacing(name string) bool {
	name = cleanPath(name)
	return rq.overwrite && rq.dst != "" && (name == rq.dst || strings.HasPrefix(name, rq.dst+"/"))
}

// body is a request's body, which tells the request when it did not
// arrive whole: a PUT cut off is no save and no import.
type body struct {
	io.ReadCloser
	rq *request
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		b.rq.mu.Lock()
		b.rq.cutOff = true
		b.rq.mu.Unlock()
	}
	return n, err
}

func (rq *request) wasCutOff() bool {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return rq.cutOff
}

func (rq *request) lastErr() error {
	rq.mu.Lock()
	defer rq.mu.Unlock()
	return rq.err
}

func cleanPath(p string) string {
	p = "/" + strings.Trim(p, "/")
	return p
}

// statusWriter replaces the status and body of an error answer that
// x/net/webdav makes from a view's error (it answers 405 or 403 whatever
// the cause, with no reason) with the status of status.go and the view's
// reason, so a client shows the user why.
type statusWriter struct {
	http.ResponseWriter
	rq       *request
	h        *Handler
	replaced bool
}

func (w *statusWriter) WriteHeader(code int) {
	if err := w.rq.lastErr(); code >= 400 && err != nil {
		status, body := w.h.status(w.rq, err, code)
		w.replaced = true
		hdr := w.Header()
		hdr.Del("Content-Length")
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		w.ResponseWriter.WriteHeader(status)
		io.WriteString(w.ResponseWriter, body+"\n")
		return
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.replaced {
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// ReadFrom keeps net/http's sendfile path for a PDF's bytes.
func (w *statusWriter) ReadFrom(r io.Reader) (int64, error) {
	if rf, ok := w.ResponseWriter.(io.ReaderFrom); ok && !w.replaced {
		return rf.ReadFrom(r)
	}
	return io.Copy(struct{ io.Writer }{w}, r)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// BasicAuth checks a user name and a password against a bcrypt hash.
// bcrypt is slow by design, and clients send the password with every
// request: a pair that passed is remembered (as a SHA-256 of it) for the
// life of the server.
type BasicAuth struct {
	user string
	hash []byte

	mu sync.Mutex // protects ok
	ok map[[sha256.Size]byte]bool
}

// NewBasicAuth accepts user with the password whose bcrypt hash is hash.
func NewBasicAuth(user string, hash []byte) *BasicAuth {
	return &BasicAuth{user: user, hash: hash, ok: map[[sha256.Size]byte]bool{}}
}

// Check reports whether user and password are the right ones.
func (a *BasicAuth) Check(user, password string) bool {
	if subtle.ConstantTimeCompare([]byte(user), []byte(a.user)) != 1 {
		return false
	}
	key := sha256.Sum256([]byte(user + "\x00" + password))
	a.mu.Lock()
	ok := a.ok[key]
	a.mu.Unlock()
	if ok {
		return true
	}
	if bcrypt.CompareHashAndPassword(a.hash, []byte(password)) != nil {
		return false
	}
	a.mu.Lock()
	a.ok[key] = true
	a.mu.Unlock()
	return true
}
