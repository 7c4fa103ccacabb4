package versions

import (
	"os"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/policy"
)

func demoSource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("../demo/vow.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func parse(t testing.TB, src string) *policy.Policy {
	t.Helper()
	p, ds := policy.Parse("vow.yaml", []byte(src))
	if p == nil {
		t.Fatalf("parse: %v", ds)
	}
	if errs, _ := ds.Count(); errs > 0 {
		t.Fatalf("parse: %v", ds)
	}
	return p
}

// edit applies literal replacements, failing if one does not match.
func edit(t testing.TB, src string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(src, pairs[i]) {
			t.Fatalf("edit: %q not in the source", pairs[i])
		}
		src = strings.Replace(src, pairs[i], pairs[i+1], 1)
	}
	return src
}

func TestDiff(t *testing.T) {
	t.Parallel()
	base := demoSource(t)
	tests := []struct {
		name  string
		edits []string
		want  []Change
	}{
		{"wording only", []string{"title: Bill for subscriptions", "title: Charge for plans", "description: Keeps you signed in.", "description: Keeps you logged in."}, nil},
		{"new processor", []string{"processors:\n", "processors:\n  - {name: Sentry, purposes: [service], categories: [user.device.ip_address], location: United States, safeguard: scc}\n"},
			[]Change{{Kind: "processor_added", Subject: "Sentry", To: "United States", Material: true}}},
		{"processor removed", []string{"  - name: Postmark\n    purposes: [service]\n    categories: [user.contact.email, user.name]\n    location: United States\n    safeguard: scc\n", ""},
			[]Change{{Kind: "processor_removed", Subject: "Postmark", From: "United States"}}},
		{"processor gets more data", []string{"categories: [user.contact.email, user.name]\n    location: United States", "categories: [user.contact.email, user.name, user.device.ip_address]\n    location: United States"},
			[]Change{{Kind: "processor_categories_added", Subject: "Postmark", From: "user.contact.email, user.name", To: "user.device.ip_address", Material: true}}},
		{"new category", []string{"          plan: system.operations\n", "          plan: system.operations\n          phone: user.contact.phone_number\n"},
			[]Change{{Kind: "category_added", Subject: "user.contact.phone_number", Material: true}}},
		{"new purpose", []string{"  analytics:\n    title: Understand how the product is used\n    legal_basis: consent\n", "  analytics:\n    title: Understand how the product is used\n    legal_basis: consent\n  research:\n    title: Research\n    legal_basis: legitimate_interests\n    interest: Improving scanners.\n"},
			[]Change{{Kind: "purpose_added", Subject: "research", To: "legitimate_interests", Material: true}}},
		{"longer retention", []string{"keep: 12 months", "keep: 24 months"},
			[]Change{{Kind: "retention_longer", Subject: "audit logs", From: "12mo", To: "24mo", Material: true}}},
		{"shorter retention", []string{"keep: 1y", "keep: 6 months"},
			[]Change{{Kind: "retention_shorter", Subject: "findings", From: "1y", To: "6mo"}}},
		{"right removed", []string{"offered: [access, portability, erasure, rectification, restriction, objection]", "offered: [access, portability, erasure, rectification, restriction]"},
			[]Change{{Kind: "right_removed", Subject: "objection", Material: true}}},
		{"shorter notice deadline", []string{"change_notice_days: 30", "change_notice_days: 14"},
			[]Change{{Kind: "notice_shorter", Subject: "change_notice_days", From: "30", To: "14", Material: true}}},
		{"longer response deadline", []string{"deadline_days: 30", "deadline_days: 45"},
			[]Change{{Kind: "deadline_longer", Subject: "deadline_days", From: "30", To: "45", Material: true}}},
		{"shorter response deadline", []string{"deadline_days: 30", "deadline_days: 20"},
			[]Change{{Kind: "deadline_shorter", Subject: "deadline_days", From: "30", To: "20"}}},
		{"consent weakened", []string{"marketing: {mode: opt_in, gpc: true}", "marketing: {mode: opt_out, gpc: true}"},
			[]Change{{Kind: "consent_weakened", Subject: "marketing", From: "opt_in+gpc", To: "opt_out+gpc", Material: true}}},
		{"younger users", []string{"minimum_age: 16", "minimum_age: 13"},
			[]Change{{Kind: "minimum_age_lowered", Subject: "minimum_age", From: "16", To: "13", Material: true}}},
		{"longer backups", []string{"backups: 35d", "backups: 90d"},
			[]Change{{Kind: "backups_longer", Subject: "backups", From: "35d", To: "90d", Material: true}}},
		{"new essential cookie", []string{"cookies:\n", "cookies:\n  - {name: lb, category: essential, purpose: service}\n"},
			[]Change{{Kind: "cookie_added", Subject: "lb", To: "essential"}}},
		{"new marketing cookie", []string{"cookies:\n", "cookies:\n  - {name: _ads, category: marketing, purpose: marketing, duration: 90d}\n"},
			[]Change{{Kind: "cookie_added", Subject: "_ads", To: "marketing", Material: true}}},
		{"new transfer", []string{"      description: Payment processing and transactional email providers.\n", "      description: Payment processing and transactional email providers.\n    - {to: India, safeguard: scc}\n"},
			[]Change{{Kind: "transfer_added", Subject: "India", To: "scc", Material: true}}},
		{"retention rule dropped", []string{"    - name: expired tokens\n      table: app:api_tokens\n      where: expires_at IS NOT NULL\n      from: expires_at\n      keep: 7d\n", ""},
			[]Change{{Kind: "retention_removed", Subject: "expired tokens", From: "7d", Material: true}}},
		{"erasure grace added", []string{"  deadline_days: 30\n", "  deadline_days: 30\n  erasure_grace: {period: 14d}\n"},
			[]Change{{Kind: "erasure_grace_longer", Subject: "erasure_grace", To: "14d", Material: true}}},
		{"longer legal hold", []string{"for: 10y}", "for: 11y}"},
			[]Change{{Kind: "hold_longer", Subject: "app:invoices", From: "10y", To: "11y", Material: true}}},
	}
	a := parse(t, base)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := parse(t, edit(t, base, tc.edits...))
			got := Diff(a, b)
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != tc.want[i] {
					t.Errorf("change %d = %+v, want %+v", i, got[i], tc.want[i])
				}
			}
			if Material(got) != Material(tc.want) {
				t.Errorf("Material = %v", Material(got))
			}
		})
	}
	if got := Diff(a, a); len(got) != 0 {
		t.Errorf("a policy differs from itself: %v", got)
	}
}

// TestRulesWorded: every kind of change has wording in the built-in
// catalog, so a notice never fails to render.
func TestRulesWorded(t *testing.T) {
	t.Parallel()
	r := newRenderer(t)
	for kind := range Rules {
		if !r.Has("change." + kind) {
			t.Errorf("messages.yaml has no change.%s", kind)
		}
	}
}
