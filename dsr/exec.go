package dsr

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/webhook"

	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/taxonomy"
	"github.com/vowprivacy/vow/throttle"
)

// Progress reports what an execution is doing, for a progress display.
type Progress struct {
	Step  string // "system:table", or a phase such as "verify"
	Index int    // 1-based position of the step
	Total int
	Rows  int64 // rows read or changed by the step so far
	Done  bool  // the step finished
}

// ErrWaiting wraps the error of a run that could not reach a datastore:
// the request is Waiting and will be retried at its NextAttemptAt.
var ErrWaiting = errors.New("request waiting for a datastore")

// Run carries out a verified request and returns it as it stands after.
// It is safe to call again after a crash or a failure at any point: work
// recorded as done is not repeated, and repeating an unrecorded step is
// harmless. A datastore that cannot be reached leaves the request Waiting
// (the error wraps ErrWaiting) instead of completing it with parts missing.
func (s *Service) Run(ctx context.Context, id string, progress func(Progress)) (*Request, error) {
	if progress == nil {
		progress = func(Progress) {}
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	switch r.Status {
	case Executing, Waiting:
	case AwaitingApproval:
		return r, nil // an operator approves or cancels it
	case Scheduled:
		if r.NextAttemptAt != nil && s.now().Before(*r.NextAttemptAt) {
			return r, nil // still in its grace period
		}
	case Received, Verifying:
		return r, fmt.Errorf("dsr: request %s is not verified yet (%s): %w", id, r.Status, ErrState)
	default:
		return r, nil // final: nothing to do
	}
	// The request's lease: one runner at a time, and a runner that loses
	// it (paused past its TTL while another took over) stops, its context
	// ended.
	hctx, release, err := s.Store.Hold(ctx, state.Lease{Name: "request:" + id, Holder: state.NewHolder(), TTL: leaseTTL, Now: s.now})
	if errors.Is(err, state.ErrLeaseHeld) {
		return r, fmt.Errorf("dsr: %w: %v", ErrBusy, err)
	}
	if err != nil {
		return r, err
	}
	defer release()
	ctx = hctx
	// Read again under the lease: another runner may have finished it
	// between the first read and the claim.
	if r, err = s.Get(ctx, id); err != nil || r.Status.Final() {
		return r, err
	}
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if r.Status == Waiting || r.Status == Scheduled {
			if err := s.transitionTx(ctx, tx, id, []Status{r.Status}, Executing, nil); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`UPDATE requests SET attempts = attempts + 1 WHERE id = ?`), id); err != nil {
			return s.Store.Wrap(err, "dsr: count attempt")
		}
		return s.eventTx(ctx, tx, id, "request.started", map[string]any{"attempt": r.Attempts + 1})
	})
	if err != nil {
		return nil, err
	}
	r.Status = Executing
	r.Attempts++

	res, err := s.execute(ctx, r, progress)
	var sched *scheduled
	if errors.As(err, &sched) {
		if err := s.transition(ctx, id, []Status{Executing}, Scheduled, map[string]any{"next_attempt_at": ts(sched.until)}); err != nil {
			return nil, err
		}
		return s.Get(ctx, id)
	}
	var wait *awaiting
	if errors.As(err, &wait) {
		ap := Approval{Reasons: wait.reasons, StoppedAt: s.now()}
		b, _ := json.Marshal(ap)
		err := s.move(ctx, id, []Status{Executing}, AwaitingApproval, map[string]any{"approval": string(b), "next_attempt_at": nil},
			"request.braked", map[string]any{"reasons": wait.reasons})
		if err != nil {
			return nil, err
		}
		return s.Get(ctx, id)
	}
	if err != nil {
		return s.fail(ctx, r, err)
	}
	now := s.now()
	set := map[string]any{"completed_at": ts(now), "last_error": nil, "next_attempt_at": nil}
	out, merr := marshalResult(res)
	if merr != nil {
		return nil, merr
	}
	set["result"] = out
	// The identities (and a rectification's new values) were needed to
	// find and change the data; a request that has ended keeps only the
	// keyed pseudonyms the audit log names the person by.
	set["identities"], set["keys"], set["changes"] = "{}", nil, "{}"
	if r.Type == Erasure {
		// … and nothing of the subject in their earlier requests either.
		if !res.Held {
			if err := s.forget(ctx, r); err != nil {
				return s.fail(ctx, r, err)
			}
		}
	}
	err = s.move(ctx, id, []Status{Executing}, Completed, set, "request.completed", map[string]any{"found": res.Found, "rows": res.Rows, "message": res.Message})
	if err != nil {
		return nil, err
	}
	if r.Type == Erasure {
		if err := s.Store.Shred(ctx); err != nil {
			s.log().WarnContext(ctx, "dsr: the erased identities may linger in the state store's log until its next checkpoint", "request", id, "err", err)
		}
	}
	return s.Get(ctx, id)
}

// fail records a failed attempt: Waiting with a backoff when a datastore
// could not be reached or was past its critical load, or the run was
// interrupted; Failed otherwise.
func (s *Service) fail(ctx context.Context, r *Request, cause error) (*Request, error) {
	// A run that lost its lease records nothing: the request is its
	// successor's now, and a Waiting written over its Executing would undo
	// that run's progress.
	if errors.Is(context.Cause(ctx), state.ErrLeaseLost) {
		return r, fmt.Errorf("dsr: %w: request %s: this run lost its lease and stopped; another runner has it", ErrBusy, r.ID)
	}
	// The caller's context may be what ended the run; record with a fresh one.
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	msg := strings.Join(strings.Fields(cause.Error()), " ")
	if errors.Is(cause, connector.ErrUnreachable) || errors.Is(cause, webhook.ErrUnavailable) || errors.Is(cause, errAwaiting) || errors.Is(cause, throttle.ErrCritical) ||
		errors.Is(cause, context.Canceled) || errors.Is(cause, context.DeadlineExceeded) {
		next := s.now().Add(backoff(r.Attempts))
		if errors.Is(cause, errAwaiting) {
			// A callback wakes the request; this is only a fallback poll.
			next = s.now().Add(time.Hour)
		}
		err := s.move(rctx, r.ID, []Status{Executing}, Waiting, map[string]any{"last_error": msg, "next_attempt_at": ts(next)}, "request.waiting", map[string]any{"error": msg, "next_attempt_at": ts(next)})
		if err != nil {
			return nil, errors.Join(cause, err)
		}
		got, _ := s.Get(rctx, r.ID)
		return got, fmt.Errorf("%w: %w (retry after %s)", ErrWaiting, cause, next.Format(time.RFC3339))
	}
	err := s.move(rctx, r.ID, []Status{Executing}, Failed, map[string]any{"last_error": msg, "completed_at": ts(s.now())}, "request.failed", map[string]any{"error": msg})
	if err != nil {
		return nil, errors.Join(cause, err)
	}
	got, _ := s.Get(rctx, r.ID)
	return got, cause
}

