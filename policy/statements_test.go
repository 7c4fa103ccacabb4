package policy

import (
	"strings"
	"testing"
)

// TestStatementLints: the statements the rendered policy makes beyond the
// data map are checked where a value can be wrong, and against the data
// map where Vow can compare them. Each case edits the valid policy.
func TestStatementLints(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, new string
		code, msg      string
	}{
		{"unknown law", "processors:\n", "scope: {laws: [gdrp]}\nprocessors:\n", "unknown-value", `unknown law "gdrp", did you mean "gdpr"?`},
		{"unknown acceptance", "  minimum_age: 16\n", "  minimum_age: 16\n  acceptance: continued\n", "unknown-value", `unknown acceptance "continued"`},
		{"unknown change channel", "  minimum_age: 16\n", "  minimum_age: 16\n  change_channels: [post]\n", "unknown-value", `unknown change channel "post"`},
		{"regional age out of range", "  minimum_age: 16\n", "  minimum_age: 16\n  minimum_ages: [{region: the EU, age: 61}]\n", "invalid-value", "minimum age 61 in the EU is out of range"},
		{"regional age twice", "  minimum_age: 16\n", "  minimum_age: 16\n  minimum_ages: [{region: the EU, age: 16}, {region: the EU, age: 13}]\n", "duplicate-name", `region "the EU" has a minimum age twice`},
		{"regional age without region", "  minimum_age: 16\n", "  minimum_age: 16\n  minimum_ages: [{age: 13}]\n", "missing-key", `needs "region"`},
		{"updated after effective", "  minimum_age: 16\n", "  minimum_age: 16\n  updated: 2026-02-01\n", "updated-after-effective", "last updated on 2026-02-01, after this version took effect on 2026-01-01"},
		{"unknown legal ground", "processors:\n", "disclosures: {legal: {grounds: [subpoena]}}\nprocessors:\n", "unknown-value", `unknown ground "subpoena"`},
		{"legal disclosure without grounds", "processors:\n", "disclosures: {legal: {grounds: [], notify: true}}\nprocessors:\n", "missing-key", "disclosures.legal names no grounds"},
		{"unknown measure", "processors:\n", "security: {measures: [{kind: firewall}]}\nprocessors:\n", "unknown-value", `unknown security measure "firewall"`},
		{"other measure without description", "processors:\n", "security: {measures: [{kind: other}]}\nprocessors:\n", "missing-key", "a measure of kind other needs a description"},
		{"categories on a measure that ignores them", "processors:\n", "security: {measures: [{kind: mfa, categories: [user.name]}]}\nprocessors:\n", "unused", "measure mfa does not use categories"},
		{"encryption at rest contradicted", "processors:\n", "security: {measures: [{kind: encryption_at_rest, categories: [user.contact.email]}]}\nprocessors:\n", "not-encrypted", "app:users.email holds user.contact.email, which security.measures[0] promises is encrypted, but it is stored plain"},
		{"password hashing contradicted", "name: user.name\n", "name: user.name\n          password: {category: user.authorization.password, stored: encrypted}\n", "", ""},
		{"password hashing covers nothing", "processors:\n", "security: {measures: [{kind: password_hashing}]}\nprocessors:\n", "unheld-category", "security.measures[0] covers no declared field"},
		{"confidential shared", "processors:\n", "promises: {confidential: [user.contact.email]}\nprocessors:\n", "confidential-shared", `user.contact.email is promised strictly confidential, but processor "Postmark" receives it`},
		{"no advertising with a marketing cookie", "  - name: _ga\n    category: analytics", "  - name: _ga\n    category: marketing", "", ""},
		{"no training unknown category", "processors:\n", "promises: {no_training: [user.scans]}\nprocessors:\n", "unknown-category", `unknown category "user.scans"`},
		{"until closed without erasure", "offered: [access, portability, erasure]", "offered: [access, portability]", "", ""},
		{"forbidden reason without forbidden", "processors:\n", "forbidden_reason: Not PCI-DSS compliant\nprocessors:\n", "unused", "forbidden_reason is given but forbidden: lists no category"},
	}
	// Cases with an empty code are completed here: they need two edits.
	second := map[string][2]string{
		"password hashing contradicted":          {"processors:\n", "security: {measures: [{kind: password_hashing}]}\nprocessors:\n"},
		"no advertising with a marketing cookie": {"processors:\n", "promises: {no_advertising: true}\nprocessors:\n"},
		"until closed without erasure":           {"  backups: 35d\n", "  backups: 35d\n  until_closed: true\n"},
	}
	want := map[string][2]string{
		"password hashing contradicted":          {"not-hashed", "app:users.password holds user.authorization.password, which security.measures[0] promises is hashed, but it is stored encrypted"},
		"no advertising with a marketing cookie": {"contradiction", `cookie "_ga" is a marketing cookie, but promises.no_advertising says`},
		"until closed without erasure":           {"contradiction", "until_closed promises data is deleted on request, but erasure is not offered"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := validSource(t)
			edits := [][2]string{{tc.old, tc.new}}
			if e, ok := second[tc.name]; ok {
				edits = append(edits, e)
				tc.code, tc.msg = want[tc.name][0], want[tc.name][1]
			}
			for _, e := range edits {
				if !strings.Contains(src, e[0]) {
					t.Fatalf("fixture does not contain %q", e[0])
				}
				src = strings.Replace(src, e[0], e[1], 1)
			}
			_, ds := Parse("vow.yaml", []byte(src))
			for _, d := range ds {
				if d.Code == tc.code && strings.Contains(d.Message, tc.msg) {
					if d.Pos.Line == 0 {
						t.Errorf("no position in %v", d)
					}
					return
				}
			}
			t.Fatalf("want %s %q, got:\n%s", tc.code, tc.msg, joinDiags(ds))
		})
	}
}

