package dsr_test

import (
	"bytes"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/policy"
)

// withPolicy replaces the fixture's policy by its own with edits applied
// (old → new, once each).
func withPolicy(t *testing.T, f *fixture, edits ...string) {
	t.Helper()
	src := mustRead(t, "testdata/policy.yaml")
	src = bytes.Replace(src, []byte("KIND"), []byte(f.kind), 1)
	for i := 0; i+1 < len(edits); i += 2 {
		if !bytes.Contains(src, []byte(edits[i])) {
			t.Fatalf("testdata/policy.yaml has no %q", edits[i])
		}
		src = bytes.Replace(src, []byte(edits[i]), []byte(edits[i+1]), 1)
	}
	p, ds := policy.Parse(filepath.Join(t.TempDir(), "policy.yaml"), src)
	if p == nil || ds.HasErrors() {
		t.Fatalf("policy: %v", ds)
	}
	f.policy, f.svc.Policy = p, p
}

// TestIdentityCaseInsensitive: the application stores emails as typed; a
// request written another way still finds the subject, on every database,
// instead of a signed "nothing found".
func TestIdentityCaseInsensitive(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "Ada@Example.COM"})).ID)
			if !r.Result.Found || r.Result.Rows["app:users"] != 1 || r.Result.Rows["app:posts"] != 2 {
				t.Errorf("access for Ada@Example.COM: %+v", r.Result)
			}
		})
	}
}

// TestIdentityTypeRefused: a user_id that is not an integer is refused
// when the request is made, naming the identity — never compared with an
// integer key, which MariaDB would take for user 1.
func TestIdentityTypeRefused(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			for _, v := range []string{"1abc", "1' OR '1'='1", "2xyz"} {
				_, err := f.svc.Create(t.Context(), trusted(dsr.Erasure, dsr.Identities{"user_id": v}))
				var fe *dsr.FieldError
				if !errors.As(err, &fe) || fe.Field != "identities.user_id" {
					t.Errorf("user_id %q: err = %v, want a FieldError on identities.user_id", v, err)
				}
			}
			if rows := query(t, kind, f.appDSN, "SELECT count(*) FROM users"); rows[0] != "2" {
				t.Errorf("users = %s, want 2 (nothing erased)", rows[0])
			}
			_, err := f.svc.Create(t.Context(), trusted(dsr.Access, dsr.Identities{"phone": "+4915112345678"}))
			var fe *dsr.FieldError
			if !errors.As(err, &fe) || !strings.Contains(fe.Reason, "declares identity phone") {
				t.Errorf("phone, which no table declares: %v, want refused", err)
			}
		})
	}
}

// TestHoldByAnotherIdentity: a hold names a person by their email; an
// erasure requested by their user_id keeps everything, and its
// certificate says so without claiming a verification or backups.
func TestHoldByAnotherIdentity(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			book := hold.New(f.store)
			if _, err := book.Place(t.Context(), hold.Subject{Kind: "email", Value: "ADA@example.com"}, "litigation", "legal", nil); err != nil {
				t.Fatal(err)
			}
			f.svc.Holds = book
			r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"user_id": "1"})).ID)
			if !strings.HasPrefix(r.Result.Message, "kept:") {
				t.Errorf("erasure of a held person: %q, want kept", r.Result.Message)
			}
			if rows := query(t, kind, f.appDSN, "SELECT count(*) FROM posts WHERE author_id = 1"); rows[0] != "2" {
				t.Errorf("Ada's posts = %s, want 2 (held)", rows[0])
			}
			c, err := dsr.VerifyCertificate(r.Result.Certificate, f.keys.PublicKey())
			if err != nil || c.Verified || c.Backups != "" {
				t.Errorf("held certificate: verified %v, backups %q, err %v; want neither", c.Verified, c.Backups, err)
			}
		})
	}
}

