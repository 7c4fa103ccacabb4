package retention_test

import (
	"context"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
)

// bigBatchPolicy anonymises a table keyed by two columns, as a
// multi-tenant schema keys its rows by tenant and id; its keyed pseudonym
// is computed per row, so batches are lists of keys, not key ranges.
const bigBatchPolicy = `version: 1
organization: {name: Test, contacts: {privacy: privacy@test.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      events:
        subject: customer
        primary_key: [tenant_id, id]
        fields:
          tenant_id: system.operations
          id: system.operations
          ip: {category: user.device.ip_address, erase: hmac}
          created_at: system.operations
retention:
  rules:
    - {name: old events, table: "app:events", from: created_at, keep: 30d, then: anonymise, brake: {share: 100%}}
`

// bigBatchSchema has more expired rows than one batch's keys fit in the
// parameters of a statement when the batch is as large as asked: two key
// columns of 34,000 rows are 68,000 parameters, over PostgreSQL's and
// MariaDB's 65,535; 34,000 keys are over SQLite's 32,766 alone, and an OR
// of a thousand of them deeper than SQLite parses.
var bigBatchSchema = map[string]string{
	"postgres": `
CREATE TABLE events (tenant_id bigint, id bigint, ip text, created_at timestamp, PRIMARY KEY (tenant_id, id));
INSERT INTO events SELECT i % 7, i, '192.0.2.1', '2026-01-01 00:00:00' FROM generate_series(1, 34000) i;
INSERT INTO events SELECT i % 7, i, '198.51.100.7', '2026-11-19 00:00:00' FROM generate_series(34001, 34100) i;
`,
	"mysql": `
CREATE TABLE events (tenant_id BIGINT, id BIGINT, ip VARCHAR(45), created_at DATETIME, PRIMARY KEY (tenant_id, id));
INSERT INTO events SELECT seq % 7, seq, '192.0.2.1', '2026-01-01 00:00:00' FROM seq_1_to_34000;
INSERT INTO events SELECT seq % 7, seq, '198.51.100.7', '2026-11-19 00:00:00' FROM seq_34001_to_34100;
`,
	"sqlite": `
CREATE TABLE events (tenant_id INTEGER, id INTEGER, ip TEXT, created_at TEXT, PRIMARY KEY (tenant_id, id));
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 34100)
INSERT INTO events SELECT i % 7, i, CASE WHEN i <= 34000 THEN '192.0.2.1' ELSE '198.51.100.7' END,
  CASE WHEN i <= 34000 THEN '2026-01-01 00:00:00' ELSE '2026-11-19 00:00:00' END FROM n;
`,
}

// TestBatchLargerThanParameters: a batch asked larger than a statement's
// parameters can key is cut to what they can, and the run completes,
// leaving the rows that are not due as they were.
func TestBatchLargerThanParameters(t *testing.T) {
	if testing.Short() {
		t.Skip("inserts 34,000 rows per database")
	}
	forEachKind(t, func(t *testing.T, kind string) {
		f := newFixtureSchema(t, kind, bigBatchSchema[kind], bigBatchPolicy)
		const keep = "SELECT tenant_id, id, ip, created_at FROM events WHERE id > 34000 ORDER BY id"
		before := testdb.Dump(t, f.db, keep)
		rep, err := f.engine.Run(context.Background(), retention.Options{Batch: 34_000})
		if err != nil {
			t.Fatal(err)
		}
		res := resultOf(rep, "old events")
		if res.Error != "" || res.Rows != 34_000 {
			t.Fatalf("old events: %+v; want 34,000 rows anonymised", res)
		}
		if n := f.count(t, "SELECT count(*) FROM events WHERE id <= 34000 AND ip = '192.0.2.1'"); n != 0 {
			t.Errorf("%d expired events not anonymised", n)
		}
		if after := testdb.Dump(t, f.db, keep); after != before || strings.Count(after, "\n") != 100 {
			t.Errorf("the events not due changed:\nbefore %v\nafter  %v", before, after)
		}
	})
}

