package connector

import (
	"strconv"
	"strings"
)

// Dialect holds what differs between SQL databases when Vow writes its own
// statements: how identifiers are quoted and how parameters are written.
// The zero value is not valid; use [DialectOf].
type Dialect struct {
	kind string
}

// DialectOf returns the dialect of a datastore kind ("postgres", "mysql"
// or "sqlite"). An unknown kind gets SQLite's, which is also standard SQL.
func DialectOf(kind string) Dialect {
	switch kind {
	case "postgres", "mysql":
		return Dialect{kind: kind}
	case "mariadb":
		return Dialect{kind: "mysql"}
	}
	return Dialect{kind: "sqlite"}
}

// Kind is "postgres", "mysql" or "sqlite".
func (d Dialect) Kind() string { return d.kind }

// Ident quotes an identifier. A name "schema.table" is quoted part by
// part, as the connectors name tables outside the default schema that way;
// quote characters inside a part are doubled, so no name can break out of
// its quotes.
func (d Dialect) Ident(name string) string {
	q := `"`
	if d.kind == "mysql" {
		q = "`"
	}
	parts := strings.Split(name, ".")
	for i, p := range parts {
		parts[i] = q + strings.ReplaceAll(p, q, q+q) + q
	}
	return strings.Join(parts, ".")
}

// Column quotes a column name. Unlike [Dialect.Ident] it never splits on
// dots: a column name is one identifier.
func (d Dialect) Column(name string) string {
	q := `"`
	if d.kind == "mysql" {
		q = "`"
	}
	return q + strings.ReplaceAll(name, q, q+q) + q
}

// AsStored writes a column expression (quoted: "c", "t"."c") as an item
// of a SELECT list whose values are read back as keys and given to the
// database again. On SQLite that is +expr: the driver turns the text of a
// column declared DATE, DATETIME or TIMESTAMP into a time, which
// goes back as other text ("2026-01-01 00:00:00+00:00" for the row's
// "2026-01-01 00:00:00") and matches nothing; an expression has no
// declared type, so the driver hands over what the row holds. Elsewhere
// it is expr (MariaDB's connector reads times as text: see its Open).
func (d Dialect) AsStored(expr string) string {
	if d.kind == "sqlite" {
		return "+" + expr
	}
	return expr
}

// Param returns the placeholder of the n-th (1-based) statement parameter:
// $n on PostgreSQL, ? elsewhere.
func (d Dialect) Param(n int) string {
	if d.kind == "postgres" {
		return "$" + strconv.Itoa(n)
	}
	return "?"
}

// MaxParams is the most parameters one statement may carry: 65,535 on
// PostgreSQL (the protocol counts them in 16 bits) and MariaDB, 32,766 on
// SQLite (SQLITE_MAX_VARIABLE_NUMBER's default).
func (d Dialect) MaxParams() int {
	if d.kind == "sqlite" {
		return 32_766
	}
	return 65_535
}

// Params returns n placeholders starting at parameter first, joined by
// ", ", for IN lists and VALUES tuples.
func (d Dialect) Params(first, n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(d.Param(first + i))
	}
	return b.String()
}

// Rebind turns the ? placeholders of q into $1, $2, … on PostgreSQL,
// leaving quoted literals and identifiers alone; elsewhere q is returned
// as it is. It is for statements written with ? for every database.
func (d Dialect) Rebind(q string) string {
	if d.kind != "postgres" {
		return q
	}
	// Bytes, not runes: a condition is passed through byte for byte,
	// whatever its encoding.
	var b strings.Builder
	n := 0
	var quote byte
	for i := 0; i < len(q); i++ {
		c := q[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
