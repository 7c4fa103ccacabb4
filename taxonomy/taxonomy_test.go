package taxonomy

import (
	"regexp"
	"testing"
)

func TestTaxonomyIsATree(t *testing.T) {
	key := regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$`)
	for _, c := range Categories() {
		if !key.MatchString(c.Key) {
			t.Errorf("bad key %q", c.Key)
		}
		if c.Name == "" {
			t.Errorf("%s has no name", c.Key)
		}
		if p := Parent(c.Key); p != "" {
			if _, ok := Lookup(p); !ok {
				t.Errorf("%s: parent %s is not defined", c.Key, p)
			}
		}
		if c.Personal != Within(c.Key, "user") {
			t.Errorf("%s: personal = %v", c.Key, c.Personal)
		}
	}
	if len(Categories()) != len(categories) {
		t.Error("duplicate keys in the taxonomy")
	}
}

func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		key, anc string
		want     bool
	}{
		{"user.contact.email", "user.contact", true},
		{"user.contact", "user.contact", true},
		{"user.contactless", "user.contact", false},
		{"user", "user.contact", false},
	} {
		if got := Within(tc.key, tc.anc); got != tc.want {
			t.Errorf("Within(%q, %q) = %v", tc.key, tc.anc, got)
		}
	}
}
