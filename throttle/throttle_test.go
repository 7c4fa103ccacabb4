package throttle

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// loads is a prober that returns its loads in turn, the last one for ever.
type loads struct {
	seq   []Load
	calls int
}

func (l *loads) Load(context.Context) (Load, error) {
	i := min(l.calls, len(l.seq)-1)
	l.calls++
	return l.seq[i], nil
}

// clock is a fake time for a throttle: sleeps move it, and so does run.
type clock struct {
	now   time.Time
	slept []time.Duration
}

func fake(t *Throttle) *clock {
	c := &clock{now: time.Unix(0, 0)}
	t.now = func() time.Time { return c.now }
	t.sleep = func(_ context.Context, d time.Duration) error {
		c.slept = append(c.slept, d)
		c.now = c.now.Add(d)
		return nil
	}
	return c
}

// batch runs one batch of the throttle's size that takes took.
func (c *clock) batch(t *testing.T, th *Throttle, took time.Duration) {
	t.Helper()
	if err := th.Before(t.Context()); err != nil {
		t.Fatal(err)
	}
	c.now = c.now.Add(took)
	th.After(int64(th.Size()), took)
}

func TestSizeFollowsBatchTime(t *testing.T) {
	tests := []struct {
		name   string
		cfg    Config
		took   time.Duration // per batch, whatever its size
		want   []int         // sizes after each batch
		reason string
	}{
		{"fast batches double up to the maximum", Config{Start: 1000, MaxBatch: 5000}, 50 * time.Millisecond, []int{2000, 4000, 5000, 5000}, ""},
		{"slow batches halve down to the minimum", Config{Start: 1000, MinBatch: 300}, 2 * time.Second, []int{500, 300, 300}, ""},
		{"on target stays", Config{Start: 1000}, 500 * time.Millisecond, []int{1000, 1000}, ""},
		{"fixed never moves", Config{Start: 700, Fixed: true}, 10 * time.Millisecond, []int{700, 700}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			th := New(tt.cfg, nil)
			fake(th)
			for i, want := range tt.want {
				if err := th.Before(t.Context()); err != nil {
					t.Fatal(err)
				}
				th.After(int64(th.Size()), tt.took)
				if th.Size() != want {
					t.Fatalf("after batch %d: size %d, want %d", i+1, th.Size(), want)
				}
			}
			if st := th.Stats(); st.Backoffs != 0 || st.Slept != 0 {
				t.Errorf("stats %+v: backed off on time alone", st)
			}
		})
	}
}

func TestBacksOffUnderLoadAndRecovers(t *testing.T) {
	busy := Load{HistoryLength: 2_000_000}
	p := &loads{seq: []Load{{}, busy, busy, {}}}
	th := New(Config{Start: 8000, ProbeEvery: time.Millisecond}, p)
	c := fake(th)
	took := 100 * time.Millisecond
	var sizes []int
	for range 4 {
		c.batch(t, th, took)
		sizes = append(sizes, th.Size())
	}
	// Healthy: grows (×2 capped); busy twice: halves and sleeps 1× then 2×
	// the batch; healthy again: grows, no sleep.
	if want := []int{16000, 8000, 4000, 8000}; !equal(sizes, want) {
		t.Errorf("sizes %v, want %v", sizes, want)
	}
	if want := []time.Duration{took, 2 * took}; !equal(c.slept, want) {
		t.Errorf("slept %v, want %v", c.slept, want)
	}
	st := th.Stats()
	if st.Backoffs != 2 || !strings.Contains(st.Reason, "history_length 2000000 ≥ 1000000") {
		t.Errorf("stats %+v: want 2 backoffs for history_length", st)
	}
}

func TestBacksOffWhenRowsCostMore(t *testing.T) {
	th := New(Config{Start: 1000, MaxBatch: 1000, Impact: 2}, nil)
	fake(th)
	steps := []struct {
		took    time.Duration
		backoff bool
	}{
		{100 * time.Millisecond, false}, // three make the baseline
		{90 * time.Millisecond, false},  // for 1000-row batches:
		{300 * time.Millisecond, false}, // their median, 100ms
		{150 * time.Millisecond, false}, // 1.5×: within the budget
		{250 * time.Millisecond, true},  // 2.5×: over
		{40 * time.Millisecond, false},  // too short to judge
	}
	for i, s := range steps {
		before := th.Stats().Backoffs
		_ = th.Before(t.Context())
		th.After(1000, s.took)
		if got := th.Stats().Backoffs > before; got != s.backoff {
			t.Fatalf("batch %d (%s): backed off %v, want %v (%+v)", i+1, s.took, got, s.backoff, th.Stats())
		}
	}
	if r := th.Stats().Reason; !strings.Contains(r, "2.5× its baseline") {
		t.Errorf("reason %q", r)
	}
	// A smaller batch after the backoff has no baseline of its size: it is
	// not judged against the larger batches' cost per row.
	_ = th.Before(t.Context())
	th.After(500, 200*time.Millisecond)
	_ = th.Before(t.Context())
	th.After(500, time.Second)
	if th.Stats().Backoffs != 1 {
		t.Errorf("a 500-row batch was judged against 1000-row batches: %+v", th.Stats())
	}
}

