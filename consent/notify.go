package consent

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/stdlib"

	"github.com/vowprivacy/vow/state"
)

// notifyChannel is the PostgreSQL channel on which every change names the
// subject whose cached state is now stale.
const notifyChannel = "vow_consent"

// notifyAll is the payload that makes every instance empty its cache: sent
// instead of naming the subjects of a large import.
const notifyAll = "*"

// notifyPayloads packs subjects into as few NOTIFY payloads as fit under
// PostgreSQL's 8000-byte limit, one subject a line (subjects hold no control
// characters); past 200 subjects one notifyAll is cheaper for everyone.
func notifyPayloads(subjects []string) []string {
	if len(subjects) > 200 {
		return []string{notifyAll}
	}
	var out []string
	var b strings.Builder
	for _, s := range subjects {
		if b.Len() > 0 && b.Len()+1+len(s) > 7000 {
			out = append(out, b.String())
			b.Reset()
		}
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		b.WriteString(s)
	}
	if b.Len() > 0 {
		out = append(out, b.String())
	}
	return out
}

// Listen keeps this instance's cache in step with other instances sharing
// a PostgreSQL store: it LISTENs for the subjects they change and forgets
// them. While the connection is down the cache is bypassed (every lookup
// reads the store), and it is emptied whenever listening resumes, so a
// missed notification can never leave a stale answer. It returns when ctx
// is done; on SQLite (one instance per store) it just waits.
func (s *Service) Listen(ctx context.Context) error {
	if s.st.Dialect() != state.DialectPostgres {
		return s.watchSQLite(ctx)
	}
	backoff := 100 * time.Millisecond
	for {
		s.cache.bypass.Store(true)
		err := s.listenOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		s.logger.Warn("consent: LISTEN connection lost; reading the store until it is back", "err", err, "retry", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (s *Service) listenOnce(ctx context.Context) error {
	conn, err := s.st.DB().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("consent: listen: unexpected driver connection %T", dc)
		}
		pc := sc.Conn()
		// Closing the connection when done keeps a LISTENing session from
		// going back to the pool.
		defer pc.Close(context.WithoutCancel(ctx))
		if _, err := pc.Exec(ctx, "LISTEN "+notifyChannel); err != nil {
			return err
		}
		s.cache.invalidateAll()
		s.cache.bypass.Store(false)
		s.markListening()
		for {
			n, err := pc.WaitForNotification(ctx)
			if err != nil {
				if errors.Is(err, context.Canceled) {
					return nil
				}
				return err
			}
			if n.Payload == notifyAll {
				s.cache.invalidateAll()
				continue
			}
			for _, sub := range strings.Split(n.Payload, "\n") {
				s.cache.invalidate(sub)
			}
		}
	})
}

// sqliteWatchInterval is how often a SQLite store is asked whether
// another process (or connection) has written to it.
const sqliteWatchInterval = 250 * time.Millisecond

// watchSQLite keeps the cache true to a SQLite store that other processes
// write too — a withdrawal or an erasure run from the command line beside
// vow serve, or a second server: SQLite has no NOTIFY, so it asks the
// store's count of changes to the consent state (consent_changes, kept by
// triggers on consent_current whoever writes it) and forgets every cached
// answer when it moves. Not PRAGMA data_version, which moves on a commit
// to any table: a token's last-use time, written once a minute, emptied
// the cache each time and the next lookup of every subject read the
// store. An in-memory store has no other writer and one connection,
// which this must not hold.
func (s *Service) watchSQLite(ctx context.Context) error {
	if s.st.DB().Stats().MaxOpenConnections == 1 {
		s.markListening()
		<-ctx.Done()
		return nil
	}
	// The watch holds one connection, so that a failing store shows as a
	// failing query here. If asking fails, the connection is dropped and a
	// new one taken on the next tick; until an answer comes, the cache is
	// forgotten each time.
	var conn *sql.Conn
	defer func() {
		if conn != nil {
			conn.Close()
		}
	}()
	version := func() (int64, error) {
		if conn == nil {
			c, err := s.st.DB().Conn(ctx)
			if err != nil {
				return 0, err
			}
			conn = c
		}
		v, err := consentVersion(ctx, conn)
		if err != nil {
			conn.Close()
			conn = nil
		}
		return v, err
	}
	last, err := version()
	if err != nil {
		return fmt.Errorf("consent: watch the store: %w", err)
	}
	s.markListening()
	t := time.NewTicker(sqliteWatchInterval)
	defer t.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		v, err := version()
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			// Unsure what changed: answer from the store until sure again.
			s.cache.invalidateAll()
			if !failing {
				s.logger.Warn("consent: cannot ask the store for changes; answering from the store until it answers", "err", err)
			}
			failing = true
			continue
		}
		if failing {
			s.logger.Info("consent: watching the store for changes again")
			failing = false
			last = v
			s.cache.invalidateAll()
			continue
		}
		if v != last {
			// Changes this process made itself have already made the
			// cache forget their subjects (inTx): forgetting everyone for
			// them would empty the cache four times a second on a server
			// that records consent steadily.
			if !s.own.covers(last, v) {
				s.cache.invalidateAll()
			}
			last = v
		}
	}
}

// consentVersion reads the SQLite store's count of changes to the consent
// state (kept by triggers on consent_current).
func consentVersion(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) (int64, error) {
	var v int64
	err := q.QueryRowContext(ctx, `SELECT version FROM consent_changes WHERE id = 1`).Scan(&v)
	return v, err
}

// ownVersions are the ranges of consent versions that this process's own
// committed transactions made on a SQLite store: (from, to], keyed by from.
type ownVersions struct {
	mu     sync.Mutex
	ranges map[int64]int64
}

// maxOwnRanges bounds the ranges kept for a watch that is not running
// (an in-memory store has none) or not keeping up: forgetting them only
// makes the watch empty the cache once.
const maxOwnRanges = 1024

// add records that versions (from, to] are this process's.
func (o *ownVersions) add(from, to int64) {
	if to <= from {
		return
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.ranges == nil || len(o.ranges) >= maxOwnRanges {
		o.ranges = map[int64]int64{}
	}
	o.ranges[from] = to
}

// covers reports whether every version in (from, to] is this process's,
// and forgets the ranges up to to: the watch has seen them. A count that
// went back (the store replaced by a backup, the table edited) makes
// every range recorded before it meaningless: they are all forgotten.
func (o *ownVersions) covers(from, to int64) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if to < from {
		clear(o.ranges)
		return false
	}
	at := from
	for at < to {
		next, ok := o.ranges[at]
		if !ok {
			break
		}
		at = next
	}
	for k, v := range o.ranges {
		if v <= to {
			delete(o.ranges, k)
		}
	}
	return at == to
}

func (s *Service) markListening() {
	s.listenStarted.Do(func() { close(s.listening) })
}

// Listening is closed once Listen has first started listening.
func (s *Service) Listening() <-chan struct{} { return s.listening }
