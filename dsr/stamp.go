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

// stamper writes the stamps of one table's UPDATEs (connector.Stamps);
// nil stamps nothing.
type stamper struct {
	d    connector.Dialect
	t    *connector.Table
	zone *time.Location
	set  []string // the columns the UPDATEs set themselves
}

// newStamper stamps the UPDATEs of table t, whose stamped columns are in
// zone, that set the columns in set; nil where there is nothing to stamp.
func newStamper(d connector.Dialect, t *connector.Table, zone *time.Location, set ...string) *stamper {
	if len(connector.Stamps(d, t, zone, time.Now(), "", set...)) == 0 {
		return nil
	}
	return &stamper{d: d, t: t, zone: zone, set: set}
}

// prefix returns the stamps to open a SET list with, at the statement's
// own time, and their arguments: for rows where changed (with args)
// holds, or every row when changed is "".
func (s *stamper) prefix(changed string, args []any) (string, []any) {
	if s == nil {
		return "", nil
	}
	return connector.StampPrefix(s.d, s.t, s.zone, time.Now(), changed, args, s.set...)
}

// changes is the condition that the assignments change a row's stored
// bytes (connector.Differs): the server stamps only rows that change.
// Where it errs, a row the statement does not change is stamped, never
// the other way round.
func (s *stamper) changes(as assignments) (string, []any) {
	if s == nil {
		return "", nil
	}
	var ors []string
	var args []any
	for _, a := range as {
		if a.null {
			ors = append(ors, a.column+" IS NOT NULL")
			continue
		}
		col := s.t.Column(a.name)
		if col == nil {
			col = &connector.Column{Name: a.name}
		}
		ors = append(ors, connector.Differs(col, a.column, "?"))
		args = append(args, a.value)
	}
	return strings.Join(ors, " OR "), args
}
