package drift_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/drift"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/scan"
)

// A workflow-automation app, as a new user found it: run inputs holding a
// test card number in 6 rows, tokens the policy says are encrypted stored
// in the clear, a log table listed as holding no personal data whose lines
// carry emails, a settings JSON with phone numbers under a key nobody
// declared — and near misses that must stay quiet: order references of 16
// digits that fail the card checksum, random hex build ids, bcrypt hashes
// in a column declared hashed.
const contentSchema = `
CREATE TABLE users (id INTEGER PRIMARY KEY, email VARCHAR(200) NOT NULL, api_token VARCHAR(200), password_hash VARCHAR(200), note TEXT, mobile VARCHAR(20));
CREATE TABLE workflow_runs (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL, input JSONTYPE, build VARCHAR(64), order_ref VARCHAR(32));
CREATE TABLE app_logs (id INTEGER PRIMARY KEY, line TEXT);
CREATE TABLE settings (id INTEGER PRIMARY KEY, attribs JSONTYPE);
`

const contentPolicy = `version: 1
organization: {name: Flowly, contacts: {privacy: privacy@flowly.example}}
forbidden: [user.financial.credit_card]
systems:
  app:
    kind: KIND
    connection: {env: APP_DSN}
    ignore: [app_logs]
    tables:
      users:
        subject: customer
        fields:
          id: {category: user.unique_id, identity: user_id}
          email: {category: user.contact.email, identity: email}
          api_token: {category: user.authorization.credentials, stored: encrypted}
          password_hash: {category: user.authorization.password, stored: hashed}
          note: system.operations
          mobile: user.contact.phone_number
      workflow_runs:
        subject: customer
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          input: user.content
          build: system.operations
          order_ref: system.operations
      settings:
        fields:
          id: system.operations
          attribs: {category: system.operations, json: {theme: system.operations}}
`

func contentData() string {
	var b strings.Builder
	for i := 1; i <= 200; i++ {
		token := fmt.Sprintf("enc:v1:%08x", i*7919)
		if i%10 == 0 {
			token = fmt.Sprintf("ghp_%036d", i) // a GitHub token in the clear
		}
		note := "ok"
		if i == 7 { // one token pasted into a note: reported on sight
			note = "rotate 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"
		}
		if i%2 == 0 {
			note = fmt.Sprintf("contact user%d@flowly.example about renewal", i)
		}
		// German mobile numbers written without their +: one in ten passes
		// the card checksum by chance, and is no card.
		mobile := fmt.Sprintf("4915%09d", (i*7919+13)%1000000000)
		fmt.Fprintf(&b, "INSERT INTO users VALUES (%d, 'user%d@example.com', '%s', '$2b$12$%s', '%s', '%s');\n", i, i, token, strings.Repeat("a", 53), note, mobile)
		input := fmt.Sprintf(`{"step": "fetch", "n": %d}`, i)
		if i%33 == 0 { // 6 rows
			input = `{"step": "charge", "card": {"number": "4111 1111 1111 1111", "exp": "12/29"}}`
		}
		fmt.Fprintf(&b, "INSERT INTO workflow_runs VALUES (%d, %d, '%s', '%032x', '%s');\n", i, i, input, i*104729, notLuhn(411111111100000+int64(i)*7))
		fmt.Fprintf(&b, "INSERT INTO app_logs VALUES (%d, '2026-11-02T10:00:%02dZ INFO login ok user=person%d@example.com');\n", i, i%60, i)
		fmt.Fprintf(&b, "INSERT INTO settings VALUES (%d, '{\"theme\": \"dark\", \"phone\": \"+44 20 7946 %04d\"}');\n", i, i)
	}
	return b.String()
}

// notLuhn appends to 15 digits the check digit that is one off the right
// one: a Visa-shaped number that fails the card checksum.
func notLuhn(body int64) string {
	digits := fmt.Sprint(body)
	sum := 0
	for i := range digits {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 { // doubled: the check digit will sit to their right
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	check := (10 - sum%10) % 10
	return digits + fmt.Sprint((check+1)%10)
}

// TestContent: each finding is reported at the policy line it concerns, the
// broken promises (forbidden data, unprotected secrets) as errors, on
// every database kind; the near misses are not reported at all.
func TestContent(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			dsn := testdb.New(t, kind)
			jsonType := map[string]string{"sqlite": "TEXT", "postgres": "JSONB", "mysql": "JSON"}[kind]
			testdb.Exec(t, kind, dsn, strings.ReplaceAll(contentSchema, "JSONTYPE", jsonType)+contentData())
			src := strings.Replace(contentPolicy, "KIND", kind, 1)
			// Contradictions (no retention rules here) do not stop a scan.
			p, ds := policy.Parse("vow.yaml", []byte(src))
			if p == nil {
				t.Fatalf("policy: %v", ds)
			}
			resolver := datastore.Resolver{LookupEnv: func(k string) (string, bool) { return dsn, k == "APP_DSN" }}
			rep, err := scan.Run(t.Context(), p, resolver, scan.Options{})
			if err != nil {
				t.Fatal(err)
			}
			got := drift.Content(p, rep)
			var lines []string
			for _, d := range got {
				lines = append(lines, fmt.Sprintf("%d %s %s", d.Pos.Line, d.Severity, d.Code))
			}
			want := []string{
				"8 warning personal-data-ignored",     // ignore: [app_logs]: emails in log lines
				"15 error not-protected",              // api_token: ghp_ tokens in the clear
				"17 warning personal-data-undeclared", // note: system.operations, but emails
				"17 warning secret-in-data",           // note: a token
				"24 error forbidden-data",             // input: card numbers
				"30 warning undeclared-json-key",      // attribs → phone
			}
			if !slices.Equal(lines, want) {
				var b strings.Builder
				got.WriteText(&b, []byte(src))
				t.Errorf("diagnostics:\n%s\nwant:\n%s\n\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"), b.String())
			}
			for _, d := range got {
				for _, leak := range []string{"4111 1111 1111 1111", "4111111111111111", "ghp_0000", "ghp_wWPw", "person1@example.com"} {
					if strings.Contains(d.Message, leak) || strings.Contains(d.Hint, leak) {
						t.Errorf("a diagnostic shows the value %q: %s", leak, d.Message)
					}
				}
			}
			for _, d := range got {
				if d.Code == "forbidden-data" && !strings.Contains(d.Message, "6 of 200 values") {
					t.Errorf("forbidden-data does not count the 6 rows: %s", d.Message)
				}
			}
		})
	}
}
