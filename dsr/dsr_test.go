package dsr_test

import (
	"archive/zip"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vowprivacy/vow/connector"
	"github.com/vowprivacy/vow/demo"
	"github.com/vowprivacy/vow/dsr"
	"github.com/vowprivacy/vow/hold"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/internal/testsmtp"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/throttle"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fmtAny(v any) string { return fmt.Sprint(v) }

var kinds = []string{"sqlite", "postgres", "mysql"}

func trusted(t dsr.Type, ids dsr.Identities) dsr.NewRequest {
	return dsr.NewRequest{Type: t, Identities: ids, Verification: dsr.VerifyTrusted, CreatedBy: "test"}
}

func create(t *testing.T, f *fixture, n dsr.NewRequest) *dsr.Request {
	t.Helper()
	r, err := f.svc.Create(t.Context(), n)
	if err != nil {
		t.Fatalf("Create: %v", err)
	}
	return r
}

func run(t *testing.T, f *fixture, id string) *dsr.Request {
	t.Helper()
	r, err := f.svc.Run(t.Context(), id, nil)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if r.Status != dsr.Completed {
		t.Fatalf("status after Run = %s (%s), want completed", r.Status, r.LastError)
	}
	return r
}

func TestPlanGolden(t *testing.T) {
	p, ds, err := policy.Load(filepath.Join("..", "demo", "vow.yaml"))
	if err != nil || p == nil {
		t.Fatalf("load demo policy: %v %v", err, ds)
	}
	_ = demo.Size(1)
	ids := dsr.Identities{"email": "ada@example.com"}
	plan, err := dsr.NewPlan(p, "", []string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	if err := plan.WriteText(&b, ids); err != nil {
		t.Fatal(err)
	}
	golden(t, "testdata/plan_demo_email.golden", b.String())
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./dsr -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs (go test ./dsr -update to accept):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestPlanFollowsOwnership(t *testing.T) {
	p := loadPolicy(t, "sqlite")
	plan, err := dsr.NewPlan(p, "", []string{"email"})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, s := range plan.Steps {
		got = append(got, s.ID())
	}
	want := []string{"app:users", "app:memberships", "app:posts", "app:audit_logs", "app:invoices", "billing:customers", "app:users#invited_by", "app:comments"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("steps = %v\nwant    %v", got, want)
	}
	if s := plan.Step("app:users"); len(s.Collect) != 1 || s.Collect[0][0] != "id" {
		t.Errorf("users collects %v for the billing system, want [id]", s.Collect)
	}
	if _, err := dsr.NewPlan(p, "", []string{"phone"}); !errors.Is(err, dsr.ErrNoMatch) {
		t.Errorf("plan by phone: err = %v, want ErrNoMatch", err)
	}
}

func TestAccess(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
			if !r.Result.Found || r.Result.Export == "" {
				t.Fatalf("result = %+v, want an export with data", r.Result)
			}
			files := readZip(t, filepath.Join(f.exports, r.Result.Export))
			wantRows := map[string]int{
				"data/app/users.json": 1, "data/app/memberships.json": 2, "data/app/posts.json": 2,
				"data/app/comments.json": 2, "data/app/audit_logs.json": 3, "data/app/invoices.json": 1,
				"data/billing/customers.json": 1,
			}
			for name, n := range wantRows {
				var doc struct {
					Rows []map[string]any `json:"rows"`
				}
				if err := json.Unmarshal(files[name], &doc); err != nil {
					t.Fatalf("%s: %v\n%s", name, err, files[name])
				}
				if len(doc.Rows) != n {
					t.Errorf("%s: %d rows, want %d", name, len(doc.Rows), n)
				}
			}
			users := string(files["data/app/users.json"])
			if !strings.Contains(users, `"email":"ada@example.com"`) || strings.Contains(users, "bob@") {
				t.Errorf("users.json = %s, want Ada's row only", users)
			}
			if strings.Contains(users, "argon2id") || strings.Contains(users, "password_hash") {
				t.Errorf("users.json hands out the password hash: %s", users)
			}
			// Typed values: ids are numbers, amounts exact.
			if !strings.Contains(users, `"id":1`) {
				t.Errorf("users.json: id is not a JSON number: %s", users)
			}
			if inv := string(files["data/app/invoices.json"]); !strings.Contains(inv, `19.9`) {
				t.Errorf("invoices.json = %s, want amount 19.90", inv)
			}
			var man dsr.Manifest
			if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
				t.Fatal(err)
			}
			if len(man.Tables) != 8 || man.Organization != "Acme" {
				t.Errorf("manifest = %+v", man)
			}
			// Bob's row names Ada (invited_by): the package shows that
			// column of his row and nothing else of it.
			if m := string(files["data/app/users.invited_by.json"]); !strings.Contains(m, `{"invited_by":1}`) || strings.Contains(m, "bob") {
				t.Errorf("users.invited_by.json = %s, want only the mentioning column of Bob's row", m)
			}
			for _, tp := range man.Tables {
				if tp.Table == "users" && tp.Mention == "" && !slices.Contains(tp.Withheld, "password_hash") {
					t.Errorf("manifest: users withheld = %v, want password_hash", tp.Withheld)
				}
				if tp.Table == "customers" && !slices.Contains(tp.Processors, "Stripe (United States)") {
					t.Errorf("manifest: customers processors = %v, want Stripe", tp.Processors)
				}
			}
			if !strings.Contains(string(files["index.html"]), "Your data held by Acme") {
				t.Error("index.html has no summary")
			}
			// The download link works until the package expires, and not after.
			tok, err := f.svc.ExportLink(r)
			if err != nil {
				t.Fatal(err)
			}
			fh, _, err := f.svc.OpenExport(t.Context(), tok)
			if err != nil {
				t.Fatalf("OpenExport: %v", err)
			}
			fh.Close()
			f.svc.Now = func() time.Time { return time.Now().Add(8 * 24 * time.Hour) }
			if _, _, err := f.svc.OpenExport(t.Context(), tok); !errors.Is(err, keyring.ErrExpired) {
				t.Errorf("OpenExport after expiry: %v, want ErrExpired", err)
			}
			// What a crashed run left: a partial package, and a package
			// no request records. A package being written is left alone.
			for _, name := range []string{"req_crashed.123.partial", "req_unknown.zip", "req_writing.456.partial"} {
				if err := os.WriteFile(filepath.Join(f.exports, name), []byte("rows of someone"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chtimes(filepath.Join(f.exports, "req_writing.456.partial"), time.Time{}, time.Now().Add(8*24*time.Hour)); err != nil {
				t.Fatal(err)
			}
			if n, err := f.svc.PurgeExports(t.Context()); err != nil || n != 3 {
				t.Errorf("PurgeExports = %d, %v; want 3 removed: the expired package and the two a crash left", n, err)
			}
			left, _ := os.ReadDir(f.exports)
			if len(left) != 1 || left[0].Name() != "req_writing.456.partial" {
				t.Errorf("exports left: %v, want only the package being written", left)
			}
		})
	}
}

func readZip(t *testing.T, path string) map[string][]byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	out := map[string][]byte{}
	for _, zf := range zr.File {
		// A table's file (data/system/table.json) is stored when it holds
		// a few rows, deflated when more; the rest are always deflated.
		want := zip.Deflate
		if strings.Count(zf.Name, "/") == 2 && zf.UncompressedSize64 < dsr.StoreBelow {
			want = zip.Store
		}
		if zf.Method != want {
			t.Errorf("%s (%d bytes) is compressed with method %d; want %d", zf.Name, zf.UncompressedSize64, zf.Method, want)
		}
		// A stored entry followed by a data descriptor is refused by
		// streaming readers (Java's ZipInputStream).
		if zf.Method == zip.Store && zf.Flags&0x8 != 0 {
			t.Errorf("%s is stored with a data descriptor (flags %#x)", zf.Name, zf.Flags)
		}
		// Every file carries its date (a raw header has none unless
		// written: readers showed 1980).
		if zf.Modified.Year() < 2020 {
			t.Errorf("%s is dated %s", zf.Name, zf.Modified)
		}
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out[zf.Name] = b
	}
	return out
}

func TestErasure(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			checkErased(t, f)
			if len(r.Identities) != 0 {
				t.Errorf("identities kept after erasure: %v", r.Identities)
			}
			c, err := dsr.VerifyCertificate(r.Result.Certificate, f.keys.PublicKey())
			if err != nil {
				t.Fatalf("VerifyCertificate: %v\n%s", err, r.Result.Certificate)
			}
			got := map[string]string{}
			for _, tr := range c.Tables {
				got[tr.System+":"+tr.Table] = fmt.Sprintf("%s %d", tr.Action, tr.Rows)
			}
			want := map[string]string{
				"app:users": "deleted 1", "app:memberships": "deleted 2", "app:posts": "deleted 2", "app:comments": "deleted 2",
				"app:audit_logs": "masked 3", "app:invoices": "kept 1", "billing:customers": "deleted 1",
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("certificate tables = %v\nwant %v", got, want)
			}
			if !c.Verified || strings.Contains(string(r.Result.Certificate), "ada@") {
				t.Errorf("certificate verified=%v, or it names the subject:\n%s", c.Verified, r.Result.Certificate)
			}
			// A tampered certificate, or one signed by another key, fails.
			bad := strings.Replace(string(r.Result.Certificate), `"deleted"`, `"kept"`, 1)
			if _, err := dsr.VerifyCertificate([]byte(bad), f.keys.PublicKey()); !errors.Is(err, dsr.ErrBadCertificate) {
				t.Errorf("tampered certificate: err = %v, want ErrBadCertificate", err)
			}
			other, _ := keyring.New(make([]byte, 32))
			if _, err := dsr.VerifyCertificate(r.Result.Certificate, other.PublicKey()); !errors.Is(err, dsr.ErrUnknownKey) {
				t.Errorf("certificate under another key: err = %v, want ErrUnknownKey", err)
			}
			// Running it again does nothing more.
			again, err := f.svc.Run(t.Context(), r.ID, nil)
			if err != nil || again.Status != dsr.Completed {
				t.Errorf("second Run = %v, %v", again, err)
			}
			checkErased(t, f)
		})
	}
}

