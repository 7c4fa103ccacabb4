package dsr_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/vowprivacy/vow/dsr"
)

// crash is the panic value that simulates a crash at a point.
type crash string

// TestCrashPoints kills an erasure at every boundary between its steps —
// after each table's statements, just before and just after each
// system's commit, after Vow records it, before verification — and runs
// it again, as a restarted Vow would. Each certificate must say exactly
// what the crash-free run's says: a step committed before the crash is
// never recorded as less (or more) than it did.
func TestCrashPoints(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			want, points := crashFree(t, kind)
			if len(points) < 8 {
				t.Fatalf("only %d crash points: %v", len(points), points)
			}
			for _, point := range points {
				t.Run(point, func(t *testing.T) {
					f := newFixture(t, kind)
					r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
					crashAt(t, f, r.ID, point, nil)
					done := run(t, f, r.ID)
					checkErased(t, f)
					if got := certTables(t, f, done); got != want {
						t.Errorf("certificate after a crash at %s:\n%s\nwant (crash-free):\n%s", point, got, want)
					}
				})
			}
		})
	}
}

// crashAt runs request id until the erasure reaches point, where it
// crashes, and gives f a restarted Vow: a new service over the same store
// and databases. also, if set, sees every point before.
func crashAt(t *testing.T, f *fixture, id, point string, also func(point string)) {
	t.Helper()
	crashed := false
	dsr.SetCrashHook(f.svc, func(p string) {
		if also != nil {
			also(p)
		}
		if p == point && !crashed {
			crashed = true
			panic(crash(p))
		}
	})
	func() {
		defer func() {
			if v := recover(); v != nil && v != crash(point) {
				panic(v)
			}
		}()
		f.svc.Run(t.Context(), id, nil)
	}()
	if !crashed {
		t.Fatalf("the run never reached %s", point)
	}
	f.svc = &dsr.Service{Policy: f.policy, Store: f.store, Keys: f.keys, Datastores: f.resolver, ExportDir: f.exports}
}

// crashFree runs the erasure without a crash and returns its certificate's
// tables and the crash points it passed.
func crashFree(t *testing.T, kind string) (string, []string) {
	t.Helper()
	f := newFixture(t, kind)
	var points []string
	dsr.SetCrashHook(f.svc, func(p string) {
		if !slices.Contains(points, p) {
			points = append(points, p)
		}
	})
	done := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	return certTables(t, f, done), points
}

// certTables is what a certificate says was done, without its times and
// IDs: the tables, verified, and what remained.
func certTables(t *testing.T, f *fixture, r *dsr.Request) string {
	t.Helper()
	c, err := dsr.VerifyCertificate(r.Result.Certificate, f.keys.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.MarshalIndent(struct {
		Tables    []dsr.TableRecord
		Verified  bool
		Remaining []dsr.Residual
	}{c.Tables, c.Verified, c.Remaining}, "", " ")
	return fmt.Sprint(string(b))
}
