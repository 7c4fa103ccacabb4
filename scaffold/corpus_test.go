package scaffold_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/scaffold"
	"github.com/vowprivacy/vow/scan"
)

// The labelled corpus: six schemas shaped like real applications (a
// workflow-automation SaaS, a shop, a support desk, HR, a newsletter, and
// logs), each column with what a careful human would declare for it, and
// values with planted personal data and near misses (numbers that fail
// the card checksum, random hex that is no secret, UUIDs, versions).
// TestCorpus runs vow init's decision — names, types, keys and a content
// scan together — over each, in each naming style, and measures it.

// gen makes the value of row i of a column; nil is NULL.
type gen func(r *rand.Rand, i int) any

// ccol is a corpus column. truth is the category a careful human would
// declare ("-" for no personal data; alternatives joined by "|"; "json:"
// and a category for a JSON column whose keys hold personal data).
type ccol struct {
	name, typ, truth string
	gen              gen
	ref              string // "table.column" this column references
}

type ctable struct {
	name string
	cols []ccol
}

type corpus struct {
	name   string
	tables []ctable
}

const corpusRows = 120

var (
	firstNames = []string{"Emma", "Liam", "Olivia", "Noah", "Sofia", "Lucas", "Mia", "Mateo", "Amara", "Ravi", "Chen", "Fatima", "Jonas", "Ingrid", "Pierre", "Giulia", "Sven", "Aisha", "Diego", "Hannah"}
	lastNames  = []string{"Smith", "García", "Müller", "Rossi", "Dubois", "Kowalski", "Nakamura", "Okafor", "Patel", "Johansson", "Silva", "Novak", "Andersen", "Keller", "Moreau", "Costa"}
	streets    = []string{"Baker Street", "Main St", "Hauptstraße", "rue de Rivoli", "Calle Mayor", "Via Roma", "Elm Avenue", "Kingsway", "Park Road", "Oak Lane"}
	cities     = []string{"London", "Berlin", "Paris", "Madrid", "Rome", "Oslo", "Lisbon", "Vienna", "Dublin", "Prague"}
	countries  = []string{"UK", "DE", "FR", "ES", "IT", "NO", "PT", "AT", "IE", "CZ"}
	words      = []string{"sync", "report", "deploy", "invoice", "export", "lead", "backup", "digest", "alert", "webhook", "import", "cleanup"}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

func seq(i int) any                        { return i + 1 }
func person(r *rand.Rand) (string, string) { return pick(r, firstNames), pick(r, lastNames) }
func mailOf(first, last string, i int) string {
	return fmt.Sprintf("%s.%s%d@example.com", asciiLower(first), asciiLower(last), i)
}
func asciiLower(s string) string {
	return strings.ToLower(strings.NewReplacer("í", "i", "ü", "u", "ç", "c").Replace(s))
}
func ts(r *rand.Rand, _ int) any {
	return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(r.IntN(8760)) * time.Hour).Format(time.DateTime)
}
func oneOf(xs ...string) gen           { return func(r *rand.Rand, _ int) any { return pick(r, xs) } }
func intIn(lo, hi int) gen             { return func(r *rand.Rand, _ int) any { return lo + r.IntN(hi-lo+1) } }
func ref(n int) gen                    { return func(r *rand.Rand, _ int) any { return 1 + r.IntN(n) } }
func hexOf(r *rand.Rand, n int) string { return randFrom(r, "0123456789abcdef", n) }
func randFrom(r *rand.Rand, abc string, n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = abc[r.IntN(len(abc))]
	}
	return string(b)
}

const b62 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

