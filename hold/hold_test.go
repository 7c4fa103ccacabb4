package hold_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/state"
)

func TestParseSubject(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want string
		err  bool
	}{
		{"email:Ada@Example.com", "email:ada@example.com", false},
		{"user_id: 42", "user_id:42", false},
		{"customer_id:acme", "customer_id:acme", false},
		{"ada@example.com", "", true},
		{"email:", "", true},
		{"ssn:123", "", true},
	} {
		s, err := hold.ParseSubject(tc.in)
		if (err != nil) != tc.err || (err == nil && s.String() != tc.want) {
			t.Errorf("ParseSubject(%q) = %v, %v; want %q (error %v)", tc.in, s, err, tc.want, tc.err)
		}
		if err != nil && !errors.Is(err, hold.ErrInvalid) {
			t.Errorf("ParseSubject(%q): error %v does not wrap ErrInvalid", tc.in, err)
		}
	}
}

func TestBook(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "vow.db") },
		"postgres": func(t *testing.T) string { return testdb.Postgres(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			s, err := state.Open(ctx, url(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			b := hold.New(s)
			ada := hold.Subject{Kind: "email", Value: "ada@example.com"}
			if _, err := b.Place(ctx, ada, "", "legal", nil); !errors.Is(err, hold.ErrInvalid) {
				t.Errorf("hold without reason: %v", err)
			}
			past := time.Now().Add(-time.Hour)
			if _, err := b.Place(ctx, ada, "x", "legal", &past); !errors.Is(err, hold.ErrInvalid) {
				t.Errorf("hold ending in the past: %v", err)
			}
			h1, err := b.Place(ctx, ada, "Litigation 2026-17", "legal@example.com", nil)
			if err != nil {
				t.Fatal(err)
			}
			until := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
			h2, err := b.Place(ctx, hold.Subject{Kind: "user_id", Value: "42"}, "Audit", "dpo", &until)
			if err != nil {
				t.Fatal(err)
			}
			subs, err := b.Subjects(ctx)
			if err != nil || len(subs["email"]) != 1 || subs["user_id"][0] != "42" {
				t.Fatalf("subjects: %v %v", subs, err)
			}
			got, err := b.Get(ctx, h2.ID)
			if err != nil || got.Until == nil || !got.Until.Equal(until) || got.Reason != "Audit" {
				t.Fatalf("get: %+v %v", got, err)
			}
			if _, err := b.Release(ctx, h1.ID, "legal", "settled"); err != nil {
				t.Fatal(err)
			}
			if _, err := b.Release(ctx, h1.ID, "legal", ""); !errors.Is(err, hold.ErrReleased) {
				t.Errorf("second release: %v", err)
			}
			if _, err := b.Release(ctx, "hold_nope", "legal", ""); !errors.Is(err, hold.ErrNotFound) {
				t.Errorf("unknown hold: %v", err)
			}
			open, _ := b.List(ctx, false)
			all, _ := b.List(ctx, true)
			if len(open) != 1 || len(all) != 2 || open[0].ID != h2.ID {
				t.Errorf("list: open %d all %d", len(open), len(all))
			}
			evs, _ := s.Events(ctx, state.EventFilter{Kind: "hold.released"})
			if len(evs) != 1 || evs[0].Subject != h1.ID {
				t.Errorf("events: %+v", evs)
			}
		})
	}
}