// TestBrakeApprove: an erasure that would change more of a table than the
// policy's brake allows stops before it changes anything; an operator's
// approval lets it run, and the approval stays with the request.
func TestBrakeApprove(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			withPolicy(t, f, "rights:\n", "brake:\n  requests: {share: 40%, rows: 1}\nrights:\n")
			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			got, err := f.svc.Run(t.Context(), r.ID, nil)
			if err != nil || got.Status != dsr.AwaitingApproval || got.Approval == nil || len(got.Approval.Reasons) == 0 {
				t.Fatalf("braked run: %+v %v, want awaiting approval with reasons", got, err)
			}
			if !strings.Contains(strings.Join(got.Approval.Reasons, "\n"), "app:posts: the erasure would change 2 of its 3 rows") {
				t.Errorf("reasons = %q", got.Approval.Reasons)
			}
			if rows := query(t, kind, f.appDSN, "SELECT count(*) FROM posts"); rows[0] != "3" {
				t.Fatalf("posts after the brake = %s, want 3 (nothing changed)", rows[0])
			}
			if _, err := f.svc.Approve(t.Context(), r.ID, "", ""); err == nil {
				t.Error("approval without an approver was accepted")
			}
			if _, err := f.svc.Approve(t.Context(), r.ID, "dpo@acme.example", "the account is right"); err != nil {
				t.Fatal(err)
			}
			done := run(t, f, r.ID)
			checkErased(t, f)
			if done.Approval == nil || done.Approval.ApprovedBy != "dpo@acme.example" || done.Approval.ApprovedAt == nil {
				t.Errorf("approval after the run: %+v", done.Approval)
			}
		})
	}
}

// TestRetryAfterPolicyFix: an erasure the database refuses (a kept table
// references rows erasure deletes) fails in words; once the policy says
// what to do, the same request is retried and completes.
func TestRetryAfterPolicyFix(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	testdb.Exec(t, "sqlite", f.appDSN, "CREATE TABLE notes (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users (id), body TEXT); INSERT INTO notes VALUES (1, 1, 'kept'), (2, 2, 'bob');")
	withPolicy(t, f, "  billing:\n", `      notes:
        subject: customer
        primary_key: [id]
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id, erase: {hold: "kept with the note", for: 1y}}
          body: {category: user.content, erase: {set: "erased"}}
  billing:
`)
	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	got, err := f.svc.Run(t.Context(), r.ID, nil)
	if err == nil || got.Status != dsr.Failed || !strings.Contains(got.LastError, "notes") || !strings.Contains(got.LastError, "retry") {
		t.Fatalf("run: %v, status %s (%s); want failed, naming notes and retry", err, got.Status, got.LastError)
	}
	if rows := query(t, "sqlite", f.appDSN, "SELECT count(*) FROM users"); rows[0] != "2" {
		t.Fatalf("users after the failure = %s, want 2 (rolled back)", rows[0])
	}
	withPolicy(t, f, "  billing:\n", `      notes:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_id: {category: user.unique_id, references: users.id}
          body: user.content
  billing:
`)
	if _, err := f.svc.Retry(t.Context(), r.ID, "test"); err != nil {
		t.Fatal(err)
	}
	run(t, f, r.ID)
	if rows := query(t, "sqlite", f.appDSN, "SELECT id FROM notes ORDER BY id"); len(rows) != 1 || rows[0] != "2" {
		t.Errorf("notes = %v, want only Bob's", rows)
	}
}

// TestExportLabels: a reference with a label brings the referenced row's
// label into the package, and the manifest gives the retention of rows
// that go with the rows owning them.
func TestExportLabels(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			withPolicy(t, f, "post_id: {category: system.operations, references: posts.id}",
				"post_id: {category: system.operations, references: posts.id, label: body}",
				"invited_by: {category: user.unique_id, references: users.id, erase: nullify}",
				"invited_by: {category: user.unique_id, references: users.id, erase: nullify, label: name}")
			r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
			files := readZip(t, filepath.Join(f.exports, r.Result.Export))
			if c := string(files["data/app/comments.json"]); !strings.Contains(c, `"post_id.body":"Ada's first post"`) {
				t.Errorf("comments.json = %s, want the post's body beside post_id", c)
			}
			if m := string(files["manifest.json"]); !strings.Contains(m, "removed with the users rows they belong to — closed accounts") {
				t.Errorf("manifest.json does not give posts the retention of their user:\n%s", m)
			}
			// Bob was invited by Ada: her name is hers, not Bob's to
			// receive, while the label of a row of his own would be shown.
			r = run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "bob@example.com"})).ID)
			files = readZip(t, filepath.Join(f.exports, r.Result.Export))
			if u := string(files["data/app/users.json"]); strings.Contains(u, "Ada") || !strings.Contains(u, `"invited_by.name":null`) {
				t.Errorf("Bob's users.json = %s, want no label of his inviter's row", u)
			}
		})
	}
}

