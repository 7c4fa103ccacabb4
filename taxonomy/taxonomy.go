// Package taxonomy holds Vow's built-in vocabulary: data categories (with
// fideslang-compatible dotted keys), data subjects and legal bases. A policy
// file may extend the categories and subjects; the built-ins let a small
// company write a policy without defining any.
package taxonomy

import (
	"sort"
	"strings"
)

// Category is one data category. Keys are dotted and hierarchical: a
// category's parent is its key with the last segment removed.
type Category struct {
	Key         string
	Name        string
	Description string
	// Personal is true for data about an identified or identifiable person.
	// Everything under "user" is personal; "system" data is not.
	Personal bool
	// Sensitive marks special categories (GDPR art. 9) and data whose
	// exposure is especially harmful (credentials, financial accounts).
	Sensitive bool
}

// Parent returns the key of the category's parent, or "" for a root.
func Parent(key string) string {
	i := strings.LastIndexByte(key, '.')
	if i < 0 {
		return ""
	}
	return key[:i]
}

// Within reports whether key equals ancestor or lies below it.
func Within(key, ancestor string) bool {
	return key == ancestor || strings.HasPrefix(key, ancestor+".")
}

// Related reports whether one key lies within the other.
func Related(a, b string) bool { return Within(a, b) || Within(b, a) }

var builtin = func() map[string]Category {
	m := make(map[string]Category, len(categories))
	for _, c := range categories {
		c.Personal = Within(c.Key, "user")
		m[c.Key] = c
	}
	return m
}()

// Lookup returns the built-in category with the given key.
func Lookup(key string) (Category, bool) {
	c, ok := builtin[key]
	return c, ok
}

// Categories returns the built-in categories sorted by key.
func Categories() []Category {
	out := make([]Category, 0, len(builtin))
	for _, c := range builtin {
		out = append(out, c)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Key < out[j].Key })
	return out
}

// Keys returns the built-in category keys, sorted.
func Keys() []string {
	cs := Categories()
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = c.Key
	}
	return out
}

func cat(key, name string) Category { return Category{Key: key, Name: name} }
func sens(key, name string) Category {
	return Category{Key: key, Name: name, Sensitive: true}
}

// categories follows fideslang's data category taxonomy (v2+ naming).
var categories = []Category{
	cat("system", "System data"),
	cat("system.authentication", "Authentication data of the system"),
	cat("system.operations", "Operational data (identifiers, timestamps, configuration)"),
	cat("user", "User data"),
	cat("user.account", "Account information"),
	cat("user.account.settings", "Account settings"),
	cat("user.account.username", "Username"),
	cat("user.authorization", "Authorization information"),
	sens("user.authorization.credentials", "Credentials (passwords, tokens, keys)"),
	sens("user.authorization.password", "Password"),
	sens("user.authorization.biometric", "Biometric authentication data"),
	cat("user.behavior", "Behavioral data"),
	cat("user.behavior.browsing_history", "Browsing history"),
	cat("user.behavior.media_consumption", "Media consumption"),
	cat("user.behavior.purchase_history", "Purchase history"),
	cat("user.behavior.search_history", "Search history"),
	sens("user.biometric", "Biometric data"),
	sens("user.biometric.fingerprint", "Fingerprint"),
	sens("user.biometric.health", "Health biometrics"),
	sens("user.biometric.retinal", "Retinal scan"),
	sens("user.biometric.voice", "Voice recording"),
	sens("user.childrens", "Children's data"),
	cat("user.contact", "Contact information"),
	cat("user.contact.address", "Postal address"),
	cat("user.contact.address.city", "City"),
	cat("user.contact.address.country", "Country"),
	cat("user.contact.address.postal_code", "Postal code"),
	cat("user.contact.address.state", "State or region"),
	cat("user.contact.address.street", "Street"),
	cat("user.contact.email", "Email address"),
	cat("user.contact.fax_number", "Fax number"),
	cat("user.contact.organization", "Organization"),
	cat("user.contact.phone_number", "Phone number"),
	cat("user.contact.url", "Website or profile URL"),
	cat("user.content", "Content the user provides"),
	cat("user.content.private", "Private content"),
	cat("user.content.public", "Public content"),
	cat("user.content.self_image", "Photos of the user"),
	sens("user.criminal_history", "Criminal history"),
	cat("user.demographic", "Demographic data"),
	cat("user.demographic.age_range", "Age range"),
	cat("user.demographic.date_of_birth", "Date of birth"),
	cat("user.demographic.gender", "Gender"),
	cat("user.demographic.language", "Language"),
	cat("user.demographic.marital_status", "Marital status"),
	sens("user.demographic.political_opinion", "Political opinion"),
	cat("user.demographic.profile", "Profile"),
	sens("user.demographic.race_ethnicity", "Race or ethnicity"),
	sens("user.demographic.religious_belief", "Religious belief"),
	sens("user.demographic.sexual_orientation", "Sexual orientation"),
	cat("user.device", "Device data"),
	cat("user.device.cookie_id", "Cookie identifier"),
	cat("user.device.device_id", "Device identifier"),
	cat("user.device.ip_address", "IP address"),
	cat("user.device.telemetry", "Device telemetry"),
	cat("user.device.user_agent", "Browser user agent"),
	sens("user.financial", "Financial data"),
	sens("user.financial.bank_account", "Bank account"),
	sens("user.financial.credit_card", "Payment card"),
	sens("user.government_id", "Government identifiers"),
	sens("user.government_id.drivers_license_number", "Driver's license number"),
	sens("user.government_id.national_identification_number", "National identification number"),
	sens("user.government_id.passport_number", "Passport number"),
	sens("user.health_and_medical", "Health and medical data"),
	cat("user.location", "Location"),
	cat("user.location.imprecise", "Imprecise location"),
	cat("user.location.precise", "Precise location"),
	cat("user.name", "Name"),
	cat("user.name.first", "First name"),
	cat("user.name.last", "Last name"),
	cat("user.payment", "Payment information (billing records, invoices)"),
	cat("user.privacy_preferences", "Privacy preferences and consent"),
	cat("user.social", "Social media data"),
	cat("user.unique_id", "Unique identifier"),
	cat("user.unique_id.pseudonymous", "Pseudonymous identifier"),
	cat("user.workplace", "Workplace"),
	cat("user.job_title", "Job title"),
}

// Subjects are the built-in data subjects (the kinds of people data is
// about), by key.
var Subjects = map[string]string{
	"customer":        "Customer (an account holder)",
	"team_member":     "Team member of a customer organization",
	"site_visitor":    "Website visitor",
	"prospect":        "Prospective customer",
	"employee":        "Employee",
	"job_applicant":   "Job applicant",
	"supplier_vendor": "Supplier or vendor contact",
	"anonymous_user":  "Anonymous user",
}

// LegalBases are the lawful bases of processing (GDPR art. 6(1)), by key.
var LegalBases = map[string]string{
	"consent":              "Consent",
	"contract":             "Performance of a contract",
	"legal_obligation":     "Compliance with a legal obligation",
	"vital_interests":      "Protection of vital interests",
	"public_task":          "Performance of a task in the public interest",
	"legitimate_interests": "Legitimate interests",
}
