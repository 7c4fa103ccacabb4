// Package classify guesses the data category of a database column from its
// name and type. The guesses seed `vow init --from` and label undeclared
// columns in drift reports; a human reviews every one, so the rules favour
// recall over precision for personal data.
package classify

import (
	"regexp"
	"strings"
	"sync"
	"unicode"
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
	// Evidence says what the guess rests on: FromName, FromKey,
	// FromContent or FromBoth ("" when not said).
	Evidence string
}

// lazyRE is a regular expression compiled the first time it is matched.
// Every vow command links this package, and compiling its patterns at
// start cost each one (a one-shot request through the CLI included, which
// never classifies a column) 1–3 ms. TestPatternsCompile compiles every
// one in patterns, so a bad pattern still fails the tests, not a user's
// run.
type lazyRE struct{ get func() *regexp.Regexp }

// patterns are all the package's lazyREs, for the test.
var patterns []*lazyRE

func lazy(pattern string) *lazyRE {
	l := &lazyRE{sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(pattern) })}
	patterns = append(patterns, l)
	return l
}

// MatchString reports whether s matches, compiling the pattern if needed.
func (l *lazyRE) MatchString(s string) bool { return l.get().MatchString(s) }

type rule struct {
	re       *lazyRE
	category string
	identity string
	// person limits the rule to tables of people: "name" or "title" in a
	// projects or findings table names the row, not a person.
	person bool
}

// rules are tried in order against the column name in snake case (see
// [Snake]); the first match wins, so specific names come before general
// ones.
var rules = []rule{
	{lazy(`^(e_?mail|email_address|contact_email|user_email)$`), "user.contact.email", "email", false},
	{lazy(`e_?mail`), "user.contact.email", "", false},
	{lazy(`(password|passwd|pwd)(_hash|_digest)?$`), "user.authorization.password", "", false},
	{lazy(`(^|_)(key|token|secret)_(hash|digest)$|^hashed_(key|token|secret)$`), "user.authorization.credentials", "", false},
	{lazy(`(secret|api_?key|access_key|private_key|token|credential|otp|totp|mfa_)`), "user.authorization.credentials", "", false},
	{lazy(`(card_number|card_no|^pan$|credit_card|cc_number)`), "user.financial.credit_card", "", false},
	{lazy(`(iban|account_number|bank_account|routing_number|sort_code)`), "user.financial.bank_account", "", false},
	{lazy(`(ssn|national_id|tax_id|vat_number|passport|drivers?_licen[cs]e)`), "user.government_id", "", false},
	{lazy(`(phone|mobile|msisdn|tel$|telephone)`), "user.contact.phone_number", "phone", false},
	{lazy(`^fax$|_fax$`), "user.contact.phone_number", "", false},
	{lazy(`^(first_?name|given_name|forename)$`), "user.name.first", "", false},
	{lazy(`^(last_?name|surname|family_name)$`), "user.name.last", "", false},
	{lazy(`^(full_?name|display_?name|contact_name|billing_name)$`), "user.name", "", false},
	{lazy(`^name$`), "user.name", "", true},
	{lazy(`^(username|user_name|login|handle|nickname)$`), "user.account.username", "username", false},
	{lazy(`(ip_?addr|^ip$|_ip$|remote_addr|client_ip)`), "user.device.ip_address", "", false},
	{lazy(`(user_agent|^ua$|browser)`), "user.device.user_agent", "", false},
	{lazy(`(device_id|device_token|push_token|fingerprint|mac_addr)`), "user.device.device_id", "", false},
	{lazy(`(cookie|session_id|visitor_id|anonymous_id)`), "user.device.cookie_id", "", false},
	{lazy(`(birth|dob$|^dob)`), "user.demographic.date_of_birth", "", false},
	{lazy(`(gender|^sex$)`), "user.demographic.gender", "", false},
	{lazy(`(^locale$|^language$|^lang$)`), "user.demographic.language", "", false},
	{lazy(`(street|address_line|^address$|_address$|address1|address2)`), "user.contact.address.street", "", false},
	{lazy(`(^city$|_city$)`), "user.contact.address.city", "", false},
	{lazy(`(postal_?code|zip_?code|^zip$|postcode)`), "user.contact.address.postal_code", "", false},
	{lazy(`(^country$|_country$|country_code$)`), "user.contact.address.country", "", false},
	{lazy(`(^lat$|latitude|^lng$|^lon$|longitude|geo_?location|coordinates)`), "user.location.precise", "", false},
	{lazy(`(job_title|^role_title$)`), "user.job_title", "", false},
	{lazy(`^title$`), "user.job_title", "", true},
	{lazy(`(company|organi[sz]ation_name|employer)`), "user.contact.organization", "", false},
	{lazy(`(avatar|photo|picture|selfie|image_url)`), "user.content.self_image", "", false},
	{lazy(`(website|homepage|profile_url|linkedin|twitter|github_url)`), "user.contact.url", "", false},
	{lazy(`^(user_id|customer_id|account_id|member_id|owner_id|actor_id|created_by|author_id|subject_id|person_id)$`), "user.unique_id", "user_id", false},
	{lazy(`(external_id|stripe_customer|customer_ref)`), "user.unique_id", "external_id", false},
	{lazy(`(consent|opt_?in|opt_?out|unsubscribed|marketing_emails|subscribed)`), "user.privacy_preferences", "", false},
	{lazy(`(salary|wage|compensation|pay_rate|bonus)`), "user.financial", "", false},
	{lazy(`(amount|price|total|currency|invoice|billing|payment)`), "user.payment", "", false},
	{lazy(`(message|comment|note|body|content|description|bio|reason|letter|feedback|answer|^subject$)`), "user.content.private", "", false},
}

