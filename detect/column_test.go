package detect

import (
	"fmt"
	"testing"
)

func TestColumn(t *testing.T) {
	var c Column
	rows := []string{
		`{"email":"a.one@example.com","attribs":{"phone":"+44 20 7946 0958"}}`,
		`{"email":"b.two@example.com","attribs":{"phone":"+1 415 555 0132"}}`,
		`{"email":"c.three@example.com","attribs":{}}`,
		`{"email":null,"attribs":{"phone":null}}`,
	}
	for _, r := range rows {
		c.Add([]byte(r))
	}
	c.Add(nil) // SQL NULL: not a value
	c.Add(nil)
	if c.Values() != 4 {
		t.Fatalf("Values() = %d, want 4", c.Values())
	}
	got := map[string]Finding{}
	for _, f := range c.Findings() {
		got[f.Category+" "+f.Path] = f
	}
	tests := []struct {
		key     string
		matched int
		rate    float64
		example string
	}{
		{CatEmail + " email", 3, 0.75, "a•••@•••.com"},
		{CatPhone + " attribs.phone", 2, 0.5, "+••••••••••58"},
	}
	for _, tc := range tests {
		f, ok := got[tc.key]
		if !ok {
			t.Errorf("no finding %q in %+v", tc.key, c.Findings())
			continue
		}
		if f.Matched != tc.matched || f.Values != 4 || f.HitRate != tc.rate || f.Example != tc.example {
			t.Errorf("%s: got matched=%d values=%d rate=%.2f example=%q, want %d/4 %.2f %q",
				tc.key, f.Matched, f.Values, f.HitRate, f.Example, tc.matched, tc.rate, tc.example)
		}
	}
	if len(got) != len(tests) {
		t.Errorf("findings %+v, want only %d", c.Findings(), len(tests))
	}
	fs := c.Findings()
	if fs[0].Category != CatEmail {
		t.Errorf("findings not sorted by hit rate: %+v", fs)
	}
}

// TestColumnCountsValuesOnce checks that a value with several hits of one
// kind counts once, and that text and JSON paths stay apart.
func TestColumnCountsValuesOnce(t *testing.T) {
	var c Column
	c.Add([]byte("jane@example.com, john@example.org"))
	c.Add([]byte("nothing here"))
	c.Add([]byte(`{"to":["x@example.com","y@example.com"]}`))
	fs := c.Findings()
	if len(fs) != 2 {
		t.Fatalf("findings %+v, want 2", fs)
	}
	for _, f := range fs {
		if f.Matched != 1 || f.Values != 3 {
			t.Errorf("%+v: want matched 1 of 3", f)
		}
		if f.Path != "" && f.Path != "to[]" {
			t.Errorf("unexpected path %q", f.Path)
		}
	}
}

// TestColumnMerge: a column scanned in two parts reports what one pass
// over all its values does.
func TestColumnMerge(t *testing.T) {
	values := [][]byte{[]byte("a@example.com"), nil, []byte("plain"), []byte("b@example.org"), []byte("call +44 20 7946 0958"), []byte("c@example.net")}
	var whole, a, b Column
	for i, v := range values {
		whole.Add(v)
		if i%2 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	a.Merge(&b)
	got, want := a.Findings(), whole.Findings()
	if a.Values() != whole.Values() || len(got) != len(want) {
		t.Fatalf("merged %d values, %+v; want %d, %+v", a.Values(), got, whole.Values(), want)
	}
	for i := range want {
		g, w := got[i], want[i]
		g.Example, w.Example = "", ""
		if g != w {
			t.Errorf("finding %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestColumnRepeatedValues: a value met again is counted from memory, and
// counts the same as if it were scanned again.
func TestColumnRepeatedValues(t *testing.T) {
	values := []string{"a@example.com", "Emma Smith", "a@example.com", "active", "Emma Smith", "+44 20 7946 0958", "a@example.com", "active"}
	var cached, scanned Column
	scanned.seen = map[string]seenValue{}
	for i := range seenMax { // full: nothing more is remembered
		scanned.seen[fmt.Sprint(i)] = seenValue{}
	}
	for _, v := range values {
		cached.Add([]byte(v))
		scanned.Add([]byte(v))
	}
	got, want := cached.Findings(), scanned.Findings()
	if len(got) != len(want) || len(cached.seen) != 4 {
		t.Fatalf("cached %+v (%d remembered), scanned %+v", got, len(cached.seen), want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("finding %d: %+v, want %+v", i, got[i], want[i])
		}
	}
}
