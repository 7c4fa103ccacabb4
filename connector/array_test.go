package connector

import (
	"database/sql/driver"
	"testing"
	"time"
)

type valuer []byte

func (v valuer) Value() (driver.Value, error) { return []byte(v), nil }

func TestArrayLiteral(t *testing.T) {
	for _, c := range []struct {
		name string
		in   []any
		want string
		ok   bool
	}{
		{"empty", nil, "{}", true},
		{"integers", []any{int64(1), int64(-20)}, `{"1","-20"}`, true},
		{"float in full", []any{0.1, 1e21}, `{"0.1","1e+21"}`, true},
		{"quotes, backslashes, commas, braces", []any{`a"b`, `c\d`, "e,f{}", "NULL", ""}, `{"a\"b","c\\d","e,f{}","NULL",""}`, true},
		{"bytes as bytea hex", []any{[]byte{0, 0xff}}, `{"\\x00ff"}`, true},
		{"a Valuer's value", []any{valuer{1, 2}}, `{"\\x0102"}`, true},
		{"time", []any{time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC)}, `{"2026-01-02T03:04:05.123456789Z"}`, true},
		// Local mean time's offset is not whole minutes, which RFC 3339
		// cannot write: the instant goes in UTC.
		{"time in a zone of seconds", []any{time.Date(1850, 1, 1, 0, 19, 32, 0, time.FixedZone("LMT", 19*60+32))}, `{"1850-01-01T00:00:00Z"}`, true},
		{"a time BC, which RFC 3339 cannot write", []any{time.Date(-43, 3, 15, 0, 0, 0, 0, time.UTC)}, "", false},
		{"NULL is never a key", []any{nil}, "", false},
		{"another kind", []any{true}, "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := ArrayLiteral(c.in)
			if ok != c.ok || got != c.want {
				t.Errorf("ArrayLiteral(%v) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
			}
		})
	}
}
