package retention_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
)

// partitionSchema is a table of events partitioned by month on the rule's
// timestamp, 2026-06 to 2026-11, and a catch-all: on PostgreSQL declarative
// partitions (and a DEFAULT one), on MariaDB RANGE COLUMNS.
func partitionSchema(kind string) string {
	months := []string{"2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11", "2026-12"}
	var b strings.Builder
	switch kind {
	case "postgres":
		b.WriteString("CREATE TABLE events (id bigint NOT NULL, created_at timestamptz NOT NULL, body text, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (created_at);\n")
		for i := 0; i+1 < len(months); i++ {
			fmt.Fprintf(&b, "CREATE TABLE events_%s PARTITION OF events FOR VALUES FROM ('%s-01 00:00:00+00') TO ('%s-01 00:00:00+00');\n",
				strings.ReplaceAll(months[i], "-", "_"), months[i], months[i+1])
		}
		b.WriteString("CREATE TABLE events_default PARTITION OF events DEFAULT;\n")
	case "postgres-analyzed":
		return partitionSchema("postgres") + "ANALYZE events;\n"
	case "postgres-domain":
		// Partitioned on a domain: dropped whole like its base type.
		return "CREATE DOMAIN event_ts AS timestamptz;\n" + strings.Replace(partitionSchema("postgres"), "created_at timestamptz", "created_at event_ts", 1)
	case "mysql":
		b.WriteString("CREATE TABLE events (id bigint NOT NULL, created_at datetime NOT NULL, body text, PRIMARY KEY (id, created_at)) PARTITION BY RANGE COLUMNS (created_at) (\n")
		for i := 0; i+1 < len(months); i++ {
			fmt.Fprintf(&b, "  PARTITION p%s VALUES LESS THAN ('%s-01 00:00:00'),\n", strings.ReplaceAll(months[i], "-", "_"), months[i+1])
		}
		b.WriteString("  PARTITION pmax VALUES LESS THAN (MAXVALUE));\n")
	case "mysql-to_days":
		// The older form: a function of the column.
		b.WriteString("CREATE TABLE events (id bigint NOT NULL, created_at datetime NOT NULL, body text, PRIMARY KEY (id, created_at)) PARTITION BY RANGE (TO_DAYS(created_at)) (\n")
		for i := 0; i+1 < len(months); i++ {
			fmt.Fprintf(&b, "  PARTITION p%s VALUES LESS THAN (TO_DAYS('%s-01')),\n", strings.ReplaceAll(months[i], "-", "_"), months[i+1])
		}
		b.WriteString("  PARTITION pmax VALUES LESS THAN MAXVALUE);\n")
		kind = "mysql"
	}
	// Every 6 hours from 2026-05-01 (before the first partition: DEFAULT on
	// PostgreSQL; MariaDB has no such partition, so it starts in June) to
	// 2027-01-10.
	start := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	if kind == "mysql" {
		start = time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	}
	id := 0
	for at := start; at.Before(time.Date(2027, 1, 10, 0, 0, 0, 0, time.UTC)); at = at.Add(6 * time.Hour) {
		if id%500 == 0 {
			if id > 0 {
				b.WriteString(";\n")
			}
			b.WriteString("INSERT INTO events (id, created_at, body) VALUES ")
		} else {
			b.WriteString(", ")
		}
		id++
		fmt.Fprintf(&b, "(%d, '%s', 'event %d')", id, at.Format("2006-01-02 15:04:05"), id)
	}
	b.WriteString(";\n")
	return b.String()
}

const partitionPolicy = `version: 1
organization: {name: Acme, contacts: {privacy: p@acme.example}}
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    tables:
      events:
        primary_key: [id, created_at]
        fields:
          id: system.operations
          created_at: system.operations
          body: system.operations
retention:
  rules:
    - {name: events, table: app:events, from: created_at, keep: 90d}
`

