package dsr

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/identity"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/throttle"
)

// TableRecord is what erasure did to one table: the evidence that goes
// into the certificate.
type TableRecord struct {
	System string `json:"system"`
	Table  string `json:"table"`
	// Mention names the columns through which the rows name the subject,
	// for rows that are someone else's; empty for the subject's own rows.
	Mention string `json:"mention,omitempty"`
	// Action is "deleted", "masked", "kept" (held), "left" (rows of
	// others that name the subject, with no strategy for the column) or
	// "none".
	Action string `json:"action"`
	// Rows is the number of rows deleted (deleted), changed (masked) or
	// kept (kept).
	Rows   int64         `json:"rows"`
	Fields []FieldRecord `json:"fields,omitempty"`
	Reason string        `json:"reason,omitempty"` // why rows were kept
	For    string        `json:"for,omitempty"`    // how long they are kept
	// Expired counts held rows whose hold period was over: deleted.
	Expired int64 `json:"expired,omitempty"`
	// Held counts rows kept because they belong to held rows of another
	// table (an invoice's lines, with the invoice).
	Held int64 `json:"held,omitempty"`
	// Cascades are what the database itself did to other tables when
	// these rows were deleted (its ON DELETE rules).
	Cascades []CascadeRecord `json:"cascades,omitempty"`
	Extra    map[string]any  `json:"-"`
}

// CascadeRecord is what a database's ON DELETE rule did to the rows of a
// table that referenced deleted rows.
type CascadeRecord struct {
	Table   string `json:"table"`
	Columns string `json:"columns"`
	// Action is "deleted" (ON DELETE CASCADE), "set null" (SET NULL or
	// SET DEFAULT) or "left" (foreign keys not enforced).
	Action string `json:"action"`
	Rows   int64  `json:"rows"`
	// Others counts the rows among them that are not the subject's.
	Others int64 `json:"others,omitempty"`
}

// FieldRecord is what erasure did to one column.
type FieldRecord struct {
	Column string `json:"column"`
	Method string `json:"method"`
	Rows   int64  `json:"rows"`
	Reason string `json:"reason,omitempty"`
	For    string `json:"for,omitempty"`
}

// hmacBatch is how many rows are pseudonymised per read.
const hmacBatch = 1000

// awaiting is returned by erase when the brake stops it: the request
// waits for an operator's approval.
type awaiting struct{ reasons []string }

func (a *awaiting) Error() string {
	return "erasure stopped by the brake: " + strings.Join(a.reasons, "; ")
}

// errRestricted reports a foreign key that forbids the erasure: the
// policy must say what becomes of the rows that reference the subject's.
type errRestricted struct{ msg string }

func (e *errRestricted) Error() string { return e.msg }

func (s *Service) erase(ctx context.Context, plan *Plan, r *Request, cs *conns, progress func(Progress)) (*Result, error) {
	started := s.now()
	if held, err := s.underHold(ctx, plan, r, cs); err != nil {
		return nil, err
	} else if held != "" {
		// A legal hold (litigation, an investigation) overrides the right
		// to erasure (GDPR art. 17(3)(e)): nothing is erased, and the
		// certificate says so — and verifies nothing, since nothing was to
		// be erased.
		reason := "the subject is under a legal hold (" + held + "); nothing was erased — vow hold list"
		cert, err := s.certify(ctx, r, []TableRecord{{System: "vow", Table: "(all)", Action: "kept", Reason: reason}}, started, verification{held: true})
		if err != nil {
			return nil, err
		}
		s.event(ctx, r, "request.held", map[string]any{"identity": held})
		return &Result{Found: true, Certificate: cert, Message: "kept: " + reason, Held: true}, nil
	}
	if err := s.keyless(ctx, plan, cs); err != nil {
		return nil, err
	}
	approved := r.Approval != nil && r.Approval.ApprovedAt != nil
	if !s.systemsDone(ctx, r, eraseSystems(plan)) {
		// The brake looks before the first change, also after an
		// approval: what was approved is what it saw then, and reasons it
		// did not see need an approval of their own.
		reasons, err := s.brake(ctx, plan, r, cs)
		if err != nil {
			return nil, err
		}
		if approved {
			reasons = slices.DeleteFunc(reasons, func(why string) bool { return slices.Contains(r.Approval.Reasons, why) })
		}
		if len(reasons) > 0 {
			return nil, &awaiting{reasons}
		}
	}
	var records []TableRecord
	syss := eraseSystems(plan)
	idx := 0
	for _, sys := range syss {
		recs, err := s.erasePass(ctx, plan, r, cs, sys, "erase", approved, func(p Progress) { p.Index += idx; progress(p) })
		if err != nil {
			return nil, err
		}
		records = append(records, recs...)
		idx += len(recs)
		if err := s.pause(ctx); err != nil {
			return nil, err
		}
	}
	if s.crashHook != nil {
		s.crashHook("before-verify")
	}

	if len(plan.Services) > 0 {
		answers, err := s.callServices(ctx, plan, r, Erasure)
		if err != nil {
			return nil, err
		}
		records = append(records, serviceRecords(plan, answers)...)
	}
	if len(s.EraseHooks) > 0 {
		recs, err := s.runHooks(ctx, r)
		if err != nil {
			return nil, err
		}
		records = append(records, recs...)
	}

	progress(Progress{Step: "verify", Index: len(plan.Steps), Total: len(plan.Steps)})
	// Second passes of an earlier run that committed before it crashed:
	// what they did is on the certificate, though nothing remains now.
	again := *r
	again.keys = r.keys.withSaved()
	next := 1 // the number of the next second pass ("again1", …)
	for {
		any := false
		for _, sys := range syss {
			recs, ok, err := s.passDone(ctx, &again, cs, sys, fmt.Sprintf("again%d", next))
			if err != nil {
				return nil, err
			}
			if ok {
				records, any = addRecords(records, recs), true
			}
		}
		if !any {
			break
		}
		next++
	}
	remaining, err := s.verifyErased(ctx, plan, r, cs)
	if err != nil {
		return nil, err
	}
	if len(remaining) > 0 {
		// Verification and the second pass match by the keys saved
		// before the erasure: none of them may have been handed to
		// someone else since (then what verification found may be
		// theirs). Nothing remaining, the question does not arise.
		if err := s.checkReuse(ctx, plan, r, cs, true); err != nil {
			return nil, err
		}
		// Rows the application wrote for the subject during the erasure:
		// erase once more, by the live parents and by those saved before
		// the erasure (a row whose parents are gone is found only by the
		// latter), then they must be gone.
		s.event(ctx, r, "request.erase_again", map[string]any{"remaining": remaining})
		for _, sys := range syss {
			recs, err := s.erasePass(ctx, plan, &again, cs, sys, fmt.Sprintf("again%d", next), approved, func(Progress) {})
			if err != nil {
				return nil, err
			}
			// What the second pass did is on the certificate too.
			records = addRecords(records, recs)
		}
		if remaining, err = s.verifyErased(ctx, plan, r, cs); err != nil {
			return nil, err
		}
		if len(remaining) > 0 {
			return nil, fmt.Errorf("dsr: after erasure, erasable data remains in %s", strings.Join(remaining, ", "))
		}
	}
	residual, searched, err := s.residual(ctx, plan, r, cs)
	if err != nil {
		return nil, err
	}
	cert, err := s.certify(ctx, r, records, started, verification{remaining: residual, searched: searched})
	if err != nil {
		return nil, err
	}
	res := &Result{Rows: map[string]int64{}, Certificate: cert}
	var deleted, masked, kept, cascaded int64
	for _, rec := range records {
		id := rec.System + ":" + rec.Table
		if rec.Mention != "" {
			id += "#" + rec.Mention
		}
		res.Rows[id] = rec.Rows
		switch rec.Action {
		case "deleted":
			deleted += rec.Rows
		case "masked":
			masked += rec.Rows
		case "kept":
			kept += rec.Rows
		}
		deleted += rec.Expired
		for _, c := range rec.Cascades {
			cascaded += c.Rows
		}
		res.Found = res.Found || rec.Rows > 0 || rec.Expired > 0
	}
	switch {
	case !res.Found:
		res.Message = "no data found for this subject; nothing was erased"
	default:
		res.Message = fmt.Sprintf("erased: %d rows deleted, %d rows masked, %d rows kept under legal hold", deleted, masked, kept)
		if cascaded > 0 {
			res.Message += fmt.Sprintf("; the database's own rules changed %d more", cascaded)
		}
	}
	if len(residual) > 0 {
		var where []string
		for _, x := range residual {
			where = append(where, x.String())
		}
		res.Message += "; not verified: the subject's identity remains in " + strings.Join(where, ", ")
	}
	return res, nil
}

