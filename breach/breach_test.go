package breach_test

import (
	"context"
	"database/sql"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/breach"
	"github.com/vowprivacy/vow/datastore"
	"github.com/vowprivacy/vow/demo"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/internal/testsmtp"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/policy"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/webhook"
)

// demoDir holds one demo (Lumen's database and policy), generated once for
// the package: the incidents are about its systems.
var demoDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vow-breach-")
	if err != nil {
		panic(err)
	}
	if _, err := demo.Generate(context.Background(), dir, 1, time.Now()); err != nil {
		panic(err)
	}
	demoDir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

var backends = []struct {
	name   string
	newURL func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return filepath.Join(t.TempDir(), "vow.db") }},
	{"postgres", testdb.Postgres},
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }

var start = time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)

func newRegister(t *testing.T, url string) (*breach.Register, *clock) {
	t.Helper()
	p, ds, err := policy.Load(filepath.Join(demoDir, demo.PolicyFile))
	if err != nil {
		t.Fatal(err)
	}
	if errs, _ := ds.Count(); errs > 0 {
		t.Fatalf("demo policy: %v", ds)
	}
	s, err := state.Open(context.Background(), url, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c := &clock{t: start}
	return &breach.Register{Store: s, Policy: p, Datastores: datastore.Resolver{BaseDir: demoDir}, Now: c.Now}, c
}

func TestOpenRefusesBadInput(t *testing.T) {
	t.Parallel()
	r, _ := newRegister(t, backends[0].newURL(t))
	cases := []struct {
		name  string
		n     breach.New
		field string
	}{
		{"no title", breach.New{Title: "  "}, "title"},
		{"discovered in the future", breach.New{Title: "x", Discovered: start.Add(time.Hour)}, "discovered_at"},
		{"began after its discovery", breach.New{Title: "x", Discovered: start.Add(-time.Hour), Occurred: start}, "occurred_at"},
		{"unknown system", breach.New{Title: "x", Systems: []string{"crm"}}, `systems: the policy declares no system "crm" (it declares app`},
		{"unknown category", breach.New{Title: "x", Categories: []string{"user.shoe_size"}}, "categories"},
		{"unknown risk", breach.New{Title: "x", Risk: "medium"}, "risk"},
	}
	for _, tc := range cases {
		_, err := r.Open(context.Background(), tc.n)
		if !errors.Is(err, breach.ErrInvalid) || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: Open = %v; want ErrInvalid naming %s", tc.name, err, tc.field)
		}
	}
	if list, _ := r.List(context.Background(), true); len(list) != 0 {
		t.Errorf("refused incidents were recorded: %+v", list)
	}
}

