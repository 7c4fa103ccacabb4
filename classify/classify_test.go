package classify

import "testing"

func TestColumn(t *testing.T) {
	tests := []struct {
		name, typ string
		person    bool
		want      string
		identity  string
	}{
		{"email", "text", false, "user.contact.email", "email"},
		{"billing_email", "varchar(255)", false, "user.contact.email", ""},
		{"notify_email_to", "text", false, "user.contact.email", ""},
		{"password_hash", "text", false, "user.authorization.password", ""},
		{"token_hash", "text", false, "user.authorization.credentials", ""},
		{"secret_ciphertext", "bytea", false, "user.authorization.credentials", ""},
		{"card_number", "text", false, "user.financial.credit_card", ""},
		{"phone", "text", false, "user.contact.phone_number", "phone"},
		{"first_name", "text", false, "user.name.first", ""},
		{"full_name", "text", false, "user.name", ""},
		{"ip_address", "text", false, "user.device.ip_address", ""},
		{"source", "inet", false, "user.device.ip_address", ""},
		{"user_agent", "text", false, "user.device.user_agent", ""},
		{"date_of_birth", "date", false, "user.demographic.date_of_birth", ""},
		{"user_id", "bigint", false, "user.unique_id", "user_id"},
		{"id", "bigint", true, "user.unique_id", "user_id"},
		{"id", "bigint", false, "system.operations", ""},
		{"created_at", "timestamp", false, "system.operations", ""},
		{"project_id", "bigint", false, "system.operations", ""},
		{"photo_url", "text", false, "user.content.self_image", ""},
		{"severity", "text", false, "system.operations", ""},
		{"name", "text", false, "system.operations", ""},
		{"name", "text", true, "user.name", ""},
		{"title", "text", false, "system.operations", ""},
		{"title", "text", true, "user.job_title", ""},
		{"plan", "text", false, "system.operations", ""},
		{"content_type", "text", false, "system.operations", ""},
		{"billing_name", "text", false, "user.name", ""},
	}
	for _, tc := range tests {
		g := Column(tc.name, tc.typ, tc.person)
		if g.Category != tc.want || g.Identity != tc.identity {
			t.Errorf("Column(%q, %q, %v) = %+v, want %s/%s", tc.name, tc.typ, tc.person, g, tc.want, tc.identity)
		}
	}
}

func TestPersonTable(t *testing.T) {
	for name, want := range map[string]bool{"users": true, "public.customers": true, "Members": true, "projects": false, "user_settings": false} {
		if PersonTable(name) != want {
			t.Errorf("PersonTable(%q) != %v", name, want)
		}
	}
}

func TestForeignKey(t *testing.T) {
	if g := ForeignKey("users"); g.Category != "user.unique_id" {
		t.Errorf("users: %+v", g)
	}
	if g := ForeignKey("devices"); g.Category != "system.operations" {
		t.Errorf("devices: %+v", g)
	}
}

func TestSnake(t *testing.T) {
	for in, want := range map[string]string{
		"SupportRepId": "support_rep_id", "supportRepID": "support_rep_id", "IPAddress": "ip_address", "ID": "id",
		"user_id": "user_id", "SUPPORT_REP_ID": "support_rep_id", "InvoiceLine": "invoice_line", "Address2": "address2",
	} {
		if got := Snake(in); got != want {
			t.Errorf("Snake(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestMixedCaseColumns(t *testing.T) {
	for name, want := range map[string]string{
		"Email": "user.contact.email", "FirstName": "user.name.first", "BillingAddress": "user.contact.address.street",
		"BillingCountry": "user.contact.address.country", "InvoiceId": "system.operations", "InvoiceLineId": "system.operations",
		"payment_id": "system.operations", "PostalCode": "user.contact.address.postal_code", "Fax": "user.contact.phone_number",
	} {
		if g := Column(name, "text", true); g.Category != want {
			t.Errorf("Column(%q) = %s, want %s", name, g.Category, want)
		}
	}
}

func TestTableKinds(t *testing.T) {
	for name, want := range map[string][3]bool{ // person, employee, log
		"staff": {true, true, false}, "Employee": {true, true, false}, "support_reps": {true, true, false}, "admins": {true, true, false},
		"Customer": {true, false, false}, "billing.customers": {true, false, false},
		"audit_logs": {false, false, true}, "security_events": {false, false, true}, "LoginHistory": {false, false, true},
		"user_activity": {false, false, true}, "catalog": {false, false, false}, "blog_posts": {false, false, false},
		"changelog": {false, false, true}, "projects": {false, false, false},
	} {
		got := [3]bool{PersonTable(name), EmployeeTable(name), LogTable(name)}
		if got != want {
			t.Errorf("%s: person, employee, log = %v, want %v", name, got, want)
		}
	}
	for name, want := range map[string]bool{"address": true, "addresses": true, "shipping_addresses": true, "ip_addresses_seen": false} {
		if AddressTable(name) != want {
			t.Errorf("AddressTable(%q) != %v", name, want)
		}
	}
}

func TestReferences(t *testing.T) {
	for name, want := range map[string]bool{"support_rep_id": true, "SupportRepId": true, "sales_rep_id": true, "account_manager_id": true, "user_id": false, "rep": false} {
		if EmployeeReference(name) != want {
			t.Errorf("EmployeeReference(%q) != %v", name, want)
		}
	}
	for _, tc := range []struct {
		name             string
		withParent, want bool
	}{
		{"created_by", false, true}, {"updated_by_id", false, true}, {"triggered_by", false, true}, {"actor_id", false, true},
		{"assignee_id", false, true}, {"reviewer_id", false, true}, {"approver_id", false, true}, {"manager_staff_id", false, true},
		{"author_id", false, false}, {"author_id", true, true}, {"owner_id", false, false}, {"owner_id", true, true},
		{"user_id", true, false}, {"customer_id", true, false}, {"OwnerId", true, true},
	} {
		if got := Actor(tc.name, tc.withParent); got != tc.want {
			t.Errorf("Actor(%q, %v) = %v, want %v", tc.name, tc.withParent, got, tc.want)
		}
	}
}

// TestPatternsCompile compiles every pattern, which the package leaves
// until first use (MustCompile panics on a bad one).
func TestPatternsCompile(t *testing.T) {
	if len(patterns) <= len(rules) {
		t.Errorf("%d patterns registered, fewer than the %d rules and the rest", len(patterns), len(rules))
	}
	for _, p := range patterns {
		if p.get() == nil {
			t.Error("a pattern compiled to nil")
		}
	}
}
