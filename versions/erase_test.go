package versions

import (
	"strings"
	"testing"
	"time"

	"github.com/vowprivacy/vow/audit"
	"github.com/vowprivacy/vow/internal/testdb"
	"github.com/vowprivacy/vow/state"
)

// TestErase: erasing a person keeps their acceptances under the pseudonym
// the audit log uses, in whatever case they were written, deletes the
// notices not yet sent to them, masks those sent, and changes no one
// else's rows; the log never named them.
func TestErase(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s *Service, c *clock) {
		ctx := t.Context()
		src := demoSource(t)
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, src)}); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"Ana@Example.com", "ana@example.com", "bo@example.com", "user-42"} {
			if _, err := s.Accept(ctx, who, "v1", "signup"); err != nil {
				t.Fatal(err)
			}
		}
		publishMaterialChange(t, s, src)
		if _, err := s.Schedule(ctx, "v2", Recipients{}); err != nil {
			t.Fatal(err)
		}
		others := func() string {
			var b strings.Builder
			for _, q := range []string{
				`SELECT subject, version_id, accepted_at, source FROM policy_acceptances WHERE subject NOT LIKE 'hmac:%' AND lower(subject) <> 'ana@example.com' ORDER BY 1, 2`,
				`SELECT id, version_id, channel, recipient, due_at, status FROM policy_notices WHERE recipient NOT LIKE 'hmac:%' AND lower(recipient) <> 'ana@example.com' ORDER BY 1`,
			} {
				b.WriteString(testdb.Dump(t, s.Store.DB(), q))
			}
			return b.String()
		}
		before := others()

		e, err := s.Erase(ctx, "ANA@example.com")
		if err != nil || e.Acceptances != 1 || e.Notices != 1 {
			t.Fatalf("Erase = %+v, %v; want 1 acceptance kept (two spellings, one version) and 1 pending notice deleted", e, err)
		}
		ps := audit.Subject(s.Keys, "ana@example.com")
		accs, err := s.Acceptances(ctx, ps)
		if err != nil || len(accs) != 1 || accs[0].VersionID != "v1" {
			t.Fatalf("Acceptances(pseudonym) = %+v, %v", accs, err)
		}
		if got := testdb.Dump(t, s.Store.DB(), `SELECT subject FROM policy_acceptances WHERE lower(subject) = 'ana@example.com' UNION ALL SELECT recipient FROM policy_notices WHERE lower(recipient) = 'ana@example.com'`); got != "" {
			t.Errorf("still named after Erase: %s", got)
		}
		if after := others(); after != before {
			t.Errorf("others' rows changed:\nbefore %s\nafter  %s", before, after)
		}
		evs, err := s.Store.Events(ctx, state.EventFilter{Kind: "policy.accepted"})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if strings.Contains(strings.ToLower(ev.Subject+string(ev.Data)), "example.com") {
				t.Errorf("the audit log names a person: %s %s", ev.Subject, ev.Data)
			}
		}
		if ev := evs[0]; ev.Subject != ps {
			t.Errorf("policy.accepted subject = %q; want the pseudonym %q", ev.Subject, ps)
		}
		if e, err := s.Erase(ctx, "ana@example.com"); err != nil || e != (Erased{}) {
			t.Errorf("second Erase = %+v, %v; want nothing left to do", e, err)
		}
	})
}

// TestNoticeWebhookGuarded: webhook notices go through the SSRF guard (a
// private address is refused unless the client allows it) and are not
// sent unsigned.
func TestNoticeWebhookGuarded(t *testing.T) {
	t.Parallel()
	forEachBackend(t, func(t *testing.T, s *Service, c *clock) {
		ctx := t.Context()
		src := demoSource(t)
		if _, err := s.Publish(ctx, Publish{Policy: parse(t, src)}); err != nil {
			t.Fatal(err)
		}
		publishMaterialChange(t, s, src)
		if _, err := s.Schedule(ctx, "v2", Recipients{Webhooks: []string{"http://127.0.0.1:9/hooks?token=secret"}}); err != nil {
			t.Fatal(err)
		}
		c.Set(time.Date(2027, 1, 3, 0, 0, 0, 0, time.UTC))
		if sent, err := s.SendDue(ctx, Sender{}); err != nil || len(sent) != 0 {
			t.Fatalf("SendDue without a secret = %+v, %v; want the notice left pending", sent, err)
		}
		sent, err := s.SendDue(ctx, Sender{Secret: []byte("k")})
		if err != nil || len(sent) != 1 || sent[0].Status != "failed" || !strings.Contains(sent[0].LastError, "address not allowed") || strings.Contains(sent[0].LastError, "secret") {
			t.Fatalf("SendDue to a loopback address = %+v, %v; want it refused by the guard, the URL's query hidden", sent, err)
		}
	})
}
