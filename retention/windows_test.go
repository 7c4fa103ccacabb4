package retention_test

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/retention"
)

// windowsPolicy purges and anonymises tables keyed by uuids (random
// keys, unrelated to when a row was written) whose rule's column is
// indexed: batches go by windows of that column.
const windowsPolicy = `version: 1
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
          note: system.operations
          seen_at: system.operations
      logins:
        subject: customer
        fields:
          id: system.operations
          ip: {category: user.device.ip_address, erase: hmac}
          at: system.operations
retention:
  rules:
    - {name: old visits, table: "app:visits", from: seen_at, keep: 30d, brake: {share: 100%}}
    - {name: old logins, table: "app:logins", from: at, keep: 30d, then: anonymise, brake: {share: 100%}}
`

// The fixture's now is 2026-11-20 12:00 UTC: rows before 2026-10-21
// 12:00:00 are due. visits has 2,000 due rows, seven to an instant (a
// window's bound falls inside such a run of rows as often as not), 50
// more at one instant (a bulk import) and 350 at another (more than a
// batch: they go by key), one a microsecond (on SQLite a
// second) before the cutoff, one at it and one after, 1,500 rows not due
// and 10 without a date; logins 1,450 due rows (250 at one instant) and
// 800 not. Keys are
// uuids (on MariaDB md5 texts) made from the row number, so that key
// order is not time order.
var windowsSchema = map[string]string{
	"postgres": `
CREATE TABLE visits (id uuid PRIMARY KEY, note text, seen_at timestamp);
CREATE INDEX visits_seen_at ON visits (seen_at);
INSERT INTO visits SELECT md5('v' || i)::uuid, 'due ' || i, '2026-01-01'::timestamp + (i / 7) * interval '1 minute' FROM generate_series(1, 2000) i;
INSERT INTO visits SELECT md5('b' || i)::uuid, 'bulk ' || i, '2026-03-01 00:00:00' FROM generate_series(1, 50) i;
INSERT INTO visits SELECT md5('t' || i)::uuid, 'bulk tied ' || i, '2026-04-01 00:00:00' FROM generate_series(1, 350) i;
INSERT INTO visits VALUES (md5('edge1')::uuid, 'due at the edge', '2026-10-21 11:59:59.999999'),
  (md5('edge2')::uuid, 'kept at the cutoff', '2026-10-21 12:00:00'), (md5('edge3')::uuid, 'kept after it', '2026-10-21 12:00:00.000001');
INSERT INTO visits SELECT md5('k' || i)::uuid, 'kept ' || i, '2026-11-01'::timestamp + i * interval '7 minutes' FROM generate_series(1, 1500) i;
INSERT INTO visits SELECT md5('n' || i)::uuid, 'no date ' || i, NULL FROM generate_series(1, 10) i;
CREATE TABLE logins (id uuid PRIMARY KEY, ip text, at timestamptz);
CREATE INDEX logins_at ON logins (at);
INSERT INTO logins SELECT md5('l' || i)::uuid, '192.0.2.' || (i % 200), '2026-02-01 00:00:00+00'::timestamptz + (i / 3) * interval '1 hour' FROM generate_series(1, 1200) i;
INSERT INTO logins SELECT md5('u' || i)::uuid, '192.0.2.' || (i % 200), '2026-05-01 00:00:00+00' FROM generate_series(1, 250) i;
INSERT INTO logins SELECT md5('m' || i)::uuid, '198.51.100.' || (i % 200), '2026-11-02 00:00:00+00'::timestamptz + i * interval '1 minute' FROM generate_series(1, 800) i;
`,
	"mysql": `
CREATE TABLE visits (id CHAR(32) PRIMARY KEY, note VARCHAR(40), seen_at DATETIME(6), INDEX (seen_at));
INSERT INTO visits SELECT MD5(CONCAT('v', seq)), CONCAT('due ', seq), TIMESTAMP('2026-01-01') + INTERVAL (seq DIV 7) MINUTE FROM seq_1_to_2000;
INSERT INTO visits SELECT MD5(CONCAT('b', seq)), CONCAT('bulk ', seq), '2026-03-01 00:00:00' FROM seq_1_to_50;
INSERT INTO visits SELECT MD5(CONCAT('t', seq)), CONCAT('bulk tied ', seq), '2026-04-01 00:00:00' FROM seq_1_to_350;
INSERT INTO visits VALUES (MD5('edge1'), 'due at the edge', '2026-10-21 11:59:59.999999'),
  (MD5('edge2'), 'kept at the cutoff', '2026-10-21 12:00:00'), (MD5('edge3'), 'kept after it', '2026-10-21 12:00:00.000001');
INSERT INTO visits SELECT MD5(CONCAT('k', seq)), CONCAT('kept ', seq), TIMESTAMP('2026-11-01') + INTERVAL seq * 7 MINUTE FROM seq_1_to_1500;
INSERT INTO visits SELECT MD5(CONCAT('n', seq)), CONCAT('no date ', seq), NULL FROM seq_1_to_10;
CREATE TABLE logins (id CHAR(32) PRIMARY KEY, ip VARCHAR(64), at TIMESTAMP(6) NULL, INDEX (at));
INSERT INTO logins SELECT MD5(CONCAT('l', seq)), CONCAT('192.0.2.', seq % 200), TIMESTAMP('2026-02-01') + INTERVAL (seq DIV 3) HOUR FROM seq_1_to_1200;
INSERT INTO logins SELECT MD5(CONCAT('u', seq)), CONCAT('192.0.2.', seq % 200), '2026-05-01 00:00:00' FROM seq_1_to_250;
INSERT INTO logins SELECT MD5(CONCAT('m', seq)), CONCAT('198.51.100.', seq % 200), TIMESTAMP('2026-11-02') + INTERVAL seq MINUTE FROM seq_1_to_800;
`,
	"sqlite": `
CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TIMESTAMP);
CREATE INDEX visits_seen_at ON visits (seen_at);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
INSERT INTO visits SELECT lower(hex(randomblob(16))), 'due ' || i, strftime('%Y-%m-%d %H:%M:%S', '2026-01-01', '+' || (i / 7) || ' minutes') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
INSERT INTO visits SELECT lower(hex(randomblob(16))), 'bulk ' || i, '2026-03-01 00:00:00' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 350)
INSERT INTO visits SELECT lower(hex(randomblob(16))), 'bulk tied ' || i, '2026-04-01 00:00:00' FROM n;
INSERT INTO visits VALUES (lower(hex(randomblob(16))), 'due at the edge', '2026-10-21 11:59:59'),
  (lower(hex(randomblob(16))), 'kept at the cutoff', '2026-10-21 12:00:00'), (lower(hex(randomblob(16))), 'kept after it', '2026-10-21 12:00:01');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
INSERT INTO visits SELECT lower(hex(randomblob(16))), 'kept ' || i, strftime('%Y-%m-%d %H:%M:%S', '2026-11-01', '+' || (i * 7) || ' minutes') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO visits SELECT lower(hex(randomblob(16))), 'no date ' || i, NULL FROM n;
CREATE TABLE logins (id TEXT PRIMARY KEY, ip TEXT, at INTEGER);
CREATE INDEX logins_at ON logins (at);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
INSERT INTO logins SELECT lower(hex(randomblob(16))), '192.0.2.' || (i % 200), unixepoch('2026-02-01') + (i / 3) * 3600 FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 250)
INSERT INTO logins SELECT lower(hex(randomblob(16))), '192.0.2.' || (i % 200), unixepoch('2026-05-01') FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 800)
INSERT INTO logins SELECT lower(hex(randomblob(16))), '198.51.100.' || (i % 200), unixepoch('2026-11-02') + i * 60 FROM n;
`,
}

