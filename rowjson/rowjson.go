// Package rowjson owns turning a database value, as database/sql scanned
// it into an any, into the JSON that an access package hands a data
// subject. It aims at fidelity: a reader of the export should see the
// value the database holds, typed as the database types it.
//
// The rules, for PostgreSQL (pgx stdlib), MySQL and MariaDB
// (go-sql-driver/mysql) and SQLite (modernc.org/sqlite):
//
//   - NULL is null.
//   - Numbers stay numbers. DECIMAL and NUMERIC, which the drivers hand
//     over as text, are written from that text, so no digit is lost; a
//     PostgreSQL real is written at its own precision. What JSON cannot
//     hold (NaN, ±Infinity) becomes the strings "NaN", "Infinity" and
//     "-Infinity". A MySQL BIT is the unsigned number of its bits.
//   - Booleans are booleans; an integer 0 or 1 in a column typed boolean
//     (SQLite BOOLEAN, MariaDB tinyint(1) when [Column.DeclaredType] says
//     so) becomes false or true.
//   - Times are RFC 3339 text in UTC, and those without a zone (PostgreSQL
//     timestamp, and the elements of a timestamp[], MySQL DATETIME) are
//     the instants they name in [Column.Location] (UTC when nil). A DATE is the RFC 3339 full-date
//     "2006-01-02". MySQL's zero dates stay "0000-00-00" and
//     "0000-00-00 00:00:00".
//   - Binary data is {"base64": "…"}, so that it is never mistaken for
//     text; so is text that is not valid UTF-8, which JSON would alter.
//   - JSON and JSONB columns are embedded as JSON, compacted; a value that
//     is not valid JSON is written as a string instead.
//   - PostgreSQL arrays are JSON arrays (nested for several dimensions)
//     whose elements follow these rules for the element type.
//   - MySQL SET values are arrays of their labels; enums are their labels.
//   - A UUID is lower-case hyphenated text.
//   - Everything else (text, inet, interval, money, time of day, …) is
//     text as the database writes it.
package rowjson

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Column describes the column a value was read from. DatabaseType is
// enough for most types; DeclaredType adds what the driver cannot tell.
type Column struct {
	// DatabaseType is sql.ColumnType.DatabaseTypeName, lower-cased:
	// "int4", "_text", "numeric", "tinyint", "decimal", "json", …
	DatabaseType string
	// Kind is the datastore: "postgres", "mysql" (also "mariadb") or
	// "sqlite".
	Kind string
	// DeclaredType is the column type as the schema declares it, as
	// connector introspection reports it ("jsonb", "text[]", "mood[]",
	// "tinyint(1)", "enum('a','b')"). It may be empty. It matters where
	// the driver's type name is not enough:
	//
	//   - MariaDB stores JSON as LONGTEXT with a json_valid CHECK, and the
	//     driver reports "text": pass "json" to embed such a column.
	//   - MySQL and MariaDB BOOLEAN is tinyint(1), reported as "tinyint":
	//     pass "tinyint(1)" (or "boolean") to write 0 and 1 as false and
	//     true.
	//   - pgx names a PostgreSQL enum or an array of enums by its type OID
	//     ("16385"): pass the declared type ("mood[]") to get an array.
	DeclaredType string
	// Location is the zone a time without one (a PostgreSQL timestamp, a
	// MySQL DATETIME) is wall time in. Nil is UTC. A MySQL TIMESTAMP is
	// read in UTC, the zone of Vow's sessions.
	Location *time.Location
}