// TestPartitionsDroppedWhole: with the cutoff at 2026-08-22 (90 days before
// the test clock's 2026-11-20), the June and July partitions go whole (and
// on PostgreSQL the DEFAULT partition's May rows go in batches, as a
// DEFAULT partition can hold any date); August's expired rows go row by
// row; every row from the cutoff on is untouched, byte for byte. A rule
// with a where drops nothing whole and removes the same rows. Rows of
// dropped partitions are reported as the statistics' estimate where there
// is one (PostgreSQL once analysed), else counted (MariaDB always: its
// estimates are samples).
func TestPartitionsDroppedWhole(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"postgres", "postgres-analyzed", "postgres-domain", "mysql", "mysql-to_days"} {
		for _, where := range []string{"", "body IS NOT NULL"} {
			t.Run(variant+"/where="+where, func(t *testing.T) {
				t.Parallel()
				kind, _, _ := strings.Cut(variant, "-")
				src := partitionPolicy
				if where != "" {
					src = strings.Replace(src, "keep: 90d}", "keep: 90d, where: \""+where+"\"}", 1)
				}
				f := newFixtureSchema(t, kind, partitionSchema(variant), src)
				cutoff := now.AddDate(0, 0, -90)
				keep := `SELECT id, created_at, body FROM events WHERE created_at >= ? ORDER BY id`
				before := testdb.Dump(t, f.db, f.rebind(keep), ts(cutoff))
				expired := f.count(t, `SELECT count(*) FROM events WHERE created_at < ?`, ts(cutoff))
				inDropped := int64(f.count(t, `SELECT count(*) FROM events WHERE created_at >= '2026-06-01' AND created_at < '2026-08-01'`))

				plan, err := f.engine.Plan(context.Background(), nil)
				if err != nil {
					t.Fatal(err)
				}
				rp := planOf(plan, "events")
				wantParts := map[string][]string{"postgres": {"public.events_2026_06", "public.events_2026_07"}, "mysql": {"p2026_06", "p2026_07"}}[kind]
				if where != "" {
					wantParts = nil
				}
				if !slices.Equal(rp.Partitions, wantParts) || rp.Rows != int64(expired) {
					t.Errorf("plan: partitions %v, %d rows; want %v, %d rows\n%+v", rp.Partitions, rp.Rows, wantParts, expired, rp)
				}
				if where != "" && !anyContains(rp.Warnings, "not dropped whole: the rule has a where") {
					t.Errorf("plan warnings %v; want the reason partitions are not dropped", rp.Warnings)
				}

				var total int64 // what the run expected to remove: brake and progress
				rep, err := f.engine.Run(context.Background(), retention.Options{Batch: 50, Progress: func(p retention.Progress) { total = p.Total }})
				if err != nil {
					t.Fatal(err)
				}
				rr := resultOf(rep, "events")
				wantRows, wantEst := int64(expired), int64(0)
				if where == "" && variant == "postgres-analyzed" {
					wantRows, wantEst = int64(expired)-inDropped, inDropped
				}
				if rr.Status != "done" || rr.Rows != wantRows || !slices.Equal(rr.Partitions, wantParts) {
					t.Errorf("run: %+v; want done, %d rows counted, partitions %v", rr, wantRows, wantParts)
				}
				// The run's expectation counts the DEFAULT partition's May rows
				// (older than any dropped bound) with the rest.
				if d := total - int64(expired); d*10 > int64(expired) || -d*10 > int64(expired) {
					t.Errorf("run expected %d rows, want about %d", total, expired)
				}
				// An estimate, but of these rows: within a tenth.
				if d := rr.PartitionRows - wantEst; d*10 > wantEst || -d*10 > wantEst {
					t.Errorf("run: %d rows estimated in whole partitions, want about %d", rr.PartitionRows, wantEst)
				}
				if n := f.count(t, `SELECT count(*) FROM events WHERE created_at < ?`, ts(cutoff)); n != 0 {
					t.Errorf("%d expired rows left", n)
				}
				if after := testdb.Dump(t, f.db, f.rebind(keep), ts(cutoff)); after != before {
					t.Error("rows from the cutoff on changed")
				}
				// The dropped partitions are gone; the others stay.
				var parts int
				switch kind {
				case "postgres":
					parts = f.count(t, `SELECT count(*) FROM pg_inherits WHERE inhparent = 'events'::regclass`)
				case "mysql":
					parts = f.count(t, `SELECT count(*) FROM information_schema.PARTITIONS WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'events'`)
				}
				if want := 7 - len(wantParts); parts != want {
					t.Errorf("%d partitions left, want %d", parts, want)
				}
			})
		}
	}
}

