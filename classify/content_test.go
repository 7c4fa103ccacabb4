package classify_test

import (
	"maps"
	"testing"

	"github.com/vowprivacy/vow/classify"
	"github.com/vowprivacy/vow/detect"
)

func finding(category string, rate, conf float64) detect.Finding {
	return detect.Finding{Category: category, Detector: "d", HitRate: rate, Confidence: conf, Values: 100, Matched: int(rate * 100)}
}

func TestRefine(t *testing.T) {
	email := finding("user.contact.email", 0.95, 0.9)
	tests := []struct {
		name     string
		guess    classify.Guess
		dbType   string
		values   int
		opaque   int
		findings []detect.Finding
		want     string
		evidence string
	}{
		{"name confirmed", classify.Guess{Category: "user.contact.email", Confident: true}, "text", 100, 0, []detect.Finding{email}, "user.contact.email", classify.FromBoth},
		{"content names an operational column", classify.Guess{Category: "system.operations"}, "text", 100, 0, []detect.Finding{email}, "user.contact.email", classify.FromContent},
		{"content narrows free text", classify.Guess{Category: "user.content.private", Confident: true}, "text", 100, 0, []detect.Finding{email}, "user.contact.email", classify.FromContent},
		{"hashes in a credentials column", classify.Guess{Category: "user.authorization.credentials", Confident: true}, "text", 100, 0, []detect.Finding{finding("user.authorization.password", 1, 0.95)}, "user.authorization.password", classify.FromBoth},
		{"a confident name keeps its category", classify.Guess{Category: "user.name", Confident: true}, "text", 100, 0, []detect.Finding{email}, "user.name", classify.FromName},
		{"a few values are not the column", classify.Guess{Category: "system.operations"}, "text", 100, 0, []detect.Finding{finding("user.contact.email", 0.2, 0.9)}, "system.operations", classify.FromName},
		{"names need most values", classify.Guess{Category: "system.operations"}, "text", 100, 0, []detect.Finding{finding("user.name", 0.6, 0.5)}, "system.operations", classify.FromName},
		{"names at 90% count", classify.Guess{Category: "system.operations"}, "text", 100, 0, []detect.Finding{finding("user.name", 0.9, 0.5)}, "user.name", classify.FromContent},
		{"no email in an email_template", classify.Guess{Category: "user.contact.email", Confident: true}, "text", 100, 0, nil, "system.operations", classify.FromContent},
		{"an encrypted email column", classify.Guess{Category: "user.contact.email", Confident: true}, "text", 100, 90, nil, "user.contact.email", classify.FromOpaque},
		{"IP addresses as bytes", classify.Guess{Category: "user.device.ip_address", Confident: true}, "varbinary(16)", 100, 10, nil, "user.device.ip_address", classify.FromOpaque},
		{"too few values to say", classify.Guess{Category: "user.contact.email", Confident: true}, "text", 5, 0, nil, "user.contact.email", classify.FromName},
		{"JSON keeps its guess", classify.Guess{Category: "system.operations"}, "jsonb", 100, 0, []detect.Finding{email}, "system.operations", classify.FromName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := classify.Refine(tt.guess, tt.dbType, tt.values, tt.opaque, tt.findings)
			if got.Category != tt.want || got.Evidence != tt.evidence {
				t.Errorf("Refine = %s (%s), want %s (%s)", got.Category, got.Evidence, tt.want, tt.evidence)
			}
		})
	}
}

func TestKeys(t *testing.T) {
	fs := []detect.Finding{
		{Category: "user.contact.email", Path: "customer.email", HitRate: 0.9, Confidence: 0.9},
		{Category: "user.contact.phone_number", Path: "customer.phone", HitRate: 0.05, Confidence: 0.9}, // too rare
		{Category: "user.name", Path: "note", HitRate: 0.5, Confidence: 0.4},                            // too unsure
		{Category: "user.contact.email", Path: "*", HitRate: 0.5, Confidence: 0.9},                      // a key that is itself data
		{Category: "user.contact.email", Path: "", HitRate: 1, Confidence: 0.9},                         // not a key
	}
	want := map[string]string{"customer.email": "user.contact.email"}
	if got := classify.Keys(fs); !maps.Equal(got, want) {
		t.Errorf("Keys = %v, want %v", got, want)
	}
}

func TestSubjectKind(t *testing.T) {
	for table, want := range map[string]string{
		"users": "customer", "Customers": "customer", "members": "customer", "subscribers": "customer",
		"staff": "employee", "Employee": "employee", "support_agents": "customer", "agents": "employee",
		"job_applicants": "job_applicant", "Candidates": "job_applicant", "visitors": "site_visitor",
		"leads": "prospect", "crm.prospects": "prospect",
	} {
		if got := classify.SubjectKind(table); got != want {
			t.Errorf("SubjectKind(%q) = %q, want %q", table, got, want)
		}
	}
}
