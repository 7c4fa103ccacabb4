package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"errors"
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
	// Prev is the Hash of the entry before this one, nil for the first
	// entry of a log; Hash is [ChainHash] of Prev and this entry. Both
	// are set by the store.
	Prev, Hash []byte
}

// chainTag opens every hashed entry, so that an entry's hash can never
// be mistaken for the hash of anything else Vow signs or stores.
const chainTag = "vow.audit.v1\n"

// ChainHash is the hash that links an entry into the audit log: SHA-256
// over a tag, the hash of the entry before it (prev, nil for the first)
// and the entry's Seq, At, Kind, Subject, Actor and Data as stored. Every
// variable-length part is length-prefixed, so no two different entries
// hash the same bytes. Anyone holding the log can recompute it; what
// makes the chain trustworthy is Vow's signature on checkpoints of it.
func ChainHash(prev []byte, e Event) []byte {
	h := sha256.New()
	var n [8]byte
	part := func(b []byte) {
		binary.BigEndian.PutUint32(n[:4], uint32(len(b)))
		h.Write(n[:4])
		h.Write(b)
	}
	h.Write([]byte(chainTag))
	part(prev)
	binary.BigEndian.PutUint64(n[:], uint64(e.Seq))
	h.Write(n[:])
	part([]byte(e.At.UTC().Format(timeLayout)))
	part([]byte(e.Kind))
	part([]byte(e.Subject))
	part([]byte(e.Actor))
	part(e.Data)
	return h.Sum(nil)
}

// EventFilter selects events for [Store.Events].
type EventFilter struct {
	// Kind, Subject and Actor, when set, keep only events with exactly
	// that kind, subject or actor.
	Kind, Subject, Actor string
	// Since and Until, when set, keep only events at or after Since and
	// before Until.
	Since, Until time.Time
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
	if err := s.appendOwn(ctx, &e); err != nil {
		return Event{}, s.wrap(err, "append event %q", e.Kind)
	}
	return e, nil
}

// AppendTx is [Store.Append] inside the caller's transaction, so that an
// event commits, or not, with the change it records, in one commit. It
// holds the append lock (PostgreSQL) or the write lock (SQLite) until tx
// ends: keep tx short.
func (s *Store) AppendTx(ctx context.Context, tx *sql.Tx, e Event) (Event, error) {
	if err := normalize(&e); err != nil {
		return Event{}, fmt.Errorf("state: append event: %w", err)
	}
	if err := s.insertEvent(ctx, tx, &e); err != nil {
		return Event{}, s.wrap(err, "append event %q", e.Kind)
	}
	return e, nil
}