// TestStatementsClean: a policy declaring every statement, consistently
// with its data map, draws no diagnostic.
func TestStatementsClean(t *testing.T) {
	t.Parallel()
	src := strings.Replace(validSource(t), "processors:\n", `scope: {about: Lumen scans code., services: [the Lumen app], laws: [gdpr, uk_gdpr]}
promises: {no_sale: true, no_training: [user.contact.email], confidential: [user.name]}
disclosures: {legal: {grounds: [law, legal_process], notify: true}, business_transfer: {same_commitments: true, notify: true}, team: true}
security:
  measures:
    - {kind: encryption_in_transit, description: TLS 1.3}
    - {kind: encryption_at_rest, categories: [user.name]}
  no_guarantee: true
processors:
`, 1)
	src = strings.Replace(src, "          name: user.name\n", "          name: {category: user.name, stored: encrypted}\n", 1)
	src = strings.Replace(src, "  minimum_age: 16\n", "  minimum_age: 16\n  minimum_ages: [{region: the United States, age: 13}]\n  updated: 2025-12-01\n  acceptance: continued_use\n  change_channels: [email, in_app]\n", 1)
	src = strings.Replace(src, "  backups: 35d\n", "  backups: 35d\n  until_closed: true\n", 1)
	src = strings.Replace(src, "      keep: 12 months\n", "      keep: 12 months\n      after: the event is logged\n", 1)
	src = strings.Replace(src, "  verification: email_code\n", "  verification: email_code\n  free: true\n  complaint: true\n  self_service: Settings > Privacy\n", 1)
	p, ds := Parse("vow.yaml", []byte(src))
	if len(ds) != 0 {
		t.Fatalf("want no diagnostics, got:\n%s", joinDiags(ds))
	}
	if !p.Promises.NoSale || p.Disclosures.BusinessTransfer == nil || len(p.Security.Measures) != 2 || p.Notices.MinimumAges[0].Age != 13 || p.Retention.Rules[1].After == "" {
		t.Errorf("statements not decoded: %+v %+v %+v", p.Promises, p.Disclosures, p.Notices)
	}
}
