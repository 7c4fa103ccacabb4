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
		{"billing_email", "varchar(255)", false, "user.contact.email", "email"},
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
