package lookup

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Store is what the runner needs of the metadata store.
type Store interface {
	Get(id string) (meta.Paper, error)
	Update(id string, fn func(p *meta.Paper) error) (meta.Paper, error)
	ForEach(fn func(p meta.Paper) bool) error
	Subscribe() *meta.Subscription
}

// Resolver looks a paper up (*Lookup; a fake in tests of callers).
type Resolver interface {
	Resolve(ctx context.Context, q Query) (Result, error)
}

// Outcome of one paper's lookup.
type Outcome string

const (
	Matched     Outcome = "matched"     // a record was accepted (and applied)
	NoMatch     Outcome = "no-match"    // asked, nothing agreed: not asked again unless the paper changes
	Unavailable Outcome = "unavailable" // a service could not be asked: asked again later
)

// Runner looks up the papers of a store and applies what it finds. It
// remembers, in a file of this device's data dir, which papers it looked
// up and what for, so each paper is looked up once unless its title, DOI
// or arXiv id change, and those a service could not answer for are tried
// again later.
type Runner struct {
	Store    Store
	Resolver Resolver
	// StateFile keeps what was looked up; "" keeps it in memory only.
	StateFile string
	Log       *slog.Logger
	// RetryAfter is the first wait after services were unreachable
	// (default 1 min); it doubles up to MaxRetryAfter (default 1 h).
	RetryAfter, MaxRetryAfter time.Duration

	mu    sync.Mutex // protects state
	state map[string]stateEntry
}

type stateEntry struct {
	Key     string    `json:"key"` // what was asked: changes when the paper's title or ids do
	Outcome Outcome   `json:"outcome"`
	When    time.Time `json:"when"`
}

// key identifies what a lookup of p would ask.
func key(p *meta.Paper) string {
	sum := sha256.Sum256([]byte(strings.Join([]string{p.Title, p.DOI, p.ArXiv}, "\x00")))
	return hex.EncodeToString(sum[:8])
}

func (r *Runner) load() error {
	if r.state != nil {
		return nil
	}
	r.state = map[string]stateEntry{}
	if r.StateFile == "" {
		return nil
	}
	b, err := os.ReadFile(r.StateFile)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("lookup state %s: %w", r.StateFile, err)
	}
	if err := json.Unmarshal(b, &r.state); err != nil {
		// Only a record of what was asked: losing it costs requests.
		r.logger().Warn("lookup state unreadable; papers will be looked up again", "file", r.StateFile, "err", err)
		r.state = map[string]stateEntry{}
	}
	return nil
}

func (r *Runner) save() error {
	if r.StateFile == "" {
		return nil
	}
	b, err := json.Marshal(r.state)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(r.StateFile), 0o700); err != nil {
		return fmt.Errorf("lookup state %s: %w", r.StateFile, err)
	}
	tmp := r.StateFile + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return fmt.Errorf("lookup state %s: %w", r.StateFile, err)
	}
	if err := os.Rename(tmp, r.StateFile); err != nil {
		return fmt.Errorf("lookup state %s: %w", r.StateFile, err)
	}
	return nil
}

func (r *Runner) logger() *slog.Logger {
	if r.Log == nil {
		return slog.Default()
	}
	return r.Log
}

// lookable: papers in the trash or merged away are not looked up.
func lookable(p *meta.Paper) bool { return p.Trashed == nil && p.MergedInto == "" && p.Title != "" }

// Pending lists the papers not looked up yet (or changed since), and with
// all set every paper.
func (r *Runner) Pending(all bool) ([]string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if err := r.load(); err != nil {
		return nil, err
	}
	var ids []string
	err := r.Store.ForEach(func(p meta.Paper) bool {
		if !lookable(&p) {
			return true
		}
		e, ok := r.state[p.ID]
		if all || !ok || e.Key != key(&p) || e.Outcome == Unavailable {
			ids = append(ids, p.ID)
		}
		return true
	})
	slices.Sort(ids)
	return ids, err
}

