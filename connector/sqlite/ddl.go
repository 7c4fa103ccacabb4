package sqlite

import (
	"slices"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/connector/internal/sqltext"
)

// SQLite keeps CHECK constraints and index expressions only in the text
// of the CREATE statements in sqlite_master (which it keeps up to date
// through ALTER TABLE), so they are read from there.

// indexTerms returns the key terms of the CREATE INDEX statement
// createSQL in the form of [connector.Index], without collation or sort
// order, with column names spelled by column. It returns nil if the
// statement cannot be read.
func indexTerms(createSQL string, column sqltext.Resolver) []string {
	toks := sqltext.Tokenize(createSQL, sqltext.SQLite)
	// The terms are the first parenthesis after ON table.
	on := slices.IndexFunc(toks, func(tok sqltext.Token) bool { return tok.Is("on") })
	if on < 0 {
		return nil
	}
	open := slices.IndexFunc(toks[on:], func(tok sqltext.Token) bool { return tok.Is("(") })
	if open < 0 {
		return nil
	}
	open += on
	end := sqltext.Close(toks, open)
	if end < 0 {
		return nil
	}
	var terms []string
	for _, term := range sqltext.Split(toks[open+1 : end]) {
		if n := len(term); n > 1 && (term[n-1].Is("asc") || term[n-1].Is("desc")) {
			term = term[:n-1]
		}
		if n := len(term); n > 2 && term[n-2].Is("collate") {
			term = term[:n-2]
		}
		terms = append(terms, sqltext.Format(sqltext.Unwrap(term), column))
	}
	return terms
}

// tableConstraint reports whether a definition in CREATE TABLE starting
// with tok is a table constraint rather than a column.
func tableConstraint(tok sqltext.Token) bool {
	for _, w := range []string{"constraint", "primary", "unique", "check", "foreign"} {
		if tok.Is(w) {
			return true
		}
	}
	return false
}

// constraintStarts are the words that start a column constraint other
// than CHECK; a CONSTRAINT name before one of them is not a check's.
var constraintStarts = []string{"primary", "not", "null", "unique", "default", "collate", "references", "generated", "as"}

// tableChecks returns the CHECK constraints of the CREATE TABLE statement
// createSQL on table t (whose columns are read). A check in a column
// definition names its column; the columns of any check are also those
// whose names appear in its condition.
func tableChecks(createSQL string, t *connector.Table) []connector.Check {
	toks := sqltext.Tokenize(createSQL, sqltext.SQLite)
	open := slices.IndexFunc(toks, func(tok sqltext.Token) bool { return tok.Is("(") })
	if open < 0 {
		return nil
	}
	end := sqltext.Close(toks, open)
	if end < 0 {
		return nil
	}
	cols := t.ColumnNames()
	column := sqltext.Names(cols)
	var checks []connector.Check
	for _, def := range sqltext.Split(toks[open+1 : end]) {
		if len(def) == 0 {
			continue
		}
		var own []sqltext.Token // the column a column definition declares
		start := 0
		if !tableConstraint(def[0]) {
			own, start = def[:1], 1
		}
		name := ""
	scan:
		for i := start; i < len(def); i++ {
			switch tok := def[i]; {
			case tok.Is("constraint") && i+1 < len(def):
				i++
				name = def[i].Text
			case tok.Is("check") && i+1 < len(def) && def[i+1].Is("("):
				end := sqltext.Close(def, i+1)
				if end < 0 {
					break scan
				}
				cond := def[i+2 : end]
				checks = append(checks, connector.Check{
					Name:    name,
					Expr:    sqltext.Format(sqltext.Unwrap(cond), column),
					Columns: sqltext.Columns(append(slices.Clip(cond), own...), cols),
				})
				name, i = "", end
			case tok.Is("(") || tok.Is("["):
				// A type's size, a DEFAULT or generated expression, a
				// REFERENCES column list: nothing to read inside.
				end := sqltext.Close(def, i)
				if end < 0 {
					break scan
				}
				i = end
			case slices.ContainsFunc(constraintStarts, tok.Is):
				name = ""
			}
		}
	}
	return checks
}
