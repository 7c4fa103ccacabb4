package scan_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/scan"
)

var kinds = []string{"sqlite", "postgres", "mysql"}

// rows builds an INSERT of n rows from row(i), in statements of 500.
func rows(table, cols string, n int, row func(i int) string) string {
	var b strings.Builder
	for i := 0; i < n; i++ {
		if i%500 == 0 {
			if i > 0 {
				b.WriteString(";\n")
			}
			fmt.Fprintf(&b, "INSERT INTO %s (%s) VALUES ", table, cols)
		} else {
			b.WriteString(", ")
		}
		b.WriteString("(" + row(i) + ")")
	}
	b.WriteString(";\n")
	return b.String()
}

func open(t *testing.T, kind, dsn string) connector.SQL {
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := datastore.OpenDSN(ctx, kind, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// TestSampling: a sample is bounded and chosen as each database allows; a
// full scan reads every row, in batches, whatever the key (integer,
// composite text, none); text columns are scanned, numbers and dates not.
func TestSampling(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.New(t, kind)
			script := `CREATE TABLE contacts (id INTEGER PRIMARY KEY, email VARCHAR(200), amount INTEGER, seen TIMESTAMP);
CREATE TABLE pairs (team VARCHAR(20) NOT NULL, member VARCHAR(20) NOT NULL, note TEXT, PRIMARY KEY (team, member));
CREATE TABLE loose (line TEXT);
` + rows("contacts", "id, email, amount, seen", 5000, func(i int) string {
				return fmt.Sprintf("%d, 'person%d@example.com', %d, '2026-01-02 03:04:05'", i*3+1, i, i)
			}) + rows("pairs", "team, member, note", 1200, func(i int) string {
				return fmt.Sprintf("'t%03d', 'm%04d', 'call +44 20 7946 %04d'", i%7, i, i)
			}) + rows("loose", "line", 1500, func(i int) string {
				return fmt.Sprintf("'login ok ip=203.0.113.%d'", i%250+1)
			})
			if kind == "postgres" {
				script += "ANALYZE;" // the estimate TABLESAMPLE's share is computed from
			}
			testdb.Exec(t, kind, dsn, script)
			c := open(t, kind, dsn)
			schema, err := c.Introspect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			get := func(name string) *connector.Table {
				tb := schema.Table(name)
				if tb == nil {
					t.Fatalf("no table %s", name)
				}
				return tb
			}

			rt, err := scan.ScanTable(t.Context(), c, get("contacts"), scan.Options{Sample: 1000, Batch: 200})
			if err != nil {
				t.Fatal(err)
			}
			wantMethod := map[string]string{"postgres": "TABLESAMPLE", "mysql": "windows of the key", "sqlite": "windows of the key"}[kind]
			// The table is not counted whole: past the sample, the estimate
			// is the database's (none on SQLite).
			if !strings.Contains(rt.Method, wantMethod) || rt.Rows > 1000 || rt.Estimate <= 1000 {
				t.Errorf("sample: %q, %d rows of %d; want %s, at most 1000 rows", rt.Method, rt.Rows, rt.Estimate, wantMethod)
			}
			if kind != "postgres" && rt.Rows < 500 {
				// TABLESAMPLE picks pages at random and may come up short
				// on a small table; key windows do not.
				t.Errorf("sample read %d rows; want close to 1000", rt.Rows)
			}
			if len(rt.Columns) != 1 || rt.Columns[0].Name != "email" {
				t.Fatalf("scanned columns %+v; want only the text column email", rt.Columns)
			}
			if rt.Rows > 0 && !found(rt.Columns[0], "user.contact.email", rt.Rows) {
				t.Errorf("emails not found in every sampled value: %+v", rt.Columns[0])
			}

			rt, err = scan.ScanTable(t.Context(), c, get("contacts"), scan.Options{Full: true, Batch: 700})
			if err != nil || rt.Rows != 5000 || !found(rt.Columns[0], "user.contact.email", 5000) {
				t.Errorf("full scan: %d rows, %v, %+v; want all 5000 rows, every one an email", rt.Rows, err, rt.Columns)
			}
			rt, err = scan.ScanTable(t.Context(), c, get("pairs"), scan.Options{Full: true, Batch: 100})
			if err != nil || rt.Rows != 1200 {
				t.Errorf("full scan by a composite text key: %d rows, %v; want 1200", rt.Rows, err)
			}
			var phones bool
			for _, col := range rt.Columns {
				if col.Name == "note" {
					phones = found(col, "user.contact.phone_number", 1200)
				}
			}
			if !phones {
				t.Errorf("phone numbers in free text not found: %+v", rt.Columns)
			}
			// Without a key, SQLite pages by rowid and PostgreSQL by ctid.
			wantMethod = map[string]string{"postgres": "the first rows by key", "mysql": "the first rows", "sqlite": "2 windows of the key"}[kind]
			rt, err = scan.ScanTable(t.Context(), c, get("loose"), scan.Options{Sample: 1000, Batch: 500})
			// Windows at random offsets may end short of the sample.
			rowsOK := rt.Rows == 1000 || kind == "sqlite" && rt.Rows >= 500 && rt.Rows <= 1000
			if err != nil || !rowsOK || rt.Method != wantMethod || !found(rt.Columns[0], "user.device.ip_address", rt.Rows) {
				t.Errorf("a table without a key: %q, %d rows, %v, %+v; want %s, 1000 rows, each with an IP address", rt.Method, rt.Rows, err, rt.Columns, wantMethod)
			}
		})
	}
}

