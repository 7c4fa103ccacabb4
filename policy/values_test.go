package policy

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDurationZero: "0d" is set and zero long; the zero Duration is unset.
func TestDurationZero(t *testing.T) {
	t.Parallel()
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in                string
		unset, zeroLength bool
		str, human        string
		before            time.Time
	}{
		{"0d", false, true, "0d", "0 days", at},
		{"0 hours", false, true, "0h", "0 hours", at},
		{"0y", false, true, "0y", "0 years", at},
		{"1d", false, false, "1d", "1 day", at.AddDate(0, 0, -1)},
		{"", true, false, "", "", at},
	} {
		var d Duration
		if tc.in != "" {
			var err error
			if d, err = ParseDuration(tc.in); err != nil {
				t.Fatalf("ParseDuration(%q): %v", tc.in, err)
			}
		}
		if d.IsZero() != tc.unset || d.IsZeroLength() != tc.zeroLength || d.String() != tc.str || d.Human() != tc.human || !d.Before(at).Equal(tc.before) {
			t.Errorf("%q: IsZero %v, IsZeroLength %v, String %q, Human %q, Before %v", tc.in, d.IsZero(), d.IsZeroLength(), d.String(), d.Human(), d.Before(at))
		}
	}
}

// TestZeroDurationLint: keep: 0d is accepted; a zero period anywhere else
// is an error at its key.
func TestZeroDurationLint(t *testing.T) {
	t.Parallel()
	src := validSource(t)
	for _, r := range [][2]string{
		{"keep: 30d", "keep: 0d"},
		{"backups: 35d", "backups: 0d"},
		{"duration: 13 months", "duration: 0 months"},
		{"erase: delete\n", "erase: {hold: \"Tax law.\", for: 0y}\n"},
		{"ip: {category: user.device.ip_address, erase: nullify}", "ip: {category: user.device.ip_address, erase: {hold: \"Fraud.\", for: 0d}}"},
		{"verification: email_code\n", "verification: email_code\n  erasure_grace: {period: 0d}\n"},
	} {
		if !strings.Contains(src, r[0]) {
			t.Fatalf("testdata/valid.yaml no longer has %q", r[0])
		}
		src = strings.Replace(src, r[0], r[1], 1)
	}
	p, ds := Parse("zero.yaml", []byte(src))
	if p == nil {
		t.Fatalf("a zero period must parse: %v", ds)
	}
	if !p.Retention.Rules[0].Keep.IsZeroLength() {
		t.Fatalf("keep: 0d parsed as %+v", p.Retention.Rules[0].Keep)
	}
	l := &linter{diags: slices.DeleteFunc(ds, func(d Diagnostic) bool { return d.Code != "zero-duration" })}
	want := map[string]string{
		"retention.backups":                                 "backups kept for 0d",
		"cookies[1].duration":                               `cookie "_ga" lasts 0mo`,
		"systems.app.tables.users.erase.for":                "the hold on app:users is for 0y",
		"systems.app.tables.audit_logs.fields.ip.erase.for": "the hold on app:audit_logs.ip is for 0d",
		"rights.erasure_grace.period":                       "grace period of 0d",
	}
	for _, d := range l.diags {
		if w, ok := want[d.Path]; !ok || d.Severity != Error || d.Code != "zero-duration" || !strings.Contains(d.Message, w) || d.Hint == "" || d.Pos.Line == 0 {
			t.Errorf("unexpected diagnostic %+v", d)
		}
		delete(want, d.Path)
	}
	for path := range want {
		t.Errorf("no diagnostic at %s", path)
	}
}

func TestRuleConditionLint(t *testing.T) {
	t.Parallel()
	src := strings.Replace(validSource(t), "where: deleted_at IS NOT NULL", `where: "deleted_at IS NOT NULL) OR (1=1"`, 1)
	p, ds := Parse("where.yaml", []byte(src))
	if p == nil {
		t.Fatal(ds)
	}
	l := &linter{p: p}
	for i, r := range p.Retention.Rules {
		l.ruleCondition(fmt.Sprintf("retention.rules[%d]", i), r)
	}
	if len(l.diags) != 1 {
		t.Fatalf("diagnostics: %v", l.diags)
	}
	d := l.diags[0]
	if d.Path != "retention.rules[0].where" || d.Code != "unsafe-condition" || d.Pos.Line != 59 || !strings.Contains(d.Message, "byte offset 22") {
		t.Errorf("diagnostic %+v", d)
	}
}
