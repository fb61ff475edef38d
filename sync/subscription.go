package sync

import (
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/paperfs/paperfs/meta"
)

// Subscription is the part of a shared library a device holds: the papers
// with any of Tags or in any of Folders. The zero value is the whole
// library. See docs/sync.md, "Subscribing to part of a library".
type Subscription struct {
	Tags    []string `json:"tags,omitempty"`
	Folders []string `json:"folders,omitempty"`
}

// All says the subscription is the whole library.
func (s Subscription) All() bool { return len(s.Tags) == 0 && len(s.Folders) == 0 }

// Matches says paper p belongs to the subscription.
func (s Subscription) Matches(p *meta.Paper) bool {
	if s.All() {
		return true
	}
	for _, t := range p.Tags {
		if slices.Contains(s.Tags, t) {
			return true
		}
	}
	for _, f := range p.Folders {
		if slices.Contains(s.Folders, f) {
			return true
		}
	}
	return false
}

// matchesRecord says a snapshot record's paper belongs to the
// subscription: it has a live add of one of its tags or folders.
func (s Subscription) matchesRecord(r *meta.SnapshotRecord) bool {
	if s.All() {
		return true
	}
	live := func(field string, names []string) bool {
		for _, n := range names {
			if el, ok := r.Sets[field][n]; ok && el.Live() {
				return true
			}
		}
		return false
	}
	return live("tags", s.Tags) || live("folders", s.Folders)
}

// Normalized is the subscription with its names trimmed, sorted and
// deduplicated: the form it is stored and compared in.
func (s Subscription) Normalized() Subscription {
	clean := func(in []string) []string {
		var out []string
		for _, v := range in {
			if v = strings.TrimSpace(v); v != "" {
				out = append(out, v)
			}
		}
		slices.Sort(out)
		return slices.Compact(out)
	}
	return Subscription{Tags: clean(s.Tags), Folders: clean(s.Folders)}
}

// String describes the subscription for people.
func (s Subscription) String() string {
	if s.All() {
		return "the whole library"
	}
	var parts []string
	if len(s.Tags) > 0 {
		parts = append(parts, "tags "+strings.Join(s.Tags, ", "))
	}
	if len(s.Folders) > 0 {
		parts = append(parts, "folders "+strings.Join(s.Folders, ", "))
	}
	return "papers with " + strings.Join(parts, " or ")
}

// key identifies the subscription in the store's sync state ("" for the
// whole library).
func (s Subscription) key() string {
	n := s.Normalized()
	if n.All() {
		return ""
	}
	b, _ := json.Marshal(n)
	return string(b)
}

// subscription is the part of the library the engine holds now;
// SetSubscription may change it while Run runs.
func (e *Engine) subscription() Subscription {
	e.subMu.Lock()
	defer e.subMu.Unlock()
	return e.cfg.Subscription
}

// SetSubscription changes the part of the library this device holds, for
// an engine that is running (paperfs subscribe beside a mount): the next
// round, which it asks for, adopts the papers that enter it with their
// history and lets go of those that leave once their edits are sent, as
// an engine started with it would, and this device's document on the
// server says so.
func (e *Engine) SetSubscription(sub Subscription) {
	sub = sub.Normalized()
	e.subMu.Lock()
	e.cfg.Subscription = sub
	e.subMu.Unlock()
	e.mu.Lock()
	e.mu.lastDev = time.Time{} // advertise it in the next round
	e.mu.Unlock()
	select {
	case e.kick <- struct{}{}:
	default:
	}
}
