package consent

import (
	"encoding/json"
	"hash/maphash"
	"sync"
	"sync/atomic"
)

// snapshot is a subject's state with its JSON answers rendered once, so
// that the hot path writes bytes and allocates nothing.
type snapshot struct {
	state State
	all   []byte            // GET /v1/consent/{subject}
	per   map[string][]byte // GET /v1/consent/{subject}?purpose=
}

func newSnapshot(st State) *snapshot {
	snap := &snapshot{state: st, per: make(map[string][]byte, len(st.Purposes))}
	snap.all, _ = json.Marshal(st)
	snap.all = append(snap.all, '\n')
	for name, ps := range st.Purposes {
		b, _ := json.Marshal(struct {
			Subject string `json:"subject"`
			Purpose string `json:"purpose"`
			PurposeState
		}{st.Subject, name, ps})
		snap.per[name] = append(b, '\n')
	}
	return snap
}

const shards = 64

// cache holds snapshots by subject in shards. Each shard has a generation
// that every invalidation bumps: a load records the generation before it
// reads the store and its result is kept only if none changed meanwhile, so
// a slow load can never put back a state that an invalidation removed.
type cache struct {
	seed     maphash.Seed
	perShard int
	shard    [shards]cacheShard
	// bypass is set while invalidations may be missed (the LISTEN
	// connection is down): every lookup then reads the store.
	bypass atomic.Bool
}

type cacheShard struct {
	mu  sync.RWMutex
	gen uint64
	// m is keyed by the subject's hash, not the subject: comparing a
	// string key reads the key's bytes, one more cache line missed on
	// every lookup of 10,000 subjects. Two subjects whose 64-bit hashes
	// are equal share a slot; get checks the snapshot's subject, so the
	// worst such a pair can do is miss.
	m map[uint64]*snapshot
}

func newCache(entries int) *cache {
	if entries <= 0 {
		entries = 200_000
	}
	c := &cache{seed: maphash.MakeSeed(), perShard: max(1, entries/shards)}
	for i := range c.shard {
		c.shard[i].m = map[uint64]*snapshot{}
	}
	return c
}

// of returns subject's shard and its key there.
func (c *cache) of(subject string) (*cacheShard, uint64) {
	h := maphash.String(c.seed, subject)
	return &c.shard[h%shards], h
}

func (c *cache) get(subject string) *snapshot {
	if c.bypass.Load() {
		return nil
	}
	sh, h := c.of(subject)
	sh.mu.RLock()
	snap := sh.m[h]
	sh.mu.RUnlock()
	if snap == nil || snap.state.Subject != subject {
		return nil
	}
	return snap
}

// gens returns the generation of each subject's shard, taken before a load.
func (c *cache) gens(subjects []string) []uint64 {
	out := make([]uint64, len(subjects))
	for i, s := range subjects {
		sh, _ := c.of(s)
		sh.mu.RLock()
		out[i] = sh.gen
		sh.mu.RUnlock()
	}
	return out
}

func (c *cache) put(subject string, snap *snapshot, gen uint64) {
	if c.bypass.Load() {
		return
	}
	sh, h := c.of(subject)
	sh.mu.Lock()
	defer sh.mu.Unlock()
	if sh.gen != gen {
		return
	}
	if len(sh.m) >= c.perShard {
		// Evict an arbitrary entry (map order is random): cheap, and a
		// cache this full is mostly cold anyway.
		for k := range sh.m {
			delete(sh.m, k)
			break
		}
	}
	sh.m[h] = snap
}

func (c *cache) invalidate(subject string) {
	sh, h := c.of(subject)
	sh.mu.Lock()
	sh.gen++
	delete(sh.m, h)
	sh.mu.Unlock()
}

func (c *cache) invalidateAll() {
	for i := range c.shard {
		sh := &c.shard[i]
		sh.mu.Lock()
		sh.gen++
		clear(sh.m)
		sh.mu.Unlock()
	}
}

func (c *cache) len() int {
	n := 0
	for i := range c.shard {
		sh := &c.shard[i]
		sh.mu.RLock()
		n += len(sh.m)
		sh.mu.RUnlock()
	}
	return n
}
