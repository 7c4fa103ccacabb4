package consent

import (
	"strconv"
	"testing"
)

func TestCache(t *testing.T) {
	t.Parallel()
	c := newCache(shards * 2) // two entries per shard
	snap := newSnapshot(State{Subject: "a", Purposes: map[string]PurposeState{"marketing": {Status: Granted, Allowed: true}}})

	// A load that started before an invalidation must not put back what
	// the invalidation removed.
	gen := c.gens([]string{"a"})[0]
	c.invalidate("a")
	c.put("a", snap, gen)
	if c.get("a") != nil {
		t.Fatal("stale load cached after an invalidation")
	}
	gen = c.gens([]string{"a"})[0]
	c.put("a", snap, gen)
	if c.get("a") != snap {
		t.Fatal("fresh load not cached")
	}
	if string(c.get("a").per["marketing"]) != `{"subject":"a","purpose":"marketing","allowed":true,"status":"granted","source":""}`+"\n" {
		t.Fatalf("rendered %s", c.get("a").per["marketing"])
	}

	// While bypassed (LISTEN down) nothing is read or kept.
	c.bypass.Store(true)
	if c.get("a") != nil {
		t.Fatal("bypassed cache answered")
	}
	c.put("b", snapOf("b"), c.gens([]string{"b"})[0])
	c.bypass.Store(false)
	if c.get("b") != nil {
		t.Fatal("bypassed cache kept an entry")
	}

	// The size stays bounded.
	for i := range 10_000 {
		s := strconv.Itoa(i)
		c.put(s, snapOf(s), c.gens([]string{s})[0])
	}
	if n := c.len(); n > shards*2 {
		t.Fatalf("%d entries, cap %d", n, shards*2)
	}
	c.invalidateAll()
	if c.len() != 0 {
		t.Fatal("invalidateAll left entries")
	}

	// Entries are keyed by the subject's hash: a subject whose hash
	// another's snapshot holds (two subjects of one 64-bit hash) is a
	// miss, never the other's answer.
	sh, h := c.of("x")
	sh.m[h] = snapOf("y")
	if c.get("x") != nil {
		t.Fatal("a subject got the snapshot of another with its hash")
	}
	c.put("x", snapOf("x"), c.gens([]string{"x"})[0])
	if got := c.get("x"); got == nil || got.state.Subject != "x" {
		t.Fatalf("after its own load: %v", got)
	}
}

func snapOf(subject string) *snapshot {
	return newSnapshot(State{Subject: subject, Purposes: map[string]PurposeState{"marketing": {Status: Denied}}})
}
