// Package retention enforces the retention rules of a policy: it finds the
// rows each rule says have expired, and deletes them (children first, by the
// relations the policy declares) or anonymises them (by the erasure
// strategies of their fields), in short keyset batches that leave the live
// workload alone.
//
// [Engine.Plan] is the dry run: per rule how many rows would go, the oldest,
// the statements, and warnings. [Engine.Run] executes: each batch is its own
// short transaction; progress is checkpointed per rule in Vow's state store
// so that a crashed or time-limited run resumes where it stopped; every run
// is recorded. Rows under legal hold — declared by the policy (erase: {hold:
// …}) or belonging to a subject with an open hold (package hold) — are
// skipped. [Scheduler] runs rules on a schedule, one instance at a time per
// rule when several share a PostgreSQL state store.
package retention

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/throttle"
)

// Actions a rule takes on expired rows.
const (
	ActionDelete    = "delete"
	ActionAnonymise = "anonymise"
)

// ErrRule is wrapped by errors caused by a rule the policy states wrongly
// (a bad where, a table without a primary key); the message points to the
// policy's file:line.
var ErrRule = errors.New("bad retention rule")

// Opener opens the datastore of a policy system; datastore.Resolver is one.
type Opener interface {
	Open(ctx context.Context, sys *policy.System) (connector.SQL, error)
	// OpenReplicas opens the system's declared replicas (none: nil).
	OpenReplicas(ctx context.Context, sys *policy.System) ([]connector.SQL, error)
}

// Pseudonymizer writes the pseudonyms of the hmac erasure strategy, the
// same way erasure requests do; *keyring.Keyring is one.
type Pseudonymizer interface {
	PseudonymFit(value string, width int) string
	PseudonymInt(value int64) int64
}

// HoldSource lists the subjects under an open legal hold, as identity kind
// → values; *hold.Book is one.
type HoldSource interface {
	Subjects(ctx context.Context) (map[string][]string, error)
}

