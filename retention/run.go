package retention

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/throttle"
)

// Rule statuses in a [Report].
const (
	StatusDone    = "done"    // every expired row handled
	StatusPartial = "partial" // stopped by the time budget or the database's load, or expired rows are still there; the next run resumes
	StatusFailed  = "failed"  // an error stopped the rule; the next run resumes
	// StatusBraked: the brake stopped the rule before it changed anything;
	// it runs when an operator approves it (Options.Approve).
	StatusBraked = "braked"
)

// Report is the outcome of one run.
type Report struct {
	ID         string       `json:"id"`
	StartedAt  time.Time    `json:"started_at"`
	FinishedAt time.Time    `json:"finished_at"`
	Status     string       `json:"status"` // ok, partial or failed
	Actor      string       `json:"actor"`
	DryRun     bool         `json:"dry_run"`
	Rules      []RuleResult `json:"rules"`
}

// RuleResult is one rule's part of a run.
type RuleResult struct {
	Rule     string `json:"rule"`
	Table    string `json:"table,omitempty"`
	Action   string `json:"action,omitempty"`
	Status   string `json:"status"`
	Rows     int64  `json:"rows"`
	Cascaded int64  `json:"cascaded"`
	Held     int64  `json:"held"`
	Batches  int64  `json:"batches"`
	// Partitions were dropped whole. Their rows are counted in Rows where
	// the partition had never been analysed; otherwise PartitionRows
	// holds the statistics' estimate of them (counting them would read
	// every row the drop saves reading).
	Partitions    []string      `json:"partitions,omitempty"`
	PartitionRows int64         `json:"partition_rows_estimated,omitempty"`
	Duration      time.Duration `json:"duration_ns"`
	Resumed       bool          `json:"resumed,omitempty"`
	Error         string        `json:"error,omitempty"`
	// Throttle says how the run paced itself (absent when it ran no
	// batch).
	Throttle *throttle.Stats `json:"throttle,omitempty"`
}

// Rows is the total of rows deleted or anonymised.
func (r *Report) Rows() int64 {
	var n int64
	for _, x := range r.Rules {
		n += x.Rows
	}
	return n
}

// addPartitionRows counts rows that went with a whole partition: exact
// ones with the batches' in Rows, estimated ones in PartitionRows.
func (r *RuleResult) addPartitionRows(n int64, exact bool) {
	if exact {
		r.Rows += n
	} else {
		r.PartitionRows += n
	}
}

// PartitionRows is the statistics' estimate of the rows that went with
// whole partitions (not in Rows).
func (r *Report) PartitionRows() int64 {
	var n int64
	for _, x := range r.Rules {
		n += x.PartitionRows
	}
	return n
}

// Failed reports whether a rule failed.
func (r *Report) Failed() bool {
	return slices.ContainsFunc(r.Rules, func(x RuleResult) bool { return x.Status == StatusFailed || x.Status == StatusBraked })
}

// Run executes the selected rules and records the run in the state store.
// A rule that fails (its datastore is down, its condition is rejected)
// is reported with its error and the others still run; Run's own error is
// for what stops the whole run (no state store). A cancelled ctx stops
// the current rule after its batch's transaction is rolled back; the
// checkpoint lets the next run resume.
// runLeased runs one rule under its lease: a command run beside the
// scheduler (or another command) waits its turn instead of working the
// same checkpoint at once.
func (e *Engine) runLeased(ctx context.Context, cs *conns, i int, runID string, opt Options, deadline time.Time, holds map[string][]string) RuleResult {
	name := e.Policy.Retention.Rules[i].Name
	holder := opt.Holder
	if holder == "" {
		holder = state.NewHolder()
	}
	lctx, release, err := e.Store.Hold(ctx, state.Lease{Name: LeaseName(name), Holder: holder, TTL: leaseTTL, Now: e.now})
	if errors.Is(err, state.ErrLeaseHeld) {
		return RuleResult{Rule: name, Status: StatusFailed, Error: "another run holds this rule (" + oneLine(err) + "); nothing was done: run it again later"}
	}
	if err != nil {
		return RuleResult{Rule: name, Status: StatusFailed, Error: oneLine(err)}
	}
	defer release()
	return e.runRule(lctx, cs, i, runID, opt, deadline, holds)
}

