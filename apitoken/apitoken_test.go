package apitoken_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/apitoken"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/state"
)

func stores(t *testing.T) map[string]*state.Store {
	t.Helper()
	out := map[string]*state.Store{}
	for kind, url := range map[string]string{"sqlite": testdb.SQLite(t), "postgres": testdb.Postgres(t)} {
		st, err := state.Open(context.Background(), url, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		out[kind] = st
	}
	return out
}

func TestTokens(t *testing.T) {
	t.Parallel()
	for kind, st := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			ts := apitoken.New(st)
			tok, secret, err := ts.Create(ctx, "backend", []string{"consent", "consent"})
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(secret, "vow_"+tok.ID+"_") || len(secret) < 40 {
				t.Fatalf("secret %q", secret)
			}
			if got := strings.Join(tok.Scopes, ","); got != "consent" {
				t.Fatalf("scopes %q", got)
			}
			got, err := ts.Authenticate(ctx, secret)
			if err != nil || got.Name != "backend" || !got.Allows("consent") || got.Allows("requests") {
				t.Fatalf("authenticate: %+v %v", got, err)
			}
			// The stored row holds no secret.
			var n int
			if err := st.DB().QueryRowContext(ctx, st.Rebind(`SELECT count(*) FROM api_tokens WHERE hash = ? OR id = ?`), secret, secret).Scan(&n); err != nil || n != 0 {
				t.Fatalf("secret stored: %d %v", n, err)
			}
			bad := []struct {
				name, secret string
			}{
				{"empty", ""},
				{"other prefix", "abc"},
				{"altered", secret[:len(secret)-1] + "x"},
				{"too long", "vow_" + strings.Repeat("a", 200)},
			}
			for _, b := range bad {
				if _, err := ts.Authenticate(ctx, b.secret); !errors.Is(err, apitoken.ErrUnauthorized) {
					t.Errorf("%s: %v", b.name, err)
				}
			}
			if _, _, err := ts.Create(ctx, "backend", []string{"consent"}); !errors.Is(err, apitoken.ErrExists) {
				t.Errorf("duplicate: %v", err)
			}
			if _, _, err := ts.Create(ctx, "x", []string{"root"}); !errors.Is(err, apitoken.ErrInvalid) || !strings.Contains(err.Error(), "requests, consent, admin") {
				t.Errorf("bad scope: %v", err)
			}
			if _, _, err := ts.Create(ctx, "bad name", []string{"admin"}); !errors.Is(err, apitoken.ErrInvalid) {
				t.Errorf("bad name: %v", err)
			}
			if _, err := ts.Revoke(ctx, "nope"); !errors.Is(err, apitoken.ErrNotFound) {
				t.Errorf("revoke unknown: %v", err)
			}
			r, err := ts.Revoke(ctx, "backend")
			if err != nil || r.RevokedAt == nil {
				t.Fatalf("revoke: %+v %v", r, err)
			}
			if _, err := ts.Authenticate(ctx, secret); !errors.Is(err, apitoken.ErrUnauthorized) {
				t.Errorf("revoked token still works: %v", err)
			}
			// Another store instance (another server) refuses it too.
			if _, err := apitoken.New(st).Authenticate(ctx, secret); !errors.Is(err, apitoken.ErrUnauthorized) {
				t.Errorf("revoked token works elsewhere: %v", err)
			}
			list, err := ts.List(ctx)
			if err != nil || len(list) != 1 || list[0].RevokedAt == nil {
				t.Fatalf("list: %+v %v", list, err)
			}
		})
	}
}

func TestAdminAllowsAll(t *testing.T) {
	t.Parallel()
	tok := apitoken.Token{Scopes: []string{apitoken.ScopeAdmin}}
	for _, s := range apitoken.Scopes {
		if !tok.Allows(s) {
			t.Errorf("admin does not allow %s", s)
		}
	}
}

// TestTokensAudited: creating and revoking a token are entries of the
// audit log, by the store's actor; revoking twice records once.
func TestTokensAudited(t *testing.T) {
	t.Parallel()
	for kind, st := range stores(t) {
		t.Run(kind, func(t *testing.T) {
			ctx := context.Background()
			ts := apitoken.New(st)
			ts.Actor = "cli:ada"
			tok, _, err := ts.Create(ctx, "ci", []string{"requests"})
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				if _, err := ts.Revoke(ctx, "ci"); err != nil {
					t.Fatal(err)
				}
			}
			if _, err := ts.Revoke(ctx, "nope"); !errors.Is(err, apitoken.ErrNotFound) {
				t.Errorf("revoke unknown: %v", err)
			}
			evs, err := st.Events(ctx, state.EventFilter{Subject: tok.ID})
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range evs {
				got = append(got, e.Kind+" by "+e.Actor)
				if strings.Contains(string(e.Data), "vow_") {
					t.Errorf("an entry holds a secret: %s", e.Data)
				}
			}
			if strings.Join(got, ", ") != "token.created by cli:ada, token.revoked by cli:ada" {
				t.Errorf("entries: %v", got)
			}
		})
	}
}