// Engine plans and runs the retention rules of one policy.
type Engine struct {
	// Policy is the loaded policy whose rules are enforced.
	Policy *policy.Policy
	// Datastores opens each system's database.
	Datastores Opener
	// Store is Vow's state store: runs, checkpoints and leases. Plan works
	// without it; Run needs it.
	Store *state.Store
	// Holds lists subjects with an open legal hold; nil means none.
	Holds HoldSource
	// MAC writes the pseudonyms of fields erased with hmac; rules that
	// need it fail without it.
	MAC Pseudonymizer
	// Logger receives progress at debug level; nil discards.
	Logger *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (e *Engine) now() time.Time {
	if e.Now != nil {
		return e.Now().UTC()
	}
	return time.Now().UTC()
}

func (e *Engine) logger() *slog.Logger {
	if e.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return e.Logger
}

// Options tune a run.
type Options struct {
	// Rules limits the run to the rules with these names; all when empty.
	Rules []string
	// Batch, when set, fixes the number of rows per batch (per
	// transaction); when 0, batches are sized to the throttle's batch
	// time.
	Batch int
	// Pause is slept after every batch, on top of what the throttle asks.
	Pause time.Duration
	// Throttle overrides the policy's retention.throttle where its fields
	// are set (flags of vow retention run); see package throttle.
	Throttle throttle.Config
	// Budget bounds the run's time; when it is spent the run stops after
	// the current batch, and the next run resumes. 0 means no limit.
	Budget time.Duration
	// DryRun counts what would go and changes nothing.
	DryRun bool
	// Actor is recorded as who ran it; "vow" when empty.
	Actor string
	// Progress, when set, is called after every batch.
	Progress func(Progress)
	// Approve names rules an operator allows past the brake for this run:
	// a rule that would remove more of its table than the policy's brake
	// allows is otherwise stopped before it changes anything.
	Approve []string
	// Holder names this run in the rules' leases; host-pid-random when
	// empty.
	Holder string
	// leased: the caller (the scheduler) holds the rule's lease already.
	leased bool
}

// LeaseName is the name of a rule's lease (state.Hold): a run — the
// scheduler's or a command's — holds it while it runs the rule, so that
// two never run one rule at once.
func LeaseName(rule string) string { return "retention:" + rule }

// Progress reports a rule's progress after a batch.
type Progress struct {
	Rule     string
	Done     int64 // rows of the rule's table done in this run so far
	Total    int64 // rows expected at the start (an estimate: the count before the run)
	Cascaded int64
	Elapsed  time.Duration
}

// DefaultBatch is the first batch's size when Options.Batch is 0, and
// what the plan's statements show.
const DefaultBatch = 1000

// throttleConfig is the run's throttle: the policy's retention.throttle,
// overridden by opt.
func (e *Engine) throttleConfig(opt Options) throttle.Config {
	c := throttle.FromPolicy(e.Policy.Retention.Throttle)
	o := opt.Throttle
	c.BatchTime = cmp.Or(o.BatchTime, c.BatchTime)
	c.MaxBatch = cmp.Or(o.MaxBatch, c.MaxBatch)
	c.MinBatch = cmp.Or(o.MinBatch, c.MinBatch)
	c.Impact = cmp.Or(o.Impact, c.Impact)
	c.CriticalWait = cmp.Or(o.CriticalWait, c.CriticalWait)
	c.Latency = cmp.Or(o.Latency, c.Latency)
	c.CanaryEvery = o.CanaryEvery
	c.Rebaseline = o.Rebaseline
	c.ProbeEvery = o.ProbeEvery
	c.Max = overlay(c.Max, o.Max)
	c.Critical = overlay(c.Critical, o.Critical)
	c.Start, c.Fixed = DefaultBatch, false
	if opt.Batch > 0 {
		c.Start, c.Fixed = opt.Batch, true
	}
	c.Pause = opt.Pause
	return c
}

// overlay returns base with the fields top sets.
func overlay(base, top throttle.Limits) throttle.Limits {
	return throttle.Limits{
		ThreadsRunning: cmp.Or(top.ThreadsRunning, base.ThreadsRunning),
		LockWaits:      cmp.Or(top.LockWaits, base.LockWaits),
		HistoryLength:  cmp.Or(top.HistoryLength, base.HistoryLength),
		Lag:            cmp.Or(top.Lag, base.Lag),
	}
}

// selected returns the rules to act on, in policy order, with their index
// in the policy; an unknown name is an error.
func (e *Engine) selected(names []string) ([]int, error) {
	var idx []int
	if len(names) == 0 {
		for i := range e.Policy.Retention.Rules {
			idx = append(idx, i)
		}
		return idx, nil
	}
	for _, n := range names {
		found := false
		for i, r := range e.Policy.Retention.Rules {
			if r.Name == n {
				idx = append(idx, i)
				found = true
			}
		}
		if !found {
			return nil, fmt.Errorf("retention: no rule named %q in %s", n, e.Policy.File)
		}
	}
	return idx, nil
}

// ruleErr returns an error about rule i at key (e.g. "where") with the
// policy's file:line.
func (e *Engine) ruleErr(i int, key, format string, args ...any) error {
	path := fmt.Sprintf("retention.rules[%d]", i)
	if key != "" {
		path += "." + key
	}
	pos := e.Policy.PosOf(path)
	r := e.Policy.Retention.Rules[i]
	return fmt.Errorf("%s:%d: retention rule %q: %s: %w", e.Policy.File, pos.Line, r.Name, fmt.Sprintf(format, args...), ErrRule)
}

// conns opens each system once per plan or run.
type conns struct {
	e    *Engine
	open map[string]*conn
}

type conn struct {
	c       connector.SQL
	schema  *connector.Schema
	err     error
	samples map[string][2]string
	// declared is the system's time_zone; zone, once read, the zone of
	// its wall times (connector.ZoneOf), or zoneErr.
	declared string
	zone     *time.Location
	zoneErr  error
	// replicas are the system's declared replicas, read for their lag.
	replicas []connector.SQL
}

// replicaDBs returns the replicas' connection pools.
func (c *conn) replicaDBs() []*sql.DB {
	dbs := make([]*sql.DB, len(c.replicas))
	for i, r := range c.replicas {
		dbs[i] = r.DB()
	}
	return dbs
}

func (cs *conns) get(ctx context.Context, sys *policy.System) (*conn, error) {
	if c, ok := cs.open[sys.Name]; ok {
		return c, c.err
	}
	c := &conn{declared: sys.TimeZone}
	cs.open[sys.Name] = c
	c.c, c.err = cs.e.Datastores.Open(ctx, sys)
	if c.err != nil {
		c.err = fmt.Errorf("system %s: %w", sys.Name, c.err)
		return c, c.err
	}
	c.schema, c.err = c.c.Introspect(ctx)
	if c.err != nil {
		c.err = fmt.Errorf("system %s: %w", sys.Name, c.err)
		return c, c.err
	}
	// A replica the policy declares but Vow cannot read would leave the
	// throttle blind to the lag it is there to watch: the rule fails.
	c.replicas, c.err = cs.e.Datastores.OpenReplicas(ctx, sys)
	return c, c.err
}

func (cs *conns) close() {
	for _, c := range cs.open {
		if c.c != nil {
			_ = c.c.Close()
		}
		for _, r := range c.replicas {
			_ = r.Close()
		}
	}
}