// Append appends the JSON for v, a value database/sql scanned into an any
// from a column described by c, following the rules of the package
// comment. The common driver types (nil, bool, int64, float64, string,
// []byte, time.Time) take no reflection. An error comes only from a
// json.Marshaler of a type no driver here returns.
func Append(b []byte, v any, c Column) ([]byte, error) {
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), nil
	case bool:
		return strconv.AppendBool(b, x), nil
	case int64:
		if (x == 0 || x == 1) && c.boolean() {
			return strconv.AppendBool(b, x == 1), nil
		}
		return strconv.AppendInt(b, x, 10), nil
	case float64:
		// pgx widens real to float64; printed at that width, 1.1 would
		// come out as 1.100000023841858.
		if c.DatabaseType == "float4" && c.postgres() {
			return appendFloat(b, x, 32), nil
		}
		return appendFloat(b, x, 64), nil
	case string:
		return appendText(b, x, c), nil
	case []byte:
		return appendBytes(b, x, c), nil
	case time.Time:
		return appendTime(b, x, c), nil
	case float32:
		return appendFloat(b, float64(x), 32), nil
	case uint64: // MySQL BIGINT UNSIGNED
		return strconv.AppendUint(b, x, 10), nil
	}
	return appendOther(b, v)
}

// class is what a column's type says about how to read its values.
type class uint8

const (
	plain   class = iota // the Go type of the value decides
	numeric              // text that is a number is written as a number
	boolean              // 0 and 1 are false and true
	jsonDoc              // valid JSON text is embedded
	binary               // bytes are base64
	bits                 // MySQL BIT: big-endian bytes of an unsigned number
	pgArray              // a PostgreSQL array literal
	set                  // MySQL SET: comma-separated labels
	date                 // midnight is written as a full-date
	uuid                 // 16 bytes are formatted as a UUID
)

// classify reads c's type names. For a PostgreSQL array it also returns
// the element type, as a PostgreSQL internal name ("int4", "timestamptz").
// It runs for every text value exported, so the common names are settled
// by a switch before any searching.
func classify(c Column) (class, string) {
	db, decl := c.DatabaseType, c.declared()
	if c.postgres() {
		// pgx names array types as the catalog does, "_" and the element
		// type; for an array of a type it does not know it gives an OID,
		// and only the declared type tells.
		if len(db) > 1 && db[0] == '_' {
			return pgArray, db[1:]
		}
		if strings.HasSuffix(decl, "[]") {
			return pgArray, pgTypeName(decl)
		}
	}
	if c.mysql() {
		switch db {
		case "set":
			return set, ""
		case "bit":
			return bits, ""
		}
	}
	// The declared type first: it is how a caller says what the driver
	// cannot see (MariaDB JSON, tinyint(1)).
	switch decl {
	case "json", "jsonb":
		return jsonDoc, ""
	case "uuid":
		return uuid, ""
	}
	if isBoolType(decl) {
		return boolean, ""
	}
	switch db {
	case "json", "jsonb":
		return jsonDoc, ""
	case "bool", "boolean":
		return boolean, ""
	case "bytea", "geometry", "blob", "tinyblob", "mediumblob", "longblob", "binary", "varbinary":
		return binary, ""
	case "uuid":
		return uuid, ""
	case "date":
		return date, ""
	case "text", "varchar", "char", "bpchar", "enum", "timestamptz", "timestamp", "datetime", "time":
		return plain, ""
	}
	switch {
	case isNumericType(db) || (db == "" && isNumericType(decl)):
		return numeric, ""
	case strings.Contains(db, "blob") || strings.Contains(db, "binary"): // SQLite names as declared
		return binary, ""
	}
	return plain, ""
}

func (c Column) postgres() bool { return c.Kind == "postgres" || c.Kind == "postgresql" }
func (c Column) mysql() bool    { return c.Kind == "mysql" || c.Kind == "mariadb" }

// boolean reports whether c holds booleans as integers, without the rest
// of classify: it is asked for every 0 and 1.
func (c Column) boolean() bool {
	return isBoolType(c.DatabaseType) || isBoolType(c.declared())
}

// declared returns DeclaredType lower-cased and trimmed; the functions of
// the strings package return their argument, allocating nothing, when it
// already is.
func (c Column) declared() string {
	if c.DeclaredType == "" {
		return ""
	}
	return strings.ToLower(strings.TrimSpace(c.DeclaredType))
}

