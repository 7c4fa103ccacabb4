package dsr

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/vowprivacy/vow/state"
)

// Purged says what [Service.PurgeRecords] did.
type Purged struct {
	Before time.Time `json:"before"`
	// Requests counts the request records deleted (or, in a dry run, due).
	Requests int  `json:"requests"`
	DryRun   bool `json:"dry_run,omitempty"`
}

// purgeBatch bounds one transaction of PurgeRecords.
const purgeBatch = 500

// PurgeRecords deletes the records of requests that ended (completed,
// failed or cancelled) before the cutoff — the policy's
// retention.requests — with their steps, codes, pseudonyms and any access
// package still on disk: Vow's own records are kept no longer than it
// promises. The audit log keeps its entries about them (by request ID and
// pseudonym) under its own retention. A later duplicate that points at a
// purged request keeps its record, without the link. With dryRun it
// counts and changes nothing. by names who asked.
func (s *Service) PurgeRecords(ctx context.Context, before time.Time, by string, dryRun bool) (Purged, error) {
	p := Purged{Before: before.UTC(), DryRun: dryRun}
	cutoff := ts(before)
	if dryRun {
		err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT count(*) FROM requests WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < ?`), cutoff).Scan(&p.Requests)
		if err != nil {
			return p, s.Store.Wrap(err, "dsr: purge records")
		}
		return p, nil
	}
	for {
		n, err := s.purgeBatch(ctx, cutoff, by, p.Before)
		p.Requests += n
		if err != nil || n < purgeBatch {
			return p, err
		}
	}
}

func (s *Service) purgeBatch(ctx context.Context, cutoff, by string, before time.Time) (int, error) {
	var ids []string
	var packages []string
	err := s.Store.InTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, s.Store.Rebind(`SELECT id, result FROM requests
			WHERE status IN ('completed', 'failed', 'cancelled') AND completed_at < ? ORDER BY completed_at LIMIT ?`), cutoff, purgeBatch)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id string
			var result sql.NullString
			if err := rows.Scan(&id, &result); err != nil {
				rows.Close()
				return err
			}
			ids = append(ids, id)
			var res Result
			if result.Valid && json.Unmarshal([]byte(result.String), &res) == nil && res.Export != "" {
				packages = append(packages, res.Export)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(ids) == 0 {
			return err
		}
		in := placeholders(len(ids))
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		for _, q := range []string{
			`UPDATE requests SET duplicate_of = NULL WHERE duplicate_of IN (` + in + `)`,
			`DELETE FROM request_steps WHERE request_id IN (` + in + `)`,
			`DELETE FROM verification_codes WHERE request_id IN (` + in + `)`,
			`DELETE FROM request_pseudonyms WHERE request_id IN (` + in + `)`,
			`DELETE FROM requests WHERE id IN (` + in + `)`,
		} {
			if _, err := tx.ExecContext(ctx, s.Store.Rebind(q), args...); err != nil {
				return err
			}
		}
		data, _ := json.Marshal(map[string]any{"requests": ids, "before": before})
		_, err = s.Store.AppendTx(ctx, tx, state.Event{Kind: "requests.purged", Actor: by, Data: data})
		return err
	})
	if err != nil {
		return 0, s.Store.Wrap(err, "dsr: purge records")
	}
	for _, pkg := range packages {
		if err := os.Remove(filepath.Join(s.ExportDir, filepath.Base(pkg))); err != nil && !errors.Is(err, os.ErrNotExist) {
			return len(ids), fmt.Errorf("dsr: purge records: delete package %s: %w", pkg, err)
		}
	}
	return len(ids), nil
}

// Minimise makes the requests that ended before version 11 of the store
// — completed or cancelled, still holding identities — what requests are
// now when they end: their identities kept only as pseudonyms, their
// keys and changes cleared, with a request.minimised entry each. Failed
// requests keep theirs, to be retried. It returns how many it changed;
// running it again finds none.
func (s *Service) Minimise(ctx context.Context) (int, error) {
	n := 0
	for {
		rows, err := s.Store.DB().QueryContext(ctx, s.Store.Rebind(`SELECT id, identities FROM requests
			WHERE status IN ('completed', 'cancelled') AND identities <> '{}' ORDER BY id LIMIT ?`), purgeBatch)
		if err != nil {
			return n, s.Store.Wrap(err, "dsr: minimise")
		}
		type old struct {
			id  string
			ids Identities
		}
		var batch []old
		for rows.Next() {
			var o old
			var ids string
			if err := rows.Scan(&o.id, &ids); err != nil {
				rows.Close()
				return n, s.Store.Wrap(err, "dsr: minimise")
			}
			if err := json.Unmarshal([]byte(ids), &o.ids); err != nil {
				rows.Close()
				return n, fmt.Errorf("dsr: minimise %s: identities: %w", o.id, err)
			}
			batch = append(batch, o)
		}
		rows.Close()
		if err := rows.Err(); err != nil || len(batch) == 0 {
			return n, err
		}
		err = s.Store.InTx(ctx, func(tx *sql.Tx) error {
			for _, o := range batch {
				for _, ps := range s.pseudonyms(o.ids) {
					if _, err := tx.ExecContext(ctx, s.Store.Rebind(`INSERT INTO request_pseudonyms (request_id, pseudonym) VALUES (?, ?) ON CONFLICT DO NOTHING`), o.id, ps); err != nil {
						return err
					}
				}
				if _, err := tx.ExecContext(ctx, s.Store.Rebind(`UPDATE requests SET identities = '{}', keys = NULL, changes = '{}' WHERE id = ?`), o.id); err != nil {
					return err
				}
				if err := s.eventTx(ctx, tx, o.id, "request.minimised", nil); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return n, s.Store.Wrap(err, "dsr: minimise")
		}
		n += len(batch)
	}
}