// checkErased asserts the fixture's state after Ada's erasure: her rows
// gone or masked, her invoice kept, Bob untouched.
func checkErased(t *testing.T, f *fixture) {
	t.Helper()
	checks := []struct {
		kind, dsn, q string
		want         []string
	}{
		{f.kind, f.appDSN, "SELECT id, email, invited_by FROM users ORDER BY id", []string{"2|bob@example.com|NULL"}},
		{f.kind, f.appDSN, "SELECT id FROM memberships ORDER BY id", []string{"3"}},
		{f.kind, f.appDSN, "SELECT id FROM posts ORDER BY id", []string{"3"}},
		{f.kind, f.appDSN, "SELECT id, author_name FROM comments ORDER BY id", []string{"3|Ada"}},
		{f.kind, f.appDSN, "SELECT id, actor_id, ip, action FROM audit_logs ORDER BY id", []string{"1|NULL|0.0.0.0|login", "2|NULL|0.0.0.0|post", "3|2|198.51.100.7|login", "4|NULL|0.0.0.0|export"}},
		{f.kind, f.appDSN, "SELECT id, user_id FROM invoices ORDER BY id", []string{"1|1", "2|2"}},
		{"sqlite", f.bill, "SELECT id FROM customers ORDER BY id", []string{"20"}},
	}
	for _, c := range checks {
		if got := query(t, c.kind, c.dsn, c.q); !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got  %q\n want %q", c.q, got, c.want)
		}
	}
	emails := query(t, f.kind, f.appDSN, "SELECT actor_email FROM audit_logs ORDER BY id")
	pseud := f.keys.Pseudonym("ada@example.com")
	if want := []string{pseud, pseud, "bob@example.com", "NULL"}; !reflect.DeepEqual(emails, want) {
		t.Errorf("audit_logs.actor_email = %q, want %q", emails, want)
	}
}

