package dsr

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
)

// TestKeysRoundTrip: a request's keys come back from the state store as
// they were read — integers as int64, binary keys as bytes, and text that
// is not UTF-8 as its own bytes, which encoding/json would have replaced
// with U+FFFD (another value, perhaps someone else's key).
func TestKeysRoundTrip(t *testing.T) {
	in := &Keys{Roots: map[string][]any{"app:logins": {
		int64(9007199254740993), "plain", keyValue([]byte("a\xffb")), keyValue("Jos\xe9"), binaryKey{0, 0xff},
	}}}
	if _, ok := in.Roots["app:logins"][2].(textKey); !ok {
		t.Fatalf("keyValue of invalid UTF-8 = %T, want textKey", in.Roots["app:logins"][2])
	}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeKeys(string(b))
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Roots, out.Roots) {
		t.Errorf("keys after the round trip:\n%#v\nwant\n%#v", out.Roots, in.Roots)
	}
	if got := keyValue([]byte("ok")); got != "ok" {
		t.Errorf("keyValue of UTF-8 bytes = %#v, want the string", got)
	}
}

// TestPendingRoundTrip: the witness a crashed erasure left is read back
// with its key exact, so that reconcile looks at the row it named.
func TestPendingRoundTrip(t *testing.T) {
	in := pending{Witness: &witness{Table: "events", Key: []string{"id"}, Vals: []any{int64(1234567890123456789), keyValue([]byte("a\xffb")), binaryKey{1}}, Cond: "ip <> ?", Args: []any{"0.0.0.0"}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodePending(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(in.Witness, out.Witness) {
		t.Errorf("witness after the round trip:\n%#v\nwant\n%#v", out.Witness, in.Witness)
	}
}

// TestInTuplesMySQL: MariaDB's composite keys are grouped by the column
// with fewer distinct values, the other in a scalar IN list per group,
// the parameters in the order of their placeholders.
func TestInTuplesMySQL(t *testing.T) {
	d := connector.DialectOf("mysql")
	var args []any
	got := inValues(d, []string{"shop", "no"}, []any{
		[]any{"JÈ", int64(1)}, []any{"JÈ", int64(2)}, []any{"JÉ", int64(3)}, []any{"JÈ", int64(4)},
	}, &args)
	want := "((`shop` = ? AND `no` IN (?, ?, ?)) OR (`shop` = ? AND `no` IN (?)))"
	if got != want {
		t.Errorf("inValues = %s\nwant %s", got, want)
	}
	if wantArgs := []any{"JÈ", int64(1), int64(2), int64(4), "JÉ", int64(3)}; !reflect.DeepEqual(args, wantArgs) {
		t.Errorf("args = %v, want %v", args, wantArgs)
	}
	// The column with more distinct values goes in the IN list, whichever
	// it is; a value of another type is another value.
	args = nil
	got = inValues(d, []string{"a", "b"}, []any{[]any{int64(1), "x"}, []any{int64(2), "x"}, []any{int64(3), textKey("x")}}, &args)
	if want := "((`b` = ? AND `a` IN (?, ?)) OR (`b` = ? AND `a` IN (?)))"; got != want {
		t.Errorf("inValues = %s\nwant %s", got, want)
	}
	// A stored tuple of another shape matches nothing, and binds nothing.
	args = nil
	if got := inValues(d, []string{"a", "b"}, []any{[]any{int64(1), "x"}, []any{int64(2)}}, &args); got != "1 = 0" || len(args) != 0 {
		t.Errorf("a short tuple: %s with %v", got, args)
	}
}

// TestInTuplesMySQLSeparators: text that holds what joins a group's values
// cannot make two groups one — (1, "x\x00string:y", "z") and
// (2, "x", "y\x00string:z") stay apart — and a short tuple among others
// binds nothing on any database.
func TestInTuplesMySQLSeparators(t *testing.T) {
	var args []any
	got := inValues(connector.DialectOf("mysql"), []string{"a", "b", "c"}, []any{
		[]any{int64(1), "x\x00string:y", "z"}, []any{int64(2), "x", "y\x00string:z"},
	}, &args)
	if strings.Count(got, " OR ") != 1 || len(args) != 6 {
		t.Errorf("two tuples sharing no prefix: %s with %q, want two arms", got, args)
	}
	for _, kind := range []string{"postgres", "sqlite", "mysql"} {
		args = nil
		if got := inValues(connector.DialectOf(kind), []string{"a", "b"}, []any{[]any{int64(1), "x"}, []any{int64(2)}}, &args); got != "1 = 0" || len(args) != 0 {
			t.Errorf("%s, a short tuple after a whole one: %s with %v", kind, got, args)
		}
	}
}

// TestTimeKey: a time read from a key column is written as its database
// reads the same value back: MariaDB's as the wall time in the
// connection's location (the server ignores a zone), PostgreSQL's in UTC
// with the era PostgreSQL writes for years before 1 and with a zone's
// offset of seconds (local mean time) made exact.
func TestTimeKey(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip(err)
	}
	lmt := time.FixedZone("LMT", 3208) // Amsterdam's before 1909: +00:53:28
	for _, tt := range []struct {
		name, kind string
		in         time.Time
		want       string
	}{
		{"mysql wall time in loc", "mysql", time.Date(2024, 1, 15, 12, 0, 0, 123456000, berlin), "2024-01-15 12:00:00.123456"},
		{"mysql whole seconds", "mysql", time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC), "2024-07-01 00:00:00"},
		{"postgres instant in UTC", "postgres", time.Date(2024, 1, 15, 12, 0, 0, 123456000, berlin), "2024-01-15T11:00:00.123456Z"},
		{"postgres offset of seconds", "postgres", time.Date(1900, 1, 1, 0, 0, 0, 0, lmt), "1899-12-31T23:06:32Z"},
		{"postgres 1 BC", "postgres", time.Date(0, 3, 15, 0, 0, 0, 0, time.UTC), "0001-03-15T00:00:00Z BC"},
		{"postgres 44 BC", "postgres", time.Date(-43, 3, 15, 6, 30, 0, 500000000, time.UTC), "0044-03-15T06:30:00.5Z BC"},
		{"postgres after 9999", "postgres", time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), "10000-01-01T00:00:00Z"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := timeKey(tt.kind, tt.in); got != tt.want {
				t.Errorf("timeKey(%s, %v) = %q, want %q", tt.kind, tt.in, got, tt.want)
			}
		})
	}
}