// TestWindowsOfTheRulesColumn: on tables keyed by uuids, a purge and an
// anonymisation go by windows of the rule's (indexed) column — the plan
// shows it; on MariaDB by key, which is the table's order there — and take
// every due row, with small batches so that there are many windows, and
// leave every other row as it was.
func TestWindowsOfTheRulesColumn(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		f := newFixtureSchema(t, kind, windowsSchema[kind], windowsPolicy)
		plan, err := f.engine.Plan(context.Background(), nil)
		if err != nil {
			t.Fatal(err)
		}
		for rule, col := range map[string]string{"old visits": "seen_at", "old logins": "at"} {
			rp := planOf(plan, rule)
			window := regexp.MustCompile("ORDER BY [`\"]?[a-z]+[`\"]?\\.[`\"]?" + col + "[`\"]? LIMIT 2 OFFSET")
			if len(rp.Statements) == 0 || window.MatchString(rp.Statements[0]) != (kind != "mysql") {
				t.Errorf("%s: plan %q; want batches by windows of %s except on MariaDB", rule, rp.Statements, col)
			}
		}
		const kept = "SELECT id, note, seen_at FROM visits WHERE note NOT LIKE 'due%' AND note NOT LIKE 'bulk%' ORDER BY id"
		const keptLogins = "SELECT id, ip, at FROM logins WHERE ip LIKE '198.51.100.%' ORDER BY id"
		const dueLogins = "SELECT id, at FROM logins WHERE ip LIKE '192.0.2.%' ORDER BY id"
		before, beforeLogins, beforeDue := testdb.Dump(t, f.db, kept), testdb.Dump(t, f.db, keptLogins), testdb.Dump(t, f.db, dueLogins)
		// No batch takes more rows than asked, tied rows included.
		done := map[string]int64{}
		progress := func(p retention.Progress) {
			if n := p.Done - done[p.Rule]; n > 100 {
				t.Errorf("%s: a batch of %d rows; want at most 100", p.Rule, n)
			}
			done[p.Rule] = p.Done
		}
		rep, err := f.engine.Run(context.Background(), retention.Options{Batch: 100, Progress: progress})
		if err != nil {
			t.Fatal(err)
		}
		if res := resultOf(rep, "old visits"); res.Status != retention.StatusDone || res.Rows != 2401 || res.Batches < 24 {
			t.Errorf("old visits: %+v; want 2,401 rows done in batches of 100", res)
		}
		if res := resultOf(rep, "old logins"); res.Status != retention.StatusDone || res.Rows != 1450 || res.Batches < 15 {
			t.Errorf("old logins: %+v; want 1,450 rows done in batches of 100", res)
		}
		if n := f.count(t, "SELECT count(*) FROM visits WHERE note LIKE 'due%' OR note LIKE 'bulk%'"); n != 0 {
			t.Errorf("%d due visits left", n)
		}
		if after := testdb.Dump(t, f.db, kept); after != before || strings.Count(after, "\n") != 1512 {
			t.Errorf("visits not due changed (%d rows after, want 1,512 as they were)", strings.Count(after, "\n"))
		}
		if n := f.count(t, "SELECT count(*) FROM logins WHERE ip LIKE '192.0.2.%'"); n != 0 {
			t.Errorf("%d due logins not anonymised", n)
		}
		// The anonymised rows are all there, each with its key and date.
		if got := testdb.Dump(t, f.db, "SELECT id, at FROM logins WHERE ip NOT LIKE '198.51.100.%' ORDER BY id"); got != beforeDue {
			t.Error("anonymised logins lost or changed their keys or dates")
		}
		if after := testdb.Dump(t, f.db, keptLogins); after != beforeLogins || strings.Count(after, "\n") != 800 {
			t.Errorf("logins not due changed (%d rows after, want 800 as they were)", strings.Count(after, "\n"))
		}
	})
}

