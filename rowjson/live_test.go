package rowjson

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gomysql "github.com/go-sql-driver/mysql"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/internal/testdb"
)

// firstUserOID is PostgreSQL's FirstNormalObjectId: OIDs below it are
// the built-in types', the same in every database.
const firstUserOID = 16384

var update = flag.Bool("update", false, "rewrite testdata/*.golden.json from the databases")

// The live tests make a table with a column of each type, fill it with
// ordinary and awkward values and a row of NULLs, read it back as the
// export does and compare the JSON with testdata/<kind>.golden.json. The
// golden files also record the DatabaseTypeName each type reports.

func TestPostgresGolden(t *testing.T) {
	dsn := testdb.Postgres(t)
	testdb.Exec(t, "postgres", dsn, `
CREATE TYPE mood AS ENUM ('happy', 'sad, "very"', 'ünï{c}ode');
CREATE TABLE t (
	id int PRIMARY KEY,
	c_smallint smallint, c_integer integer, c_bigint bigint, c_numeric numeric, c_numeric_scale numeric(40,3),
	c_real real, c_double double precision, c_boolean boolean,
	c_text text, c_varchar varchar(40), c_char char(4), c_bytea bytea, c_uuid uuid,
	c_json json, c_jsonb jsonb,
	c_date date, c_time time, c_timetz timetz, c_timestamp timestamp(3), c_timestamptz timestamptz, c_interval interval,
	c_inet inet, c_cidr cidr, c_macaddr macaddr, c_money money, c_enum mood, c_xml xml,
	c_bit bit(3), c_varbit varbit, c_point point, c_int4range int4range, c_tsvector tsvector, c_oid oid,
	a_text text[], a_int int[], a_int_2d int[][], a_bigint bigint[], a_numeric numeric[], a_float8 float8[], a_real real[],
	a_boolean boolean[], a_uuid uuid[], a_json json[], a_jsonb jsonb[], a_enum mood[], a_timestamptz timestamptz[],
	a_timestamp timestamp[], a_date date[], a_bytea bytea[], a_varchar varchar(8)[], a_box box[], a_inet inet[]
);
SET TIME ZONE 'Europe/Paris';
INSERT INTO t VALUES (1,
	1, 2, 3, 4.5, 6.000, 1.1, 2.5, true,
	'héllo', 'v', 'ab', '\x00ff', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11',
	'{"a": "é", "b": [1, 2]}', '{"name": "Jane", "tags": ["x"]}',
	'2024-01-02', '03:04:05', '03:04:05+02', '2024-01-02 03:04:05.123', '2024-01-02 03:04:05+02', '1 day 02:00:00',
	'192.168.0.1/24', '10.0.0.0/8', '08:00:2b:01:02:03', 12.34, 'happy', '<a>x</a>',
	B'101', B'10', '(1,2)', '[1,5)', 'a fat cat', 42,
	'{a,b}', '{1,2,3}', '{{1,2},{3,4}}', '{9007199254740993}', '{1.5,2}', '{1.5,2.25}', '{1.1}',
	'{t,f}', '{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}', ARRAY['{"a": 1}'::json], ARRAY['{"a": 1}'::jsonb], '{happy,"sad, \"very\""}',
	'{"2024-01-02 03:04:05+02"}', '{"2024-01-02 03:04:05.5"}', '{2024-01-02}', ARRAY['\x00ff'::bytea], '{abc}', ARRAY[box '((1,1),(0,0))', box '((3,3),(2,2))'], '{::1,10.0.0.1}'
);
INSERT INTO t VALUES (2,
	-32768, -2147483648, 9223372036854775807, 12345678901234567890.123, -0.001, 'NaN', 'Infinity', false,
	E'quote " backslash \\ newline \n tab \t <script>&amp; \u2028 emoji \U0001F600 nul-free', '', '', '', '00000000-0000-0000-0000-000000000000',
	'{"nested": {"deeper": {"list": [1, 2.50, 1e400, null, true, "\u00e9\ud83d\ude00"]}}, "dup": 1, "dup": 2}', '"just a string"',
	'infinity', '24:00:00', '00:00:00-14:59', '-infinity', '1970-01-01 00:00:00.000001+00', '-1 year -2 mons +3 days -04:05:06.7',
	'::ffff:1.2.3.4', '2001:db8::/32', 'ff:ff:ff:ff:ff:ff', -0.01, 'sad, "very"', '<?xml version="1.0"?><r a="&amp;"/>',
	B'000', B'', '(-1.5,1e+30)', 'empty', 'x:1 y:2', 4294967295,
	ARRAY['a', 'b,c', 'd"e', NULL, 'NULL', 'null', '', 'x\y', ' s ', '{}', 'é日本', E'new\nline', 'semi;colon'],
	'{NULL,NULL}', '{{{1,NULL},{3,4}},{{5,6},{7,8}}}', '[0:2]={-1,0,1}', '{NaN,Infinity,-Infinity,-0.000,12345678901234567890.123}',
	'{NaN,Infinity,-Infinity,1e-7,-0}', '{3.4028235e+38,1e-45}',
	'{}', '{NULL}', ARRAY['"s"'::json, 'null'::json, NULL, '[1, {"a": "é"}]'::json], ARRAY['{"nested": {"k": [true, false]}}'::jsonb, '12.50'::jsonb],
	ARRAY['ünï{c}ode'::mood, 'sad, "very"', NULL],
	'{infinity,-infinity,"1999-12-31 23:59:59.999999+00"}', '{infinity,"2000-02-29 12:00:00"}', '{infinity,"0044-03-15 BC"}',
	ARRAY[''::bytea, '\x'::bytea, NULL, '\x5c22'::bytea], '{"a b","a,b","a\"b"}', '{}', '{}'
);
INSERT INTO t (id) VALUES (3);
`)
	golden(t, "postgres", []string{dsn}, nil)
}