func TestUnknownSubject(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	for _, typ := range []dsr.Type{dsr.Access, dsr.Erasure} {
		r := run(t, f, create(t, f, trusted(typ, dsr.Identities{"email": "nobody@example.com"})).ID)
		if r.Result.Found || !strings.Contains(r.Result.Message, "no data found") {
			t.Errorf("%s of an unknown subject: result %+v, want completed with no data found", typ, r.Result)
		}
	}
}

func TestRectification(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			n := trusted(dsr.Rectification, dsr.Identities{"user_id": "2"})
			n.Changes = map[string]string{"name": "Robert"}
			r := run(t, f, create(t, f, n).ID)
			if r.Result.Rows["app:users.name"] != 1 {
				t.Errorf("rows = %v, want app:users.name: 1", r.Result.Rows)
			}
			if got := query(t, kind, f.appDSN, "SELECT name FROM users ORDER BY id"); !reflect.DeepEqual(got, []string{"Ada", "Robert"}) {
				t.Errorf("names = %q, want Ada, Robert", got)
			}
		})
	}
}

func TestObjection(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			r := run(t, f, create(t, f, trusted(dsr.Objection, dsr.Identities{"email": "bob@example.com"})).ID)
			if r.Result.Rows["app:users.marketing"] != 1 || !strings.Contains(r.Result.Message, "objection recorded") {
				t.Errorf("result = %+v", r.Result)
			}
			if got := query(t, kind, f.appDSN, "SELECT marketing FROM users ORDER BY id"); !reflect.DeepEqual(got, []string{"1", "0"}) {
				t.Errorf("marketing = %q, want Ada 1, Bob 0", got)
			}
		})
	}
}

// TestErasureGrace soft-deletes at once, recovers the account when the
// request is cancelled, and erases when the grace period is over.
func TestErasureGrace(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			src := strings.Replace(string(mustRead(t, "testdata/policy.yaml")), "KIND", kind, 1)
			src = strings.Replace(src, "  verification: trusted\n", "  verification: trusted\n  erasure_grace:\n    period: 14d\n    mark: [{set: \"app:users.deleted_at\", value: now}]\n", 1)
			p, ds := policy.Parse("policy.yaml", []byte(src))
			if errs, _ := ds.Count(); errs > 0 {
				t.Fatalf("policy: %v", ds)
			}
			f.svc.Policy = p
			ctx := t.Context()
			marked := func() []string {
				return query(t, kind, f.appDSN, "SELECT id FROM users WHERE deleted_at IS NOT NULL ORDER BY id")
			}

			first := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			r, err := f.svc.Run(ctx, first.ID, nil)
			if err != nil || r.Status != dsr.Scheduled || r.NextAttemptAt == nil || r.NextAttemptAt.Sub(r.ReceivedAt) < 13*24*time.Hour {
				t.Fatalf("first run = %v %v, %v; want scheduled in 14 days", r.Status, r.NextAttemptAt, err)
			}
			if got := marked(); !reflect.DeepEqual(got, []string{"1"}) {
				t.Errorf("soft-deleted users = %q, want Ada", got)
			}
			if due, _ := f.svc.Due(ctx); len(due) != 0 {
				t.Errorf("due during the grace period: %v", due)
			}
			if err := f.svc.Cancel(ctx, first.ID, "the subject logged in again", "test"); err != nil {
				t.Fatal(err)
			}
			if got := marked(); len(got) != 0 {
				t.Errorf("after cancelling, soft-deleted users = %q, want none (recovered)", got)
			}

			second := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			if r, _ := f.svc.Run(ctx, second.ID, nil); r.Status != dsr.Scheduled {
				t.Fatalf("second run: %s, want scheduled", r.Status)
			}
			f.svc.Now = func() time.Time { return time.Now().Add(15 * 24 * time.Hour) }
			if due, _ := f.svc.Due(ctx); len(due) != 1 || due[0] != second.ID {
				t.Fatalf("due after the grace period = %v, want %s", due, second.ID)
			}
			run(t, f, second.ID)
			checkErased(t, f)
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	tests := []struct {
		name  string
		req   dsr.NewRequest
		field string
	}{
		{"unknown type", dsr.NewRequest{Type: "forget", Identities: dsr.Identities{"email": "a@b.example"}}, "type"},
		{"no identities", dsr.NewRequest{Type: dsr.Access}, "identities"},
		{"unknown identity", dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"passport": "X"}}, "identities.passport"},
		{"bad email", dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"email": "not-an-email"}}, "identities.email"},
		{"bad verification", dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"email": "a@b.example"}, Verification: "sms"}, "verification"},
		{"code without email", dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyEmailCode}, "identities.email"},
		{"rectify nothing", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted}, "changes"},
		{"rectify unknown field", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"shoe_size": "9"}}, "changes.shoe_size"},
		{"rectify a key", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"id": "9"}}, "changes.id"},
		{"rectify an email into a non-email", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"email": "not-an-email"}}, "changes.email"},
		{"rectify a name into a book", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"name": strings.Repeat("a", 100_000)}}, "changes.name"},
		{"rectify a credential", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"password_hash": "abc"}}, "changes.password_hash"},
		{"rectify a system timestamp", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"deleted_at": "2000-01-01"}}, "changes.deleted_at"},
		{"rectify a reference", dsr.NewRequest{Type: dsr.Rectification, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"invited_by": "3"}}, "changes.invited_by"},
		{"changes on access", dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"user_id": "1"}, Verification: dsr.VerifyTrusted, Changes: map[string]string{"name": "x"}}, "changes"},
		{"not offered", dsr.NewRequest{Type: dsr.Restriction, Identities: dsr.Identities{"user_id": "1"}}, "type"},
	}
	for _, tt := range tests {
		_, err := f.svc.Create(t.Context(), tt.req)
		var fe *dsr.FieldError
		if !errors.As(err, &fe) || fe.Field != tt.field || !errors.Is(err, dsr.ErrInvalid) {
			t.Errorf("%s: err = %v, want a FieldError on %s", tt.name, err, tt.field)
		}
		if tt.name == "rectify a key" && (err == nil || !strings.Contains(err.Error(), "is a key")) {
			t.Errorf("changing a key: %v; want it called a key, not an unknown field", err)
		}
	}
}

