package consent

import (
	"strings"
	"testing"
)

func TestNotifyPayloads(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", 250)
	many := make([]string, 40)
	for i := range many {
		many[i] = long
	}
	tests := []struct {
		name     string
		subjects []string
		payloads int
	}{
		{"one", []string{"a"}, 1},
		{"few", []string{"a", "b", "c"}, 1},
		{"split at the size limit", many, 2},
		{"large import", make([]string, 201), 1},
	}
	for _, tt := range tests {
		got := notifyPayloads(tt.subjects)
		if len(got) != tt.payloads {
			t.Errorf("%s: %d payloads, want %d", tt.name, len(got), tt.payloads)
		}
		for _, p := range got {
			if len(p) > 8000 {
				t.Errorf("%s: payload of %d bytes", tt.name, len(p))
			}
		}
		if tt.name != "large import" {
			if joined := strings.Split(strings.Join(got, "\n"), "\n"); len(joined) != len(tt.subjects) {
				t.Errorf("%s: %d subjects come back, want %d", tt.name, len(joined), len(tt.subjects))
			}
		} else if got[0] != notifyAll {
			t.Errorf("large import: %q", got[0])
		}
	}
}