// isBoolType reports whether t names a boolean type. MySQL's BOOLEAN is
// tinyint(1), which introspection reports as such (also "tinyint(1)
// unsigned"); a plain tinyint is a number.
func isBoolType(t string) bool {
	return t == "bool" || t == "boolean" || strings.HasPrefix(t, "tinyint(1)")
}

// isNumericType reports whether t, a type name, holds numbers. It looks at
// the first word, so that "int4range", "interval" and "point" are not
// taken for numbers.
func isNumericType(t string) bool {
	end := 0
	for end < len(t) && (t[end] >= 'a' && t[end] <= 'z' || t[end] >= '0' && t[end] <= '9') {
		end++
	}
	switch t[:end] {
	case "numeric", "decimal", "dec", "fixed", "number",
		"int", "integer", "tinyint", "smallint", "mediumint", "bigint", "int2", "int4", "int8",
		"float", "float4", "float8", "double", "real", "unsigned", "year", "oid":
		return true
	}
	return false
}

// appendText appends a value that arrived as text.
func appendText(b []byte, s string, c Column) []byte {
	cl, elem := classify(c)
	switch cl {
	case pgArray:
		if arr, ok := parseArray(s, arrayDelim(elem)); ok {
			return appendArray(b, arr, elem, c.Location)
		}
	case set:
		return appendSet(b, s)
	case jsonDoc:
		if bb, ok := appendJSONText(b, []byte(s)); ok {
			return bb
		}
	case numeric:
		if isJSONNumber(s) {
			return append(b, s...)
		}
	case uuid:
		s = canonicalUUID(s)
	}
	return appendTextOrBase64(b, s)
}

// appendTextOrBase64 appends s as a string if it is valid UTF-8, and
// otherwise as base64: JSON would replace the invalid bytes, and the
// subject would not get what is stored.
func appendTextOrBase64[T string | []byte](b []byte, s T) []byte {
	n := len(b)
	b, valid := appendString(b, s)
	if !valid {
		return appendBase64(b[:n], []byte(s))
	}
	return b
}

// appendBytes appends a value that arrived as bytes: binary data, or text
// from a driver that hands text over as bytes (MySQL, PostgreSQL json).
func appendBytes(b []byte, x []byte, c Column) []byte {
	cl, _ := classify(c)
	switch cl {
	case binary:
		return appendBase64(b, x)
	case bits:
		if len(x) <= 8 {
			var n uint64
			for _, d := range x {
				n = n<<8 | uint64(d)
			}
			return strconv.AppendUint(b, n, 10)
		}
		return appendBase64(b, x)
	case uuid:
		if len(x) == 16 {
			return appendTextOrBase64(b, formatUUID(x))
		}
	case jsonDoc:
		if bb, ok := appendJSONText(b, x); ok {
			return bb
		}
	}
	// modernc.org/sqlite returns TEXT as string, so bytes are a BLOB
	// whatever the column says (a SQLite JSONB value among them).
	if c.Kind == "sqlite" {
		return appendBase64(b, x)
	}
	switch cl {
	case numeric:
		if isJSONNumber(x) {
			return append(b, x...)
		}
	case set:
		if utf8.Valid(x) {
			return appendSet(b, string(x))
		}
	case pgArray, uuid:
		if utf8.Valid(x) {
			return appendText(b, string(x), c)
		}
	}
	if c.mysql() {
		switch c.DatabaseType {
		case "date", "datetime", "timestamp":
			return appendMySQLTime(b, x, c)
		}
	}
	return appendTextOrBase64(b, x)
}

// appendMySQLTime appends a MySQL DATE, DATETIME or TIMESTAMP that the
// driver handed over as text: a DATETIME is wall time in c.Location (UTC
// when nil), a TIMESTAMP an instant the session (on UTC, see
// connector/mysql) shows in UTC; a DATE is the day it names.
func appendMySQLTime(b, x []byte, c Column) []byte {
	if bytes.HasPrefix(x, []byte("0000-00-00")) {
		return appendTime(b, time.Time{}, c)
	}
	layout, loc := time.DateTime, c.Location
	switch c.DatabaseType {
	case "date":
		layout, loc = time.DateOnly, time.UTC // a day, not an instant
	case "timestamp":
		loc = time.UTC
	}
	if loc == nil {
		loc = time.UTC
	}
	t, err := time.ParseInLocation(layout, string(x), loc)
	if err != nil {
		return appendTextOrBase64(b, x)
	}
	return appendTime(b, t, c)
}