var (
	gEmail gen = func(r *rand.Rand, i int) any { f, l := person(r); return mailOf(f, l, i) }
	gFull  gen = func(r *rand.Rand, _ int) any { f, l := person(r); return f + " " + l }
	gFirst gen = func(r *rand.Rand, _ int) any { return pick(r, firstNames) }
	gLast  gen = func(r *rand.Rand, _ int) any { return pick(r, lastNames) }
	gPhone gen = func(r *rand.Rand, _ int) any { return fmt.Sprintf("+44 20 7946 %04d", r.IntN(10000)) }
	gIP    gen = func(r *rand.Rand, _ int) any {
		return fmt.Sprintf("%d.%d.%d.%d", 11+r.IntN(200), r.IntN(256), r.IntN(256), 1+r.IntN(254))
	}
	gStreet   gen = func(r *rand.Rand, _ int) any { return fmt.Sprintf("%d %s", 1+r.IntN(300), pick(r, streets)) }
	gCity     gen = oneOf(cities...)
	gCountry  gen = oneOf(countries...)
	gPostcode gen = func(r *rand.Rand, _ int) any { return fmt.Sprintf("%05d", 10000+r.IntN(89999)) }
	gUA       gen = oneOf("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", "curl/8.5.0")
	gBcrypt   gen = func(r *rand.Rand, _ int) any { return "$2b$12$" + randFrom(r, b62+"./", 53) }
	gSHA      gen = func(r *rand.Rand, _ int) any { return hexOf(r, 64) }
	gUUID     gen = func(r *rand.Rand, _ int) any {
		h := hexOf(r, 32)
		return h[:8] + "-" + h[8:12] + "-4" + h[13:16] + "-a" + h[17:20] + "-" + h[20:]
	}
	gToken   gen = func(r *rand.Rand, _ int) any { return randFrom(r, b62+"-_", 43) }
	gGHToken gen = func(r *rand.Rand, _ int) any { return "gho_" + randFrom(r, b62, 36) }
	gRefresh gen = func(r *rand.Rand, _ int) any { return "1//" + randFrom(r, b62+"-_", 60) }
	gTOTP    gen = func(r *rand.Rand, _ int) any { return randFrom(r, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 32) }
	gDOB     gen = func(r *rand.Rand, _ int) any {
		return fmt.Sprintf("%d-%02d-%02d", 1950+r.IntN(55), 1+r.IntN(12), 1+r.IntN(28))
	}
	gMoney gen = func(r *rand.Rand, _ int) any { return fmt.Sprintf("%d.%02d", r.IntN(900), r.IntN(100)) }
	gWords gen = func(r *rand.Rand, _ int) any {
		return strings.Title(pick(r, words)) + " " + pick(r, words) + " " + pick(r, words)
	}
	gSlug gen = func(r *rand.Rand, _ int) any { return pick(r, words) + "-" + pick(r, words) }
	gURL  gen = func(r *rand.Rand, _ int) any {
		return "https://app.example.com/" + pick(r, words) + "/" + pick(r, words)
	}
	gAvatar gen = func(r *rand.Rand, _ int) any { return "https://cdn.example.com/avatars/" + hexOf(r, 16) + ".png" }
	gLocale gen = oneOf("en-GB", "de-DE", "fr-FR", "es-ES", "it-IT")
	gBool   gen = func(r *rand.Rand, _ int) any { return r.IntN(2) }
	// Near misses: 16 digits that fail the card checksum, versions, hex.
	gOrderRef gen = func(r *rand.Rand, i int) any { return notLuhn(411100000000000 + int64(i)*7919) }
	gVersion  gen = func(r *rand.Rand, _ int) any { return fmt.Sprintf("v1.%d.%d.%d", r.IntN(9), r.IntN(20), r.IntN(99)) }
	// Free text that people write: about half names someone or gives an
	// address to reply to.
	gTicket gen = func(r *rand.Rand, i int) any {
		f, l := person(r)
		switch r.IntN(4) {
		case 0:
			return fmt.Sprintf("Hi, this is %s %s. My invoice shows the wrong amount, please call me back on +44 20 7946 %04d.", f, l, r.IntN(10000))
		case 1:
			return fmt.Sprintf("I can't log in since yesterday. Please reply to %s.", mailOf(f, l, i))
		case 2:
			return "The export to CSV times out after two minutes on large projects."
		}
		return fmt.Sprintf("Thanks %s, that fixed it!", f)
	}
	// The company's own text: campaign bodies, templates, articles.
	gCompanyText gen = func(r *rand.Rand, _ int) any {
		return fmt.Sprintf("<h1>%s</h1><p>Our %s release brings faster %s and a new %s view. Read more at https://acme.example/blog.</p>", gWords(r, 0), pick(r, words), pick(r, words), pick(r, words))
	}
	gLogLine gen = func(r *rand.Rand, i int) any {
		f, l := person(r)
		if r.IntN(3) == 0 {
			return fmt.Sprintf("INFO job %s finished in %dms", pick(r, words), r.IntN(900))
		}
		return fmt.Sprintf("INFO login ok user=%s ip=%s", mailOf(f, l, i), gIP(r, i))
	}
	gJobOutput gen = func(r *rand.Rand, _ int) any {
		return fmt.Sprintf("processed %d rows from %s in %dms (commit %s)", r.IntN(5000), pick(r, words), r.IntN(9000), hexOf(r, 40))
	}
	gRunInput gen = func(r *rand.Rand, i int) any {
		f, l := person(r)
		return fmt.Sprintf(`{"trigger": "%s", "customer": {"email": "%s", "phone": "+33 6 12 34 %02d %02d"}, "count": %d}`, pick(r, words), mailOf(f, l, i), r.IntN(100), r.IntN(100), r.IntN(50))
	}
	gConfig gen = func(r *rand.Rand, _ int) any {
		return fmt.Sprintf(`{"schedule": "0 %d * * *", "retries": %d, "target": "%s", "id": "%s"}`, r.IntN(24), r.IntN(5), pick(r, words), gUUID(r, 0))
	}
	gEventPayload gen = func(r *rand.Rand, i int) any {
		f, l := person(r)
		return fmt.Sprintf(`{"actor": {"email": "%s", "ip": "%s"}, "action": "%s", "request_id": "%s"}`, mailOf(f, l, i), gIP(r, i), pick(r, words), gUUID(r, 0))
	}
	gSSN gen = func(r *rand.Rand, _ int) any {
		return fmt.Sprintf("%03d-%02d-%04d", 100+r.IntN(599), 10+r.IntN(89), 1000+r.IntN(8999))
	}
	gIBAN gen = oneOf("DE89 3704 0044 0532 0130 00", "GB29 NWBK 6016 1331 9268 19", "FR14 2004 1010 0505 0001 3M02 606", "NL91 ABNA 0417 1643 00")
)

