package throttle

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"
)

// A Canary times one query of the kind the application runs, such as a
// point read. The throttle times it while the work runs and compares it
// with its time before: the application's latency, seen from outside,
// rather than what the database counts of itself.
type Canary interface {
	Time(ctx context.Context) (time.Duration, error)
}

// QueryCanary runs query (which must return rows; they are read and
// dropped) on one connection of db it keeps until Close: a dial or a wait
// for a pooled connection would be timed as the database's latency.
type QueryCanary struct {
	db    *sql.DB
	query string
	args  []any
	conn  *sql.Conn
}

// NewQueryCanary returns a canary that times query with args on db.
func NewQueryCanary(db *sql.DB, query string, args ...any) *QueryCanary {
	return &QueryCanary{db: db, query: query, args: args}
}

// Time runs the query once and returns how long it took.
func (q *QueryCanary) Time(ctx context.Context) (time.Duration, error) {
	if q.conn == nil {
		c, err := q.db.Conn(ctx)
		if err != nil {
			return 0, fmt.Errorf("throttle: canary connection: %w", err)
		}
		q.conn = c
	}
	start := time.Now()
	rows, err := q.conn.QueryContext(ctx, q.query, q.args...)
	if err != nil {
		return 0, fmt.Errorf("throttle: canary: %w", err)
	}
	for rows.Next() {
	}
	err = rows.Close()
	took := time.Since(start)
	if err == nil {
		err = rows.Err()
	}
	if err != nil {
		return 0, fmt.Errorf("throttle: canary: %w", err)
	}
	return took, nil
}

// Close returns the canary's connection to the pool.
func (q *QueryCanary) Close() error {
	if q.conn == nil {
		return nil
	}
	err := q.conn.Close()
	q.conn = nil
	return err
}

// Canary timing. The canary runs in its own goroutine, every
// CanaryEvery, for as long as the work goes: the application feels a
// batch while it runs, not in the pause after it, so only samples taken
// during batches are judged. Samples pool over batches until there are
// canaryJudged of them, and the pool's median is compared with the
// baseline's, taken before the first batch and again every
// Config.Rebaseline. The median, not a tail: a
// tail of ten samples is one sample, and one slow sample on a busy
// machine is noise; queueing behind the work moves the median.
const (
	canaryBaseline = 15
	canaryJudged   = 10
	canaryQuantile = 0.5
)

type sample struct {
	at   time.Time // when it ended
	took time.Duration
}

// watch is a running canary.
type watch struct {
	mu      sync.Mutex
	samples []sample // since the last batch was judged
	errs    int
	lastErr string
	stop    context.CancelFunc
	done    chan struct{}
	// pooled are the samples of judged batches not yet enough to judge.
	pooled []time.Duration
	base   time.Duration
	taken  time.Time // when base was taken (the throttle's clock)
}

// Watch measures the canary's baseline (canaryBaseline samples, a quarter
// of CanaryEvery apart: the run waits for them, 75ms by default) and then
// times it in the background until Close. Batches during which the
// canary's median passes Latency times its baseline are backed off like
// batches past Max. It does nothing unless
// Config.Latency is set. An error means no baseline could be taken; the
// caller decides whether to run without one.
func (t *Throttle) Watch(ctx context.Context, c Canary) error {
	if t.cfg.Latency <= 0 || c == nil {
		return nil
	}
	base := make([]time.Duration, 0, canaryBaseline)
	for range canaryBaseline {
		d, err := c.Time(ctx)
		if err != nil {
			return fmt.Errorf("throttle: the canary's baseline: %w", err)
		}
		base = append(base, d)
		if err := t.sleep(ctx, t.cfg.CanaryEvery/4); err != nil {
			return err
		}
	}
	wctx, stop := context.WithCancel(context.WithoutCancel(ctx))
	w := &watch{base: quantile(base, canaryQuantile), taken: t.now(), stop: stop, done: make(chan struct{})}
	t.watch = w
	t.stats.LatencyBase = w.base
	go func() {
		defer close(w.done)
		tick := time.NewTicker(t.cfg.CanaryEvery)
		defer tick.Stop()
		for {
			d, err := c.Time(wctx)
			if wctx.Err() != nil {
				return
			}
			w.mu.Lock()
			if err != nil {
				w.errs++
				w.lastErr = err.Error()
			} else {
				w.samples = append(w.samples, sample{at: time.Now(), took: d})
			}
			w.mu.Unlock()
			select {
			case <-wctx.Done():
				return
			case <-tick.C:
			}
		}
	}()
	return nil
}