// TestWindowsResume: a run that dies between windows is resumed with its
// cutoff, from the oldest row left, and the two runs together take every
// due row once.
func TestWindowsResume(t *testing.T) {
	forEachKind(t, func(t *testing.T, kind string) {
		f := newFixtureSchema(t, kind, windowsSchema[kind], windowsPolicy)
		ctx := context.Background()
		const kept = "SELECT id, note, seen_at FROM visits WHERE note NOT LIKE 'due%' AND note NOT LIKE 'bulk%' ORDER BY id"
		before := testdb.Dump(t, f.db, kept)
		crash, cancel := context.WithCancel(ctx)
		batches := 0
		rep, err := f.engine.Run(crash, retention.Options{Rules: []string{"old visits"}, Batch: 100, Progress: func(retention.Progress) {
			if batches++; batches == 3 {
				cancel()
			}
		}})
		cancel()
		if err != nil {
			t.Fatal(err)
		}
		first := resultOf(rep, "old visits")
		if first.Status != retention.StatusFailed || first.Rows == 0 || first.Rows >= 2401 {
			t.Fatalf("crashed run %+v", first)
		}
		rep, err = f.engine.Run(ctx, retention.Options{Rules: []string{"old visits"}, Batch: 100})
		if err != nil {
			t.Fatal(err)
		}
		if r := resultOf(rep, "old visits"); r.Status != retention.StatusDone || !r.Resumed || first.Rows+r.Rows != 2401 {
			t.Errorf("resumed run %+v after %d rows", r, first.Rows)
		}
		if after := testdb.Dump(t, f.db, kept); after != before {
			t.Error("visits not due changed")
		}
	})
}

