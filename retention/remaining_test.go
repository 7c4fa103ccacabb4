package retention_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/retention"
)

const remainingPolicy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      visits:
        fields:
          id: system.operations
          ip: user.device.ip_address
          created_at: system.operations
retention:
  rules:
    - {name: old visits, table: "app:visits", from: created_at, keep: 30d, brake: {share: 100%}}
`

// TestRowsLeftAreReported: a rule whose rows are not all gone after its
// run is not reported done. While the run deletes a batch the
// application moves an expired row it has not reached yet under a key it
// has passed; the run says so, and the next run takes the row.
func TestRowsLeftAreReported(t *testing.T) {
	t.Parallel()
	f := newFixtureSchema(t, "sqlite", `
CREATE TABLE visits (id INTEGER PRIMARY KEY, ip TEXT, created_at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO visits SELECT 2 * i, '192.0.2.1', '2026-01-01 00:00:00' FROM n;
INSERT INTO visits VALUES (1000, '198.51.100.7', '2026-11-19 00:00:00');
CREATE TRIGGER move AFTER DELETE ON visits WHEN OLD.id = 100 BEGIN
  UPDATE visits SET id = 1 WHERE id = 150;
END;
`, remainingPolicy)
	rep, err := f.engine.Run(context.Background(), retention.Options{Batch: 30})
	if err != nil {
		t.Fatal(err)
	}
	r := resultOf(rep, "old visits")
	if r.Status != retention.StatusPartial || rep.Status != "partial" || r.Rows != 99 || !strings.Contains(r.Error, "1 rows past the run's cutoff are still there") {
		t.Fatalf("first run: %+v (report %s); want partial, 99 rows, and the row moved meanwhile named", r, rep.Status)
	}
	rep, err = f.engine.Run(context.Background(), retention.Options{Batch: 30})
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "old visits"); r.Status != retention.StatusDone || r.Rows != 1 || r.Error != "" {
		t.Fatalf("second run: %+v; want done, the 1 row left", r)
	}
	if n := f.count(t, "SELECT count(*) FROM visits"); n != 1 {
		t.Errorf("%d visits left, want the one not due", n)
	}
}

// TestRowsWithNullKeys: SQLite lets a primary key other than an INTEGER
// one hold NULL. Batches by key never reach such rows; the run says so,
// and what to do, instead of reporting the rule done.
func TestRowsWithNullKeys(t *testing.T) {
	t.Parallel()
	f := newFixtureSchema(t, "sqlite", `
CREATE TABLE visits (id TEXT PRIMARY KEY, ip TEXT, created_at TEXT);
INSERT INTO visits VALUES ('a', '192.0.2.1', '2026-01-01 00:00:00'), ('b', '192.0.2.2', '2026-01-01 00:00:00'),
  (NULL, '192.0.2.3', '2026-01-01 00:00:00'), (NULL, '192.0.2.4', '2026-01-01 00:00:00'), ('c', '198.51.100.7', '2026-11-19 00:00:00');
`, remainingPolicy)
	rep, err := f.engine.Run(context.Background(), retention.Options{})
	if err != nil {
		t.Fatal(err)
	}
	r := resultOf(rep, "old visits")
	if r.Status != retention.StatusPartial || r.Rows != 2 || !strings.Contains(r.Error, "2 rows past the run's cutoff are still there to delete, 2 of them with NULL in their key (id)") {
		t.Fatalf("run: %+v; want partial, the 2 keyed rows deleted, the 2 without a key named", r)
	}
	if n := f.count(t, "SELECT count(*) FROM visits WHERE id = 'c'"); n != 1 {
		t.Errorf("the visit not due: %d rows", n)
	}
}