// leaseTTL is a command run's lease on a rule without renewal.
const leaseTTL = 5 * time.Minute

// Run runs the retention rules opt selects (every rule when it names
// none), each under its lease, and reports what each found and did.
func (e *Engine) Run(ctx context.Context, opt Options) (*Report, error) {
	if e.Store == nil {
		return nil, errors.New("retention: run needs the state store")
	}
	idx, err := e.selected(opt.Rules)
	if err != nil {
		return nil, err
	}
	if opt.Actor == "" {
		opt.Actor = "vow"
	}
	var rnd [8]byte
	_, _ = rand.Read(rnd[:])
	rep := &Report{ID: "ret_" + hex.EncodeToString(rnd[:]), StartedAt: e.now(), Status: "ok", Actor: opt.Actor, DryRun: opt.DryRun}
	if err := e.startRun(ctx, rep); err != nil {
		return nil, err
	}
	names := make([]string, len(idx))
	for n, i := range idx {
		names[n] = e.Policy.Retention.Rules[i].Name
	}
	data, _ := json.Marshal(map[string]any{"run": rep.ID, "rules": names, "dry_run": opt.DryRun, "policy": e.Policy.File})
	if _, err := e.Store.Append(ctx, state.Event{Kind: "retention.run.started", Subject: rep.ID, Actor: opt.Actor, Data: data}); err != nil {
		return nil, err
	}
	var deadline time.Time
	if opt.Budget > 0 {
		deadline = time.Now().Add(opt.Budget)
	}
	holds, herr := e.holds(ctx)
	cs := &conns{e: e, open: map[string]*conn{}}
	defer cs.close()
	for _, i := range idx {
		var rr RuleResult
		name := e.Policy.Retention.Rules[i].Name
		switch {
		case herr != nil:
			rr = RuleResult{Rule: name, Status: StatusFailed, Error: oneLine(herr)}
		case opt.leased || opt.DryRun:
			rr = e.runRule(ctx, cs, i, rep.ID, opt, deadline, holds)
		default:
			rr = e.runLeased(ctx, cs, i, rep.ID, opt, deadline, holds)
		}
		rep.Rules = append(rep.Rules, rr)
		e.logger().Info("retention: rule", "rule", rr.Rule, "status", rr.Status, "rows", rr.Rows, "cascaded", rr.Cascaded, "duration", rr.Duration, "error", rr.Error)
		if ctx.Err() != nil {
			break
		}
	}
	for _, rr := range rep.Rules {
		switch {
		case rr.Status == StatusFailed || rr.Status == StatusBraked:
			rep.Status = "failed"
		case rr.Status == StatusPartial && rep.Status == "ok":
			rep.Status = "partial"
		}
	}
	rep.FinishedAt = e.now()
	// Record the outcome even when ctx was cancelled: a crash report is
	// what an operator needs most.
	rec, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := e.finishRun(rec, rep); err != nil {
		return rep, err
	}
	data, _ = json.Marshal(map[string]any{"run": rep.ID, "status": rep.Status, "rows": rep.Rows(), "partition_rows_estimated": rep.PartitionRows(), "rules": rep.Rules})
	if _, err := e.Store.Append(rec, state.Event{Kind: "retention.run.finished", Subject: rep.ID, Actor: opt.Actor, Data: data}); err != nil {
		return rep, err
	}
	return rep, nil
}