// addRecords adds the rows of more to the records of the same tables.
func addRecords(records, more []TableRecord) []TableRecord {
	for _, m := range more {
		i := slices.IndexFunc(records, func(r TableRecord) bool {
			return r.System == m.System && r.Table == m.Table && r.Mention == m.Mention
		})
		if i < 0 {
			if m.Rows > 0 || m.Expired > 0 {
				records = append(records, m)
			}
			continue
		}
		r := &records[i]
		if r.Action == "none" {
			r.Action = m.Action
		}
		if m.Action != "kept" {
			r.Rows += m.Rows // kept rows are a count of what is there, not a change
		}
		r.Expired += m.Expired
		r.Cascades = append(r.Cascades, m.Cascades...)
		for _, f := range m.Fields {
			j := slices.IndexFunc(r.Fields, func(x FieldRecord) bool { return x.Column == f.Column })
			if j < 0 {
				r.Fields = append(r.Fields, f)
			} else if f.Method != string(policy.Hold) {
				r.Fields[j].Rows += f.Rows
			}
		}
	}
	return records
}

// systemsDone reports whether any system's erasure is recorded already:
// a resumed run does not brake what has begun.
func (s *Service) systemsDone(ctx context.Context, r *Request, syss []string) bool {
	for _, sys := range syss {
		if _, done, err := s.stepDone(ctx, r.ID, passKey("erase", sys)); err == nil && done {
			return true
		}
		if _, pending, err := s.stepDone(ctx, r.ID, pendingKey("erase", sys)); err == nil && pending {
			return true
		}
	}
	return false
}

// eraseSystems lists the systems in the order erasure visits them: the
// systems of the deepest steps first, so that a system whose rows refer to
// another's (billing's customers to the app's users) is erased before it.
func eraseSystems(plan *Plan) []string {
	out := systems(plan)
	slices.Reverse(out)
	return out
}

// runHooks erases what Vow itself holds about the subject, once.
func (s *Service) runHooks(ctx context.Context, r *Request) ([]TableRecord, error) {
	const key = "erase:vow"
	data, done, err := s.stepDone(ctx, r.ID, key)
	if err != nil {
		return nil, err
	}
	var recs []TableRecord
	if done {
		if err := json.Unmarshal(data, &recs); err != nil {
			return nil, fmt.Errorf("dsr: request %s: stored step %s: %w", r.ID, key, err)
		}
		return recs, nil
	}
	for _, h := range s.EraseHooks {
		got, err := h(ctx, r.Identities)
		if err != nil {
			return nil, fmt.Errorf("dsr: erase Vow's own records: %w", err)
		}
		recs = append(recs, got...)
	}
	if err := s.markDone(ctx, r.ID, key, recs); err != nil {
		return nil, err
	}
	return recs, nil
}

// pending is what an erasure of one system recorded just before it
// committed in the customer's database: the records it is about to
// commit, and a witness row whose state tells afterwards whether the
// commit happened.
type pending struct {
	Records []TableRecord `json:"records"`
	Witness *witness      `json:"witness,omitempty"`
}

// decodePending reads a stored pending record with its witness's values
// as they were: numbers as int64 (a float64 would turn the key
// 1234567890123456789 into …768, and reconcile would look at another
// row), binary and non-UTF-8 text keys as themselves.
func decodePending(data []byte) (pending, error) {
	var p pending
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&p); err != nil {
		return p, err
	}
	if p.Witness != nil {
		numbers(p.Witness.Vals)
		numbers(p.Witness.Args)
	}
	return p, nil
}

// witness is one row the erasure's transaction changed: Cond is true of
// it before the change (the row exists; its column is not yet masked) and
// false after. While the transaction is open the row is locked, so only
// the commit can have made Cond false.
type witness struct {
	Table string   `json:"table"`
	Key   []string `json:"key"`
	Vals  []any    `json:"vals"`
	Cond  string   `json:"cond"` // with ? placeholders
	Args  []any    `json:"args,omitempty"`
}

// passKey names the record of a pass ("erase"; "again1", "again2", … for
// the second passes after verification, one per run that needed one) over
// one system; pendingKey the record of what it was about to commit.
func passKey(pass, system string) string { return pass + ":" + system }

func pendingKey(pass, system string) string { return "pending:" + passKey(pass, system) }

// erasePass runs one pass of the erasure over one system and records it,
// or returns what a run before this one recorded (or committed and did
// not record: see reconcile).
func (s *Service) erasePass(ctx context.Context, plan *Plan, r *Request, cs *conns, sys, pass string, approved bool, progress func(Progress)) ([]TableRecord, error) {
	recs, done, err := s.passDone(ctx, r, cs, sys, pass)
	if err != nil || done {
		return recs, err
	}
	if recs, err = s.eraseSystem(ctx, plan, r, cs, sys, pass, approved, progress); err != nil {
		return nil, err
	}
	if err := s.recordPass(ctx, r.ID, sys, pass, recs); err != nil {
		return nil, err
	}
	if s.crashHook != nil {
		s.crashHook(crashPoint(pass, "recorded:"+sys))
	}
	return recs, nil
}

// passDone returns the records of a pass over sys that a run recorded,
// or whose commit a crashed run had announced and made (then recorded
// now); done is false when the pass is still to run.
func (s *Service) passDone(ctx context.Context, r *Request, cs *conns, sys, pass string) ([]TableRecord, bool, error) {
	key := passKey(pass, sys)
	data, done, err := s.stepDone(ctx, r.ID, key)
	if err != nil {
		return nil, false, err
	}
	if done {
		var recs []TableRecord
		if err := json.Unmarshal(data, &recs); err != nil {
			return nil, false, fmt.Errorf("dsr: request %s: stored step %s: %w", r.ID, key, err)
		}
		return recs, true, nil
	}
	recs, committed, err := s.reconcile(ctx, r, cs, sys, pass)
	if err != nil || !committed {
		return nil, false, err
	}
	return recs, true, s.recordPass(ctx, r.ID, sys, pass, recs)
}