// TestTimesInTwoForms: a SQLite column whose older rows hold text and
// newer ones Unix seconds (the application's writer changed). SQLite
// orders every number before every text: a text cutoff took the recent
// rows with the old ones (without an index on the column), or a numeric
// one none (with it) — each reported done. The rule is refused now, with
// what to do, and nothing is touched.
func TestTimesInTwoForms(t *testing.T) {
	t.Parallel()
	for _, indexed := range []bool{false, true} {
		t.Run(map[bool]string{false: "by key", true: "by windows"}[indexed], func(t *testing.T) {
			t.Parallel()
			ddl := `CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TIMESTAMP);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO visits SELECT 'old' || i, 'due ' || i, '2026-01-01 00:00:00' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
INSERT INTO visits SELECT 'new' || i, 'recent ' || i, unixepoch('2026-11-19') FROM n;
CREATE TABLE logins (id TEXT PRIMARY KEY, ip TEXT, at INTEGER);`
			if indexed {
				ddl += "\nCREATE INDEX visits_seen_at ON visits (seen_at);"
			}
			f := newFixtureSchema(t, "sqlite", ddl, windowsPolicy)
			const all = "SELECT id, note, seen_at FROM visits ORDER BY id"
			before := testdb.Dump(t, f.db, all)
			rep, err := f.engine.Run(context.Background(), retention.Options{Rules: []string{"old visits"}, Batch: 3})
			if err != nil {
				t.Fatal(err)
			}
			if r := resultOf(rep, "old visits"); r.Status != retention.StatusFailed || r.Rows != 0 || !strings.Contains(r.Error, "visits.seen_at holds Unix seconds and text values") {
				t.Errorf("%+v; want the rule refused, naming the column's two forms", r)
			}
			if after := testdb.Dump(t, f.db, all); after != before {
				t.Error("visits changed")
			}
		})
	}
}

// TestWindowsPassRowsABatchCannotTake: rows a keyed batch cannot take —
// 60 due logins with NULL keys (SQLite allows it), older than the rest and
// more than a batch — do not hold the windows up: the run takes every
// other due row and reports those.
func TestWindowsPassRowsABatchCannotTake(t *testing.T) {
	t.Parallel()
	ddl := windowsSchema["sqlite"] + `
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60)
INSERT INTO logins SELECT NULL, '192.0.2.250', unixepoch('2026-01-15') + i FROM n;
`
	f := newFixtureSchema(t, "sqlite", ddl, windowsPolicy)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := f.engine.Run(ctx, retention.Options{Rules: []string{"old logins"}, Batch: 50})
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "old logins"); r.Status != retention.StatusPartial || r.Rows != 1450 || !strings.Contains(r.Error, "NULL in their key") {
		t.Errorf("%+v; want 1,450 rows and the 60 with NULL keys reported", r)
	}
}

