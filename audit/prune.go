package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/vowprivacy/vow/state"
)

// PrunedKind is the kind of the entry that records a pruning of the log.
// Verification requires one for the checkpoint the log starts from, so
// that deleting old entries by hand does not pass for pruning.
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
// verifiable: it verifies the log first and refuses to touch one that
// does not verify (its entries are evidence), seals the last entry it
// will delete with a checkpoint that then anchors what is left, records
// the pruning in the log, and only then deletes. actor names who asked.
// With dryRun it reports what it would delete and changes nothing.
func (l *Log) Prune(ctx context.Context, before time.Time, actor string, dryRun bool) (Pruned, error) {
	p := Pruned{Before: before.UTC(), DryRun: dryRun}
	through, err := l.Store.LastEventBefore(ctx, before)
	if err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if through == 0 {
		return p, nil
	}
	rep, err := Verify(ctx, StoreSource{l.Store}, TrustKeys(l.Keys.Trusted()...))
	if err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if !rep.OK() {
		return p, fmt.Errorf("audit: prune: %w: %s (vow audit verify lists every problem); nothing was deleted", ErrTampered, rep.Problems[0].Detail)
	}
	p.Through = through
	if dryRun {
		n := int64(0)
		err := l.Store.EachEvent(ctx, state.EventFilter{Until: before}, func(e state.Event) error {
			if e.Seq <= through {
				n++
			}
			return nil
		})
		p.Deleted = n
		return p, err
	}
	e, err := l.Store.EventAt(ctx, through)
	if err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if _, _, err := l.sealAt(ctx, through, e.Hash); err != nil {
		return p, err
	}
	// The record comes first: a crash before the delete leaves a log
	// that still verifies, and the next run deletes.
	data, _ := json.Marshal(map[string]any{"through": through, "before": p.Before})
	if _, err := l.Store.Append(ctx, state.Event{Kind: PrunedKind, Actor: actor, Data: data}); err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if p.Deleted, err = l.Store.PruneEvents(ctx, through); err != nil {
		return p, fmt.Errorf("audit: prune: %w", err)
	}
	if _, _, err := l.Seal(ctx); err != nil {
		return p, err
	}
	return p, nil
}
