// Package throttle paces batched writes to a live database — retention
// purges — by what the database says about its health rather than by a
// fixed pause, in the manner of pt-archiver and gh-ost.
//
// Each batch is sized to take about a target time (pt-online-schema-change's
// chunk time): a batch that ran fast grows the next, a slow one shrinks
// it. Before each batch the throttle reads the database's load (sessions
// running, lock waits, InnoDB's unpurged history, replication lag) and
// compares the last batch's time per row with the run's baseline; asked
// to (Watch), it also times a canary query while batches run, the
// application's latency seen from outside. When the load passes a limit
// (gh-ost's --max-load), rows cost more than the budget allows, or the
// canary slows past its budget, it halves the batch and sleeps in
// proportion to the last batch (pt-archiver's --sleep-coef, doubling while
// the pressure lasts); past a critical limit (--critical-load) it waits
// until the load falls below the limit again, and gives up with
// ErrCritical if it does not.
//
// The package owns the control loop and the probes; callers own the work:
// retention runs their batches, erasure requests the moment their one
// transaction starts (Before alone: wait out critical load).
package throttle

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/bits"
	"slices"
	"strings"
	"time"
)

// Load is what a database reports about its health at one moment.
type Load struct {
	// ThreadsRunning counts other sessions executing a statement.
	ThreadsRunning int
	// LockWaits counts sessions waiting for a lock.
	LockWaits int
	// HistoryLength is InnoDB's history list: undo records of committed
	// transactions that purge has not cleaned up yet. It grows when
	// deletes outpace purge, and every read pays for it.
	HistoryLength int64
	// Lag is the replication lag of the slowest replica; LagUnknown when
	// one is not replicating.
	Lag time.Duration
}

// Limits are thresholds on a Load; a zero field is not checked.
type Limits Load

// exceeded returns what in l is at or past the limits, in words; "" when
// nothing is.
func (lim Limits) exceeded(l Load) string {
	var why []string
	if lim.ThreadsRunning > 0 && l.ThreadsRunning >= lim.ThreadsRunning {
		why = append(why, fmt.Sprintf("threads_running %d ≥ %d", l.ThreadsRunning, lim.ThreadsRunning))
	}
	if lim.LockWaits > 0 && l.LockWaits >= lim.LockWaits {
		why = append(why, fmt.Sprintf("lock_waits %d ≥ %d", l.LockWaits, lim.LockWaits))
	}
	if lim.HistoryLength > 0 && l.HistoryLength >= lim.HistoryLength {
		why = append(why, fmt.Sprintf("history_length %d ≥ %d", l.HistoryLength, lim.HistoryLength))
	}
	switch {
	case lim.Lag > 0 && l.Lag == LagUnknown:
		why = append(why, "lag unknown: a replica is not replicating, or does not answer")
	case lim.Lag > 0 && l.Lag >= lim.Lag:
		why = append(why, fmt.Sprintf("lag %s ≥ %s", l.Lag.Round(time.Millisecond), lim.Lag))
	}
	return strings.Join(why, ", ")
}

// IsZero reports whether no limit is set.
func (lim Limits) IsZero() bool { return lim == Limits{} }

// String renders the limits as ParseLimits reads them.
func (lim Limits) String() string {
	var s []string
	if lim.ThreadsRunning > 0 {
		s = append(s, fmt.Sprintf("threads_running=%d", lim.ThreadsRunning))
	}
	if lim.LockWaits > 0 {
		s = append(s, fmt.Sprintf("lock_waits=%d", lim.LockWaits))
	}
	if lim.HistoryLength > 0 {
		s = append(s, fmt.Sprintf("history_length=%d", lim.HistoryLength))
	}
	if lim.Lag > 0 {
		s = append(s, "lag="+lim.Lag.String())
	}
	return strings.Join(s, ",")
}

