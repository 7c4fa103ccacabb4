package apitoken

import (
	"regexp"
	"strings"
	"testing"
)

// TestValidName checks validName against the regular expression it
// replaced, on chosen names and on every string of up to three bytes
// from an alphabet with each class of byte in it.
func TestValidName(t *testing.T) {
	re := regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)
	names := []string{
		"", "a", "Z", "0", "ci-deploy", "ci.deploy_2", ".x", "-x", "_x", "a b", "a\n", "é",
		strings.Repeat("a", 64), strings.Repeat("a", 65), "a" + strings.Repeat(".", 63), "a" + strings.Repeat(".", 64),
	}
	alphabet := []string{"a", "Z", "5", ".", "_", "-", " ", "/", "\n", "\xc3"}
	var grow func(prefix string, n int)
	grow = func(prefix string, n int) {
		names = append(names, prefix)
		if n == 0 {
			return
		}
		for _, c := range alphabet {
			grow(prefix+c, n-1)
		}
	}
	grow("", 3)
	for _, n := range names {
		if got, want := validName(n), re.MatchString(n); got != want {
			t.Errorf("validName(%q) = %v, the pattern says %v", n, got, want)
		}
	}
}
