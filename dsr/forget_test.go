package dsr_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/state"
)

// TestErasureForgetsEarlierRequests: after Ada's erasure, Vow's own
// records keep nothing of her — not the access package it made her a
// week before (a copy of every row of hers), not the identities of her
// earlier requests — while Bob's request and package are untouched.
func TestErasureForgetsEarlierRequests(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			ada := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ADA@example.com"})).ID)
			bob := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "bob@example.com"})).ID)
			for _, r := range []*dsr.Request{ada, bob} {
				if _, err := os.Stat(filepath.Join(f.exports, r.Result.Export)); err != nil {
					t.Fatalf("package of %s: %v", r.ID, err)
				}
			}
			adaPackage := filepath.Join(f.exports, ada.Result.Export)
			// A request that has ended keeps no identity: the erasure finds
			// Ada's by the pseudonym of her address.
			for _, r := range []*dsr.Request{ada, bob} {
				if len(r.Identities) != 0 {
					t.Errorf("completed request %s keeps identities %v", r.ID, r.Identities)
				}
			}

			erasure := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if len(erasure.Identities) != 0 {
				t.Errorf("erasure keeps identities %v", erasure.Identities)
			}
			if _, err := os.Stat(adaPackage); !os.IsNotExist(err) {
				t.Errorf("Ada's access package is still on disk (%v)", err)
			}
			got, err := f.svc.Get(t.Context(), ada.ID)
			if err != nil {
				t.Fatal(err)
			}
			if len(got.Identities) != 0 || got.Result.Export != "" || got.Status != dsr.Completed {
				t.Errorf("Ada's access request after her erasure: identities %v, package %q, status %s; want none, none, completed", got.Identities, got.Result.Export, got.Status)
			}
			evs, err := f.store.Events(t.Context(), state.EventFilter{Kind: "request.forgotten"})
			if err != nil {
				t.Fatal(err)
			}
			if len(evs) != 1 || evs[0].Subject != ada.ID || !strings.Contains(string(evs[0].Data), erasure.ID) {
				t.Errorf("request.forgotten events: %+v, want one, of Ada's access request, naming the erasure", evs)
			}
			b, err := f.svc.Get(t.Context(), bob.ID)
			if err != nil {
				t.Fatal(err)
			}
			if b.Result.Export == "" || b.CompletedAt == nil {
				t.Errorf("Bob's request changed: %+v", b)
			}
			if _, err := os.Stat(filepath.Join(f.exports, bob.Result.Export)); err != nil {
				t.Errorf("Bob's package: %v", err)
			}
		})
	}
}