// backoff is the wait before retry n: 1, 2, 4 … minutes, at most an hour.
func backoff(n int) time.Duration {
	d := time.Minute << min(max(n-1, 0), 6)
	return min(d, time.Hour)
}

// connectorSQL names the connector type in this package's maps.
type connectorSQL = connector.SQL

// kindsOf lists the identity kinds of a request, sorted.
func kindsOf(ids Identities) []string {
	kinds := make([]string, 0, len(ids))
	for k := range ids {
		kinds = append(kinds, k)
	}
	sort.Strings(kinds)
	return kinds
}

func (s *Service) execute(ctx context.Context, r *Request, progress func(Progress)) (*Result, error) {
	kinds := kindsOf(r.Identities)
	if len(kinds) == 0 {
		return nil, fmt.Errorf("dsr: request %s has no identities left to search by", r.ID)
	}
	plan, err := NewPlan(s.Policy, r.Subject, kinds)
	if errors.Is(err, ErrNoMatch) {
		return &Result{Message: "no data found: " + err.Error()}, nil
	}
	if err != nil {
		return nil, err
	}
	conns := &conns{s: s, open: map[string]connector.SQL{}}
	defer conns.close()
	if err := s.livePrimaryKeys(ctx, plan, conns, r.Type == Erasure); err != nil {
		return nil, err
	}
	resumed := r.keys != nil
	if resumed && !r.keys.UTC {
		if err := s.keysBeforeUTC(ctx, plan, r, conns); err != nil {
			return nil, err
		}
	}
	if r.keys != nil && r.keys.lacks(plan) {
		// The policy changed since the keys were resolved (a retry after
		// a fix): resolve again, and keep what was resolved before — the
		// rows it found may be masked or gone by now.
		fresh, err := s.resolve(ctx, plan, r, conns)
		if err != nil {
			return nil, err
		}
		r.keys = r.keys.merge(fresh)
		b, _ := json.Marshal(r.keys)
		if err := s.move(ctx, r.ID, []Status{Executing}, Executing, map[string]any{"keys": string(b)}, "request.resolved", map[string]any{"roots": len(r.keys.Roots), "again": true}); err != nil {
			return nil, err
		}
	}
	if r.keys == nil {
		keys, err := s.resolve(ctx, plan, r, conns)
		if err != nil {
			return nil, err
		}
		b, _ := json.Marshal(keys)
		err = s.move(ctx, r.ID, []Status{Executing}, Executing, map[string]any{"keys": string(b)}, "request.resolved", map[string]any{"roots": len(keys.Roots)})
		if err != nil {
			return nil, err
		}
		r.keys = keys
	}
	if err := tooManyKeys(plan, r); err != nil {
		return nil, err
	}
	if resumed {
		// Keys resolved by an earlier run: rows may have been deleted
		// since, and their keys handed to someone else.
		if err := s.checkReuse(ctx, plan, r, conns, false); err != nil {
			return nil, err
		}
	}
	switch r.Type {
	case Access, Portability:
		return s.access(ctx, plan, r, conns, progress)
	case Erasure:
		if g := s.Policy.Rights.ErasureGrace; g != nil {
			if err := s.grace(ctx, plan, r, conns, g); err != nil {
				return nil, err
			}
		}
		return s.erase(ctx, plan, r, conns, progress)
	case Rectification:
		return s.rectify(ctx, plan, r, conns, progress)
	case Restriction, Objection:
		return s.record(ctx, plan, r, conns, progress)
	}
	return nil, fmt.Errorf("dsr: %s requests cannot be executed yet: %w", r.Type, ErrNotOffered)
}

// keysBeforeUTC fails when a request's keys were stored by a version of
// Vow whose MySQL sessions were on the server's time zone, that zone is
// not UTC, and a key holds a TIMESTAMP: such a key is the server's local
// time as text, which a session on UTC reads as another instant —
// another person's row under the subject's key.
func (s *Service) keysBeforeUTC(ctx context.Context, plan *Plan, r *Request, cs *conns) error {
	// The columns each stored key holds values of, by step.
	cols := map[string][]string{}
	for id := range r.keys.Roots {
		if st := plan.Step(id); st != nil {
			cols[id] = append(cols[id], st.PrimaryKey...)
		}
	}
	for _, m := range []map[string][]any{r.keys.Cross, r.keys.Saved} {
		for key := range m {
			if i := strings.LastIndex(key, "."); i > 0 {
				cols[key[:i]] = append(cols[key[:i]], strings.Split(key[i+1:], ",")...)
			}
		}
	}
	for id, names := range cols {
		st := plan.Step(id)
		if st == nil || st.Kind != "mysql" {
			continue
		}
		lt, err := s.liveTable(ctx, cs, st.System, st.Table)
		if err != nil {
			return err
		}
		if lt == nil || !slices.ContainsFunc(names, func(name string) bool {
			col := lt.Column(name)
			return col != nil && strings.HasPrefix(strings.ToLower(col.Base()), "timestamp")
		}) {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return err
		}
		// The zone the earlier version's sessions were in: the DSN's
		// time_zone, else the server's.
		var zone string
		if x, ok := c.(interface{ DSNTimeZone() string }); ok {
			zone = x.DSNTimeZone()
		}
		onUTC := connector.SameZone(time.UTC, zone)
		if zone == "" {
			if onUTC, zone, err = connector.ServerOnUTC(ctx, c); err != nil {
				return err
			}
		}
		if !onUTC {
			return fmt.Errorf("dsr: request %s's keys were read by an earlier version of Vow on %s's sessions in %s, and %s's keys hold a TIMESTAMP as that zone's local time, which Vow's sessions (now on UTC) would read as another instant — another person's row; nothing was changed: cancel the request (vow request cancel %s) and create it again",
				r.ID, st.System, zone, st.ID(), r.ID)
		}
	}
	return nil
}

