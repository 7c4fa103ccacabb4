package connector

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Stamped returns the columns of t that a MySQL server sets to its clock
// in the session's time zone whenever a row changes: DATETIME … ON UPDATE
// CURRENT_TIMESTAMP. Vow's sessions are on UTC, so in a statement of
// Vow's the server would stamp UTC's wall time where the application's
// sessions stamp their zone's; [Stamps] sets them instead.
func Stamped(kind string, t *Table) []*Column {
	if kind != "mysql" || t == nil {
		return nil
	}
	var out []*Column
	for i := range t.Columns {
		if c := &t.Columns[i]; c.OnUpdateNow && strings.HasPrefix(strings.ToLower(c.Type), "datetime") {
			out = append(out, c)
		}
	}
	return out
}

// Stamps returns the assignments an UPDATE of t that Vow runs adds so
// that the [Stamped] columns it does not set itself (set, compared
// without case, as MySQL compares column names) get the server's clock as
// wall time in zone, the time the application's own sessions would
// stamp. None where zone is UTC (the server's stamp is then right) or
// nil. The zone's offset is taken at now, in seconds: a run that goes
// past a change of the clocks stamps each statement by its own time.
//
// The server stamps only rows whose values change. Where the statement
// may reach rows it leaves as they are, changed is the condition that a
// row changes, on its values before the statement: each stamp is then
// IF(changed, the time, the column as it was), and the stamps must come
// first in the SET list — MySQL reads a column assigned earlier in the
// list with its new value (MariaDB too, but under SIMULTANEOUS_ASSIGNMENT),
// and a first assignment reads the old values in both. A condition that
// errs changes only the stamp: the statement's other assignments go to
// every row it reaches.
func Stamps(d Dialect, t *Table, zone *time.Location, now time.Time, changed string, set ...string) []string {
	if zone == nil || SameZone(zone, "UTC") {
		return nil
	}
	_, offset := now.In(zone).Zone()
	var out []string
	for _, c := range Stamped(d.Kind(), t) {
		if slices.ContainsFunc(set, func(s string) bool { return strings.EqualFold(s, c.Name) }) {
			continue
		}
		// NOW(p) at the column's precision: what ON UPDATE
		// CURRENT_TIMESTAMP(p) gives it.
		fsp := ""
		if open := strings.IndexByte(c.Type, '('); open >= 0 {
			fsp = strings.TrimSuffix(c.Type[open+1:], ")")
		}
		if strings.Trim(fsp, "0123456789") != "" {
			fsp = ""
		}
		col, at := d.Column(c.Name), fmt.Sprintf("NOW(%s) + INTERVAL %d SECOND", fsp, offset)
		if changed != "" {
			at = "IF(" + changed + ", " + at + ", " + col + ")"
		}
		out = append(out, col+" = "+at)
	}
	return out
}

// StampPrefix returns [Stamps] as the start of a SET list (each followed
// by ", "), with changed's arguments once for each stamp (none where
// changed is ""); "" and nil where there are none.
func StampPrefix(d Dialect, t *Table, zone *time.Location, now time.Time, changed string, args []any, set ...string) (string, []any) {
	stamps := Stamps(d, t, zone, now, changed, set...)
	if len(stamps) == 0 {
		return "", nil
	}
	if changed == "" {
		args = nil
	}
	var out []any
	for range stamps {
		out = append(out, args...)
	}
	return strings.Join(stamps, ", ") + ", ", out
}

// Differs is the condition, for a stamp's changed (MySQL), that assigning
// value (SQL: a parameter or an expression of one) to col changes the
// bytes it stores: col's bytes against value's in col's character set,
// which is what the server compares — 'Dan' differs from 'dan' whatever
// the collation says, and a latin1 column holding the UTF-8 bytes of é
// differs from é. quoted is col as SQL. Where it errs, it says a value
// differs that does not (a row stamped that did not change).
func Differs(col *Column, quoted, value string) string {
	if cs, _, _ := strings.Cut(col.Collation, "_"); cs != "" && strings.Trim(cs, "abcdefghijklmnopqrstuvwxyz0123456789") == "" {
		value = "CONVERT(" + value + " USING " + cs + ")"
	}
	return "NOT (CAST(" + quoted + " AS BINARY) <=> CAST(" + value + " AS BINARY))"
}
