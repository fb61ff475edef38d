// Package lookup looks papers up online, by identifier first (a DOI at
// Crossref, an arXiv id at the arXiv API) and then by title (DBLP,
// Crossref, Semantic Scholar), and accepts a record only when its title,
// authors and year agree with the paper's (package meta/match). It is the
// only part of paperfs that talks to the network about papers; extract/
// itself stays offline and pure.
//
// What is sent where: the DOI to Crossref (with the contact e-mail of the
// config, Crossref's "polite pool"), the arXiv id to export.arxiv.org, a
// paper's title (and first author's family name) to DBLP, Crossref and
// Semantic Scholar (with its API key when configured). Nothing else: no
// file, no tag, no note.
package lookup

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Record is one service's description of a work.
type Record struct {
	Source       string // meta.SourceCrossref, ...
	Title        string
	Authors      []string // "First Last"
	Year         int
	Venue        string
	Type         meta.Type // "" when the service does not say
	DOI          string    // lower case
	ArXiv        string    // no version
	ArXivVersion int       // the newest version the service knows (arXiv)
	JournalRef   string    // arXiv: the published version, as its authors cite it
	URL          string
	Abstract     string
}

// preprint reports whether r describes an arXiv preprint rather than a
// published version.
func (r *Record) preprint() bool {
	return r.Source == meta.SourceArXiv || r.Type == meta.Preprint ||
		strings.EqualFold(r.Venue, "CoRR") || strings.HasPrefix(r.DOI, "10.48550/")
}

// Config sets up the clients. The zero value (with Off false) uses the
// public services with the defaults below.
type Config struct {
	// Off turns every lookup off: nothing is sent anywhere.
	Off bool
	// Email is the contact address sent to Crossref (its polite pool) in
	// the User-Agent and the mailto parameter. Empty: none is sent.
	Email string
	// SemanticScholarKey is sent as x-api-key. Empty: the shared pool,
	// paced at SemanticScholarPace.
	SemanticScholarKey string
	// Base URLs, without a trailing slash.
	CrossrefURL, ArXivURL, DBLPURL, SemanticScholarURL string
	// Services lists the title-search services in the order they are
	// asked; default dblp, crossref, semanticscholar.
	Services []string
	// Timeout bounds each request (default 20 s).
	Timeout time.Duration
	// Retries after a 429, a 5xx or a network error (default 3; negative:
	// none), waiting
	// Backoff (default 2 s), doubling, or what Retry-After says up to
	// MaxWait (default 2 min; a longer wait gives up: try later).
	Retries          int
	Backoff, MaxWait time.Duration
	// ArXivPace, DBLPPace and SemanticScholarPace space requests to those
	// services (defaults: 3 s as arXiv asks; 1 s; 1 s with a key, 3 s
	// without). Negative: no pacing.
	ArXivPace, DBLPPace, SemanticScholarPace time.Duration
	// CacheDir keeps answers; empty: no cache. CacheTTL defaults to 30 days.
	CacheDir string
	CacheTTL time.Duration
	// Client is the HTTP client; nil: a default one.
	Client *http.Client
}

// Default base URLs.
const (
	DefaultCrossrefURL        = "https://api.crossref.org"
	DefaultArXivURL           = "https://export.arxiv.org"
	DefaultDBLPURL            = "https://dblp.org"
	DefaultSemanticScholarURL = "https://api.semanticscholar.org"
)

// Lookup holds one client per service. It is safe for concurrent use.
type Lookup struct {
	off      bool
	crossref *crossref
	arxiv    *arxiv
	dblp     *dblp
	s2       *semanticScholar
	search   []searcher // in the order asked
}

// searcher finds records by title (and first author).
type searcher interface {
	name() string
	searchTitle(ctx context.Context, title, author string) ([]Record, error)
}

// New builds the clients.
func New(c Config) *Lookup {
	def := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	def(&c.Timeout, 20*time.Second)
	def(&c.Backoff, 2*time.Second)
	def(&c.MaxWait, 2*time.Minute)
	def(&c.ArXivPace, 3*time.Second)
	def(&c.DBLPPace, time.Second)
	def(&c.CacheTTL, 30*24*time.Hour)
	if c.SemanticScholarKey != "" {
		def(&c.SemanticScholarPace, time.Second)
	} else {
		def(&c.SemanticScholarPace, 3*time.Second)
	}
	switch {
	case c.Retries == 0:
		c.Retries = 3
	case c.Retries < 0:
		c.Retries = 0
	}
	if c.Client == nil {
		c.Client = &http.Client{}
	}
	var ch *cache
	if c.CacheDir != "" {
		ch = &cache{dir: c.CacheDir, ttl: c.CacheTTL}
	}
	ua := "paperfs/1 (https://github.com/paperfs/paperfs)"
	if c.Email != "" {
		ua = "paperfs/1 (https://github.com/paperfs/paperfs; mailto:" + c.Email + ")"
	}
	mk := func(service string, interval time.Duration, extra http.Header) *fetcher {
		h := http.Header{"User-Agent": {ua}}
		for k, v := range extra {
			h[k] = v
		}
		var p *pace
		if interval > 0 {
			p = &pace{interval: interval}
		}
		return &fetcher{service: service, client: c.Client, header: h, timeout: c.Timeout, retries: c.Retries,
			backoff: c.Backoff, maxWait: c.MaxWait, cache: ch, pace: p}
	}
	or := func(v, d string) string {
		if v == "" {
			return d
		}
		return strings.TrimRight(v, "/")
	}
	var s2h http.Header
	if c.SemanticScholarKey != "" {
		s2h = http.Header{"X-Api-Key": {c.SemanticScholarKey}}
	}
	l := &Lookup{
		off:      c.Off,
		crossref: &crossref{f: mk(meta.SourceCrossref, 0, nil), base: or(c.CrossrefURL, DefaultCrossrefURL), email: c.Email},
		arxiv:    &arxiv{f: mk(meta.SourceArXiv, c.ArXivPace, nil), base: or(c.ArXivURL, DefaultArXivURL)},
		dblp:     &dblp{f: mk(meta.SourceDBLP, c.DBLPPace, nil), base: or(c.DBLPURL, DefaultDBLPURL)},
		s2:       &semanticScholar{f: mk(meta.SourceSemanticScholar, c.SemanticScholarPace, s2h), base: or(c.SemanticScholarURL, DefaultSemanticScholarURL)},
	}
	services := c.Services
	if len(services) == 0 {
		services = []string{meta.SourceDBLP, meta.SourceCrossref, meta.SourceSemanticScholar}
	}
	for _, s := range services {
		switch s {
		case meta.SourceDBLP:
			l.search = append(l.search, l.dblp)
		case meta.SourceCrossref:
			l.search = append(l.search, l.crossref)
		case meta.SourceSemanticScholar:
			l.search = append(l.search, l.s2)
		}
	}
	return l
}

// cleanTitle removes what services add to titles: markup (Crossref's JATS
// <i>, <sub>), a trailing period (DBLP), runs of white space.
func cleanTitle(s string) string {
	var b strings.Builder
	in := false
	for _, r := range s {
		switch {
		case r == '<':
			in = true
		case r == '>' && in:
			in = false
		case !in:
			b.WriteRune(r)
		}
	}
	s = strings.Join(strings.Fields(b.String()), " ")
	return strings.TrimSuffix(s, ".")
}