func TestCriticalWaitsThenGivesUp(t *testing.T) {
	crit := Load{Lag: 3 * time.Minute}
	t.Run("recovers", func(t *testing.T) {
		p := &loads{seq: []Load{crit, crit, {Lag: 20 * time.Second}, {}}}
		th := New(Config{Start: 4000, ProbeEvery: time.Nanosecond}, p)
		c := fake(th)
		if err := th.Before(t.Context()); err != nil {
			t.Fatal(err)
		}
		// Lag under critical but over max (20s ≥ 10s) is not enough: it
		// waits until the load is under Max too.
		if len(c.slept) != 3 || th.Size() != 2000 || th.Stats().Waited != 3*time.Second {
			t.Errorf("slept %v, size %d, stats %+v", c.slept, th.Size(), th.Stats())
		}
	})
	t.Run("gives up", func(t *testing.T) {
		th := New(Config{ProbeEvery: time.Nanosecond, CriticalWait: 10 * time.Second}, &loads{seq: []Load{crit}})
		fake(th)
		err := th.Before(t.Context())
		if !errors.Is(err, ErrCritical) || !strings.Contains(err.Error(), "lag 3m0s ≥ 2m0s") {
			t.Fatalf("err = %v, want ErrCritical naming the lag", err)
		}
	})
	t.Run("cancelled", func(t *testing.T) {
		th := New(Config{ProbeEvery: time.Nanosecond}, &loads{seq: []Load{crit}})
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := th.Before(ctx); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// failing answers with a busy load once, then fails.
type failing struct{ calls int }

func (f *failing) Load(context.Context) (Load, error) {
	f.calls++
	if f.calls == 1 {
		return Load{LockWaits: 10}, nil
	}
	return Load{}, errors.New("permission denied")
}

func TestProbeErrorForgetsTheLoad(t *testing.T) {
	th := New(Config{Start: 1000, MaxBatch: 1000, ProbeEvery: time.Millisecond}, &failing{})
	c := fake(th)
	c.batch(t, th, 10*time.Millisecond) // lock_waits 10 ≥ 4: backs off
	c.batch(t, th, 10*time.Millisecond) // the probe fails: no load to back off for
	if st := th.Stats(); st.Backoffs != 1 || st.ProbeErrors != 1 {
		t.Errorf("stats %+v: want one backoff, then none on a failed probe", st)
	}
}

// TestAReadingIsJudgedOnce: one reading over the limit backs off once,
// not after every batch until the next probe.
func TestAReadingIsJudgedOnce(t *testing.T) {
	p := &loads{seq: []Load{{LockWaits: 10}, {}}}
	th := New(Config{Start: 8000, ProbeEvery: time.Hour}, p)
	c := fake(th)
	for range 4 {
		c.batch(t, th, 10*time.Millisecond)
	}
	if st := th.Stats(); st.Backoffs != 1 || p.calls != 1 {
		t.Errorf("stats %+v after %d probes: want one backoff for one reading", st, p.calls)
	}
}

func TestProbesAreSpaced(t *testing.T) {
	p := &loads{seq: []Load{{}}}
	th := New(Config{ProbeEvery: time.Second}, p)
	c := fake(th)
	for range 5 {
		c.batch(t, th, 100*time.Millisecond)
	}
	if p.calls != 1 {
		t.Errorf("%d probes in 0.5 s, want 1", p.calls)
	}
}

func TestParseLimits(t *testing.T) {
	tests := []struct {
		in   string
		want Limits
		err  string
	}{
		{"threads_running=25, lag=10s", Limits{ThreadsRunning: 25, Lag: 10 * time.Second}, ""},
		{"history_length=500000,lock_waits=-1,lag=-1", Limits{HistoryLength: 500000, LockWaits: -1, Lag: -1}, ""},
		{"", Limits{}, ""},
		{"threads=3", Limits{}, `unknown name "threads"`},
		{"lag=10", Limits{}, "lag is a positive duration"},
		{"lag=0s", Limits{}, "lag is a positive duration"},
		{"lag=-5s", Limits{}, "lag is a positive duration"},
		{"lock_waits=0", Limits{}, "positive whole number"},
		{"lock_waits", Limits{}, "want name=value"},
		{"lock_waits=x", Limits{}, "positive whole number"},
	}
	for _, tt := range tests {
		got, err := ParseLimits(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseLimits(%q) error = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("ParseLimits(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
	// -1 turns a default off.
	th := New(Config{Max: Limits{LockWaits: -1}}, nil)
	if c := th.Config(); c.Max.LockWaits != 0 || c.Max.HistoryLength != DefaultMax.HistoryLength {
		t.Errorf("Max = %+v: want lock waits off, the other defaults kept", c.Max)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