func TestDuplicateAndLifecycle(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	ctx := t.Context()
	first := create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"}))
	if first.Status != dsr.Executing || first.VerifiedAt == nil {
		t.Fatalf("trusted request is %s, want executing and verified", first.Status)
	}
	if d := first.Deadline.Sub(first.ReceivedAt); d != 30*24*time.Hour {
		t.Errorf("deadline is %v after receipt, want the policy's 30 days", d)
	}
	dup := create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ADA@example.com "[:15]}))
	if dup.DuplicateOf != first.ID || dup.Status != dsr.Completed {
		t.Errorf("second request: duplicate_of %q status %s, want a completed duplicate of %s", dup.DuplicateOf, dup.Status, first.ID)
	}
	if _, err := f.svc.Extend(ctx, first.ID, 30, ""); !errors.Is(err, dsr.ErrInvalid) {
		t.Errorf("extension without reason: %v", err)
	}
	if _, err := f.svc.Extend(ctx, first.ID, 61, "complex"); !errors.Is(err, dsr.ErrInvalid) {
		t.Errorf("extension past 60 days: %v", err)
	}
	ext, err := f.svc.Extend(ctx, first.ID, 30, "Many systems to search.")
	if err != nil || ext.Deadline.Sub(first.Deadline) != 30*24*time.Hour || ext.ExtendedReason == "" {
		t.Fatalf("Extend = %+v, %v", ext, err)
	}
	if err := f.svc.Cancel(ctx, first.ID, "asked by subject", "test"); err != nil {
		t.Fatal(err)
	}
	if err := f.svc.Cancel(ctx, first.ID, "again", "test"); !errors.Is(err, dsr.ErrState) {
		t.Errorf("second Cancel: %v, want ErrState", err)
	}
	if _, err := f.svc.Get(ctx, "req_nope"); !errors.Is(err, dsr.ErrNotFound) {
		t.Errorf("Get unknown: %v", err)
	}
	list, err := f.svc.List(ctx, dsr.ListFilter{})
	if err != nil || len(list) != 2 {
		t.Errorf("List = %d requests, %v; want 2", len(list), err)
	}
	evs, err := f.store.Events(ctx, stateFilter())
	if err != nil {
		t.Fatal(err)
	}
	var kinds []string
	for _, e := range evs {
		if e.Subject == first.ID {
			kinds = append(kinds, e.Kind)
		}
	}
	if want := []string{"request.received", "request.verified", "request.extended", "request.cancelled"}; !reflect.DeepEqual(kinds, want) {
		t.Errorf("events = %v, want %v", kinds, want)
	}
}

// codeMailer keeps the last code it was asked to send.
type codeMailer struct {
	mu   sync.Mutex
	to   string
	body string
	sent int
}

func (m *codeMailer) Send(_ context.Context, msg mailer.Message) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.to, m.body = msg.To[0], msg.Text
	m.sent++
	return nil
}

func (m *codeMailer) code() string {
	m.mu.Lock()
	defer m.mu.Unlock()
	i := strings.Index(m.body, "code is ")
	return m.body[i+8 : i+14]
}