// notLuhn appends to body the check digit one off the right one.
func notLuhn(body int64) string {
	digits := fmt.Sprint(body)
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + fmt.Sprint(((10-sum%10)%10+1)%10)
}

func id(truth string) ccol {
	return ccol{name: "id", typ: "INTEGER PRIMARY KEY", truth: truth, gen: func(_ *rand.Rand, i int) any { return seq(i) }}
}

var corpora = []corpus{
	{name: "automation", tables: []ctable{
		{"users", []ccol{id("user.unique_id"),
			{"email", "TEXT", "user.contact.email", gEmail, ""},
			{"full_name", "TEXT", "user.name", gFull, ""},
			{"password_hash", "TEXT", "user.authorization.password", gBcrypt, ""},
			{"totp_secret", "TEXT", "user.authorization.credentials", gTOTP, ""},
			{"avatar_url", "TEXT", "user.content.self_image", gAvatar, ""},
			{"locale", "TEXT", "user.demographic.language", gLocale, ""},
			{"last_login_ip", "TEXT", "user.device.ip_address", gIP, ""},
			{"is_admin", "INTEGER", "-", gBool, ""},
			{"email_verified", "INTEGER", "-", gBool, ""},
			// Encrypted by the application (Laravel's encrypted cast):
			// no email shows, and it is one.
			{"recovery_email", "TEXT", "user.contact.email", func(r *rand.Rand, _ int) any { return "eyJpdiI6" + randFrom(r, b62+"+/", 120) + "==" }, ""},
			{"profile", "TEXT", "json:user.contact.phone_number", func(r *rand.Rand, _ int) any {
				return fmt.Sprintf(`{"theme": "dark", "phone": "+49 30 %08d", "newsletter": true}`, r.IntN(1e8))
			}, ""},
			{"created_at", "TIMESTAMP", "-", ts, ""}}},
		{"password_resets", []ccol{id("-"),
			{"user_id", "INTEGER", "user.unique_id", ref(corpusRows), "users.id"},
			{"token", "TEXT", "user.authorization.credentials", gToken, ""},
			{"expires_at", "TIMESTAMP", "-", ts, ""}}},
		{"notifications", []ccol{id("-"),
			{"email_subject", "TEXT", "-", gWords, ""},
			{"email_template", "TEXT", "-", gCompanyText, ""},
			{"channel", "TEXT", "-", oneOf("email", "slack"), ""}}},
		{"sessions", []ccol{id("-"),
			{"session_token", "TEXT", "user.authorization.credentials|user.device.cookie_id", gToken, ""},
			{"user_id", "INTEGER", "user.unique_id", ref(corpusRows), "users.id"},
			{"user_agent", "TEXT", "user.device.user_agent", gUA, ""},
			{"ip_address", "TEXT", "user.device.ip_address", gIP, ""},
			{"expires_at", "TIMESTAMP", "-", ts, ""}}},
		{"workflows", []ccol{id("-"),
			{"owner_id", "INTEGER", "user.unique_id", ref(corpusRows), "users.id"},
			{"name", "TEXT", "-", gWords, ""},
			{"definition", "TEXT", "-", gConfig, ""},
			{"created_at", "TIMESTAMP", "-", ts, ""}}},
		{"workflow_runs", []ccol{id("-"),
			{"workflow_id", "INTEGER", "-", ref(corpusRows), "workflows.id"},
			{"status", "TEXT", "-", oneOf("ok", "failed", "running"), ""},
			{"input", "TEXT", "json:user.contact.email", gRunInput, ""},
			{"error_message", "TEXT", "-", oneOf("timeout after 30s", "HTTP 502 from upstream", ""), ""},
			{"order_ref", "TEXT", "-", gOrderRef, ""},
			{"started_at", "TIMESTAMP", "-", ts, ""}}},
		{"api_keys", []ccol{id("-"),
			{"user_id", "INTEGER", "user.unique_id", ref(corpusRows), "users.id"},
			{"label", "TEXT", "-", oneOf("ci", "deploy", "laptop"), ""},
			{"key_prefix", "TEXT", "-", func(r *rand.Rand, _ int) any { return "vk_" + randFrom(r, b62, 6) }, ""},
			{"key_hash", "TEXT", "user.authorization.credentials", gSHA, ""},
			{"created_at", "TIMESTAMP", "-", ts, ""}}},
		{"integrations", []ccol{id("-"),
			{"user_id", "INTEGER", "user.unique_id", ref(corpusRows), "users.id"},
			{"provider", "TEXT", "-", oneOf("github", "google", "slack"), ""},
			{"access_token", "TEXT", "user.authorization.credentials", gGHToken, ""},
			{"refresh_token", "TEXT", "user.authorization.credentials", gRefresh, ""},
			{"settings", "TEXT", "-", gConfig, ""}}},
		{"app_logs", []ccol{id("-"),
			{"level", "TEXT", "-", oneOf("INFO", "WARN", "ERROR"), ""},
			{"message", "TEXT", "user.contact.email|user.device.ip_address", gLogLine, ""},
			{"created_at", "TIMESTAMP", "-", ts, ""}}},
	}},
	{name: "shop", tables: []ctable{
		{"countries", []ccol{
			{"code", "TEXT PRIMARY KEY", "-", func(_ *rand.Rand, i int) any { return fmt.Sprintf("C%03d", i) }, ""},
			{"name", "TEXT", "-", oneOf(cities...), ""},
			{"phone_prefix", "TEXT", "-", oneOf("+44", "+49", "+33", "+34"), ""},
			{"currency", "TEXT", "-", oneOf("EUR", "GBP"), ""}}},
		{"wholesale_partners", []ccol{id("-"),
			{"display", "TEXT", "-", oneOf("Acme GmbH", "Globex", "Initech"), ""},
			{"contact", "TEXT", "user.contact.email", gEmail, ""},
			{"notes", "TEXT", "user.content.private", gTicket, ""}}},
		{"employees", []ccol{id("user.unique_id"),
			{"first_name", "TEXT", "user.name.first", gFirst, ""},
			{"last_name", "TEXT", "user.name.last", gLast, ""},
			{"title", "TEXT", "user.job_title", oneOf("Sales Support Agent", "Sales Manager", "IT Staff"), ""},
			{"birth_date", "DATE", "user.demographic.date_of_birth", gDOB, ""},
			{"hire_date", "DATE", "-", ts, ""},
			{"email", "TEXT", "user.contact.email", gEmail, ""},
			{"phone", "TEXT", "user.contact.phone_number", gPhone, ""},
			{"reports_to", "INTEGER", "user.unique_id", ref(corpusRows), "employees.id"}}},
		{"customers", []ccol{id("user.unique_id"),
			{"first_name", "TEXT", "user.name.first", gFirst, ""},
			{"last_name", "TEXT", "user.name.last", gLast, ""},
			{"company", "TEXT", "user.contact.organization", oneOf("Acme GmbH", "Globex", "", "Initech"), ""},
			{"address", "TEXT", "user.contact.address.street", gStreet, ""},
			{"city", "TEXT", "user.contact.address.city", gCity, ""},
			{"postal_code", "TEXT", "user.contact.address.postal_code", gPostcode, ""},
			{"country", "TEXT", "user.contact.address.country", gCountry, ""},
			{"phone", "TEXT", "user.contact.phone_number", gPhone, ""},
			{"email", "TEXT", "user.contact.email", gEmail, ""},
			{"support_rep_id", "INTEGER", "user.unique_id", ref(corpusRows), "employees.id"}}},
		{"products", []ccol{id("-"),
			{"name", "TEXT", "-", gWords, ""},
			{"description", "TEXT", "-", gCompanyText, ""},
			{"price", "NUMERIC", "-", gMoney, ""},
			{"sku", "TEXT", "-", gSlug, ""}}},
		{"orders", []ccol{id("-"),
			{"customer_id", "INTEGER", "user.unique_id", ref(corpusRows), "customers.id"},
			{"ordered_at", "TIMESTAMP", "-", ts, ""},
			{"billing_address", "TEXT", "user.contact.address.street", gStreet, ""},
			{"billing_city", "TEXT", "user.contact.address.city", gCity, ""},
			{"billing_postal_code", "TEXT", "user.contact.address.postal_code", gPostcode, ""},
			{"total", "NUMERIC", "user.payment", gMoney, ""},
			{"gift_note", "TEXT", "user.content.private", gTicket, ""},
			{"reference", "TEXT", "-", gOrderRef, ""}}},
		{"order_items", []ccol{id("-"),
			{"order_id", "INTEGER", "-", ref(corpusRows), "orders.id"},
			{"product_id", "INTEGER", "-", ref(corpusRows), "products.id"},
			{"quantity", "INTEGER", "-", intIn(1, 5), ""}}},
		{"reviews", []ccol{id("-"),
			{"product_id", "INTEGER", "-", ref(corpusRows), "products.id"},
			{"customer_id", "INTEGER", "user.unique_id", ref(corpusRows), "customers.id"},
			{"rating", "INTEGER", "-", intIn(1, 5), ""},
			{"body", "TEXT", "user.content.private|user.content.public", gTicket, ""},
			{"created_at", "TIMESTAMP", "-", ts, ""}}},
	}},
	{name: "helpdesk", tables: []ctable{
		{"agents", []ccol{id("user.unique_id"),
			{"full_name", "TEXT", "user.name", gFull, ""},
			{"email", "TEXT", "user.contact.email", gEmail, ""},
			{"team", "TEXT", "-", oneOf("billing", "tier1", "tier2"), ""}}},
		{"customers", []ccol{id("user.unique_id"),
			{"email", "TEXT", "user.contact.email", gEmail, ""},
			{"name", "TEXT", "user.name", gFull, ""},
			{"phone", "TEXT", "user.contact.phone_number", gPhone, ""},
			{"company_name", "TEXT", "user.contact.organization", oneOf("Acme GmbH", "Globex", "Initech"), ""}}},
		{"tickets", []ccol{id("-"),
			{"customer_id", "INTEGER", "user.unique_id", ref(corpusRows), "customers.id"},
			{"assignee_id", "INTEGER", "user.unique_id", ref(corpusRows), "agents.id"},
			{"subject", "TEXT", "user.content.private", oneOf("Login problem", "Invoice wrong", "Export slow", "Refund please"), ""},
			{"body", "TEXT", "user.content.private", gTicket, ""},
			{"status", "TEXT", "-", oneOf("open", "pending", "solved"), ""},
			{"priority", "TEXT", "-", oneOf("low", "normal", "high"), ""},
			{"created_at", "TIMESTAMP", "-", ts, ""}}},
		{"ticket_comments", []ccol{id("-"),
			{"ticket_id", "INTEGER", "-", ref(corpusRows), "tickets.id"},
			{"author_id", "INTEGER", "user.unique_id", ref(corpusRows), "agents.id"},
			{"body", "TEXT", "user.content.private", gTicket, ""},
			{"is_internal", "INTEGER", "-", gBool, ""}}},
		{"macros", []ccol{id("-"),
			{"title", "TEXT", "-", gWords, ""},
			{"body", "TEXT", "-", gCompanyText, ""}}},
		{"kb_articles", []ccol{id("-"),
			{"title", "TEXT", "-", gWords, ""},
			{"slug", "TEXT", "-", gSlug, ""},
			{"body", "TEXT", "-", gCompanyText, ""},
			{"version", "TEXT", "-", gVersion, ""}}},
	}},
	{name: "hr", tables: []ctable{
		{"departments", []ccol{id("-"),
			{"name", "TEXT", "-", oneOf("Engineering", "Sales", "People"), ""},
			{"cost_center", "TEXT", "-", oneOf("CC-100", "CC-200"), ""}}},
		{"employees", []ccol{id("user.unique_id"),
			{"first_name", "TEXT", "user.name.first", gFirst, ""},
			{"last_name", "TEXT", "user.name.last", gLast, ""},
			{"work_email", "TEXT", "user.contact.email", gEmail, ""},
			{"personal_email", "TEXT", "user.contact.email", gEmail, ""},
			{"mobile", "TEXT", "user.contact.phone_number", gPhone, ""},
			{"date_of_birth", "DATE", "user.demographic.date_of_birth", gDOB, ""},
			{"national_id", "TEXT", "user.government_id|user.government_id.national_identification_number", gSSN, ""},
			{"home_address", "TEXT", "user.contact.address.street", gStreet, ""},
			{"iban", "TEXT", "user.financial.bank_account", gIBAN, ""},
			{"salary", "NUMERIC", "user.financial", gMoney, ""},
			{"gender", "TEXT", "user.demographic.gender", oneOf("female", "male", "nonbinary"), ""},
			{"manager_id", "INTEGER", "user.unique_id", ref(corpusRows), "employees.id"},
			{"department_id", "INTEGER", "-", ref(corpusRows), "departments.id"},
			{"hired_on", "DATE", "-", ts, ""}}},
		{"leave_requests", []ccol{id("-"),
			{"employee_id", "INTEGER", "user.unique_id", ref(corpusRows), "employees.id"},
			{"starts_on", "DATE", "-", ts, ""},
			{"ends_on", "DATE", "-", ts, ""},
			{"reason", "TEXT", "user.content.private", gTicket, ""},
			{"status", "TEXT", "-", oneOf("approved", "pending"), ""}}},
		{"job_applicants", []ccol{id("user.unique_id"),
			{"full_name", "TEXT", "user.name", gFull, ""},
			{"email", "TEXT", "user.contact.email", gEmail, ""},
			{"phone", "TEXT", "user.contact.phone_number", gPhone, ""},
			{"cover_letter", "TEXT", "user.content.private", gTicket, ""},
			{"linkedin_url", "TEXT", "user.contact.url", func(r *rand.Rand, _ int) any { return "https://www.linkedin.com/in/" + pick(r, words) + hexOf(r, 4) }, ""},
			{"applied_at", "TIMESTAMP", "-", ts, ""}}},
	}},
	{name: "newsletter", tables: []ctable{
		{"subscribers", []ccol{id("user.unique_id"),
			{"email", "TEXT", "user.contact.email", gEmail, ""},
			{"first_name", "TEXT", "user.name.first", gFirst, ""},
			{"last_name", "TEXT", "user.name.last", gLast, ""},
			{"status", "TEXT", "-", oneOf("active", "unsubscribed", "bounced"), ""},
			{"signup_ip", "TEXT", "user.device.ip_address", gIP, ""},
			{"unsubscribe_token", "TEXT", "user.authorization.credentials|user.unique_id.pseudonymous", gToken, ""},
			{"confirmed_at", "TIMESTAMP", "-", ts, ""}}},
		{"lists", []ccol{id("-"),
			{"name", "TEXT", "-", gWords, ""},
			{"description", "TEXT", "-", gCompanyText, ""}}},
		{"list_members", []ccol{id("-"),
			{"list_id", "INTEGER", "-", ref(corpusRows), "lists.id"},
			{"subscriber_id", "INTEGER", "user.unique_id", ref(corpusRows), "subscribers.id"},
			{"added_at", "TIMESTAMP", "-", ts, ""}}},
		{"campaigns", []ccol{id("-"),
			{"list_id", "INTEGER", "-", ref(corpusRows), "lists.id"},
			{"subject", "TEXT", "-", gWords, ""},
			{"from_name", "TEXT", "-", oneOf("Acme News", "The Acme Team"), ""},
			{"body_html", "TEXT", "-", gCompanyText, ""},
			{"sent_at", "TIMESTAMP", "-", ts, ""}}},
		{"templates", []ccol{id("-"),
			{"name", "TEXT", "-", gWords, ""},
			{"html", "TEXT", "-", gCompanyText, ""}}},
		{"campaign_events", []ccol{id("-"),
			{"campaign_id", "INTEGER", "-", ref(corpusRows), "campaigns.id"},
			{"subscriber_id", "INTEGER", "user.unique_id", ref(corpusRows), "subscribers.id"},
			{"kind", "TEXT", "-", oneOf("open", "click", "bounce"), ""},
			{"link_url", "TEXT", "-", gURL, ""},
			{"user_agent", "TEXT", "user.device.user_agent", gUA, ""},
			{"ip", "TEXT", "user.device.ip_address", gIP, ""},
			{"created_at", "TIMESTAMP", "-", ts, ""}}},
	}},
	{name: "logs", tables: []ctable{
		{"access_log", []ccol{id("-"),
			{"logged_at", "TIMESTAMP", "-", ts, ""},
			{"remote_addr", "TEXT", "user.device.ip_address", gIP, ""},
			{"method", "TEXT", "-", oneOf("GET", "POST"), ""},
			{"path", "TEXT", "-", func(r *rand.Rand, _ int) any { return "/" + pick(r, words) + "/" + pick(r, words) }, ""},
			{"status", "INTEGER", "-", oneOf("200", "404", "500"), ""},
			{"user_agent", "TEXT", "user.device.user_agent", gUA, ""},
			{"referer", "TEXT", "-", gURL, ""}}},
		{"events", []ccol{id("-"),
			{"occurred_at", "TIMESTAMP", "-", ts, ""},
			{"kind", "TEXT", "-", oneOf("login", "export", "delete"), ""},
			{"payload", "TEXT", "json:user.contact.email", gEventPayload, ""},
			{"request_id", "TEXT", "-", gUUID, ""}}},
		{"job_runs", []ccol{id("-"),
			{"job", "TEXT", "-", oneOf("nightly-export", "cleanup", "digest"), ""},
			{"output", "TEXT", "-", gJobOutput, ""},
			{"release", "TEXT", "-", gVersion, ""},
			{"duration_ms", "INTEGER", "-", intIn(10, 90000), ""}}},
	}},
}