// recordPass records a pass as done and clears what it announced, at once.
func (s *Service) recordPass(ctx context.Context, id, sys, pass string, recs []TableRecord) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := s.markDoneIn(ctx, tx, id, passKey(pass, sys), recs); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, s.Store.Rebind(`DELETE FROM request_steps WHERE request_id = ? AND step = ?`), id, pendingKey(pass, sys)); err != nil {
			return s.Store.Wrap(err, "dsr: clear pending step")
		}
		return s.eventTx(ctx, tx, id, "request.step_done", map[string]any{"step": passKey(pass, sys), "tables": len(recs)})
	})
}

// clearPending forgets what a pass announced and did not commit, so that
// it runs afresh.
func (s *Service) clearPending(ctx context.Context, id, sys, pass string) error {
	_, err := s.Store.DB().ExecContext(ctx, s.Store.Rebind(`DELETE FROM request_steps WHERE request_id = ? AND step = ?`), id, pendingKey(pass, sys))
	if err != nil {
		return s.Store.Wrap(err, "dsr: clear pending step")
	}
	return nil
}

// crashPoint names a crash point of a pass: the first pass's as they
// are, the others' prefixed ("again1:before-commit:app").
func crashPoint(pass, point string) string {
	if pass == "erase" {
		return point
	}
	return pass + ":" + point
}

// reconcile settles a system whose erasure was interrupted after it
// recorded what it was about to commit: when the witness shows the commit
// happened, the pending records are what was done (a rerun would find
// nothing and record nothing — a certificate that lies). It reports
// committed false when there is nothing pending or the commit did not
// happen; the pending record is then cleared for a fresh run.
func (s *Service) reconcile(ctx context.Context, r *Request, cs *conns, system, pass string) ([]TableRecord, bool, error) {
	data, found, err := s.stepDone(ctx, r.ID, pendingKey(pass, system))
	if err != nil || !found {
		return nil, false, err
	}
	p, err := decodePending(data)
	if err != nil {
		return nil, false, fmt.Errorf("dsr: request %s: stored pending step of %s: %w", r.ID, system, err)
	}
	if p.Witness == nil {
		return nil, false, s.clearPending(ctx, r.ID, system, pass) // it changed nothing: run again
	}
	c, err := cs.get(ctx, system)
	if err != nil {
		return nil, false, err
	}
	d := c.Dialect()
	w := p.Witness
	conds := make([]string, len(w.Key))
	for i, k := range w.Key {
		conds[i] = d.Column(k) + " = ?"
	}
	q := d.Rebind("SELECT count(*) FROM " + d.Ident(w.Table) + " WHERE " + strings.Join(conds, " AND ") + " AND (" + w.Cond + ")")
	var n int64
	if err := c.DB().QueryRowContext(ctx, q, append(slices.Clone(w.Vals), w.Args...)...).Scan(&n); err != nil {
		return nil, false, c.Translate(ctx, "reconcile erasure of "+system, err)
	}
	s.event(ctx, r, "request.reconciled", map[string]any{"system": system, "pass": pass, "committed": n == 0})
	if n == 0 {
		return p.Records, true, nil
	}
	return nil, false, s.clearPending(ctx, r.ID, system, pass)
}

// eraseSystem applies the erasure to every step of one system in one
// transaction, in the plan's erase order: either all of the system's data
// is erased or none is, and a rerun after a crash starts clean. Just
// before it commits, it records what it is about to commit (and a
// witness), so that a crash between the commit and Vow's own record is
// reconciled to the truth.
func (s *Service) eraseSystem(ctx context.Context, plan *Plan, r *Request, cs *conns, system, pass string, approved bool, progress func(Progress)) ([]TableRecord, error) {
	c, err := cs.get(ctx, system)
	if err != nil {
		return nil, err
	}
	sc, err := s.schema(ctx, system, c)
	if err != nil {
		return nil, err
	}
	if err := s.awaitLoad(ctx, system, c); err != nil {
		return nil, err
	}
	tx, err := c.DB().BeginTx(ctx, nil)
	if err != nil {
		return nil, c.Translate(ctx, "begin erasure", err)
	}
	defer tx.Rollback()
	e := &eraser{s: s, tx: tx, c: c, plan: plan, r: r, schema: sc, approved: approved, stampZones: map[string]*time.Location{}}
	for _, st := range plan.EraseOrder {
		if st.System == system && st.masks() {
			if e.stampZones[st.Table], err = s.stampZone(ctx, cs, system, st.Table); err != nil {
				return nil, err
			}
		}
	}
	var recs []TableRecord
	n := 0
	for _, st := range plan.EraseOrder {
		if st.System != system {
			continue
		}
		n++
		rec, err := e.step(ctx, st)
		if err != nil {
			return nil, err
		}
		progress(Progress{Step: st.ID(), Index: n, Total: len(plan.Steps), Rows: rec.Rows, Done: true})
		recs = append(recs, rec)
		if err := s.pause(ctx); err != nil {
			return nil, err
		}
		if s.crashHook != nil {
			s.crashHook(crashPoint(pass, "erase:"+st.ID()))
		}
	}
	if err := s.markDone(ctx, r.ID, pendingKey(pass, system), pending{Records: recs, Witness: e.witness}); err != nil {
		return nil, err
	}
	if s.crashHook != nil {
		s.crashHook(crashPoint(pass, "before-commit:"+system))
	}
	if err := tx.Commit(); err != nil {
		return nil, c.Translate(ctx, "commit erasure", err)
	}
	if s.crashHook != nil {
		s.crashHook(crashPoint(pass, "after-commit:"+system))
	}
	return recs, nil
}

// awaitLoad holds an erasure back while the system's database is past the
// policy's critical load (retention.throttle): a subject's erasure is one
// transaction, which cannot slow down once started, so it waits to start
// — up to critical_wait, after which the request waits and is retried
// (throttle.ErrCritical is a reason to wait, like a database that is
// down).
func (s *Service) awaitLoad(ctx context.Context, system string, c connector.SQL) error {
	p := throttle.ProberFor(c.Dialect().Kind(), c.DB())
	if p == nil {
		return nil
	}
	if err := throttle.New(throttle.FromPolicy(s.Policy.Retention.Throttle), p).Before(ctx); err != nil {
		return fmt.Errorf("dsr: system %s: %w", system, err)
	}
	return nil
}

// eraser carries one system's erasure transaction through its steps.
type eraser struct {
	s        *Service
	tx       *sql.Tx
	c        connector.SQL
	plan     *Plan
	r        *Request
	schema   *connector.Schema
	approved bool
	witness  *witness
	// stampZones are the zones the columns the server stamps on update
	// are in, by table (Service.stampZone).
	stampZones map[string]*time.Location
}