// found reports whether a column has a finding of category in n values.
func found(c scan.Column, category string, n int) bool {
	for _, f := range c.Findings {
		if f.Category == category && f.Matched == n && f.Values == n {
			return true
		}
	}
	return false
}

func TestScannable(t *testing.T) {
	for typ, want := range map[string]bool{
		"text": true, "varchar(255)": true, "character varying": true, "jsonb": true, "json": true, "longtext": true,
		"bytea": true, "blob": true, "varbinary(64)": true, "inet": true, "": true, "enum('a','b')": true, "citext": true,
		"integer": false, "bigint": false, "timestamp with time zone": false, "uuid": false, "boolean": false,
		"numeric(10,2)": false, "double precision": false, "date": false, "tinyint(1)": false,
	} {
		if got := scan.Scannable(typ); got != want {
			t.Errorf("Scannable(%q) = %v, want %v", typ, got, want)
		}
	}
}

// TestFullScanReadsEveryRowOnce: keys whose values do not come back as
// stored (SQLite DATETIME text), NULL in a SQLite primary key, and tables
// without a key are read whole, each row once, in batches.
func TestFullScanReadsEveryRowOnce(t *testing.T) {
	t.Parallel()
	cases := []struct {
		kind, script, table string
		rows                int
	}{
		{"sqlite", `CREATE TABLE events (ts DATETIME, n INTEGER, v TEXT, PRIMARY KEY (ts, n));` +
			rows("events", "ts, n, v", 50, func(i int) string {
				return fmt.Sprintf("'2024-01-%02dT00:00:00Z', %d, 'a%d@example.com'", 1+i/10, i%10, i)
			}), "events", 50},
		{"sqlite", `CREATE TABLE tags (name TEXT PRIMARY KEY, v TEXT);
INSERT INTO tags VALUES (NULL, 'x@example.com'), (NULL, 'y@example.com'), (NULL, 'z@example.com'), ('a', 'a@example.com'), ('b', 'b@example.com');`, "tags", 5},
		{"postgres", `CREATE TABLE loose (v text);` + rows("loose", "v", 1234, func(i int) string { return fmt.Sprintf("'p%d@example.com'", i) }), "loose", 1234},
		{"mysql", `CREATE TABLE loose (v text);` + rows("loose", "v", 1234, func(i int) string { return fmt.Sprintf("'p%d@example.com'", i) }), "loose", 1234},
		// A domain over text is text: it was not scanned.
		{"postgres", `CREATE DOMAIN email_t AS text; CREATE TABLE contacts (id bigint PRIMARY KEY, v email_t);` +
			rows("contacts", "id, v", 20, func(i int) string { return fmt.Sprintf("%d, 'c%d@example.com'", i, i) }), "contacts", 20},
	}
	for _, tc := range cases {
		t.Run(tc.kind+"/"+tc.table, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.New(t, tc.kind)
			testdb.Exec(t, tc.kind, dsn, tc.script)
			c := open(t, tc.kind, dsn)
			schema, err := c.Introspect(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
			defer cancel()
			rt, err := scan.ScanTable(ctx, c, schema.Table(tc.table), scan.Options{Full: true, Batch: 4})
			if err != nil || rt.Rows != tc.rows || !found(rt.Columns[len(rt.Columns)-1], "user.contact.email", tc.rows) {
				t.Errorf("full scan: %d rows (%v), %+v; want each of %d rows once", rt.Rows, err, rt.Columns, tc.rows)
			}
		})
	}
}
