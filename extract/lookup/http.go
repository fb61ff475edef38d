package lookup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// Errors a lookup returns; callers test them with errors.Is.
var (
	// ErrOff: lookups are turned off ("lookup": false, --offline).
	ErrOff = errors.New("online lookup is turned off")
	// ErrNotFound: the service has no record for the identifier.
	ErrNotFound = errors.New("not found")
	// ErrUnavailable: the service could not be reached or kept refusing
	// (network down, timeouts, 429, 5xx): try again later.
	ErrUnavailable = errors.New("service unavailable")
	// ErrMalformed: the service answered something this code cannot read.
	ErrMalformed = errors.New("malformed answer")
	// ErrRefused: the service refused the request (a 4xx other than 404
	// and 429: a query it cannot parse, a wrong API key).
	ErrRefused = errors.New("request refused")
)

// maxBody bounds an answer read into memory.
const maxBody = 8 << 20

// fetcher makes the GET requests of one service: paced, retried on 429 and
// 5xx with backoff (honouring Retry-After), each under a timeout, and
// answered from the cache when it can.
type fetcher struct {
	service string
	client  *http.Client
	header  http.Header // sent with every request (User-Agent, API key)
	timeout time.Duration
	retries int
	backoff time.Duration // first wait after a failure; doubles
	maxWait time.Duration // a longer Retry-After gives up at once
	cache   *cache        // nil: no cache
	pace    *pace
}

// get returns the body of a 200 answer to url. A 404 is ErrNotFound.
func (f *fetcher) get(ctx context.Context, url string) ([]byte, error) {
	if body, status, ok := f.cache.get(f.service, url); ok {
		if status == http.StatusNotFound {
			return nil, fmt.Errorf("%s: %w", f.service, ErrNotFound)
		}
		return body, nil
	}
	wait := f.backoff
	var last error
	for attempt := 0; attempt <= f.retries; attempt++ {
		if attempt > 0 {
			if err := sleep(ctx, wait); err != nil {
				return nil, err
			}
			wait *= 2
		}
		if err := f.pace.wait(ctx); err != nil {
			return nil, err
		}
		body, status, retryAfter, err := f.once(ctx, url)
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, ctx.Err()
		case err != nil:
			last = err
			continue
		case status == http.StatusOK:
			f.cache.put(f.service, url, status, body)
			return body, nil
		case status == http.StatusNotFound:
			f.cache.put(f.service, url, status, nil)
			return nil, fmt.Errorf("%s: %w", f.service, ErrNotFound)
		case status == http.StatusTooManyRequests || status >= 500:
			last = fmt.Errorf("%s answered %d", f.service, status)
			if retryAfter > f.maxWait {
				return nil, fmt.Errorf("%s: %w: it asks to wait %v", f.service, ErrUnavailable, retryAfter)
			}
			if retryAfter >= 0 {
				wait = retryAfter
			}
			continue
		default:
			return nil, fmt.Errorf("%s: %w: answered %d: %s", f.service, ErrRefused, status, snippet(body))
		}
	}
	return nil, fmt.Errorf("%s: %w after %d attempts: %v", f.service, ErrUnavailable, f.retries+1, last)
}

// once makes one request. retryAfter is -1 when the answer has none.
func (f *fetcher) once(ctx context.Context, url string) (body []byte, status int, retryAfter time.Duration, err error) {
	ctx, cancel := context.WithTimeout(ctx, f.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, 0, -1, err
	}
	for k, v := range f.header {
		req.Header[k] = v
	}
	resp, err := f.client.Do(req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, 0, -1, fmt.Errorf("%s: no answer within %v", f.service, f.timeout)
		}
		return nil, 0, -1, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, 0, -1, fmt.Errorf("%s: reading the answer: %w", f.service, err)
	}
	return body, resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After")), nil
}

// parseRetryAfter reads delta-seconds or an HTTP date (RFC 9110 10.2.3).
func parseRetryAfter(v string) time.Duration {
	if v == "" {
		return -1
	}
	if s, err := strconv.Atoi(v); err == nil && s >= 0 {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0)
	}
	return -1
}

func snippet(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// pace keeps requests to a service at least interval apart, as services
// ask of clients without a key (arXiv: one every 3 s; Semantic Scholar).
type pace struct {
	interval time.Duration // read-only
	mu       sync.Mutex    // protects next
	next     time.Time
}

func (p *pace) wait(ctx context.Context) error {
	if p == nil || p.interval <= 0 {
		return ctx.Err()
	}
	p.mu.Lock()
	now := time.Now()
	at := now
	if p.next.After(now) {
		at = p.next
	}
	p.next = at.Add(p.interval)
	p.mu.Unlock()
	return sleep(ctx, at.Sub(now))
}

// cache keeps answers (200 and 404) in a directory, one file per request,
// so a rerun or a retry after an interruption asks nothing twice.
type cache struct {
	dir string        // read-only
	ttl time.Duration // read-only
}

type cached struct {
	Status  int       `json:"status"`
	Fetched time.Time `json:"fetched"`
	Body    string    `json:"body,omitempty"`
}

func (c *cache) path(service, url string) string {
	sum := sha256.Sum256([]byte(url))
	return filepath.Join(c.dir, service, hex.EncodeToString(sum[:16])+".json")
}

func (c *cache) get(service, url string) ([]byte, int, bool) {
	if c == nil {
		return nil, 0, false
	}
	b, err := os.ReadFile(c.path(service, url))
	if err != nil {
		return nil, 0, false
	}
	var e cached
	if json.Unmarshal(b, &e) != nil || time.Since(e.Fetched) > c.ttl {
		return nil, 0, false
	}
	return []byte(e.Body), e.Status, true
}

// put stores an answer; a cache that cannot be written only costs a
// request later, so errors are dropped.
func (c *cache) put(service, url string, status int, body []byte) {
	if c == nil {
		return
	}
	p := c.path(service, url)
	if os.MkdirAll(filepath.Dir(p), 0o700) != nil {
		return
	}
	b, _ := json.Marshal(cached{Status: status, Fetched: time.Now().UTC(), Body: string(body)})
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return
	}
	_, werr := tmp.Write(b)
	if cerr := tmp.Close(); werr != nil || cerr != nil {
		os.Remove(tmp.Name())
		return
	}
	if os.Rename(tmp.Name(), p) != nil {
		os.Remove(tmp.Name())
	}
}
