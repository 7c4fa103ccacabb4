package dsr

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
)

// Rows a request changes get, in the DATETIME columns the server stamps
// ON UPDATE CURRENT_TIMESTAMP, the application's time rather than the
// UTC wall time Vow's sessions would give them (connector.Stamps).

// stampZone returns the zone of a system's wall times where its table has
// columns the server stamps on update (connector.Stamped), nil where it
// has none. Where the zone is not known it fails: it is called for every
// table a request rewrites before the first system changes.
func (s *Service) stampZone(ctx context.Context, cs *conns, system, table string) (*time.Location, error) {
	lt, err := s.liveTable(ctx, cs, system, table)
	if err != nil {
		return nil, err
	}
	c, err := cs.get(ctx, system)
	if err != nil {
		return nil, err
	}
	cols := connector.Stamped(c.Dialect().Kind(), lt)
	if len(cols) == 0 {
		return nil, nil
	}
	zone, err := cs.zone(ctx, system)
	if err != nil {
		if inner := errors.Unwrap(err); inner != nil {
			err = inner // without cs.zone's "dsr: system …:"
		}
		return nil, fmt.Errorf("dsr: %s:%s.%s is a DATETIME the server sets ON UPDATE CURRENT_TIMESTAMP in the session's time zone, and Vow's sessions are on UTC; to give the rows it changes the application's time there Vow needs the zone (declare systems.%s.time_zone): %w", system, table, cols[0].Name, system, err)
	}
	return zone, nil
}

// masks reports whether an erasure rewrites columns of the step's rows
// it keeps (nullify, set, hmac): a table the erasure deletes is not
// rewritten, but a mention's columns are.
func (st *Step) masks() bool {
	if st.Erase.Delete && st.Role != RoleMention {
		return false
	}
	return slices.ContainsFunc(st.Erase.Fields, func(f FieldErasure) bool { return f.Method != policy.Hold })
}

// stamper writes the stamps of one table's UPDATEs; nil stamps nothing.
type stamper func(changed string, args []any) (string, []any)

// newStamper stamps the UPDATEs of table t, whose stamped columns are in
// zone, that set the columns in set. Each statement's stamps are written
// at its own time.
func newStamper(d connector.Dialect, t *connector.Table, zone *time.Location, set ...string) stamper {
	if len(connector.Stamps(d, t, zone, time.Now(), "", set...)) == 0 {
		return nil
	}
	return func(changed string, args []any) (string, []any) {
		stamps := connector.Stamps(d, t, zone, time.Now(), changed, set...)
		var out []any
		for range stamps {
			out = append(out, args...) // each stamp has the condition
		}
		return strings.Join(stamps, ", ") + ", ", out
	}
}

// prefix returns the stamps to open a SET list with, and their arguments:
// for rows where changed (with args) holds, or every row when changed is
// "" (connector.Stamps).
func (s stamper) prefix(changed string, args []any) (string, []any) {
	if s == nil {
		return "", nil
	}
	return s(changed, args)
}

// changes is the condition that the assignments change a row, for the
// stamps of a MySQL UPDATE (connector.Stamps): the server stamps only
// rows whose stored values change. It compares bytes — 'José' is not
// 'jose' however the column's collation compares them — and where it
// errs, a row the statement does not change is stamped, never the other
// way round.
func (as assignments) changes() (string, []any) {
	var ors []string
	var args []any
	for _, a := range as {
		if a.null {
			ors = append(ors, a.column+" IS NOT NULL")
			continue
		}
		ors = append(ors, "NOT (CAST("+a.column+" AS BINARY) <=> CAST(? AS BINARY))")
		args = append(args, a.value)
	}
	return strings.Join(ors, " OR "), args
}