func TestEmailCode(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	m := &codeMailer{}
	f.svc.Mailer = m
	ctx := t.Context()
	r, err := f.svc.Create(ctx, dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"email": "ada@example.com"}, Verification: dsr.VerifyEmailCode})
	if err != nil || r.Status != dsr.Verifying || m.to != "ada@example.com" {
		t.Fatalf("Create = %v, %v; mail to %q", r, err, m.to)
	}
	if _, err := f.svc.Run(ctx, r.ID, nil); !errors.Is(err, dsr.ErrState) {
		t.Errorf("Run before verification: %v, want ErrState", err)
	}
	code := m.code()
	wrong := fmt.Sprintf("%06d", (atoi(code)+1)%1000000)
	if err := f.svc.Verify(ctx, r.ID, wrong); !errors.Is(err, dsr.ErrVerification) {
		t.Errorf("wrong code: %v", err)
	}
	if err := f.svc.Verify(ctx, r.ID, code); err != nil {
		t.Fatalf("right code: %v", err)
	}
	if err := f.svc.Verify(ctx, r.ID, code); !errors.Is(err, dsr.ErrVerification) {
		t.Errorf("code reused: %v, want ErrVerification", err)
	}
	run(t, f, r.ID)

	// Five wrong codes exhaust the code; an expired code fails.
	r2, _ := f.svc.Create(ctx, dsr.NewRequest{Type: dsr.Erasure, Identities: dsr.Identities{"email": "bob@example.com"}, Verification: dsr.VerifyEmailCode})
	code = m.code()
	for range 5 {
		f.svc.Verify(ctx, r2.ID, fmt.Sprintf("%06d", (atoi(code)+7)%1000000))
	}
	if err := f.svc.Verify(ctx, r2.ID, code); !errors.Is(err, dsr.ErrVerification) || !strings.Contains(err.Error(), "too many") {
		t.Errorf("right code after 5 wrong ones: %v, want too many attempts", err)
	}
	if err := f.svc.SendCode(ctx, r2.ID); !errors.Is(err, dsr.ErrTooManyCodes) {
		t.Errorf("a second code within a minute: %v, want ErrTooManyCodes", err)
	}
	f.svc.Now = func() time.Time { return time.Now().Add(61 * time.Second) }
	if err := f.svc.SendCode(ctx, r2.ID); err != nil {
		t.Fatal(err)
	}
	f.svc.Now = func() time.Time { return time.Now().Add(17 * time.Minute) }
	if err := f.svc.Verify(ctx, r2.ID, m.code()); !errors.Is(err, dsr.ErrVerification) || !strings.Contains(err.Error(), "expired") {
		t.Errorf("expired code: %v", err)
	}
}

// TestEmailCodeOverSMTP sends the code through a real SMTP server and
// verifies the request with the code read from the delivered message.
func TestEmailCodeOverSMTP(t *testing.T) {
	t.Parallel()
	srv := testsmtp.Start(t)
	f := newFixture(t, "sqlite")
	to := "ada+" + strings.ToLower(t.Name()) + "@example.com"
	f.svc.Mailer = &mailer.SMTP{Addr: srv.Addr(), From: "privacy@acme.example"}
	r, err := f.svc.Create(t.Context(), dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"email": to}, Verification: dsr.VerifyEmailCode})
	if err != nil {
		t.Fatal(err)
	}
	msgs := srv.WaitFor(t, to)
	body := msgs[0].Text
	i := strings.Index(body, "code is ")
	if i < 0 || !strings.Contains(msgs[0].Subject, "Acme") {
		t.Fatalf("message %q / %q carries no code", msgs[0].Subject, body)
	}
	if err := f.svc.Verify(t.Context(), r.ID, body[i+8:i+14]); err != nil {
		t.Fatalf("Verify with the emailed code: %v", err)
	}
	run(t, f, r.ID)
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

func TestDatastoreDown(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "postgres")
	f.resolver.LookupEnv = func(k string) (string, bool) {
		if k == "APP_DSN" {
			return "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", true
		}
		return f.bill, true
	}
	f.svc.Datastores = f.resolver
	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	got, err := f.svc.Run(t.Context(), r.ID, nil)
	if !errors.Is(err, dsr.ErrWaiting) || !errors.Is(err, connector.ErrUnreachable) {
		t.Fatalf("Run with the app database down: %v, want ErrWaiting wrapping ErrUnreachable", err)
	}
	if got.Status != dsr.Waiting || got.NextAttemptAt == nil || got.LastError == "" {
		t.Fatalf("request = %s next %v error %q, want waiting with a retry time", got.Status, got.NextAttemptAt, got.LastError)
	}
	// The billing rows are untouched: nothing completes with parts missing.
	if rows := query(t, "sqlite", f.bill, "SELECT count(*) FROM customers"); rows[0] != "2" {
		t.Errorf("billing customers = %s, want 2 untouched", rows[0])
	}
	// Once the database is back, the same request finishes.
	f.resolver.LookupEnv = func(k string) (string, bool) {
		return map[string]string{"APP_DSN": f.appDSN, "BILLING_DSN": f.bill}[k], true
	}
	f.svc.Datastores = f.resolver
	run(t, f, r.ID)
	checkErased(t, f)
}

// TestErasureWaitsOutCriticalLoad: an erasure is one transaction per
// system and cannot slow down once started, so while the database is past
// the policy's critical load (here: a session stuck behind another's row
// lock) it does not start; after critical_wait the request waits for a
// retry, having changed nothing, and finishes once the load is gone.
func TestErasureWaitsOutCriticalLoad(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			stuck := &policy.LoadLimits{LockWaits: 1}
			f.policy.Retention.Throttle = &policy.Throttle{MaxLoad: stuck, CriticalLoad: stuck, CriticalWait: policy.Interval(time.Second)}
			driver := map[string]string{"postgres": "pgx", "mysql": "mysql"}[kind]
			db, err := sql.Open(driver, f.appDSN)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			release := testdb.LockWait(t, db, kind, `UPDATE users SET name = name WHERE id = 2`)
			before := query(t, kind, f.appDSN, "SELECT count(*) FROM users WHERE email = 'ada@example.com'")
			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			got, err := f.svc.Run(t.Context(), r.ID, nil)
			if !errors.Is(err, dsr.ErrWaiting) || !errors.Is(err, throttle.ErrCritical) {
				t.Fatalf("Run under critical load: %v, want ErrWaiting wrapping throttle.ErrCritical", err)
			}
			if got.Status != dsr.Waiting || !strings.Contains(got.LastError, "lock_waits") {
				t.Fatalf("request = %s, error %q; want waiting, naming lock_waits", got.Status, got.LastError)
			}
			if after := query(t, kind, f.appDSN, "SELECT count(*) FROM users WHERE email = 'ada@example.com'"); after[0] != before[0] {
				t.Fatalf("a held-back erasure changed the subject's rows: %s → %s", before[0], after[0])
			}
			release()
			// The load limits are the server's (lock waits on MariaDB are
			// counted across it): tests running beside this one can wait
			// on locks of their own. The retry is not what is tested here.
			f.policy.Retention.Throttle = nil
			run(t, f, r.ID)
			checkErased(t, f)
		})
	}
}