// TestPartitionsNotDroppedWhenReferenced: rows another table references
// (here with erase: nullify) are not dropped a partition at a time — the
// references must be cleared first, row by row — and the plan says why.
func TestPartitionsNotDroppedWhenReferenced(t *testing.T) {
	t.Parallel()
	kind := "postgres"
	src := strings.Replace(partitionPolicy, "          body: system.operations\n", "          body: system.operations\n      notes:\n        fields:\n          id: system.operations\n          event_id: {category: system.operations, references: events.id, erase: nullify}\n          event_at: system.operations\n", 1)
	ddl := partitionSchema(kind) + "CREATE TABLE notes (id bigint PRIMARY KEY, event_id bigint, event_at timestamptz);\nINSERT INTO notes VALUES (1, 10, '2026-06-03 12:00:00+00');\n"
	f := newFixtureSchema(t, kind, ddl, src)
	plan, err := f.engine.Plan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rp := planOf(plan, "events"); len(rp.Partitions) != 0 || !anyContains(rp.Warnings, "other rows depend on its rows") {
		t.Errorf("plan: %+v; want no partition dropped whole, and why", rp)
	}
}

// TestLeftoverOfAStoppedRunIsDropped: a run that stopped after moving a
// partition's rows out of the table (detached and renamed on PostgreSQL,
// exchanged into a copy on MariaDB) and before dropping them leaves a
// table named for the rule's table; the next run drops it and reports it.
// A table of another name is not touched.
func TestLeftoverOfAStoppedRunIsDropped(t *testing.T) {
	t.Parallel()
	sum := sha256.Sum256([]byte("app:events"))
	leftover := "vow_purge_" + hex.EncodeToString(sum[:4]) + "_0badf00d"
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			ddl := partitionSchema(kind)
			switch kind {
			case "postgres":
				ddl += "ALTER TABLE events DETACH PARTITION events_2026_06;\nALTER TABLE events_2026_06 RENAME TO " + leftover + ";\n" +
					"CREATE TABLE vow_purge_other (id int);\n"
			case "mysql":
				ddl += "CREATE TABLE " + leftover + " LIKE events;\nALTER TABLE " + leftover + " REMOVE PARTITIONING;\n" +
					"ALTER TABLE events EXCHANGE PARTITION p2026_06 WITH TABLE " + leftover + ";\n" +
					"CREATE TABLE vow_purge_other (id int);\n"
			}
			f := newFixtureSchema(t, kind, ddl, partitionPolicy)
			moved := f.count(t, "SELECT count(*) FROM "+leftover)
			if moved == 0 {
				t.Fatal("the fixture moved no rows out")
			}
			rep, err := f.engine.Run(context.Background(), retention.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rr := resultOf(rep, "events")
			if rr.Status != "done" || !anyContains(rr.Partitions, leftover) {
				t.Fatalf("run: %+v; want done, %s among the partitions", rr, leftover)
			}
			tables := map[string]string{
				"postgres": "SELECT count(*) FROM pg_class WHERE relname = ?",
				"mysql":    "SELECT count(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = ?",
			}[kind]
			if n := f.count(t, tables, leftover); n != 0 {
				t.Errorf("the leftover %s is still there", leftover)
			}
			if n := f.count(t, tables, "vow_purge_other"); n != 1 {
				t.Errorf("a table of another name was dropped")
			}
			// Its rows are reported: counted (never analysed) or estimated.
			if got := rr.Rows + rr.PartitionRows; got < int64(moved) {
				t.Errorf("run reports %d rows, want at least the %d left over", got, moved)
			}
		})
	}
}