// Config is a throttle's budget. Zero fields take the defaults below.
type Config struct {
	// BatchTime is the time a batch should take; batches are resized
	// towards it. Default 500ms.
	BatchTime time.Duration
	// Start is the first batch's size (default 1000); with Fixed every
	// batch has this size, and only pauses adapt.
	Start int
	Fixed bool
	// MinBatch and MaxBatch bound the size. Defaults 100 and 50,000.
	MinBatch, MaxBatch int
	// Impact is how many times its baseline a row may cost (a batch's
	// time per row, against the median of the first healthy batches of its
	// size; batches under 50ms are not judged) before
	// the throttle backs off: a busier database answers everyone slower,
	// the purge first among them. Default 2; -1 turns the check off.
	Impact float64
	// Max are the limits past which the throttle backs off; Critical those
	// past which it stops and waits. Defaults: see DefaultMax and
	// DefaultCritical; set a field to -1 to leave it unchecked.
	Max, Critical Limits
	// CriticalWait is how long the throttle waits for a critical load to
	// fall below Max before it gives up. Default 5 minutes.
	CriticalWait time.Duration
	// Pause is slept after every batch in any case.
	Pause time.Duration
	// ProbeEvery spaces the load probes: at most one per batch and one per
	// this interval. Default 250ms.
	ProbeEvery time.Duration
	// Latency is how many times its baseline (its median before the work
	// started, taken again every Rebaseline) a canary query's median may
	// take while batches run before the throttle backs off: the
	// application's latency budget. Zero or less: no canary (see Watch).
	Latency float64
	// CanaryEvery spaces the canary's samples. Default 20ms.
	CanaryEvery time.Duration
	// Rebaseline is how often the canary's baseline is taken again while
	// the work runs (see Throttle.rebaseline). Default 1 minute; -1 never.
	Rebaseline time.Duration
}

// DefaultMax and DefaultCritical are the limits of a zero Config: lag
// and lock waits that an application feels, InnoDB history that slows its
// reads. Sessions running depend on the server's cores, so that limit is
// the team's to set.
var (
	DefaultMax      = Limits{LockWaits: 4, HistoryLength: 1_000_000, Lag: 10 * time.Second}
	DefaultCritical = Limits{LockWaits: 32, HistoryLength: 10_000_000, Lag: 2 * time.Minute}
)

// ErrCritical means the load stayed past a critical limit for longer than
// Config.CriticalWait; the work stopped and can resume later.
var ErrCritical = errors.New("throttle: database load critical")

func (c Config) withDefaults() Config {
	if c.BatchTime <= 0 {
		c.BatchTime = 500 * time.Millisecond
	}
	if c.Start <= 0 {
		c.Start = 1000
	}
	if c.MinBatch <= 0 {
		c.MinBatch = 100
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = 50_000
	}
	if c.Fixed {
		c.MinBatch, c.MaxBatch = c.Start, c.Start
	}
	c.MinBatch = min(c.MinBatch, c.MaxBatch)
	c.Start = min(max(c.Start, c.MinBatch), c.MaxBatch)
	if c.Impact == 0 {
		c.Impact = 2
	}
	c.Max = fill(c.Max, DefaultMax)
	c.Critical = fill(c.Critical, DefaultCritical)
	if c.CriticalWait <= 0 {
		c.CriticalWait = 5 * time.Minute
	}
	if c.ProbeEvery <= 0 {
		c.ProbeEvery = 250 * time.Millisecond
	}
	if c.CanaryEvery <= 0 {
		c.CanaryEvery = 20 * time.Millisecond
	}
	if c.Rebaseline == 0 {
		c.Rebaseline = time.Minute
	}
	return c
}

// fill takes def's value for every zero field of lim, and turns -1 (not
// checked) into zero.
func fill(lim, def Limits) Limits {
	pick := func(v, d int64) int64 {
		switch {
		case v < 0:
			return 0
		case v == 0:
			return d
		}
		return v
	}
	return Limits{
		ThreadsRunning: int(pick(int64(lim.ThreadsRunning), int64(def.ThreadsRunning))),
		LockWaits:      int(pick(int64(lim.LockWaits), int64(def.LockWaits))),
		HistoryLength:  pick(lim.HistoryLength, def.HistoryLength),
		Lag:            time.Duration(pick(int64(lim.Lag), int64(def.Lag))),
	}
}

