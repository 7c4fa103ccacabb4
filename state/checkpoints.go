package state

import (
	"context"
	"database/sql"
	"fmt"
	"time"
)

// Checkpoint is a signed statement that entry Seq of the event log had
// hash Hash: whoever trusts the key KeyID names can tell from it whether
// the log up to Seq has changed since. Package audit makes and checks
// them; the store only keeps them.
type Checkpoint struct {
	Seq       int64
	At        time.Time
	Hash      []byte
	KeyID     string
	Signature []byte
	// PrevSeq and PrevHash are the checkpoint before this one (0 and nil
	// for the first), which the signature covers too.
	PrevSeq  int64
	PrevHash []byte
}

// Head returns the Seq and Hash of the last entry of the event log (or of
// the checkpoint that anchors it when every entry was pruned); 0 and nil
// for an empty log.
func (s *Store) Head(ctx context.Context) (int64, []byte, error) {
	seq, hash, err := s.head(ctx, s.db)
	if err != nil {
		return 0, nil, s.wrap(err, "read the head of the event log")
	}
	return seq, hash, nil
}

// EventAt returns the entry with the given Seq, or an error wrapping
// [ErrNotFound].
func (s *Store) EventAt(ctx context.Context, seq int64) (Event, error) {
	evs, err := s.Events(ctx, EventFilter{After: seq - 1, Limit: 1})
	if err != nil {
		return Event{}, err
	}
	if len(evs) == 0 || evs[0].Seq != seq {
		return Event{}, fmt.Errorf("state: event %d: %w", seq, ErrNotFound)
	}
	return evs[0], nil
}

// SaveCheckpoint stores c. Saving a checkpoint for a Seq that has one
// already keeps the first.
func (s *Store) SaveCheckpoint(ctx context.Context, c Checkpoint) error {
	_, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO audit_checkpoints (seq, at, hash, key_id, signature, prev_seq, prev_hash) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (seq) DO NOTHING`),
		c.Seq, s.timeArg(c.At), c.Hash, c.KeyID, c.Signature, c.PrevSeq, c.PrevHash)
	if err != nil {
		return s.wrap(err, "save checkpoint %d", c.Seq)
	}
	return nil
}

// CheckpointAt reports whether entry seq has a checkpoint.
func (s *Store) CheckpointAt(ctx context.Context, seq int64) (bool, error) {
	var n int
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM audit_checkpoints WHERE seq = ?`), seq).Scan(&n); err != nil {
		return false, s.wrap(err, "read checkpoint %d", seq)
	}
	return n > 0, nil
}

// Checkpoints returns every checkpoint, in increasing Seq order.
func (s *Store) Checkpoints(ctx context.Context) ([]Checkpoint, error) {
	return s.checkpoints(ctx, `ORDER BY seq`)
}

// LastCheckpoint returns the newest checkpoint, and false when there is
// none.
func (s *Store) LastCheckpoint(ctx context.Context) (Checkpoint, bool, error) {
	return s.oneCheckpoint(ctx, `ORDER BY seq DESC LIMIT 1`)
}

// FirstCheckpoint returns the oldest checkpoint kept, and false when
// there is none.
func (s *Store) FirstCheckpoint(ctx context.Context) (Checkpoint, bool, error) {
	return s.oneCheckpoint(ctx, `ORDER BY seq LIMIT 1`)
}

// CheckpointOf returns the checkpoint of entry seq, and false when it has
// none.
func (s *Store) CheckpointOf(ctx context.Context, seq int64) (Checkpoint, bool, error) {
	return s.oneCheckpoint(ctx, `WHERE seq = ?`, seq)
}

func (s *Store) oneCheckpoint(ctx context.Context, tail string, args ...any) (Checkpoint, bool, error) {
	cps, err := s.checkpoints(ctx, tail, args...)
	if err != nil || len(cps) == 0 {
		return Checkpoint{}, false, err
	}
	return cps[0], true, nil
}

func (s *Store) checkpoints(ctx context.Context, tail string, args ...any) ([]Checkpoint, error) {
	rows, err := s.db.QueryContext(ctx, s.rebind(`SELECT seq, at, hash, key_id, signature, prev_seq, prev_hash FROM audit_checkpoints `+tail), args...)
	if err != nil {
		return nil, s.wrap(err, "list checkpoints")
	}
	defer rows.Close()
	var cps []Checkpoint
	for rows.Next() {
		var c Checkpoint
		if s.dialect == DialectPostgres {
			err = rows.Scan(&c.Seq, &c.At, &c.Hash, &c.KeyID, &c.Signature, &c.PrevSeq, &c.PrevHash)
			c.At = c.At.UTC()
		} else {
			var at string
			if err = rows.Scan(&c.Seq, &at, &c.Hash, &c.KeyID, &c.Signature, &c.PrevSeq, &c.PrevHash); err == nil {
				c.At, err = time.Parse(timeLayout, at)
			}
		}
		if err != nil {
			return nil, s.wrap(err, "list checkpoints: read row")
		}
		cps = append(cps, c)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err, "list checkpoints")
	}
	return cps, nil
}

// LastEventBefore returns the Seq of the last entry written before t, 0
// when there is none.
func (s *Store) LastEventBefore(ctx context.Context, t time.Time) (int64, error) {
	var seq sql.NullInt64
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT max(seq) FROM events WHERE at < ?`), s.timeArg(t)).Scan(&seq); err != nil {
		return 0, s.wrap(err, "find the entries written before %s", t.Format(time.RFC3339))
	}
	return seq.Int64, nil
}

// PruneEvents deletes the entries of the event log up to and including
// through, which must have a checkpoint (it anchors what is left), and
// the checkpoints before it. It deletes in batches, each its own
// transaction, so that appends are never held up for long, and returns
// how many entries it deleted.
func (s *Store) PruneEvents(ctx context.Context, through int64) (int64, error) {
	sealed, err := s.CheckpointAt(ctx, through)
	if err != nil {
		return 0, err
	}
	if !sealed {
		return 0, fmt.Errorf("state: prune the event log through %d: no checkpoint seals entry %d: %w", through, through, ErrInvalid)
	}
	const batch = 5000
	var deleted int64
	for {
		res, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM events WHERE seq IN (SELECT seq FROM events WHERE seq <= ? ORDER BY seq LIMIT ?)`), through, batch)
		if err != nil {
			return deleted, s.wrap(err, "prune the event log")
		}
		k, err := res.RowsAffected()
		if err != nil {
			return deleted, s.wrap(err, "prune the event log")
		}
		deleted += k
		if k < batch {
			break
		}
	}
	if _, err := s.db.ExecContext(ctx, s.rebind(`DELETE FROM audit_checkpoints WHERE seq < ?`), through); err != nil {
		return deleted, s.wrap(err, "prune the event log: checkpoints")
	}
	return deleted, nil
}

// CountEventsThrough counts the entries up to and including seq.
func (s *Store) CountEventsThrough(ctx context.Context, seq int64) (int64, error) {
	var n int64
	if err := s.db.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM events WHERE seq <= ?`), seq).Scan(&n); err != nil {
		return 0, s.wrap(err, "count entries")
	}
	return n, nil
}
