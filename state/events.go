package state

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// Event is one entry of the append-only log of what Vow did.
type Event struct {
	// Seq is the event's position in the log, assigned by the store: it
	// grows with every append and is never reused.
	Seq int64
	// At is when the event happened, in UTC with microsecond precision.
	// Append uses the current time when At is zero.
	At time.Time
	// Kind says what happened, as a dotted name such as "policy.checked".
	// It is required.
	Kind string
	// Subject names what the event is about (a request ID, a data subject,
	// …); empty when the event has none.
	Subject string
	// Actor names who or what caused the event (a user, an API key, "vow"
	// itself). It may be empty when unknown.
	Actor string
	// Data holds details as a JSON object. Append stores it compacted, and
	// the log returns exactly the stored bytes; nil or empty means {}.
	Data json.RawMessage
}

// EventFilter selects events for [Store.Events].
type EventFilter struct {
	// Kind, when set, keeps only events of that exact kind.
	Kind string
	// After keeps only events with Seq greater than After; use the last
	// Seq seen to page through the log.
	After int64
	// Limit caps the number of events returned: 0 means
	// [DefaultEventLimit], and more than [MaxEventLimit] is invalid.
	Limit int
}

// Limits on how many events one call to [Store.Events] returns.
const (
	DefaultEventLimit = 1000
	MaxEventLimit     = 10000
)

// timeLayout is how SQLite stores Event.At: fixed width, so text order is
// time order.
const timeLayout = "2006-01-02T15:04:05.000000Z"

// Append adds e to the event log and returns it as stored: with Seq
// assigned, At set (to now, if it was zero) and normalised to UTC with
// microsecond precision, and Data compacted. e.Seq must be zero. Invalid
// events give an error wrapping [ErrInvalid].
//
// Appends are serialised, so a reader paging with EventFilter.After never
// misses an event committed after its read with a lower Seq.
func (s *Store) Append(ctx context.Context, e Event) (Event, error) {
	if err := normalize(&e); err != nil {
		return Event{}, fmt.Errorf("state: append event: %w", err)
	}
	var err error
	switch s.dialect {
	case DialectPostgres:
		err = s.appendPostgres(ctx, &e)
	default:
		err = s.insertEvent(ctx, s.db, &e)
	}
	if err != nil {
		return Event{}, s.wrap(err, "append event %q", e.Kind)
	}
	return e, nil
}

// AppendTx is [Store.Append] inside the caller's transaction, so that an
// event commits, or not, with the change it records, in one commit. On
// PostgreSQL it holds the append lock until tx ends: keep tx short.
func (s *Store) AppendTx(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	if err := normalize(&e); err != nil {
		return Event{}, fmt.Errorf("state: append event: %w", err)
	}
	if err := s.insertEvent(ctx, tx, &e); err != nil {
		return Event{}, s.wrap(err, "append event %q", e.Kind)
	}
	return e, nil
}

// appendPostgres inserts in a transaction of its own.
func (s *Store) appendPostgres(ctx context.Context, e *Event) (err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = s.insertEvent(ctx, tx, e); err != nil {
		return err
	}
	return tx.Commit()
}

// insertEvent inserts e and sets its Seq. On PostgreSQL q must be a
// transaction: the insert runs under a transaction-scoped advisory lock,
// because identity values are handed out at insert time but become
// visible at commit, so without the lock a concurrent append could commit
// a lower Seq after a reader has already moved past it.
func (s *Store) insertEvent(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, e *Event) error {
	subject := sql.NullString{String: e.Subject, Valid: e.Subject != ""}
	if s.dialect == DialectPostgres {
		if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, appendLockID); err != nil {
			return err
		}
		return q.QueryRowContext(ctx,
			`INSERT INTO events (at, kind, subject, actor, data) VALUES ($1, $2, $3, $4, $5) RETURNING seq`,
			e.At, e.Kind, subject, e.Actor, string(e.Data),
		).Scan(&e.Seq)
	}
	return q.QueryRowContext(ctx,
		`INSERT INTO events (at, kind, subject, actor, data) VALUES (?, ?, ?, ?, ?) RETURNING seq`,
		e.At.Format(timeLayout), e.Kind, subject, e.Actor, string(e.Data),
	).Scan(&e.Seq)
}