// appendTime appends t as RFC 3339 text in UTC.
func appendTime(b []byte, t time.Time, c Column) []byte {
	if t.IsZero() && c.mysql() {
		// go-sql-driver turns MySQL's zero date, "no date", into
		// time.Time{}; year 1 would be a date nobody entered.
		if c.DatabaseType == "date" {
			return append(b, `"0000-00-00"`...)
		}
		return append(b, `"0000-00-00 00:00:00"`...)
	}
	if c.Location != nil && c.Kind == "postgres" && c.DatabaseType == "timestamp" {
		// pgx gives a timestamp without time zone as that wall time in
		// UTC.
		t = time.Date(t.Year(), t.Month(), t.Day(), t.Hour(), t.Minute(), t.Second(), t.Nanosecond(), c.Location)
	}
	t = t.UTC()
	b = append(b, '"')
	if h, m, s := t.Clock(); h == 0 && m == 0 && s == 0 && t.Nanosecond() == 0 && c.DatabaseType == "date" {
		// A date is a day, not the instant that starts it.
		b = t.AppendFormat(b, time.DateOnly)
	} else {
		b = t.AppendFormat(b, time.RFC3339Nano)
	}
	return append(b, '"')
}

// appendSet appends a MySQL SET value as an array of its labels, which
// cannot contain commas.
func appendSet(b []byte, s string) []byte {
	b = append(b, '[')
	if s != "" {
		for i, label := range strings.Split(s, ",") {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendTextOrBase64(b, label)
		}
	}
	return append(b, ']')
}

// appendJSONText appends src, compacted, if it is valid JSON (in valid
// UTF-8, which json.Valid does not check); it reports whether it did.
func appendJSONText(b, src []byte) ([]byte, bool) {
	if !utf8.Valid(src) || !json.Valid(src) {
		return b, false
	}
	return appendCompact(b, src), true
}

// appendBase64 appends {"base64": "…"}.
func appendBase64(b, x []byte) []byte {
	b = append(b, `{"base64":"`...)
	b = base64.StdEncoding.AppendEncode(b, x)
	return append(b, `"}`...)
}

// canonicalUUID lower-cases a UUID in its hyphenated form and leaves any
// other text as it is.
func canonicalUUID(s string) string {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return s
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !(c == '-' || c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return s
		}
	}
	return strings.ToLower(s)
}

// formatUUID formats 16 bytes as a hyphenated UUID.
func formatUUID(x []byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], x[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], x[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], x[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], x[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], x[10:])
	return string(buf[:])
}

// appendOther appends a value of a type none of the drivers returns
// today, so that a new driver type degrades to text, not to a failed
// export.
func appendOther(b []byte, v any) ([]byte, error) {
	if m, ok := v.(json.Marshaler); ok {
		j, err := m.MarshalJSON()
		if err != nil {
			return b, fmt.Errorf("rowjson: %T: %w", v, err)
		}
		if bb, ok := appendJSONText(b, j); ok {
			return bb, nil
		}
		return b, fmt.Errorf("rowjson: %T: MarshalJSON returned invalid JSON", v)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Bool:
		return strconv.AppendBool(b, rv.Bool()), nil
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return strconv.AppendInt(b, rv.Int(), 10), nil
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return strconv.AppendUint(b, rv.Uint(), 10), nil
	case reflect.Float32:
		return appendFloat(b, rv.Float(), 32), nil
	case reflect.Float64:
		return appendFloat(b, rv.Float(), 64), nil
	case reflect.String:
		return appendTextOrBase64(b, rv.String()), nil
	}
	return appendTextOrBase64(b, fmt.Sprint(v)), nil
}
