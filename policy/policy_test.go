package policy

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

func validSource(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestValidPolicy(t *testing.T) {
	p, ds := Parse("valid.yaml", []byte(validSource(t)))
	if len(ds) != 0 {
		t.Fatalf("want no diagnostics, got:\n%v", ds)
	}
	if p.Organization.Name != "Lumen" || len(p.Systems) != 1 || len(p.Systems[0].Tables) != 2 {
		t.Fatalf("decoded wrong: %+v", p)
	}
	users := p.System("app").Table("users")
	if f := users.Field("name"); f == nil || f.Category != "user.name" {
		t.Fatalf("shorthand field not decoded: %+v", f)
	}
	if users.Erase == nil || users.Erase.Method != Delete {
		t.Fatalf("table erase: %+v", users.Erase)
	}
	if got := p.Retention.Rules[1].Keep; got != (Duration{12, Months}) {
		t.Fatalf("keep = %v", got)
	}
	if p.DeadlineDays() != 30 || !p.Offers("erasure") {
		t.Fatal("rights not decoded")
	}
	if pos := p.PosOf("systems.app.tables.users"); pos.Line != 30 {
		t.Fatalf("users at %v, want line 30", pos)
	}
	rels := p.Relations()
	if len(rels) != 1 || rels[0].ToTable != "users" || rels[0].ToColumns[0] != "id" {
		t.Fatalf("relations = %+v", rels)
	}
}

// TestDiagnostics shows each check firing with its message. Each case
// edits the valid policy: old is replaced by new (once).
func TestDiagnostics(t *testing.T) {
	tests := []struct {
		name, old, new string
		code, msg      string
		line           int
	}{
		{"unknown top-level key", "retention:", "retension:", "unknown-key", `unknown key "retension" in the policy, did you mean "retention"?`, 54},
		{"unknown nested key", "legal_basis: contract", "legal_bases: contract", "unknown-key", `did you mean "legal_basis"?`, 16},
		{"missing required key", "    legal_basis: consent\n", "    essential: false\n", "missing-key", "`purposes.marketing` needs \"legal_basis\"", 0},
		{"wrong type", "deadline_days: 30", "deadline_days: thirty", "wrong-type", "`rights.deadline_days` must be a whole number", 69},
		{"list expected", "offered: [access, portability, erasure]", "offered: access", "wrong-type", "must be a list", 68},
		{"bad duration", "keep: 30d", "keep: 30 fortnights", "invalid-value", "no known unit", 61},
		{"duplicate system key", "  app:\n    kind: postgres", "  app:\n    kind: postgres\n    kind: mysql", "duplicate-key", `key "kind" appears twice`, 27},
		{"unknown category", "categories: [user.contact.email]", "categories: [user.contact.emial]", "unknown-category", `unknown category "user.contact.emial", did you mean "user.contact.email"?`, 50},
		{"processor gets unheld category", "categories: [user.contact.email]", "categories: [user.contact.email, user.financial.credit_card]", "unheld-category", `processor "Postmark" receives "user.financial.credit_card", but no system holds that category`, 50},
		{"no retention rule", "      table: app:users\n", "      table: app:missing\n", "no-retention", "personal data (user.unique_id, user.contact.email, user.name) in app:users is kept with no retention rule", 30},
		{"no erasure strategy", "erase: nullify}", "}", "no-erasure-strategy", "erasure is offered but table app:audit_logs has personal fields with no erasure strategy: ip", 40},
		{"broken relation table", "references: users.id", "references: accounts.id", "broken-relation", `points to table "accounts", which the policy does not declare`, 43},
		{"broken relation column", "references: users.id", "references: users.uuid", "broken-relation", `points to column "uuid"`, 43},
		{"broken relation system", "references: users.id", "references: crm:users.id", "broken-relation", `unknown system "crm"`, 43},
		{"retention without timestamp column", "from: created_at", "from: inserted_at", "no-timestamp", `measures from column "inserted_at", which table app:audit_logs does not declare`, 0},
		{"retention on missing table", "table: audit_logs", "table: audit_log", "broken-reference", `names table "audit_log"`, 0},
		{"duplicate retention rule", "name: audit logs", "name: closed accounts", "duplicate-name", `retention rule "closed accounts" is declared twice`, 0},
		{"duplicate processor", "processors:\n", "processors:\n  - {name: Postmark, purposes: [service], categories: [user.contact.email], location: US}\n", "duplicate-name", `processor "Postmark" is declared twice`, 0},
		{"duplicate table", "      audit_logs:\n", "      users:\n        fields: {email: user.contact.email}\n      audit_logs:\n", "duplicate-name", `table "users" is declared twice (first at line 30)`, 0},
		{"inline secret", "connection: {env: APP_DATABASE_URL}", "connection: {dsn: \"postgres://u:secret@db/app\"}", "inline-secret", "a DSN must not be written in the policy file", 0},
		{"unknown purpose", "purposes: [service]\n    tables", "purposes: [servise]\n    tables", "unknown-purpose", `unknown purpose "servise", did you mean "service"?`, 0},
		{"unknown subject", "subject: customer\n        primary_key", "subject: custmer\n        primary_key", "unknown-subject", `unknown subject "custmer", did you mean "customer"?`, 0},
		{"consent on essential purpose", "marketing: {mode: opt_in, gpc: true}", "service: {mode: opt_in}", "contradiction", `purpose "service" is essential`, 0},
		{"consent essential", "    legal_basis: consent\n", "    legal_basis: consent\n    essential: true\n", "contradiction", "rests on consent but is marked essential", 0},
		{"cookie without consent", "category: analytics\n    purpose: marketing", "category: analytics\n    purpose: service", "cookie-without-consent", `non-essential cookie "_ga" is set for "service", which asks no consent`, 0},
		{"bad erasure strategy", "erase: hmac", "erase: hash", "invalid-value", `unknown erasure strategy "hash"`, 0},
		{"field delete", "erase: hmac", "erase: delete", "invalid-value", "a field cannot be deleted on its own", 0},
		{"bad email", "privacy: privacy@lumen.example", "privacy: privacy at lumen", "invalid-value", `"privacy at lumen" is not an email address`, 0},
		{"legitimate interest unexplained", "    interest: Keeping accounts and the platform secure\n", "", "missing-interest", "does not say which", 0},
		{"yaml syntax", "  name: Lumen\n", "  name: [Lumen\n", "syntax", "", 0},
		{"bad version", "version: 1", "version: 7", "unsupported-version", "version 7 is not supported", 1},
		{"empty list entry", "  rules:\n", "  rules:\n    -\n", "empty-entry", "`retention.rules` has an empty entry", 57},
		{"boolean for text", "name: Lumen", "name: true", "wrong-type", "must be text, not the boolean true", 3},
		{"long grace", "offered: [access, portability, erasure]", "offered: [access, portability, erasure]\n  erasure_grace: {period: 60d}", "long-grace", "a grace period of 60d", 0},
		{"grace without erasure", "offered: [access, portability, erasure]", "offered: [access, portability]\n  erasure_grace: {period: 7d}", "unused", "an erasure grace period is set but erasure is not offered", 0},
		{"unrecorded right", "offered: [access, portability, erasure]", "offered: [access, portability, erasure, restriction]", "unrecorded-right", "restriction is offered but nothing records it", 68},
		{"right recorded in a missing column", "offered: [access, portability, erasure]", "offered: [access, erasure]\n  objection: [{set: \"app:users.no_marketing\", value: \"1\"}]", "broken-reference", `names column "no_marketing", which app:users does not declare`, 0},
		{"webhook not https", "systems:\n", "systems:\n  mailer:\n    kind: webhook\n    connection: {env: MAILER_SECRET}\n    webhook: {url: \"http://hooks.example.com/vow\", identities: [email], categories: [user.contact.email]}\n", "invalid-value", "webhook url \"http://hooks.example.com/vow\" is not https", 0},
		{"webhook url with credentials", "systems:\n", "systems:\n  mailer:\n    kind: webhook\n    connection: {env: MAILER_SECRET}\n    webhook: {url: \"https://u:p@hooks.example.com/vow\", identities: [email], categories: [user.contact.email]}\n", "inline-secret", "a webhook url must not carry credentials", 0},
		{"webhook without block", "systems:\n", "systems:\n  mailer:\n    kind: webhook\n    connection: {env: MAILER_SECRET}\n", "missing-key", "a webhook system needs a webhook block", 0},
		{"webhook block on a database", "    connection: {env: APP_DATABASE_URL}\n", "    connection: {env: APP_DATABASE_URL}\n    webhook: {url: \"https://x.example\", identities: [email], categories: [user.name]}\n", "invalid-value", "only a webhook system has a webhook block", 0},
		{"forbidden category declared", "processors:\n", "forbidden: [user.name]\nprocessors:\n", "forbidden-category", "app:users.name holds user.name, which forbidden: promises is never held", 37},
		{"forbidden unknown category", "processors:\n", "forbidden: [user.financial.card]\nprocessors:\n", "unknown-category", `unknown category "user.financial.card"`, 0},
		{"stored unknown form", "name: user.name\n", "name: {category: user.name, stored: encrypt}\n", "unknown-value", `unknown storage form "encrypt", did you mean "encrypted"?`, 0},
		{"json key path", "name: user.name\n", "name: user.name\n          attribs: {category: system.operations, json: {\"a..b\": user.contact.phone_number}}\n", "invalid-value", `"a..b" is not a JSON key path`, 0},
		{"json key category", "name: user.name\n", "name: user.name\n          attribs: {category: system.operations, json: {\"items[].phone\": user.contact.phone}}\n", "unknown-category", `unknown category "user.contact.phone"`, 0},
		{"throttle impact at most 1", "  rules:\n", "  throttle: {impact: 1}\n  rules:\n", "bad-throttle", "impact 1 would back off from the baseline itself", 56},
		{"throttle latency budget at most 1", "  rules:\n", "  throttle: {latency_budget: 0.5}\n  rules:\n", "bad-throttle", "latency_budget 0.5 would back off from the baseline itself", 56},
		{"throttle critical below max", "  rules:\n", "  throttle: {max_load: {lag: 30s}, critical_load: {lag: 10s}}\n  rules:\n", "bad-throttle", "critical lag 10s is below max_load's 30s", 56},
		{"throttle span without unit", "  rules:\n", "  throttle: {batch_time: 500}\n  rules:\n", "invalid-value", `time span "500" must be positive and have a unit`, 56},
		{"replica with inline dsn", "    connection: {env: APP_DATABASE_URL}\n", "    connection: {env: APP_DATABASE_URL}\n    replicas: [{dsn: \"postgres://u:p@replica/app\"}]\n", "inline-secret", "a DSN must not be written in the policy file", 0},
		{"replica without source", "    kind: postgres\n    connection: {env: APP_DATABASE_URL}\n", "    kind: mysql\n    connection: {env: APP_DATABASE_URL}\n    replicas: [{}]\n", "invalid-value", "a replica names 0 DSN sources, not one", 0},
		{"replica of postgres", "    connection: {env: APP_DATABASE_URL}\n", "    connection: {env: APP_DATABASE_URL}\n    replicas: [{env: REPLICA_URL}]\n", "invalid-value", "PostgreSQL standbys are watched from the primary", 0},
		{"webhook unknown identity", "systems:\n", "systems:\n  mailer:\n    kind: webhook\n    connection: {env: MAILER_SECRET}\n    webhook: {url: \"https://h.example\", identities: [passport], categories: [user.contact.email]}\n", "unknown-value", "passport", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			src := validSource(t)
			if !strings.Contains(src, tc.old) {
				t.Fatalf("fixture does not contain %q", tc.old)
			}
			src = strings.Replace(src, tc.old, tc.new, 1)
			_, ds := Parse("vow.yaml", []byte(src))
			for _, d := range ds {
				if d.Code == tc.code && strings.Contains(d.Message, tc.msg) {
					if tc.line != 0 && d.Pos.Line != tc.line {
						t.Errorf("%s at line %d, want %d", d.Code, d.Pos.Line, tc.line)
					}
					if d.Severity == Error && ds.Err() == nil {
						t.Error("Err() is nil despite an error")
					}
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

// TestForbiddenHeld: a category the policy promises never to hold may not
// be declared anywhere something is held — a column, a key inside a JSON
// column, a service — but a processor may receive it (a payment provider
// takes card numbers the company never stores).
func TestForbiddenHeld(t *testing.T) {
	src := strings.Replace(validSource(t), "processors:\n", "forbidden: [user.financial.credit_card]\nprocessors:\n", 1)
	src = strings.Replace(src, "name: user.name\n", "name: user.name\n          attribs: {category: system.operations, json: {card.number: user.financial.credit_card}}\n", 1)
	src = strings.Replace(src, "systems:\n", "systems:\n  payments:\n    kind: webhook\n    connection: {env: PAY_SECRET}\n    webhook: {url: \"https://pay.example\", identities: [email], categories: [user.financial.credit_card]}\n", 1)
	src = strings.Replace(src, "categories: [user.contact.email]\n    location", "categories: [user.contact.email, user.financial.credit_card]\n    location", 1)
	_, ds := Parse("vow.yaml", []byte(src))
	var got []string
	for _, d := range ds {
		if d.Code == "forbidden-category" {
			got = append(got, d.Path)
		}
	}
	want := []string{"systems.app.tables.users.fields.attribs.json.card.number.category", "systems.payments.webhook.categories[0]"}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Errorf("forbidden-category at %q; want %q\n%s", got, want, joinDiags(ds))
	}
}

func joinDiags(ds Diagnostics) string {
	var b strings.Builder
	for _, d := range ds {
		b.WriteString(d.String() + "\n")
	}
	return b.String()
}

func TestReportsEveryProblem(t *testing.T) {
	src := strings.NewReplacer("retention:", "retension:", "kind: postgres", "kind: postgress", "legal_basis: contract", "legal_basis: contrakt").Replace(validSource(t))
	_, ds := Parse("vow.yaml", []byte(src))
	codes := map[string]bool{}
	for _, d := range ds {
		codes[d.Code] = true
	}
	for _, want := range []string{"unknown-key", "unknown-value"} {
		if !codes[want] {
			t.Errorf("missing %s in:\n%s", want, joinDiags(ds))
		}
	}
	if len(ds) != 3 {
		t.Fatalf("want 3 problems, got:\n%s", joinDiags(ds))
	}
	// The rules are under the misspelled key: no false no-retention.
	if codes["no-retention"] {
		t.Errorf("absence lints ran despite structural errors:\n%s", joinDiags(ds))
	}
	if got := ds[0].String(); !strings.HasPrefix(got, "vow.yaml:") {
		t.Fatalf("diagnostic format: %s", got)
	}
}

func TestAliasBomb(t *testing.T) {
	src := "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
	_, ds := Parse("bomb.yaml", []byte("version: 1\nx:\n  "+strings.ReplaceAll(src, "\n", "\n  ")))
	if !ds.HasErrors() {
		t.Fatal("want an error")
	}
}

func TestDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Duration
		bad  bool
	}{
		{"30d", Duration{30, Days}, false},
		{"30 days", Duration{30, Days}, false},
		{"12mo", Duration{12, Months}, false},
		{"1 year", Duration{1, Years}, false},
		{"72h", Duration{72, Hours}, false},
		{"2w", Duration{2, Weeks}, false},
		{"0d", Duration{0, Days}, false}, // set, and zero long
		{"d", Duration{}, true},
		{"30", Duration{}, true},
		{"99999999999999999999d", Duration{}, true},
	} {
		got, err := ParseDuration(tc.in)
		if (err != nil) != tc.bad || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v", tc.in, got, err)
		}
	}
}

func FuzzLoad(f *testing.F) {
	f.Add([]byte(validSource(f)))
	f.Add([]byte("version: 1\nsystems: {a: {tables: {t: {fields: {x: user.name}}}}}\n"))
	f.Add([]byte("a: &a [*a]"))
	f.Add([]byte("<<: {version: 1}\n"))
	f.Fuzz(func(t *testing.T, src []byte) {
		p, ds := Parse("fuzz.yaml", src)
		for _, d := range ds {
			if d.Message == "" || d.Code == "" {
				t.Fatalf("empty diagnostic: %+v", d)
			}
		}
		if p != nil {
			p.Relations()
		}
	})
}

// TestLoadRefusesSpecialFiles: a device, a directory or an oversize file
// is refused at once (reading /dev/zero ran out of memory), and a named
// pipe that nobody writes to fails instead of blocking forever.
func TestLoadRefusesSpecialFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	big := filepath.Join(t.TempDir(), "big.yaml")
	if err := os.WriteFile(big, bytes.Repeat([]byte("#"), 9<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	for path, want := range map[string]string{"/dev/zero": "not a regular file", fifo: "nothing was written", t.TempDir(): "directory", big: "larger than 8 MiB"} {
		done := make(chan error, 1)
		go func() { _, _, err := Load(path); done <- err }()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("Load(%s) = %v; want an error saying %q", path, err, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("Load(%s) hangs", path)
		}
	}
}

// TestLoadFromPipe: `vow check <(generate-policy)` and a named pipe with a
// writer are read like a file; a writer that never finishes runs into the
// pipe's time limit.
func TestLoadFromPipe(t *testing.T) {
	src, err := os.ReadFile("testdata/valid.yaml")
	if err != nil {
		t.Fatal(err)
	}
	t.Run("process substitution", func(t *testing.T) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		defer r.Close()
		go func() { w.Write(src); w.Close() }()
		p, ds, err := Load(fmt.Sprintf("/dev/fd/%d", r.Fd()))
		if err != nil || ds.HasErrors() || p == nil {
			t.Fatalf("Load from a pipe: %v %v", err, ds)
		}
	})
	t.Run("writer that never finishes", func(t *testing.T) {
		old := pipeWait
		pipeWait = 200 * time.Millisecond
		defer func() { pipeWait = old }()
		fifo := filepath.Join(t.TempDir(), "fifo")
		if err := syscall.Mkfifo(fifo, 0o600); err != nil {
			t.Skip("no FIFOs here:", err)
		}
		// Hold the write end open (non-blocking, since no reader waits yet
		// would make a blocking open hang): a reader waits for more.
		rd, err := os.OpenFile(fifo, os.O_RDONLY|syscall.O_NONBLOCK, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer rd.Close()
		wr, err := os.OpenFile(fifo, os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer wr.Close()
		wr.Write(src[:10])
		_, _, err = Load(fifo)
		if err == nil || !strings.Contains(err.Error(), "nothing finished writing") {
			t.Fatalf("Load = %v; want the pipe's time limit", err)
		}
	})
}

// TestStarter: in a starter policy the decisions left to a human are
// warnings, with one warning saying why; without starter they are errors.
func TestStarter(t *testing.T) {
	src := strings.Replace(validSource(t), "      table: app:users\n", "      table: app:missing\n", 1) // users loses its rule
	for _, starter := range []bool{false, true} {
		s := src
		if starter {
			s = strings.Replace(s, "version: 1\n", "version: 1\nstarter: true\n", 1)
		}
		_, ds := Parse("vow.yaml", []byte(s))
		var sev Severity
		warned := false
		for _, d := range ds {
			switch d.Code {
			case "no-retention":
				sev = d.Severity
			case "starter-policy":
				warned = d.Severity == Warning && d.Pos.Line == 2
			}
		}
		want := Error
		if starter {
			want = Warning
		}
		if sev != want || warned != starter {
			t.Errorf("starter %v: no-retention severity %v, starter warning %v; want %v, %v\n%s", starter, sev, warned, want, starter, joinDiags(ds))
		}
	}
}
