package throttle

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestQuantile(t *testing.T) {
	ms := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	tests := []struct {
		xs   []time.Duration
		q    float64
		want time.Duration
	}{
		{ms(5), 0.9, 5 * time.Millisecond},
		{ms(10, 1, 2, 3, 4, 5, 6, 7, 8, 9), 0.9, 9 * time.Millisecond},
		{ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 0.9, 10 * time.Millisecond},
		{ms(3, 1, 2), 0.5, 2 * time.Millisecond},
	}
	for _, tt := range tests {
		in := append([]time.Duration(nil), tt.xs...)
		if got := quantile(tt.xs, tt.q); got != tt.want {
			t.Errorf("quantile(%v, %g) = %v, want %v", tt.xs, tt.q, got, tt.want)
		}
		for i := range in {
			if in[i] != tt.xs[i] {
				t.Fatalf("quantile sorted its input")
			}
		}
	}
}

// watched returns a throttle on a fake clock whose canary's baseline is
// base, with no goroutine: tests add the samples.
func watched(cfg Config, base time.Duration) (*Throttle, *clock) {
	th := New(cfg, nil)
	c := fake(th)
	th.watch = &watch{base: base, taken: c.now, stop: func() {}, done: make(chan struct{})}
	close(th.watch.done)
	return th, c
}

// during adds n canary samples of took spread over a batch that starts
// now and lasts batch, and moves the clock to its end.
func (c *clock) during(th *Throttle, n int, took, batch time.Duration) {
	for i := range n {
		th.watch.samples = append(th.watch.samples, sample{at: c.now.Add(batch * time.Duration(i+1) / time.Duration(n+1)), took: took})
	}
	c.now = c.now.Add(batch)
}

func TestLatencyBudget(t *testing.T) {
	const base = time.Millisecond
	tests := []struct {
		name    string
		samples []time.Duration // one batch each: 10 samples of this time
		backoff []bool          // after each batch
	}{
		{"within budget", []time.Duration{1400 * time.Microsecond, 1200 * time.Microsecond}, []bool{false, false}},
		{"past budget backs off", []time.Duration{2 * time.Millisecond}, []bool{true}},
		{"recovers", []time.Duration{3 * time.Millisecond, 900 * time.Microsecond}, []bool{true, false}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, c := watched(Config{Start: 1000, Latency: 1.5}, base)
			for i, s := range tt.samples {
				if err := th.Before(t.Context()); err != nil {
					t.Fatal(err)
				}
				size := th.Size()
				c.during(th, 10, s, 500*time.Millisecond)
				th.After(int64(size), 500*time.Millisecond)
				backed := th.Size() < size
				if backed != tt.backoff[i] {
					t.Fatalf("batch %d (canary %v): backed off %v, want %v (%+v)", i+1, s, backed, tt.backoff[i], th.Stats())
				}
				if backed && !strings.Contains(th.Stats().Reason, "canary") {
					t.Errorf("reason %q does not name the canary", th.Stats().Reason)
				}
			}
		})
	}
}

func TestLatencyJudgesOnlyBatchesWithEnoughSamples(t *testing.T) {
	th, c := watched(Config{Start: 1000, Latency: 1.5}, time.Millisecond)
	slow := 5 * time.Millisecond
	// A slow canary during the pause after a batch is not the batch's.
	th.watch.samples = append(th.watch.samples, sample{at: c.now.Add(-time.Second), took: slow})
	// Six samples, then five: the first batch is not judged alone, the
	// second is, with the first's samples pooled in.
	c.during(th, 6, slow, 100*time.Millisecond)
	th.After(1000, 100*time.Millisecond)
	if st := th.Stats(); st.Backoffs != 0 || len(th.watch.pooled) != 6 {
		t.Fatalf("judged on 6 samples: %+v, pooled %d", st, len(th.watch.pooled))
	}
	c.during(th, 5, slow, 100*time.Millisecond)
	th.After(int64(th.Size()), 100*time.Millisecond)
	st := th.Stats()
	if st.Backoffs != 1 || st.LatencyMax != slow || len(th.watch.pooled) != 0 {
		t.Fatalf("after 11 samples: %+v, pooled %d", st, len(th.watch.pooled))
	}
}

// canaryFunc is a canary that answers with f, counting its calls.
type canaryFunc struct {
	mu    sync.Mutex
	calls int
	f     func(call int) (time.Duration, error)
}

func (c *canaryFunc) Time(context.Context) (time.Duration, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.calls++
	return c.f(c.calls)
}

