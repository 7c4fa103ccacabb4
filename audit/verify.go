package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
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
// checkpoint signed by a trusted key; that the checkpoints form one chain;
// and that a log which no longer starts at its first entry was pruned by
// Vow (a signed audit.pruned entry). It returns an error only when the log
// cannot be read; what it finds is in the Report.
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
	// Each checkpoint names the one before it: one removed from the
	// middle leaves a gap.
	for i := 1; i < len(good); i++ {
		if c, b := good[i], good[i-1]; c.PrevSeq != b.Seq || !bytes.Equal(c.PrevHash, b.Hash) {
			r.problem(c.PrevSeq, Missing, "the checkpoint of entry %d, which the checkpoint of entry %d follows, was removed", c.PrevSeq, c.Seq)
		}
	}

	var (
		prev    []byte
		prevSeq int64
		next    int // the first good checkpoint not yet reached
		// sealedEntries counts the entries up to SealedThrough.
		sealedEntries int64
		// anchor is the checkpoint the log starts from after pruning;
		// pruned maps the Seqs that signed audit.pruned entries say the
		// log was pruned through to the hash sealed there.
		anchor int64
		pruned = map[int64][]byte{}
		// unanchored is the first entry when it does not follow the
		// anchor: fine if a pruning is under way (its record and its
		// checkpoint are further on), a problem otherwise.
		unanchored *Problem
		matched    = map[int64]bool{} // checkpoints the log agrees with
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
			case r.Entries == 1:
				p := Problem{Seq: e.Seq, Kind: Broken, Detail: fmt.Sprintf("entry %d does not start the log: the entries before it were removed", e.Seq)}
				if prevSeq > 0 {
					p.Detail = fmt.Sprintf("entry %d does not follow entry %d, where the log was last pruned: entries between were removed", e.Seq, prevSeq)
				}
				unanchored = &p
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
				matched[c.Seq] = true
			} else {
				r.problem(c.Seq, Rewritten, "the log up to entry %d differs from the checkpoint signed at %s: entries after %d were changed and their hashes recomputed", c.Seq, c.At.Format(time.RFC3339), r.SealedThrough)
			}
			next++
		}
		if e.Kind == PrunedKind {
			if through, hash, ok := verifyPruned(e, trusted); ok {
				pruned[through] = hash
			} else {
				r.problem(e.Seq, BadCheckpoint, "the pruning recorded in entry %d is not signed by a trusted key", e.Seq)
			}
		}
		prev, prevSeq = e.Hash, e.Seq
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("audit: verify: %w", err)
	}
	// A pruning cut short (or under way as the log was read) leaves the
	// log starting before the checkpoint it prunes through.
	underWay := false
	for through := range pruned {
		underWay = underWay || (r.Entries > 0 && through >= r.First && matched[through])
	}
	if unanchored != nil && !underWay {
		r.Problems = append(r.Problems, *unanchored)
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
	if anchor > 0 && !underWay && (pruned[anchor] == nil || !bytes.Equal(pruned[anchor], prev0(good, anchor))) {
		r.problem(anchor, Missing, "the log starts after entry %d, but no signed %s entry says it was pruned there: entries up to %d were removed", anchor, PrunedKind, anchor)
	}
	if len(good) > 0 && good[0].PrevSeq != 0 && pruned[good[0].Seq] == nil && anchor == 0 {
		r.problem(good[0].PrevSeq, Missing, "the checkpoints before entry %d were removed", good[0].Seq)
	}
	r.Unsealed = r.Entries - sealedEntries
	return r, nil
}

// prev0 is the hash the checkpoint at seq sealed.
func prev0(cps []state.Checkpoint, seq int64) []byte {
	for _, c := range cps {
		if c.Seq == seq {
			return c.Hash
		}
	}
	return nil
}

// prunedMessage is what the signature of an audit.pruned entry covers:
// where the log was cut, and the hash sealed there.
func prunedMessage(through int64, hash []byte) []byte {
	return []byte("vow.audit.pruned.v1\n" + strconv.FormatInt(through, 10) + "\n" + hex.EncodeToString(hash) + "\n")
}

// prunedData is the data of an audit.pruned entry.
type prunedData struct {
	Through   int64     `json:"through"`
	Before    time.Time `json:"before"`
	Hash      string    `json:"hash"`
	KeyID     string    `json:"key_id"`
	Signature []byte    `json:"signature"`
}

// verifyPruned returns where a pruning entry says the log was cut and the
// hash sealed there, if a trusted key signed it.
func verifyPruned(e state.Event, trusted Trusted) (int64, []byte, bool) {
	var d prunedData
	if json.Unmarshal(e.Data, &d) != nil {
		return 0, nil, false
	}
	hash, err := hex.DecodeString(d.Hash)
	pub, ok := trusted[d.KeyID]
	if err != nil || !ok || !keyring.Verify(pub, prunedMessage(d.Through, hash), d.Signature) {
		return 0, nil, false
	}
	return d.Through, hash, true
}

func (r *Report) problem(seq int64, kind, format string, args ...any) {
	r.Problems = append(r.Problems, Problem{Seq: seq, Kind: kind, Detail: fmt.Sprintf(format, args...)})
}