// livePrimaryKeys gives the steps whose table the policy declares no
// primary_key the database's own: a table masked by erasure is then found
// by its resolved keys, not by the identity column the erasure changes
// (masking that column first would lose the rest of the row's fields, and
// verification would look for the row by what is no longer there).
func (s *Service) livePrimaryKeys(ctx context.Context, plan *Plan, cs *conns, erasure bool) error {
	for _, st := range plan.Steps {
		if len(st.PrimaryKey) > 0 {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return err
		}
		sc, err := s.schema(ctx, st.System, c)
		if err != nil {
			return err
		}
		if lt := sc.Table(st.Table); lt != nil {
			st.PrimaryKey = slices.Clone(lt.PrimaryKey)
		}
	}
	for _, st := range plan.Steps {
		// Rows the erasure rewrites get the application's time in the
		// columns the server stamps: their zone is read before anything
		// changes.
		if erasure && st.masks() {
			if _, err := s.stampZone(ctx, cs, st.System, st.Table); err != nil {
				return err
			}
		}
		// Hold periods are an erasure's: other requests need not read
		// their column's form or zone.
		if !erasure || !st.Erase.Hold || st.Erase.From == "" {
			continue
		}
		lt, err := s.liveTable(ctx, cs, st.System, st.Table)
		if err != nil {
			return err
		}
		if col := lt.Column(st.Erase.From); col != nil {
			c, _ := cs.get(ctx, st.System)
			sample, zone, err := cs.timeForm(ctx, st.System, st.Table, col)
			if err == nil {
				// The day the hold period ends, where dates written with
				// another separator than the cutoff's would compare by it.
				if cut, ok := holdCutoff(st, s.now()); ok {
					err = connector.CheckCutoffDay(ctx, c, st.Table, st.Erase.From, sample, zone, cut)
				}
			}
			if err != nil {
				return fmt.Errorf("dsr: %s:%s's hold period (%s, %s): %w", st.System, st.Table, st.Erase.From, col.Type, err)
			}
			st.fromType, st.fromSample, st.fromZone = col.Base(), sample, zone
		}
	}
	// A relation between columns of different types is compared after a
	// conversion (MariaDB takes '1abc' for 1): one person's reference
	// could reach another's row. vow check --live reports it.
	for _, st := range plan.Steps {
		for _, m := range st.Matches {
			if m.Parent == "" {
				continue
			}
			parent := plan.Step(m.Parent)
			ct, err := s.liveTable(ctx, cs, st.System, st.Table)
			if err != nil {
				return err
			}
			pt, err := s.liveTable(ctx, cs, parent.System, parent.Table)
			if err != nil {
				return err
			}
			if !m.Owned && pt != nil && !pt.Unique(m.ParentColumns) {
				// member_no alone, unique only with team_id, would match
				// every team's member 7.
				return &errRestricted{fmt.Sprintf("dsr: %s.%s matches %s.%s, which is not unique there: it would reach the rows of everyone who shares the value; reference a unique key (a key of several columns goes under foreign_keys; vow check --live: relation-not-unique), then vow request retry",
					st.ID(), strings.Join(m.Columns, ", "), parent.ID(), strings.Join(m.ParentColumns, ", "))}
			}
			for i, col := range m.Columns {
				a, b := ct.Column(col), pt.Column(m.ParentColumns[i])
				if a != nil && b != nil && !identity.Comparable(a.Base(), b.Base()) {
					return &errRestricted{fmt.Sprintf("dsr: %s.%s (%s) is matched with %s.%s (%s): values of different types are converted before they are compared, so one person's reference could reach another's row; reference a column of the same type (vow check --live: relation-type-mismatch), then vow request retry",
						st.ID(), col, a.Type, parent.ID(), m.ParentColumns[i], b.Type)}
				}
			}
		}
	}
	for _, st := range plan.Steps {
		if !slices.ContainsFunc(st.Matches, func(m Match) bool { return m.Owned }) {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return err
		}
		sc, err := s.schema(ctx, st.System, c)
		if err != nil {
			return err
		}
		st.unshared = unshared(c.Dialect(), sc, plan.own.Into(st.System, st.Table), st.Table)
	}
	return nil
}

// liveTable returns a table of a system's live schema (nil when missing).
func (s *Service) liveTable(ctx context.Context, cs *conns, system, table string) (*connector.Table, error) {
	c, err := cs.get(ctx, system)
	if err != nil {
		return nil, err
	}
	sc, err := s.schema(ctx, system, c)
	if err != nil {
		return nil, err
	}
	return sc.Table(table), nil
}

// unshared is the condition that no row of another table references a
// row of table (named by its own name in the statement): an owned row (a
// customer's address) that someone else's row also points at is not the
// subject's alone, and stays.
func unshared(d connector.Dialect, sc *connector.Schema, declared []policy.Relation, table string) string {
	lt := sc.Table(table)
	if lt == nil {
		return ""
	}
	// The database's foreign keys into the table, and the policy's
	// relations (an application without foreign keys keeps them itself).
	type ref struct {
		table      string
		cols, refs []string
	}
	var refs []ref
	for _, ot := range sc.Tables {
		for _, fk := range ot.ForeignKeys {
			if strings.EqualFold(fk.RefTable, lt.Name) {
				refs = append(refs, ref{ot.Name, fk.Columns, fk.RefColumns})
			}
		}
	}
	for _, r := range declared {
		if r.FromSystem != r.ToSystem {
			continue // another database: not readable in this statement
		}
		if !slices.ContainsFunc(refs, func(x ref) bool {
			return strings.EqualFold(x.table, r.FromTable) && slices.EqualFunc(x.cols, r.FromColumns, strings.EqualFold)
		}) {
			refs = append(refs, ref{r.FromTable, r.FromColumns, r.ToColumns})
		}
	}
	var guards []string
	for n, x := range refs {
		if strings.EqualFold(x.table, lt.Name) {
			continue
		}
		alias := "vow_u" + strconv.Itoa(n)
		eq := make([]string, len(x.cols))
		for i := range x.cols {
			eq[i] = alias + "." + d.Column(x.cols[i]) + " = " + d.Ident(table) + "." + d.Column(x.refs[i])
		}
		guards = append(guards, "NOT EXISTS (SELECT 1 FROM "+d.Ident(x.table)+" "+alias+" WHERE "+strings.Join(eq, " AND ")+")")
	}
	return strings.Join(guards, " AND ")
}