// TestVerifyBySavedKeys: a row written after the erasure ran, under a
// parent that is gone (the application's table has no foreign key), is
// found by the parent keys Vow saved before erasing — the plan's own
// conditions, which look through the parents, find nothing — and is
// erased, and counted on the certificate.
func TestVerifyBySavedKeys(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			// Crash-free, then crashed at each point of the second pass:
			// what it did is on the certificate all the same.
			for _, point := range []string{"", "again1:erase:app:likes", "again1:before-commit:app", "again1:after-commit:app", "again1:recorded:app"} {
				f := newFixture(t, kind)
				testdb.Exec(t, kind, f.appDSN, "CREATE TABLE likes (id INTEGER PRIMARY KEY, post_id INTEGER NOT NULL, who VARCHAR(50)); INSERT INTO likes VALUES (1, 1, 'carol'), (2, 3, 'dan');")
				withPolicy(t, f, "  billing:\n", `      likes:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          post_id: {category: system.operations, references: posts.id}
          who: user.name
  billing:
`)
				r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
				late := func(p string) {
					if p == "before-verify" {
						testdb.Exec(t, kind, f.appDSN, "INSERT INTO likes VALUES (3, 2, 'late')")
					}
				}
				if point == "" {
					dsr.SetCrashHook(f.svc, late)
				} else {
					crashAt(t, f, r.ID, point, late)
				}
				done := run(t, f, r.ID)
				if rows := query(t, kind, f.appDSN, "SELECT id FROM likes ORDER BY id"); len(rows) != 1 || rows[0] != "2" {
					t.Errorf("crash at %q: likes after erasure = %v, want only Dan's like of Bob's post", point, rows)
				}
				c, err := dsr.VerifyCertificate(done.Result.Certificate, f.keys.PublicKey())
				if err != nil || !c.Verified {
					t.Fatalf("crash at %q: certificate: %v, verified %v", point, err, c != nil && c.Verified)
				}
				for _, tr := range c.Tables {
					if tr.Table == "likes" && tr.Rows != 2 {
						t.Errorf("crash at %q: certificate: likes %s %d rows, want 2 (the late one too)", point, tr.Action, tr.Rows)
					}
				}
			}
		})
	}
}

// TestRelationMustEndAtUniqueKey: a relation to a column that is not
// unique in the database would reach the rows of everyone who shares the
// value; the request is refused before anything is read.
func TestRelationMustEndAtUniqueKey(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			testdb.Exec(t, kind, f.appDSN, "CREATE TABLE shares (id INTEGER PRIMARY KEY, user_name VARCHAR(255)); INSERT INTO shares VALUES (1, 'Ada'), (2, 'Bob');")
			withPolicy(t, f, "  billing:\n", `      shares:
        subject: customer
        primary_key: [id]
        erase: delete
        fields:
          id: system.operations
          user_name: {category: user.name, references: users.name}
  billing:
`)
			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			got, err := f.svc.Run(t.Context(), r.ID, nil)
			if err == nil || got.Status != dsr.Failed || !strings.Contains(got.LastError, "not unique") {
				t.Fatalf("run: %v, %s (%s); want failed: users.name is not unique", err, got.Status, got.LastError)
			}
			if rows := query(t, kind, f.appDSN, "SELECT count(*) FROM shares"); rows[0] != "2" {
				t.Errorf("shares = %s, want 2 (nothing erased)", rows[0])
			}
		})
	}
}

// TestPlanKindsSettle: a table without a declared subject takes the kind
// of the table that owns it (a store, of the staff member who manages
// it); a relation from customers to it is then a mention, so erasing an
// employee never reaches customers.
func TestPlanKindsSettle(t *testing.T) {
	t.Parallel()
	src := `version: 1
organization: {name: Shop, contacts: {privacy: privacy@shop.example}}
purposes:
  service: {legal_basis: contract}
systems:
  app:
    kind: sqlite
    connection: {path: app.db}
    purposes: [service]
    tables:
      staff:
        subject: employee
        erase: delete
        fields:
          id: system.operations
          email: {category: user.contact.email, identity: email}
      stores:
        erase: delete
        fields:
          id: system.operations
          manager_id: {category: user.unique_id, references: staff.id, erase: nullify}
      customers:
        subject: customer
        erase: delete
        fields:
          id: system.operations
          email: {category: user.contact.email, identity: email}
          store_id: {category: system.operations, references: stores.id, erase: nullify}
rights:
  offered: [access, erasure]
`
	p, ds := policy.Parse("shop.yaml", []byte(src))
	if p == nil {
		t.Fatal(ds)
	}
	plan, err := dsr.NewPlan(p, "employee", []string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	for _, st := range plan.Steps {
		if st.Table == "customers" && st.Role == dsr.RoleSubject {
			t.Errorf("an employee's plan owns customers' rows: %v", st.Matches)
		}
	}
}

// TestReusedKeysStop: while an erasure runs (or between a crash and its
// resumption) the database hands one of the subject's deleted keys to
// someone else's new row — SQLite reuses the largest rowid, applications
// reuse usernames. Matching by the keys saved before the erasure would
// then take the new owner's rows for the subject's; the request stops
// instead, and the new rows are untouched.
func TestReusedKeysStop(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			dsr.SetCrashHook(f.svc, func(p string) {
				if p == "before-verify" {
					// Bob's new post gets Ada's erased post's id; Dan
					// comments on it.
					testdb.Exec(t, kind, f.appDSN, "INSERT INTO posts (id, author_id, body) VALUES (2, 2, 'Bob''s new post'); INSERT INTO comments (id, post_id, author_name) VALUES (10, 2, 'Dan');")
				}
			})
			got, err := f.svc.Run(t.Context(), r.ID, nil)
			if err == nil && got.Status == dsr.Completed {
				t.Errorf("erasure completed; want it stopped on the reused key")
			}
			if got != nil && !strings.Contains(got.LastError, "reused") {
				t.Errorf("status %s, last error %q: want it to say the key was reused", got.Status, got.LastError)
			}
			if rows := query(t, kind, f.appDSN, "SELECT id, author_id FROM posts ORDER BY id"); strings.Join(rows, ";") != "2|2;3|2" {
				t.Errorf("posts = %v, want Bob's two posts untouched", rows)
			}
			if rows := query(t, kind, f.appDSN, "SELECT id, author_name FROM comments ORDER BY id"); strings.Join(rows, ";") != "3|Ada;10|Dan" {
				t.Errorf("comments = %v, want Dan's comment on Bob's new post untouched", rows)
			}
		})
	}
}