// A Prober reads a database's load.
type Prober interface {
	Load(ctx context.Context) (Load, error)
}

// Stats says what a throttle did over a run.
type Stats struct {
	Batches  int           `json:"batches"`
	Backoffs int           `json:"backoffs"`  // batches after which it backed off
	Slept    time.Duration `json:"slept_ns"`  // in pauses after batches
	Waited   time.Duration `json:"waited_ns"` // waiting out critical load
	MinSize  int           `json:"min_batch"`
	MaxSize  int           `json:"max_batch"`
	// Reason is the last reason it backed off or waited; "" if never.
	Reason string `json:"reason,omitempty"`
	// ProbeErrors counts load probes that failed (the throttle then
	// relies on batch times alone); ProbeError is the last one's message.
	ProbeErrors int    `json:"probe_errors,omitempty"`
	ProbeError  string `json:"probe_error,omitempty"`
	// LatencyBase is the canary's baseline: its median before the first
	// batch, or when it was last taken again (Rebaselines counts those);
	// LatencyMax the highest median it reached over the batches (see
	// Watch).
	LatencyBase time.Duration `json:"latency_base_ns,omitempty"`
	LatencyMax  time.Duration `json:"latency_max_ns,omitempty"`
	Rebaselines int           `json:"rebaselines,omitempty"`
}

// Throttle paces one run. It is not safe for concurrent use.
type Throttle struct {
	cfg   Config
	probe Prober
	size  int
	coef  float64       // sleep coefficient: pause = coef × last batch time
	pause time.Duration // earned by the last batch
	last  time.Duration // the last batch's time
	// base holds the first times per row of healthy batches, by size
	// class (bits.Len of the size): a batch's fixed cost makes small
	// batches dearer per row, so a row's cost is judged against the
	// median of batches of its own size.
	base   map[int][]float64
	probed time.Time
	load   Load
	// fresh: load was read since the last batch was judged; a reading is
	// judged once, not against every batch until the next probe.
	fresh bool
	stats Stats
	watch *watch // the canary, when one runs
	// sleep waits for d or ctx; tests replace it.
	sleep func(ctx context.Context, d time.Duration) error
	now   func() time.Time
}

