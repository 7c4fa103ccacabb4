package identity

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		kind, in, want string
		bad            bool
	}{
		{kind: Email, in: "  Ada.Held@Example.COM ", want: "ada.held@example.com"},
		{kind: Email, in: "JÜRGEN@Straße.example", want: "jürgen@straße.example"},
		{kind: Email, in: "Ada <ada@example.com>", bad: true},
		{kind: Email, in: "not an address", bad: true},
		{kind: Email, in: "", bad: true},
		{kind: UserID, in: " 42 ", want: "42"},
		{kind: Username, in: "Ann", want: "Ann"}, // usernames keep their case
		{kind: Username, in: "a\x00b", bad: true},
		{kind: Username, in: "\xff", bad: true},
		{kind: Username, in: strings.Repeat("a", MaxLen+1), bad: true},
		{kind: "passport", in: "X1", bad: true},
	} {
		got, err := Normalize(tc.kind, tc.in)
		if tc.bad {
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("Normalize(%s, %q) = %q, %v; want ErrInvalid", tc.kind, tc.in, got, err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("Normalize(%s, %q) = %q, %v; want %q", tc.kind, tc.in, got, err, tc.want)
		}
	}
}

func TestMatch(t *testing.T) {
	for _, tc := range []struct {
		db, kind, collation string
		value               any
		want                string
	}{
		{db: "postgres", kind: Email, value: "ada@example.com", want: `lower("email") = $1`},
		{db: "sqlite", kind: Email, value: "ada@example.com", want: `lower("email") = $1`},
		// SQLite's lower() folds ASCII only.
		{db: "sqlite", kind: Email, value: "jürgen@straße.example", want: `vow_lower("email") = $1`},
		{db: "mysql", kind: Email, value: "ada@example.com", want: `"email" = $1 AND CAST(CONVERT(LOWER("email") USING utf8mb4) AS BINARY) = CAST($2 AS BINARY)`},
		{db: "mysql", kind: Email, collation: "utf8mb4_bin", value: "ada@example.com", want: `CAST(CONVERT(LOWER("email") USING utf8mb4) AS BINARY) = CAST($1 AS BINARY)`},
		{db: "mysql", kind: Username, value: "ann", want: `"email" = $1 AND CAST(CONVERT("email" USING utf8mb4) AS BINARY) = CAST($2 AS BINARY)`},
		{db: "mysql", kind: UserID, value: "7", want: `"email" = $1`},
		{db: "postgres", kind: Username, value: "Ann", want: `"email" = $1`},
	} {
		n := 0
		param := func() string { n++; return "$" + string(rune('0'+n)) }
		if got := Match(tc.db, tc.kind, `"email"`, tc.collation, tc.value, param); got != tc.want {
			t.Errorf("Match(%s, %s, %q, %v) =\n  %s\nwant\n  %s", tc.db, tc.kind, tc.collation, tc.value, got, tc.want)
		}
	}
}

func TestFits(t *testing.T) {
	for _, tc := range []struct {
		value, typ string
		ok         bool
	}{
		{"42", "bigint", true},
		{"1abc", "int(11)", false},
		{"1' OR '1'='1", "INTEGER", false},
		{"2.5", "numeric(10,2)", true},
		{"x", "numeric", false},
		{"3f2504e0-4f89-11d3-9a0c-0305e82c3301", "uuid", true},
		{"3f2504e0", "uuid", false},
		{"anything", "character varying(255)", true},
		{"ab", "bytea", false},
	} {
		if err := Fits(tc.value, tc.typ); (err == nil) != tc.ok {
			t.Errorf("Fits(%q, %q) = %v, want ok %v", tc.value, tc.typ, err, tc.ok)
		}
	}
}

// FuzzNormalize: a normalised value normalises to itself, and Equal
// agrees with comparing the normal forms.
func FuzzNormalize(f *testing.F) {
	for _, s := range []string{"Ada@Example.com", " ann ", "JÜRGEN@Straße.example", "a\x00b", "42"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		for _, kind := range Kinds {
			n, err := Normalize(kind, v)
			if err != nil {
				continue
			}
			again, err := Normalize(kind, n)
			if err != nil || again != n {
				t.Fatalf("Normalize(%s, %q) = %q, but that normalises to %q, %v", kind, v, n, again, err)
			}
			if !Equal(kind, v, n) {
				t.Fatalf("Equal(%s, %q, %q) = false for a value and its normal form", kind, v, n)
			}
		}
	})
}