// conns opens each system's datastore once per run.
type conns struct {
	s    *Service
	open map[string]connector.SQL
	// zones are the zones of the systems' wall times, read once a run.
	zones map[string]*time.Location
}

// timeForm returns how a time column of a system's table is written:
// SQLite's storage form (connector.SampleTime) and, for wall times, the
// system's zone (nil for instants).
func (c *conns) timeForm(ctx context.Context, system, table string, col *connector.Column) ([2]string, *time.Location, error) {
	x, err := c.get(ctx, system)
	if err != nil {
		return [2]string{}, nil, err
	}
	sample, err := connector.SampleTime(ctx, x, table, col.Name)
	if err != nil || !connector.Wall(x.Dialect().Kind(), col.Base(), sample) {
		return sample, nil, err
	}
	zone, err := c.zone(ctx, system)
	return sample, zone, err
}

// zone returns the zone of a system's wall times (connector.ZoneOf): the
// policy's time_zone, a MySQL DSN's loc, or UTC on a server on UTC.
func (c *conns) zone(ctx context.Context, system string) (*time.Location, error) {
	if z := c.zones[system]; z != nil {
		return z, nil
	}
	x, err := c.get(ctx, system)
	if err != nil {
		return nil, err
	}
	var declared string
	if sys := c.s.Policy.System(system); sys != nil {
		declared = sys.TimeZone
	}
	z, err := connector.ZoneOf(ctx, x, declared)
	if err != nil {
		return nil, fmt.Errorf("dsr: system %s: %w", system, err)
	}
	if c.zones == nil {
		c.zones = map[string]*time.Location{}
	}
	c.zones[system] = z
	return z, nil
}

// get returns the system's connector: the service's pool, kept across
// runs when KeepConnections is set (opening and pinging a pool was most
// of a small request's time), or one opened for this run.
func (c *conns) get(ctx context.Context, system string) (connector.SQL, error) {
	if x := c.open[system]; x != nil {
		return x, nil
	}
	if c.s.KeepConnections {
		if err := c.s.prepared(ctx, system); err != nil {
			return nil, err
		}
		c.s.poolMu.Lock()
		// Prepare's failure, once, as if this call had failed: the
		// next call tries again, as it would have without Prepare.
		if err := c.s.prepareErr[system]; err != nil {
			delete(c.s.prepareErr, system)
			c.s.poolMu.Unlock()
			return nil, fmt.Errorf("dsr: open system %s: %w", system, err)
		}
		x := c.s.pools[system]
		c.s.poolMu.Unlock()
		if x != nil {
			return x, nil
		}
	}
	sys := c.s.Policy.System(system)
	if sys == nil {
		return nil, fmt.Errorf("dsr: system %s is not in the policy", system)
	}
	x, err := c.s.Datastores.Open(ctx, sys)
	if err != nil {
		return nil, fmt.Errorf("dsr: open system %s: %w", system, err)
	}
	if c.s.KeepConnections {
		c.s.poolMu.Lock()
		defer c.s.poolMu.Unlock()
		if have := c.s.pools[system]; have != nil {
			x.Close() // another run opened it meanwhile
			return have, nil
		}
		if c.s.pools == nil {
			c.s.pools = map[string]connector.SQL{}
		}
		c.s.pools[system] = x
		return x, nil
	}
	c.open[system] = x
	return x, nil
}

func (c *conns) close() {
	for _, x := range c.open {
		x.Close()
	}
}

// Prepare opens the pool of each datastore the policy declares tables in
// and reads its live schema, in the background: a one-shot command (vow
// request create --run) calls it first and opens its state store and keys
// meanwhile, instead of starting on the datastores only once its request
// needs them. A request that needs a datastore still being prepared waits
// for it. It needs KeepConnections, else it does nothing. A datastore
// that cannot be opened fails the first request to need it, with the same
// error, as if that request had tried; later ones try again. A schema
// that cannot be read is read again by the request.
func (s *Service) Prepare(ctx context.Context) {
	if !s.KeepConnections || s.Datastores == nil {
		return
	}
	s.poolMu.Lock()
	defer s.poolMu.Unlock()
	// Close ends what is still under way: a command that stops early (a
	// request refused) does not wait for a datastore it never needed.
	ctx, stop := context.WithCancel(ctx)
	if prev := s.stopPrepare; prev != nil {
		// A second Prepare: Close must still be able to end the first's.
		s.stopPrepare = func() { prev(); stop() }
	} else {
		s.stopPrepare = stop
	}
	for _, sys := range s.Policy.Systems {
		if sys.Kind == "webhook" || len(sys.Tables) == 0 || s.pools[sys.Name] != nil || s.preparing[sys.Name] != nil {
			continue
		}
		done := make(chan struct{})
		if s.preparing == nil {
			s.preparing = map[string]chan struct{}{}
		}
		s.preparing[sys.Name] = done
		go func() {
			defer close(done)
			x, err := s.Datastores.Open(ctx, sys)
			s.poolMu.Lock()
			if err != nil {
				if s.prepareErr == nil {
					s.prepareErr = map[string]error{}
				}
				s.prepareErr[sys.Name] = err
				s.poolMu.Unlock()
				return
			}
			if s.pools == nil {
				s.pools = map[string]connector.SQL{}
			}
			if s.pools[sys.Name] != nil {
				// A run opened its own meanwhile: keep that one.
				s.poolMu.Unlock()
				_ = x.Close()
				return
			}
			s.pools[sys.Name] = x
			s.poolMu.Unlock()
			_, _ = s.readSchema(ctx, sys.Name, x)
		}()
	}
}