// appendOwn inserts in a transaction of its own: reading the head of the
// chain and adding to it must be one step.
func (s *Store) appendOwn(ctx context.Context, e *Event) (err error) {
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

// querier is what insertEvent needs of a transaction.
type querier interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// insertEvent chains e to the head of the log and inserts it, setting
// Seq, Prev and Hash. q must be a transaction. On PostgreSQL the insert
// runs under a transaction-scoped advisory lock, so that appends are
// serialised: a reader paging by Seq never sees a lower Seq commit after
// a higher one, and no two entries chain to the same head. On SQLite the
// transaction holds the write lock from BEGIN (_txlock=immediate).
func (s *Store) insertEvent(ctx context.Context, q querier, e *Event) error {
	subject := sql.NullString{String: e.Subject, Valid: e.Subject != ""}
	if s.dialect == DialectPostgres {
		if _, err := q.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, appendLockID); err != nil {
			return err
		}
	}
	seq, prev, err := s.head(ctx, q)
	if err != nil {
		return fmt.Errorf("read the head of the log: %w", err)
	}
	e.Seq, e.Prev = seq+1, prev
	e.Hash = ChainHash(prev, *e)
	if s.dialect == DialectPostgres {
		_, err = q.ExecContext(ctx,
			`INSERT INTO events (seq, at, kind, subject, actor, data, prev, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			e.Seq, e.At, e.Kind, subject, e.Actor, string(e.Data), e.Prev, e.Hash)
		return err
	}
	_, err = q.ExecContext(ctx,
		`INSERT INTO events (seq, at, kind, subject, actor, data, prev, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, e.At.Format(timeLayout), e.Kind, subject, e.Actor, string(e.Data), e.Prev, e.Hash)
	return err
}

// head returns the Seq and Hash of the last entry of the log: the last
// row, or, when pruning has removed every row, the checkpoint that
// anchors what comes next; 0 and nil for a new log.
func (s *Store) head(ctx context.Context, q querier) (int64, []byte, error) {
	var (
		seq  int64
		hash []byte
	)
	err := q.QueryRowContext(ctx, `SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
	if errors.Is(err, sql.ErrNoRows) {
		err = q.QueryRowContext(ctx, `SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`).Scan(&seq, &hash)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, nil, nil
		}
	}
	if err == nil && hash == nil {
		err = fmt.Errorf("entry %d is not chained", seq)
	}
	return seq, hash, err
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
	query := `SELECT seq, at, kind, subject, actor, data, prev, hash FROM events WHERE seq > ?`
	args := []any{f.After}
	for _, c := range []struct{ col, v string }{{"kind", f.Kind}, {"subject", f.Subject}, {"actor", f.Actor}} {
		if c.v != "" {
			query += ` AND ` + c.col + ` = ?`
			args = append(args, c.v)
		}
	}
	for _, c := range []struct {
		op string
		t  time.Time
	}{{">=", f.Since}, {"<", f.Until}} {
		if !c.t.IsZero() {
			query += ` AND at ` + c.op + ` ?`
			args = append(args, s.timeArg(c.t))
		}
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
		e, err := s.scanEvent(rows)
		if err != nil {
			return nil, s.wrap(err, "list events: read row")
		}
		events = append(events, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err, "list events")
	}
	return events, nil
}

// EachEvent calls fn with every event that matches f (whose Limit it
// ignores), in increasing Seq order, reading the log a page at a time so
// that no read holds the store for long. It stops at fn's first error
// and returns it.
func (s *Store) EachEvent(ctx context.Context, f EventFilter, fn func(Event) error) error {
	f.Limit = MaxEventLimit
	for {
		page, err := s.Events(ctx, f)
		if err != nil {
			return err
		}
		for _, e := range page {
			if err := fn(e); err != nil {
				return err
			}
		}
		if len(page) < f.Limit {
			return nil
		}
		f.After = page[len(page)-1].Seq
	}
}

// timeArg is t as the at column stores it.
func (s *Store) timeArg(t time.Time) any {
	if s.dialect == DialectPostgres {
		return t.UTC()
	}
	return t.UTC().Truncate(time.Microsecond).Format(timeLayout)
}

// scanEvent reads a row of seq, at, kind, subject, actor, data, prev,
// hash.
func (s *Store) scanEvent(rows *sql.Rows) (Event, error) {
	var (
		e       Event
		subject sql.NullString
		data    string
		err     error
	)
	switch s.dialect {
	case DialectPostgres:
		err = rows.Scan(&e.Seq, &e.At, &e.Kind, &subject, &e.Actor, &data, &e.Prev, &e.Hash)
		e.At = e.At.UTC()
	default:
		var at string
		if err = rows.Scan(&e.Seq, &at, &e.Kind, &subject, &e.Actor, &data, &e.Prev, &e.Hash); err == nil {
			e.At, err = time.Parse(timeLayout, at)
		}
	}
	e.Subject = subject.String
	e.Data = json.RawMessage(data)
	return e, err
}

// chainLegacy chains the entries written before the log was a chain
// (schema version 8), once, in Seq order, so that they verify like any
// other.
func (s *Store) chainLegacy(ctx context.Context) (err error) {
	const done = "audit_chained"
	if _, ok, err := s.Meta(ctx, done); err != nil || ok {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(err, "chain the event log")
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if s.dialect == DialectPostgres {
		if _, err = tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, appendLockID); err != nil {
			return s.wrap(err, "chain the event log")
		}
	}
	var n int
	if err = tx.QueryRowContext(ctx, s.rebind(`SELECT count(*) FROM meta WHERE key = ?`), done).Scan(&n); err != nil || n > 0 {
		if err == nil {
			err = tx.Rollback()
		}
		return err
	}
	var (
		prev    []byte
		after   int64
		chained int
	)
	for {
		rows, err := tx.QueryContext(ctx, s.rebind(`SELECT seq, at, kind, subject, actor, data, prev, hash FROM events WHERE seq > ? ORDER BY seq LIMIT 1000`), after)
		if err != nil {
			return s.wrap(err, "chain the event log")
		}
		var page []Event
		for rows.Next() {
			e, err := s.scanEvent(rows)
			if err != nil {
				rows.Close()
				return s.wrap(err, "chain the event log")
			}
			page = append(page, e)
		}
		if err := rows.Close(); err != nil {
			return s.wrap(err, "chain the event log")
		}
		for _, e := range page {
			after = e.Seq
			if e.Hash != nil {
				prev = e.Hash
				continue
			}
			e.Prev, e.Hash = prev, ChainHash(prev, e)
			if _, err := tx.ExecContext(ctx, s.rebind(`UPDATE events SET prev = ?, hash = ? WHERE seq = ?`), e.Prev, e.Hash, e.Seq); err != nil {
				return s.wrap(err, "chain the event log: entry %d", e.Seq)
			}
			prev = e.Hash
			chained++
		}
		if len(page) < 1000 {
			break
		}
	}
	if _, err = tx.ExecContext(ctx, s.rebind(`INSERT INTO meta (key, value) VALUES (?, '1')`), done); err != nil {
		return s.wrap(err, "chain the event log")
	}
	if err = tx.Commit(); err != nil {
		return s.wrap(err, "chain the event log")
	}
	if chained > 0 {
		s.logger.InfoContext(ctx, "state: chained the entries of the event log written before it was an audit log", "entries", chained)
	}
	return nil
}
