package meta

import (
	"sync"
)

// Change tells subscribers that a paper changed. Before is nil for a new
// paper; After is nil for a paper that no longer exists.
type Change struct {
	ID     string
	Before *Paper
	After  *Paper
	Remote bool // applied from another device's ops
}

// Subscription receives every change committed after Subscribe, in commit
// order. Delivery never blocks a writer: changes queue until read.
type Subscription struct {
	C <-chan Change

	f    *feed
	c    chan Change
	mu   sync.Mutex // protects the following
	q    []Change
	done bool
	wake chan struct{}
	stop chan struct{}
	wg   sync.WaitGroup
}

// Close ends the subscription; C is closed once the pump stops.
func (s *Subscription) Close() {
	s.f.remove(s)
	s.mu.Lock()
	if !s.done {
		s.done = true
		close(s.stop)
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// pump moves queued changes to C, so that a slow reader delays only itself.
func (s *Subscription) pump() {
	defer s.wg.Done()
	defer close(s.c)
	for {
		s.mu.Lock()
		q := s.q
		s.q = nil
		s.mu.Unlock()
		for _, ch := range q {
			select {
			case s.c <- ch:
			case <-s.stop:
				return
			}
		}
		select {
		case <-s.wake:
		case <-s.stop:
			return
		}
	}
}

func (s *Subscription) push(chs []Change) {
	s.mu.Lock()
	s.q = append(s.q, chs...)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

type feed struct {
	mu     sync.Mutex // protects subs and closed
	subs   map[*Subscription]struct{}
	closed bool
}

// Subscribe starts a subscription; the caller owns it and must Close it.
func (s *Store) Subscribe() *Subscription {
	c := make(chan Change)
	sub := &Subscription{C: c, f: &s.feed, c: c, wake: make(chan struct{}, 1), stop: make(chan struct{})}
	s.feed.mu.Lock()
	if s.feed.subs == nil {
		s.feed.subs = map[*Subscription]struct{}{}
	}
	closed := s.feed.closed
	if !closed {
		s.feed.subs[sub] = struct{}{}
	}
	s.feed.mu.Unlock()
	sub.wg.Add(1)
	go sub.pump()
	if closed {
		sub.Close()
	}
	return sub
}

func (f *feed) publish(chs ...Change) {
	if len(chs) == 0 {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	for s := range f.subs {
		s.push(chs)
	}
}

func (f *feed) remove(s *Subscription) {
	f.mu.Lock()
	delete(f.subs, s)
	f.mu.Unlock()
}

func (f *feed) close() {
	f.mu.Lock()
	subs := f.subs
	f.subs = nil
	f.closed = true
	f.mu.Unlock()
	for s := range subs {
		s.Close()
	}
}
