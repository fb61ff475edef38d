package meta

import (
	"strings"
	"sync"
	"testing"
)

// TestCreateWithKeyConcurrent: papers created at once from one base key
// all get keys of their own, with no lock but the store's.
func TestCreateWithKeyConcurrent(t *testing.T) {
	s := openTest(t, "")
	const n = 30
	keys := make([]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			p, err := s.CreateWithKey(Paper{Title: "Paxos"}, "lamport1998paxos")
			if err != nil {
				t.Error(err)
				return
			}
			keys[i] = p.CiteKey
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for _, k := range keys {
		if seen[k] || !strings.HasPrefix(k, "lamport1998paxos") {
			t.Fatalf("keys %v: %q repeated or not from the base", keys, k)
		}
		seen[k] = true
	}
	if !seen["lamport1998paxos"] || !seen["lamport1998paxosa"] || !seen["lamport1998paxosac"] {
		t.Errorf("keys %v: want the base, then a, b, ...", keys)
	}
}

// TestCreateWithKeyOwnKey: a paper keeps its own key unless another paper
// holds it, in any case; GiveKey leaves a key edited meanwhile alone.
func TestCreateWithKeyOwnKey(t *testing.T) {
	s := openTest(t, "")
	a, err := s.CreateWithKey(Paper{Title: "A", CiteKey: "Mine"}, "base")
	if err != nil || a.CiteKey != "Mine" {
		t.Fatalf("own free key: %q, %v", a.CiteKey, err)
	}
	b, err := s.CreateWithKey(Paper{Title: "B", CiteKey: "mine"}, "mine")
	if err != nil || b.CiteKey != "minea" {
		t.Fatalf("own key held by another paper: %q, %v; want minea", b.CiteKey, err)
	}
	if got := s.FreeKey("mine", ""); got != "mineb" {
		t.Errorf("FreeKey = %q, want mineb", got)
	}
	if got := s.FreeKey("mine", a.ID); got != "mine" {
		t.Errorf("FreeKey for the holder = %q, want mine", got)
	}
	c, err := s.GiveKey(b.ID, "not its key", "other")
	if err != nil || c.CiteKey != "minea" {
		t.Errorf("GiveKey over an edited key: %q, %v; want minea kept", c.CiteKey, err)
	}
	c, err = s.GiveKey(b.ID, "minea", "mine")
	if err != nil || c.CiteKey != "minea" {
		t.Errorf("GiveKey to the holder of a free suffix: %q, %v; want minea", c.CiteKey, err)
	}
	if KeySuffix(0) != "" || KeySuffix(1) != "a" || KeySuffix(26) != "z" || KeySuffix(27) != "aa" {
		t.Errorf("suffixes %q %q %q %q", KeySuffix(0), KeySuffix(1), KeySuffix(26), KeySuffix(27))
	}
}