// normalize validates e and brings it to its stored form.
func normalize(e *Event) error {
	if e.Seq != 0 {
		return fmt.Errorf("seq is assigned by the store, got %d: %w", e.Seq, ErrInvalid)
	}
	if strings.TrimSpace(e.Kind) == "" {
		return fmt.Errorf("kind is required: %w", ErrInvalid)
	}
	if e.Kind != strings.TrimSpace(e.Kind) {
		return fmt.Errorf("kind %q has surrounding spaces: %w", e.Kind, ErrInvalid)
	}
	for _, f := range []struct{ name, value string }{{"kind", e.Kind}, {"subject", e.Subject}, {"actor", e.Actor}} {
		if !utf8.ValidString(f.value) || strings.ContainsRune(f.value, 0) {
			return fmt.Errorf("%s must be UTF-8 text without NUL bytes: %w", f.name, ErrInvalid)
		}
	}
	if e.At.IsZero() {
		e.At = time.Now()
	}
	e.At = e.At.UTC().Truncate(time.Microsecond)
	if y := e.At.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("at %s is outside years 1-9999: %w", e.At, ErrInvalid)
	}
	data := bytes.TrimSpace(e.Data)
	if len(data) == 0 {
		e.Data = json.RawMessage("{}")
		return nil
	}
	if data[0] != '{' || !json.Valid(data) {
		return fmt.Errorf("data must be a JSON object: %w", ErrInvalid)
	}
	if !utf8.Valid(data) {
		return fmt.Errorf("data must be UTF-8: %w", ErrInvalid)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		return fmt.Errorf("data: %v: %w", err, ErrInvalid)
	}
	e.Data = json.RawMessage(buf.Bytes())
	return nil
}

// Events returns the events that match f, in increasing Seq order.
func (s *Store) Events(ctx context.Context, f EventFilter) ([]Event, error) {
	switch {
	case f.Limit < 0 || f.Limit > MaxEventLimit:
		return nil, fmt.Errorf("state: list events: limit %d is outside 0-%d: %w", f.Limit, MaxEventLimit, ErrInvalid)
	case f.After < 0:
		return nil, fmt.Errorf("state: list events: after %d is negative: %w", f.After, ErrInvalid)
	case f.Limit == 0:
		f.Limit = DefaultEventLimit
	}
	query := `SELECT seq, at, kind, subject, actor, data FROM events WHERE seq > ?`
	args := []any{f.After}
	if f.Kind != "" {
		query += ` AND kind = ?`
		args = append(args, f.Kind)
	}
	query += ` ORDER BY seq LIMIT ?`
	args = append(args, f.Limit)

	rows, err := s.db.QueryContext(ctx, s.rebind(query), args...)
	if err != nil {
		return nil, s.wrap(err, "list events")
	}
	defer rows.Close()
	events := []Event{}
	for rows.Next() {
		var (
			e       Event
			subject sql.NullString
			data    string
			err     error
		)
		switch s.dialect {
		case DialectPostgres:
			err = rows.Scan(&e.Seq, &e.At, &e.Kind, &subject, &e.Actor, &data)
			e.At = e.At.UTC()
		default:
			var at string
			if err = rows.Scan(&e.Seq, &at, &e.Kind, &subject, &e.Actor, &data); err == nil {
				e.At, err = time.Parse(timeLayout, at)
			}
		}
		if err != nil {
			return nil, s.wrap(err, "list events: read row")
		}
		e.Subject = subject.String
		e.Data = json.RawMessage(data)
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err, "list events")
	}
	return events, nil
}