// TestResume interrupts an erasure between its systems, and checks that
// the next run finishes it from where it stopped.
func TestResume(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			f.svc.Pause = 300 * time.Millisecond
			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			ctx, cancel := context.WithCancel(t.Context())
			var once sync.Once
			_, err := f.svc.Run(ctx, r.ID, func(p dsr.Progress) {
				if p.Step == "app:posts" && p.Done {
					once.Do(cancel) // mid-way through the app system's transaction
				}
			})
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("interrupted Run: %v, want context.Canceled", err)
			}
			got, _ := f.svc.Get(t.Context(), r.ID)
			if got.Status != dsr.Waiting {
				t.Fatalf("after interruption: %s, want waiting", got.Status)
			}
			// The app transaction rolled back; billing (done first) stays done.
			if rows := query(t, kind, f.appDSN, "SELECT count(*) FROM users"); rows[0] != "2" {
				t.Errorf("users after rollback = %s, want 2", rows[0])
			}
			f.svc.Pause = 0
			done := run(t, f, r.ID)
			checkErased(t, f)
			c, err := dsr.VerifyCertificate(done.Result.Certificate, f.keys.PublicKey())
			if err != nil || len(c.Tables) != 8 {
				t.Fatalf("certificate after resume: %v, %d tables", err, len(c.Tables))
			}
		})
	}
}

// TestLease: while one runner executes a request, another is refused.
func TestLease(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "postgres")
	f.svc.Pause = 200 * time.Millisecond
	r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
	started := make(chan struct{})
	var once sync.Once
	done := make(chan error, 1)
	go func() {
		_, err := f.svc.Run(t.Context(), r.ID, func(dsr.Progress) { once.Do(func() { close(started) }) })
		done <- err
	}()
	<-started
	if _, err := f.svc.Run(t.Context(), r.ID, nil); !errors.Is(err, dsr.ErrBusy) {
		t.Errorf("second runner: %v, want ErrBusy", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("first runner: %v", err)
	}
	checkErased(t, f)
}

func TestCheckLive(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"postgres", "mysql"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			plan, err := dsr.NewPlan(f.policy, "", []string{"email"})
			if err != nil {
				t.Fatal(err)
			}
			ws, err := plan.CheckLive(t.Context(), f.resolver)
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(ws, "\n")
			// users.email has no index in the fixture; memberships.user_id has one
			// on MariaDB (its foreign key's) but not on PostgreSQL.
			if !strings.Contains(got, "app:users.email: no index") {
				t.Errorf("no warning about the unindexed email column:\n%s", got)
			}
			if kind == "mysql" && strings.Contains(got, "app:memberships.user_id: no index") {
				t.Errorf("MariaDB indexes foreign keys, but a warning says otherwise:\n%s", got)
			}
			if kind == "postgres" && !strings.Contains(got, "app:memberships.user_id: no index") {
				t.Errorf("no warning about memberships.user_id on PostgreSQL:\n%s", got)
			}
			if strings.Contains(got, "actor_email") {
				t.Errorf("actor_email is wide text and can hold a pseudonym:\n%s", got)
			}
		})
	}
}

// TestKeepConnections: a service that keeps its pools runs request after
// request on them, and after Close opens new ones.
func TestKeepConnections(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "postgres")
	f.svc.KeepConnections = true
	for _, typ := range []dsr.Type{dsr.Access, dsr.Rectification} {
		n := trusted(typ, dsr.Identities{"email": "bob@example.com"})
		if typ == dsr.Rectification {
			n.Changes = map[string]string{"name": "Robert"}
		}
		run(t, f, create(t, f, n).ID)
	}
	if err := f.svc.Close(); err != nil {
		t.Fatal(err)
	}
	run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	checkErased(t, f)
	if err := f.svc.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestPrepare: a service whose datastores were prepared (opened, their
// schemas read, in the background) carries out requests as one that was
// not; a datastore that cannot be reached fails the request as it would
// have, and Close does not wait for a dial nothing needs.
func TestPrepare(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the dial fails at once.
	const down = "postgres://postgres@127.0.0.1:1/none?sslmode=disable&connect_timeout=5"
	for _, tc := range []struct {
		name string
		down bool
	}{{"reachable", false}, {"down", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, "postgres")
			if tc.down {
				f.resolver.LookupEnv = func(k string) (string, bool) {
					return map[string]string{"APP_DSN": down, "BILLING_DSN": f.bill}[k], true
				}
				f.svc.Datastores = f.resolver
			}
			f.svc.KeepConnections = true
			f.svc.Prepare(t.Context())
			r := create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"}))
			got, err := f.svc.Run(t.Context(), r.ID, nil)
			if tc.down {
				if !errors.Is(err, dsr.ErrWaiting) || !errors.Is(err, connector.ErrUnreachable) || got.Status != dsr.Waiting {
					t.Fatalf("Run with the app database down after Prepare: %s, %v; want waiting, ErrWaiting wrapping ErrUnreachable", got.Status, err)
				}
			} else {
				if err != nil || got.Status != dsr.Completed {
					t.Fatalf("Run after Prepare: %s, %v", got.Status, err)
				}
				checkErased(t, f)
			}
			if err := f.svc.Close(); err != nil {
				t.Fatal(err)
			}
			// Prepared again, towards a server that accepts and never
			// answers, and closed at once: Close ends the dial instead
			// of waiting out its timeout.
			mute, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			defer mute.Close()
			go func() {
				for {
					c, err := mute.Accept()
					if err != nil {
						return
					}
					defer c.Close()
				}
			}()
			silent := "postgres://postgres@" + mute.Addr().String() + "/none?sslmode=disable&connect_timeout=10"
			f.resolver.LookupEnv = func(k string) (string, bool) {
				return map[string]string{"APP_DSN": silent, "BILLING_DSN": f.bill}[k], true
			}
			f.svc.Datastores = f.resolver
			start := time.Now()
			f.svc.Prepare(t.Context())
			// A second Prepare must not take the first's cancel away.
			f.svc.Prepare(t.Context())
			if err := f.svc.Close(); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("Close right after Prepare (twice) took %s", d)
			}
		})
	}
}

