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
	"sync"
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

// Tags open what is hashed, so that a hash of one kind can never be
// mistaken for a hash of another, or of anything else Vow signs.
const (
	chainTag = "vow.audit.v1\n"
	entryTag = "vow.audit.entry.v1\n"
)

// ChainHash is the hash that links an entry into the audit log:
//
//	SHA-256(chainTag ‖ len(prev) ‖ prev ‖ seq ‖ EntryDigest(e))
//
// with prev the hash of the entry before (nil for the first), len a
// 4-byte and seq an 8-byte big-endian integer. Anyone holding the log can
// recompute it; what makes the chain trustworthy is Vow's signature on
// checkpoints of it. The database computes the same link when it appends
// (vow_audit_append on PostgreSQL, vow_chain_hash on SQLite), from the
// digest Vow hands it, so that an append is one statement.
func ChainHash(prev []byte, e Event) []byte {
	return chainLink(prev, e.Seq, EntryDigest(e))
}

func chainLink(prev []byte, seq int64, digest []byte) []byte {
	h := sha256.New()
	var n [8]byte
	h.Write([]byte(chainTag))
	binary.BigEndian.PutUint32(n[:4], uint32(len(prev)))
	h.Write(n[:4])
	h.Write(prev)
	binary.BigEndian.PutUint64(n[:], uint64(seq))
	h.Write(n[:])
	h.Write(digest)
	return h.Sum(nil)
}

