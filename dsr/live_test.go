package dsr

import "testing"

func TestCannotHoldPseudonym(t *testing.T) {
	tests := []struct {
		kind, typ string
		ok        bool
	}{
		{"postgres", "text", true},
		{"postgres", "character varying(320)", true},
		{"postgres", "character varying(20)", true}, // shortened to fit: hmac: + 15 hex
		{"postgres", "character varying(12)", false},
		{"postgres", "bigint", true}, // a negative number
		{"postgres", "numeric(10,2)", false},
		{"postgres", "inet", false},
		{"postgres", "uuid", false},
		{"mysql", "varchar(255)", true},
		{"mysql", "varchar(36)", true},
		{"mysql", "varchar(10)", false},
		{"mysql", "int(11)", true},
		{"sqlite", "integer", true}, // SQLite stores text anywhere
	}
	for _, tt := range tests {
		if got := cannotHoldPseudonym(tt.kind, tt.typ) == ""; got != tt.ok {
			t.Errorf("%s %s: can hold = %v, want %v", tt.kind, tt.typ, got, tt.ok)
		}
	}
}
