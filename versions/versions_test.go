package versions

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/internal/testsmtp"
	"github.com/vowprivacy/vow/keyring"
	"github.com/vowprivacy/vow/mailer"
	"github.com/vowprivacy/vow/render"
	"github.com/vowprivacy/vow/server"
	"github.com/vowprivacy/vow/state"
	"github.com/vowprivacy/vow/webhook"
)

func newRenderer(t testing.TB) *render.Renderer {
	t.Helper()
	r, err := render.New(render.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// publishMaterialChange publishes src with a new processor, effective
// 2027-02-01: a material change.
func publishMaterialChange(t *testing.T, s *Service, src string) {
	t.Helper()
	changed := edit(t, src,
		"processors:\n", "processors:\n  - {name: Sentry, purposes: [service], categories: [user.device.ip_address], location: United States, safeguard: scc}\n",
		"effective: 2026-11-01", "effective: 2027-02-01")
	if _, err := s.Publish(t.Context(), Publish{Policy: parse(t, changed)}); err != nil {
		t.Fatal(err)
	}
}

func testKeys(t *testing.T) *keyring.Keyring {
	t.Helper()
	k, err := keyring.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

var backends = map[string]func(t *testing.T) string{
	"sqlite":   func(t *testing.T) string { return filepath.Join(t.TempDir(), "state.db") },
	"postgres": func(t *testing.T) string { return testdb.Postgres(t) },
}

// setup opens a fresh state store on each backend and runs fn with a
// service on it whose clock starts on 2026-11-23.
func forEachBackend(t *testing.T, fn func(t *testing.T, s *Service, c *clock)) {
	t.Helper()
	for name, url := range backends {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			st, err := state.Open(t.Context(), url(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			c := &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}
			fn(t, &Service{Store: st, Renderer: newRenderer(t), Now: c.Now, Keys: testKeys(t)}, c)
		})
	}
}

func TestPublish(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s *Service, c *clock) {
		ctx := t.Context()
		if _, err := s.Latest(ctx); !errors.Is(err, ErrNoVersions) {
			t.Fatalf("Latest on an empty store: %v", err)
		}
		src := demoSource(t)
		v1, err := s.Publish(ctx, Publish{Policy: parse(t, src), Actor: "alice"})
		if err != nil {
			t.Fatal(err)
		}
		// notices.effective (2026-11-01) is in the past: the first version takes effect today.
		if v1.ID != "v1" || v1.Effective != "2026-11-23" || v1.Material || len(v1.Changes) != 0 || v1.Hash != Hash([]byte(src)) {
			t.Errorf("v1 = %+v", v1)
		}
		if !strings.Contains(v1.HTML, "Version v1") || !strings.Contains(v1.Markdown, "Effective 23 November 2026") || !strings.Contains(v1.Summary, "Privacy at a glance") {
			t.Error("the stored documents lack the version or its effective date")
		}

		if _, err := s.Publish(ctx, Publish{Policy: parse(t, src)}); !errors.Is(err, ErrUnchanged) {
			t.Errorf("republishing the same source: %v", err)
		}

		// A material change needs 30 days' notice.
		changed := edit(t, src, "keep: 12 months", "keep: 24 months", "effective: 2026-11-01", "effective: 2026-12-01")
		_, err = s.Publish(ctx, Publish{Policy: parse(t, changed)})
		if !errors.Is(err, ErrTooSoon) || !strings.Contains(err.Error(), "2026-12-23 at the earliest") {
			t.Fatalf("a material change too soon: %v", err)
		}
		changed = edit(t, changed, "effective: 2026-12-01", "effective: 2027-01-15")
		v2, err := s.Publish(ctx, Publish{Policy: parse(t, changed)})
		if err != nil {
			t.Fatal(err)
		}
		if v2.ID != "v2" || v2.Effective != "2027-01-15" || !v2.Material || len(v2.Changes) != 1 || v2.Changes[0].Kind != "retention_longer" {
			t.Errorf("v2 = %+v", v2)
		}

		// A change that is not material may take effect at once.
		minor := edit(t, changed, "keep: 1y", "keep: 6 months", "effective: 2027-01-15", "effective: 2027-01-16")
		v3, err := s.Publish(ctx, Publish{Policy: parse(t, minor), Effective: time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)})
		if err != nil {
			t.Fatal(err)
		}
		if v3.Material || v3.Effective != "2026-11-23" {
			t.Errorf("v3 = %+v", v3)
		}

		list, err := s.List(ctx)
		if err != nil || len(list) != 3 || list[0].ID != "v1" || list[2].ID != "v3" || list[1].Changes[0].To != "24mo" {
			t.Fatalf("List = %+v, %v", list, err)
		}
		for _, ref := range []string{"v2", "2", v2.Hash[:12], strings.ToUpper(v2.Hash[:10])} {
			got, err := s.Get(ctx, ref)
			if err != nil || got.ID != "v2" || got.Source != changed {
				t.Errorf("Get(%q) = %v, %v", ref, got, err)
			}
		}
		if _, err := s.Get(ctx, "v9"); !errors.Is(err, ErrNotFound) {
			t.Errorf("Get(v9): %v", err)
		}

		// Today v3 (effective today) is current; v2 is upcoming but older.
		cur, err := s.Current(ctx)
		if err != nil || cur.ID != "v3" {
			t.Errorf("Current = %v, %v", cur, err)
		}

		_, _, diff, err := s.DiffVersions(ctx, "v1", "v3")
		if err != nil || len(diff) != 2 {
			t.Errorf("DiffVersions(v1, v3) = %v, %v", diff, err)
		}

		evs, err := s.Store.Events(ctx, state.EventFilter{Kind: "policy.published"})
		if err != nil || len(evs) != 3 || evs[0].Actor != "alice" {
			t.Errorf("published events = %+v, %v", evs, err)
		}
	})
}