// TestErasureUnderHold: a subject under legal hold is not erased, and the
// certificate says why.
func TestErasureUnderHold(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	book := hold.New(f.store)
	subject, _ := hold.ParseSubject("email:ada@example.com")
	if _, err := book.Place(t.Context(), subject, "litigation 2026-17", "legal", nil); err != nil {
		t.Fatal(err)
	}
	f.svc.Holds = book
	r := run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
	if got := query(t, "sqlite", f.appDSN, "SELECT count(*) FROM users"); got[0] != "2" {
		t.Errorf("users = %s after an erasure under hold, want 2 (nothing erased)", got[0])
	}
	c, err := dsr.VerifyCertificate(r.Result.Certificate, f.keys.PublicKey())
	if err != nil || len(c.Tables) != 1 || c.Tables[0].Action != "kept" || !strings.Contains(c.Tables[0].Reason, "legal hold") {
		t.Fatalf("certificate = %+v, %v; want everything kept under the hold", c, err)
	}
}

// A row whose pseudonym column an earlier erasure already wrote still has
// its other columns masked (they ride along with the pseudonym UPDATEs,
// which skip pseudonymised values), on every database.
func TestErasureMasksPseudonymisedRows(t *testing.T) {
	t.Parallel()
	for _, kind := range kinds {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, kind)
			pseud := f.keys.Pseudonym("ada@example.com")
			testdb.Exec(t, kind, f.appDSN, "INSERT INTO audit_logs (id, actor_id, actor_email, ip, action) VALUES (5, 1, '"+pseud+"', '192.0.2.5', 'old');")
			run(t, f, create(t, f, trusted(dsr.Erasure, dsr.Identities{"email": "ada@example.com"})).ID)
			got := query(t, kind, f.appDSN, "SELECT actor_id, actor_email, ip FROM audit_logs WHERE id = 5")
			if want := []string{"NULL|" + pseud + "|0.0.0.0"}; !reflect.DeepEqual(got, want) {
				t.Errorf("row pseudonymised before = %q, want %q", got, want)
			}
		})
	}
}

// TestEmailCodeLimits: resending is limited per request and per address,
// also when the sends are concurrent, and concurrent wrong guesses never
// get past the attempts a code allows.
func TestEmailCodeLimits(t *testing.T) {
	t.Parallel()
	for _, kind := range []string{"sqlite", "postgres"} {
		t.Run(kind+" state", func(t *testing.T) {
			t.Parallel()
			testEmailCodeLimits(t, newFixture(t, kind))
		})
	}
}