// stamper stamps the UPDATEs of st's rows (connector.Stamps) but for the
// columns the erasure sets.
func (e *eraser) stamper(st *Step) *stamper {
	var set []string
	for _, f := range st.Erase.Fields {
		if f.Method != policy.Hold {
			set = append(set, f.Column)
		}
	}
	return newStamper(e.c.Dialect(), e.schema.Table(st.Table), e.stampZones[st.Table], set...)
}

func (e *eraser) exec(ctx context.Context, st *Step, op, q string, args ...any) (int64, error) {
	res, err := e.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, e.c.Translate(ctx, op+" "+st.ID(), err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

func (e *eraser) count(ctx context.Context, st *Step, q string, args []any) (int64, error) {
	var n int64
	if err := e.tx.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, e.c.Translate(ctx, "count "+st.ID(), err)
	}
	return n, nil
}

// whereFn renders a step's condition with its parameters numbered after
// pre, and returns pre followed by its own arguments.
type whereFn func(pre []any) (string, []any)

// also returns the condition of w AND extra, where extra is written with ?
// for its own arguments xargs.
func (w whereFn) also(d connector.Dialect, extra string, xargs ...any) whereFn {
	return func(pre []any) (string, []any) {
		where, args := w(pre)
		return where + " AND (" + numbered(d, extra, len(args)+1) + ")", append(args, xargs...)
	}
}

// except returns the condition of w AND NOT x; x nil is w.
func (w whereFn) except(x whereFn) whereFn {
	if x == nil {
		return w
	}
	return func(pre []any) (string, []any) {
		a, args := w(pre)
		b, args := x(args)
		return a + " AND (" + b + ") IS NOT TRUE", args // NULL is not TRUE: the row is not excepted
	}
}

// with returns the condition of w AND x.
func (w whereFn) with(x whereFn) whereFn {
	return func(pre []any) (string, []any) {
		a, args := w(pre)
		b, args := x(args)
		return a + " AND (" + b + ")", args
	}
}

// numbered writes the ? placeholders of a condition in the dialect's
// form, numbered from first, leaving quoted text and identifiers alone.
func numbered(d connector.Dialect, cond string, first int) string {
	if d.Kind() != "postgres" {
		return cond
	}
	var b strings.Builder
	n := first
	var quote byte
	for i := 0; i < len(cond); i++ {
		c := cond[i]
		switch {
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '\'' || c == '"':
			quote = c
		case c == '?':
			b.WriteString(d.Param(n))
			n++
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

// see records the witness of the transaction: the first row a step is
// about to change that satisfies cond (written with ? for condArgs).
func (e *eraser) see(ctx context.Context, st *Step, wf whereFn, cond string, condArgs ...any) error {
	if e.witness != nil || len(st.PrimaryKey) == 0 {
		return nil
	}
	d := e.c.Dialect()
	where, args := wf.also(d, cond, condArgs...)(nil)
	q := "SELECT " + keyList(d, st.PrimaryKey) + " FROM " + d.Ident(st.Table) + " WHERE " + where + " LIMIT 1"
	if d.Kind() != "sqlite" {
		q += " FOR UPDATE" // held until commit: only the commit can change it
	}
	vals, err := tuples(ctx, e.tx, e.c, "read "+st.ID(), q, args, len(st.PrimaryKey))
	if err != nil || len(vals) == 0 {
		return err
	}
	kv, ok := vals[0].([]any)
	if !ok {
		kv = []any{vals[0]}
	}
	e.witness = &witness{Table: st.Table, Key: st.PrimaryKey, Vals: kv, Cond: cond, Args: condArgs}
	return nil
}

// step erases one step's rows.
func (e *eraser) step(ctx context.Context, st *Step) (TableRecord, error) {
	if st.Role == RoleMention {
		return e.mention(ctx, st)
	}
	d := e.c.Dialect()
	table := d.Ident(st.Table)
	keys, err := e.s.inlineParents(ctx, e.tx, e.c, e.plan, st, e.r)
	if err != nil {
		return TableRecord{}, err
	}
	wf := whereFn(func(pre []any) (string, []any) { return e.plan.WhereAfter(st, e.r.Identities, keys, pre) })
	rec := TableRecord{System: st.System, Table: st.Table, Action: "none"}
	kept := e.plan.keptWith(d, st, e.r.Identities, keys, e.s.now(), 0)
	if kept != nil && !st.Erase.Hold {
		// Rows that belong to held rows (an invoice's lines) stay with
		// them; the rest of the table's rows are erased as it says.
		where, args := wf.with(kept)(nil)
		n, err := e.count(ctx, st, "SELECT count(*) FROM "+table+" WHERE "+where, args)
		if err != nil {
			return rec, err
		}
		rec.Held = n
		wf = wf.except(kept)
	}
	switch {
	case st.Erase.Delete && st.unshared != "":
		// Owned rows (an address) others also reference stay.
		where, args := wf(nil)
		all, err := e.count(ctx, st, "SELECT count(*) FROM "+table+" WHERE "+where, args)
		if err != nil {
			return rec, err
		}
		n, casc, err := e.delete(ctx, st, wf.also(d, st.unshared))
		rec.Action, rec.Rows, rec.Cascades = "deleted", n, casc
		if all > n {
			rec.Reason = fmt.Sprintf("%d rows kept: other people's rows reference them too", all-n)
		}
		return rec, err
	case st.Erase.Delete:
		n, casc, err := e.delete(ctx, st, wf)
		rec.Action, rec.Rows, rec.Cascades = "deleted", n, casc
		return rec, err
	case st.Erase.Hold:
		rec.Action, rec.Reason, rec.For = "kept", st.Erase.Reason, st.Erase.For
		if cut, ok := holdCutoff(st, e.s.now()); ok {
			// Rows older than the hold's period are no longer held —
			// unless they belong to held rows (an invoice's lines under a
			// shorter hold of their own stay with the invoice).
			expired := wf.before(d, st, cut).except(kept)
			n, casc, err := e.delete(ctx, st, expired)
			if err != nil {
				return rec, err
			}
			rec.Expired, rec.Cascades = n, casc
		}
		where, args := wf(nil)
		n, err := e.count(ctx, st, "SELECT count(*) FROM "+table+" WHERE "+where, args)
		rec.Rows = n
		if err != nil || !st.Erase.Acts() {
			return rec, err
		}
		// The rows are kept; what the policy says to change in them
		// (a reference to detach) still changes.
		masked, err := e.mask(ctx, st, wf, TableRecord{})
		rec.Fields = masked.Fields
		return rec, err
	}
	return e.mask(ctx, st, wf, rec)
}

// instant writes t for the step's Erase.From column (connector.InstantOf).
func instant(st *Step, t time.Time) connector.Instant {
	return connector.InstantOf(st.Kind, st.fromType, st.fromSample, st.fromZone, t)
}

// before narrows w to the rows whose Erase.From is before t.
func (w whereFn) before(d connector.Dialect, st *Step, t time.Time) whereFn {
	at := instant(st, t)
	return w.also(d, d.Column(st.Erase.From)+" < "+at.Param, at.Arg)
}

// delete deletes the rows of st matching where, after accounting for
// what the database's own ON DELETE rules will do to the rows that
// reference them: rows of other people a cascade would delete stop the
// erasure (unless an operator approved it), and a RESTRICT that would
// fail it is reported in words.
func (e *eraser) delete(ctx context.Context, st *Step, wf whereFn) (int64, []CascadeRecord, error) {
	d := e.c.Dialect()
	table := d.Ident(st.Table)
	casc, err := e.cascades(ctx, st, wf)
	if err != nil {
		return 0, nil, err
	}
	if err := e.see(ctx, st, wf, "1 = 1"); err != nil {
		return 0, nil, err
	}
	where, args := wf(nil)
	n, err := e.exec(ctx, st, "delete from", "DELETE FROM "+table+" WHERE "+where, args...)
	return n, casc, err
}

// reference is a foreign key of the live schema into a step's table, with
// the rows that reference the step's rows through it.
type reference struct {
	table    string // the referencing table, as the schema names it
	fk       connector.ForeignKey
	rows     int64 // rows referencing the step's rows
	others   int64 // of which not the subject's own rows of that table
	enforced bool  // the database enforces foreign keys
}

// references counts, per foreign key of the live schema into st's table,
// the rows that reference st's rows (those matching wf) — and, where the
// database cascades the delete, the rows referencing those in turn, so
// that a chain (an organization's repositories, their findings) is seen
// to its end.
func (e *eraser) references(ctx context.Context, st *Step, wf whereFn) ([]reference, error) {
	return e.referencesOf(ctx, st, wf, false)
}

// coveredChild reports whether the rows of table that reference st's rows
// through cols are all the subject's own, rows the plan erases itself: a
// step of that table matches exactly that relation to st, and keeps
// nothing (no hold, no rows kept with held ones).
func (e *eraser) coveredChild(st *Step, table string, cols []string) bool {
	for _, o := range e.plan.Steps {
		if o.Role != RoleSubject || o.System != st.System || !strings.EqualFold(o.Table, table) {
			continue
		}
		if o.Erase.Hold || e.plan.keptWith(e.c.Dialect(), o, e.r.Identities, e.r.keys, e.s.now(), 0) != nil {
			return false
		}
		for _, m := range o.Matches {
			if m.Parent == st.ID() && slices.EqualFunc(m.Columns, cols, strings.EqualFold) {
				return true
			}
		}
	}
	return false
}

// referencesOf is references; before the erasure (preflight) it skips the
// references that the subject's own rows make, which the plan erases
// first: counting a heavy subject's children twice would cost more than
// what it tells.
func (e *eraser) referencesOf(ctx context.Context, st *Step, wf whereFn, preflight bool) ([]reference, error) {
	enforced, err := e.foreignKeysEnforced(ctx)
	if err != nil {
		return nil, err
	}
	live := e.schema.Table(st.Table)
	if live == nil {
		return nil, nil
	}
	d := e.c.Dialect()
	// parent selects the referenced columns of the rows deleted at one
	// level of the chain.
	var walk func(table string, parent func(cols []string) (string, []any), depth int) ([]reference, error)
	walk = func(table string, parent func(cols []string) (string, []any), depth int) ([]reference, error) {
		var out []reference
		for _, lt := range e.schema.Tables {
			for _, fk := range lt.ForeignKeys {
				if !strings.EqualFold(fk.RefTable, table) {
					continue
				}
				if preflight && depth == 0 && e.coveredChild(st, lt.Name, fk.Columns) {
					continue
				}
				sub, args := parent(fk.RefColumns)
				ref := colList(d, fk.Columns)
				if len(fk.Columns) > 1 {
					ref = "(" + ref + ")"
				}
				// The derived table lets MySQL read the table a statement
				// also names.
				cond := ref + " IN (SELECT * FROM (" + sub + ") vow_ref)"
				if depth == 0 && lt.Name == live.Name {
					// A row of the subject's referencing another of theirs
					// goes with it.
					w2, a2 := wf(args)
					cond += " AND (" + w2 + ") IS NOT TRUE"
					args = a2
				}
				q := "SELECT count(*) FROM " + d.Ident(lt.Name) + " WHERE " + cond
				n, err := e.count(ctx, st, q, args)
				if err != nil {
					return nil, err
				}
				if n == 0 {
					continue
				}
				others, err := e.notSubjects(ctx, st, lt.Name, q, args, n)
				if err != nil {
					return nil, err
				}
				out = append(out, reference{table: lt.Name, fk: fk, rows: n, others: others, enforced: enforced})
				if fk.OnDelete != connector.ActionCascade || !enforced || depth >= maxCascadeDepth || strings.EqualFold(lt.Name, table) {
					continue
				}
				lt, cond, args := lt, cond, args
				more, err := walk(lt.Name, func(cols []string) (string, []any) {
					return "SELECT " + colList(d, cols) + " FROM " + d.Ident(lt.Name) + " WHERE " + cond, args
				}, depth+1)
				if err != nil {
					return nil, err
				}
				out = append(out, more...)
			}
		}
		return out, nil
	}
	return walk(live.Name, func(cols []string) (string, []any) {
		where, args := wf(nil)
		return "SELECT " + colList(d, cols) + " FROM " + d.Ident(st.Table) + " WHERE " + where, args
	}, 0)
}

// maxCascadeDepth bounds how far a chain of ON DELETE CASCADE is followed.
const maxCascadeDepth = 5

// cascades says, for the rows about to be deleted, what the database's
// own ON DELETE rules will do to the rows that still reference them
// (the plan's own children are gone by then): rows of other people a
// cascade would delete stop the erasure unless an operator approved it;
// a RESTRICT that would fail it is reported in words.
func (e *eraser) cascades(ctx context.Context, st *Step, wf whereFn) ([]CascadeRecord, error) {
	refs, err := e.references(ctx, st, wf)
	if err != nil {
		return nil, err
	}
	var out []CascadeRecord
	for _, ref := range refs {
		cr := CascadeRecord{Table: st.System + ":" + ref.table, Columns: strings.Join(ref.fk.Columns, ", "), Rows: ref.rows, Others: ref.others}
		switch {
		case !ref.enforced:
			cr.Action = "left"
		case ref.fk.OnDelete == "CASCADE":
			cr.Action = "deleted"
			if ref.rows > ref.others && e.keeps(st.System, ref.table) {
				return nil, &errRestricted{fmt.Sprintf("dsr: deleting the subject's rows of %s would make the database delete rows of %s that the policy keeps (a hold; ON DELETE CASCADE on %s): "+
					"make the foreign key ON DELETE SET NULL and give %s erase: nullify, or hold %s too; then vow request retry (vow check --live: cascade-deletes-held)",
					st.ID(), ref.table, cr.Columns, ref.table+"."+ref.fk.Columns[0], st.Table)}
			}
			if ref.others > 0 && !e.approved {
				return nil, &awaiting{[]string{fmt.Sprintf("deleting the subject's rows of %s would make the database delete %d rows of %s that are not the subject's (ON DELETE CASCADE on %s)",
					st.ID(), ref.others, ref.table, cr.Columns)}}
			}
		case ref.fk.OnDelete == "SET NULL" || ref.fk.OnDelete == "SET DEFAULT":
			cr.Action = "set null"
		default:
			return nil, &errRestricted{restrictMessage(st, ref)}
		}
		out = append(out, cr)
	}
	return out, nil
}

// keeps reports whether the plan keeps rows of a table: it is held, or
// its rows belong to held rows.
func (e *eraser) keeps(system, table string) bool {
	for _, st := range e.plan.Steps {
		if st.System == system && strings.EqualFold(st.Table, table) && st.Role == RoleSubject {
			if st.Erase.Hold || e.plan.keptWith(e.c.Dialect(), st, e.r.Identities, e.r.keys, e.s.now(), 0) != nil {
				return true
			}
		}
	}
	return false
}

// notSubjects counts the rows among n rows of table (selected by q with
// args) that are not the subject's own rows of that table.
func (e *eraser) notSubjects(ctx context.Context, st *Step, table, q string, args []any, n int64) (int64, error) {
	var sub *Step
	for _, pt := range e.plan.policy.System(st.System).Tables {
		if strings.EqualFold(pt.Name, table) {
			sub = e.plan.SubjectStep(st.System, pt.Name)
		}
	}
	if sub == nil {
		return n, nil
	}
	w, a := e.plan.WhereAfter(sub, e.r.Identities, e.r.keys, args)
	mine, err := e.count(ctx, st, q+" AND "+w, a)
	if err != nil {
		return 0, err
	}
	return n - mine, nil
}

// foreignKeysEnforced reports whether the database enforces foreign keys
// on this connection: SQLite does only with PRAGMA foreign_keys on.
func (e *eraser) foreignKeysEnforced(ctx context.Context) (bool, error) {
	if e.c.Dialect().Kind() != "sqlite" {
		return true, nil
	}
	var on int
	if err := e.tx.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&on); err != nil {
		return false, e.c.Translate(ctx, "read foreign_keys", err)
	}
	return on == 1, nil
}

// mention applies, to rows of someone else that name the subject, the
// strategy of each mentioning column: in each row only the columns that
// name the subject there change.
func (e *eraser) mention(ctx context.Context, st *Step) (TableRecord, error) {
	rec := TableRecord{System: st.System, Table: st.Table, Mention: strings.Join(st.Mention, ","), Action: "none"}
	keys, err := e.s.inlineParents(ctx, e.tx, e.c, e.plan, st, e.r)
	if err != nil {
		return rec, err
	}
	if !st.Erase.Acts() {
		where, args := e.plan.Where(st, e.r.Identities, keys)
		n, err := e.count(ctx, st, "SELECT count(*) FROM "+e.c.Dialect().Ident(st.Table)+" WHERE "+where, args)
		rec.Rows = n
		if n > 0 {
			// Not held: the policy says nothing to do to them. What the
			// database's ON DELETE rule does is on the parent's record.
			rec.Action, rec.Reason = "left", "no erasure strategy for "+rec.Mention
		}
		return rec, err
	}
	for _, m := range st.Matches {
		wf := whereFn(func(pre []any) (string, []any) { return e.plan.MatchWhere(st, m, e.r.Identities, keys, pre) })
		one := *st
		one.Erase.Fields = slices.DeleteFunc(slices.Clone(st.Erase.Fields), func(f FieldErasure) bool { return !slices.Contains(m.Columns, f.Column) })
		r, err := e.mask(ctx, &one, wf, TableRecord{System: st.System, Table: st.Table})
		if err != nil {
			return rec, err
		}
		rec.Rows += r.Rows
		rec.Fields = append(rec.Fields, r.Fields...)
	}
	if len(rec.Fields) > 0 {
		rec.Action = "masked"
	}
	return rec, nil
}

// mask applies the field strategies of st to its rows matching where.
func (e *eraser) mask(ctx context.Context, st *Step, wf whereFn, rec TableRecord) (TableRecord, error) {
	d := e.c.Dialect()
	table := d.Ident(st.Table)
	where, args := wf(nil)
	rec.Action = "none"
	// Count first: the UPDATEs below may null the very column that ties
	// the rows to the subject.
	var sums []string
	var sumArgs []any
	var sets assignments
	var masked []int // indexes into rec.Fields counted by sums
	lastHMAC := -1
	// A column the step finds its rows by is pseudonymised last, with the
	// other columns riding along: changed first, it would no longer find
	// the rows whose other columns remain.
	fields := slices.Clone(st.Erase.Fields)
	slices.SortStableFunc(fields, func(a, b FieldErasure) int {
		return boolInt(st.matchesOn(a.Column)) - boolInt(st.matchesOn(b.Column))
	})
	st = &Step{System: st.System, Table: st.Table, Kind: st.Kind, Role: st.Role, Mention: st.Mention, Matches: st.Matches,
		Erase:      TableErasure{Delete: st.Erase.Delete, Hold: st.Erase.Hold, Reason: st.Erase.Reason, For: st.Erase.For, From: st.Erase.From, Fields: fields},
		PrimaryKey: st.PrimaryKey, Collect: st.Collect, unshared: st.unshared}
	for i, f := range st.Erase.Fields {
		col := d.Column(f.Column)
		fr := FieldRecord{Column: f.Column, Method: string(f.Method)}
		switch f.Method {
		case policy.HMAC:
			lastHMAC = i
		case policy.Hold:
			n, err := e.count(ctx, st, "SELECT count(*) FROM "+table+" WHERE "+where+" AND "+col+" IS NOT NULL", args)
			if err != nil {
				return rec, err
			}
			fr.Rows, fr.Reason, fr.For = n, f.Reason, f.For
		case policy.Nullify:
			sums = append(sums, "SUM(CASE WHEN "+col+" IS NOT NULL THEN 1 ELSE 0 END)")
			sets = append(sets, assignment{name: f.Column, column: col, null: true})
			masked = append(masked, len(rec.Fields))
		case policy.Set:
			sumArgs = append(sumArgs, f.Value)
			sums = append(sums, "SUM(CASE WHEN "+col+" IS NOT NULL AND "+col+" <> "+d.Param(len(sumArgs))+" THEN 1 ELSE 0 END)")
			sets = append(sets, assignment{name: f.Column, column: col, value: f.Value})
			masked = append(masked, len(rec.Fields))
		}
		rec.Fields = append(rec.Fields, fr)
	}
	if len(sums) > 0 {
		w, a := wf(sumArgs)
		counts := make([]sql.NullInt64, len(sums))
		ptrs := make([]any, len(sums))
		for i := range counts {
			ptrs[i] = &counts[i]
		}
		if err := e.tx.QueryRowContext(ctx, "SELECT "+strings.Join(sums, ", ")+" FROM "+table+" WHERE "+w, a...).Scan(ptrs...); err != nil {
			return rec, e.c.Translate(ctx, "count "+st.ID(), err)
		}
		for i, fi := range masked {
			rec.Fields[fi].Rows = counts[i].Int64
		}
	}
	if err := e.seeMask(ctx, st, wf); err != nil {
		return rec, err
	}
	stamp := e.stamper(st)
	// The other columns' assignments ride along with the last pseudonym
	// column's UPDATEs, so rows with a value there are written once, not
	// twice (an audit log's 27,000 rows); the closing UPDATE reaches only
	// the rest (rows with no value to pseudonymise).
	for i, f := range st.Erase.Fields {
		if f.Method != policy.HMAC {
			continue
		}
		var along assignments
		if i == lastHMAC {
			along = sets
		}
		n, err := e.s.pseudonymise(ctx, e.tx, e.c, st, wf, f.Column, e.schema.Table(st.Table).Column(f.Column), along, stamp)
		if err != nil {
			return rec, err
		}
		rec.Fields[i].Rows = n
	}
	if len(sets) > 0 {
		// The server stamps only the rows that change: some of the
		// subject's may hold the values already.
		cond, cargs := stamp.changes(sets)
		set, a := stamp.prefix(cond, cargs)
		more, margs := sets.sql(d, len(a))
		set, a = set+more, append(a, margs...)
		w, a := wf(a)
		if lastHMAC >= 0 {
			// Rows with a value there were written with it, above.
			w += " AND " + d.Column(st.Erase.Fields[lastHMAC].Column) + " IS NULL"
		}
		if _, err := e.exec(ctx, st, "mask", "UPDATE "+table+" SET "+set+" WHERE "+w, a...); err != nil {
			return rec, err
		}
	}
	for _, fr := range rec.Fields {
		if fr.Method != string(policy.Hold) && fr.Rows > rec.Rows {
			rec.Rows = fr.Rows
		}
	}
	if len(rec.Fields) > 0 {
		rec.Action = "masked"
	}
	return rec, nil
}

// matchesOn reports whether the step finds its rows by column.
func (s *Step) matchesOn(column string) bool {
	return slices.ContainsFunc(s.Matches, func(m Match) bool { return slices.Contains(m.Columns, column) })
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// seeMask picks the witness among rows a mask is about to change: a row
// with a value in a column that is nulled or pseudonymised.
func (e *eraser) seeMask(ctx context.Context, st *Step, wf whereFn) error {
	if e.witness != nil {
		return nil
	}
	for _, f := range st.Erase.Fields {
		col := e.c.Dialect().Column(f.Column)
		switch f.Method {
		case policy.Nullify:
			return e.see(ctx, st, wf, col+" IS NOT NULL")
		case policy.HMAC:
			if lc := e.schema.Table(st.Table).Column(f.Column); lc != nil && identity.ClassOf(lc.Base()) == identity.Integer {
				return e.see(ctx, st, wf, col+" >= 0") // an integer's pseudonym is negative
			}
			return e.see(ctx, st, wf, col+" IS NOT NULL AND "+col+" NOT LIKE ?", keyring.PseudonymPrefix+"%")
		case policy.Set:
			return e.see(ctx, st, wf, "("+col+" IS NULL OR "+col+" <> ?)", f.Value)
		}
	}
	return nil
}

// maxInline caps how many parent values are inlined into one statement.
const maxInline = 20000

// inlineParents reads, on MySQL/MariaDB, the parent values a step's
// statements match on, so that its UPDATE and DELETE say col IN (values)
// instead of col IN (SELECT …): MariaDB runs the latter as a scan of the
// whole table, row by row, whatever the indexes — and refuses a subquery
// on the very table an UPDATE changes. PostgreSQL and SQLite plan the
// subqueries well and keep them. Parents are read inside the erasure's
// transaction, before they change (children go first).
func (s *Service) inlineParents(ctx context.Context, tx *sql.Tx, c connector.SQL, plan *Plan, st *Step, r *Request) (*Keys, error) {
	if c.Dialect().Kind() != "mysql" {
		return r.keys, nil
	}
	d := c.Dialect()
	vals := map[string][]any{}
	for _, m := range st.Matches {
		if m.Parent == "" || m.Carried(st) {
			continue
		}
		parent := plan.Step(m.Parent)
		if len(m.Columns) == 1 {
			if _, ok := r.keys.rootsFor(parent, m.ParentColumns[0]); ok {
				continue // already a list of values
			}
		}
		where, args := plan.Where(parent, r.Identities, r.keys)
		list, err := tuples(ctx, tx, c, "read "+parent.ID(), "SELECT DISTINCT "+keyList(d, m.ParentColumns)+" FROM "+d.Ident(parent.Table)+" WHERE "+where+" AND "+notNull(d, m.ParentColumns), args, len(m.ParentColumns))
		if err != nil {
			return nil, err
		}
		if len(list) <= maxInline {
			vals[m.carriedKey()] = list
		}
	}
	if len(vals) == 0 {
		return r.keys, nil
	}
	keys := r.keys.withInline(vals)
	if _, args := plan.Where(st, r.Identities, keys); overParams(d, len(args)) {
		// Text keys by the tens of thousands would pass the statement's
		// parameter limit: the parents' subquery stands instead.
		return r.keys, nil
	}
	return keys, nil
}

// pseudonymise replaces each value of column by its keyed pseudonym. The
// pseudonym depends only on the value, so there is one UPDATE per distinct
// value (an audit log's 27,000 rows of one email are one statement), read
// in batches so memory stays flat however many values there are. Values
// already pseudonymised are left alone, so a rerun changes nothing.
func (s *Service) pseudonymise(ctx context.Context, tx *sql.Tx, c connector.SQL, st *Step, wf whereFn, field string, live *connector.Column, along assignments, stamp *stamper) (int64, error) {
	d := c.Dialect()
	col, table := d.Column(field), d.Ident(st.Table)
	// The same pseudonym retention writes: shortened to a narrow column,
	// a negative number in an integer one.
	intish, width := false, 0
	if live != nil {
		intish = identity.ClassOf(live.Base()) == identity.Integer
		width = textWidth(live.Base())
	}
	masked := func(text string) bool {
		if intish {
			n, err := strconv.ParseInt(text, 10, 64)
			return err == nil && n < 0
		}
		return keyring.IsPseudonym(text)
	}
	pseudonym := func(text string) any {
		if intish {
			n, _ := strconv.ParseInt(text, 10, 64)
			return s.Keys.PseudonymInt(n)
		}
		return s.Keys.PseudonymFit(text, width)
	}
	var (
		last    any
		changed int64
	)
	for {
		where, args := wf(nil)
		// The values as the rows hold them (on SQLite, a DATETIME's text,
		// not a time parsed from it): each is given back to find its rows.
		sel := "SELECT " + d.AsStored(col) + " AS " + col + " FROM " + table + " WHERE " + where + " AND " + col + " IS NOT NULL"
		if last != nil {
			args = append(args, last)
			sel += " AND " + col + " > " + d.Param(len(args))
		}
		q := "SELECT DISTINCT " + strings.TrimPrefix(sel, "SELECT ") + fmt.Sprintf(" ORDER BY %s LIMIT %d", col, hmacBatch)
		if d.Kind() == "postgres" {
			// The subject's rows first, by the index of their condition,
			// then their values in order. Asked for the first values in
			// order, PostgreSQL may instead walk an index of the column
			// across the whole table and filter: 3 s for a subject with
			// one address in 27,500 audit-log rows of 1.4 million.
			q = "WITH vow_v AS MATERIALIZED (" + sel + ") SELECT DISTINCT " + col + " FROM vow_v ORDER BY " + col + fmt.Sprintf(" LIMIT %d", hmacBatch)
		}
		batch, err := column(ctx, tx, c, "read "+st.ID(), q, args)
		if err != nil {
			return changed, err
		}
		for _, v := range batch {
			text := storedText(v)
			var set string
			var a []any
			switch {
			case !masked(text):
				// The value changes: every row is stamped.
				set, a = stamp.prefix("", nil)
				set, a = set+col+" = "+d.Param(len(a)+1), append(a, pseudonym(text))
				if len(along) > 0 {
					more, margs := along.sql(d, len(a))
					set, a = set+", "+more, append(a, margs...)
				}
			case len(along) > 0:
				// Pseudonymised already (an earlier erasure): the value
				// stays, the other columns are still set here, and
				// stamped where they change.
				cond, cargs := stamp.changes(along)
				set, a = stamp.prefix(cond, cargs)
				more, margs := along.sql(d, len(a))
				set, a = set+more, append(a, margs...)
			default:
				continue
			}
			w, a := wf.also(d, col+" = ?", v)(a)
			res, err := tx.ExecContext(ctx, "UPDATE "+table+" SET "+set+" WHERE "+w, a...)
			if err != nil {
				return changed, c.Translate(ctx, "pseudonymise "+st.ID()+"."+field, err)
			}
			if !masked(text) {
				n, _ := res.RowsAffected()
				changed += n
			}
		}
		if len(batch) < hmacBatch {
			return changed, nil
		}
		last = batch[len(batch)-1]
	}
}

// storedText is a value read back by column or tuples as the text it is
// stored as: a binary value's bytes, not their hex, so that a keyed
// pseudonym is the one retention computes for the same value.
func storedText(v any) string {
	switch x := v.(type) {
	case binaryKey:
		return string(x)
	case textKey:
		return string(x)
	}
	return fmt.Sprint(v)
}

// textWidth is the declared width of a text column ("varchar(20)" → 20),
// or 0.
func textWidth(typ string) int {
	if m := lengthRE.FindStringSubmatch(typ); m != nil {
		n, _ := strconv.Atoi(m[1])
		return n
	}
	return 0
}

// assignment is the SET clause of a nullify or set field.
type assignment struct {
	name   string
	column string // quoted
	null   bool
	value  any
}

type assignments []assignment

// sql renders the assignments with their parameters numbered after the
// first n of the statement.
func (as assignments) sql(d connector.Dialect, n int) (string, []any) {
	out := make([]string, len(as))
	var args []any
	for i, a := range as {
		if a.null {
			out[i] = a.column + " = NULL"
			continue
		}
		args = append(args, a.value)
		out[i] = a.column + " = " + d.Param(n+len(args))
	}
	return strings.Join(out, ", "), args
}

// verifyErased re-reads the subject's rows and returns the tables that
// still hold data the erasure should have removed. It reads twice: by the
// plan's live conditions (rows written while the erasure ran), and by the
// parent values saved before anything changed — a child two levels down
// is found by its parent's saved keys even after the parent is gone.
func (s *Service) verifyErased(ctx context.Context, plan *Plan, r *Request, cs *conns) ([]string, error) {
	var out []string
	// One pass, matching both the live parents and those saved before
	// the erasure.
	passes := []*Keys{r.keys.withSaved()}
	for _, st := range plan.Steps {
		if !st.Erase.Acts() && !st.Erase.Hold {
			continue
		}
		c, err := cs.get(ctx, st.System)
		if err != nil {
			return nil, err
		}
		d := c.Dialect()
		for _, keys := range passes {
			for _, chk := range checks(d, plan, st, keys, r, s.now()) {
				where, args := chk.wf(nil)
				var n int64
				if chk.column != "" {
					n, err = s.unpseudonymised(ctx, c, st, where, args, chk.column)
				} else {
					err = c.DB().QueryRowContext(ctx, "SELECT count(*) FROM "+d.Ident(st.Table)+" WHERE "+where, args...).Scan(&n)
					if err != nil {
						err = c.Translate(ctx, "verify "+st.ID(), err)
					}
				}
				if err != nil {
					return nil, err
				}
				if n > 0 {
					what := st.ID()
					if chk.column != "" {
						what += "." + chk.column
					}
					if e := fmt.Sprintf("%s (%d rows)", what, n); !slices.Contains(out, e) {
						out = append(out, e)
					}
				}
			}
		}
	}
	return out, nil
}

// check is one verification query: rows matching wf remain; with column
// set, rows whose column is not yet a pseudonym remain.
type check struct {
	wf     whereFn
	column string
}

// checks are the verification queries of a step: what must be gone
// after its erasure.
func checks(d connector.Dialect, plan *Plan, st *Step, keys *Keys, r *Request, now time.Time) []check {
	var out []check
	arms := st.Matches
	if st.Role == RoleSubject {
		arms = []Match{{}} // the whole step at once
	}
	kept := plan.keptWith(d, st, r.Identities, keys, now, 0)
	for _, m := range arms {
		wf := whereFn(func(pre []any) (string, []any) {
			if st.Role == RoleMention {
				return plan.MatchWhere(st, m, r.Identities, keys, pre)
			}
			return plan.WhereAfter(st, r.Identities, keys, pre)
		})
		if !st.Erase.Hold {
			wf = wf.except(kept) // rows kept with held rows are not to be gone
		}
		switch {
		case st.Erase.Delete && st.unshared != "":
			out = append(out, check{wf: wf.also(d, st.unshared)})
			continue
		case st.Erase.Delete:
			out = append(out, check{wf: wf})
			continue
		case st.Erase.Hold && st.Erase.From != "" && st.Erase.For != "":
			// Rows past their hold period must be gone.
			if dur, err := policy.ParseDuration(st.Erase.For); err == nil {
				past := wf.before(d, st, dur.Before(now))
				out = append(out, check{wf: past.except(kept)}) // except those held rows keep
			}
		}
		for _, f := range st.Erase.Fields {
			if st.Role == RoleMention && !slices.Contains(m.Columns, f.Column) {
				continue
			}
			col := d.Column(f.Column)
			switch f.Method {
			case policy.Nullify:
				out = append(out, check{wf: wf.also(d, col+" IS NOT NULL")})
			case policy.Set:
				out = append(out, check{wf: wf.also(d, col+" IS NOT NULL AND "+col+" <> ?", f.Value)})
			case policy.HMAC:
				out = append(out, check{wf: wf, column: f.Column})
			}
		}
	}
	return out
}

func (s *Service) unpseudonymised(ctx context.Context, c connector.SQL, st *Step, where string, args []any, column string) (int64, error) {
	d := c.Dialect()
	rows, err := c.DB().QueryContext(ctx, "SELECT "+d.Column(column)+" FROM "+d.Ident(st.Table)+" WHERE "+where+" AND "+d.Column(column)+" IS NOT NULL", args...)
	if err != nil {
		return 0, c.Translate(ctx, "verify "+st.ID(), err)
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var v any
		if err := rows.Scan(&v); err != nil {
			return 0, c.Translate(ctx, "verify "+st.ID(), err)
		}
		if n64, isInt := keyValue(v).(int64); isInt && n64 < 0 {
			continue // an integer column's pseudonym (keyring.PseudonymInt)
		}
		if !keyring.IsPseudonym(fmt.Sprint(keyValue(v))) {
			n++
		}
	}
	return n, rows.Err()
}