// prepared waits until Prepare is done with system, if it started on it.
func (s *Service) prepared(ctx context.Context, system string) error {
	s.poolMu.Lock()
	done := s.preparing[system]
	s.poolMu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// Close closes the connections kept across runs (KeepConnections), once
// Prepare is done with them.
func (s *Service) Close() error {
	s.poolMu.Lock()
	waits := slices.Collect(maps.Values(s.preparing))
	if s.stopPrepare != nil {
		s.stopPrepare()
	}
	s.poolMu.Unlock()
	for _, done := range waits {
		<-done
	}
	s.poolMu.Lock()
	defer s.poolMu.Unlock()
	// Closed, the service may be prepared again.
	s.preparing, s.prepareErr, s.stopPrepare = nil, nil, nil
	var errs []error
	for name, x := range s.pools {
		if err := x.Close(); err != nil {
			errs = append(errs, fmt.Errorf("dsr: close system %s: %w", name, err))
		}
	}
	s.pools = nil
	return errors.Join(errs...)
}

// resolve fixes, before anything is written, the primary keys of the rows
// found by identity, the values that relations carry across systems or to
// owned rows, and the parent values verification needs once the parents
// are gone. Later runs of the same request use them, so a resumed erasure
// still finds rows whose identity columns it has already masked.
//
// It also checks each identity against the type of every column it is
// matched with: a value a column cannot hold ("1abc" for an integer key)
// is not compared there at all — MariaDB would compare it as 1 — and a
// request whose identities fit no column fails, saying why.
func (s *Service) resolve(ctx context.Context, plan *Plan, r *Request, cs *conns) (*Keys, error) {
	keys := &Keys{Roots: map[string][]any{}, Cross: map[string][]any{}, Saved: map[string][]any{}, UTC: true}
	fitting, tried := 0, []string{}
	for _, st := range plan.Steps {
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return nil, err
		}
		sc, err := s.schema(ctx, st.System, c)
		if err != nil {
			return nil, err
		}
		for _, m := range st.Matches {
			if m.Identity == "" {
				continue
			}
			v := r.Identities[m.Identity]
			col := sc.Table(st.Table).Column(m.Column())
			if col == nil {
				continue // vow check --live reports a missing column
			}
			if col.Collation != "" {
				if keys.Collations == nil {
					keys.Collations = map[string]string{}
				}
				keys.Collations[st.ID()+"."+m.Column()] = col.Collation
			}
			if err := identity.Fits(v, col.Base()); err != nil {
				keys.Unfit = append(keys.Unfit, st.ID()+"."+m.Column())
				tried = append(tried, fmt.Sprintf("%s.%s: %s", st.ID(), m.Column(), strings.TrimPrefix(err.Error(), identity.ErrInvalid.Error()+": ")))
				continue
			}
			if st.Role == RoleSubject {
				fitting++
			}
		}
	}
	if fitting == 0 && len(tried) > 0 {
		return nil, &FieldError{"identities", "no column the identities are matched with can hold them: " + strings.Join(tried, "; ")}
	}
	d := func(st *Step) connector.Dialect { return connector.DialectOf(st.Kind) }
	for _, st := range plan.Steps {
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return nil, err
		}
		if len(st.PrimaryKey) == 1 && st.Role == RoleSubject && slices.ContainsFunc(st.Matches, func(m Match) bool { return m.Identity != "" }) {
			idOnly := *st
			idOnly.Matches = slices.DeleteFunc(slices.Clone(st.Matches), func(m Match) bool { return m.Identity == "" })
			where, args := plan.Where(&idOnly, r.Identities, keys)
			vals, err := column(ctx, c.DB(), c, "resolve keys", "SELECT DISTINCT "+keyList(d(st), st.PrimaryKey[:1])+" FROM "+d(st).Ident(st.Table)+" WHERE "+where, args)
			if err != nil {
				return nil, err
			}
			keys.Roots[st.ID()] = vals
			if err := s.agree(ctx, plan, st, r, keys, c); err != nil {
				return nil, err
			}
		}
		for _, cols := range st.Collect {
			where, args := plan.Where(st, r.Identities, keys)
			vals, err := tuples(ctx, c.DB(), c, "resolve keys", "SELECT DISTINCT "+keyList(d(st), cols)+" FROM "+d(st).Ident(st.Table)+" WHERE "+where+" AND "+notNull(d(st), cols), args, len(cols))
			if err != nil {
				return nil, err
			}
			keys.Cross[st.ID()+"."+strings.Join(cols, ",")] = vals
		}
	}
	// Parent values that same-system children match on: once the
	// parents are erased, verification still finds the children by them.
	for _, st := range plan.Steps {
		for _, m := range st.Matches {
			if m.Parent == "" || m.Carried(st) {
				continue
			}
			key := m.carriedKey()
			if _, ok := keys.Saved[key]; ok {
				continue
			}
			parent := plan.Step(m.Parent)
			c, err := cs.get(ctx, parent.System)
			if err != nil {
				return nil, err
			}
			where, args := plan.Where(parent, r.Identities, keys)
			vals, err := tuples(ctx, c.DB(), c, "resolve keys", "SELECT DISTINCT "+keyList(d(parent), m.ParentColumns)+" FROM "+d(parent).Ident(parent.Table)+" WHERE "+where+" AND "+notNull(d(parent), m.ParentColumns), args, len(m.ParentColumns))
			if err != nil {
				return nil, err
			}
			keys.Saved[key] = vals
		}
	}
	return keys, nil
}

// keyList is cols as the SELECT list of a query whose values are read as
// keys, to be stored with the request and given back to the database:
// each as the row holds it (connector.Dialect.AsStored).
func keyList(d connector.Dialect, cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = d.AsStored(d.Column(c))
	}
	return strings.Join(q, ", ")
}

// colList quotes columns for a SELECT list: "a", "b".
func colList(d connector.Dialect, cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = d.Column(c)
	}
	return strings.Join(q, ", ")
}

// notNull is the condition that none of cols is NULL: a NULL in a key
// matches nothing.
func notNull(d connector.Dialect, cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = d.Column(c) + " IS NOT NULL"
	}
	return strings.Join(q, " AND ")
}

// agree refuses a request whose identities name different people: an
// email that finds customer 1 and a customer_id of 2 are two people, and a
// request matching either would export or erase both. An identity that
// finds no row is no contradiction (an address changed since).
func (s *Service) agree(ctx context.Context, plan *Plan, st *Step, r *Request, keys *Keys, c connector.SQL) error {
	d := c.Dialect()
	var first string
	var firstKeys []string
	for _, m := range st.Matches {
		if m.Identity == "" || keys.unfit(st, m.Column()) {
			continue
		}
		one := *st
		one.Matches = []Match{m}
		var match *Keys // how to compare, not which rows: no resolved keys
		if keys != nil {
			match = &Keys{Unfit: keys.Unfit, Collations: keys.Collations}
		}
		where, args := plan.Where(&one, r.Identities, match)
		vals, err := column(ctx, c.DB(), c, "resolve keys", "SELECT DISTINCT "+keyList(d, st.PrimaryKey[:1])+" FROM "+d.Ident(st.Table)+" WHERE "+where, args)
		if err != nil {
			return err
		}
		if len(vals) == 0 {
			continue
		}
		got := make([]string, len(vals))
		for i, v := range vals {
			got[i] = fmt.Sprint(v)
		}
		slices.Sort(got)
		if first == "" {
			first, firstKeys = m.Identity, got
			continue
		}
		if !slices.Equal(got, firstKeys) {
			return &FieldError{"identities", fmt.Sprintf("the identities name different people: %s finds %s %s, %s finds %s %s; make one request per person",
				first, st.ID(), strings.Join(firstKeys, ", "), m.Identity, st.ID(), strings.Join(got, ", "))}
		}
	}
	return nil
}