// TestTimesAsNumbers: SQLite times stored as numbers are read by their
// size, not their storage class. A TIMESTAMP column stores a Julian day at
// noon — a whole number — as an integer: read as Unix seconds, every row
// was older than the cutoff and went. Unix seconds from a float are
// reals: read as Julian days, none was, and the rule said done.
func TestTimesAsNumbers(t *testing.T) {
	t.Parallel()
	for name, values := range map[string]string{
		"julian days":           `('old', 'due', julianday('2026-01-01 03:00:00')), ('new1', 'recent', julianday('2026-11-19 08:00:00')), ('new2', 'recent', julianday('2026-11-20 12:00:00'))`,
		"unix seconds as reals": `('old', 'due', unixepoch('2026-01-01') + 0.25), ('new1', 'recent', unixepoch('2026-11-19') + 0.5), ('new2', 'recent', unixepoch('2026-11-20') + 0.5)`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ddl := `CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TIMESTAMP);
INSERT INTO visits VALUES ` + values + `;
CREATE TABLE logins (id TEXT PRIMARY KEY, ip TEXT, at INTEGER);`
			f := newFixtureSchema(t, "sqlite", ddl, windowsPolicy)
			before := testdb.Dump(t, f.db, "SELECT id, note, seen_at FROM visits WHERE id <> 'old' ORDER BY id")
			rep, err := f.engine.Run(context.Background(), retention.Options{Rules: []string{"old visits"}})
			if err != nil {
				t.Fatal(err)
			}
			if r := resultOf(rep, "old visits"); r.Status != retention.StatusDone || r.Rows != 1 {
				t.Errorf("%+v; want the one due row", r)
			}
			if after := testdb.Dump(t, f.db, "SELECT id, note, seen_at FROM visits ORDER BY id"); after != before {
				t.Errorf("visits left:\n%s\nwant the recent rows as they were:\n%s", after, before)
			}
		})
	}
}

// TestTieBehindNullKeys: a tie (more rows of one instant than a batch)
// whose first rows by key have NULL keys (SQLite allows it). A NULL key
// ended the tie's first batch, which took nothing, and the tie with it:
// its keyed rows were never taken, run after run. They are taken now, and
// the NULL-keyed ones reported.
func TestTieBehindNullKeys(t *testing.T) {
	t.Parallel()
	ddl := `CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TEXT);
CREATE INDEX visits_seen_at ON visits (seen_at);
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO visits SELECT NULL, 'null key ' || i, '2026-04-01 00:00:00' FROM n;
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO visits SELECT 'k' || i, 'keyed ' || i, '2026-04-01 00:00:00' FROM n;
INSERT INTO visits VALUES ('recent', 'kept', '2026-11-19 00:00:00');
CREATE TABLE logins (id TEXT PRIMARY KEY, ip TEXT, at INTEGER);`
	f := newFixtureSchema(t, "sqlite", ddl, windowsPolicy)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	rep, err := f.engine.Run(ctx, retention.Options{Rules: []string{"old visits"}, Batch: 10})
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "old visits"); r.Status != retention.StatusPartial || r.Rows != 30 || !strings.Contains(r.Error, "20 of them with NULL in their key") {
		t.Errorf("%+v; want the 30 keyed rows taken and the 20 with NULL keys reported", r)
	}
	if got := testdb.Dump(t, f.db, "SELECT id, note FROM visits WHERE id IS NOT NULL ORDER BY id"); got != "recent|kept\n" {
		t.Errorf("visits with keys left:\n%s; want only the recent one", got)
	}
}