func TestMariaDBGolden(t *testing.T) {
	dsn := testdb.MySQL(t)
	db, err := sql.Open("mysql", dsn)
	if err != nil {
		t.Fatal(err)
	}
	var version string
	err = db.QueryRowContext(t.Context(), "SELECT VERSION()").Scan(&version)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(version, "MariaDB") {
		t.Skipf("the golden file is MariaDB's (UUID and INET types, JSON as LONGTEXT); the server is MySQL %s", version)
	}
	testdb.Exec(t, "mysql", dsn, `
SET SESSION sql_mode = 'NO_ENGINE_SUBSTITUTION';
SET SESSION time_zone = '+00:00';
CREATE TABLE t (
	id int PRIMARY KEY,
	c_tinyint1 tinyint(1), c_boolean boolean, c_tinyint tinyint, c_smallint smallint, c_mediumint mediumint, c_int int,
	c_bigint bigint, c_bigint_unsigned bigint unsigned, c_decimal decimal(40,3), c_float float, c_double double,
	c_bit bit(3), c_bit64 bit(64), c_char char(4), c_varchar varchar(40), c_text text, c_longtext longtext,
	c_json json, c_json_checked longtext CHECK (json_valid(c_json_checked)),
	c_blob blob, c_binary binary(2), c_varbinary varbinary(8),
	c_enum enum('happy','sad, "very"','ünïcode'), c_set set('x','y','z z'),
	c_date date, c_time time(3), c_datetime datetime(3), c_timestamp timestamp(6) NULL, c_year year,
	c_uuid uuid, c_inet6 inet6, c_inet4 inet4, c_point point
);
INSERT INTO t VALUES (1,
	1, 0, 5, 6, 7, 8, 9, 18446744073709551615, 4.5, 1.1, 2.5,
	b'101', b'1111111111111111111111111111111111111111111111111111111111111111', 'ab', 'v', 'héllo', 'lt',
	'{"a": "é", "b": [1, 2]}', '[1, "x"]',
	x'00ff', x'0102', x'0a0b',
	'happy', 'x,z z',
	'2024-01-02', '03:04:05.5', '2024-01-02 03:04:05.123', '2024-01-02 03:04:05.000006', 2024,
	'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11', '::1', '10.0.0.1', POINT(1, 2)
);
INSERT INTO t VALUES (2,
	5, 1, -128, -32768, -8388608, -2147483648, -9223372036854775808, 0, 12345678901234567890.123, -3.4e38, 1e-300,
	b'0', b'0', '', '', 'quote " backslash \\ newline \n tab \t <script>&amp; emoji 😀', '{"looks": "like json"}',
	'{"nested": {"deeper": {"list": [1, 2.50, null, true, "\\u00e9😀"]}}, "dup": 1, "dup": 2}', '"just a string"',
	'', '', '',
	'sad, "very"', '',
	'0000-00-00', '-838:59:59', '0000-00-00 00:00:00', NULL, 1901,
	'00000000-0000-0000-0000-000000000000', '2001:db8::1', '255.255.255.255', ST_GeomFromText('POINT(-1.5 1e30)')
);
INSERT INTO t (id) VALUES (3);
`)
	// TIMESTAMP is read in the session's time zone, so the golden file
	// holds only in UTC.
	cfg, err := gomysql.ParseDSN(dsn)
	if err != nil {
		t.Fatal(err)
	}
	cfg.Params = map[string]string{"time_zone": "'+00:00'"}
	// Without parseTime=true, as DSNs usually are, the driver hands times
	// over as text; with it, as time.Time. The JSON must not differ.
	withTime := cfg.FormatDSN()
	cfg.ParseTime = false
	golden(t, "mysql", []string{withTime, cfg.FormatDSN()}, func(ctx context.Context, c connector.SQL, decl map[string]string) {
		// What a caller has to do for MariaDB JSON: its columns are
		// LONGTEXT with a json_valid CHECK that bears the column's name.
		rows, err := c.DB().QueryContext(ctx, `SELECT CONSTRAINT_NAME FROM information_schema.CHECK_CONSTRAINTS
			WHERE CONSTRAINT_SCHEMA = DATABASE() AND TABLE_NAME = 't' AND LEVEL = 'Column'
			AND CHECK_CLAUSE = CONCAT('json_valid(`+"`"+`', CONSTRAINT_NAME, '`+"`"+`)')`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var col string
			if err := rows.Scan(&col); err != nil {
				t.Fatal(err)
			}
			decl[col] = "json"
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	})
}

func TestSQLiteGolden(t *testing.T) {
	dsn := testdb.SQLite(t)
	testdb.Exec(t, "sqlite", dsn, `
CREATE TABLE t (
	id integer PRIMARY KEY,
	c_integer integer, c_int INT, c_bigint bigint, c_real real, c_double double, c_float float,
	c_decimal decimal(10,2), c_numeric numeric, c_boolean boolean,
	c_text text, c_varchar varchar(40), c_blob blob, c_json json, c_jsonb jsonb,
	c_date date, c_datetime datetime, c_timestamp timestamp, c_untyped, c_uuid uuid
);
INSERT INTO t VALUES (1,
	1, 2, 3, 1.5, 2.5, 1.1,
	4.5, '12.50', 1,
	'héllo', 'v', x'00ff', '{"a": "é", "b": [1, 2]}', jsonb('{"a": 1}'),
	'2024-01-02', '2024-01-02 03:04:05', '2024-01-02T03:04:05.123+02:00', 'text in no type', 'A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11'
);
INSERT INTO t VALUES (2,
	-9223372036854775808, 'not a number', 9223372036854775807, 1e308, -0.0, 1e-7,
	12345678901234567890.123, 'abc', 0,
	'quote " backslash \ newline
 tab	 <script>&amp; emoji 😀', CAST(x'61ff62' AS TEXT), x'', '{"nested": {"deeper": {"list": [1, 2.50, 1e400, null, true, "\u00e9"]}}}', '{not json}',
	'not a date', '2024-01-02 00:00:00', 'yesterday', x'01', x'a0eebc999c0b4ef8bb6d6bb9bd380a11'
);
INSERT INTO t (id) VALUES (3);
`)
	golden(t, "sqlite", []string{dsn}, nil)
}

// golden reads table t of the database as the access export does,
// converts its rows and compares them with testdata/<kind>.golden.json.
// Each of dsns, DSNs of the same database, must read the same. The
// declared types come from connector introspection; more, if given, adds
// what the caller must find out itself.
func golden(t *testing.T, kind string, dsns []string, more func(context.Context, connector.SQL, map[string]string)) {
	t.Helper()
	var out []byte
	for _, dsn := range dsns {
		got := readAll(t, kind, dsn, more)
		if out == nil {
			out = got
		} else if !bytes.Equal(got, out) {
			t.Errorf("%s reads differently:\n%s\nthan %s:\n%s", connector.RedactDSN(dsn), got, connector.RedactDSN(dsns[0]), out)
		}
	}

	path := filepath.Join("testdata", kind+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./rowjson -run %s -update to write it)", err, t.Name())
	}
	if !bytes.Equal(out, want) {
		t.Errorf("%s differs (go test ./rowjson -run %s -update rewrites it); got:\n%s", path, t.Name(), out)
	}
}