// TestCourse: an incident goes from open to closed only through the steps
// the GDPR asks for, and each step is in the audit log.
func TestCourse(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			r, c := newRegister(t, b.newURL(t))
			inc, err := r.Open(ctx, breach.New{Title: "Laptop with a database export stolen", Discovered: start.Add(-2 * time.Hour),
				Systems: []string{"app"}, Categories: []string{"user.contact"}, By: "ada"})
			if err != nil {
				t.Fatal(err)
			}
			if want := start.Add(70 * time.Hour); !inc.Deadline.Equal(want) || inc.Status != breach.Open || inc.Risk != breach.Unassessed {
				t.Fatalf("opened %+v; want open, unassessed, deadline %s (72 h after discovery)", inc, want)
			}
			mustFail := func(what string, err error, target error, says string) {
				t.Helper()
				if !errors.Is(err, target) || !strings.Contains(err.Error(), says) {
					t.Errorf("%s: %v; want %v saying %q", what, err, target, says)
				}
			}
			_, err = r.Close(ctx, inc.ID, "ada")
			mustFail("close unassessed", err, breach.ErrState, "assess the risk")
			if inc, err = r.Contain(ctx, inc.ID, "ada"); err != nil || inc.Status != breach.Contained {
				t.Fatalf("Contain = %+v, %v", inc, err)
			}
			_, err = r.Contain(ctx, inc.ID, "ada")
			mustFail("contain twice", err, breach.ErrState, "not open")
			risk := breach.High
			if _, err = r.Update(ctx, inc.ID, breach.Change{Risk: &risk, By: "ada"}); err != nil {
				t.Fatal(err)
			}
			_, err = r.Close(ctx, inc.ID, "ada")
			mustFail("close before telling the authority", err, breach.ErrState, "authority has not been told")

			c.Set(start.Add(75 * time.Hour)) // past the deadline
			_, err = r.Notify(ctx, inc.ID, breach.Notification{To: breach.Authority, Reference: "BfDI-123", By: "ada"})
			mustFail("late without reasons", err, breach.ErrState, "reasons for the delay")
			why := "the export's scope was only known after the forensic copy"
			if _, err = r.Update(ctx, inc.ID, breach.Change{DelayReason: &why, By: "ada"}); err != nil {
				t.Fatal(err)
			}
			if inc, err = r.Notify(ctx, inc.ID, breach.Notification{To: breach.Authority, Reference: "BfDI-123", By: "ada"}); err != nil || inc.Status != breach.Notified {
				t.Fatalf("Notify(authority) = %+v, %v", inc, err)
			}
			_, err = r.Close(ctx, inc.ID, "ada")
			mustFail("close a high risk before telling the subjects", err, breach.ErrState, "Art. 34")
			if _, err = r.Notify(ctx, inc.ID, breach.Notification{To: breach.Subjects, Reference: "email", By: "ada"}); err != nil {
				t.Fatal(err)
			}
			if inc, err = r.Close(ctx, inc.ID, "ada"); err != nil || inc.Status != breach.Closed || inc.ClosedAt == nil {
				t.Fatalf("Close = %+v, %v", inc, err)
			}
			_, err = r.Update(ctx, inc.ID, breach.Change{DelayReason: &why})
			mustFail("update a closed incident", err, breach.ErrState, "closed")
			if open, _ := r.List(ctx, false); len(open) != 0 {
				t.Errorf("closed incident still listed as open: %+v", open)
			}

			evs, err := r.Store.Events(ctx, state.EventFilter{Subject: inc.ID})
			if err != nil {
				t.Fatal(err)
			}
			var kinds []string
			for _, e := range evs {
				kinds = append(kinds, e.Kind)
				if e.Actor != "ada" {
					t.Errorf("%s by %q; want ada", e.Kind, e.Actor)
				}
			}
			want := "incident.opened incident.contained incident.updated incident.updated incident.authority_notified incident.subjects_notified incident.closed"
			if got := strings.Join(kinds, " "); got != want {
				t.Errorf("audit entries\n got %s\nwant %s", got, want)
			}
		})
	}
}

