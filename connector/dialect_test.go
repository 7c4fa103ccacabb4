package connector

import (
	"strings"
	"testing"
)

func TestDialect(t *testing.T) {
	tests := []struct {
		kind, ident, wantIdent, col, wantCol, wantParams string
	}{
		{"postgres", "users", `"users"`, "e.mail", `"e.mail"`, "$3, $4"},
		{"postgres", "audit.logs", `"audit"."logs"`, `we"ird`, `"we""ird"`, "$3, $4"},
		{"mysql", "users", "`users`", "a`b", "`a``b`", "?, ?"},
		{"mariadb", "db.t", "`db`.`t`", "x", "`x`", "?, ?"},
		{"sqlite", `t"`, `"t"""`, "x", `"x"`, "?, ?"},
		{"", "t", `"t"`, "x", `"x"`, "?, ?"},
	}
	for _, tt := range tests {
		d := DialectOf(tt.kind)
		if got := d.Ident(tt.ident); got != tt.wantIdent {
			t.Errorf("%s: Ident(%q) = %s, want %s", tt.kind, tt.ident, got, tt.wantIdent)
		}
		if got := d.Column(tt.col); got != tt.wantCol {
			t.Errorf("%s: Column(%q) = %s, want %s", tt.kind, tt.col, got, tt.wantCol)
		}
		if got := d.Params(3, 2); got != tt.wantParams {
			t.Errorf("%s: Params(3, 2) = %s, want %s", tt.kind, got, tt.wantParams)
		}
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ kind, in, want string }{
		{"postgres", "a = ? AND b IN (?, ?)", "a = $1 AND b IN ($2, $3)"},
		{"postgres", "note = 'why?' AND x = ?", "note = 'why?' AND x = $1"},
		{"postgres", `"odd?col" = ?`, `"odd?col" = $1`},
		{"mysql", "a = ?", "a = ?"},
		{"sqlite", "a = ?", "a = ?"},
	} {
		if got := DialectOf(tc.kind).Rebind(tc.in); got != tc.want {
			t.Errorf("DialectOf(%s).Rebind(%q) = %q, want %q", tc.kind, tc.in, got, tc.want)
		}
	}
}

// FuzzRebind: every placeholder outside quotes becomes exactly one $n,
// numbered in order, and nothing else changes.
func FuzzRebind(f *testing.F) {
	for _, s := range []string{"a = ?", "'?' ?", `"?" ? '?`, "", "??"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := DialectOf("postgres").Rebind(s)
		if strings.Count(s, "?") == 0 && got != s {
			t.Fatalf("changed a query without placeholders: %q → %q", s, got)
		}
		if strings.Count(got, "?") > strings.Count(s, "?") {
			t.Fatalf("added placeholders: %q → %q", s, got)
		}
		if DialectOf("mysql").Rebind(s) != s {
			t.Fatal("mysql query changed")
		}
	})
}