// styles are the naming styles a schema is tried in.
var styles = map[string]func(string) string{
	"snake":  func(s string) string { return s },
	"camel":  func(s string) string { return camel(s, false) },
	"pascal": func(s string) string { return camel(s, true) },
}

func camel(s string, upper bool) string {
	var b strings.Builder
	for i, part := range strings.Split(s, "_") {
		if part == "" {
			continue
		}
		r := []rune(part)
		if i > 0 || upper {
			r[0] = unicode.ToUpper(r[0])
		}
		b.WriteString(string(r))
	}
	return b.String()
}

// build writes the corpus into a new SQLite database, names in style.
func build(t *testing.T, c corpus, style func(string) string) string {
	path := filepath.Join(t.TempDir(), c.name+".db")
	db, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	r := rand.New(rand.NewPCG(7, uint64(len(c.name))))
	for _, tb := range c.tables {
		var defs, names []string
		for _, col := range tb.cols {
			def := style(col.name) + " " + col.typ
			if col.ref != "" {
				table, column, _ := strings.Cut(col.ref, ".")
				def += " REFERENCES " + style(table) + " (" + style(column) + ")"
			}
			defs, names = append(defs, def), append(names, style(col.name))
		}
		if _, err := db.Exec("CREATE TABLE " + style(tb.name) + " (" + strings.Join(defs, ", ") + ")"); err != nil {
			t.Fatal(err)
		}
		tx, err := db.Begin()
		if err != nil {
			t.Fatal(err)
		}
		ins := "INSERT INTO " + style(tb.name) + " (" + strings.Join(names, ", ") + ") VALUES (" + strings.TrimSuffix(strings.Repeat("?, ", len(names)), ", ") + ")"
		for i := range corpusRows {
			args := make([]any, len(tb.cols))
			for j, col := range tb.cols {
				args[j] = col.gen(r, i)
			}
			if _, err := tx.Exec(ins, args...); err != nil {
				t.Fatal(err)
			}
		}
		if err := tx.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

// decide runs what vow init does: read the schema, scan every table, and
// write the starter policy; it returns the category the policy gives each
// column ("table.column" in the schema's own names) and the JSON keys it
// declares.
func decide(t *testing.T, path string) (map[string]string, map[string]map[string]string, map[string]string) {
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	c, err := datastore.OpenDSN(ctx, "sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	schema, err := c.Introspect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	content, err := scanAll(ctx, c, schema)
	if err != nil {
		t.Fatal(err)
	}
	src, err := scaffold.Policy(schema, scaffold.Options{Kind: "sqlite", ConnectionKey: "path", ConnectionValue: "app.db",
		Content: func(table, column string) scan.Column { return content[table+"."+column] }})
	if err != nil {
		t.Fatal(err)
	}
	p, ds := policy.Parse("vow.yaml", src)
	if p == nil {
		t.Fatalf("the starter policy does not parse: %v\n%s", ds, src)
	}
	got, keys, kinds := map[string]string{}, map[string]map[string]string{}, map[string]string{}
	for _, lt := range schema.Tables {
		for _, col := range lt.Columns {
			got[lt.Name+"."+col.Name] = "system.operations"
		}
	}
	for _, tb := range p.Systems[0].Tables {
		kinds[tb.Name] = tb.Subject
		for _, f := range tb.Fields {
			got[tb.Name+"."+f.Name] = f.Category
			for _, k := range f.JSON {
				if keys[tb.Name+"."+f.Name] == nil {
					keys[tb.Name+"."+f.Name] = map[string]string{}
				}
				keys[tb.Name+"."+f.Name][k.Name] = k.Category
			}
		}
	}
	return got, keys, kinds
}

func scanAll(ctx context.Context, c connector.SQL, schema *connector.Schema) (map[string]scan.Column, error) {
	out := map[string]scan.Column{}
	for i := range schema.Tables {
		rt, err := scan.ScanTable(ctx, c, &schema.Tables[i], scan.Options{Full: true})
		if err != nil {
			return nil, err
		}
		for _, col := range rt.Columns {
			out[rt.Name+"."+col.Name] = col
		}
	}
	return out, nil
}

// score is a confusion table of the personal / not personal decision and
// the count of exact categories.
type score struct {
	tp, fp, fn, tn int
	exact, total   int
	misses         []string
}

func (s *score) add(o score) {
	s.tp, s.fp, s.fn, s.tn = s.tp+o.tp, s.fp+o.fp, s.fn+o.fn, s.tn+o.tn
	s.exact, s.total = s.exact+o.exact, s.total+o.total
	s.misses = append(s.misses, o.misses...)
}

func (s score) precision() float64 { return float64(s.tp) / float64(max(1, s.tp+s.fp)) }
func (s score) recall() float64    { return float64(s.tp) / float64(max(1, s.tp+s.fn)) }
func (s score) accuracy() float64  { return float64(s.exact) / float64(max(1, s.total)) }

func personalCategory(c string) bool { return strings.HasPrefix(c, "user.") }

// grade compares what the starter policy says with the truth.
func grade(c corpus, style func(string) string, got map[string]string, keys map[string]map[string]string) score {
	var s score
	for _, tb := range c.tables {
		for _, col := range tb.cols {
			k := style(tb.name) + "." + style(col.name)
			g := got[k]
			wantPersonal := col.truth != "-"
			gotPersonal := personalCategory(g)
			var ok bool
			switch {
			case strings.HasPrefix(col.truth, "json:"):
				gotPersonal = gotPersonal || len(keys[k]) > 0
				ok = slices.Contains(mapValues(keys[k]), strings.TrimPrefix(col.truth, "json:"))
			case !wantPersonal:
				ok = !gotPersonal
			default:
				ok = slices.Contains(strings.Split(col.truth, "|"), g)
			}
			switch {
			case wantPersonal && gotPersonal:
				s.tp++
			case wantPersonal:
				s.fn++
			case gotPersonal:
				s.fp++
			default:
				s.tn++
			}
			s.total++
			if ok {
				s.exact++
			} else {
				s.misses = append(s.misses, fmt.Sprintf("%s:%s: %s, want %s", c.name, k, cmpOr(g, "?"), col.truth))
			}
		}
	}
	return s
}

func mapValues(m map[string]string) []string {
	var out []string
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// wantKinds are the subject kinds of the corpus's tables of people.
var wantKinds = map[string]map[string]string{
	"automation": {"users": "customer"},
	"shop":       {"customers": "customer", "employees": "employee"},
	"helpdesk":   {"customers": "customer", "agents": "employee"},
	"hr":         {"employees": "employee", "job_applicants": "job_applicant"},
	"newsletter": {"subscribers": "customer"},
}

// TestCorpus: on the labelled corpus, the starter policy's decision per
// column reaches precision and recall of at least 0.95 for personal / not
// personal, and at least 0.9 for the exact category; the same schema gives
// the same categories in snake_case, camelCase and PascalCase; tables of
// people get their subject kind. It prints the confusion table and every
// miss.
func TestCorpus(t *testing.T) {
	t.Parallel()
	var total score
	perStyle := map[string]map[string]string{} // style → corpus column (snake) → category
	tw := tabwriter.NewWriter(t.Output(), 0, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "corpus\tstyle\tcolumns\tTP\tFP\tFN\tTN\tprecision\trecall\texact\t")
	for _, c := range corpora {
		for _, name := range []string{"snake", "camel", "pascal"} {
			style := styles[name]
			got, keys, kinds := decide(t, build(t, c, style))
			for table, want := range wantKinds[c.name] {
				if k := kinds[style(table)]; k != want {
					t.Errorf("%s:%s (%s): subject %q, want %q", c.name, style(table), name, k, want)
				}
			}
			s := grade(c, style, got, keys)
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", c.name, name, s.total, s.tp, s.fp, s.fn, s.tn, s.precision(), s.recall(), s.accuracy())
			if name == "snake" {
				total.add(s)
			}
			if perStyle[name] == nil {
				perStyle[name] = map[string]string{}
			}
			for _, tb := range c.tables {
				for _, col := range tb.cols {
					perStyle[name][c.name+":"+tb.name+"."+col.name] = got[style(tb.name)+"."+style(col.name)]
				}
			}
		}
	}
	fmt.Fprintf(tw, "all\tsnake\t%d\t%d\t%d\t%d\t%d\t%.3f\t%.3f\t%.3f\t\n", total.total, total.tp, total.fp, total.fn, total.tn, total.precision(), total.recall(), total.accuracy())
	tw.Flush()
	for _, m := range total.misses {
		t.Log("miss:", m)
	}
	if total.precision() < 0.95 || total.recall() < 0.95 {
		t.Errorf("personal data: precision %.3f, recall %.3f; want both at least 0.95", total.precision(), total.recall())
	}
	if total.accuracy() < 0.9 {
		t.Errorf("exact category: %.3f; want at least 0.9", total.accuracy())
	}
	for col, want := range perStyle["snake"] {
		for _, name := range []string{"camel", "pascal"} {
			if got := perStyle[name][col]; got != want {
				t.Errorf("%s is %s in snake_case but %s in %s", col, want, got, name)
			}
		}
	}
}