// count is a count(*) on the demo database.
func count(t *testing.T, q string) int64 {
	t.Helper()
	db, err := sql.Open("sqlite", filepath.Join(demoDir, demo.DatabaseFile))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestAssessAndDraft: the subjects and records are counted from the
// declared systems, and the authority's draft holds every element of
// Art. 33(3), filled from the policy and the count, with what is missing
// marked.
func TestAssessAndDraft(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, _ := newRegister(t, backends[0].newURL(t))
	inc, err := r.Open(ctx, breach.New{Title: "Support agent's account used to export customer emails", Discovered: start.Add(-time.Hour),
		Occurred: start.Add(-50 * time.Hour), Systems: []string{"app"}, Categories: []string{"user.contact.email"}, By: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	d, err := r.Draft(ctx, inc.ID, breach.Authority)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"description", "numbers of subjects and records", "likely consequences", "measures taken", "risk assessment"} {
		if !strings.Contains(strings.Join(d.Missing, "|"), m) {
			t.Errorf("an empty incident's draft does not ask for %q: missing %v", m, d.Missing)
		}
	}
	if !strings.Contains(d.Text, "[TO COMPLETE: ") {
		t.Errorf("the draft does not mark what is missing:\n%s", d.Text)
	}

	if inc, err = r.Assess(ctx, inc.ID, "ada"); err != nil {
		t.Fatal(err)
	}
	users := count(t, `SELECT count(*) FROM users`)
	a := inc.Affected
	if a == nil || a.TotalSubjects != users || len(a.Subjects) != 1 || a.Subjects[0].Kind != "customer" || a.Subjects[0].Table != "app:users" {
		t.Fatalf("Affected = %+v; want the %d customers of app:users", a, users)
	}
	var records int64
	for _, tc := range a.Tables {
		records += count(t, `SELECT count(*) FROM `+tc.Table)
		for _, c := range tc.Categories {
			if !strings.HasPrefix(c, "user.contact.email") {
				t.Errorf("table %s counted for category %s, outside the incident's", tc.Table, c)
			}
		}
	}
	if a.Records != records || len(a.Tables) == 0 {
		t.Errorf("records = %d over %d tables; want %d", a.Records, len(a.Tables), records)
	}

	consequences := "Phishing aimed at the customers whose addresses were taken."
	measures := "The account was locked, its sessions ended, and support exports now need a second approver."
	risk := breach.AtRisk
	desc := "A support agent's password was phished; the attacker used the admin export."
	if _, err = r.Update(ctx, inc.ID, breach.Change{Description: &desc, Consequences: &consequences, Measures: &measures, Risk: &risk, By: "ada"}); err != nil {
		t.Fatal(err)
	}
	r.Now = func() time.Time { return start }
	if d, err = r.Draft(ctx, inc.ID, breach.Authority); err != nil {
		t.Fatal(err)
	}
	if len(d.Missing) != 0 || strings.Contains(d.Text, "TO COMPLETE") {
		t.Errorf("a complete incident's draft still misses %v:\n%s", d.Missing, d.Text)
	}
	for _, want := range []string{
		"Art. 33(3)(a)", "Support agent's account used to export customer emails", // nature
		"Lumen Security GmbH",                        // controller
		"Email address (user.contact.email)",         // categories of data
		"customer: about " + itoa(users),             // categories and number of subjects
		"about " + itoa(records) + " records",        // number of records
		"Data Protection Office <dpo@lumen.example>", // Art. 33(3)(b)
		consequences, measures, // (c), (d)
		"within 72 hours", "28 November 2026, 07:00 UTC", // timing, when it began
	} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("authority draft lacks %q:\n%s", want, d.Text)
		}
	}
	if d, err = r.Draft(ctx, inc.ID, breach.Subjects); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Email address", consequences, measures, "dpo@lumen.example"} {
		if !strings.Contains(d.Text, want) {
			t.Errorf("subjects' draft lacks %q:\n%s", want, d.Text)
		}
	}

	var listed []breach.Subject
	n, err := r.EachSubject(ctx, inc.ID, "ada", func(s breach.Subject) error { listed = append(listed, s); return nil })
	if err != nil || n != users || int64(len(listed)) != users || listed[0].Identities["email"] == "" {
		t.Fatalf("EachSubject = %d, %v (%d listed, first %+v); want %d with emails", n, err, len(listed), listed[0], users)
	}
	evs, _ := r.Store.Events(ctx, state.EventFilter{Kind: "incident.subjects_listed"})
	if len(evs) != 1 || strings.Contains(string(evs[0].Data), "@") {
		t.Errorf("the listing's audit entry: %+v; want one, with a count and no address", evs)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestDeadlineWarnings: as the deadline nears and passes, one warning per
// level is recorded and sent — log, signed webhook, email — and none once
// the authority is told.
func TestDeadlineWarnings(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, c := newRegister(t, backends[0].newURL(t))
	inc, err := r.Open(ctx, breach.New{Title: "S3 bucket public", Discovered: start, Systems: []string{"app"}, By: "ada"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Open(ctx, breach.New{Title: "Assessed harmless", Discovered: start, Risk: breach.Unlikely}); err != nil {
		t.Fatal(err)
	}

	secret := []byte("receiver's secret")
	var mu sync.Mutex
	var hooks []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		body, _ := io.ReadAll(req.Body)
		if err := webhook.Verify(secret, req.Header.Get(webhook.Header), body, time.Now(), 5*time.Minute); err != nil {
			t.Errorf("warning webhook signature: %v", err)
		}
		mu.Lock()
		hooks = append(hooks, string(body))
		mu.Unlock()
	}))
	t.Cleanup(srv.Close)
	smtp := testsmtp.Start(t)
	m, err := mailer.FromURL("smtp://" + smtp.Addr() + "?from=vow@lumen.example")
	if err != nil {
		t.Fatal(err)
	}
	al := &breach.Alerter{Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Webhook: srv.URL, Secret: secret, Client: webhook.New(true, 5*time.Second),
		Mail: m, To: []string{"security@lumen.example"}}

	steps := []struct {
		at   time.Duration
		want string
	}{
		{47 * time.Hour, ""},
		{48*time.Hour + time.Minute, breach.DayLeft},
		{50 * time.Hour, ""},
		{66*time.Hour + time.Minute, breach.HoursLeft},
		{72*time.Hour + time.Minute, breach.Overdue},
		{80 * time.Hour, ""},
	}
	for _, s := range steps {
		c.Set(start.Add(s.at))
		ws, err := r.Check(ctx, al)
		if err != nil {
			t.Fatal(err)
		}
		var got string
		for _, w := range ws {
			if w.Incident.ID != inc.ID {
				t.Errorf("warned of %s (risk unlikely: no deadline)", w.Incident.Title)
			}
			got = w.Level
		}
		if len(ws) > 1 || got != s.want {
			t.Errorf("at +%s: warnings %+v; want %q", s.at, ws, s.want)
		}
	}
	mu.Lock()
	if len(hooks) != 3 || !strings.Contains(hooks[2], `"level":"overdue"`) || !strings.Contains(hooks[0], inc.ID) {
		t.Errorf("webhooks %v; want three, the last overdue", hooks)
	}
	mu.Unlock()
	if mails := smtp.To(t, "security@lumen.example"); len(mails) < 3 {
		t.Errorf("%d warning emails; want 3", len(mails))
	}

	why := "found late"
	if _, err := r.Update(ctx, inc.ID, breach.Change{DelayReason: &why}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Notify(ctx, inc.ID, breach.Notification{To: breach.Authority}); err != nil {
		t.Fatal(err)
	}
	c.Set(start.Add(200 * time.Hour))
	if ws, _ := r.Check(ctx, al); len(ws) != 0 {
		t.Errorf("warned after the authority was told: %+v", ws)
	}
	evs, _ := r.Store.Events(ctx, state.EventFilter{Kind: "incident.deadline_warning"})
	if len(evs) != 3 {
		t.Errorf("%d warnings in the audit log; want 3", len(evs))
	}
	k, _ := keyring.New(make([]byte, 32))
	if rep, err := audit.Verify(ctx, audit.StoreSource{Store: r.Store}, audit.TrustKeys(k.PublicKey())); err != nil || !rep.OK() {
		t.Errorf("audit log: %+v, %v", rep, err)
	}
}

// TestUndeliveredWarningOwed: a warning whose webhook fails is not
// recorded as given, and goes out on the next check.
func TestUndeliveredWarningOwed(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r, c := newRegister(t, backends[0].newURL(t))
	if _, err := r.Open(ctx, breach.New{Title: "Stolen laptop", Discovered: start}); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	down, calls := true, 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if down {
			http.Error(w, "down", http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	client := webhook.New(true, 5*time.Second)
	client.Attempts = 1
	al := &breach.Alerter{Webhook: srv.URL, Secret: []byte("s"), Client: client}
	c.Set(start.Add(49 * time.Hour))
	if ws, err := r.Check(ctx, al); err == nil || len(ws) != 0 {
		t.Fatalf("Check with the webhook down = %+v, %v; want an error and nothing recorded", ws, err)
	}
	mu.Lock()
	down = false
	mu.Unlock()
	if ws, err := r.Check(ctx, al); err != nil || len(ws) != 1 || ws[0].Level != breach.DayLeft {
		t.Fatalf("Check with the webhook back = %+v, %v; want the owed 24h warning", ws, err)
	}
	if ws, _ := r.Check(ctx, al); len(ws) != 0 {
		t.Errorf("delivered twice: %+v", ws)
	}
}
