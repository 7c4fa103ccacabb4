package retention

import (
	"testing"
)

func TestWindowAdapts(t *testing.T) {
	t.Parallel()
	j := &job{intKeys: true, keyMin: 1, keyMax: 1_000_000, countHint: 250_000}
	w := newWindow(j, 1000)
	if w.width != 4000 {
		t.Fatalf("initial width %d, want 4000 (one expired row in four)", w.width)
	}
	w.adjust(4000) // denser than expected: shrink, at most to a quarter
	if w.width != 1000 {
		t.Errorf("after a 4000-row batch width %d, want 1000", w.width)
	}
	w.adjust(0) // nothing expired there: grow, at most double
	if w.width != 2000 {
		t.Errorf("after an empty batch width %d, want 2000", w.width)
	}
	hi, last := w.next([]any{int64(999_000)})
	if !last || hi[0] != int64(1_000_000) {
		t.Errorf("last window ends at %v (last %v), want the highest key", hi, last)
	}
}