// TestIdentityLatin1: on MariaDB an email column may still be latin1 (an
// old application's default); an address with accents is found, and only
// it, whatever the column's character set.
func TestIdentityLatin1(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "mysql")
	testdb.Exec(t, "mysql", f.appDSN, `ALTER TABLE users MODIFY email VARCHAR(255) CHARACTER SET latin1 COLLATE latin1_swedish_ci;
INSERT INTO users (id, email, name) VALUES (3, 'JOSÉ@example.com', 'José'), (4, 'jose@example.com', 'Jose');`)
	r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "josé@example.com"})).ID)
	if !r.Result.Found || r.Result.Rows["app:users"] != 1 {
		t.Fatalf("access for josé@example.com: %+v, want José's row alone", r.Result)
	}
	files := readZip(t, filepath.Join(f.exports, r.Result.Export))
	if u := string(files["data/app/users.json"]); !strings.Contains(u, "José") || strings.Contains(u, `"Jose"`) {
		t.Errorf("users.json = %s, want José's row and not Jose's", u)
	}
}

// TestHeldChildShorterHold: an invoice is held for ten years; its lines
// carry a hold of one year of their own. A line past its year stays with
// its invoice, which is still held: a row that belongs to held rows is
// never erased from under them.
func TestHeldChildShorterHold(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			typ := map[string]string{"sqlite": "TEXT", "postgres": "timestamptz", "mysql": "DATETIME"}[kind]
			testdb.Exec(t, kind, f.appDSN, "CREATE TABLE invoice_lines (id INTEGER PRIMARY KEY, invoice_id INTEGER NOT NULL, created_at "+typ+", descr VARCHAR(50));\n"+
				"INSERT INTO invoice_lines VALUES (1, 1, '2020-01-01 00:00:00', 'old'), (2, 1, '2099-01-01 00:00:00', 'new'), (3, 2, '2020-01-01 00:00:00', 'bob');")
			withPolicy(t, f, "  billing:\n", `      invoice_lines:
        subject: customer
        primary_key: [id]
        erase: {hold: "Lines are kept a year.", for: 1y, from: created_at}
        fields:
          id: system.operations
          invoice_id: {category: system.operations, references: invoices.id}
          created_at: system.operations
          descr: user.payment
  billing:
`)
			done := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			if rows := query(t, kind, f.appDSN, "SELECT id FROM invoice_lines ORDER BY id"); strings.Join(rows, ",") != "1,2,3" {
				t.Errorf("invoice lines after erasure = %v, want all three: Ada's stay with her held invoice", rows)
			}
			c, err := dsr.VerifyCertificate(done.Result.Certificate, f.keys.PublicKey())
			if err != nil {
				t.Fatal(err)
			}
			for _, tr := range c.Tables {
				if tr.Table == "invoice_lines" && (tr.Action != "kept" || tr.Rows != 2 || tr.Expired != 0) {
					t.Errorf("certificate: invoice_lines %s %d rows, %d expired; want kept 2, none expired", tr.Action, tr.Rows, tr.Expired)
				}
			}
		})
	}
}
