package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"time"

	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/state"
)

// Problem kinds, as Problem.Kind.
const (
	// Changed: the entry's content no longer hashes to its stored hash.
	Changed = "changed"
	// Broken: the entry does not follow the one read before it: an entry
	// between them was removed, or one was inserted or moved.
	Broken = "broken"
	// Rewritten: the chain at a checkpoint differs from what Vow signed,
	// so entries up to it were changed and their hashes recomputed.
	Rewritten = "rewritten"
	// Missing: an entry that a checkpoint sealed is gone.
	Missing = "missing"
	// BadCheckpoint: a checkpoint's signature does not verify with any
	// trusted key.
	BadCheckpoint = "bad-checkpoint"
)

// Problem is one place where the log does not verify.
type Problem struct {
	// Seq is the entry (or checkpoint) where the problem shows.
	Seq int64 `json:"seq"`
	// Kind is one of the kinds above.
	Kind string `json:"kind"`
	// Detail says what was found, in words.
	Detail string `json:"detail"`
}

// Report is the outcome of a verification.
type Report struct {
	// Entries is how many entries were read; First and Last their Seqs.
	Entries     int64 `json:"entries"`
	First       int64 `json:"first"`
	Last        int64 `json:"last"`
	Checkpoints int   `json:"checkpoints"`
	// SealedThrough is the Seq of the last checkpoint the log agrees
	// with, and SealedAt when it was signed; Unsealed counts the entries
	// after it, which are chained but not yet signed.
	SealedThrough int64     `json:"sealed_through"`
	SealedAt      time.Time `json:"sealed_at,omitzero"`
	Unsealed      int64     `json:"unsealed"`
	Problems      []Problem `json:"problems"`
}

// OK reports whether the log verified.
func (r *Report) OK() bool { return len(r.Problems) == 0 }

// Source is a log to verify: the state store ([StoreSource]) or an export
// ([ReadExport]).
type Source interface {
	Checkpoints(ctx context.Context) ([]state.Checkpoint, error)
	// Each calls fn with every entry in increasing Seq order.
	Each(ctx context.Context, fn func(state.Event) error) error
}

// StoreSource is the log held by a state store.
type StoreSource struct{ Store *state.Store }

// Checkpoints implements [Source].
func (s StoreSource) Checkpoints(ctx context.Context) ([]state.Checkpoint, error) {
	return s.Store.Checkpoints(ctx)
}

// Each implements [Source].
func (s StoreSource) Each(ctx context.Context, fn func(state.Event) error) error {
	return s.Store.EachEvent(ctx, state.EventFilter{}, fn)
}

// Verify reads the whole log from src and checks that every entry hashes
// to its stored hash, follows the entry before it, and agrees with every
// checkpoint signed by a trusted key. It returns an error only when the
// log cannot be read; what it finds is in the Report.
func Verify(ctx context.Context, src Source, trusted Trusted) (*Report, error) {
	cps, err := src.Checkpoints(ctx)
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	sort.Slice(cps, func(i, j int) bool { return cps[i].Seq < cps[j].Seq })
	r := &Report{Problems: []Problem{}}
	var good []state.Checkpoint
	for _, c := range cps {
		r.Checkpoints++
		pub, ok := trusted[c.KeyID]
		switch {
		case !ok:
			r.problem(c.Seq, BadCheckpoint, "the checkpoint of entry %d is signed by key %s, which is not trusted (pass its public key)", c.Seq, c.KeyID)
		case !keyring.Verify(pub, checkpointMessage(c), c.Signature):
			r.problem(c.Seq, BadCheckpoint, "the signature of the checkpoint of entry %d does not verify: the checkpoint was changed", c.Seq)
		default:
			good = append(good, c)
		}
	}

	var (
		prev    []byte
		prevSeq int64
		next    int // the first good checkpoint not yet reached
		// sealedEntries counts the entries up to SealedThrough.
		sealedEntries int64
		// anchor is the checkpoint the log starts from after pruning;
		// pruned the Seqs that audit.pruned entries say were pruned to.
		anchor int64
		pruned = map[int64]bool{}
	)
	err = src.Each(ctx, func(e state.Event) error {
		if r.Entries == 0 {
			r.First = e.Seq
			// What is left after pruning starts at the checkpoint that
			// sealed the last pruned entry.
			for next < len(good) && good[next].Seq < e.Seq {
				prev, prevSeq = good[next].Hash, good[next].Seq
				anchor = prevSeq
				next++
			}
		}
		r.Entries++
		r.Last = e.Seq
		if !bytes.Equal(state.ChainHash(e.Prev, e), e.Hash) {
			r.problem(e.Seq, Changed, "entry %d (%s at %s) was changed: its content does not match its hash", e.Seq, e.Kind, e.At.Format(time.RFC3339))
		}
		if !bytes.Equal(e.Prev, prev) {
			switch {
			case prevSeq == 0 && r.Entries == 1:
				r.problem(e.Seq, Broken, "entry %d does not start the log: the entries before it were removed", e.Seq)
			case r.Entries == 1:
				r.problem(e.Seq, Broken, "entry %d does not follow entry %d, where the log was last pruned: entries between were removed", e.Seq, prevSeq)
			default:
				r.problem(e.Seq, Broken, "entry %d does not follow entry %d: an entry between them was removed, or one was inserted or moved", e.Seq, prevSeq)
			}
		}
		for next < len(good) && good[next].Seq < e.Seq {
			c := good[next]
			r.problem(c.Seq, Missing, "entry %d, sealed by the checkpoint of %s, was removed", c.Seq, c.At.Format(time.RFC3339))
			next++
		}
		if next < len(good) && good[next].Seq == e.Seq {
			c := good[next]
			if bytes.Equal(c.Hash, e.Hash) {
				r.SealedThrough, r.SealedAt = c.Seq, c.At
				sealedEntries = r.Entries
			} else {
				r.problem(c.Seq, Rewritten, "the log up to entry %d differs from the checkpoint signed at %s: entries after %d were changed and their hashes recomputed", c.Seq, c.At.Format(time.RFC3339), r.SealedThrough)
			}
			next++
		}
		if e.Kind == PrunedKind {
			var d struct {
				Through int64 `json:"through"`
			}
			if json.Unmarshal(e.Data, &d) == nil {
				pruned[d.Through] = true
			}
		}
		prev, prevSeq = e.Hash, e.Seq
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	if r.Entries == 0 && len(good) > 0 {
		// Everything was pruned up to the last checkpoint, which anchors
		// the next entry; pruning removes the checkpoints before it.
		last := good[len(good)-1]
		r.SealedThrough, r.SealedAt = last.Seq, last.At
		good = good[:len(good)-1]
	}
	for ; next < len(good); next++ {
		c := good[next]
		r.problem(c.Seq, Missing, "entry %d, sealed by the checkpoint of %s, was removed: the log ends at entry %d", c.Seq, c.At.Format(time.RFC3339), r.Last)
	}
	if anchor > 0 && !pruned[anchor] {
		r.problem(anchor, Missing, "the log starts after entry %d, but no %s entry says it was pruned there: entries up to %d were removed", anchor, PrunedKind, anchor)
	}
	r.Unsealed = r.Entries - sealedEntries
	return r, nil
}

func (r *Report) problem(seq int64, kind, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}