func TestAccept(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s *Service, c *clock) {
		ctx := t.Context()
		if _, err := s.Accept(ctx, "ana@example.com", "", "signup"); !errors.Is(err, ErrNoVersions) {
			t.Errorf("accepting with nothing published: %v", err)
		}
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, demoSource(t))}); err != nil {
			t.Fatal(err)
		}
		a, err := s.Accept(ctx, "ana@example.com", "", "signup")
		if err != nil || a.VersionID != "v1" || a.Source != "signup" {
			t.Fatalf("Accept = %+v, %v", a, err)
		}
		c.Set(c.Now().Add(time.Hour))
		again, err := s.Accept(ctx, "ana@example.com", "v1", "api")
		if err != nil || !again.AcceptedAt.Equal(a.AcceptedAt) || again.Source != "signup" {
			t.Errorf("accepting again must keep the first record: %+v, %v", again, err)
		}
		if _, err := s.Accept(ctx, " ", "", "x"); !errors.Is(err, state.ErrInvalid) {
			t.Errorf("empty subject: %v", err)
		}
		if _, err := s.Accept(ctx, "bo@example.com", "v7", "x"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown version: %v", err)
		}
		list, err := s.Acceptances(ctx, "ana@example.com")
		if err != nil || len(list) != 1 {
			t.Errorf("Acceptances = %+v, %v", list, err)
		}
		evs, _ := s.Store.Events(ctx, state.EventFilter{Kind: "policy.accepted"})
		if len(evs) != 1 || evs[0].Subject != s.Keys.Pseudonym("ana@example.com") {
			t.Errorf("accepted events = %+v; want one, naming the subject by pseudonym", evs)
		}
	})
}

