package dsr_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/state"
)

// TestPurgeRecords: the records of requests that ended before the cutoff
// go, with their packages and pseudonyms; open requests stay; a dry run
// changes nothing; the purge is in the audit log.
func TestPurgeRecords(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			ctx := t.Context()
			done := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
			pkg := filepath.Join(f.exports, done.Result.Export)
			open := create(t, f, trusted(dsr.Access, dsr.Identities{"email": "bob@example.com"})) // not run: still open
			cutoff := time.Now().Add(time.Minute)

			p, err := f.svc.PurgeRecords(ctx, cutoff, "test", true)
			if err != nil || p.Requests != 1 {
				t.Fatalf("dry run = %+v, %v; want 1 due", p, err)
			}
			if _, err := f.svc.Get(ctx, done.ID); err != nil {
				t.Fatalf("a dry run deleted: %v", err)
			}
			if p, err = f.svc.PurgeRecords(ctx, cutoff, "test", false); err != nil || p.Requests != 1 {
				t.Fatalf("PurgeRecords = %+v, %v", p, err)
			}
			if _, err := f.svc.Get(ctx, done.ID); err == nil {
				t.Error("the ended request's record is still there")
			}
			if _, err := os.Stat(pkg); !os.IsNotExist(err) {
				t.Errorf("its package is still on disk (%v)", err)
			}
			if _, err := f.svc.Get(ctx, open.ID); err != nil {
				t.Errorf("the open request went: %v", err)
			}
			var n int
			if err := f.store.DB().QueryRowContext(ctx, f.store.Rebind(`SELECT count(*) FROM request_pseudonyms WHERE request_id = ?`), done.ID).Scan(&n); err != nil || n != 0 {
				t.Errorf("%d pseudonyms left (%v)", n, err)
			}
			if evs, _ := f.store.Events(ctx, state.EventFilter{Kind: "requests.purged"}); len(evs) != 1 || evs[0].Actor != "test" {
				t.Errorf("requests.purged entries: %+v; want one, by test", evs)
			}
			// Who asked is the actor of the entries they caused.
			evs, _ := f.store.Events(ctx, state.EventFilter{Subject: done.ID})
			if len(evs) == 0 || evs[0].Kind != "request.received" || evs[0].Actor != "test" || evs[len(evs)-1].Actor != "vow" {
				t.Errorf("entries of a request: %+v; want request.received by its creator, the run by vow", evs)
			}
		})
	}
}

// TestMinimise: a request that ended while requests still kept their
// identities keeps only pseudonyms after Minimise; a failed one keeps
// them, to be retried.
func TestMinimise(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	ctx := t.Context()
	done := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
	// As a store before version 11 left it.
	if _, err := f.store.DB().ExecContext(ctx, `UPDATE requests SET identities = '{"email":"ada@example.com"}' WHERE id = ?`, done.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.store.DB().ExecContext(ctx, `DELETE FROM request_pseudonyms WHERE request_id = ?`, done.ID); err != nil {
		t.Fatal(err)
	}
	n, err := f.svc.Minimise(ctx)
	if err != nil || n != 1 {
		t.Fatalf("Minimise = %d, %v; want 1", n, err)
	}
	got, _ := f.svc.Get(ctx, done.ID)
	if len(got.Identities) != 0 {
		t.Errorf("identities after Minimise: %v", got.Identities)
	}
	var k int
	if err := f.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM request_pseudonyms WHERE request_id = ?`, done.ID).Scan(&k); err != nil || k != 1 {
		t.Errorf("%d pseudonyms (%v); want 1", k, err)
	}
	if n, _ := f.svc.Minimise(ctx); n != 0 {
		t.Errorf("a second Minimise changed %d", n)
	}
}
