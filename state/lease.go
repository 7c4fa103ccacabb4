package state

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"sync"
	"time"
)

// ErrLeaseHeld is returned by [Store.Hold] when another runner holds the
// lease.
var ErrLeaseHeld = errors.New("held by another runner")

// ErrLeaseLost is the cause of the context [Store.Hold] returns when the
// lease was lost.
var ErrLeaseLost = errors.New("the lease was lost to another runner")

// Lease names what is held (for example "request:req_…" or
// "retention:free-plan findings"), by whom, and for how long without
// renewal.
type Lease struct {
	Name   string
	Holder string
	TTL    time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (l Lease) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// Hold takes the lease and keeps it, renewing it every TTL/4, until the
// returned release is called. This is the one way Vow's runners keep two
// instances — on one host or several, a command beside a server — from
// running one thing at once: a lease is taken with one conditional
// statement (free, expired, or already ours), never by guessing that its
// holder died. The returned context ends when ctx does, or when the lease
// is lost — a renewal found another holder, because this one was paused
// or cut off past the TTL — so that the work stops rather than run beside
// its successor (context.Cause is ErrLeaseLost). An error wrapping
// ErrLeaseHeld says who holds it until when.
func (s *Store) Hold(ctx context.Context, l Lease) (context.Context, func(), error) {
	ok, err := s.takeLease(ctx, l)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		var holder string
		var until any
		err := s.db.QueryRowContext(ctx, s.rebind(`SELECT holder, expires_at FROM leases WHERE name = ?`), l.Name).Scan(&holder, &until)
		if err != nil {
			return nil, nil, fmt.Errorf("state: lease %s: %w", l.Name, ErrLeaseHeld)
		}
		return nil, nil, fmt.Errorf("state: lease %s: %w: %s has it until %v", l.Name, ErrLeaseHeld, holder, until)
	}
	hctx, cancel := context.WithCancelCause(context.WithValue(ctx, leaseKey{}, l))
	var once sync.Once
	done := make(chan struct{})
	go func() {
		defer close(done)
		every := max(l.TTL/4, 10*time.Millisecond)
		t := time.NewTicker(every)
		defer t.Stop()
		held := time.Now() // when the lease was last known ours
		for {
			select {
			case <-hctx.Done():
				return
			case <-t.C:
			}
			// Each renewal gets a quarter of the TTL: a store that hangs
			// must not keep this runner from noticing the time.
			rctx, rcancel := context.WithTimeout(hctx, every)
			kept, err := s.renewLease(rctx, l)
			rcancel()
			switch {
			case err == nil && kept:
				held = time.Now()
			case err == nil:
				s.logger.WarnContext(hctx, "state: lease lost to another runner; stopping", "lease", l.Name)
				cancel(ErrLeaseLost)
				return
			case hctx.Err() != nil:
				return
			default:
				s.logger.WarnContext(hctx, "state: renew lease", "lease", l.Name, "err", err)
				// Cut off from the store past the TTL (less a renewal's
				// time), another runner may have the lease: stop.
				if time.Since(held) >= l.TTL-every {
					s.logger.WarnContext(hctx, "state: lease could not be renewed within its TTL; stopping", "lease", l.Name)
					cancel(ErrLeaseLost)
					return
				}
			}
		}
	}()
	release := func() {
		once.Do(func() {
			cancel(context.Canceled)
			<-done
			rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer rcancel()
			if _, err := s.db.ExecContext(rctx, s.rebind(`DELETE FROM leases WHERE name = ? AND holder = ?`), l.Name, l.Holder); err != nil {
				s.logger.WarnContext(rctx, "state: release lease", "lease", l.Name, "err", err)
			}
		})
	}
	return hctx, release, nil
}

// NewHolder names one runner in leases: host and pid for whoever reads
// the lease, and a random nonce that makes it unique — hosts and pids
// repeat across containers, so nothing is ever concluded from them.
func NewHolder() string {
	host, _ := os.Hostname()
	var b [6]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// leaseKey is the context key of the lease a Hold context carries.
type leaseKey struct{}

// fence checks, inside tx, that the lease ctx was held under (if any) is
// still this holder's, and keeps it so until tx ends: PostgreSQL locks
// the lease row (a successor's takeover waits for the commit), SQLite's
// transaction already holds the write lock. The renewer notices a lost
// lease only at its next tick; a paused runner that woke up must not
// first write "completed" over its successor's work.
func (s *Store) fence(ctx context.Context, tx *sql.Tx) error {
	l, ok := ctx.Value(leaseKey{}).(Lease)
	if !ok {
		return nil
	}
	q := `SELECT holder FROM leases WHERE name = ?`
	if s.dialect == DialectPostgres {
		q += ` FOR UPDATE`
	}
	var holder string
	err := tx.QueryRowContext(ctx, s.rebind(q), l.Name).Scan(&holder)
	if errors.Is(err, sql.ErrNoRows) || err == nil && holder != l.Holder {
		return fmt.Errorf("state: lease %s: %w", l.Name, ErrLeaseLost)
	}
	return s.wrapIf(err, "check lease %s", l.Name)
}

// takeLease takes the lease if it is free, expired or already ours, in
// one statement, so that two runners cannot both win.
func (s *Store) takeLease(ctx context.Context, l Lease) (bool, error) {
	now := l.now()
	res, err := s.db.ExecContext(ctx, s.rebind(`INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
		WHERE leases.holder = excluded.holder OR leases.expires_at < ?`),
		l.Name, l.Holder, s.timeArg(now.Add(l.TTL)), s.timeArg(now))
	if err != nil {
		return false, s.wrap(err, "lease %s", l.Name)
	}
	n, err := res.RowsAffected()
	return n == 1, s.wrapIf(err, "lease %s", l.Name)
}

// renewLease extends the lease if it is still ours; false when another
// holder has it (or it is gone).
func (s *Store) renewLease(ctx context.Context, l Lease) (bool, error) {
	res, err := s.db.ExecContext(ctx, s.rebind(`UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?`),
		s.timeArg(l.now().Add(l.TTL)), l.Name, l.Holder)
	if err != nil {
		return false, s.wrap(err, "renew lease %s", l.Name)
	}
	n, err := res.RowsAffected()
	return n == 1, s.wrapIf(err, "renew lease %s", l.Name)
}

func (s *Store) wrapIf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return s.wrap(err, format, args...)
}
