package retention

import (
	"context"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vowprivacy/vow/state"
)

// timeLayout is how the SQLite state store keeps times: fixed width, so
// text order is time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

func (e *Engine) tv(t time.Time) any {
	if e.Store.Dialect() == state.DialectPostgres {
		return t.UTC()
	}
	return t.UTC().Format(timeLayout)
}

func parseStoreTime(v any) (time.Time, error) {
	switch x := v.(type) {
	case time.Time:
		return x.UTC(), nil
	case string:
		return time.Parse(timeLayout, x)
	case []byte:
		return time.Parse(timeLayout, string(x))
	}
	return time.Time{}, fmt.Errorf("unexpected time value %T", v)
}

func (e *Engine) q(query string) string { return e.Store.Rebind(query) }

// bytesKey is how a checkpoint keeps a binary key value (BINARY(16),
// bytea, a blob): as hex, since JSON strings hold text.
type bytesKey struct {
	Hex string `json:"hex"`
}

// checkpoint is the progress of an unfinished rule.
type checkpoint struct {
	Rule    string
	RunID   string
	Cutoff  time.Time
	LastKey []any
	Rows    int64
}

func (e *Engine) loadCheckpoint(ctx context.Context, rule string) (*checkpoint, error) {
	var (
		cp      = checkpoint{Rule: rule}
		cut     any
		lastKey string
	)
	err := e.Store.DB().QueryRowContext(ctx, e.q(`SELECT run_id, cutoff, last_key, rows_done FROM retention_checkpoints WHERE rule = ?`), rule).
		Scan(&cp.RunID, &cut, &lastKey, &cp.Rows)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, e.Store.Wrap(err, "retention: read checkpoint of %q", rule)
	}
	if cp.Cutoff, err = parseStoreTime(cut); err != nil {
		return nil, fmt.Errorf("retention: checkpoint of %q: %w", rule, err)
	}
	if lastKey != "" {
		dec := json.NewDecoder(strings.NewReader(lastKey))
		dec.UseNumber()
		if err := dec.Decode(&cp.LastKey); err != nil {
			return nil, fmt.Errorf("retention: checkpoint of %q: bad key %q: %w", rule, lastKey, err)
		}
		for i, v := range cp.LastKey {
			switch x := v.(type) {
			case json.Number:
				if n, err := x.Int64(); err == nil {
					cp.LastKey[i] = n
				} else {
					cp.LastKey[i] = x.String()
				}
			case map[string]any:
				h, _ := x["hex"].(string)
				b, err := hex.DecodeString(h)
				if err != nil {
					return nil, fmt.Errorf("retention: checkpoint of %q: bad key %q: %w", rule, lastKey, err)
				}
				cp.LastKey[i] = b
			}
		}
	}
	return &cp, nil
}

func (e *Engine) saveCheckpoint(ctx context.Context, cp *checkpoint) error {
	key := ""
	if cp.LastKey != nil {
		vals := make([]any, len(cp.LastKey))
		for i, v := range cp.LastKey {
			switch x := v.(type) {
			case []byte:
				vals[i] = bytesKey{Hex: hex.EncodeToString(x)}
			case string:
				if !utf8.ValidString(x) {
					// JSON would replace the bytes that are not UTF-8: the
					// resumed run would start from another key.
					vals[i] = bytesKey{Hex: hex.EncodeToString([]byte(x))}
				} else {
					vals[i] = x
				}
			case int64, int32, int, nil:
				vals[i] = v
			default:
				vals[i] = text(v)
			}
		}
		b, err := json.Marshal(vals)
		if err != nil {
			return fmt.Errorf("retention: checkpoint of %q: %w", cp.Rule, err)
		}
		key = string(b)
	}
	// In a transaction, so that it is fenced by the rule's lease: a run
	// that lost it must not move its successor's checkpoint.
	err := e.Store.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, e.q(`INSERT INTO retention_checkpoints (rule, run_id, cutoff, last_key, rows_done, updated_at) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (rule) DO UPDATE SET run_id = excluded.run_id, cutoff = excluded.cutoff, last_key = excluded.last_key, rows_done = excluded.rows_done, updated_at = excluded.updated_at`),
			cp.Rule, cp.RunID, e.tv(cp.Cutoff), key, cp.Rows, e.tv(e.now()))
		return err
	})
	if errors.Is(err, state.ErrLeaseLost) {
		return err
	}
	if err != nil {
		return e.Store.Wrap(err, "retention: save checkpoint of %q", cp.Rule)
	}
	return nil
}

func (e *Engine) deleteCheckpoint(ctx context.Context, rule string) error {
	if _, err := e.Store.DB().ExecContext(ctx, e.q(`DELETE FROM retention_checkpoints WHERE rule = ?`), rule); err != nil {
		return e.Store.Wrap(err, "retention: clear checkpoint of %q", rule)
	}
	return nil
}

