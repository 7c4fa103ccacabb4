package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vowprivacy/vow/state"
)

// PrunedKind is the kind of the entry that records a pruning of the log.
// It is signed, and verification requires one for the checkpoint the log
// starts from, so that deleting old entries by hand does not pass for
// pruning.
const PrunedKind = "audit.pruned"

// Pruned says what [Log.Prune] did.
type Pruned struct {
	// Before is the cutoff: entries written before it were due.
	Before time.Time `json:"before"`
	// Through is the Seq of the last entry deleted, 0 when none were due.
	Through int64 `json:"through"`
	// Deleted counts the entries deleted.
	Deleted int64 `json:"deleted"`
	// DryRun is set when nothing was deleted because it was asked not to.
	DryRun bool `json:"dry_run,omitempty"`
}

// Prune deletes the entries written before the cutoff, keeping the log
// verifiable. It cuts at the newest checkpoint among them, so that what
// is left starts at a signed checkpoint and the chain of checkpoints
// stays whole (entries not yet sealed wait for the next run). It first
// finishes a pruning that a crash or a shutdown cut short, then verifies
// the log and refuses to touch one that does not verify (its entries are
// evidence), records the pruning in a signed entry, and only then
// deletes. actor names who asked. With dryRun it reports what it would
// delete and changes nothing.
func (l *Log) Prune(ctx context.Context, before time.Time, actor string, dryRun bool) (Pruned, error) {
	p := Pruned{Before: before.UTC(), DryRun: dryRun}
	if !dryRun {
		if err := l.finishPending(ctx); err != nil {
			return p, err
		}
	}
	last, err := l.Store.LastEventBefore(ctx, before)
	if err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	cps, err := l.Store.Checkpoints(ctx)
	if err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	var cut *state.Checkpoint
	for i := range cps {
		if cps[i].Seq <= last {
			cut = &cps[i]
		}
	}
	first, err := l.Store.Events(ctx, state.EventFilter{Limit: 1})
	if err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if cut == nil || len(first) == 0 || first[0].Seq > cut.Seq {
		return p, nil // nothing sealed is due
	}
	rep, err := Verify(ctx, StoreSource{l.Store}, TrustKeys(l.Keys.Trusted()...))
	if err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if !rep.OK() {
		return p, fmt.Errorf("audit: prune: %w: %s (vow audit verify lists every problem); nothing was deleted", ErrTampered, rep.Problems[0].Detail)
	}
	p.Through = cut.Seq
	if dryRun {
		p.Deleted, err = l.Store.CountEventsThrough(ctx, cut.Seq)
		return p, err
	}
	// The record comes first: a crash before the deletes leaves a log
	// that still verifies, and the next run finishes them.
	data, _ := json.Marshal(prunedData{Through: cut.Seq, Before: p.Before, Hash: hex.EncodeToString(cut.Hash),
		KeyID: l.Keys.ID(), Signature: l.Keys.Sign(prunedMessage(cut.Seq, cut.Hash))})
	if _, err := l.Store.Append(ctx, state.Event{Kind: PrunedKind, Actor: actor, Data: data}); err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if p.Deleted, err = l.Store.PruneEvents(ctx, cut.Seq); err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if _, _, err := l.Seal(ctx); err != nil {
		return p, err
	}
	return p, nil
}

// finishPending completes the last recorded pruning if entries it covers
// are still there.
func (l *Log) finishPending(ctx context.Context) error {
	var through int64
	err := l.Store.EachEvent(ctx, state.EventFilter{Kind: PrunedKind}, func(e state.Event) error {
		if t, _, ok := verifyPruned(e, TrustKeys(l.Keys.Trusted()...)); ok {
			through = t
		}
		return nil
	})
	if err != nil || through == 0 {
		return err
	}
	first, err := l.Store.Events(ctx, state.EventFilter{Limit: 1})
	if err != nil || len(first) == 0 || first[0].Seq > through {
		return err
	}
	if _, err := l.Store.PruneEvents(ctx, through); err != nil {
		return fmt.Errorf("audit: prune: finish the pruning through %d: %w", through, err)
	}
	return nil
}