var operational = lazy(`^(id|uuid|.*_at|.*_on|created|updated|deleted|version|status|state|type|.*_type|kind|position|sort_order|count|.*_count|enabled|is_.*|has_.*|.*_id|plan|tier|severity|priority)$`)

// operationalFirst catches names that the personal-data rules would
// otherwise match on a substring: content_type is not content,
// invoice_id or payment_id names a row, not an amount, an error message
// is the program's, not a person's, email_confirmed_at is a time and
// email_verified a flag, and a phone prefix is a country's.
var operationalFirst = lazy(`^(content_type|mime_type|.*_status|.*_count|(payment|invoice|billing|order|transaction)[a-z_]*_id|(last_)?(error|exception|failure)(_message|_msg|_trace|_details?)?|stack_?trace|.*_at|.*_(verified|confirmed|enabled|disabled)|(phone|dial(ing)?|calling)_(prefix|code))$`)

// ForeignKey guesses the category of a column that references another
// table: a pointer to a person is a personal identifier; a pointer to any
// other row is operational, whatever the column is called (device_id
// pointing to devices is not a device fingerprint).
func ForeignKey(refTable string) Guess {
	if PersonTable(refTable) {
		return Guess{Category: "user.unique_id", Confident: true}
	}
	return Guess{Category: "system.operations", Confident: true}
}

