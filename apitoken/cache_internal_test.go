package apitoken

import (
	"context"
	"crypto/sha256"
	"errors"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/state"
)

// TestCacheNeverServesRevoked: a cached verification never outlives a
// revocation — at once through the same store, within CacheTTL through
// another — and a
// secret that shares a cached token's public id but not its secret is
// refused.
func TestCacheNeverServesRevoked(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			url := testdb.SQLite(t)
			if kind == "postgres" {
				url = testdb.Postgres(t)
			}
			ctx := context.Background()
			st, err := state.Open(ctx, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })

			clock := time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)
			now := func() time.Time { return clock }
			a, b := New(st), New(st) // two instances on one store
			a.now, b.now = now, now

			tests := []struct {
				name string
				// revoke revokes the token named; advance is how far the
				// clock moves before the next check.
				revoke  func(name string) error
				advance time.Duration
			}{
				{"revoked here, refused at once", func(n string) error { _, err := a.Revoke(ctx, n); return err }, 0},
				{"revoked elsewhere, refused after CacheTTL", func(n string) error { _, err := b.Revoke(ctx, n); return err }, CacheTTL},
			}
			for i, tc := range tests {
				name := "t" + string(rune('a'+i))
				tok, secret, err := a.Create(ctx, name, []string{ScopeConsent})
				if err != nil {
					t.Fatal(err)
				}
				if got, err := a.Authenticate(ctx, secret); err != nil || got.ID != tok.ID {
					t.Fatalf("%s: authenticate: %+v %v", tc.name, got, err)
				}
				if c := (*a.cache.Load())[tok.ID]; c == nil {
					t.Fatalf("%s: the verified token is not cached", tc.name)
				}
				// A secret with the cached token's id but another
				// secret part is not the cached token.
				forged := secret[:len(secret)-1] + string(secret[len(secret)-1]^1)
				if _, err := a.Authenticate(ctx, forged); !errors.Is(err, ErrUnauthorized) {
					t.Errorf("%s: forged secret with a cached id: %v", tc.name, err)
				}
				if err := tc.revoke(name); err != nil {
					t.Fatal(err)
				}
				clock = clock.Add(tc.advance)
				if _, err := a.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthorized) {
					t.Errorf("%s: revoked token accepted: %v", tc.name, err)
				}
			}

			// A verification that read the store before a revocation
			// through this store is not cached after it.
			tok, secret, err := a.Create(ctx, "late", []string{ScopeConsent})
			if err != nil {
				t.Fatal(err)
			}
			a.mu.Lock()
			gen := a.gen
			a.mu.Unlock()
			if _, err := a.Revoke(ctx, "late"); err != nil {
				t.Fatal(err)
			}
			a.put(gen, &cached{tok: tok, sum: sha256.Sum256([]byte(secret)), expires: clock.Add(CacheTTL)})
			if _, err := a.Authenticate(ctx, secret); !errors.Is(err, ErrUnauthorized) {
				t.Errorf("a verification from before the revocation was cached: %v", err)
			}
		})
	}
}
