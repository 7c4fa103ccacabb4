package state

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
)

// storeURLs make a fresh store of each kind, for tests run on both.
var storeURLs = map[string]func(testing.TB) string{
	"sqlite":   func(t testing.TB) string { return filepath.Join(t.TempDir(), "vow.db") },
	"postgres": testdb.Postgres,
}

// TestLease: one runner holds a lease at a time, across stores (as
// processes); a dead runner's lease is taken once it expires, never
// before; a runner whose lease was taken while it was paused learns it at
// its next renewal and its context ends.
func TestLease(t *testing.T) {
	t.Parallel()
	for name, url := range storeURLs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			u := url(t)
			a, b := open(t, u), open(t, u)
			ctx := context.Background()
			// A TTL of a second: renewals (each given a quarter of it) must
			// not time out while the machine runs the rest of the tests — at
			// 200ms a 50ms budget for a PostgreSQL round trip failed in CI.
			la := Lease{Name: "request:r1", Holder: "a", TTL: time.Second}
			actx, release, err := a.Hold(ctx, la)
			if err != nil {
				t.Fatal(err)
			}
			lb := Lease{Name: "request:r1", Holder: "b", TTL: time.Second}
			if _, _, err := b.Hold(ctx, lb); !errors.Is(err, ErrLeaseHeld) {
				t.Fatalf("a second holder: %v; want ErrLeaseHeld", err)
			}
			// Held past its TTL by renewals.
			time.Sleep(1500 * time.Millisecond)
			if _, _, err := b.Hold(ctx, lb); !errors.Is(err, ErrLeaseHeld) {
				t.Fatalf("a renewed lease was taken: %v", err)
			}
			release()
			bctx, brelease, err := b.Hold(ctx, lb)
			if err != nil {
				t.Fatalf("after release: %v", err)
			}
			if actx.Err() == nil {
				t.Error("the released holder's context is still live")
			}

			// b is paused; c takes the lease over behind its back (as after
			// an expiry); b's next renewal finds out and its work stops.
			if _, err := a.db.ExecContext(ctx, a.rebind(`UPDATE leases SET holder = 'c' WHERE name = ?`), "request:r1"); err != nil {
				t.Fatal(err)
			}
			select {
			case <-bctx.Done():
				if !errors.Is(context.Cause(bctx), ErrLeaseLost) {
					t.Errorf("cause %v; want ErrLeaseLost", context.Cause(bctx))
				}
			case <-time.After(2 * time.Second):
				t.Fatal("a runner that lost its lease kept running")
			}
			brelease()

			// A runner that died (took the lease, never renews) holds it
			// until it expires, and no longer.
			dead := Lease{Name: "retention:r", Holder: "dead", TTL: 300 * time.Millisecond}
			if ok, err := a.takeLease(ctx, dead); err != nil || !ok {
				t.Fatal(ok, err)
			}
			live := Lease{Name: "retention:r", Holder: "live", TTL: time.Second}
			if _, _, err := b.Hold(ctx, live); !errors.Is(err, ErrLeaseHeld) {
				t.Fatalf("a live lease of a silent runner was taken: %v", err)
			}
			time.Sleep(400 * time.Millisecond)
			_, lrelease, err := b.Hold(ctx, live)
			if err != nil {
				t.Fatalf("an expired lease was not taken: %v", err)
			}
			lrelease()
		})
	}
}

// TestLeaseCutOff: a runner that cannot reach the store to renew stops
// once its lease may have expired, before another can have taken it for
// long.
func TestLeaseCutOff(t *testing.T) {
	t.Parallel()
	s := open(t, filepath.Join(t.TempDir(), "vow.db"))
	ctx, release, err := s.Hold(context.Background(), Lease{Name: "request:r", Holder: "a", TTL: 400 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	// The store goes away: every renewal fails from now on.
	if _, err := s.db.Exec(`DROP TABLE leases`); err != nil {
		t.Fatal(err)
	}
	select {
	case <-ctx.Done():
		if !errors.Is(context.Cause(ctx), ErrLeaseLost) {
			t.Errorf("cause %v; want ErrLeaseLost", context.Cause(ctx))
		}
	case <-time.After(2 * time.Second):
		t.Fatal("a runner that could not renew its lease kept running past its TTL")
	}
}

// TestLeaseFence: a transaction under a held context writes only while the
// lease is its holder's. A runner paused past its TTL wakes with its
// context still live (its renewer has not ticked yet); its first write
// must fail, not land over its successor's work.
func TestLeaseFence(t *testing.T) {
	t.Parallel()
	for name, url := range storeURLs {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := open(t, url(t))
			ctx := context.Background()
			// A long TTL: the renewer stays asleep through the test.
			hctx, release, err := s.Hold(ctx, Lease{Name: "request:f", Holder: "a", TTL: time.Hour})
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			write := func(c context.Context) error {
				return s.InTx(c, func(tx *sql.Tx) error {
					_, err := tx.ExecContext(c, s.rebind(`INSERT INTO code_sends (address, sent_at) VALUES (?, 'x')`), "fence-"+time.Now().Format(time.RFC3339Nano))
					return err
				})
			}
			if err := write(hctx); err != nil {
				t.Fatalf("a write under a held lease: %v", err)
			}
			if _, err := s.db.ExecContext(ctx, s.rebind(`UPDATE leases SET holder = 'b' WHERE name = ?`), "request:f"); err != nil {
				t.Fatal(err)
			}
			if err := write(hctx); !errors.Is(err, ErrLeaseLost) {
				t.Errorf("a write after the lease was taken: %v; want ErrLeaseLost", err)
			}
			if err := write(ctx); err != nil {
				t.Errorf("a write outside any lease: %v", err)
			}
		})
	}
}