// TestNotices runs the whole notice flow against the real SMTP sink and a
// real local webhook receiver: schedule, nothing due yet, due, sent and
// recorded, failures retried, never sent twice.
func TestNotices(t *testing.T) {
	t.Parallel()
	sink := testsmtp.Start(t)
	forEachBackend(t, func(t *testing.T, s *Service, c *clock) {
		ctx := t.Context()
		// Recipients unique to this backend's run: the sink is shared.
		ana := "ana-" + s.Store.Dialect() + "@notice.example"
		bo := "bo-" + s.Store.Dialect() + "@notice.example"

		var mu sync.Mutex
		var hooks []map[string]any
		var sigs []string
		hookSecret := []byte("the receiver's secret")
		failHook := true
		hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			defer mu.Unlock()
			if failHook {
				http.Error(w, "down", http.StatusServiceUnavailable)
				return
			}
			body, _ := io.ReadAll(r.Body)
			var m map[string]any
			_ = json.Unmarshal(body, &m)
			hooks = append(hooks, m)
			if err := webhook.Verify(hookSecret, r.Header.Get(webhook.Header), body, time.Now(), 5*time.Minute); err != nil {
				t.Errorf("notice webhook signature: %v", err)
			}
			sigs = append(sigs, r.Header.Get(webhook.Header))
		}))
		t.Cleanup(hook.Close)

		src := demoSource(t)
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, src)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Schedule(ctx, "", Recipients{Emails: []string{ana}}); err == nil || !strings.Contains(err.Error(), "no material change") {
			t.Errorf("scheduling notices for a first version: %v", err)
		}
		if _, err := s.Accept(ctx, bo, "v1", "signup"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Accept(ctx, "not-an-email-user-42", "v1", "signup"); err != nil {
			t.Fatal(err)
		}
		publishMaterialChange(t, s, src)
		// Default recipients: those who accepted an earlier version and are email addresses.
		n, err := s.Schedule(ctx, "v2", Recipients{Webhooks: []string{hook.URL + "/notices?token=secret"}})
		if err != nil || n != 2 {
			t.Fatalf("Schedule = %d, %v", n, err)
		}
		if n, err := s.Schedule(ctx, "v2", Recipients{Emails: []string{bo, "Ana <" + ana + ">"}}); err != nil || n != 1 {
			t.Fatalf("Schedule again = %d, %v; want only the new recipient added", n, err)
		}
		if _, err := s.Schedule(ctx, "v2", Recipients{Emails: []string{"nope"}}); err == nil {
			t.Error("a bad address was accepted")
		}
		ns, err := s.Notices(ctx, "v2")
		if err != nil || len(ns) != 3 {
			t.Fatalf("Notices = %+v, %v", ns, err)
		}
		wantDue := time.Date(2027, 1, 2, 0, 0, 0, 0, time.UTC) // 30 days before 2027-02-01
		for _, n := range ns {
			if !n.DueAt.Equal(wantDue) || n.Status != "pending" {
				t.Errorf("notice %+v: want pending, due %s", n, wantDue)
			}
		}

		smtp, err := mailer.FromURL("smtp://" + sink.Addr() + "?from=privacy@lumen.example")
		if err != nil {
			t.Fatal(err)
		}
		hooks0 := webhook.New(true, 5*time.Second) // the test's server is on loopback
		hooks0.Attempts = 1
		snd := Sender{Mail: smtp, BaseURL: "https://lumen.example/", Webhooks: hooks0, Secret: hookSecret}
		if sent, err := s.SendDue(ctx, snd); err != nil || len(sent) != 0 {
			t.Fatalf("SendDue before the due date = %+v, %v", sent, err)
		}

		c.Set(wantDue.Add(time.Hour))
		if due, err := s.SendDue(ctx, Sender{DryRun: true}); err != nil || len(due) != 3 {
			t.Fatalf("dry run = %+v, %v", due, err)
		}
		sent, err := s.SendDue(ctx, snd)
		if err != nil || len(sent) != 3 {
			t.Fatalf("SendDue = %+v, %v", sent, err)
		}
		for _, n := range sent {
			want := "sent"
			if n.Channel == Webhook {
				want = "failed"
				if !strings.Contains(n.LastError, "503") || strings.Contains(n.LastError, "secret") {
					t.Errorf("webhook error %q: want the status, without the URL's query", n.LastError)
				}
			}
			if n.Status != want {
				t.Errorf("notice %s %s: %s, want %s (%s)", n.Channel, n.Recipient, n.Status, want, n.LastError)
			}
		}
		for _, to := range []string{ana, bo} {
			ms := sink.WaitFor(t, to)
			if len(ms) != 1 {
				t.Fatalf("%d messages to %s, want 1", len(ms), to)
			}
			m := ms[0]
			if m.Subject != "Lumen is updating its privacy policy" ||
				!strings.Contains(m.Text, "takes effect on 1 February 2027") ||
				!strings.Contains(m.Text, "new service provider: Sentry (United States)") ||
				!strings.Contains(m.Text, "https://lumen.example/privacy/versions/v2") ||
				!strings.Contains(m.HTML, `<a href="https://lumen.example/privacy/versions/v2">`) {
				t.Errorf("notice to %s:\nsubject %q\n%s", to, m.Subject, m.Text)
			}
		}

		// The webhook comes back; only it is retried, and nothing is sent twice.
		mu.Lock()
		failHook = false
		mu.Unlock()
		sent, err = s.SendDue(ctx, snd)
		if err != nil || len(sent) != 1 || sent[0].Channel != Webhook || sent[0].Status != "sent" || sent[0].Attempts != 2 {
			t.Fatalf("retry = %+v, %v", sent, err)
		}
		if sent, _ := s.SendDue(ctx, snd); len(sent) != 0 {
			t.Errorf("a third run sent %+v", sent)
		}
		mu.Lock()
		if len(hooks) != 1 || hooks[0]["version"] != "v2" || hooks[0]["type"] != "policy.change_notice" || hooks[0]["id"] == nil || sigs[0] == "" {
			t.Errorf("webhook calls = %+v, signatures %q", hooks, sigs)
		}
		mu.Unlock()
		for _, to := range []string{ana, bo} {
			if ms := sink.To(t, to); len(ms) != 1 {
				t.Errorf("%d messages to %s after retries, want 1", len(ms), to)
			}
		}
		okEv, _ := s.Store.Events(ctx, state.EventFilter{Kind: "policy.notice_sent"})
		failEv, _ := s.Store.Events(ctx, state.EventFilter{Kind: "policy.notice_failed"})
		if len(okEv) != 3 || len(failEv) != 1 {
			t.Errorf("recorded %d sent and %d failed notices, want 3 and 1", len(okEv), len(failEv))
		}
	})
}