// EntryDigest is SHA-256 over a tag and the entry's At (UTC, microseconds,
// in the stored text form), Kind, Subject, Actor and Data as stored, each
// length-prefixed, so that no two different entries digest the same
// bytes.
func EntryDigest(e Event) []byte {
	h := sha256.New()
	var n [4]byte
	part := func(b []byte) {
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	h.Write([]byte(entryTag))
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

// appendOwn appends e and returns once it is committed. One writer per
// store takes what is waiting and commits it together (group commit):
// the chain makes appends sequential — each entry links to the one
// before — so without it concurrent appenders would each wait for a
// commit of their own in turn. A caller waits for its own batch at most
// (and the one being written); when its context ends first it returns
// the context's error, and its entry may still be recorded.
func (s *Store) appendOwn(ctx context.Context, e *Event) error {
	a := &s.appends
	a.once.Do(func() {
		a.init()
		go s.writer()
	})
	req := &appendReq{e: e, done: make(chan error, 1)}
	if err := ctx.Err(); err != nil {
		return err // not queued: not appended
	}
	select {
	case <-a.stop:
		return errClosed
	default:
	}
	select {
	case a.queue <- req:
	case <-a.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case err := <-req.done:
		return err
	case <-a.stopped:
		// Closed while queued: the writer answered, or never will.
		select {
		case err := <-req.done:
			return err
		default:
			return errClosed
		}
	case <-ctx.Done():
		return fmt.Errorf("%w (the entry may still be recorded)", ctx.Err())
	}
}

var errClosed = errors.New("the store is closed")

// writer commits what appenders queue, a batch at a time, until Close.
func (s *Store) writer() {
	a := &s.appends
	defer close(a.stopped)
	for {
		var batch []*appendReq
		select {
		case r := <-a.queue:
			batch = append(batch, r)
		case <-a.stop:
			for {
				select {
				case r := <-a.queue:
					r.done <- errClosed
				default:
					return
				}
			}
		}
	more:
		for len(batch) < maxAppendBatch {
			select {
			case r := <-a.queue:
				batch = append(batch, r)
			default:
				break more
			}
		}
		s.writeBatch(batch)
	}
}

// closeAppends stops the writer once what it is writing is committed.
func (s *Store) closeAppends() {
	a := &s.appends
	a.once.Do(func() {
		// No writer was started, and none will be.
		a.init()
		close(a.stopped)
	})
	a.closing.Do(func() { close(a.stop) })
	<-a.stopped
}

func (a *appender) init() {
	a.queue, a.stop, a.stopped = make(chan *appendReq, maxAppendBatch), make(chan struct{}), make(chan struct{})
}

// maxAppendBatch bounds a group commit, to keep its transaction short.
const maxAppendBatch = 256

// appender is the queue of appends and its writer.
type appender struct {
	once    sync.Once // starts the writer
	closing sync.Once
	queue   chan *appendReq
	stop    chan struct{} // closed by Close
	stopped chan struct{} // closed by the writer on its way out
}

type appendReq struct {
	e    *Event
	done chan error
}

// writeBatch appends the batch's entries in one transaction (one alone
// needs none) and tells each caller the outcome. An entry alone is written
// without a deadline: a context with one makes database/sql watch every
// query from a goroutine of its own, which cost more than the rest of the
// append; its caller is bounded by its own context.
func (s *Store) writeBatch(batch []*appendReq) {
	finish := func(err error) {
		for _, r := range batch {
			r.done <- err
		}
	}
	if len(batch) == 1 {
		finish(s.insertEvent(context.Background(), s.db, batch[0].e))
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if s.dialect == DialectPostgres {
		finish(s.insertBatchPostgres(ctx, batch))
		return
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		finish(err)
		return
	}
	for _, r := range batch {
		if err := s.insertEvent(ctx, tx, r.e); err != nil {
			_ = tx.Rollback()
			finish(err)
			return
		}
	}
	finish(tx.Commit())
}

// querier is what insertEvent needs: the store's pool or a transaction.
type querier interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
	QueryRowContext(context.Context, string, ...any) *sql.Row
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

// insertEvent chains e to the head of the log and inserts it, setting
// Seq, Prev and Hash, in one statement, so that an append costs what an
// insert does. Appends are serialised: on PostgreSQL vow_audit_append
// takes a transaction-scoped advisory lock before it reads the head (a
// reader paging by Seq never sees a lower Seq commit after a higher one,
// and no two entries chain to one head); on SQLite a writing statement
// holds the write lock from its start.
func (s *Store) insertEvent(ctx context.Context, q querier, e *Event) error {
	subject := sql.NullString{String: e.Subject, Valid: e.Subject != ""}
	digest := EntryDigest(*e)
	var err error
	if s.dialect == DialectPostgres {
		err = q.QueryRowContext(ctx, `SELECT r_seq, r_prev, r_hash FROM vow_audit_append($1, $2, $3, $4, $5, $6)`,
			e.At, e.Kind, subject, e.Actor, string(e.Data), digest).Scan(&e.Seq, &e.Prev, &e.Hash)
	} else {
		var stmt *sql.Stmt
		if stmt, err = s.sqliteAppendStmt(ctx); err == nil {
			if tx, ok := q.(*sql.Tx); ok {
				stmt = tx.StmtContext(ctx, stmt)
			}
			err = stmt.QueryRowContext(ctx, e.At.Format(timeLayout), e.Kind, subject, e.Actor, string(e.Data), digest).Scan(&e.Seq, &e.Prev, &e.Hash)
		}
	}
	if err != nil {
		return err
	}
	// The database and Go must agree on every link, or verification
	// would fail on entries nobody touched.
	if !bytes.Equal(e.Hash, chainLink(e.Prev, e.Seq, digest)) {
		return fmt.Errorf("entry %d: the database chained it to a hash Go does not compute", e.Seq)
	}
	return nil
}

// insertBatchPostgres appends the batch in one statement, which is its
// own transaction.
func (s *Store) insertBatchPostgres(ctx context.Context, batch []*appendReq) error {
	n := len(batch)
	ats, kinds, subjects, actors, datas, digests := make([]time.Time, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([][]byte, n)
	for i, r := range batch {
		ats[i], kinds[i], subjects[i], actors[i], datas[i], digests[i] = r.e.At, r.e.Kind, r.e.Subject, r.e.Actor, string(r.e.Data), EntryDigest(*r.e)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT r_seq, r_prev, r_hash FROM vow_audit_append_many($1, $2, $3, $4, $5, $6)`, ats, kinds, subjects, actors, datas, digests)
	if err != nil {
		return err
	}
	defer rows.Close()
	i := 0
	for ; rows.Next() && i < n; i++ {
		e := batch[i].e
		if err := rows.Scan(&e.Seq, &e.Prev, &e.Hash); err != nil {
			return err
		}
		if !bytes.Equal(e.Hash, chainLink(e.Prev, e.Seq, digests[i])) {
			return fmt.Errorf("entry %d: the database chained it to a hash Go does not compute", e.Seq)
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if i != n {
		return fmt.Errorf("appended %d entries of %d", i, n)
	}
	return nil
}

// sqliteAppend is the append statement on SQLite, prepared once per
// store: parsing it costs more than running it.
const sqliteAppend = `INSERT INTO events (seq, at, kind, subject, actor, data, prev, hash)
	SELECT h.seq + 1, ?, ?, ?, ?, ?, h.hash, ` + sqliteChainHash + `(h.hash, h.seq + 1, ?)
	FROM (SELECT seq, hash FROM (SELECT seq, hash FROM events ORDER BY seq DESC LIMIT 1)
		UNION ALL SELECT seq, hash FROM (SELECT seq, hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1)
		UNION ALL SELECT 0, NULL
		ORDER BY seq DESC LIMIT 1) h
	RETURNING seq, prev, hash`

func (s *Store) sqliteAppendStmt(ctx context.Context) (*sql.Stmt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.appendStmt == nil {
		stmt, err := s.db.PrepareContext(ctx, sqliteAppend)
		if err != nil {
			return nil, err
		}
		s.appendStmt = stmt
	}
	return s.appendStmt, nil
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
