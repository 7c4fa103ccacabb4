package connector

import "testing"

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