// TestTimesThatMisleadAComparison: SQLite columns whose values, compared
// with a cutoff in the form of their lowest and highest, would take rows
// that are not due — Julian days hidden between a default 0 and today's
// Unix seconds, Unix seconds a TEXT column turned into text, dates with a
// space and dates with a T — are refused; and a cutoff in Julian days
// for a keep of 400 years is not an overflow that takes every row. Each
// leaves the recent rows as they were; so does a date written with a
// space on the cutoff's day among dates written with a T.
func TestTimesThatMisleadAComparison(t *testing.T) {
	t.Parallel()
	for name, c := range map[string]struct{ ddl, keep string }{
		"zero, julian days, seconds": {`CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at INTEGER NOT NULL DEFAULT 0);
CREATE INDEX visits_seen_at ON visits (seen_at);
INSERT INTO visits VALUES ('z', 'due', 0), ('old', 'due', unixepoch('2026-01-01')),
  ('jd', 'recent', julianday('2026-11-19 08:00:00')), ('new', 'recent', unixepoch('2026-11-20'));`, "30d"},
		"unix seconds in a TEXT column": {`CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TEXT);
INSERT INTO visits VALUES ('old', 'due', unixepoch('2026-01-01')), ('new', 'recent', unixepoch('2026-11-19'));`, "30d"},
		"space and T": {`CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TEXT);
INSERT INTO visits VALUES ('old', 'due', '2026-01-01 00:00:00'), ('edge', 'recent', '2026-10-21 18:00:00'), ('new', 'recent', '2026-11-19T08:00:00');`, "30d"},
		// The lowest and the highest are written with a T; on the
		// cutoff's day (2026-10-21 12:00) a date written with a space in
		// the afternoon sorts before the cutoff's T.
		"a space hidden on the cutoff's day": {`CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TEXT);
CREATE INDEX visits_seen_at ON visits (seen_at);
INSERT INTO visits VALUES ('old', 'due', '2026-01-01T00:00:00'), ('edge', 'recent', '2026-10-21 18:00:00'), ('new', 'recent', '2026-11-19T08:00:00');`, "30d"},
		"julian days, keep 400 years": {`CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TIMESTAMP);
INSERT INTO visits VALUES ('a', 'recent', julianday('2026-01-01')), ('b', 'recent', julianday('2026-11-19'));`, "400y"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ddl := c.ddl + "\nCREATE TABLE logins (id TEXT PRIMARY KEY, ip TEXT, at INTEGER);"
			f := newFixtureSchema(t, "sqlite", ddl, strings.Replace(windowsPolicy, "keep: 30d, brake", "keep: "+c.keep+", brake", 1))
			const recent = "SELECT id, note, seen_at FROM visits WHERE note = 'recent' ORDER BY id"
			before := testdb.Dump(t, f.db, recent)
			rep, err := f.engine.Run(context.Background(), retention.Options{Rules: []string{"old visits"}})
			if err != nil {
				t.Fatal(err)
			}
			r := resultOf(rep, "old visits")
			if after := testdb.Dump(t, f.db, recent); after != before {
				t.Errorf("status %s, %d rows; recent rows left:\n%s\nwant:\n%s", r.Status, r.Rows, after, before)
			}
		})
	}
}

// TestTieNullKeyHiddenByInsert: a tie's row with a NULL key, left by its
// batches, is reported even when a row the application wrote during the
// run makes up the count the run started with.
func TestTieNullKeyHiddenByInsert(t *testing.T) {
	t.Parallel()
	ddl := `CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TEXT);
CREATE INDEX visits_seen_at ON visits (seen_at);
INSERT INTO visits VALUES (NULL, 'null key', '2026-04-01 00:00:00');
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30)
INSERT INTO visits SELECT 'k' || i, 'keyed ' || i, '2026-04-01 00:00:00' FROM n;
CREATE TABLE logins (id TEXT PRIMARY KEY, ip TEXT, at INTEGER);`
	f := newFixtureSchema(t, "sqlite", ddl, windowsPolicy)
	inserted := false
	progress := func(retention.Progress) {
		if !inserted {
			inserted = true
			f.exec(t, "INSERT INTO visits VALUES ('imported', 'backdated', '2026-05-01 00:00:00')")
		}
	}
	rep, err := f.engine.Run(context.Background(), retention.Options{Rules: []string{"old visits"}, Batch: 10, Progress: progress})
	if err != nil {
		t.Fatal(err)
	}
	if r := resultOf(rep, "old visits"); r.Status != retention.StatusPartial || !strings.Contains(r.Error, "NULL in their key") {
		t.Errorf("%+v; want the row with a NULL key reported", r)
	}
}

// TestPlanOfAFailingRule: a rule that fails before its job is built (its
// column is gone) still shows its cutoff, not year 1.
func TestPlanOfAFailingRule(t *testing.T) {
	t.Parallel()
	f := newFixtureSchema(t, "sqlite", "CREATE TABLE visits (id TEXT PRIMARY KEY, note TEXT, seen_at TEXT); CREATE TABLE logins (id TEXT PRIMARY KEY, ip TEXT, at INTEGER);",
		strings.Replace(windowsPolicy, "from: seen_at", "from: gone_at", 1))
	p, err := f.engine.Plan(context.Background(), []string{"old visits"})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Rules) != 1 || p.Rules[0].Error == "" || !p.Rules[0].Cutoff.Equal(now.AddDate(0, 0, -30)) {
		t.Errorf("plan %+v; want the rule's error and its cutoff, 30 days before %s", p.Rules, now)
	}
}