// tuples reads rows of n columns: single values for one column, []any
// tuples for several.
func tuples(ctx context.Context, db querier, c connector.SQL, op, q string, args []any, n int) ([]any, error) {
	if n == 1 {
		return column(ctx, db, c, op, q, args)
	}
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, c.Translate(ctx, op, err)
	}
	defer rows.Close()
	bin, err := binaryColumns(rows, c.Dialect().Kind())
	if err != nil {
		return nil, c.Translate(ctx, op, err)
	}
	var out []any
	for rows.Next() {
		vals := make([]any, n)
		ptrs := make([]any, n)
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return nil, c.Translate(ctx, op, err)
		}
		for i := range vals {
			vals[i] = scannedKey(vals[i], bin[i], c.Dialect().Kind())
		}
		out = append(out, vals)
	}
	if err := rows.Err(); err != nil {
		return nil, c.Translate(ctx, op, err)
	}
	return out, nil
}

// schema returns the live structure of a system, read once and kept for
// a few minutes: the checks of a run (identity types, the brake's foreign
// keys) need it, and a schema rarely changes under a running request.
func (s *Service) schema(ctx context.Context, system string, c connector.SQL) (*connector.Schema, error) {
	if err := s.prepared(ctx, system); err != nil {
		return nil, err
	}
	s.poolMu.Lock()
	cached, ok := s.schemas[system]
	s.poolMu.Unlock()
	if ok && s.now().Sub(cached.at) < schemaTTL {
		return cached.schema, nil
	}
	return s.readSchema(ctx, system, c)
}

// readSchema reads a system's live structure and keeps it.
func (s *Service) readSchema(ctx context.Context, system string, c connector.SQL) (*connector.Schema, error) {
	sc, err := c.Introspect(ctx)
	if err != nil {
		return nil, fmt.Errorf("dsr: read the structure of system %s: %w", system, err)
	}
	s.poolMu.Lock()
	if s.schemas == nil {
		s.schemas = map[string]cachedSchema{}
	}
	s.schemas[system] = cachedSchema{sc, s.now()}
	s.poolMu.Unlock()
	return sc, nil
}

// schemaTTL is how long a system's structure is trusted once read.
const schemaTTL = 5 * time.Minute

type cachedSchema struct {
	schema *connector.Schema
	at     time.Time
}

// querier is a *sql.DB or a *sql.Tx.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// column reads one column of a query on db (the connector's pool, or a
// transaction of it). Values are normalised to JSON-safe types, since they
// are stored with the request and passed back as parameters. op names what
// was being done, for errors.
func column(ctx context.Context, db querier, c connector.SQL, op, q string, args []any) ([]any, error) {
	rows, err := db.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, c.Translate(ctx, op, err)
	}
	defer rows.Close()
	bin, err := binaryColumns(rows, c.Dialect().Kind())
	if err != nil {
		return nil, c.Translate(ctx, op, err)
	}
	var out []any
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return nil, c.Translate(ctx, op, err)
		}
		out = append(out, scannedKey(v, bin[0], c.Dialect().Kind()))
	}
	if err := rows.Err(); err != nil {
		return nil, c.Translate(ctx, op, err)
	}
	return out, nil
}

// scannedKey turns a key value read from a database of the given kind
// (connector.Dialect.Kind) into one that survives the request's stored
// keys and compares equal to the row's own in SQL (keyValue): bytes of a
// binary column stay bytes, and a time is written as that database reads
// it back (timeKey).
func scannedKey(v any, binary bool, kind string) any {
	switch x := v.(type) {
	case []byte:
		if binary {
			return binaryKey(bytes.Clone(x))
		}
	case time.Time:
		return timeKey(kind, x)
	}
	return keyValue(v)
}

// timeKey writes a time read from a key column as text the database reads
// back as the same value.
//   - PostgreSQL's timestamptz is an instant (written in UTC: a zone's
//     offset before standard time is not whole minutes), timestamp and
//     date are read as UTC wall time; a year before 1 is written as
//     PostgreSQL writes it, "0044-03-15T00:00:00Z BC" — RFC 3339 has no
//     such years.
//   - MariaDB's and SQLite's keys are read as the text the row holds (the
//     MariaDB connector never parses times; keyList on SQLite) and never
//     get here. Should a MariaDB time come, it is the wall time as read,
//     without a zone (which the server would ignore): in UTC, a time read
//     through loc=Europe/Berlin would name the row an hour earlier.
func timeKey(kind string, t time.Time) string {
	if kind == "mysql" {
		return t.Format("2006-01-02 15:04:05.999999999")
	}
	t = t.UTC()
	if y := t.Year(); y < 1 {
		return fmt.Sprintf("%04d", 1-y) + t.Format("-01-02T15:04:05.999999999Z07:00") + " BC"
	}
	return t.Format(time.RFC3339Nano)
}

// binaryColumns reports which of the result's columns hold binary data
// (bytea, BINARY, VARBINARY, BLOB): drivers return text as bytes too. On
// SQLite every column does: the driver returns text as a string and
// only a blob as bytes, whatever the column's declared type (or none:
// keyList's expressions have none).
func binaryColumns(rows *sql.Rows, kind string) ([]bool, error) {
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, err
	}
	out := make([]bool, len(types))
	for i, t := range types {
		if kind == "sqlite" {
			out[i] = true
			continue
		}
		switch strings.ToUpper(t.DatabaseTypeName()) {
		case "BYTEA", "BINARY", "VARBINARY", "BLOB", "TINYBLOB", "MEDIUMBLOB", "LONGBLOB":
			out[i] = true
		}
	}
	return out, nil
}

