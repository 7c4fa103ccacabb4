package benchstat

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, c := range []struct {
		in   []float64
		want float64
	}{
		{nil, 0},
		{[]float64{3}, 3},
		{[]float64{3, 1, 2}, 2},
		// Four rounds: the mean of the middle two, not the third-best.
		{[]float64{0.8, 1.2, 0.8, 1.1}, 0.95},
		{[]float64{5, 1, 4, 2, 3, 6}, 3.5},
	} {
		if got := Median(c.in); got < c.want-1e-9 || got > c.want+1e-9 {
			t.Errorf("Median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
	ds := []time.Duration{4 * time.Millisecond, time.Millisecond, 3 * time.Millisecond, 2 * time.Millisecond}
	if got := Median(ds); got != 2500*time.Microsecond {
		t.Errorf("Median(%v) = %v, want 2.5ms", ds, got)
	}
	// The input is left in its order.
	if ds[0] != 4*time.Millisecond {
		t.Errorf("Median sorted its input: %v", ds)
	}
}

func TestOf(t *testing.T) {
	s := Of([]float64{1.2, 0.8, 0.9, 1.0})
	if s.Median < 0.949 || s.Median > 0.951 || s.Min != 0.8 || s.Max != 1.2 {
		t.Errorf("Of = %+v, want median 0.95 (0.80–1.20)", s)
	}
	if got := s.String(); got != "0.95× (0.80–1.20)" {
		t.Errorf("String = %q", got)
	}
	if (Of(nil) != Spread{}) {
		t.Errorf("Of(nil) = %+v", Of(nil))
	}
}
