// Package classify guesses the data category of a database column from its
// name and type. The guesses seed `vow init --from` and label undeclared
// columns in drift reports; a human reviews every one, so the rules favour
// recall over precision for personal data.
package classify

import (
	"regexp"
	"strings"
)

// Guess is a proposed category for a column.
type Guess struct {
	Category string
	// Identity is set when the column likely identifies a person (email,
	// user_id, …), so it can seed a table's identity fields.
	Identity string
	// Confident is false for weak guesses (matched on type alone, or a
	// generic name).
	Confident bool
}

type rule struct {
	re       *regexp.Regexp
	category string
	identity string
}

// rules are tried in order against the lower-cased column name; the first
// match wins, so specific names come before general ones.
var rules = []rule{
	{regexp.MustCompile(`^(e_?mail|email_address|contact_email|billing_email|user_email)$`), "user.contact.email", "email"},
	{regexp.MustCompile(`e_?mail`), "user.contact.email", ""},
	{regexp.MustCompile(`(password|passwd|pwd)(_hash|_digest)?$`), "user.authorization.password", ""},
	{regexp.MustCompile(`(secret|api_?key|access_key|private_key|token|credential|otp|totp|mfa_)`), "user.authorization.credentials", ""},
	{regexp.MustCompile(`(card_number|card_no|^pan$|credit_card|cc_number)`), "user.financial.credit_card", ""},
	{regexp.MustCompile(`(iban|account_number|bank_account|routing_number|sort_code)`), "user.financial.bank_account", ""},
	{regexp.MustCompile(`(ssn|national_id|tax_id|vat_number|passport|drivers?_licen[cs]e)`), "user.government_id", ""},
	{regexp.MustCompile(`(phone|mobile|msisdn|tel$|telephone)`), "user.contact.phone_number", "phone"},
	{regexp.MustCompile(`^(first_?name|given_name|forename)$`), "user.name.first", ""},
	{regexp.MustCompile(`^(last_?name|surname|family_name)$`), "user.name.last", ""},
	{regexp.MustCompile(`^(name|full_?name|display_?name|contact_name|user_name_full)$`), "user.name", ""},
	{regexp.MustCompile(`^(username|user_name|login|handle|nickname)$`), "user.account.username", "username"},
	{regexp.MustCompile(`(ip_?addr|^ip$|_ip$|remote_addr|client_ip)`), "user.device.ip_address", ""},
	{regexp.MustCompile(`(user_agent|^ua$|browser)`), "user.device.user_agent", ""},
	{regexp.MustCompile(`(device_id|device_token|push_token|fingerprint)`), "user.device.device_id", ""},
	{regexp.MustCompile(`(cookie|session_id|visitor_id|anonymous_id)`), "user.device.cookie_id", ""},
	{regexp.MustCompile(`(birth|dob$|^dob)`), "user.demographic.date_of_birth", ""},
	{regexp.MustCompile(`(gender|^sex$)`), "user.demographic.gender", ""},
	{regexp.MustCompile(`(^locale$|^language$|^lang$)`), "user.demographic.language", ""},
	{regexp.MustCompile(`(street|address_line|^address$|address1|address2)`), "user.contact.address.street", ""},
	{regexp.MustCompile(`(^city$|_city$)`), "user.contact.address.city", ""},
	{regexp.MustCompile(`(postal_?code|zip_?code|^zip$|postcode)`), "user.contact.address.postal_code", ""},
	{regexp.MustCompile(`(^country$|country_code$)`), "user.contact.address.country", ""},
	{regexp.MustCompile(`(^lat$|latitude|^lng$|^lon$|longitude|geo_?location|coordinates)`), "user.location.precise", ""},
	{regexp.MustCompile(`(job_title|^title$|^role_title$)`), "user.job_title", ""},
	{regexp.MustCompile(`(company|organi[sz]ation_name|employer)`), "user.contact.organization", ""},
	{regexp.MustCompile(`(avatar|photo|picture|selfie|image_url)`), "user.content.self_image", ""},
	{regexp.MustCompile(`(website|homepage|profile_url|linkedin|twitter|github_url)`), "user.contact.url", ""},
	{regexp.MustCompile(`^(user_id|customer_id|account_id|member_id|owner_id|actor_id|created_by|author_id|subject_id|person_id)$`), "user.unique_id", "user_id"},
	{regexp.MustCompile(`(external_id|stripe_customer|customer_ref)`), "user.unique_id", "external_id"},
	{regexp.MustCompile(`(consent|opt_?in|opt_?out|unsubscribed|marketing_emails|subscribed)`), "user.privacy_preferences", ""},
	{regexp.MustCompile(`(amount|price|total|currency|invoice|billing|payment|plan)`), "user.payment", ""},
	{regexp.MustCompile(`(message|comment|note|body|content|description|bio)`), "user.content.private", ""},
}

var operational = regexp.MustCompile(`^(id|uuid|.*_at|.*_on|created|updated|deleted|version|status|state|type|kind|position|sort_order|count|.*_count|enabled|is_.*|has_.*|.*_id)$`)

// Column guesses the category of a column. tableIsPerson is true when the
// table itself looks like it holds people (users, customers, members…), so
// that its "id" column is a personal identifier.
func Column(name, dbType string, tableIsPerson bool) Guess {
	n := strings.ToLower(name)
	if tableIsPerson && (n == "id" || n == "uuid") {
		return Guess{Category: "user.unique_id", Identity: "user_id", Confident: true}
	}
	for _, r := range rules {
		if r.re.MatchString(n) {
			return Guess{Category: r.category, Identity: r.identity, Confident: true}
		}
	}
	if operational.MatchString(n) {
		return Guess{Category: "system.operations", Confident: true}
	}
	t := strings.ToLower(dbType)
	if strings.Contains(t, "inet") {
		return Guess{Category: "user.device.ip_address", Confident: true}
	}
	if strings.Contains(t, "bytea") || strings.Contains(t, "blob") {
		return Guess{Category: "user.content.private"}
	}
	if strings.Contains(t, "json") {
		return Guess{Category: "user.content.private"}
	}
	return Guess{Category: "system.operations"}
}

var personTables = regexp.MustCompile(`^(users?|accounts?|customers?|members?|people|persons?|profiles?|contacts?|employees?|subscribers?|leads?|visitors?|patients?|students?)$`)

// PersonTable reports whether a table name suggests a table of people.
func PersonTable(table string) bool {
	t := strings.ToLower(table)
	if i := strings.LastIndexByte(t, '.'); i >= 0 {
		t = t[i+1:]
	}
	return personTables.MatchString(t)
}