func (e *Engine) startRun(ctx context.Context, r *Report) error {
	dry := 0
	if r.DryRun {
		dry = 1
	}
	_, err := e.Store.DB().ExecContext(ctx, e.q(`INSERT INTO retention_runs (id, started_at, status, actor, dry_run) VALUES (?, ?, 'running', ?, ?)`),
		r.ID, e.tv(r.StartedAt), r.Actor, dry)
	if err != nil {
		return e.Store.Wrap(err, "retention: record run")
	}
	return nil
}

func (e *Engine) finishRun(ctx context.Context, r *Report) error {
	summary, _ := json.Marshal(map[string]any{"rows": r.Rows(), "partition_rows_estimated": r.PartitionRows(), "rules": len(r.Rules)})
	tx, err := e.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		return e.Store.Wrap(err, "retention: record run")
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, e.q(`UPDATE retention_runs SET finished_at = ?, status = ?, summary = ? WHERE id = ?`),
		e.tv(r.FinishedAt), r.Status, string(summary), r.ID); err != nil {
		return e.Store.Wrap(err, "retention: record run")
	}
	for _, rr := range r.Rules {
		if _, err := tx.ExecContext(ctx, e.q(`INSERT INTO retention_run_rules (run_id, rule, status, rows_done, cascaded, held, batches, duration_ms, error, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
			r.ID, rr.Rule, rr.Status, rr.Rows, rr.Cascaded, rr.Held, rr.Batches, rr.Duration.Milliseconds(), rr.Error, e.tv(r.FinishedAt)); err != nil {
			return e.Store.Wrap(err, "retention: record rule %q", rr.Rule)
		}
	}
	if err := tx.Commit(); err != nil {
		return e.Store.Wrap(err, "retention: record run")
	}
	return nil
}

// History returns the latest runs, newest first, with their rules.
func (e *Engine) History(ctx context.Context, limit int) ([]Report, error) {
	if limit <= 0 {
		limit = 20
	}
	rows, err := e.Store.DB().QueryContext(ctx, e.q(`SELECT id, started_at, finished_at, status, actor, dry_run FROM retention_runs ORDER BY started_at DESC, id LIMIT ?`), limit)
	if err != nil {
		return nil, e.Store.Wrap(err, "retention: history")
	}
	var out []Report
	for rows.Next() {
		var (
			r                 Report
			started, finished any
			dry               int
		)
		if err := rows.Scan(&r.ID, &started, &finished, &r.Status, &r.Actor, &dry); err != nil {
			rows.Close()
			return nil, e.Store.Wrap(err, "retention: history")
		}
		r.StartedAt, _ = parseStoreTime(started)
		if finished != nil {
			r.FinishedAt, _ = parseStoreTime(finished)
		}
		r.DryRun = dry != 0
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, e.Store.Wrap(err, "retention: history")
	}
	for i := range out {
		rr, err := e.Store.DB().QueryContext(ctx, e.q(`SELECT rule, status, rows_done, cascaded, held, batches, duration_ms, error FROM retention_run_rules WHERE run_id = ? ORDER BY rule`), out[i].ID)
		if err != nil {
			return nil, e.Store.Wrap(err, "retention: history")
		}
		for rr.Next() {
			var x RuleResult
			var ms int64
			if err := rr.Scan(&x.Rule, &x.Status, &x.Rows, &x.Cascaded, &x.Held, &x.Batches, &ms, &x.Error); err != nil {
				rr.Close()
				return nil, e.Store.Wrap(err, "retention: history")
			}
			x.Duration = time.Duration(ms) * time.Millisecond
			out[i].Rules = append(out[i].Rules, x)
		}
		rr.Close()
	}
	return out, nil
}

// lastFinished returns when rule last finished a run (done, not dry), or
// the zero time.
//
// A run the brake stopped counts: the rule waits for an operator (vow
// retention run --approve), and the scheduler asks again next interval,
// not every minute.
func (e *Engine) lastFinished(ctx context.Context, rule string) (time.Time, error) {
	var v any
	err := e.Store.DB().QueryRowContext(ctx, e.q(`SELECT max(rr.finished_at) FROM retention_run_rules rr JOIN retention_runs r ON r.id = rr.run_id WHERE rr.rule = ? AND rr.status IN ('done', 'braked') AND r.dry_run = 0`), rule).Scan(&v)
	if err != nil {
		return time.Time{}, e.Store.Wrap(err, "retention: last run of %q", rule)
	}
	if v == nil {
		return time.Time{}, nil
	}
	return parseStoreTime(v)
}