// binaryKey is a key value of a binary column. The request's keys are
// stored as JSON, where a Go string of arbitrary bytes would not survive
// (encoding/json replaces bytes that are not UTF-8) and plain []byte
// would come back as its base64 text: it is written as {"bytes": base64}
// and read back as itself (decodeKeys), and given to the database as
// bytes.
type binaryKey []byte

// MarshalJSON writes the key as {"bytes": base64}.
func (b binaryKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string][]byte{"bytes": b})
}

// Value gives the database the bytes.
func (b binaryKey) Value() (driver.Value, error) { return []byte(b), nil }

// String shows the key as hex, as the databases write binary literals.
func (b binaryKey) String() string { return "x'" + hex.EncodeToString(b) + "'" }

// keyValue turns a scanned key into a value that survives a JSON round
// trip and still compares equal in SQL: numbers stay numbers, bytes of a
// text column become text (see scannedKey for binary columns).
func keyValue(v any) any {
	switch x := v.(type) {
	case []byte:
		return textValue(string(x))
	case string:
		return textValue(x)
	}
	return v
}

// textValue is s as a key: itself, or a textKey when it is not valid
// UTF-8.
func textValue(s string) any {
	if utf8.ValidString(s) {
		return s
	}
	return textKey(s)
}

// textKey is a key of a text column whose bytes are not valid UTF-8
// (SQLite keeps whatever it is given as TEXT). encoding/json would write
// U+FFFD for those bytes in the request's stored keys — another value,
// perhaps someone else's — so it is written as {"text": base64}, read
// back as itself (decodeKeys) and given to the database as the string it
// was.
type textKey string

// MarshalJSON writes the key as {"text": base64}.
func (t textKey) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string][]byte{"text": []byte(t)})
}

// Value gives the database the string.
func (t textKey) Value() (driver.Value, error) { return string(t), nil }

// decodeKeys reads stored keys back with their numbers as int64 (or
// float64), not JSON's float64-for-everything, so that a bigint key is
// passed to the database as the integer it was read as.
func decodeKeys(s string) (*Keys, error) {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var k Keys
	if err := dec.Decode(&k); err != nil {
		return nil, err
	}
	for _, m := range []map[string][]any{k.Roots, k.Cross, k.Saved} {
		for _, vals := range m {
			numbers(vals)
		}
	}
	return &k, nil
}

// numbers turns the json.Numbers of vals, and of the tuples in it, into
// int64 or float64 in place.
func numbers(vals []any) {
	for i, v := range vals {
		switch x := v.(type) {
		case json.Number:
			if n, err := x.Int64(); err == nil {
				vals[i] = n
			} else if f, err := x.Float64(); err == nil {
				vals[i] = f
			}
		case []any:
			numbers(x)
		case map[string]any:
			// A binaryKey, or a textKey.
			if enc, ok := x["bytes"].(string); ok && len(x) == 1 {
				if b, err := base64.StdEncoding.DecodeString(enc); err == nil {
					vals[i] = binaryKey(b)
				}
			}
			if enc, ok := x["text"].(string); ok && len(x) == 1 {
				if b, err := base64.StdEncoding.DecodeString(enc); err == nil {
					vals[i] = textKey(b)
				}
			}
		}
	}
}

// stepDone reports whether a unit of work of r was recorded as done, and
// its data.
func (s *Service) stepDone(ctx context.Context, id, step string) (json.RawMessage, bool, error) {
	var data string
	err := s.Store.DB().QueryRowContext(ctx, s.Store.Rebind(`SELECT data FROM request_steps WHERE request_id = ? AND step = ?`), id, step).Scan(&data)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, s.Store.Wrap(err, "dsr: read step %s", step)
	}
	return json.RawMessage(data), true, nil
}

// markDone records a step in a transaction of its own, fenced by the
// request's lease: a run that lost it records nothing.
func (s *Service) markDone(ctx context.Context, id, step string, data any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error { return s.markDoneIn(ctx, tx, id, step, data) })
}

// markDoneIn records a step through q: the store's pool, or a transaction
// that also records its event.
func (s *Service) markDoneIn(ctx context.Context, q interface {
	ExecContext(context.Context, string, ...any) (sql.Result, error)
}, id, step string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("dsr: encode step %s: %w", step, err)
	}
	_, err = q.ExecContext(ctx, s.Store.Rebind(`INSERT INTO request_steps (request_id, step, data, done_at) VALUES (?, ?, ?, ?)`),
		id, step, string(b), ts(s.now()))
	if err != nil {
		return s.Store.Wrap(err, "dsr: record step %s", step)
	}
	return nil
}

// updateStep replaces the data of a recorded step (a service call sent
// again).
func (s *Service) updateStep(ctx context.Context, id, step string, data any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return fmt.Errorf("dsr: encode step %s: %w", step, err)
	}
	return s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, s.Store.Rebind(`UPDATE request_steps SET data = ?, done_at = ? WHERE request_id = ? AND step = ?`),
			string(b), ts(s.now()), id, step)
		if err != nil {
			return s.Store.Wrap(err, "dsr: update step %s", step)
		}
		return nil
	})
}