// runRule runs rule i in batches until no expired row is left, the budget
// is spent, ctx is done or an error occurs.
func (e *Engine) runRule(ctx context.Context, cs *conns, i int, runID string, opt Options, deadline time.Time, holds map[string][]string) (rr RuleResult) {
	r := e.Policy.Retention.Rules[i]
	rr = RuleResult{Rule: r.Name, Table: r.Table, Status: StatusDone}
	start := time.Now()
	defer func() { rr.Duration = time.Since(start) }()
	fail := func(err error) RuleResult {
		rr.Status, rr.Error = StatusFailed, oneLine(err)
		return rr
	}
	var cp *checkpoint
	if !opt.DryRun {
		var err error
		if cp, err = e.loadCheckpoint(ctx, r.Name); err != nil {
			return fail(err)
		}
	}
	var cutoff time.Time
	if cp != nil {
		cutoff, rr.Resumed = cp.Cutoff, true
	}
	j, c, err := e.prepare(ctx, cs, i, e.now(), cutoff, holds)
	if err != nil {
		return fail(err)
	}
	rr.Table, rr.Action = j.sys.Name+":"+j.table.Name, j.action
	// Partitions whose every row has expired are dropped whole; their
	// rows are not counted (the statistics' estimate stands in for the
	// brake and the report), the rest of the table's are.
	var parts []partition
	if !opt.DryRun {
		if parts, err = j.wholePartitions(ctx, c); err != nil {
			return fail(c.c.Translate(ctx, "list partitions of "+j.table.Name, err))
		}
	}
	var rp RulePlan
	if err := j.count(ctx, c, &rp, parts); err != nil {
		return fail(err)
	}
	rr.Held = rp.Held
	// What the run expects to remove: the brake's number, progress's total.
	expected := rp.Rows + estimate(parts)
	if !slices.Contains(opt.Approve, r.Name) {
		unknown, err := j.uncounted(ctx, c, parts)
		if err != nil {
			return fail(c.c.Translate(ctx, "count the rows of "+j.table.Name+"'s expired partitions", err))
		}
		expected += unknown
		why, err := j.brake(ctx, c, expected)
		if err != nil {
			return fail(err)
		}
		if why != "" {
			rr.Status, rr.Error = StatusBraked, why
			return rr
		}
	}
	if opt.DryRun {
		rr.Rows = rp.Rows
		for _, cc := range rp.Cascade {
			rr.Cascaded += cc.Rows
		}
		return rr
	}
	// Rows a stopped run moved out of the table but did not drop go first.
	left, err := j.leftovers(ctx, c)
	if err != nil {
		return fail(c.c.Translate(ctx, "list what an earlier run left of "+j.table.Name, err))
	}
	for _, p := range left {
		n, exact, err := j.dropLeftover(ctx, c, p)
		if err != nil {
			return fail(c.c.Translate(ctx, "drop "+p.name+", left by an earlier run of the rule", err))
		}
		if n == 0 {
			continue // an empty copy a stopped run made: nothing was removed
		}
		rr.addPartitionRows(n, exact)
		rr.Partitions = append(rr.Partitions, p.name)
		e.logger().Info("retention: dropped the rows an earlier run had moved out", "rule", r.Name, "table", p.name)
	}
	var dropped []partition
	for _, p := range parts {
		if err := context.Cause(ctx); err != nil {
			return fail(fmt.Errorf("stopped: %w (the next run resumes)", err))
		}
		n, exact, err := j.dropPartition(ctx, c, p)
		name := p.name
		switch {
		case errors.Is(err, errPartitionBusy):
			// Its rows go one batch at a time below.
			e.logger().Info("retention: a partition was busy; its rows are purged in batches", "rule", r.Name, "partition", p.name)
			j.keep(p)
			continue
		case errors.Is(err, errPartitionKept):
			// Its rows went; rows written into it since stay, for the
			// batches below.
			j.keep(p)
			name += " (emptied; kept for rows written into it since)"
		case err != nil:
			return fail(c.c.Translate(ctx, "drop partition "+p.name+" of "+j.table.Name, err))
		default:
			dropped = append(dropped, p)
		}
		rr.addPartitionRows(n, exact)
		rr.Partitions = append(rr.Partitions, name)
		if opt.Progress != nil {
			opt.Progress(Progress{Rule: r.Name, Done: rr.Rows + rr.PartitionRows, Total: expected, Elapsed: time.Since(start)})
		}
	}
	if len(dropped) < len(parts) {
		// A busy or kept partition's rows were left out of the count:
		// count again, so that the batches reach them.
		if err := j.count(ctx, c, &rp, dropped); err != nil {
			return fail(err)
		}
	}
	if cp == nil {
		cp = &checkpoint{Rule: r.Name, Cutoff: j.cutoff}
	}
	cp.RunID = runID
	// Progress counts the partitions' rows too: done, and expected.
	total := rp.Rows + rr.Rows + rr.PartitionRows
	after := cp.LastKey
	saved := time.Now()
	th := throttle.New(e.throttleConfig(opt), throttle.ProberFor(j.d.Kind(), c.c.DB(), c.replicaDBs()...))
	defer func() {
		if st := th.Stats(); st.Batches > 0 || st.Waited > 0 {
			rr.Throttle = &st
		}
	}()
	if th.Config().Latency > 0 {
		cn, err := j.canary(ctx, c)
		if err != nil {
			return fail(c.c.Translate(ctx, "find a row of "+j.table.Name+" for the canary read", err))
		}
		if cn != nil {
			defer cn.Close()
			if err := th.Watch(ctx, cn); err != nil {
				return fail(c.c.Translate(ctx, "time the canary read of "+j.table.Name, err))
			}
			defer th.Close()
		}
	}
	win := newWindow(j, th.Size())
	// lo is where the next window of the rule's column starts; tied, when
	// set, is the value whose rows go by key first.
	var (
		lo   any
		tied *tie
	)
	windowed := j.windowed() && rp.Rows > 0
	if windowed {
		after = nil // a key an earlier run reached by key means nothing here
	}
batches:
	for {
		if err := ctx.Err(); err != nil {
			return fail(fmt.Errorf("stopped: %w (the next run resumes)", err))
		}
		// The budget is checked after the first batch: every run
		// progresses, however small its budget.
		if rr.Batches > 0 && !deadline.IsZero() && time.Now().After(deadline) {
			rr.Status = StatusPartial
			return rr
		}
		if err := th.Before(ctx); err != nil {
			if errors.Is(err, throttle.ErrCritical) {
				// The database is struggling: stop, and let the next run
				// resume from the checkpoint.
				rr.Status, rr.Error = StatusPartial, err.Error()
				e.logger().Warn("retention: stopped for the database's sake", "rule", r.Name, "reason", err)
				return rr
			}
			return fail(fmt.Errorf("stopped: %w (the next run resumes)", err))
		}
		var (
			keys       [][]any
			rows, casc int64
			last       bool
			err        error
			size       = th.Size()
			began      = time.Now()
		)
		// failed is what a batch's error ends the run with.
		failed := func(err error) RuleResult {
			if ctx.Err() != nil {
				return fail(fmt.Errorf("stopped: %w (the next run resumes)", ctx.Err()))
			}
			return fail(c.c.Translate(ctx, j.action+" rows of "+j.table.Name, err))
		}
		switch {
		case windowed && tied != nil:
			// The rows of one value of the rule's column, by key (see
			// timewindow.go); the next window starts after the value.
			jt := j.onTie(tied)
			var next []any
			if j.ranged() {
				hi, err := jt.upperBound(ctx, c, tied.after, size)
				if err != nil {
					return fail(c.c.Translate(ctx, "select expired rows of "+j.table.Name, err))
				}
				q, args := jt.rangeStatement(tied.after, hi)
				if rows, err = j.execRetried(ctx, c, q, args); err != nil {
					return failed(err)
				}
				next = hi
			} else {
				q, args := jt.selectBatch(tied.after, size)
				batch, n, nc, serr, err := j.keyBatch(ctx, c, q, args)
				if serr != nil {
					return fail(c.c.Translate(ctx, "select expired rows of "+j.table.Name, serr))
				}
				if err != nil {
					return failed(err)
				}
				rows, casc = n, nc
				if len(batch) == size {
					next = batch[len(batch)-1]
				}
			}
			if next == nil {
				lo, tied = tied.value, nil
			} else {
				tied.after = next
			}
		case windowed:
			// A window of the rule's column: one statement, or its keys
			// and then the batch as below. The checkpoint keeps no key: a
			// resumed run starts again from the oldest row left.
			hi, short, err := j.windowBound(ctx, c, lo, size)
			if err != nil {
				return fail(c.c.Translate(ctx, "select expired rows of "+j.table.Name, err))
			}
			if hi != nil && lo != nil && text(hi) == text(lo) {
				// The bound query asks for values after lo: this would
				// repeat the window for ever.
				return fail(fmt.Errorf("retention: the windows of %s.%s stopped at %s; report it", j.table.Name, j.rule.From, text(lo)))
			}
			last = hi == nil
			if j.ranged() {
				q, args := j.windowStatement(lo, hi, short)
				if rows, err = j.execRetried(ctx, c, q, args); err != nil {
					return failed(err)
				}
			} else {
				q, args := j.windowSelect(lo, hi, short)
				_, n, nc, serr, err := j.keyBatch(ctx, c, q, args)
				if serr != nil {
					return fail(c.c.Translate(ctx, "select expired rows of "+j.table.Name, serr))
				}
				if err != nil {
					return failed(err)
				}
				rows, casc = n, nc
			}
			if short {
				// More rows share hi than fit a batch: they go by key next.
				tied = &tie{value: hi}
			} else {
				lo = hi
			}
		case j.ranged():
			// One statement per batch, bounded by the key of the batch's
			// last row; the database re-checks the condition as it deletes.
			var hi []any
			lastWindow := false
			if win.ok(after) {
				win.batch = int64(size)
				hi, lastWindow = win.next(after)
			} else if hi, err = j.upperBound(ctx, c, after, size); err != nil {
				return fail(c.c.Translate(ctx, "select expired rows of "+j.table.Name, err))
			}
			q, args := j.rangeStatement(after, hi)
			if rows, err = j.execRetried(ctx, c, q, args); err != nil {
				return failed(err)
			}
			switch {
			case win.ok(after):
				win.adjust(rows)
				keys, last = [][]any{hi}, lastWindow
			case hi == nil:
				last = true
			default:
				keys = [][]any{hi}
			}
			if last && rows == 0 && len(keys) == 0 {
				break batches
			}
		default:
			q, args := j.selectBatch(after, size)
			keys, err = queryRows(ctx, c.c.DB(), j.d.Kind(), q, args)
			if err != nil {
				return fail(c.c.Translate(ctx, "select expired rows of "+j.table.Name, err))
			}
			if len(keys) == 0 {
				break batches
			}
			last = len(keys) < size
			if rows, casc, err = j.runBatchRetried(ctx, c, keys); err != nil {
				return failed(err)
			}
		}
		th.After(rows+casc, time.Since(began))
		rr.Rows += rows
		rr.Cascaded += casc
		rr.Batches++
		if len(keys) > 0 {
			after = keys[len(keys)-1]
		}
		cp.LastKey, cp.Rows = after, cp.Rows+rows
		// Checkpoints are written at most once a second (and before the
		// first batch's result is lost): a resumed run redoes at most that
		// much scanning, and deleted rows are not found again.
		if rr.Batches == 1 || time.Since(saved) > time.Second || last {
			// A run that lost its lease leaves the checkpoint to the run
			// that has it: writing ours could rewind it.
			if errors.Is(context.Cause(ctx), state.ErrLeaseLost) {
				return fail(context.Cause(ctx))
			}
			if err := e.saveCheckpoint(context.WithoutCancel(ctx), cp); err != nil {
				return fail(err)
			}
			saved = time.Now()
		}
		if opt.Progress != nil {
			opt.Progress(Progress{Rule: r.Name, Done: rr.Rows + rr.PartitionRows, Total: total, Cascaded: rr.Cascaded, Elapsed: time.Since(start)})
		}
		if last {
			break
		}
	}
	// No row the run was to take may still be there. When its batches
	// changed fewer rows than it counted at the start, it counts again:
	// a row the application moved or revived meanwhile — or one Vow could
	// not find by its own key, a bug that would otherwise report the rule
	// done with the rows in place. Not otherwise: on PostgreSQL the count
	// right after a purge walks every dead index entry it left (300 ms
	// after deleting 500,000 rows that took 550). Counted before the
	// checkpoint goes: if counting fails, the next run resumes at the end
	// and counts again.
	var missed int64
	switch {
	case rr.Rows < rp.Rows:
		if missed, err = j.remaining(ctx, c); err != nil {
			return fail(c.c.Translate(ctx, "count what is left of "+j.table.Name, err))
		}
	case j.d.Kind() == "sqlite" && !j.intKey():
		// Rows with NULL in their key (SQLite allows it outside an
		// INTEGER PRIMARY KEY) are never taken by key, and a row the
		// application wrote meanwhile can make up their number: look for
		// them by themselves.
		if missed, err = j.nullKeys(ctx, c); err != nil {
			return fail(c.c.Translate(ctx, "count what is left of "+j.table.Name, err))
		}
	}
	if err := e.deleteCheckpoint(ctx, r.Name); err != nil {
		return fail(err)
	}
	if missed > 0 {
		rr.Status = StatusPartial
		rr.Error = fmt.Sprintf("%d rows past the run's cutoff are still there to %s (changed by the application meanwhile, or not found by their keys): the next run takes them; if they stay after it, report it", missed, j.action)
		if nulls, err := j.nullKeys(ctx, c); err == nil && nulls > 0 {
			rr.Error = fmt.Sprintf("%d rows past the run's cutoff are still there to %s, %d of them with NULL in their key (%s), which batches by key never reach: give those rows keys, or %s them by hand",
				missed, j.action, nulls, strings.Join(j.pk, ", "), j.action)
		}
		e.logger().Warn("retention: rows left after the run", "rule", r.Name, "rows", missed)
	}
	return rr
}