func TestWatch(t *testing.T) {
	t.Run("off unless a budget is set", func(t *testing.T) {
		cf := &canaryFunc{f: func(int) (time.Duration, error) { return time.Millisecond, nil }}
		th := New(Config{}, nil)
		if err := th.Watch(t.Context(), cf); err != nil || th.watch != nil || cf.calls != 0 {
			t.Fatalf("Watch without Latency: err %v, watch %v, %d calls", err, th.watch, cf.calls)
		}
	})
	t.Run("baseline, then samples until Close", func(t *testing.T) {
		cf := &canaryFunc{f: func(call int) (time.Duration, error) {
			if call <= canaryBaseline {
				return time.Duration(call) * time.Microsecond, nil
			}
			if call%2 == 0 {
				return 0, errors.New("connection reset")
			}
			return time.Millisecond, nil
		}}
		th := New(Config{Latency: 2, CanaryEvery: time.Millisecond}, nil)
		if err := th.Watch(t.Context(), cf); err != nil {
			t.Fatal(err)
		}
		if got := th.Stats().LatencyBase; got != 8*time.Microsecond {
			t.Errorf("baseline %v, want the median of 1…15µs, 8µs", got)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			cf.mu.Lock()
			n := cf.calls
			cf.mu.Unlock()
			if n >= canaryBaseline+6 || time.Now().After(deadline) {
				break
			}
			time.Sleep(time.Millisecond)
		}
		th.Close()
		cf.mu.Lock()
		after := cf.calls
		cf.mu.Unlock()
		time.Sleep(20 * time.Millisecond)
		if cf.calls != after {
			t.Errorf("the canary ran after Close (%d calls, then %d)", after, cf.calls)
		}
		if st := th.Stats(); st.ProbeErrors == 0 || st.ProbeError != "connection reset" {
			t.Errorf("canary errors not reported: %+v", st)
		}
		th.Close() // twice is harmless
	})
	t.Run("no baseline, no watch", func(t *testing.T) {
		cf := &canaryFunc{f: func(int) (time.Duration, error) { return 0, errors.New("no such table") }}
		th := New(Config{Latency: 2}, nil)
		if err := th.Watch(t.Context(), cf); err == nil || th.watch != nil {
			t.Fatalf("Watch with a failing canary: err %v, watch %v", err, th.watch)
		}
	})
}

func TestRebaseline(t *testing.T) {
	const (
		every = 20 * time.Millisecond
		batch = 400 * time.Millisecond
	)
	tests := []struct {
		name     string
		cfg      Config
		after    time.Duration // since the baseline was taken
		app      time.Duration // the canary's time while the work stops; 0: no samples come
		wantBase time.Duration
		rebased  bool
	}{
		{"not yet", Config{Latency: 1.5}, 30 * time.Second, 3 * time.Millisecond, time.Millisecond, false},
		{"after a minute, the application's load rose", Config{Latency: 1.5}, 61 * time.Second, 3 * time.Millisecond, 3 * time.Millisecond, true},
		{"and fell", Config{Latency: 1.5}, 61 * time.Second, 400 * time.Microsecond, 400 * time.Microsecond, true},
		{"a canary too slow to sample keeps the old one", Config{Latency: 1.5}, 61 * time.Second, 0, time.Millisecond, false},
		{"never", Config{Latency: 1.5, Rebaseline: -1}, time.Hour, 3 * time.Millisecond, time.Millisecond, false},
		{"every ten seconds", Config{Latency: 1.5, Rebaseline: 10 * time.Second}, 11 * time.Second, 2 * time.Millisecond, 2 * time.Millisecond, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th, c := watched(tt.cfg, time.Millisecond)
			// While the throttle sleeps, the canary goes on sampling.
			th.sleep = func(_ context.Context, d time.Duration) error {
				c.slept = append(c.slept, d)
				for at := c.now.Add(every); tt.app > 0 && !at.After(c.now.Add(d)); at = at.Add(every) {
					th.watch.samples = append(th.watch.samples, sample{at: at, took: tt.app})
				}
				c.now = c.now.Add(d)
				return nil
			}
			c.during(th, 10, 1100*time.Microsecond, batch)
			th.After(int64(th.Size()), batch)
			// Samples of a short batch, pooled until there are enough
			// to judge: the old baseline's, gone with it.
			th.watch.pooled = append(th.watch.pooled, 10*time.Millisecond, 10*time.Millisecond)
			c.now = c.now.Add(tt.after - batch)
			c.slept = nil
			if err := th.Before(t.Context()); err != nil {
				t.Fatal(err)
			}
			st := th.Stats()
			if th.watch.base != tt.wantBase || (st.Rebaselines == 1) != tt.rebased {
				t.Fatalf("baseline %v after %d re-takes, want %v (re-taken: %v)", th.watch.base, st.Rebaselines, tt.wantBase, tt.rebased)
			}
			if kept := len(th.watch.pooled) > 0; kept == tt.rebased {
				t.Errorf("pooled samples %v after the baseline was (re-taken: %v)", th.watch.pooled, tt.rebased)
			}
			if tt.rebased && st.LatencyBase != tt.wantBase {
				t.Errorf("Stats.LatencyBase %v, want %v", st.LatencyBase, tt.wantBase)
			}
			if tt.rebased && (len(c.slept) == 0 || c.slept[0] != batch) {
				t.Errorf("slept %v: the work did not stop for its last batch's time (%v) first", c.slept, batch)
			}
			if !tt.rebased && tt.app > 0 && len(c.slept) != 0 {
				t.Errorf("slept %v with no baseline due", c.slept)
			}
			// Taken (or tried) once: the next batch does not wait again.
			n := len(c.slept)
			if err := th.Before(t.Context()); err != nil {
				t.Fatal(err)
			}
			if len(c.slept) != n {
				t.Errorf("a second wait for the baseline right after the first: slept %v", c.slept[n:])
			}
			// Batches are judged against the baseline now in force: 1.4×
			// the new one is within the budget, 1.6× is not.
			for _, f := range []float64{1.4, 1.6} {
				size := th.Size()
				c.during(th, 10, time.Duration(f*float64(th.watch.base)), batch)
				th.After(int64(size), batch)
				if backed := th.Size() < size; backed != (f > 1.5) {
					t.Errorf("canary at %.1f× the baseline in force: backed off %v", f, backed)
				}
				if err := th.Before(t.Context()); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