// TestCompositeKeysOfAnyType: PostgreSQL keys a batch of composite keys by
// one array per column, which must hold whatever the key's type — citext
// and enums included, which pgx cannot encode a Go slice into.
func TestCompositeKeysOfAnyType(t *testing.T) {
	t.Parallel()
	for _, typ := range []string{"citext", "tenant", "uuid"} {
		t.Run(typ, func(t *testing.T) {
			t.Parallel()
			tenant := map[string]string{
				"citext": "'Tenant-' || (i % 7)",
				"tenant": "('t' || (i % 7))::tenant",
				"uuid":   "('00000000-0000-4000-8000-00000000000' || (i % 7))::uuid",
			}[typ]
			ddl := `
CREATE EXTENSION IF NOT EXISTS citext;
CREATE TYPE tenant AS ENUM ('t0', 't1', 't2', 't3', 't4', 't5', 't6');
CREATE TABLE events (tenant_id ` + typ + `, id bigint, ip text, created_at timestamp, PRIMARY KEY (tenant_id, id));
INSERT INTO events SELECT ` + tenant + `, i, '192.0.2.1', '2026-01-01 00:00:00' FROM generate_series(1, 1500) i;
INSERT INTO events SELECT ` + tenant + `, i, '198.51.100.7', '2026-11-19 00:00:00' FROM generate_series(1501, 1510) i;
`
			f := newFixtureSchema(t, "postgres", ddl, bigBatchPolicy)
			fresh := func() int {
				return f.count(t, "SELECT count(*) FROM events WHERE id > 1500 AND ip = '198.51.100.7'")
			}
			rep, err := f.engine.Run(context.Background(), retention.Options{Batch: 1500})
			if err != nil {
				t.Fatal(err)
			}
			if res := resultOf(rep, "old events"); res.Error != "" || res.Rows != 1500 {
				t.Fatalf("old events: %+v; want 1,500 rows anonymised", res)
			}
			if n := f.count(t, "SELECT count(*) FROM events WHERE ip = '192.0.2.1'"); n != 0 {
				t.Errorf("%d expired events not anonymised", n)
			}
			if n := fresh(); n != 10 {
				t.Errorf("%d of the 10 events not due are as they were", n)
			}
		})
	}
}

// TestCompositeKeysInAnotherCharset: MariaDB compares a list of row
// values wrongly when a column's character set is not the connection's,
// so a batch's composite keys go as an OR of pairs there: the expired
// ('JÈ', 1) and ('JÉ', 2) are anonymised, and the rows not due whose
// bytes are the UTF-8 of those names read as latin1 are left alone.
func TestCompositeKeysInAnotherCharset(t *testing.T) {
	t.Parallel()
	ddl := `
CREATE TABLE events (tenant_id VARCHAR(8) CHARACTER SET latin1 NOT NULL, id BIGINT NOT NULL, ip VARCHAR(45), created_at DATETIME, PRIMARY KEY (tenant_id, id));
INSERT INTO events VALUES ('JÈ', 1, '192.0.2.1', '2026-01-01 00:00:00'), ('JÉ', 2, '192.0.2.1', '2026-01-01 00:00:00');
INSERT INTO events VALUES (CONCAT('J', _latin1 x'C388'), 1, '198.51.100.7', '2026-11-19 00:00:00'), (CONCAT('J', _latin1 x'C389'), 2, '198.51.100.7', '2026-11-19 00:00:00');
`
	f := newFixtureSchema(t, "mysql", ddl, bigBatchPolicy)
	rep, err := f.engine.Run(context.Background(), retention.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if res := resultOf(rep, "old events"); res.Error != "" || res.Rows != 2 {
		t.Fatalf("old events: %+v; want the 2 expired rows anonymised", res)
	}
	if n := f.count(t, "SELECT count(*) FROM events WHERE ip = '192.0.2.1'"); n != 0 {
		t.Errorf("%d expired events not anonymised", n)
	}
	if n := f.count(t, "SELECT count(*) FROM events WHERE ip = '198.51.100.7' AND hex(tenant_id) IN ('4AC388', '4AC389')"); n != 2 {
		t.Errorf("%d of the 2 events not due are as they were", n)
	}
}
