package dsr

import "testing"

func TestCannotHoldPseudonym(t *testing.T) {
	tests := []struct {
		kind, typ string
		ok        bool
	}{
		{"postgres", "text", true},
		{"postgres", "character varying(320)", true},
		{"postgres", "character varying(20)", false},
		{"postgres", "bigint", false},
		{"postgres", "inet", false},
		{"postgres", "uuid", false},
		{"mysql", "varchar(255)", true},
		{"mysql", "varchar(36)", false},
		{"mysql", "int(11)", false},
		{"sqlite", "integer", true}, // SQLite stores text anywhere
	}
	for _, tt := range tests {
		if got := cannotHoldPseudonym(tt.kind, tt.typ) == ""; got != tt.ok {
			t.Errorf("%s %s: can hold = %v, want %v", tt.kind, tt.typ, got, tt.ok)
		}
	}
}