// Column guesses the category of a column. tableIsPerson is true when the
// table itself looks like it holds people (users, customers, members…), so
// that its "id" column is a personal identifier.
func Column(name, dbType string, tableIsPerson bool) Guess {
	n := Snake(name)
	if tableIsPerson && (n == "id" || n == "uuid") {
		return Guess{Category: "user.unique_id", Identity: "user_id", Confident: true}
	}
	if operationalFirst.MatchString(n) {
		return Guess{Category: "system.operations", Confident: true}
	}
	for _, r := range rules {
		if r.person && !tableIsPerson {
			continue
		}
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

var personTables = lazy(`^(users?|accounts?|customers?|members?|people|persons?|profiles?|contacts?|subscribers?|leads?|prospects?|visitors?|patients?|students?|(job_)?applicants?|candidates?)$`)

// employeeTables are tables of the company's own people.
var employeeTables = lazy(`^(staff|staffs|staff_members?|employees?|agents?|admins?|administrators?|operators?|support_reps?|sales_reps?)$`)

// subjectKinds name the built-in subject kind of a table of people by its
// name; the others are customers.
var subjectKinds = []struct {
	re   *lazyRE
	kind string
}{
	{employeeTables, "employee"},
	{lazy(`^((job_)?applicants?|candidates?)$`), "job_applicant"},
	{lazy(`^visitors?$`), "site_visitor"},
	{lazy(`^(leads?|prospects?)$`), "prospect"},
}

// SubjectKind guesses the subject kind of a table of people from its name:
// staff and employees are employees, applicants and candidates job
// applicants, visitors site visitors, leads and prospects prospects, and
// users, customers, members, subscribers and the rest customers.
func SubjectKind(table string) string {
	t := baseName(table)
	for _, k := range subjectKinds {
		if k.re.MatchString(t) {
			return k.kind
		}
	}
	return "customer"
}

// baseName is a table name without its schema, in snake case.
func baseName(table string) string {
	if i := strings.LastIndexByte(table, '.'); i >= 0 {
		table = table[i+1:]
	}
	return Snake(table)
}

// PersonTable reports whether a table name suggests a table of people:
// customers, users, members, and also staff (see [EmployeeTable]).
func PersonTable(table string) bool {
	t := baseName(table)
	return personTables.MatchString(t) || employeeTables.MatchString(t)
}

// EmployeeTable reports whether a table name suggests the company's own
// staff: staff, employees, agents, admins, operators, support reps.
func EmployeeTable(table string) bool { return employeeTables.MatchString(baseName(table)) }

var employeeRefs = lazy(`^(support|sales|account)_?reps?(_id)?$|^(support|sales)_?agent_id$|^account_manager_id$`)

// EmployeeReference reports whether a column that references another
// table names a member of the company's staff (support_rep_id,
// sales_rep_id, SupportRepId), so that the table it references holds
// employees whatever it is called.
func EmployeeReference(column string) bool { return employeeRefs.MatchString(Snake(column)) }

var logWords = map[string]bool{
	"log": true, "logs": true, "event": true, "events": true, "audit": true, "audits": true,
	"history": true, "histories": true, "activity": true, "activities": true,
	"auditlog": true, "auditlogs": true, "changelog": true, "changelogs": true, "eventlog": true, "eventlogs": true,
}

// LogTable reports whether a table name suggests a log of events (audit
// logs, security events, login history, activity): its rows record what
// someone did, and the names in them are not the identity of the row's
// subject.
func LogTable(table string) bool {
	for _, w := range strings.Split(baseName(table), "_") {
		if logWords[w] {
			return true
		}
	}
	return false
}

var addressTables = lazy(`(^|_)(address|addresses)$`)

// AddressTable reports whether a table name suggests postal addresses,
// which the rows that reference them use rather than belong to.
func AddressTable(table string) bool { return addressTables.MatchString(baseName(table)) }

var (
	actors         = lazy(`(^|_)by(_id|_user_id)?$|^(actor|assignee|assigned_to|reviewer|approver|editor|modifier|operator|inviter|manager)(_id)?$|_manager(_id)?$|^manager_`)
	ownerLikeActor = lazy(`^(author|owner|creator)(_id|_user_id)?$`)
)

// Actor reports whether a column that references a person names someone
// who acted on the row (created_by, updated_by, triggered_by, actor_id,
// assignee_id, reviewer_id, approver_id, a manager) rather than the
// person the row is about. withParent extends it to author_id and
// owner_id, which name the row's person unless the row also references a
// parent (a project's owner_id, next to its org_id, is a member of the
// organization that owns the project).
func Actor(column string, withParent bool) bool {
	n := Snake(column)
	return actors.MatchString(n) || (withParent && ownerLikeActor.MatchString(n))
}

// Snake returns a column or table name in lower snake case, so that
// rules written for support_rep_id also read SupportRepId, supportRepID
// and SUPPORT_REP_ID.
func Snake(name string) string {
	rs := []rune(name)
	var b strings.Builder
	for i, r := range rs {
		if unicode.IsUpper(r) && i > 0 && rs[i-1] != '_' {
			prev := rs[i-1]
			nextLower := i+1 < len(rs) && unicode.IsLower(rs[i+1])
			if unicode.IsLower(prev) || unicode.IsDigit(prev) || (unicode.IsUpper(prev) && nextLower) {
				b.WriteByte('_')
			}
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