// window chooses key windows for a rule with an integer key: each batch
// deletes the eligible rows with keys in (last, last+width], and width
// adapts to the density of expired rows so that a batch holds about the
// batch size. It saves the query that finds each batch's upper key, so a
// batch is one statement.
type window struct {
	j            *job
	width, batch int64
}

func newWindow(j *job, batch int) *window {
	if !j.intKeys {
		return nil
	}
	w := &window{j: j, batch: int64(batch)}
	span := j.keyMax - j.keyMin + 1
	w.width = max(1, int64(float64(span)/float64(max(1, j.countHint))*float64(batch)))
	return w
}

// ok reports whether windows apply from this position.
func (w *window) ok(after []any) bool {
	if w == nil {
		return false
	}
	if after == nil {
		return true
	}
	_, isInt := after[0].(int64)
	return isInt
}

// next returns the window's upper key and whether it is the last.
func (w *window) next(after []any) ([]any, bool) {
	lo := w.j.keyMin - 1
	if after != nil {
		lo = after[0].(int64)
	}
	hi := lo + w.width
	if hi >= w.j.keyMax || hi < lo { // hi < lo: overflow
		return []any{w.j.keyMax}, true
	}
	return []any{hi}, false
}

// adjust resizes the window after a batch of n rows.
func (w *window) adjust(n int64) {
	old := w.width
	if n == 0 {
		w.width = old * 2
	} else {
		w.width = int64(float64(old) * float64(w.batch) / float64(n))
	}
	w.width = min(max(w.width, old/4, 1), old*2)
	if span := w.j.keyMax - w.j.keyMin + 1; w.width > span {
		w.width = span
	}
}
