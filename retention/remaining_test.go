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
// run is not reported done. The application writes an expired row (a
// backfill) under a key the run has passed while the run deletes the last
// batch; the run says so, and the next run takes it.
func TestRowsLeftAreReported(t *testing.T) {
	t.Parallel()
	f := newFixtureSchema(t, "sqlite", `
CREATE TABLE visits (id INTEGER PRIMARY KEY, ip TEXT, created_at TEXT);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
INSERT INTO visits SELECT 2 * i, '192.0.2.1', '2026-01-01 00:00:00' FROM n;
INSERT INTO visits VALUES (1000, '198.51.100.7', '2026-11-19 00:00:00');
CREATE TRIGGER backfill AFTER DELETE ON visits WHEN OLD.id = 200 BEGIN
  INSERT INTO visits VALUES (199, '192.0.2.9', '2026-01-02 00:00:00');
END;
`, remainingPolicy)
	rep, err := f.engine.Run(context.Background(), retention.Options{Batch: 30})
	if err != nil {
		t.Fatal(err)
	}
	r := resultOf(rep, "old visits")
	if r.Status != retention.StatusPartial || rep.Status != "partial" || r.Rows != 100 || !strings.Contains(r.Error, "1 rows past the run's cutoff are still there") {
		t.Fatalf("first run: %+v (report %s); want partial, 100 rows, and the row written meanwhile named", r, rep.Status)
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