// readAll reads table t at dsn with readTable, with and without query
// arguments: the export passes the subject's identifiers as arguments,
// which for MySQL means the binary protocol, and without them MySQL uses
// the text protocol. Both must give the same JSON.
func readAll(t *testing.T, kind, dsn string, more func(context.Context, connector.SQL, map[string]string)) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	c, err := datastore.OpenDSN(ctx, kind, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	schema, err := c.Introspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	decl := map[string]string{}
	for _, col := range schema.Table("t").Columns {
		decl[col.Name] = col.Type
	}
	if more != nil {
		more(ctx, c, decl)
	}
	binary := readTable(t, ctx, c, kind, "SELECT * FROM t WHERE id > "+c.Dialect().Param(1)+" ORDER BY id", []any{0}, decl)
	text := readTable(t, ctx, c, kind, "SELECT * FROM t WHERE id > 0 ORDER BY id", nil, decl)
	if !bytes.Equal(text, binary) {
		t.Errorf("without arguments the rows read differently:\n%s\nwith arguments:\n%s", text, binary)
	}
	return binary
}

// readTable runs q and returns, indented, {"columns": […], "rows": […]},
// each row converted with Append after a Scan into []any, as exportStep
// scans.
func readTable(t *testing.T, ctx context.Context, c connector.SQL, kind, q string, args []any, decl map[string]string) []byte {
	t.Helper()
	rows, err := c.DB().QueryContext(ctx, q, args...)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	cts, err := rows.ColumnTypes()
	if err != nil {
		t.Fatal(err)
	}
	type columnDoc struct {
		Name         string `json:"name"`
		DatabaseType string `json:"database_type"`
		DeclaredType string `json:"declared_type"`
	}
	cols := make([]Column, len(cts))
	docs := make([]columnDoc, len(cts))
	for i, ct := range cts {
		cols[i] = Column{DatabaseType: strings.ToLower(ct.DatabaseTypeName()), Kind: kind, DeclaredType: decl[ct.Name()]}
		docs[i] = columnDoc{ct.Name(), cols[i].DatabaseType, cols[i].DeclaredType}
		// pgx names a type it does not know by its OID, which for a type
		// the test creates changes from one database to the next.
		if oid, err := strconv.Atoi(docs[i].DatabaseType); err == nil && oid >= firstUserOID {
			docs[i].DatabaseType = "(OID of the type)"
		}
	}
	head, err := json.Marshal(docs)
	if err != nil {
		t.Fatal(err)
	}
	b := append([]byte(`{"columns":`), head...)
	b = append(b, `,"rows":[`...)
	vals := make([]any, len(cts))
	ptrs := make([]any, len(cts))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for n := 0; rows.Next(); n++ {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		for i, ct := range cts {
			if i > 0 {
				b = append(b, ',')
			}
			b, _ = appendString(b, ct.Name())
			b = append(b, ':')
			if b, err = Append(b, vals[i], cols[i]); err != nil {
				t.Fatalf("%s: %v", ct.Name(), err)
			}
		}
		b = append(b, '}')
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	b = append(b, "]}"...)
	var ind bytes.Buffer
	if err := json.Indent(&ind, b, "", "  "); err != nil {
		t.Fatalf("the rows are not JSON: %v\n%s", err, b)
	}
	ind.WriteByte('\n')
	return ind.Bytes()
}