// Close stops the canary's timing, if it runs.
func (t *Throttle) Close() {
	if t.watch == nil {
		return
	}
	t.watch.stop()
	<-t.watch.done
	t.watch.mu.Lock()
	t.stats.ProbeErrors += t.watch.errs
	if t.watch.lastErr != "" {
		t.stats.ProbeError = t.watch.lastErr
	}
	t.watch.mu.Unlock()
	t.watch = nil
}

// rebaseline takes the canary's baseline again once Config.Rebaseline has
// passed since it was taken. Over a long run the application's own load
// moves: a baseline from the run's start would back the run off for load
// that is not the run's, or let it hurt a quieter application past the
// budget. The work stops first for as long as its last batch took, so
// that the database has caught up with it and what the canary sees is the
// application alone; then the background samples of the next
// canaryBaseline ticks are the baseline. A canary too slow to give
// canaryJudged samples in twice that time leaves the old baseline.
func (t *Throttle) rebaseline(ctx context.Context) error {
	w := t.watch
	if w == nil || t.cfg.Rebaseline <= 0 || t.now().Sub(w.taken) < t.cfg.Rebaseline {
		return nil
	}
	start := t.now()
	defer func() { t.stats.Slept += t.now().Sub(start) }()
	if err := t.sleep(ctx, max(t.last, t.cfg.CanaryEvery)); err != nil {
		return err
	}
	from := t.now()
	var got []time.Duration
	for len(got) < canaryBaseline && t.now().Sub(from) < 2*canaryBaseline*t.cfg.CanaryEvery {
		if err := t.sleep(ctx, t.cfg.CanaryEvery); err != nil {
			return err
		}
		got = w.since(from)
	}
	w.taken = t.now()
	if len(got) < canaryJudged {
		return nil
	}
	w.base = quantile(got, canaryQuantile)
	// Samples pooled from batches before it were the old baseline's.
	w.pooled = w.pooled[:0]
	t.stats.LatencyBase = w.base
	t.stats.Rebaselines++
	return nil
}

// since returns the times of the samples that ended at or after from.
func (w *watch) since(from time.Time) []time.Duration {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []time.Duration
	for _, s := range w.samples {
		if !s.at.Before(from) {
			out = append(out, s.took)
		}
	}
	return out
}

// latency judges the canary's samples of the batch that ended at end and
// took took; it returns why the batch hurt, or "".
func (t *Throttle) latency(end time.Time, took time.Duration) string {
	w := t.watch
	if w == nil {
		return ""
	}
	w.mu.Lock()
	begin := end.Add(-took)
	for _, s := range w.samples {
		if !s.at.Before(begin) && !s.at.After(end) {
			w.pooled = append(w.pooled, s.took)
		}
	}
	w.samples = w.samples[:0]
	w.mu.Unlock()
	if len(w.pooled) < canaryJudged {
		return ""
	}
	q := quantile(w.pooled, canaryQuantile)
	w.pooled = w.pooled[:0]
	t.stats.LatencyMax = max(t.stats.LatencyMax, q)
	if float64(q) > t.cfg.Latency*float64(w.base) {
		return fmt.Sprintf("the canary's median took %s, %.1f× its %s before the run (budget %.1f×)",
			q.Round(10*time.Microsecond), float64(q)/float64(w.base), w.base.Round(10*time.Microsecond), t.cfg.Latency)
	}
	return ""
}