// New returns a throttle with cfg's budget, reading load from p (nil:
// batch times alone).
func New(cfg Config, p Prober) *Throttle {
	cfg = cfg.withDefaults()
	return &Throttle{cfg: cfg, probe: p, size: cfg.Start, base: map[int][]float64{}, sleep: sleepCtx, now: time.Now,
		stats: Stats{MinSize: cfg.Start, MaxSize: cfg.Start}}
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// Size is the number of rows the next batch should take.
func (t *Throttle) Size() int { return t.size }

// Stats returns what the throttle did so far.
func (t *Throttle) Stats() Stats { return t.stats }

// Config returns the budget with its defaults filled in.
func (t *Throttle) Config() Config { return t.cfg }

// Before is called before each batch. It sleeps the pause the last batch
// earned, reads the load, backs off when it is past Max, and waits while it
// is past Critical; after CriticalWait of that it returns an error wrapping
// ErrCritical that says why.
func (t *Throttle) Before(ctx context.Context) error {
	if t.pause > 0 {
		if err := t.sleep(ctx, t.pause); err != nil {
			return err
		}
		t.stats.Slept += t.pause
		t.pause = 0
	}
	if err := t.rebaseline(ctx); err != nil {
		return err
	}
	if t.probe == nil || t.now().Sub(t.probed) < t.cfg.ProbeEvery {
		return nil
	}
	t.read(ctx)
	why := t.cfg.Critical.exceeded(t.load)
	if why == "" {
		return nil
	}
	// Wait, probing once a second, until the load is back under Max.
	t.stats.Reason = "critical: " + why
	start := t.now()
	for {
		if t.now().Sub(start) >= t.cfg.CriticalWait {
			t.stats.Waited += t.now().Sub(start)
			return fmt.Errorf("%w: %s for %s", ErrCritical, why, t.cfg.CriticalWait)
		}
		if err := t.sleep(ctx, time.Second); err != nil {
			t.stats.Waited += t.now().Sub(start)
			return err
		}
		// A probe that fails tells nothing: keep waiting.
		if t.read(ctx) && t.cfg.Max.exceeded(t.load) == "" && t.cfg.Critical.exceeded(t.load) == "" {
			break
		}
	}
	t.stats.Waited += t.now().Sub(start)
	t.shrink()
	return nil
}

// read probes the load and reports whether the probe answered.
func (t *Throttle) read(ctx context.Context) bool {
	t.probed = t.now()
	l, err := t.probe.Load(ctx)
	if err != nil {
		// A stale reading would keep a run backing off on load it can no
		// longer see: batch times alone decide until a probe answers
		// again (a critical wait goes on waiting).
		t.stats.ProbeErrors++
		t.stats.ProbeError = err.Error()
		t.load, t.fresh = Load{}, false
		return false
	}
	t.load, t.fresh = l, true
	return true
}

// After records a batch of rows that took took, and sets the next batch's
// size and the pause before it.
func (t *Throttle) After(rows int64, took time.Duration) {
	t.stats.Batches++
	defer func() {
		t.stats.MinSize = min(t.stats.MinSize, t.size)
		t.stats.MaxSize = max(t.stats.MaxSize, t.size)
		t.pause = max(t.pause, t.cfg.Pause)
	}()
	if rows <= 0 || took <= 0 {
		return
	}
	t.last = took
	cost := took.Seconds() / float64(rows)
	class := bits.Len(uint(rows))
	base := t.base[class]
	// The canary's samples of this batch are judged whatever else did.
	why := t.latency(t.now(), took)
	if t.fresh {
		why = cmp.Or(t.cfg.Max.exceeded(t.load), why)
		t.fresh = false
	}
	if why == "" && t.cfg.Impact > 0 && len(base) == baseSamples && took >= minJudged {
		if b := quantile(base, 0.5); cost > t.cfg.Impact*b {
			why = fmt.Sprintf("a row costs %.1f× its baseline (budget %.1f×)", cost/b, t.cfg.Impact)
		}
	}
	if why == "" && len(base) < baseSamples {
		t.base[class] = append(base, cost)
	}
	if why != "" {
		t.stats.Backoffs++
		t.stats.Reason = why
		t.coef = min(max(t.coef*2, 1), 8)
		t.pause = time.Duration(t.coef * float64(took))
		t.shrink()
		return
	}
	t.coef = 0
	// Towards the target time, at most doubling or halving per batch.
	want := float64(t.size) * t.cfg.BatchTime.Seconds() / took.Seconds()
	next := int(min(max(want, float64(t.size)/2), float64(t.size)*2))
	t.size = min(max(next, t.cfg.MinBatch), t.cfg.MaxBatch)
}

// baseSamples healthy batches of a size class make its baseline; a batch
// shorter than minJudged is not judged by its cost: its time is mostly
// noise (a scheduler's tick, a page fault), and so short a batch does not
// hold the database for long enough to hurt.
const (
	baseSamples = 3
	minJudged   = 50 * time.Millisecond
)

func (t *Throttle) shrink() {
	t.size = max(t.size/2, t.cfg.MinBatch)
}

// quantile returns the q-quantile of xs (nearest rank; of an odd number
// of values, q = 0.5 is the middle one); xs is not changed.
func quantile[T cmp.Ordered](xs []T, q float64) T {
	s := slices.Clone(xs)
	slices.Sort(s)
	i := int(q*float64(len(s))+0.999999) - 1
	return s[min(max(i, 0), len(s)-1)]
}