// One looks up one paper and applies what it found. It returns
// Unavailable with the error when a service could not be asked.
func (r *Runner) One(ctx context.Context, id string) (Outcome, []string, error) {
	p, err := r.Store.Get(id)
	if errors.Is(err, meta.ErrNotFound) {
		return NoMatch, nil, nil // gone since it was listed
	}
	if err != nil {
		return "", nil, err
	}
	res, err := r.Resolver.Resolve(ctx, QueryOf(&p))
	if err != nil {
		if ctx.Err() != nil {
			return "", nil, ctx.Err()
		}
		if errors.Is(err, ErrUnavailable) {
			r.record(&p, Unavailable)
			return Unavailable, nil, err
		}
		return "", nil, fmt.Errorf("looking up %q: %w", p.Title, err)
	}
	for _, why := range res.Rejected {
		if strings.Contains(why, ErrRefused.Error()) {
			// A wrong API key or a changed API: the user should know.
			r.logger().Warn("a lookup service refused a request", "paper", p.ID, "err", why)
			continue
		}
		r.logger().Debug("lookup rejected a record", "paper", p.ID, "title", p.Title, "why", why)
	}
	var changed []string
	np, err := r.Store.Update(id, func(cur *meta.Paper) error {
		// Applied to the paper as it is now: a hand edit made while
		// the services were asked wins.
		changed = Apply(cur, res)
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("saving the lookup of %q: %w", p.Title, err)
	}
	out := NoMatch
	if res.Main != nil {
		out = Matched
	}
	r.record(&np, out)
	if len(changed) > 0 {
		r.logger().Info("looked up", "paper", id, "title", np.Title, "source", res.Main.source(), "fields", changed)
	}
	return out, changed, nil
}

func (m *Match) source() string {
	if m == nil {
		return ""
	}
	return m.Record.Source
}

func (r *Runner) record(p *meta.Paper, o Outcome) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.load() != nil {
		return
	}
	r.state[p.ID] = stateEntry{Key: key(p), Outcome: o, When: time.Now().UTC()}
	if err := r.save(); err != nil {
		r.logger().Warn("saving lookup state", "err", err)
	}
}

// Report counts a pass's outcomes.
type Report struct {
	Matched, NoMatch, Unavailable int
	Changed                       map[string][]string // paper id -> fields
}

// Lookup looks up ids in order, calling progress after each. It stops at
// the first paper no service could be asked for (the network is down):
// the error wraps ErrUnavailable and the rest stay pending.
func (r *Runner) Lookup(ctx context.Context, ids []string, progress func(done, total int)) (Report, error) {
	rep := Report{Changed: map[string][]string{}}
	for i, id := range ids {
		o, changed, err := r.One(ctx, id)
		switch o {
		case Matched:
			rep.Matched++
		case NoMatch:
			rep.NoMatch++
		case Unavailable:
			rep.Unavailable++
		}
		if len(changed) > 0 {
			rep.Changed[id] = changed
		}
		if progress != nil {
			progress(i+1, len(ids))
		}
		if err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// Run looks up pending papers in the background until ctx ends: at start,
// whenever papers are added or change, and after a wait that doubles
// while the services are unreachable. It never blocks the store's other
// users: each paper is one short Update.
func (r *Runner) Run(ctx context.Context) error {
	sub := r.Store.Subscribe()
	defer sub.Close()
	first := r.RetryAfter
	if first <= 0 {
		first = time.Minute
	}
	maxWait := r.MaxRetryAfter
	if maxWait <= 0 {
		maxWait = time.Hour
	}
	wait := first
	for {
		var retry <-chan time.Time
		var timer *time.Timer
		ids, err := r.Pending(false)
		if err == nil && len(ids) > 0 {
			_, err = r.Lookup(ctx, ids, nil)
		}
		switch {
		case ctx.Err() != nil:
			return nil
		case errors.Is(err, ErrUnavailable):
			r.logger().Info("online lookup unavailable; trying again later", "in", wait, "err", err)
			timer = time.NewTimer(wait)
			retry = timer.C
			wait = min(2*wait, maxWait)
		case err != nil:
			r.logger().Warn("online lookup", "err", err)
		default:
			wait = first
		}
		if !r.await(ctx, sub, retry) {
			if timer != nil {
				timer.Stop()
			}
			return nil
		}
		if timer != nil {
			timer.Stop()
		}
	}
}

// await waits for a change that may need a lookup (a new paper, a new
// title or id) or the retry; false when ctx ended.
func (r *Runner) await(ctx context.Context, sub *meta.Subscription, retry <-chan time.Time) bool {
	for {
		select {
		case <-ctx.Done():
			return false
		case <-retry:
			return true
		case ch, ok := <-sub.C:
			if !ok {
				return false
			}
			if ch.After != nil && lookable(ch.After) && (ch.Before == nil || key(ch.Before) != key(ch.After)) {
				return true
			}
		}
	}
}