// TestPartitionsAndTheBrake: partitions never analysed have no estimate;
// the brake still sees their rows, and stops a run that would remove more
// than it allows. The same table analysed is braked the same way.
func TestPartitionsAndTheBrake(t *testing.T) {
	t.Parallel()
	for _, variant := range []string{"postgres", "postgres-analyzed", "mysql"} {
		t.Run(variant, func(t *testing.T) {
			t.Parallel()
			kind, _, _ := strings.Cut(variant, "-")
			src := strings.Replace(partitionPolicy, "keep: 90d}", "keep: 90d, brake: {share: 30%, rows: 10}}", 1)
			f := newFixtureSchema(t, kind, partitionSchema(variant), src)
			before := f.count(t, `SELECT count(*) FROM events`)
			rep, err := f.engine.Run(context.Background(), retention.Options{})
			if err != nil {
				t.Fatal(err)
			}
			if rr := resultOf(rep, "events"); rr.Status != retention.StatusBraked || len(rr.Partitions) != 0 {
				t.Fatalf("run: %+v; want braked, nothing dropped", rr)
			}
			if after := f.count(t, `SELECT count(*) FROM events`); after != before {
				t.Errorf("a braked run removed %d rows", before-after)
			}
		})
	}
}

// TestMySQLNullablePartitionColumn: MySQL keeps rows whose partitioning
// value is NULL in the lowest partition; the rule never takes them, so a
// table partitioned on a nullable column is purged row by row, and the
// NULL row stays.
func TestMySQLNullablePartitionColumn(t *testing.T) {
	t.Parallel()
	ddl := strings.Replace(partitionSchema("mysql"), "created_at datetime NOT NULL", "created_at datetime NULL", 1)
	ddl = strings.Replace(ddl, "PRIMARY KEY (id, created_at)", "KEY (id)", 1) // no unique key: NULL is allowed
	f := newFixtureSchema(t, "mysql", ddl, strings.Replace(partitionPolicy, "primary_key: [id, created_at]", "primary_key: [id]", 1))
	f.exec(t, `INSERT INTO events (id, created_at, body) VALUES (99999, NULL, 'no date')`)
	plan, err := f.engine.Plan(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if rp := planOf(plan, "events"); len(rp.Partitions) != 0 || !anyContains(rp.Warnings, "may be NULL") {
		t.Errorf("plan: %+v; want no partition dropped whole, and why", rp)
	}
	rep, err := f.engine.Run(context.Background(), retention.Options{Approve: []string{"events"}})
	if err != nil {
		t.Fatal(err)
	}
	if rr := resultOf(rep, "events"); rr.Status != retention.StatusDone || len(rr.Partitions) != 0 {
		t.Fatalf("run: %+v", rr)
	}
	if n := f.count(t, `SELECT count(*) FROM events WHERE id = 99999`); n != 1 {
		t.Error("the row with no date was removed")
	}
}

// TestBusyPartitionsGoInBatches: while the application holds the table (an
// open transaction that read it), a partition cannot be detached or
// exchanged in time; its rows are purged in batches instead — every
// expired row goes, nothing else — and it is not reported as dropped.
func TestBusyPartitionsGoInBatches(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixtureSchema(t, kind, partitionSchema(kind), partitionPolicy)
			cutoff := now.AddDate(0, 0, -90)
			keep := `SELECT id, created_at, body FROM events WHERE created_at >= ? ORDER BY id`
			before := testdb.Dump(t, f.db, f.rebind(keep), ts(cutoff))
			expired := f.count(t, `SELECT count(*) FROM events WHERE created_at < ?`, ts(cutoff))
			app, err := f.db.BeginTx(context.Background(), nil)
			if err != nil {
				t.Fatal(err)
			}
			defer app.Rollback()
			var n int
			if err := app.QueryRow(`SELECT count(*) FROM events WHERE id = 1`).Scan(&n); err != nil {
				t.Fatal(err)
			}
			rep, err := f.engine.Run(context.Background(), retention.Options{Approve: []string{"events"}})
			if err != nil {
				t.Fatal(err)
			}
			rr := resultOf(rep, "events")
			if rr.Status != retention.StatusDone || rr.Rows != int64(expired) || len(rr.Partitions) != 0 {
				t.Errorf("run: %+v; want done, %d rows in batches, no partition dropped", rr, expired)
			}
			_ = app.Rollback()
			if left := f.count(t, `SELECT count(*) FROM events WHERE created_at < ?`, ts(cutoff)); left != 0 {
				t.Errorf("%d expired rows left", left)
			}
			if after := testdb.Dump(t, f.db, f.rebind(keep), ts(cutoff)); after != before {
				t.Error("rows from the cutoff on changed")
			}
		})
	}
}