// TestUnreachableSMTP: an unreachable mail server fails the notice with a
// clear reason, and it is retried later.
func TestUnreachableSMTP(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s *Service, c *clock) {
		ctx := t.Context()
		src := demoSource(t)
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, src)}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, edit(t, src, "keep: 7d", "keep: 30d", "effective: 2026-11-01", "effective: 2026-12-23"))}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Schedule(ctx, "", Recipients{Emails: []string{"x@example.com"}}); err != nil {
			t.Fatal(err)
		}
		sent, err := s.SendDue(ctx, Sender{Mail: &mailer.SMTP{Addr: "127.0.0.1:1", From: "p@example.com", Timeout: 2 * time.Second}})
		if err != nil || len(sent) != 1 || sent[0].Status != "failed" || !strings.Contains(sent[0].LastError, "SMTP server unreachable") {
			t.Fatalf("SendDue = %+v, %v", sent, err)
		}
	})
}

func TestHandler(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s *Service, c *clock) {
		ctx := t.Context()
		h := server.NewMux(nil, nil)
		s.Mount(h)
		get := func(path string) (*http.Response, string) {
			t.Helper()
			req := httptest.NewRequestWithContext(ctx, http.MethodGet, path, nil)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			return w.Result(), w.Body.String()
		}
		if r, body := get("/privacy"); r.StatusCode != 404 || !strings.Contains(body, "not_published") {
			t.Errorf("before publishing: %d %s", r.StatusCode, body)
		}
		src := demoSource(t)
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, src)}); err != nil {
			t.Fatal(err)
		}
		changed := edit(t, src, "keep: 12 months", "keep: 24 months", "effective: 2026-11-01", "effective: 2027-01-01")
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, changed)}); err != nil {
			t.Fatal(err)
		}
		tests := []struct {
			path, ctype, contains string
			status                int
		}{
			{"/privacy", "text/html", "Version v1", 200}, // v2 is not in effect yet
			{"/privacy/policy.md", "text/markdown", "| 12 months after it is created |", 200},
			{"/privacy/summary.md", "text/markdown", "# Privacy at a glance", 200},
			{"/privacy/versions/v2", "text/html", "Version v2", 200},
			{"/privacy/versions/2/policy.md", "text/markdown", "| 24 months after it is created |", 200},
			{"/privacy/versions/v2/vow.yaml", "application/json", "unauthorized", 401}, // the data map is not public
			{"/privacy/versions/v2/summary.md", "text/markdown", "audit logs 24 months", 200},
			{"/privacy/versions/v9", "application/json", "not_found", 404},
			{"/privacy/versions", "application/json", `"current": true`, 200},
		}
		for _, tc := range tests {
			r, body := get(tc.path)
			if r.StatusCode != tc.status || !strings.HasPrefix(r.Header.Get("Content-Type"), tc.ctype) || !strings.Contains(body, tc.contains) {
				t.Errorf("GET %s = %d %s, want %d %s containing %q", tc.path, r.StatusCode, r.Header.Get("Content-Type"), tc.status, tc.ctype, tc.contains)
			}
		}
		if r, _ := get("/privacy"); !strings.Contains(r.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Error("the HTML page has no restrictive CSP")
		}
		var list struct{ Versions []struct{ ID string } }
		_, body := get("/privacy/versions")
		if err := json.Unmarshal([]byte(body), &list); err != nil || len(list.Versions) != 2 {
			t.Errorf("versions list %s: %v", body, err)
		}
		// On the day v2 takes effect, /privacy follows it.
		c.Set(time.Date(2027, 1, 1, 8, 0, 0, 0, time.UTC))
		if _, body := get("/privacy"); !strings.Contains(body, "Version v2") {
			t.Error("/privacy does not follow the version in effect")
		}
	})
}