func (s *Service) pause(ctx context.Context) error {
	if s.Pause <= 0 {
		return nil
	}
	t := time.NewTimer(s.Pause)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// systems returns the systems of a plan's steps in first-appearance order.
// ErrTooManyKeys is returned, before a run changes anything, when a
// statement of the request would carry more parameters than its database
// takes.
var ErrTooManyKeys = errors.New("too many keys for one statement")

// paramMargin leaves room, under a database's parameter limit, for what
// a statement carries besides its condition: the values an UPDATE sets,
// a pseudonym, a hold's cut-off.
const paramMargin = 64

// tooManyKeys refuses a request whose statements would carry more
// parameters than the database takes: found out at the first statement,
// an erasure would stop half done, or fail its verification after it had
// committed. Long lists of integer keys, and any list on PostgreSQL and
// of integers or UTF-8 text on SQLite, go as one parameter (inLongList);
// what is left is text or binary keys by the tens of thousands. Some
// statements carry a step's condition twice (the check of saved keys
// against it, a table referencing itself, rows kept with held ones), so
// a condition may use half the limit. (MariaDB's parents read in advance
// are inlined only where they fit: inlineParents.) It runs before each
// run changes anything; a resumed request may hold changes of earlier
// runs.
func tooManyKeys(plan *Plan, r *Request) error {
	keys := r.keys.withSaved()
	for _, st := range plan.Steps {
		d := connector.DialectOf(st.Kind)
		if _, args := plan.Where(st, r.Identities, keys); overParams(d, len(args)) {
			return fmt.Errorf("dsr: request %s: %s would be found by %d values in one statement, and a statement may need them twice; %s takes %d parameters: the subject has that many keys that are neither integers nor, on SQLite, text. Vow stops here, before this run changes anything, rather than fail half way; carry out this request by hand: %w",
				r.ID, st.ID(), len(args), map[string]string{"postgres": "PostgreSQL", "mysql": "MariaDB", "sqlite": "SQLite"}[d.Kind()], d.MaxParams(), ErrTooManyKeys)
		}
	}
	return nil
}

// overParams reports whether a condition of n parameters is too long for
// d: twice over, it must fit with room to spare (paramMargin).
func overParams(d connector.Dialect, n int) bool {
	return 2*n > d.MaxParams()-paramMargin
}

func systems(plan *Plan) []string {
	var out []string
	for _, st := range plan.Steps {
		if !slices.Contains(out, st.System) {
			out = append(out, st.System)
		}
	}
	return out
}

// checkChanges validates a rectification's changes against the policy:
// each names a declared field, as "column", "table.column" or
// "system:table.column".
func (s *Service) checkChanges(changes map[string]string) error {
	for k, v := range changes {
		targets := s.changeTargets(k)
		if len(targets) == 0 {
			if s.namesKey(k) {
				return &FieldError{"changes." + k, "is a key that identifies the person's rows (user_id, customer_id, external_id): it cannot be rectified; change the application's own record instead"}
			}
			return &FieldError{"changes." + k, "names no declared field; use column, table.column or system:table.column of a table with an identity field"}
		}
		for _, ref := range targets {
			_, t := s.Policy.LookupTable(policy.TableRef{System: ref.System, Table: ref.Table}, nil)
			if why := s.notRectifiable(ref, t.Field(ref.Column)); why != "" {
				return &FieldError{"changes." + k, fmt.Sprintf("%s:%s.%s cannot be rectified: %s", ref.System, ref.Table, ref.Column, why)}
			}
		}
		if why := badValue(targets, s.Policy, v); why != "" {
			return &FieldError{"changes." + k, why}
		}
	}
	return nil
}

// maxChangeLen bounds a rectified value: a person's name or address, not
// a document.
const maxChangeLen = 1000

// notRectifiable says why a rectification may not change a field, or "".
// A column of personal data may be changed unless it is a credential, a
// reference to another row, or the timestamp a retention rule counts from
// (moving it would make retention delete the person, or keep them); the
// policy's rectify: true or false on the field says otherwise.
func (s *Service) notRectifiable(ref policy.Ref, f *policy.Field) string {
	if f.Rectify != nil {
		if !*f.Rectify {
			return "the policy says so (rectify: false)"
		}
		if f.References != "" {
			return "it refers to another row"
		}
		return ""
	}
	switch {
	case f.References != "":
		return "it refers to another row"
	case taxonomy.Within(f.Category, "user.authorization"):
		return "it is a credential, changed through the application's own sign-in flows"
	case !s.Policy.Personal(f):
		return "it holds no personal data (category " + f.Category + "); set rectify: true on the field if a person may correct it"
	}
	for _, rule := range s.Policy.Retention.Rules {
		tr := policy.ParseTableRef(rule.Table)
		if sys, t := s.Policy.LookupTable(tr, nil); sys != nil && t != nil && sys.Name == ref.System && t.Name == ref.Table && rule.From == ref.Column {
			return "retention rule " + rule.Name + " counts from it"
		}
	}
	return ""
}

// badValue says what is wrong with a rectified value, or "".
func badValue(targets []policy.Ref, p *policy.Policy, v string) string {
	switch {
	case !utf8.ValidString(v):
		return "the value is not valid UTF-8"
	case utf8.RuneCountInString(v) > maxChangeLen:
		return fmt.Sprintf("the value is longer than %d characters", maxChangeLen)
	case strings.IndexFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\t' }) >= 0:
		return "the value contains control characters"
	}
	for _, ref := range targets {
		_, t := p.LookupTable(policy.TableRef{System: ref.System, Table: ref.Table}, nil)
		f := t.Field(ref.Column)
		if f.Identity == identity.Email || taxonomy.Within(f.Category, "user.contact.email") {
			if _, err := identity.Normalize(identity.Email, v); err != nil {
				return fmt.Sprintf("%q is not an email address", v)
			}
		}
	}
	return ""
}

// namesKey reports whether a change key names a key identity field (one
// changeTargets leaves out because it identifies rows).
func (s *Service) namesKey(key string) bool {
	_, rest, ok := strings.Cut(key, ":")
	if !ok {
		rest = key
	}
	col := rest[strings.LastIndexByte(rest, '.')+1:]
	for _, sys := range s.Policy.Systems {
		for _, t := range sys.Tables {
			if f := t.Field(col); f != nil && f.Identity != "" && !slices.Contains([]string{"email", "phone", "username"}, f.Identity) {
				return true
			}
		}
	}
	return false
}

// changeTargets resolves a change key to the fields it updates: fields of
// tables that hold an identity field (the subject's own records).
func (s *Service) changeTargets(key string) []policy.Ref {
	var out []policy.Ref
	sysName, rest, hasSys := strings.Cut(key, ":")
	if !hasSys {
		rest, sysName = key, ""
	}
	table, col := "", rest
	if i := strings.LastIndexByte(rest, '.'); i >= 0 {
		table, col = rest[:i], rest[i+1:]
	}
	for _, sys := range s.Policy.Systems {
		if sysName != "" && sys.Name != sysName {
			continue
		}
		for _, t := range sys.Tables {
			if table != "" && t.Name != table {
				continue
			}
			f := t.Field(col)
			if f == nil || f.Identity != "" && f.Identity != "email" && f.Identity != "phone" && f.Identity != "username" {
				continue // keys that identify rows are not rectified
			}
			hasIdentity := slices.ContainsFunc(t.Fields, func(f *policy.Field) bool { return f.Identity != "" })
			if !hasIdentity {
				continue
			}
			out = append(out, policy.Ref{System: sys.Name, Table: t.Name, Column: col})
		}
	}
	return out
}
