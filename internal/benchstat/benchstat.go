// Package benchstat is the arithmetic Vow's benchmark harnesses report
// with, in one place: the median (of an even number of rounds the mean of
// the middle two, which favours neither side of a ratio) and the spread
// of per-round ratios. A harness that takes the upper middle of four
// rounds reports its third-best round as typical.
package benchstat

import (
	"fmt"
	"slices"
)

// Median returns the median of xs, zero for none. Of an even number it
// is the mean of the middle two (for durations, rounded down to the
// nanosecond).
func Median[T ~int64 | ~float64](xs []T) T {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return s[n/2-1] + (s[n/2]-s[n/2-1])/2
}

// Spread is a median with the smallest and largest of what it is the
// median of.
type Spread struct {
	Median, Min, Max float64
}

// Of returns the spread of xs; the zero Spread for none.
func Of(xs []float64) Spread {
	if len(xs) == 0 {
		return Spread{}
	}
	return Spread{Median: Median(xs), Min: slices.Min(xs), Max: slices.Max(xs)}
}

// String writes a spread of ratios: "1.23× (0.98–1.40)".
func (s Spread) String() string {
	return fmt.Sprintf("%.2f× (%.2f–%.2f)", s.Median, s.Min, s.Max)
}