func testEmailCodeLimits(t *testing.T, f *fixture) {
	m := &codeMailer{}
	f.svc.Mailer = m
	ctx := t.Context()
	var mu sync.Mutex
	at := time.Now()
	f.svc.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	tick := func(d time.Duration) { mu.Lock(); at = at.Add(d); mu.Unlock() }

	r, err := f.svc.Create(ctx, dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"email": "eve@example.com"}, Verification: dsr.VerifyEmailCode})
	if err != nil {
		t.Fatal(err)
	}
	code := m.code()
	var wg sync.WaitGroup
	var wrongs, exhausted atomic.Int32
	for range 20 {
		wg.Go(func() {
			err := f.svc.Verify(ctx, r.ID, fmt.Sprintf("%06d", (atoi(code)+3)%1000000))
			switch {
			case err != nil && strings.Contains(err.Error(), "too many"):
				exhausted.Add(1)
			case err != nil && strings.Contains(err.Error(), "wrong code"):
				wrongs.Add(1)
			}
		})
	}
	wg.Wait()
	if wrongs.Load() != 5 {
		t.Errorf("%d concurrent guesses were compared; want exactly the 5 a code allows (%d refused)", wrongs.Load(), exhausted.Load())
	}
	for i := 2; i <= 5; i++ { // the first code was sent by Create
		tick(61 * time.Second)
		if err := f.svc.SendCode(ctx, r.ID); err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
	}
	tick(61 * time.Second)
	if err := f.svc.SendCode(ctx, r.ID); !errors.Is(err, dsr.ErrTooManyCodes) {
		t.Errorf("a sixth code for one request: %v, want ErrTooManyCodes", err)
	}
	// Across requests, one address gets at most ten an hour.
	tick(61 * time.Second)
	e, err := f.svc.Create(ctx, dsr.NewRequest{Type: dsr.Erasure, Identities: dsr.Identities{"email": "eve@example.com"}, Verification: dsr.VerifyEmailCode})
	if err != nil {
		t.Fatalf("code 6: %v", err)
	}
	for i := 7; i <= 10; i++ {
		tick(61 * time.Second)
		if err := f.svc.SendCode(ctx, e.ID); err != nil {
			t.Fatalf("code %d: %v", i, err)
		}
	}
	tick(61 * time.Second)
	if _, err := f.svc.Create(ctx, dsr.NewRequest{Type: dsr.Portability, Identities: dsr.Identities{"email": "eve@example.com"}, Verification: dsr.VerifyEmailCode}); !errors.Is(err, dsr.ErrTooManyCodes) {
		t.Errorf("an eleventh code to one address within the hour: %v, want ErrTooManyCodes", err)
	}
	var sent int
	if err := f.store.DB().QueryRowContext(ctx, `SELECT count(*) FROM code_sends`).Scan(&sent); err != nil || sent > 10 {
		t.Errorf("%d codes sent to one address within the hour (%v); want at most 10", sent, err)
	}

	// Concurrent: one request asked for a code eight times at once gets
	// one; an address asked for by twenty requests at once gets ten.
	tick(2 * time.Hour)
	m.mu.Lock()
	m.sent = 0
	m.mu.Unlock()
	c, err := f.svc.Create(ctx, dsr.NewRequest{Type: dsr.Access, Identities: dsr.Identities{"email": "mallory@example.com"}, Verification: dsr.VerifyEmailCode})
	if err != nil {
		t.Fatal(err)
	}
	tick(61 * time.Second)
	var wg2 sync.WaitGroup
	for range 8 {
		wg2.Go(func() { _ = f.svc.SendCode(ctx, c.ID) })
	}
	wg2.Wait()
	if m.sent != 2 {
		t.Errorf("%d codes sent for one request (1 at creation, then 8 concurrent resends); want 2", m.sent)
	}
	for i := range 20 {
		wg2.Go(func() {
			// A user id apiece makes each a request of its own, not a duplicate.
			ids := dsr.Identities{"email": "Mallory@example.com", "user_id": strconv.Itoa(9000 + i)}
			if _, err := f.svc.Create(ctx, dsr.NewRequest{Type: dsr.Access, Identities: ids, Verification: dsr.VerifyEmailCode}); err != nil && !errors.Is(err, dsr.ErrTooManyCodes) {
				t.Errorf("create: %v", err)
			}
		})
	}
	wg2.Wait()
	if m.sent != 10 {
		t.Errorf("%d codes sent to one address by concurrent requests within the hour; want 10", m.sent)
	}
}

// TestAccessForbiddenData: a category the policy promises never to hold,
// found in an exported value, is listed in the package's manifest and
// summary (column, category, how many values — never the value), in the
// request's result, and in the audit log for the company to act on.
func TestAccessForbiddenData(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	f.policy.Forbidden = []string{"user.financial.credit_card"}
	testdb.Exec(t, "sqlite", f.appDSN, `UPDATE posts SET body = 'pay with 4111-1111-1111-1111 please' WHERE id = 2;
UPDATE posts SET body = 'mine is 5500 0000 0000 0004' WHERE id = 3;`)
	r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
	files := readZip(t, filepath.Join(f.exports, r.Result.Export))
	var man dsr.Manifest
	if err := json.Unmarshal(files["manifest.json"], &man); err != nil {
		t.Fatal(err)
	}
	var found []dsr.ForbiddenData
	for _, tp := range man.Tables {
		found = append(found, tp.Forbidden...)
	}
	want := []dsr.ForbiddenData{{Column: "body", Category: "user.financial.credit_card", Values: 1}}
	if !slices.Equal(found, want) {
		t.Errorf("manifest lists %+v; want %+v (Bob's post is not Ada's)", found, want)
	}
	if !strings.Contains(string(files["index.html"]), "says we never keep this kind of data") {
		t.Error("the summary does not tell the person")
	}
	if !strings.Contains(r.Result.Message, "app:posts.body holds user.financial.credit_card (1 values)") {
		t.Errorf("result: %q", r.Result.Message)
	}
	evs, err := f.store.Events(t.Context(), state.EventFilter{Kind: "request.forbidden_data"})
	if err != nil || len(evs) != 1 || strings.Contains(string(evs[0].Data), "4111") {
		t.Errorf("audit: %v %v; want one entry without the value", evs, err)
	}
}

// TestAccessPackageCompression: a table's few rows are stored in the
// package, many are deflated — past one offload chunk too — and both read
// back whole (readZip checks each file's method).
func TestAccessPackageCompression(t *testing.T) {
	t.Parallel()
	f := newFixture(t, "sqlite")
	testdb.Exec(t, "sqlite", f.appDSN, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000)
INSERT INTO posts (id, author_id, body) SELECT 1000 + i, 1, printf('post %d of Ada, long enough to fill a package: %s', i, hex(randomblob(40))) FROM n;`)
	r := run(t, f, create(t, f, trusted(dsr.Access, dsr.Identities{"email": "ada@example.com"})).ID)
	files := readZip(t, filepath.Join(f.exports, r.Result.Export))
	var doc struct {
		Rows []map[string]any `json:"rows"`
	}
	if err := json.Unmarshal(files["data/app/posts.json"], &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Rows) != 1002 || len(files["data/app/posts.json"]) < 2*64<<10 {
		t.Errorf("posts.json: %d rows in %d bytes; want Ada's 1002 in over two offload chunks", len(doc.Rows), len(files["data/app/posts.json"]))
	}
	if n := len(files["data/app/users.json"]); n == 0 || n >= dsr.StoreBelow {
		t.Errorf("users.json is %d bytes; want a small stored file", n)
	}
}
